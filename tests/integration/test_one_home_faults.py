"""Faults that two homes of one rule caused (issue "one home per rule", fault list 6a–6g).

Inputs are in the standard extract format (docs/extract.md). Each expected figure is worked out by
hand below. Product CARD: 万分之五 a day (actual/365), 违约金 5 % of the unpaid minimum within
10.00 … 500.00, order fees → penalty → interest → principal.
"""
from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments import services
from arrears.contexts.money.payments.models import BalanceAdjustment, Payment
from arrears.contexts.portfolio.models import BucketHistory, CardAccount
from arrears.contexts.money.servicing import services as servicing
from arrears.contexts.money.servicing.models import Settlement
from arrears.pipeline.daily import run_daily

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _valid_id(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[s % 11]


def write_extract(d: Path, customers: list[str], accounts: list[str], statements: list[str],
                  payments: list[str] = ()) -> Path:
    """The five files; ``accounts``/``statements``/``payments`` are CSV lines as in the issue."""
    d.mkdir(parents=True, exist_ok=True)

    def w(name, header, lines):
        with open(d / name, "w", newline="", encoding="utf-8") as f:
            f.write(",".join(header) + "\n")
            for line in lines:
                f.write(line + "\n")

    w("customers.csv", ["customer_id", "name", "national_id", "birth_date", "sex", "timezone", "language", "district"],
      [f"{c},张三,{_valid_id('44030419900101123')},1990-01-01,M,Asia/Shanghai,zh-hans,福田区" for c in customers])
    w("contacts.csv", ["contact_id", "customer_id", "party", "party_name", "relation", "kind", "value", "district",
                       "latitude", "longitude"],
      [f"{c}-M,{c},debtor,张三,本人,mobile,1381234567{i},福田区,," for i, c in enumerate(customers)])
    w("accounts.csv", ["account_id", "customer_id", "product_code", "currency", "credit_limit", "balance",
                       "principal", "interest", "fees", "minimum_due", "overdue_amount", "oldest_unpaid_due_date",
                       "due_day", "opened_on"], accounts)
    w("statements.csv", ["account_id", "statement_date", "due_date", "closing_balance", "minimum_due",
                         "delinquency_status"], statements)
    w("payments.csv", ["payment_id", "account_id", "paid_at", "amount", "channel"], payments)
    return d


def import_(path: Path, as_of: str) -> dict:
    out = StringIO()
    call_command("import_portfolio", str(path), "--format", "standard", "--as-of", as_of, "--json", stdout=out)
    return json.loads(out.getvalue())


def days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def account(ext: str) -> CardAccount:
    return CardAccount.objects.get(external_id=ext)


def open_case(ext: str) -> Case | None:
    return Case.objects.filter(customer_id=account(ext).customer_id, closed_on__isnull=True).first()


# --------------------------------------------------------------------------------------------- 6a


@pytest.fixture
def v1(tmp_path):
    return write_extract(
        tmp_path / "v1", ["V1-CUS"],
        ["V1-ACC,V1-CUS,CARD,CNY,50000.00,1500.00,1500.00,0.00,0.00,200.00,600.00,2025-05-31,31,2020-01-01"],
        ["V1-ACC,2025-05-11,2025-05-31,600.00,600.00,",
         "V1-ACC,2025-05-20,2025-06-02,1300.00,700.00,",
         "V1-ACC,2025-05-21,2025-06-03,1500.00,200.00,"])


def test_6a_minimums_due_after_the_extract_become_overdue_in_the_daily_run(v1):
    import_(v1, "2025-06-01")
    run_daily(date(2025, 6, 1))
    services.post_payment(account("V1-ACC").pk, "PAY-1", "600.00", datetime(2025, 6, 2, 10, tzinfo=SH))
    for d in days(date(2025, 6, 3), date(2025, 6, 10)):
        run_daily(d)
    a = account("V1-ACC")
    # the 600.00 paid the 05-31 minimum; 700.00 due 06-02 and 200.00 due 06-03 are unpaid → DPD 8
    assert (a.dpd, a.bucket, a.oldest_unpaid_due_date, a.overdue_amount) == (8, "M1", date(2025, 6, 2), D("900.00"))
    case = open_case("V1-ACC")
    assert case is not None and (case.max_dpd, case.bucket, case.overdue_amount) == (8, "M1", D("900.00"))
    exp, dlq = services.account_explanation(a, date(2025, 6, 10))
    assert [p.amount for p in exp.penalties] == [D("35.00"), D("10.00")]
    assert (dlq.dpd, dlq.oldest_unpaid_due_date, dlq.overdue_amount) == (a.dpd, a.oldest_unpaid_due_date,
                                                                         a.overdue_amount)
    # each day's move is in the bucket history with its cause (06-03: the 700.00 is one day late)
    h = BucketHistory.objects.filter(account=a).order_by("as_of")
    assert [(r.as_of, r.bucket, r.cause) for r in h if r.as_of >= date(2025, 6, 2)] == [
        (date(2025, 6, 2), "M0", "payment"), (date(2025, 6, 3), "M1", "daily_run")]


def test_6a_daily_run_without_any_new_extract_ages_the_account(v1):
    """Nothing but daily runs after the import: each minimum becomes overdue the day after its due date."""
    import_(v1, "2025-06-01")
    run_daily(date(2025, 6, 1))
    assert account("V1-ACC").dpd == 1
    run_daily(date(2025, 6, 3))
    a = account("V1-ACC")
    # 600.00 (05-31) + 700.00 (06-02) overdue; 200.00 due today is not overdue yet (R10)
    assert (a.dpd, a.overdue_amount) == (3, D("1300.00"))
    run_daily(date(2025, 6, 4))
    assert (account("V1-ACC").dpd, account("V1-ACC").overdue_amount) == (4, D("1500.00"))


# --------------------------------------------------------------------------------------------- 6b


def test_6b_sub_cent_residual_written_off_costs_nothing_afterwards(tmp_path):
    path = write_extract(
        tmp_path / "b", ["B-CUS"],
        ["B-ACC,B-CUS,CARD,CNY,50000.00,42.42,42.42,0.00,0.00,42.42,0.00,,10,2020-01-01"],
        ["B-ACC,2025-02-15,2025-03-10,42.42,42.42,"])
    import_(path, "2025-03-01")
    run_daily(date(2025, 3, 1))
    r = services.post_payment(account("B-ACC").pk, "B-PAY", "42.41", datetime(2025, 3, 10, 10, tzinfo=SH))
    assert r.written_off == "0.01"
    a = account("B-ACC")
    assert a.balance == D("0.00")
    exp, dlq = services.account_explanation(a, date(2025, 3, 11))
    assert exp.closing.total == D("0.00"), exp.to_dict()
    assert exp.penalties == () or list(exp.penalties) == []
    assert dlq.dpd == 0 and dlq.overdue_amount == D("0.00")
    run_daily(date(2025, 3, 11))
    assert account("B-ACC").dpd == 0 and open_case("B-ACC") is None


# --------------------------------------------------------------------------------------------- 6c, 6d


@pytest.fixture
def leader(django_user_model):
    user = django_user_model.objects.create_user("leader", password="x")
    user.groups.add(Group.objects.get_or_create(name="team_leader")[0])
    return user


def _overdue_extract(tmp_path, balance="1000.00", overdue="1000.00"):
    path = write_extract(
        tmp_path / "c", ["C-CUS"],
        [f"C-ACC,C-CUS,CARD,CNY,50000.00,{balance},{balance},0.00,0.00,{overdue},{overdue},2025-03-01,1,2020-01-01"],
        [f"C-ACC,2025-02-10,2025-03-01,{balance},{overdue},"])
    import_(path, "2025-03-15")
    run_daily(date(2025, 3, 15))


def _settled(leader, maker, deadline: date):
    """A 300.00 settlement on the 1,000.00 account, approved, paid off by 700.00 on 03-20."""
    a = account("C-ACC")
    s = servicing.request_settlement(a.pk, waived="300.00", deadline=deadline, today=date(2025, 3, 15), actor=maker)
    servicing.approve_settlement(s.pk, leader, date(2025, 3, 15))
    services.post_payment(a.pk, "S-PAY", "700.00", datetime(2025, 3, 20, 10, tzinfo=SH))
    s.refresh_from_db()
    return a, s


def test_6c_reversing_the_payment_that_settled_a_settlement_undoes_the_settlement(tmp_path, leader, django_user_model):
    _overdue_extract(tmp_path)
    a, s = _settled(leader, django_user_model.objects.create_user("maker", password="x"), date(2025, 3, 31))
    assert s.status == "paid" and account("C-ACC").balance == D("0.00")
    closed = Case.objects.get(customer_id=a.customer_id)
    assert closed.status == "closed_paid"

    services.reverse_payment(a.pk, "S-PAY", date(2025, 3, 22), reason="bounced")
    s.refresh_from_db()
    assert s.status == "approved"  # unpaid again: the deadline (03-31) has not passed
    adj = BalanceAdjustment.objects.get(account=a, kind="settlement")
    assert adj.reversed_on == date(2025, 3, 22)
    a = account("C-ACC")
    # waived amount restored: 1,000.00 principal + interest since 03-15 (7 days × 0.50 = 3.50); the
    # 1,000.00 minimum due 03-01 is unpaid again → DPD 21
    assert a.balance > D("1000.00") and a.dpd == 21 and a.overdue_amount == D("1000.00")
    case = open_case("C-ACC")
    assert case is not None and case.max_dpd == 21
    kinds = set(CaseEvent.objects.filter(case__customer_id=a.customer_id).values_list("kind", flat=True))
    assert {"payment_reversed", "settlement_reopened", "adjustment_reversed"} <= kinds
    run_daily(date(2025, 3, 23))
    s.refresh_from_db()
    assert s.status == "approved" and open_case("C-ACC") is not None and account("C-ACC").dpd == 22


def test_6c_reversing_after_the_deadline_voids_the_settlement(tmp_path, leader, django_user_model):
    _overdue_extract(tmp_path)
    a, s = _settled(leader, django_user_model.objects.create_user("maker", password="x"), date(2025, 3, 25))
    services.reverse_payment(a.pk, "S-PAY", date(2025, 3, 27), reason="chargeback", kind="chargeback")
    s.refresh_from_db()
    assert s.status == "void"
    assert open_case("C-ACC") is not None


def test_6d_reversing_a_payment_reverses_the_residual_write_off_it_triggered(tmp_path):
    _overdue_extract(tmp_path, balance="1000.45", overdue="1000.45")
    a = account("C-ACC")
    # paid on the extract date + 0 interest days is impossible: the extract is 03-15, pay 03-16
    # interest 1 day × 1,000.45 × 0.0005 = 0.50 → owed 1,000.95; pay 1,000.50 → 0.45 residual written off
    r = services.post_payment(a.pk, "D-PAY", "1000.50", datetime(2025, 3, 16, 10, tzinfo=SH))
    assert r.written_off == "0.45"
    assert account("C-ACC").balance == D("0.00")
    services.reverse_payment(a.pk, "D-PAY", date(2025, 3, 16), reason="bounced")
    wo = BalanceAdjustment.objects.get(account=a, kind="residual_write_off")
    assert wo.reversed_on == date(2025, 3, 16)
    a = account("C-ACC")
    assert a.balance == D("1000.95")  # 1,000.45 + one day's interest, nothing written off


# --------------------------------------------------------------------------------------------- 6e


def test_6e_one_rule_decides_whether_a_payment_is_in_the_extract(tmp_path, leader, django_user_model):
    _overdue_extract(tmp_path, balance="3500.00", overdue="3500.00")
    maker = django_user_model.objects.create_user("maker", password="x")
    a = account("C-ACC")
    s = servicing.request_settlement(a.pk, waived="500.00", deadline=date(2025, 3, 31), today=date(2025, 3, 15),
                                     actor=maker)
    servicing.approve_settlement(s.pk, leader, date(2025, 3, 15))
    # dated on the extract's date: already inside the extract's figures (the card system knew it)
    r = services.post_payment(a.pk, "E-PAY", "3000.00", datetime(2025, 3, 15, 9, tzinfo=SH))
    assert r.allocation == {"in_extract_of": "2025-03-15"}
    s.refresh_from_db()
    assert s.status == "approved"  # not counted towards the payoff either
    assert not BalanceAdjustment.objects.filter(account=a).exists()
    assert servicing.evaluate_settlements(date(2025, 3, 20)) == {"paid": 0, "void": 0}
    # promises use the same rule
    from arrears.contexts.money.payments.models import PromiseToPay

    case = open_case("C-ACC")
    ptp = PromiseToPay.objects.create(case=case, customer_id=a.customer_id, amount=D("100.00"),
                                      promised_on=date(2025, 3, 15), taken_on=date(2025, 3, 15),
                                      created_at=datetime(2025, 3, 15, 8, tzinfo=SH))
    services.evaluate_promises(date(2025, 3, 18))
    ptp.refresh_from_db()
    assert ptp.status == "broken" and ptp.paid_amount == D("0.00")
