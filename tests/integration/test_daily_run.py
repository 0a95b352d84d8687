"""The main job end to end on a small standard extract: import → daily run → cases.

Runs on the configured database (SQLite by default, PostgreSQL in CI's second pass).
"""
from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import BucketHistory, CardAccount, Customer, DailyRun, ImportBatch, Statement
from arrears.pipeline.daily import RunError, run_daily

pytestmark = pytest.mark.django_db

CUSTOMERS = [
    # customer_id, name, national_id, birth_date, sex, timezone, language, district
    ("C1", "张三", "440304199001011237", "1990-01-01", "M", "Asia/Shanghai", "zh-hans", "福田"),
    ("C2", "李四", "440305198505052345", "1985-05-05", "F", "Asia/Shanghai", "zh-hans", "南山"),
    ("C3", "王五", "440303197712123456", "1977-12-12", "M", "Asia/Shanghai", "zh-hans", "罗湖"),
]


def _valid_id(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[s % 11]


def write_extract(d: Path, accounts: list[tuple], payments: list[tuple] | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)

    def w(name, header, rows):
        with open(d / name, "w", newline="", encoding="utf-8") as f:
            c = csv.writer(f)
            c.writerow(header)
            c.writerows(rows)

    w("customers.csv", ["customer_id", "name", "national_id", "birth_date", "sex", "timezone", "language", "district"],
      [(r[0], r[1], _valid_id(r[2][:17]), *r[3:]) for r in CUSTOMERS])
    w("contacts.csv", ["contact_id", "customer_id", "party", "party_name", "relation", "kind", "value", "district",
                       "latitude", "longitude"],
      [(f"{c[0]}-M", c[0], "debtor", c[1], "", "mobile", f"1381234567{i}", c[7], "", "")
       for i, c in enumerate(CUSTOMERS)])
    w("accounts.csv", ["account_id", "customer_id", "product_code", "currency", "credit_limit", "balance", "principal",
                       "interest", "fees", "minimum_due", "overdue_amount", "oldest_unpaid_due_date", "due_day",
                       "opened_on"], accounts)
    w("statements.csv", ["account_id", "statement_date", "due_date", "closing_balance", "minimum_due",
                         "delinquency_status"],
      [(a[0], "2026-10-05", "2026-10-25", a[5], a[9], "") for a in accounts])
    w("payments.csv", ["payment_id", "account_id", "paid_at", "amount", "channel"], payments or [])
    return d


def acct(account_id, customer_id, balance, overdue, oldest):
    minimum = (Decimal(balance) / 10).quantize(Decimal("0.01"))
    return (account_id, customer_id, "STD", "CNY", "50000.00", balance, balance, "0.00", "0.00", str(minimum),
            overdue, oldest, "25", "2020-01-01")


def import_(path: Path, as_of: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("import_portfolio", str(path), "--format", "standard", "--as-of", as_of, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def extract_v1(tmp_path):
    return write_extract(tmp_path / "v1", [
        acct("A1", "C1", "1000.00", "100.00", "2026-10-25"),   # DPD 36 on 2026-11-30 → M2
        acct("A2", "C1", "500.00", "0.00", ""),                # current
        acct("A3", "C2", "2000.00", "200.00", "2026-11-25"),   # DPD 5 → M1
        acct("A4", "C3", "300.00", "0.00", ""),                # current
    ], [("P1", "A2", "2026-11-20T23:30:00+08:00", "50.00", "bank_transfer")])


def test_import_run_and_rerun_is_idempotent(extract_v1):
    res = import_(extract_v1, "2026-11-30")
    assert res["inserted"]["accounts"] == 4 and res["inserted"]["customers"] == 3
    # a payment at 23:30 Beijing time belongs to that Beijing day, not the UTC date
    assert Payment.objects.get(external_id="P1").local_date == date(2026, 11, 20)

    r1 = run_daily(date(2026, 11, 30))
    assert r1.buckets["M2"] == 1 and r1.buckets["M1"] == 1 and r1.buckets["M0"] == 2
    assert (r1.cases_opened, r1.cases_closed, r1.cases_open) == (2, 0, 2)
    case = Case.objects.get(customer__external_id="C1")
    assert (case.bucket, case.max_dpd, case.total_balance) == ("M2", 36, Decimal("1500.00"))
    assert case.events.filter(kind="opened").count() == 1
    assert CardAccount.objects.get(external_id="A1").dpd == 36
    assert BucketHistory.objects.filter(roll="new").count() == 2

    counts = (Case.objects.count(), CaseEvent.objects.count(), BucketHistory.objects.count(), DailyRun.objects.count())
    r2 = run_daily(date(2026, 11, 30))
    assert (r2.cases_opened, r2.cases_closed, r2.accounts_changed, r2.rerun) == (0, 0, 0, True)
    assert (Case.objects.count(), CaseEvent.objects.count(), BucketHistory.objects.count(),
            DailyRun.objects.count()) == counts

    again = import_(extract_v1, "2026-11-30")
    assert again["already_imported"] is True
    assert ImportBatch.objects.count() == 1


def test_cure_closes_case_through_state_machine(extract_v1, tmp_path):
    import_(extract_v1, "2026-11-30")
    run_daily(date(2026, 11, 30))
    # next extract: C2 paid, A3 current again; C1 still overdue, balance lower
    v2 = write_extract(tmp_path / "v2", [
        acct("A1", "C1", "900.00", "100.00", "2026-10-25"),
        acct("A2", "C1", "500.00", "0.00", ""),
        acct("A3", "C2", "1800.00", "0.00", ""),
        acct("A4", "C3", "300.00", "0.00", ""),
    ], [("P1", "A2", "2026-11-20T23:30:00+08:00", "50.00", "bank_transfer"),
        ("P2", "A3", "2026-11-30T10:00:00+08:00", "200.00", "alipay")])
    res = import_(v2, "2026-12-01")
    assert res["updated"]["accounts"] == 4 and res["inserted"]["payments"] == 1
    assert CardAccount.objects.get(external_id="A1").balance == Decimal("900.00")

    r = run_daily(date(2026, 12, 1))
    assert (r.cases_opened, r.cases_closed, r.cases_open) == (0, 1, 1)
    c2 = Case.objects.get(customer__external_id="C2")
    assert c2.status == "closed_cured" and c2.closed_on == date(2026, 12, 1)
    # the strategy may have put the case in collection on the first day; the cure closes it from there
    ev = c2.events.filter(kind="status_changed").order_by("id").last()
    assert ev.to_status == "closed_cured" and ev.from_status in ("open", "in_collection")
    assert BucketHistory.objects.filter(account__external_id="A3", roll="cure").exists()
    c1 = Case.objects.get(customer__external_id="C1", closed_on__isnull=True)
    assert (c1.max_dpd, c1.total_balance) == (37, Decimal("1400.00"))

    with pytest.raises(RunError):
        run_daily(date(2026, 11, 30))  # runs go forward in time


def test_bad_extract_names_file_row_column_and_loads_nothing(tmp_path):
    bad = write_extract(tmp_path / "bad", [
        acct("A1", "C1", "1000.00", "100.00", "2026-10-25"),
        acct("A2", "C9", "500.00", "0.00", ""),              # unknown customer
        acct("A3", "C2", "12.345", "0.00", ""),              # three decimals
        acct("A4", "C3", "300.00", "0.00", "2026-02-30"),    # no such date
    ])
    with pytest.raises(CommandError) as exc:
        import_(bad, "2026-11-30")
    msg = str(exc.value)
    assert "accounts.csv" in msg
    assert "customer_id" in msg and "C9" in msg
    assert "balance" in msg and "oldest_unpaid_due_date" in msg
    assert "row 3" in msg or "line 3" in msg  # the unknown customer sits on the file's 3rd line
    assert Customer.objects.count() == 0 and CardAccount.objects.count() == 0 and Statement.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_older_extract_is_refused(extract_v1, tmp_path):
    import_(extract_v1, "2026-11-30")
    old = write_extract(tmp_path / "old", [acct("A1", "C1", "800.00", "0.00", "")])
    with pytest.raises(CommandError, match="older"):
        import_(old, "2026-11-01")
    assert CardAccount.objects.get(external_id="A1").balance == Decimal("1000.00")


def test_run_daily_command_json_shape(extract_v1):
    from io import StringIO

    import_(extract_v1, "2026-11-30")
    out = StringIO()
    call_command("run_daily", "--as-of", "2026-11-30", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert set(payload) == {"as_of", "accounts", "buckets", "cases_open", "cases_opened", "cases_closed", "seconds",
                            "strategy_version", "decided", "actions", "stage_changes", "promises", "allocation",
                            "sms", "visits"}
    assert payload["decided"] == 2 and sum(payload["actions"].values()) == 2
    assert set(payload["buckets"]) == {"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"}
    assert payload["accounts"] == 4 and payload["cases_opened"] == 2


def test_rerun_after_a_corrected_extract_for_the_same_date(extract_v1, tmp_path):
    """A corrected extract for a date already run, then the same date again: the history row of
    that date is replaced (roll still against the previous run date), never duplicated."""
    import_(extract_v1, "2026-11-30")
    run_daily(date(2026, 11, 30))
    corrected = write_extract(tmp_path / "v1b", [
        acct("A1", "C1", "1000.00", "100.00", "2026-09-25"),   # now DPD 66 → M3
        acct("A2", "C1", "500.00", "0.00", ""),
        acct("A3", "C2", "2000.00", "0.00", ""),               # paid: current again
        acct("A4", "C3", "300.00", "30.00", "2026-11-20"),     # newly late: DPD 10 → M1
    ], [("P1", "A2", "2026-11-20T23:30:00+08:00", "50.00", "bank_transfer")])
    import_(corrected, "2026-11-30")
    r = run_daily(date(2026, 11, 30))
    assert (r.cases_opened, r.cases_closed) == (1, 1) and r.buckets["M3"] == 1
    a1 = BucketHistory.objects.get(account__external_id="A1", as_of=date(2026, 11, 30))
    assert (a1.bucket, a1.previous_bucket, a1.roll) == ("M3", "", "new")
    assert not BucketHistory.objects.filter(account__external_id="A3").exists()  # it never rolled, net
    assert CardAccount.objects.get(external_id="A1").dpd == 66
    assert DailyRun.objects.get(as_of=date(2026, 11, 30)).executions == 2
    again = run_daily(date(2026, 11, 30))
    assert (again.cases_opened, again.cases_closed, again.accounts_changed) == (0, 0, 0)


def test_customer_with_nothing_overdue_gets_no_case(tmp_path, settings):
    d = write_extract(tmp_path / "zero", [
        acct("A1", "C1", "0.00", "0.00", "2026-10-25"),        # late by date, nothing owed
        acct("A3", "C2", "2000.00", "8.00", "2026-11-25"),     # 8.00 overdue
        acct("A4", "C3", "300.00", "0.00", ""),
    ])
    import_(d, "2026-11-30")
    settings.ARREARS_REPAYMENT_TOLERANCE = "10.00"               # 容差还款: 8.00 counts as paid
    r = run_daily(date(2026, 11, 30))
    assert r.buckets["M2"] == 1 and r.buckets["M1"] == 1      # the card system's status is kept
    assert r.cases_opened == 0 and not Case.objects.exists()
