"""Delinquency of one account as of a date: oldest-first allocation, overdue balance, DPD.

Model: an account has dated amounts due (:class:`DueItem`: minimum payments, instalments,
statement items) and payments (:class:`PaymentEvent`), each on a **local business date** (convert
instants with :func:`arrears.domain.calendar.local_date`). All payments made on or before ``as_of``
are pooled and applied to the items **oldest due date first** (ties: the order given). An item is
*overdue* when it still has an outstanding amount and its due date is **strictly before** ``as_of``.

Rules and their sources (``tests/fixtures/reported_faults.md``):

* R10 — an amount due today is not overdue (DPD 0); it becomes DPD 1 tomorrow.
* R07 — each item keeps its own amount and DPD; nothing is shared between items.
* R08/R23 — a partial payment reduces the overdue amount but the DPD still counts from the oldest
  item that is not fully paid.
* R12a — DPD counts from the due date, not the posting date: an item not yet due is current.
* R12b — a snapshot as of a past date ignores payments dated after it.

Amounts are 2-decimal :class:`~decimal.Decimal` (see :mod:`arrears.domain.money`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .calendar import days_past_due
from .errors import DomainError
from .money import ZERO, money

__all__ = [
    "DueItem",
    "PaymentEvent",
    "ItemState",
    "Delinquency",
    "allocate_oldest_first",
    "oldest_unpaid_due_date",
    "overdue_balance",
    "delinquency",
]


def _check_date(value: object, what: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{what} must be a date (a local business date), got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class DueItem:
    """An amount due on a date: ``ref`` (unique per account), ``due_date`` (local date), ``amount``
    (Decimal ≥ 0, 2 decimals; float → ``TypeError``, negative or >2 decimals → :class:`DomainError`)."""

    ref: str
    due_date: date
    amount: Decimal

    def __post_init__(self) -> None:
        _check_date(self.due_date, f"DueItem {self.ref!r}: due_date")
        amount = money(self.amount)
        if amount < 0:
            raise DomainError(f"DueItem {self.ref!r}: amount must not be negative, got {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A payment received: ``ref`` (unique), ``local_date`` (the business-local date it was
    received), ``amount`` (Decimal > 0). A reversal is modelled by removing the payment, not by a
    negative amount (negative or zero → :class:`DomainError`)."""

    ref: str
    local_date: date
    amount: Decimal

    def __post_init__(self) -> None:
        _check_date(self.local_date, f"PaymentEvent {self.ref!r}: local_date")
        amount = money(self.amount)
        if amount <= 0:
            raise DomainError(f"PaymentEvent {self.ref!r}: amount must be positive, got {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class ItemState:
    """One item after allocation as of a date.

    ``paid + outstanding == amount``; ``is_overdue`` iff ``outstanding > 0`` and ``due_date < as_of``;
    ``dpd`` is this item's own days past due (0 unless overdue).
    """

    ref: str
    due_date: date
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    dpd: int
    is_overdue: bool


@dataclass(frozen=True, slots=True)
class Delinquency:
    """The account's delinquency as of a date.

    ``dpd``: days from the oldest unpaid overdue due date to ``as_of`` (0 if none);
    ``oldest_unpaid_due_date``: that date or ``None``; ``overdue_amount``: sum of outstanding on
    overdue items; ``items``: per-item :class:`ItemState` in allocation order (oldest first);
    ``outstanding_amount``: all unpaid amounts including not-yet-due ones; ``unapplied``: payments
    in excess of everything due (a credit balance).
    """

    dpd: int
    oldest_unpaid_due_date: date | None
    overdue_amount: Decimal
    items: tuple[ItemState, ...]
    outstanding_amount: Decimal = field(default=ZERO)
    unapplied: Decimal = field(default=ZERO)


def _allocate(
    items: Iterable[DueItem], payments: Iterable[PaymentEvent], as_of: date
) -> tuple[list[ItemState], Decimal]:
    _check_date(as_of, "as_of")
    items = list(items)
    payments = list(payments)
    for kind, refs in (("item", [i.ref for i in items]), ("payment", [p.ref for p in payments])):
        dupes = sorted(str(r) for r, n in Counter(refs).items() if n > 1)
        if dupes:
            raise DomainError(f"duplicate {kind} refs: {', '.join(map(str, dupes))}")
    pool = sum((p.amount for p in payments if p.local_date <= as_of), ZERO)
    # sorted() is stable: items due the same day keep the caller's order.
    ordered = sorted(items, key=lambda i: i.due_date)
    states: list[ItemState] = []
    for item in ordered:
        paid = min(item.amount, pool)
        pool -= paid
        outstanding = item.amount - paid
        overdue = outstanding > 0 and item.due_date < as_of
        states.append(
            ItemState(
                ref=item.ref,
                due_date=item.due_date,
                amount=item.amount,
                paid=paid,
                outstanding=outstanding,
                dpd=days_past_due(as_of, item.due_date) if overdue else 0,
                is_overdue=overdue,
            )
        )
    return states, pool


def allocate_oldest_first(
    items: Sequence[DueItem], payments: Sequence[PaymentEvent], as_of: date
) -> list[ItemState]:
    """Apply the payments dated on or before ``as_of`` to ``items``, oldest due date first.

    Returns one :class:`ItemState` per item, sorted by due date (stable for equal dates). Payments
    after ``as_of`` are ignored (R12b: a backdated snapshot must not subtract later payments).
    Any excess over all items is a credit, reported by :func:`delinquency` as ``unapplied``.

    Raises :class:`DomainError` for duplicate item refs or duplicate payment refs (a payment counted
    twice is a classic double-posting fault); ``TypeError`` if ``as_of`` is not a date.
    """
    return _allocate(items, payments, as_of)[0]


def oldest_unpaid_due_date(
    items: Sequence[DueItem], payments: Sequence[PaymentEvent], as_of: date
) -> date | None:
    """Due date of the oldest item still (partly) unpaid **and** due strictly before ``as_of``;
    ``None`` when nothing is overdue (an item due today does not count, R10). Errors as
    :func:`allocate_oldest_first`."""
    overdue = [s.due_date for s in allocate_oldest_first(items, payments, as_of) if s.is_overdue]
    return min(overdue) if overdue else None


def overdue_balance(
    items: Sequence[DueItem], payments: Sequence[PaymentEvent], as_of: date
) -> Decimal:
    """Sum of outstanding amounts on items due strictly before ``as_of`` (Decimal, 2 decimals).
    R10: as of 10 Aug, items due 9/10/11 Aug of 50/70/30 give 50.00. Errors as
    :func:`allocate_oldest_first`."""
    return sum((s.outstanding for s in allocate_oldest_first(items, payments, as_of) if s.is_overdue), ZERO)


def delinquency(
    items: Sequence[DueItem], payments: Sequence[PaymentEvent], as_of: date
) -> Delinquency:
    """The account's :class:`Delinquency` as of ``as_of`` (per-item and account level).

    Account DPD = ``as_of - oldest_unpaid_due_date`` in days (0 if nothing is overdue). Example
    (R08): 1,000.00 due 2025-03-01, 400.00 paid 2025-03-10, as of 2025-03-20 → ``dpd=19``,
    ``overdue_amount=600.00``. Errors as :func:`allocate_oldest_first`.
    """
    states, unapplied = _allocate(items, payments, as_of)
    overdue = [s for s in states if s.is_overdue]
    oldest = min((s.due_date for s in overdue), default=None)
    return Delinquency(
        dpd=days_past_due(as_of, oldest),
        oldest_unpaid_due_date=oldest,
        overdue_amount=sum((s.outstanding for s in overdue), ZERO),
        items=tuple(states),
        outstanding_amount=sum((s.outstanding for s in states), ZERO),
        unapplied=unapplied,
    )


def needs_collection(max_dpd: int, overdue_amount: Decimal, tolerance: Decimal = ZERO) -> bool:
    """Whether a customer is worked as a collections case.

    True when something is past due (``max_dpd > 0``, days) **and** the overdue amount (Decimal,
    the case currency) exceeds ``tolerance``. Under the tolerance-repayment rule (容差还款, PBoC
    银发〔2016〕111号) an unpaid remainder at or below the issuer's tolerance counts as paid; with
    the default tolerance 0.00 only a customer with nothing overdue at all is left out — such an
    account keeps its bucket (the card system's status) but nobody is asked to pay.
    """
    return max_dpd > 0 and overdue_amount > tolerance
