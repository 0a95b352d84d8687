"""Delinquency: oldest-first allocation, overdue balance, DPD (R07, R08, R10, R12a/b, R23)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.delinquency import (
    Delinquency,
    DueItem,
    PaymentEvent,
    allocate_oldest_first,
    delinquency,
    oldest_unpaid_due_date,
    overdue_balance,
)
from arrears.domain.errors import DomainError
from arrears.domain.money import money
from arrears.rules import load_bucket_ladder

D = date
M = Decimal


def item(ref, due, amount):
    return DueItem(ref, due, M(amount))


def pay(ref, on, amount):
    return PaymentEvent(ref, on, M(amount))


# ---- R07: each line its own amount and DPD ------------------------------------------------------

def test_r07_consolidated_notice_lines_keep_their_own_amount_and_dpd():
    items = [item("S1", D(2025, 2, 1), "300.00"), item("S2", D(2025, 3, 1), "500.00")]
    result = delinquency(items, [], D(2025, 3, 20))
    lines = {s.ref: (s.outstanding, s.dpd) for s in result.items}
    assert lines == {"S1": (M("300.00"), 47), "S2": (M("500.00"), 19)}
    assert result.overdue_amount == M("800.00")
    assert result.dpd == 47
    assert result.oldest_unpaid_due_date == D(2025, 2, 1)


def test_r07_one_by_one_equals_bulk():
    items = [item("S1", D(2025, 2, 1), "300.00"), item("S2", D(2025, 3, 1), "500.00")]
    as_of = D(2025, 3, 20)
    bulk = {s.ref: s for s in delinquency(items, [], as_of).items}
    for it in items:
        (alone,) = delinquency([it], [], as_of).items
        assert alone == bulk[it.ref]
    # and the input order does not matter
    assert delinquency(list(reversed(items)), [], as_of) == delinquency(items, [], as_of)


# ---- R08 / R23: partial payment keeps DPD from the oldest unpaid item ----------------------------

def test_r08_partial_payment_keeps_account_delinquent_with_dpd_from_oldest_unpaid():
    items = [item("I1", D(2025, 3, 1), "1000.00")]
    payments = [pay("P1", D(2025, 3, 10), "400.00")]
    result = delinquency(items, payments, D(2025, 3, 20))
    assert result.dpd == 19
    assert result.overdue_amount == M("600.00")
    assert result.oldest_unpaid_due_date == D(2025, 3, 1)
    (state,) = result.items
    assert (state.paid, state.outstanding, state.dpd, state.is_overdue) == (M("400.00"), M("600.00"), 19, True)


def test_partial_payment_goes_to_the_oldest_item_first():
    items = [item("new", D(2025, 3, 1), "500.00"), item("old", D(2025, 2, 1), "300.00")]
    payments = [pay("P1", D(2025, 3, 10), "350.00")]
    states = allocate_oldest_first(items, payments, D(2025, 3, 20))
    assert [(s.ref, s.paid, s.outstanding) for s in states] == [
        ("old", M("300.00"), M("0.00")),
        ("new", M("50.00"), M("450.00")),
    ]
    result = delinquency(items, payments, D(2025, 3, 20))
    assert result.oldest_unpaid_due_date == D(2025, 3, 1)
    assert result.dpd == 19  # the oldest unpaid is now "new"; "old" is paid
    assert result.overdue_amount == M("450.00")


def test_r23_instalment_level_dpd_not_last_instalment():
    plan = [item("i1", D(2025, 3, 15), "500.00"), item("i2", D(2025, 3, 31), "500.00")]
    on_20_mar = delinquency(plan, [], D(2025, 3, 20))
    assert (on_20_mar.overdue_amount, on_20_mar.dpd) == (M("500.00"), 5)
    assert on_20_mar.outstanding_amount == M("1000.00")  # the 500.00 not yet due is not overdue
    on_5_apr = delinquency(plan, [], D(2025, 4, 5))
    assert (on_5_apr.overdue_amount, on_5_apr.dpd) == (M("1000.00"), 21)


# ---- R10: due today is not overdue ------------------------------------------------------------

R10_ITEMS = [item("X", D(2025, 8, 9), "50.00"), item("Y", D(2025, 8, 10), "70.00"), item("Z", D(2025, 8, 11), "30.00")]


def test_r10_overdue_balance_excludes_amount_due_today():
    as_of = D(2025, 8, 10)
    assert overdue_balance(R10_ITEMS, [], as_of) == M("50.00")
    states = {s.ref: s for s in allocate_oldest_first(R10_ITEMS, [], as_of)}
    assert (states["X"].dpd, states["X"].is_overdue) == (1, True)
    assert (states["Y"].dpd, states["Y"].is_overdue) == (0, False)
    assert (states["Z"].dpd, states["Z"].is_overdue) == (0, False)
    result = delinquency(R10_ITEMS, [], as_of)
    assert (result.dpd, result.oldest_unpaid_due_date) == (1, D(2025, 8, 9))


def test_r10_item_due_today_becomes_dpd_1_tomorrow():
    only_y = [R10_ITEMS[1]]
    assert delinquency(only_y, [], D(2025, 8, 10)).dpd == 0
    assert oldest_unpaid_due_date(only_y, [], D(2025, 8, 10)) is None
    assert overdue_balance(only_y, [], D(2025, 8, 10)) == M("0.00")
    tomorrow = delinquency(only_y, [], D(2025, 8, 11))
    assert (tomorrow.dpd, tomorrow.overdue_amount) == (1, M("70.00"))


# ---- R12: due date basis and point-in-time snapshots -------------------------------------------

def test_r12a_item_posted_but_not_yet_due_is_current():
    # posted 15 Sep with 60-day terms → due 14 Nov; the posting date plays no part
    due = D(2025, 9, 15) + timedelta(days=60)
    assert due == D(2025, 11, 14)
    result = delinquency([item("S", due, "1000.00")], [], D(2025, 9, 15))
    assert (result.dpd, result.overdue_amount, result.oldest_unpaid_due_date) == (0, M("0.00"), None)
    assert result.outstanding_amount == M("1000.00")
    assert load_bucket_ladder().bucket_for(result.dpd) == "M0"


def test_r12b_backdated_snapshot_ignores_later_payments():
    items = [item("S", D(2025, 5, 1), "1000.00")]
    payments = [pay("P", D(2025, 6, 10), "1000.00")]
    snapshot = delinquency(items, payments, D(2025, 5, 15))
    assert (snapshot.dpd, snapshot.overdue_amount) == (14, M("1000.00"))
    assert load_bucket_ladder().bucket_for(snapshot.dpd) == "M1"
    assert allocate_oldest_first(items, payments, D(2025, 5, 15))[0].paid == M("0.00")
    # the day before the payment, and the day of it
    assert delinquency(items, payments, D(2025, 6, 9)).dpd == 39
    paid = delinquency(items, payments, D(2025, 6, 10))
    assert (paid.dpd, paid.overdue_amount, paid.outstanding_amount) == (0, M("0.00"), M("0.00"))


# ---- edges ------------------------------------------------------------------------------------

def test_nothing_due_and_overpayment_credit():
    empty = delinquency([], [], D(2025, 1, 1))
    assert empty == Delinquency(0, None, M("0.00"), (), M("0.00"), M("0.00"))
    over = delinquency([item("A", D(2025, 1, 1), "100.00")], [pay("P", D(2024, 12, 20), "150.00")], D(2025, 2, 1))
    assert (over.dpd, over.overdue_amount, over.unapplied) == (0, M("0.00"), M("50.00"))


def test_prepayment_is_applied_to_an_item_not_yet_due():
    states = allocate_oldest_first([item("A", D(2025, 3, 1), "100.00")], [pay("P", D(2025, 2, 1), "40.00")], D(2025, 2, 15))
    assert (states[0].paid, states[0].outstanding, states[0].is_overdue) == (M("40.00"), M("60.00"), False)


def test_same_due_date_keeps_caller_order():
    items = [item("b", D(2025, 1, 1), "10.00"), item("a", D(2025, 1, 1), "10.00")]
    states = allocate_oldest_first(items, [pay("P", D(2025, 1, 2), "10.00")], D(2025, 2, 1))
    assert [(s.ref, s.outstanding) for s in states] == [("b", M("0.00")), ("a", M("10.00"))]


def test_validation_errors():
    with pytest.raises(TypeError):
        DueItem("A", D(2025, 1, 1), 100.0)
    with pytest.raises(DomainError):
        DueItem("A", D(2025, 1, 1), M("-1.00"))
    with pytest.raises(DomainError):
        DueItem("A", D(2025, 1, 1), M("1.005"))
    with pytest.raises(TypeError):
        DueItem("A", datetime(2025, 1, 1), M("1.00"))
    with pytest.raises(DomainError):
        PaymentEvent("P", D(2025, 1, 1), M("0.00"))
    with pytest.raises(DomainError, match="duplicate item"):
        delinquency([item("A", D(2025, 1, 1), "1"), item("A", D(2025, 2, 1), "1")], [], D(2025, 3, 1))
    with pytest.raises(DomainError, match="duplicate payment"):
        delinquency([], [pay("P", D(2025, 1, 1), "1"), pay("P", D(2025, 1, 1), "1")], D(2025, 3, 1))
    with pytest.raises(TypeError):
        delinquency([], [], datetime(2025, 3, 1))


def test_amounts_are_normalised_to_cents():
    assert DueItem("A", D(2025, 1, 1), M("100")).amount == M("100.00")
    assert str(DueItem("A", D(2025, 1, 1), "7.5").amount) == "7.50"


# ---- properties -------------------------------------------------------------------------------

amounts = st.decimals(min_value=M("0.01"), max_value=M("100000"), places=2)
days = st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 31))


@given(
    st.lists(st.tuples(days, amounts), max_size=8),
    st.lists(st.tuples(days, amounts), max_size=8),
    days,
)
def test_property_allocation_conserves_money_and_ignores_the_future(raw_items, raw_payments, as_of):
    items = [DueItem(f"i{k}", d, a) for k, (d, a) in enumerate(raw_items)]
    payments = [PaymentEvent(f"p{k}", d, a) for k, (d, a) in enumerate(raw_payments)]
    result = delinquency(items, payments, as_of)
    received = sum((p.amount for p in payments if p.local_date <= as_of), M("0"))
    applied = sum((s.paid for s in result.items), M("0"))
    assert applied + result.unapplied == received
    assert all(s.paid + s.outstanding == s.amount and s.outstanding >= 0 for s in result.items)
    # oldest first: no item is paid (even partly) while an older one is left unpaid
    for older, newer in zip(result.items, result.items[1:]):
        assert older.due_date <= newer.due_date
        if newer.paid > 0:
            assert older.outstanding == 0
    assert result.overdue_amount == sum((s.outstanding for s in result.items if s.due_date < as_of), M("0"))
    assert result.dpd == max((s.dpd for s in result.items), default=0)
    # later payments change nothing about this snapshot
    later = [*payments, PaymentEvent("later", as_of + timedelta(days=1), M("999999.99"))]
    assert delinquency(items, later, as_of) == result
    assert result.overdue_amount == money(result.overdue_amount)
