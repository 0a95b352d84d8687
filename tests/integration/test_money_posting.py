"""Payment posting end to end on the database: waterfall, idempotency, reversal, cure, promises,
plans, settlements, and reported faults R02, R03, R08, R20 (``tests/fixtures/reported_faults.md``).

Every expected figure is worked out by hand in the test. Product CARD: 万分之五 a day (18.25 %
a year, actual/365), 违约金 5 % of the unpaid minimum within 10.00 … 500.00, order fees → penalty
→ interest → principal.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth import get_user_model

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments import services
from arrears.contexts.money.payments.models import BalanceAdjustment, Payment, PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Customer
from arrears.contexts.money.servicing import services as servicing
from arrears.contexts.money.servicing.models import CollectionHold, PaymentPlan, Settlement
from arrears.domain.payments import Components

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=SH)


def make_account(*, principal="100.00", interest="0.00", fees="0.00", overdue="100.00", oldest=date(2025, 3, 1),
                 extract=date(2025, 3, 15), dpd=14, bucket="M1", product="CARD", ext="A1", cust="C1",
                 case_status="in_collection"):
    customer = Customer.objects.create(external_id=cust, name="张三", timezone="Asia/Shanghai")
    balance = D(principal) + D(interest) + D(fees)
    account = CardAccount.objects.create(
        customer=customer, external_id=ext, product_code=product, credit_limit=D("10000.00"), balance=balance,
        principal=D(principal), interest=D(interest), fees=D(fees), minimum_due=D(overdue),
        overdue_amount=D(overdue), oldest_unpaid_due_date=oldest if D(overdue) > 0 else None, as_of_extract=extract,
        dpd=dpd, bucket=bucket)
    case = Case.objects.create(customer=customer, status=case_status, opened_on=oldest, bucket=bucket, max_dpd=dpd,
                               total_balance=balance, overdue_amount=D(overdue))
    return account, case


def test_r03_allocation_order_costs_interest_principal_stored_on_payment():
    # R03: principal 100.00, fee 5.00, interest 0.25; pay 50.00 the same day as the extract + 1
    # (no interest accrues for 0 days? 1 day: 100.00 × 0.0005 × 1 = 0.05 → interest 0.30).
    account, _ = make_account(principal="100.00", interest="0.25", fees="5.00", overdue="105.25",
                              extract=date(2025, 3, 19))
    r = services.post_payment(account.pk, "P1", "50.00", at(2025, 3, 20))
    # hand-worked: interest 2025-03-19 → 03-20 = 1 day × 100.00 × 0.0005 = 0.05; owed interest 0.30
    # fees 5.00 paid, interest 0.30 paid, principal 50.00 − 5.00 − 0.30 = 44.70 paid
    assert r.allocation["applied"] == {"fees": "5.00", "penalty": "0.00", "interest": "0.30", "principal": "44.70"}
    assert r.allocation["order"] == ["fees", "penalty", "interest", "principal"]
    p = Payment.objects.get(pk=r.payment_id)
    assert p.allocation_order == "fees,penalty,interest,principal"
    account.refresh_from_db()
    assert (account.principal, account.interest, account.fees, account.balance) == (
        D("55.30"), D("0.00"), D("0.00"), D("55.30"))


def test_r03_principal_first_product():
    # CARD-FULL allocates principal first: 50.00 all to principal; 5.00 + 0.25 + 50.00 = 55.25 left
    # (payment on the extract date + 0 days of interest: post with the extract on 03-19 and pay 03-20;
    # full-balance interest 1 day on 100.00 at 0.1825/365 = 0.05 → interest 0.30 left).
    account, _ = make_account(principal="100.00", interest="0.25", fees="5.00", overdue="105.25",
                              extract=date(2025, 3, 19), product="CARD-FULL")
    r = services.post_payment(account.pk, "P1", "50.00", at(2025, 3, 20))
    assert r.allocation["applied"] == {"fees": "0.00", "penalty": "0.00", "interest": "0.00", "principal": "50.00"}
    account.refresh_from_db()
    assert (account.principal, account.interest, account.fees) == (D("50.00"), D("0.30"), D("5.00"))


def test_idempotent_by_external_id_and_conflict():
    account, _ = make_account()
    first = services.post_payment(account.pk, "BANK-1", "40.00", at(2025, 3, 16))
    again = services.post_payment(account.pk, "BANK-1", "40.00", at(2025, 3, 16))
    assert first.created and not again.created and again.payment_id == first.payment_id
    assert Payment.objects.filter(account=account).count() == 1
    with pytest.raises(services.PaymentConflict):
        services.post_payment(account.pk, "BANK-1", "41.00", at(2025, 3, 16))


def test_bad_amounts_refused_with_field():
    account, _ = make_account()
    for bad in ("-5.00", "0", "1.005", "1,000.00"):
        with pytest.raises(services.PaymentError) as e:
            services.post_payment(account.pk, "X", bad, at(2025, 3, 16))
        assert e.value.field == "amount"
    with pytest.raises(services.PaymentError) as e:
        services.post_payment(account.pk, "X", "5.00", datetime(2999, 1, 1, tzinfo=SH))
    assert e.value.field == "paid_at"


def test_r08_partial_payment_keeps_dpd_and_level():
    # R08: 1,000.00 due 01 Mar, extract 05 Mar, 400.00 paid 10 Mar; as of 20 Mar overdue 600.00, DPD 19
    account, case = make_account(principal="1000.00", overdue="1000.00", extract=date(2025, 3, 5), dpd=4)
    services.post_payment(account.pk, "P400", "400.00", at(2025, 3, 10))
    account.refresh_from_db()
    assert (account.overdue_amount, account.dpd, account.oldest_unpaid_due_date) == (D("600.00"), 9, date(2025, 3, 1))
    exp, dlq = services.account_explanation(account, date(2025, 3, 20))
    assert (dlq.overdue_amount, dlq.dpd) == (D("600.00"), 19)
    case.refresh_from_db()
    assert case.status == "in_collection" and case.overdue_amount == D("600.00")


def test_cure_closes_case_and_overpayment_is_credit():
    # 100.00 principal overdue since 01 Mar, extract 15 Mar; pay 150.00 on 16 Mar.
    # interest 15 → 16 Mar: 100.00 × 0.0005 × 1 = 0.05; owed 100.05; credit 150.00 − 100.05 = 49.95
    account, case = make_account()
    r = services.post_payment(account.pk, "P150", "150.00", at(2025, 3, 16))
    assert r.allocation["credit"] == "49.95"
    account.refresh_from_db()
    assert account.balance == D("-49.95") and account.dpd == 0 and account.bucket == "M0"
    case.refresh_from_db()
    assert case.status == "closed_paid" and case.closed_on == date(2025, 3, 16)
    assert CaseEvent.objects.filter(case=case, kind="payment_posted").count() == 1


def test_residual_below_tolerance_written_off_with_event():
    # owed 100.05 on 16 Mar (0.05 interest), customer pays 100.00: residual 0.05 ≤ 1.00 → written off
    account, case = make_account()
    r = services.post_payment(account.pk, "P100", "100.00", at(2025, 3, 16))
    assert r.written_off == "0.05"
    adj = BalanceAdjustment.objects.get(account=account)
    assert adj.kind == "residual_write_off" and adj.total == D("0.05")
    assert AuditEvent.objects.filter(action="payments.residual_written_off").exists()
    account.refresh_from_db()
    assert account.balance == D("0.00")
    case.refresh_from_db()
    assert case.status == "closed_paid"


def test_r02_paying_principal_only_keeps_fees_and_interest_owed():
    # R02: 100.00 due 01 Mar; on 15 Mar interest 0.41 + fee 10.00 (claimed 110.41); extract 19 Mar;
    # 100.00 paid 20 Mar. Interest 19 → 20 Mar on 100.00: 0.05 → owed 110.46.
    # fees→interest→principal: fee 10.00, interest 0.46, principal 89.54 paid; 10.46 principal left.
    account, case = make_account(principal="100.00", interest="0.41", fees="10.00", overdue="110.41",
                                 extract=date(2025, 3, 19))
    services.post_payment(account.pk, "P100", "100.00", at(2025, 3, 20))
    account.refresh_from_db()
    assert account.balance == D("10.46") and account.overdue_amount == D("10.41")
    case.refresh_from_db()
    assert case.status == "in_collection"  # never "paid in full" while the ledger holds the rest
    # policy "waive on principal payment": a recorded waiver with its amount, never a silent drop
    services.add_adjustment(account.pk, "waiver", date(2025, 3, 20), Components(principal=D("10.46")), "R02",
                            reason="waive on principal payment")
    ev = AuditEvent.objects.get(action="payments.waived")
    assert ev.data["amount"] == "10.46"
    case.refresh_from_db()
    assert case.status == "closed_paid"


def test_reversal_reopens_delinquency_from_reversal_date():
    account, case = make_account(principal="300.00", overdue="300.00", extract=date(2025, 3, 5), dpd=4)
    services.post_payment(account.pk, "P300", "300.00", at(2025, 3, 10))
    # 5 → 10 Mar: 300 × 0.0005 × 5 = 0.75 interest, 違约金 none (due 01 Mar < extract); owed 300.75,
    # paid 300.00, residual 0.75 ≤ 1.00 written off; overdue 0 → cured
    case.refresh_from_db()
    assert case.status == "closed_paid"
    services.reverse_payment(account.pk, "P300", date(2025, 3, 12), kind="chargeback", reason="bank chargeback")
    account.refresh_from_db()
    # DPD counts again from the original due date 01 Mar, as of the reversal date 12 Mar → 11
    assert account.dpd == 11 and account.oldest_unpaid_due_date == date(2025, 3, 1)
    new_case = Case.objects.get(customer=account.customer, closed_on__isnull=True)
    assert new_case.pk != case.pk and new_case.opened_on == date(2025, 3, 12)
    # a snapshot before the reversal still shows the payment
    _, before = services.account_explanation(account, date(2025, 3, 11))
    assert before.dpd == 0
    assert services.reverse_payment(account.pk, "P300", date(2025, 3, 12))["created"] is False


def test_promises_kept_partly_broken_bulk(django_user_model):
    agent = django_user_model.objects.create_user("agent1", password="x" * 12)
    a1, c1 = make_account(ext="A1", cust="C1")
    a2, c2 = make_account(ext="A2", cust="C2")
    a3, c3 = make_account(ext="A3", cust="C3")
    now = at(2025, 3, 15)
    p1 = services.take_promise(c1.pk, "50.00", date(2025, 3, 18), agent=agent, now=now)
    p2 = services.take_promise(c2.pk, "50.00", date(2025, 3, 18), agent=agent, now=now)
    p3 = services.take_promise(c3.pk, "50.00", date(2025, 3, 18), agent=agent, now=now)
    services.post_payment(a1.pk, "K", "49.50", at(2025, 3, 17))  # within tolerance 1.00 → kept at once
    p1.refresh_from_db()
    assert p1.status == "kept" and p1.paid_amount == D("49.50")
    services.post_payment(a2.pk, "PART", "20.00", at(2025, 3, 19))
    # grace 2 days: deadline 20 Mar; on 20 Mar nothing decided, on 21 Mar decided
    assert services.evaluate_promises(date(2025, 3, 20)) == {"kept": 0, "partly_kept": 0, "broken": 0}
    assert services.evaluate_promises(date(2025, 3, 21)) == {"kept": 0, "partly_kept": 1, "broken": 1}
    p2.refresh_from_db(); p3.refresh_from_db()
    assert (p2.status, p2.paid_amount, p3.status) == ("partly_kept", D("20.00"), "broken")
    assert CaseEvent.objects.filter(case=c3, kind="promise_broken").exists()
    assert services.evaluate_promises(date(2025, 3, 22)) == {"kept": 0, "partly_kept": 0, "broken": 0}
    from arrears.contexts.money.payments.selectors import promise_kept_rates

    rates = promise_kept_rates(date(2025, 3, 1), date(2025, 3, 31))
    row = next(r for r in rates["agents"] if r["agent_id"] == agent.pk)
    # 1 kept of 3 evaluated → 0.3333
    assert (row["kept"], row["evaluated"], row["kept_rate"]) == (1, 3, "0.3333")


def test_plan_lifecycle_suppresses_and_breach_reopens(django_user_model):
    maker = django_user_model.objects.create_user("maker", password="x" * 12)
    checker = django_user_model.objects.create_user("checker", password="x" * 12)
    account, case = make_account(principal="1000.00", overdue="1000.00", extract=date(2025, 3, 1), dpd=0)
    contents = {"balance": "欠款1,000.00元，本金1,000.00元，人民币", "repayment": "每月15日还款，共2期",
                "charges": "还款期间不计收年费和利息", "no_new_cards": "结清前不向任何银行申领信用卡",
                "rights_and_breach": "逾期超过5天视为违约", "other": "无"}
    with pytest.raises(servicing.ServicingRefused) as e:
        servicing.propose_plan(account.pk, term_months=61, first_due=date(2025, 3, 15), contents={},
                               hardship_confirmed=True, willing_to_repay=True, today=date(2025, 3, 1), actor=maker)
    assert any("60" in p for p in e.value.problems) and sum("missing" in p for p in e.value.problems) == 6
    plan = servicing.propose_plan(account.pk, term_months=2, first_due=date(2025, 3, 15), contents=contents,
                                  hardship_confirmed=True, willing_to_repay=True, today=date(2025, 3, 1),
                                  actor=maker, total=D("1000.00"))
    assert [str(i.amount) for i in plan.instalments.all()] == ["500.00", "500.00"]
    with pytest.raises(servicing.ServicingRefused):
        servicing.approve_plan(plan.pk, maker, date(2025, 3, 2))
    servicing.approve_plan(plan.pk, checker, date(2025, 3, 2))
    plan = servicing.sign_plan(plan.pk, "recording:REC-1", at(2025, 3, 2), actor=maker)
    hold = CollectionHold.objects.get(pk=plan.hold_id)
    assert plan.status == "active" and hold.kind == "payment_plan" and not hold.breached
    # R23: nothing paid; 20 Mar → overdue 500.00 DPD 5 (missed, within grace 5: not yet breached)
    pos = servicing.plan_position(plan.pk, date(2025, 3, 20))
    assert (pos.overdue_amount, pos.dpd, pos.missed, pos.breached) == (D("500.00"), 5, True, False)
    pos = servicing.plan_position(plan.pk, date(2025, 4, 16))  # both instalments late: DPD from 15 Mar
    assert (pos.overdue_amount, pos.dpd) == (D("1000.00"), 32)
    assert servicing.evaluate_plans(date(2025, 3, 21)) == {"completed": 0, "breached": 1}
    hold.refresh_from_db()
    plan.refresh_from_db()
    assert hold.breached and plan.status == "breached"


def test_settlement_authority_paid_and_void(django_user_model):
    maker = django_user_model.objects.create_user("cs", password="x" * 12)
    leader = django_user_model.objects.create_user("lead", password="x" * 12)
    leader.groups.add(Group.objects.get_or_create(name="team_leader")[0])
    account, case = make_account(principal="1000.00", overdue="1000.00", extract=date(2025, 3, 15))
    big = servicing.request_settlement(account.pk, waived="400.00", deadline=date(2025, 3, 31),
                                       today=date(2025, 3, 15), actor=maker)
    with pytest.raises(servicing.ServicingRefused) as e:  # 40 % > the team leader's 30 %
        servicing.approve_settlement(big.pk, leader, date(2025, 3, 15))
    assert "exceeds" in e.value.problems[0]
    Settlement.objects.filter(pk=big.pk).update(status="cancelled")
    s = servicing.request_settlement(account.pk, waived="300.00", deadline=date(2025, 3, 31),
                                     today=date(2025, 3, 15), actor=maker)
    servicing.approve_settlement(s.pk, leader, date(2025, 3, 15))
    # payoff 700.00 paid 20 Mar: interest 15 → 20 Mar on 1,000.00 × 0.0005 × 5 days = 2.50; the
    # payment pays 2.50 interest + 697.50 principal → 1,000.00 − 697.50 = 302.50 principal left.
    # The settlement fixed the payoff at 700.00, so on 20 Mar everything left is waived: 302.50
    # (= agreed 300.00 + 2.50 interest accrued since the request), per part: principal 302.50.
    services.post_payment(account.pk, "SETTLE", "700.00", at(2025, 3, 20))
    s.refresh_from_db()
    assert s.status == "paid" and s.payoff == D("700.00") and s.waived == D("300.00")
    adj = BalanceAdjustment.objects.get(account=account, kind="settlement")
    assert (adj.local_date, adj.principal, adj.interest, adj.penalty, adj.fees, adj.total) == (
        date(2025, 3, 20), D("302.50"), D("0.00"), D("0.00"), D("0.00"), D("302.50"))
    ev = AuditEvent.objects.get(action="servicing.settlement_paid")
    assert (ev.data["paid"], ev.data["waived_total"], ev.data["accrued_since_request"]) == (
        "700.00", "302.50", "2.50")
    waived = AuditEvent.objects.get(action="payments.waived")
    assert waived.data["amount"] == "302.50" and waived.data["reference"] == f"settlement:{s.pk}"
    assert CaseEvent.objects.filter(kind="waiver_recorded", data__amount="302.50").exists()
    account.refresh_from_db()
    assert (account.balance, account.principal, account.interest, account.fees) == (
        D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    case.refresh_from_db()
    assert case.status == "closed_paid"
    assert servicing.evaluate_settlements(date(2025, 4, 1)) == {"paid": 0, "void": 0}  # nothing twice


def test_settlement_void_when_payoff_not_paid_by_deadline(django_user_model):
    maker = django_user_model.objects.create_user("cs", password="x" * 12)
    leader = django_user_model.objects.create_user("lead", password="x" * 12)
    leader.groups.add(Group.objects.get_or_create(name="team_leader")[0])
    account, case = make_account(principal="1000.00", overdue="1000.00", extract=date(2025, 3, 15))
    s = servicing.request_settlement(account.pk, waived="300.00", deadline=date(2025, 3, 31),
                                     today=date(2025, 3, 15), actor=maker)
    servicing.approve_settlement(s.pk, leader, date(2025, 3, 15))
    # 20 Mar: 600.00 = 2.50 interest (15 → 20 Mar) + 597.50 principal → 1,000.00 − 597.50 = 402.50
    # owed; 600.00 < payoff 700.00 → still open on the deadline, void the day after it
    services.post_payment(account.pk, "PART", "600.00", at(2025, 3, 20))
    assert servicing.evaluate_settlements(date(2025, 3, 31)) == {"paid": 0, "void": 0}
    assert servicing.evaluate_settlements(date(2025, 4, 1)) == {"paid": 0, "void": 1}
    s.refresh_from_db()
    assert s.status == "void"
    assert not BalanceAdjustment.objects.filter(account=account).exists()  # nothing waived
    account.refresh_from_db()
    assert account.balance == D("402.50")


def test_settled_account_closes_paid_even_when_the_payment_also_cures(django_user_model):
    # Only 300.00 of the 1,000.00 is overdue, so the 700.00 payoff also clears the overdue amount.
    # The settlement is evaluated first: its waiver (302.50 = 300.00 agreed + 2.50 interest 15 → 20
    # Mar) leaves nothing owed and the case closes as closed_paid, never closed_cured first.
    maker = django_user_model.objects.create_user("cs", password="x" * 12)
    leader = django_user_model.objects.create_user("lead", password="x" * 12)
    leader.groups.add(Group.objects.get_or_create(name="team_leader")[0])
    account, case = make_account(principal="1000.00", overdue="300.00", extract=date(2025, 3, 15))
    s = servicing.request_settlement(account.pk, waived="300.00", deadline=date(2025, 3, 31),
                                     today=date(2025, 3, 15), actor=maker)
    servicing.approve_settlement(s.pk, leader, date(2025, 3, 15))
    r = services.post_payment(account.pk, "SETTLE", "700.00", at(2025, 3, 20))
    case.refresh_from_db()
    assert case.status == "closed_paid" and case.closed_on == date(2025, 3, 20)
    assert r.case["action"] == "closed_paid"
    assert not CaseEvent.objects.filter(case=case, to_status="closed_cured").exists()
    closing = CaseEvent.objects.get(case=case, to_status="closed_paid")
    assert closing.from_status == "in_collection"
    s.refresh_from_db()
    assert s.status == "paid"
    account.refresh_from_db()
    assert (account.balance, account.overdue_amount, account.dpd) == (D("0.00"), D("0.00"), 0)
    assert BalanceAdjustment.objects.get(account=account, kind="settlement").total == D("302.50")
    assert r.account["balance"] == "0.00"
