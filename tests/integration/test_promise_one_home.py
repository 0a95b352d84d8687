"""One home for the promise outcome (:mod:`arrears.domain.promises`): the payment service's
evaluation on the database (``evaluate_promises`` for the daily run, ``evaluate_customer_promises``
after a posting) gives each promise the paid amount and the status that the domain's
``paid_towards`` + ``evaluate`` give on the same promises and payments.

There is one path: the service reads the rows and calls the domain (it used to decide in its own
SQL). What can still go wrong is what it reads — which promises, which payments, each payment's
extract date, reversal and date — so the test generates promises and payments on the database
(hypothesis), runs the service, and compares with the rule written out again here on the generated
facts; the boundaries are spelled out below: paid exactly the amount, the tolerance and a cent
short of it, a payment on the last day of the grace period and a day after, a payment dated on the
extract date, a reversal on the deadline and a day after it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.contexts.casework.models import Case
from arrears.contexts.money.payments import services
from arrears.contexts.money.payments.models import Payment, PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Customer
from arrears.domain import promises as rules

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
GRACE, TOL = 2, D("1.00")
EXTRACT = date(2025, 3, 15)


def _world(n_customer: int, extracts: list[date]):
    customer = Customer.objects.create(external_id=f"C{n_customer}", name="张三", timezone="Asia/Shanghai")
    accounts = [CardAccount.objects.create(
        customer=customer, external_id=f"A{n_customer}-{i}", product_code="CARD", credit_limit=D("10000.00"),
        balance=D("500.00"), principal=D("500.00"), minimum_due=D("500.00"), overdue_amount=D("500.00"),
        oldest_unpaid_due_date=date(2025, 3, 1), as_of_extract=e, dpd=14, bucket="M1")
        for i, e in enumerate(extracts)]
    case = Case.objects.create(customer=customer, status="in_collection", opened_on=date(2025, 3, 1), bucket="M1",
                               max_dpd=14, total_balance=D("500.00"), overdue_amount=D("500.00"))
    return customer, accounts, case


def _pay(account, ref: str, day: date, amount: D, reversed_on: date | None = None) -> Payment:
    return Payment.objects.create(
        account=account, external_id=ref, paid_at=datetime(day.year, day.month, day.day, 12, tzinfo=SH),
        local_date=day, amount=amount, status="reversed" if reversed_on else "posted", reversed_on=reversed_on)


def _counts(p: dict, taken_on: date, promised_on: date) -> bool:
    """The rule written out again: dated taken_on … promised_on + grace, after its account's
    extract date, not reversed on or before that last day."""
    last = promised_on + timedelta(days=GRACE)
    return (taken_on <= p["day"] <= last and p["day"] > p["extract"]
            and (p["reversed_on"] is None or p["reversed_on"] > last))


# ------------------------------------------------------------------------------------ generated

payment_st = st.fixed_dictionaries({
    "account": st.integers(0, 1), "day": st.integers(-3, 12), "cents": st.integers(1, 15_000),
    "reversed": st.one_of(st.none(), st.integers(0, 8)),
})
promise_st = st.fixed_dictionaries({
    "taken": st.integers(-3, 3), "days": st.integers(0, 6), "cents": st.sampled_from([1, 5_000, 10_000, 12_345]),
})
world_st = st.fixed_dictionaries({
    "extract2": st.integers(-2, 4), "promises": st.lists(promise_st, min_size=1, max_size=3),
    "payments": st.lists(payment_st, max_size=6), "as_of": st.integers(0, 14), "daily": st.booleans(),
})


@override_settings(ARREARS_PTP_GRACE_DAYS=GRACE, ARREARS_PTP_TOLERANCE=TOL)
@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(w=world_st)
def test_the_service_decides_as_the_domain_on_generated_promises_and_payments(w):
    with transaction.atomic():
        extracts = [EXTRACT, EXTRACT + timedelta(days=w["extract2"])]
        customer, accounts, case = _world(1, extracts)
        as_of = EXTRACT + timedelta(days=w["as_of"])
        pays = []
        for i, p in enumerate(w["payments"]):
            day = EXTRACT + timedelta(days=p["day"])
            rev = None if p["reversed"] is None else day + timedelta(days=p["reversed"])
            amount = D(p["cents"]) / 100
            _pay(accounts[p["account"]], f"P{i}", day, amount, rev)
            pays.append({"day": day, "amount": amount, "extract": extracts[p["account"]], "reversed_on": rev})
        promises = []
        for p in w["promises"]:
            taken = EXTRACT + timedelta(days=p["taken"])
            ptp = PromiseToPay.objects.create(
                case=case, customer=customer, amount=D(p["cents"]) / 100, promised_on=taken + timedelta(days=p["days"]),
                taken_on=taken, created_at=datetime(taken.year, taken.month, taken.day, 9, tzinfo=SH))
            promises.append(ptp)

        if w["daily"]:
            got_counts = services.evaluate_promises(as_of, reevaluate=False)
        else:
            got_counts = services.evaluate_customer_promises(customer.pk, as_of)

        want_counts = {"kept": 0, "partly_kept": 0, "broken": 0}
        for ptp in promises:
            in_scope = ptp.promised_on <= as_of or not w["daily"]
            facts = [rules.PromisePayment(p["day"], p["amount"], p["extract"], p["reversed_on"]) for p in pays]
            paid = sum((p["amount"] for p in pays if _counts(p, ptp.taken_on, ptp.promised_on)), D("0.00"))
            assert rules.paid_towards(facts, ptp.taken_on, ptp.promised_on, GRACE) == paid
            status = rules.evaluate(ptp.amount, ptp.promised_on, paid, as_of, grace_days=GRACE, tolerance=TOL)
            got = PromiseToPay.objects.get(pk=ptp.pk)
            if in_scope:
                assert (got.status, got.paid_amount, got.evaluated_on) == (status, paid, as_of)
                if status != "open":
                    want_counts[status] += 1
            else:
                assert (got.status, got.paid_amount, got.evaluated_on) == ("open", D("0.00"), None)
        assert got_counts == want_counts
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------ boundaries

P = date(2025, 3, 18)           # promised on; taken on the extract date 15 Mar; grace to 20 Mar
LAST = P + timedelta(days=GRACE)


@pytest.mark.parametrize("payments, as_of, status, paid", [
    # paid exactly the amount, on the promised day: kept at once
    ([(P, "100.00", None)], P, "kept", "100.00"),
    # the tolerance: amount − 1.00 is kept; a cent less is not (open until the grace period ends)
    ([(P, "99.00", None)], P, "kept", "99.00"),
    ([(P, "98.99", None)], LAST, "open", "98.99"),
    ([(P, "98.99", None)], LAST + timedelta(days=1), "partly_kept", "98.99"),
    # a payment on the last day of the grace period counts; a day after it does not
    ([(LAST, "100.00", None)], LAST, "kept", "100.00"),
    ([(LAST + timedelta(days=1), "100.00", None)], LAST + timedelta(days=1), "broken", "0.00"),
    # nothing paid: open on the last day of grace, broken the day after
    ([], LAST, "open", "0.00"),
    ([], LAST + timedelta(days=1), "broken", "0.00"),
    # dated on the extract date (and the promise's day): already in the extract's figures
    ([(EXTRACT, "100.00", None)], LAST + timedelta(days=1), "broken", "0.00"),
    ([(EXTRACT + timedelta(days=1), "100.00", None)], LAST + timedelta(days=1), "kept", "100.00"),
    # reversed on the deadline: does not count; reversed a day after it: counts
    ([(P, "100.00", LAST)], LAST + timedelta(days=1), "broken", "0.00"),
    ([(P, "100.00", LAST + timedelta(days=1))], LAST + timedelta(days=1), "kept", "100.00"),
    # two payments together reach it, one of them in the extract does not
    ([(EXTRACT, "60.00", None), (P, "60.00", None)], LAST + timedelta(days=1), "partly_kept", "60.00"),
    ([(P - timedelta(days=1), "60.00", None), (P, "40.00", None)], P, "kept", "100.00"),
])
@override_settings(ARREARS_PTP_GRACE_DAYS=GRACE, ARREARS_PTP_TOLERANCE=TOL)
def test_boundaries(payments, as_of, status, paid):
    customer, (account,), case = _world(1, [EXTRACT])
    for i, (day, amount, rev) in enumerate(payments):
        _pay(account, f"P{i}", day, D(amount), rev)
    ptp = PromiseToPay.objects.create(case=case, customer=customer, amount=D("100.00"), promised_on=P, taken_on=EXTRACT,
                                      created_at=datetime(2025, 3, 15, 9, tzinfo=SH))
    services.evaluate_customer_promises(customer.pk, as_of)
    ptp.refresh_from_db()
    assert (ptp.status, ptp.paid_amount) == (status, D(paid))
    # the daily run decides the same (nothing left open to decide once it is decided)
    facts = [rules.PromisePayment(d, D(a), EXTRACT, r) for d, a, r in payments]
    assert rules.evaluate(D("100.00"), P, rules.paid_towards(facts, EXTRACT, P, GRACE), as_of,
                          grace_days=GRACE, tolerance=TOL) == status


@override_settings(ARREARS_PTP_GRACE_DAYS=GRACE, ARREARS_PTP_TOLERANCE=TOL)
def test_a_decided_promise_is_not_decided_again_and_only_due_promises_are_read_by_the_daily_run():
    customer, (account,), case = _world(1, [EXTRACT])
    due = PromiseToPay.objects.create(case=case, customer=customer, amount=D("100.00"), promised_on=P,
                                      taken_on=EXTRACT, created_at=datetime(2025, 3, 15, 9, tzinfo=SH))
    later = PromiseToPay.objects.create(case=case, customer=customer, amount=D("100.00"), promised_on=P + timedelta(days=9),
                                        taken_on=EXTRACT, created_at=datetime(2025, 3, 15, 9, tzinfo=SH))
    _pay(account, "P1", P, D("100.00"))
    assert services.evaluate_promises(P, reevaluate=False) == {"kept": 1, "partly_kept": 0, "broken": 0}
    due.refresh_from_db(); later.refresh_from_db()
    assert (due.status, later.status, later.evaluated_on) == ("kept", "open", None)
    # the payment is reversed afterwards: the kept promise stays kept (only open promises move)
    Payment.objects.filter(external_id="P1").update(status="reversed", reversed_on=P + timedelta(days=1))
    assert services.evaluate_promises(LAST + timedelta(days=1), reevaluate=False) == {"kept": 0, "partly_kept": 0,
                                                                                        "broken": 0}
    due.refresh_from_db()
    assert due.status == "kept"


@override_settings(ARREARS_PTP_GRACE_DAYS=GRACE, ARREARS_PTP_TOLERANCE=TOL)
def test_a_payment_in_another_currency_does_not_keep_the_promise():
    """Amounts in different currencies are never added up: 100.00 USD paid does not keep a promise
    of 100.00 CNY, and counts in full towards a USD promise of the same customer."""
    customer, (cny, usd), case = _world(1, [EXTRACT, EXTRACT])
    CardAccount.objects.filter(pk=usd.pk).update(currency="USD")
    _pay(usd, "U1", P, D("100.00"))
    kw = dict(case=case, customer=customer, amount=D("100.00"), promised_on=P, taken_on=EXTRACT,
              created_at=datetime(2025, 3, 15, 9, tzinfo=SH))
    in_cny = PromiseToPay.objects.create(currency="CNY", **kw)
    in_usd = PromiseToPay.objects.create(currency="USD", **kw)
    services.evaluate_customer_promises(customer.pk, LAST + timedelta(days=1))
    in_cny.refresh_from_db(); in_usd.refresh_from_db()
    assert (in_cny.status, in_cny.paid_amount) == ("broken", D("0.00"))
    assert (in_usd.status, in_usd.paid_amount) == ("kept", D("100.00"))
    facts = [rules.PromisePayment(P, D("100.00"), EXTRACT, None, "USD")]
    assert rules.paid_towards(facts, EXTRACT, P, GRACE, "CNY") == D("0.00")
    assert rules.paid_towards(facts, EXTRACT, P, GRACE, "USD") == D("100.00")
