"""The standard extract reader: a good extract parses; every kind of bad input is reported with
file, line, column and reason, and every bad row is reported (not only the first)."""
from __future__ import annotations

import csv
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.contexts.portfolio.intake import FRAME_SCHEMAS, Extract, ExtractError, Problem, read_standard
from arrears.contexts.portfolio.intake.extract import MAX_LISTED, national_id_check_expr
from arrears.contexts.portfolio.intake.standard import INPUT_COLUMNS, write_standard
from arrears.domain.national_id import check_digit, make_id

AS_OF = date(2025, 3, 31)
ID_F = "11010519491231002X"  # female, born 1949-12-31 (the GB 11643 example)
ID_M = make_id("440304", date(1990, 5, 17), 123, "M")


def good_rows() -> dict[str, list[dict[str, str]]]:
    return {
        "customers": [
            dict(customer_id="C1", name="张三", national_id=ID_F, birth_date="1949-12-31", sex="F",
                 timezone="Asia/Shanghai", language="zh-hans", district="福田区"),
            dict(customer_id="C2", name="李四", national_id=ID_M, birth_date="1990-05-17", sex="M",
                 timezone="America/New_York", language="en", district=""),
        ],
        "contacts": [
            dict(contact_id="1", customer_id="C1", party="debtor", party_name="", relation="", kind="mobile",
                 value="13812345678", district="", latitude="", longitude=""),
            dict(contact_id="2", customer_id="C1", party="debtor", party_name="", relation="", kind="home_address",
                 value="广东省深圳市福田区福华路1号", district="福田区", latitude="22.54", longitude="114.05"),
            dict(contact_id="3", customer_id="C1", party="emergency", party_name="张父", relation="父亲",
                 kind="mobile", value="+86 139-1234-5678", district="", latitude="", longitude=""),
            dict(contact_id="1", customer_id="C2", party="debtor", party_name="", relation="", kind="email",
                 value="li.si@example.com", district="", latitude="", longitude=""),
        ],
        "accounts": [
            dict(account_id="A1", customer_id="C1", product_code="GOLD", currency="CNY", credit_limit="50000",
                 balance="1234.5", principal="1200", interest="34.50", fees="0", minimum_due="123.45",
                 overdue_amount="123.45", oldest_unpaid_due_date="2025-02-25", due_day="25", opened_on="2020-01-01"),
            dict(account_id="A2", customer_id="C2", product_code="CLASSIC", currency="USD", credit_limit="1000.00",
                 balance="-20.00", principal="0", interest="0", fees="0", minimum_due="0",
                 overdue_amount="0", oldest_unpaid_due_date="", due_day="31", opened_on=""),
        ],
        "statements": [
            dict(account_id="A1", statement_date="2025-02-05", due_date="2025-02-25", closing_balance="1234.50",
                 minimum_due="123.45", delinquency_status=""),
            dict(account_id="A1", statement_date="2025-03-05", due_date="2025-03-25", closing_balance="1234.50",
                 minimum_due="123.45", delinquency_status="1"),
            dict(account_id="A2", statement_date="2025-03-11", due_date="2025-03-31", closing_balance="-20",
                 minimum_due="0", delinquency_status="-1"),
        ],
        "payments": [
            # 23:30 in Beijing on 20 March is 15:30 UTC: it belongs to 20 March for this debtor
            dict(payment_id="P1", account_id="A1", paid_at="2025-03-20T15:30:00Z", amount="100.00",
                 channel="bank_transfer"),
            dict(payment_id="P2", account_id="A1", paid_at="2025-03-19 23:30:00+08:00", amount="1", channel="WeChat"),
            # 01:00 UTC on 1 March is 20:00 on 28 February in New York
            dict(payment_id="P1", account_id="A2", paid_at="2025-03-01T01:00:00.5+0000", amount="20.00",
                 channel="card"),
        ],
    }


def write(directory: Path, rows: dict[str, list[dict[str, str]]], drop: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in rows.items():
        header = [c.name for c in INPUT_COLUMNS[name] if (drop or {}).get(name) != c.name]
        with open(directory / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(records)
    return directory


def rejected(directory: Path, as_of: date = AS_OF) -> ExtractError:
    with pytest.raises(ExtractError) as info:
        read_standard([directory], as_of)
    return info.value


def where(err: ExtractError) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.row, p.column) for p in err.problems}


# ------------------------------------------------------------------------------------ good input


def test_good_extract_parses_to_the_contract_frames(tmp_path):
    ext = read_standard([write(tmp_path, good_rows())], AS_OF)
    assert isinstance(ext, Extract) and ext.as_of == AS_OF and ext.format == "standard"
    for name, schema in FRAME_SCHEMAS.items():
        df = getattr(ext, name)
        assert dict(df.schema) == schema, name
    assert ext.counts() == {"customers": 2, "contacts": 4, "accounts": 2, "statements": 3, "payments": 3}
    assert len(ext.checksum) == 64
    assert [Path(p).name for p in ext.source_files] == [f"{n}.csv" for n in FRAME_SCHEMAS]

    a1 = ext.accounts.row(0, named=True)
    assert a1["balance"] == Decimal("1234.50") and a1["interest"] == Decimal("34.50")
    assert a1["oldest_unpaid_due_date"] == date(2025, 2, 25) and a1["due_day"] == 25
    a2 = ext.accounts.row(1, named=True)
    assert a2["balance"] == Decimal("-20.00") and a2["oldest_unpaid_due_date"] is None and a2["opened_on"] is None

    pay = {(r["account_id"], r["payment_id"]): r for r in ext.payments.iter_rows(named=True)}
    assert pay[("A1", "P1")]["paid_at"] == datetime(2025, 3, 20, 15, 30, tzinfo=UTC)
    assert pay[("A1", "P1")]["local_date"] == date(2025, 3, 20)
    assert pay[("A1", "P2")]["paid_at"] == datetime(2025, 3, 19, 15, 30, tzinfo=UTC)
    assert pay[("A1", "P2")]["channel"] == "wechat"  # codes are lower-cased
    assert pay[("A2", "P1")]["paid_at"] == datetime(2025, 3, 1, 1, 0, 0, 500000, tzinfo=UTC)
    assert pay[("A2", "P1")]["local_date"] == date(2025, 2, 28)  # New York customer

    c = ext.contacts
    assert c.filter(pl.col("kind") == "mobile")["latitude"].null_count() == 2
    assert c["party_name"].null_count() == 0 and c["party_name"][0] == ""  # optional text → ""
    assert ext.customers["district"].to_list() == ["福田区", ""]


def test_directory_or_files_give_the_same_extract_and_checksum_follows_the_bytes(tmp_path):
    d = write(tmp_path / "x", good_rows())
    by_dir = read_standard([d], AS_OF)
    by_files = read_standard(sorted(d.glob("*.csv")), AS_OF)
    assert by_dir.checksum == by_files.checksum
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(by_dir, name), getattr(by_files, name))
    (d / "payments.csv").write_text((d / "payments.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert read_standard([d], AS_OF).checksum != by_dir.checksum


def test_bom_crlf_quoted_newlines_blank_lines_and_case_are_handled(tmp_path):
    d = write(tmp_path, good_rows())
    p = d / "contacts.csv"
    text = p.read_text(encoding="utf-8").replace(
        "广东省深圳市福田区福华路1号", '"广东省深圳市福田区\n福华路1号"')
    p.write_bytes(("\ufeff" + text.replace("\n", "\r\n") + "\r\n").encode())
    acc = d / "accounts.csv"
    acc.write_text(acc.read_text(encoding="utf-8").replace(",CNY,", ", cny ,"), encoding="utf-8")
    ext = read_standard([d], AS_OF)
    assert ext.contacts["value"][1] == "广东省深圳市福田区\n福华路1号"  # CRLF inside a value becomes LF
    assert ext.accounts["currency"][0] == "CNY"  # stripped and upper-cased


def test_write_standard_round_trips(tmp_path):
    ext = read_standard([write(tmp_path / "in", good_rows())], AS_OF)
    write_standard(ext, tmp_path / "out")
    again = read_standard([tmp_path / "out"], AS_OF)
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(ext, name), getattr(again, name))


def test_vectorised_check_digit_agrees_with_the_domain_rule():
    rng = random.Random(7)
    bodies = [f"{rng.randrange(10**17):017d}" for _ in range(2000)]
    got = pl.DataFrame({"id": [b + "0" for b in bodies]}).select(national_id_check_expr(pl.col("id")))["id"].to_list()
    assert got == [check_digit(b) for b in bodies]


# ------------------------------------------------------------------------------------ bad rows

# (file, row index in good_rows()[file], column, bad value, words the reason must contain)
BAD_VALUES = [
    ("customers", 0, "customer_id", "", "required value is missing"),
    ("customers", 0, "birth_date", "1949-02-30", "not a valid date"),
    ("customers", 0, "birth_date", "31/12/1949", "YYYY-MM-DD"),
    ("customers", 0, "sex", "X", "must be one of M, F"),
    ("customers", 0, "timezone", "Beijing", "IANA timezone"),
    ("customers", 0, "timezone", "UTC+8", "IANA timezone"),
    ("customers", 0, "language", "zh_Hans!", "language code"),
    ("customers", 0, "national_id", "110105194912310021", "check digit"),
    ("customers", 0, "national_id", "11010519491231002", "18 characters"),
    ("customers", 0, "national_id", make_id("110105", date(1949, 12, 30), 2, "F"), "birth date inside national_id"),
    ("customers", 0, "national_id", make_id("110105", date(1949, 12, 31), 3, "M"), "sex digit"),
    ("customers", 0, "national_id", "991005194912310021", "province code"),
    ("customers", 0, "name", "", "required value is missing"),
    ("customers", 0, "name", "张" * 129, "longer than 128"),
    ("contacts", 0, "party", "friend", "must be one of debtor, guarantor, emergency, other"),
    ("contacts", 0, "kind", "fax", "must be one of mobile"),
    ("contacts", 0, "value", "call me", "not a telephone number"),
    ("contacts", 3, "value", "li.si-at-example.com", "not an e-mail address"),
    ("contacts", 1, "latitude", "95", "between -90 and 90"),
    ("contacts", 1, "longitude", "east", "not a decimal number"),
    ("contacts", 0, "latitude", "22.5", "latitude and longitude must be given together"),
    ("contacts", 0, "customer_id", "C9", "'C9' is not in customers.csv"),
    ("accounts", 0, "currency", "RMBY", "3-letter ISO 4217"),
    ("accounts", 0, "currency", "¥", "3-letter ISO 4217"),
    ("accounts", 0, "credit_limit", "50,000.00", "no thousands separators"),
    ("accounts", 0, "credit_limit", "¥50000", "not a plain amount"),
    ("accounts", 0, "credit_limit", "5e4", "not a plain amount"),
    ("accounts", 0, "balance", "1234.505", "more than 2 decimals"),
    ("accounts", 0, "balance", "123456789012345", "too large"),
    ("accounts", 0, "principal", "-1.00", "must not be negative"),
    ("accounts", 0, "due_day", "0", "between 1 and 31"),
    ("accounts", 0, "due_day", "32", "between 1 and 31"),
    ("accounts", 0, "due_day", "25.5", "not a whole number"),
    ("accounts", 0, "oldest_unpaid_due_date", "2025-04-01", "after the extract date"),
    ("accounts", 0, "oldest_unpaid_due_date", "", "overdue amount needs the due date"),
    ("accounts", 0, "opened_on", "2026-01-01", "after the extract date"),
    ("accounts", 0, "customer_id", "C9", "'C9' is not in customers.csv"),
    ("accounts", 0, "account_id", "A 1", "must not contain spaces"),
    ("statements", 0, "due_date", "2025-02-04", "before statement_date"),
    ("statements", 0, "statement_date", "2025-04-05", "after the extract date"),
    ("statements", 0, "minimum_due", "12.345", "more than 2 decimals"),
    ("statements", 0, "delinquency_status", "-3", "between -2 and 99"),
    ("statements", 0, "account_id", "A9", "'A9' is not in accounts.csv"),
    ("payments", 0, "paid_at", "2025-03-20T15:30:00", "no UTC offset"),
    ("payments", 0, "paid_at", "2025-03-20 15:30", "no UTC offset"),
    ("payments", 0, "paid_at", "20/03/2025 15:30 +08:00", "not a valid ISO 8601 timestamp"),
    ("payments", 0, "paid_at", "2025-02-30T15:30:00+08:00", "not a valid ISO 8601 timestamp"),
    ("payments", 0, "paid_at", "2025-03-31T16:30:00Z", "after the extract date"),  # 1 April in Beijing
    ("payments", 0, "amount", "0", "must be greater than 0"),
    ("payments", 0, "amount", "-5.00", "must be greater than 0"),
    ("payments", 0, "amount", "1.001", "more than 2 decimals"),
    ("payments", 0, "account_id", "A9", "'A9' is not in accounts.csv"),
    ("payments", 0, "channel", "", "required value is missing"),
]


@pytest.mark.parametrize(("file", "index", "column", "value", "reason"), BAD_VALUES,
                         ids=[f"{f}.{c}={v[:20]!r}" for f, _, c, v, _ in BAD_VALUES])
def test_each_kind_of_bad_value_names_file_line_column_and_reason(tmp_path, file, index, column, value, reason):
    rows = good_rows()
    rows[file][index][column] = value
    err = rejected(write(tmp_path, rows))
    hits = [p for p in err.problems if p.file == f"{file}.csv" and p.row == index + 2 and p.column == column]
    assert hits, err.problems
    assert any(reason in p.reason for p in hits), [p.reason for p in hits]
    assert f"{file}.csv line {index + 2}, column {column}: " in str(err)
    assert "header is line 1, the first data row is line 2" in str(err)


@pytest.mark.parametrize(("file", "column", "key_columns"), [
    ("customers", "customer_id", {"customer_id": "C1"}),
    ("accounts", "account_id", {"account_id": "A1"}),
    ("contacts", "contact_id", {"contact_id": "1", "customer_id": "C1"}),
    ("statements", "statement_date", {"account_id": "A1", "statement_date": "2025-02-05", "due_date": "2025-02-25"}),
    ("payments", "payment_id", {"payment_id": "P1", "account_id": "A1"}),
])
def test_duplicate_keys_are_reported_on_every_row_involved(tmp_path, file, column, key_columns):
    rows = good_rows()
    rows[file][1].update(key_columns)
    if file == "contacts":
        rows[file][1].update(party="debtor", kind="mobile", value="13800000000", latitude="", longitude="")
    err = rejected(write(tmp_path, rows))
    dup = [p for p in err.problems if "duplicate" in p.reason]
    assert {(p.file, p.row, p.column) for p in dup} == {(f"{file}.csv", 2, column), (f"{file}.csv", 3, column)}
    assert any("also on line 3" in p.reason for p in dup) and any("also on line 2" in p.reason for p in dup)


def test_all_bad_rows_in_all_files_are_reported_at_once(tmp_path):
    rows = good_rows()
    base = rows["statements"][0]
    rows["statements"] = [dict(base, statement_date=f"2024-{m:02d}-05", due_date=f"2024-{m:02d}-25") for m in range(1, 13)]
    for s in rows["statements"][::2]:  # lines 2, 4, …, 12: six bad amounts
        s["closing_balance"] = "1,000.00"
    rows["customers"][1]["timezone"] = "Mars/Olympus"
    rows["payments"][2]["amount"] = "0"
    err = rejected(write(tmp_path, rows))
    assert where(err) == {("statements.csv", n, "closing_balance") for n in range(2, 13, 2)} | {
        ("customers.csv", 3, "timezone"), ("payments.csv", 4, "amount")}
    assert str(err).splitlines()[0].startswith("standard extract rejected: 8 problems")
    # listed in file order: customers, …, statements, payments
    assert [p.file for p in err.problems] == ["customers.csv"] + ["statements.csv"] * 6 + ["payments.csv"]


def test_message_lists_the_first_50_and_counts_the_rest(tmp_path):
    rows = good_rows()
    base = rows["payments"][0]
    rows["payments"] = [dict(base, payment_id=f"P{i}", amount="0") for i in range(120)]
    err = rejected(write(tmp_path, rows))
    assert len(err.problems) == 120
    assert {p.row for p in err.problems} == set(range(2, 122))
    msg = str(err)
    assert msg.count("payments.csv line") == MAX_LISTED == 50
    assert "… and 70 more" in msg


def test_line_numbers_count_physical_lines(tmp_path):
    """A quoted value spanning two lines and a blank line shift later rows, as an editor shows them."""
    rows = good_rows()
    rows["contacts"][1]["value"] = "广东省深圳市福田区\n福华路1号"  # row 2 of the data spans lines 3–4
    rows["contacts"][3]["value"] = "not-an-email"  # 4th data row
    d = write(tmp_path, rows)
    p = d / "contacts.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines.insert(5, "")  # a blank line after the 3rd record
    p.write_text("\n".join(lines), encoding="utf-8")
    err = rejected(d)
    # header 1, rec1 2, rec2 3–4, rec3 5, blank 6, rec4 7
    assert where(err) == {("contacts.csv", 7, "value")}


def test_personal_data_is_not_echoed_in_messages(tmp_path):
    rows = good_rows()
    rows["customers"][0]["national_id"] = "110105194912310021"
    rows["contacts"][0]["value"] = "call 1380013800 later"
    rows["accounts"][0]["currency"] = "RMBY"
    msg = str(rejected(write(tmp_path, rows)))
    assert "110105194912310021" not in msg and "1380013800" not in msg
    assert "value not shown: personal data" in msg
    assert "'RMBY'" in msg  # non-personal values are shown


# ------------------------------------------------------------------------------------ structure


def test_missing_file_is_reported(tmp_path):
    d = write(tmp_path, good_rows())
    (d / "payments.csv").unlink()
    assert where(rejected(d)) == {("payments.csv", None, None)}
    with pytest.raises(ExtractError, match="payments.csv: file is missing"):
        read_standard(sorted(d.glob("*.csv")), AS_OF)


def test_unexpected_file_is_reported(tmp_path):
    d = write(tmp_path, good_rows())
    (d / "notes.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(ExtractError, match="notes.csv: unexpected file"):
        read_standard(sorted(d.glob("*.csv")), AS_OF)


def test_missing_required_columns_are_all_reported(tmp_path):
    d = write(tmp_path, good_rows(), drop={"accounts": "balance", "payments": "paid_at"})
    err = rejected(d)
    assert where(err) == {("accounts.csv", 1, "balance"), ("payments.csv", 1, "paid_at")}
    assert all(p.reason == "missing required column" for p in err.problems)


def test_optional_columns_may_be_left_out_of_the_header(tmp_path):
    d = write(tmp_path, good_rows(), drop={"accounts": "opened_on", "statements": "delinquency_status"})
    ext = read_standard([d], AS_OF)
    assert ext.accounts["opened_on"].null_count() == 2
    assert ext.statements["delinquency_status"].null_count() == 3


def test_empty_file_bad_encoding_duplicate_header_and_ragged_rows(tmp_path):
    d = write(tmp_path, good_rows())
    (d / "customers.csv").write_bytes(b"")
    (d / "contacts.csv").write_bytes((d / "contacts.csv").read_bytes() + b"9,C1,debtor,,,mobile,138\xff0000,,,\n")
    acc = (d / "accounts.csv").read_text(encoding="utf-8").split("\n")
    acc[0] += ",due_day"
    (d / "accounts.csv").write_text("\n".join(acc), encoding="utf-8")
    (d / "statements.csv").write_text(
        (d / "statements.csv").read_text(encoding="utf-8") + "A1,2025-01-05,2025-01-25,1.00\n", encoding="utf-8")
    err = rejected(d)
    got = {(p.file, p.row, p.column): p.reason for p in err.problems}
    assert got[("customers.csv", None, None)] == "file is empty: no header line"
    assert "not valid UTF-8" in got[("contacts.csv", 6, None)]
    assert got[("accounts.csv", 1, "due_day")] == "column appears twice in the header"
    assert got[("statements.csv", 5, None)] == "expected 6 fields as in the header, found 4"


def test_problem_str_and_error_attributes():
    err = ExtractError([Problem("payments.csv", 3, "amount", "must be greater than 0 (got '0')"),
                        Problem("customers.csv", None, None, "file is missing")])
    assert [str(p) for p in err.problems] == [
        "customers.csv: file is missing", "payments.csv line 3, column amount: must be greater than 0 (got '0')"]


def test_intake_imports_without_django():
    import subprocess
    import sys

    code = ("import sys, arrears.contexts.portfolio.intake; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    env = {k: v for k, v in __import__("os").environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
