"""The UCI card-clients reader: counts, the bucket ladder mapping, synthetic people, determinism."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import shapely
from polars.testing import assert_frame_equal

from arrears.contexts.portfolio.intake import FRAME_SCHEMAS, ExtractError, read_standard, read_uci
from arrears.contexts.portfolio.intake.standard import write_standard
from arrears.contexts.portfolio.intake.synthetic import age_on, district_geometry, districts
from arrears.contexts.portfolio.intake.uci import AGE_REFERENCE_DATE, due_day_for, uci_due_dates
from arrears.domain.national_id import validate

UCI = Path(__file__).resolve().parents[2] / "src" / "arrears" / "data" / "uci_default_of_credit_card_clients.csv"
AS_OF = date(2025, 3, 31)
EXPECTED_BUCKETS = {"M0": 23_182, "M1": 3_688, "M2": 2_667, "M3": 322, "M4": 76, "M5": 26, "M6": 11, "M7+": 28}


def buckets(accounts: pl.DataFrame, as_of: date) -> dict[str, int]:
    """DPD = as_of − oldest unpaid due date (0 when current); M1 1–30 … M6 151–180, M7+ over 180."""
    dpd = (pl.lit(as_of) - pl.col("oldest_unpaid_due_date")).dt.total_days().fill_null(0).clip(lower_bound=0)
    bucket = (pl.when(dpd == 0).then(pl.lit("M0"))
              .when(dpd > 180).then(pl.lit("M7+"))
              .otherwise(pl.lit("M") + ((dpd - 1) // 30 + 1).cast(pl.String)))
    return dict(accounts.select(bucket.alias("b"))["b"].value_counts().iter_rows())


@pytest.fixture(scope="module")
def raw() -> pl.DataFrame:
    return pl.read_csv(UCI)


@pytest.fixture(scope="module")
def ext():
    return read_uci(UCI, AS_OF)


pytestmark = pytest.mark.slow


def test_counts(ext, raw):
    paid_cells = sum(int((raw[f"PAY_AMT{i}"] > 0).sum()) for i in range(1, 7))
    assert ext.counts() == {"customers": 30_000, "contacts": 90_000, "accounts": 30_000,
                            "statements": 180_000, "payments": paid_cells}
    assert paid_cells == 143_103
    for name, schema in FRAME_SCHEMAS.items():
        assert dict(getattr(ext, name).schema) == schema
    assert ext.format == "uci" and len(ext.checksum) == 64 and ext.source_files == [str(UCI)]


def test_bucket_distribution_is_exact(ext):
    assert buckets(ext.accounts, AS_OF) == EXPECTED_BUCKETS


@pytest.mark.parametrize("as_of", [date(2024, 2, 29), date(2025, 1, 15), date(2025, 3, 1)])
def test_bucket_distribution_is_exact_for_other_dates(as_of):
    """Includes 15 Jan (d0 = 15 Dec for due day 15: 31 days back) and a leap day."""
    assert buckets(read_uci(UCI, as_of).accounts, as_of) == EXPECTED_BUCKETS


def test_ids_and_accounts(ext, raw):
    a = ext.accounts.join(raw.select(pl.format("UCI{}-01", pl.col("ID").cast(pl.String).str.zfill(5)).alias("account_id"),
                                     "ID", "LIMIT_BAL", "BILL_AMT1", "PAY_0"), on="account_id")
    assert a.height == 30_000
    assert ext.accounts["account_id"][0] == "UCI00001-01" and ext.accounts["customer_id"][0] == "UCI00001"
    assert ext.customers["customer_id"][29_999] == "UCI30000"
    assert set(ext.accounts["currency"]) == {"TWD"} and set(ext.accounts["product_code"]) == {"UCI-CARD"}
    assert (a["credit_limit"].cast(pl.Int64) == a["LIMIT_BAL"]).all()
    assert (a["balance"].cast(pl.Int64) == a["BILL_AMT1"]).all()
    assert (a["principal"].cast(pl.Int64) == a["BILL_AMT1"].clip(lower_bound=0)).all()
    assert (a["interest"] == 0).all() and (a["fees"] == 0).all() and a["opened_on"].null_count() == 30_000
    assert (a["due_day"] == (a["ID"] * 7) % 31 + 1).all()
    current = a.filter(pl.col("PAY_0") <= 0)
    assert current["oldest_unpaid_due_date"].null_count() == current.height == 23_182
    assert (current["overdue_amount"] == 0).all()
    assert a.filter(pl.col("balance") < 0).height > 0  # credit balances are kept


def test_first_client_in_detail(ext):
    # ID 1: LIMIT 20000, PAY_0..6 = 2,2,-1,-1,-2,-2, BILL 3913,3102,689,0,0,0, PAY_AMT 0,689,0,0,0,0
    assert due_day_for(1) == 8
    dues = [date(2025, 3, 8), date(2025, 2, 8), date(2025, 1, 8), date(2024, 12, 8), date(2024, 11, 8), date(2024, 10, 8)]
    assert uci_due_dates(8, AS_OF) == dues
    s = ext.statements.filter(pl.col("account_id") == "UCI00001-01")
    assert s["due_date"].to_list() == dues
    assert s["statement_date"].to_list() == [d - timedelta(days=20) for d in dues]
    assert s["closing_balance"].to_list() == [Decimal(x) for x in ("3913.00", "3102.00", "689.00", "0.00", "0.00", "0.00")]
    assert s["minimum_due"].to_list() == [Decimal(x) for x in ("391.30", "310.20", "68.90", "0.00", "0.00", "0.00")]
    assert s["delinquency_status"].to_list() == [2, 2, -1, -1, -2, -2]
    acc = ext.accounts.row(0, named=True)
    assert acc["minimum_due"] == Decimal("391.30")
    assert acc["overdue_amount"] == Decimal("701.50")  # statements 1..2
    assert acc["oldest_unpaid_due_date"] == date(2025, 2, 6)  # DPD = 30 + 23 = 53 → M2
    p = ext.payments.filter(pl.col("account_id") == "UCI00001-01").row(0, named=True)
    assert p["payment_id"] == "UCI00001-P2" and p["amount"] == Decimal("689.00") and p["channel"] == "bank_transfer"
    # 1 % 5 = 1 day before 8 Feb, at 20:30 Beijing time = 12:30 UTC
    assert p["local_date"] == date(2025, 2, 7)
    assert p["paid_at"] == datetime(2025, 2, 7, 12, 30, tzinfo=UTC)


def test_due_dates_never_drift():
    # due day 31 from 31 Mar 2025 (strictly before as_of 1 Apr): Feb is clamped, Jan/Dec are not
    assert uci_due_dates(31, date(2025, 4, 1)) == [
        date(2025, 3, 31), date(2025, 2, 28), date(2025, 1, 31), date(2024, 12, 31), date(2024, 11, 30), date(2024, 10, 31)]
    # an amount due today is not overdue: d0 is the previous cycle
    assert uci_due_dates(15, date(2025, 3, 15))[0] == date(2025, 2, 15)


def test_statement_and_payment_rules_hold_everywhere(ext, raw):
    s = ext.statements
    assert (s["due_date"] < AS_OF).all()
    assert ((s["due_date"] - s["statement_date"]).dt.total_days() == 20).all()
    assert (s["minimum_due"] == (s["closing_balance"].clip(lower_bound=0) * Decimal("0.1"))).all()
    clamped = s.with_columns(due_day=pl.Series([due_day_for(i) for i in range(1, 30_001) for _ in range(6)])).select(
        (pl.col("due_date").dt.day() == pl.min_horizontal("due_day", pl.col("due_date").dt.month_end().dt.day())).all())
    assert clamped.item()  # every due date is on the due day, clamped in short months
    p = ext.payments
    assert (p["local_date"] <= AS_OF).all() and (p["amount"] > 0).all()
    assert (p["paid_at"].dt.convert_time_zone("Asia/Shanghai").dt.date() == p["local_date"]).all()
    assert (p["paid_at"].dt.convert_time_zone("Asia/Shanghai").dt.strftime("%H:%M") == "20:30").all()
    assert p["payment_id"].n_unique() == p.height


def test_overdue_amount_sums_the_minimums_of_the_months_in_arrears(ext, raw):
    m = ext.statements.with_columns(i=pl.int_range(1, 7).over("account_id")).join(
        ext.accounts.select("account_id", "overdue_amount", "oldest_unpaid_due_date"), on="account_id")
    k = raw.select(pl.format("UCI{}-01", pl.col("ID").cast(pl.String).str.zfill(5)).alias("account_id"), "PAY_0")
    expected = m.join(k, on="account_id").group_by("account_id").agg(
        pl.col("minimum_due").filter(pl.col("i") <= pl.col("PAY_0")).sum().alias("want"),
        pl.col("overdue_amount").first())
    assert (expected["want"] == expected["overdue_amount"]).all()


def test_national_ids_are_valid_and_match_age_and_sex(ext, raw):
    c = ext.customers.join(raw.select(pl.format("UCI{}", pl.col("ID").cast(pl.String).str.zfill(5)).alias("customer_id"),
                                      "AGE", "SEX"), on="customer_id")
    adcode = {d.name: d.id_area for d in districts()}
    assert adcode["大鹏新区"] == "440307"
    for r in c.iter_rows(named=True):
        parsed = validate(r["national_id"], as_of=AS_OF)
        assert parsed.birth_date == r["birth_date"]
        assert age_on(r["birth_date"], AGE_REFERENCE_DATE) == r["AGE"]
        assert parsed.sex == r["sex"] == ("M" if r["SEX"] == 1 else "F")
        assert parsed.area == adcode[r["district"]]
    assert set(ext.customers["timezone"]) == {"Asia/Shanghai"} and set(ext.customers["language"]) == {"zh-hans"}


def test_contacts_and_home_coordinates_inside_the_district(ext):
    c = ext.contacts
    assert c.group_by("customer_id").len()["len"].unique().to_list() == [3]
    kinds = c.group_by("party", "kind").len().sort("party", "kind").rows()
    assert kinds == [("debtor", "home_address", 30_000), ("debtor", "mobile", 30_000), ("emergency", "mobile", 30_000)]
    mobiles = c.filter(pl.col("kind") == "mobile")["value"]
    assert mobiles.str.contains(r"^1[3-9]\d{9}$").all()
    em = c.filter(pl.col("party") == "emergency")
    assert set(em["relation"]) <= {"配偶", "父亲", "母亲", "兄弟", "姐妹", "朋友", "同事"}
    assert em["party_name"].str.len_chars().min() >= 2
    homes = c.filter(pl.col("kind") == "home_address")
    assert homes["latitude"].null_count() == 0
    assert (homes["value"].str.starts_with("广东省深圳市" ) & homes["value"].str.contains("区")).all()
    assert (homes["value"].str.slice(6).str.starts_with(homes["district"])).all()
    assert homes["district"].n_unique() == 10
    for name in homes["district"].unique():
        h = homes.filter(pl.col("district") == name)
        assert shapely.contains_xy(district_geometry(name), h["longitude"].to_numpy(), h["latitude"].to_numpy()).all(), name
    assert (ext.customers.join(homes.select("customer_id", pl.col("district").alias("d")), on="customer_id")
            .select((pl.col("district") == pl.col("d")).all()).item())


def test_determinism_same_data_every_read_and_per_id(ext, tmp_path):
    again = read_uci(UCI, AS_OF)
    assert again.checksum == ext.checksum
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(again, name), getattr(ext, name))
    # a file with only some of the rows (in another order) gives the same people for those IDs
    lines = UCI.read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join([lines[0], lines[5000], lines[3], lines[29_999]]) + "\n", encoding="utf-8")
    part = read_uci(subset, AS_OF)
    ids = part.customers["customer_id"].to_list()
    assert ids == ["UCI05000", "UCI00003", "UCI29999"]
    full = ext.customers.filter(pl.col("customer_id").is_in(ids)).sort("customer_id")
    assert_frame_equal(part.customers.sort("customer_id"), full)
    assert_frame_equal(part.contacts.sort("contact_id"),
                       ext.contacts.filter(pl.col("customer_id").is_in(ids)).sort("contact_id"))


def test_uci_extract_passes_the_standard_validation(ext, tmp_path):
    write_standard(ext, tmp_path)
    back = read_standard([tmp_path], AS_OF)
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(back, name), getattr(ext, name))


def test_bad_uci_rows_are_all_reported(tmp_path):
    lines = UCI.read_text(encoding="utf-8").splitlines()
    bad = lines[:6]
    bad[2] = bad[2].replace("2,120000,2,", "2,120000,3,")  # SEX 3 on line 3
    cells = bad[4].split(",")
    cells[12] = "12.5"  # BILL_AMT1 on line 5
    cells[6] = "-3"  # PAY_0
    bad[4] = ",".join(cells)
    bad[5] = bad[5].replace("5,", "1,", 1)  # duplicate ID 1 on line 6
    path = tmp_path / "uci.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    with pytest.raises(ExtractError) as info:
        read_uci(path, AS_OF)
    got = {(p.row, p.column): p.reason for p in info.value.problems}
    assert set(got) == {(3, "SEX"), (5, "BILL_AMT1"), (5, "PAY_0"), (2, "ID"), (6, "ID")}
    assert "must be 1 (male) or 2 (female)" in got[(3, "SEX")]
    assert "not a whole number" in got[(5, "BILL_AMT1")]
    assert "between -2 and 9" in got[(5, "PAY_0")]
    assert "duplicate ID" in got[(6, "ID")]
    assert all(p.file == "uci.csv" for p in info.value.problems)


def test_missing_uci_column_or_file(tmp_path):
    lines = UCI.read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path / "uci.csv"
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    with pytest.raises(ExtractError, match="column default payment next month: missing required column"):
        read_uci(path, AS_OF)
    with pytest.raises(ExtractError, match="file not found"):
        read_uci(tmp_path / "nope.csv", AS_OF)


def test_people_do_not_change_between_extracts(ext):
    """A newer extract updates balances, never identities: personal data ignores the extract date."""
    later = read_uci(UCI, date(2026, 12, 1))
    assert_frame_equal(later.customers, ext.customers)
    assert_frame_equal(later.contacts, ext.contacts)
