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
    if oldest is None and not any(p.local_date <= as_of for p in payments):
        # the card system's late status with nothing owed (a zero-amount item from the extract) is
        # kept until something is paid (:func:`extract_due_items`)
        oldest = min((i.due_date for i in items if i.amount == 0 and i.due_date < as_of), default=None)
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


# ---------------------------------------------------------------------------- from the extract
#
# One home for "which minimum payments does an account owe, and which are overdue as of D", used
# per account by the payment service and ``explain_balance`` (:func:`extract_due_items` then
# :func:`delinquency`) and over the whole portfolio by the daily run (:func:`DUE_ITEMS_SQL` then
# :func:`DELINQUENCY_SQL`, executed by DuckDB). ``tests/unit/test_delinquency_parity.py`` runs both
# on the same sampled accounts.

CENT = Decimal("0.01")


def extract_due_items(
    extract_date: date,
    overdue_amount: Decimal,
    oldest_unpaid_due_date: date | None,
    statements: Iterable[tuple[date, Decimal]],
) -> list[DueItem]:
    """The minimum payments an account owes from its extract on, oldest first.

    ``extract_date``: the extract's business date; ``overdue_amount`` / ``oldest_unpaid_due_date``:
    the extract's own figures (unpaid past-due minimums, yuan, Decimal; the due date of the oldest);
    ``statements``: ``(due_date, minimum_due)`` of the account's statements (any order; minimums of
    the same due date are one item).

    The extract's overdue amount is spread over the unpaid cycles due from the oldest unpaid due date
    to before the extract date: the newest cycles take their full minimum, the oldest item the
    remainder (at least 0.01: partial payments were applied oldest first by the card system); then
    every minimum due on or after the extract date, in full. Refs are ``min:<due date ISO>``.
    """
    by_due: dict[date, Decimal] = {}
    for d, m in statements:
        m = money(m)
        if m > 0:
            by_due[d] = by_due.get(d, ZERO) + m
    items: list[DueItem] = []
    overdue = money(overdue_amount)
    if overdue == 0 and oldest_unpaid_due_date is not None:
        # late by the card system's status but nothing owed (e.g. a nil bill): a zero-amount item
        # that keeps the status (DPD from its date) until a payment (:func:`delinquency`)
        items.append(DueItem(f"status:{oldest_unpaid_due_date.isoformat()}", oldest_unpaid_due_date, ZERO))
    if overdue > 0 and oldest_unpaid_due_date is not None:
        later: list[DueItem] = []
        newer = ZERO  # minimums of the cycles newer than the one looked at
        for d in sorted((d for d in by_due if oldest_unpaid_due_date < d < extract_date), reverse=True):
            part = max(ZERO, min(by_due[d], overdue - CENT - newer))
            newer += by_due[d]
            if part > 0:
                later.append(DueItem(f"min:{d.isoformat()}", d, part))
        rest = overdue - sum((i.amount for i in later), ZERO)
        items.append(DueItem(f"min:{oldest_unpaid_due_date.isoformat()}", oldest_unpaid_due_date, rest))
        items.extend(reversed(later))
    items.extend(DueItem(f"min:{d.isoformat()}", d, by_due[d]) for d in sorted(by_due) if d >= extract_date)
    return items


def DUE_ITEMS_SQL(accounts: str, statements: str) -> str:
    """Set-based :func:`extract_due_items`: one row ``(account_id, due_date, amount)`` per item.

    ``accounts`` names a relation with ``account_id, extract_date DATE, extract_overdue DECIMAL(16,2),
    extract_oldest DATE``; ``statements`` one with ``account_id, due_date DATE, minimum_due
    DECIMAL(16,2)``. DuckDB / PostgreSQL SQL."""
    return f"""
    WITH st AS (
        SELECT account_id, due_date, sum(minimum_due)::DECIMAL(16,2) AS m
        FROM {statements} WHERE minimum_due > 0 GROUP BY account_id, due_date
    ), cycles AS (
        SELECT s.account_id, s.due_date, s.m, a.extract_overdue AS o,
               coalesce(sum(s.m) OVER (PARTITION BY s.account_id ORDER BY s.due_date DESC
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS newer
        FROM st s JOIN {accounts} a ON a.account_id = s.account_id
        WHERE a.extract_overdue > 0 AND a.extract_oldest IS NOT NULL
          AND s.due_date > a.extract_oldest AND s.due_date < a.extract_date
    ), parts AS (
        SELECT account_id, due_date, greatest(least(m, o - 0.01 - newer), 0)::DECIMAL(16,2) AS amount
        FROM cycles
    )
    SELECT account_id, due_date, amount FROM parts WHERE amount > 0
    UNION ALL
    SELECT a.account_id, a.extract_oldest AS due_date,
           (a.extract_overdue - coalesce(p.s, 0))::DECIMAL(16,2) AS amount
    FROM {accounts} a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM parts GROUP BY account_id) p
      ON p.account_id = a.account_id
    WHERE a.extract_overdue >= 0 AND a.extract_oldest IS NOT NULL
    UNION ALL
    SELECT s.account_id, s.due_date, s.m AS amount
    FROM st s JOIN {accounts} a ON a.account_id = s.account_id
    WHERE s.due_date >= a.extract_date
    """


def DELINQUENCY_SQL(items: str, pools: str, as_of: date) -> str:
    """Set-based :func:`delinquency` (account level): one row ``(account_id, oldest_unpaid_due_date,
    overdue_amount)`` per account with items; accounts without a row owe nothing past due.

    ``items``: ``(account_id, due_date, amount)`` (from :func:`DUE_ITEMS_SQL`); ``pools``:
    ``(account_id, amount)`` — what counts as paid as of ``as_of`` per account (payments after the
    extract not reversed by then, plus adjustments — waivers, settlement discounts, write-offs — not
    reversed by then: see :func:`pool`). Items take the pool oldest due date first; an item is
    overdue when it keeps an outstanding amount and its due date is strictly before ``as_of`` (R10).
    The DPD is ``as_of - oldest_unpaid_due_date`` (:func:`arrears.domain.calendar.days_past_due`).
    """
    d = f"DATE '{as_of.isoformat()}'"
    return f"""
    WITH p AS (SELECT account_id, sum(amount) AS pool FROM {pools} GROUP BY account_id),
    c AS (
        SELECT i.account_id, i.due_date, i.amount,
               sum(i.amount) OVER (PARTITION BY i.account_id ORDER BY i.due_date
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
               coalesce(p.pool, 0) AS pool
        FROM {items} i LEFT JOIN p ON p.account_id = i.account_id
    ), o AS (
        SELECT account_id, due_date, amount, pool,
               least(amount, greatest(cum - pool, 0))::DECIMAL(16,2) AS outstanding
        FROM c
    )
    SELECT account_id,
           coalesce(min(due_date) FILTER (WHERE outstanding > 0 AND due_date < {d}),
                    CASE WHEN max(pool) = 0 THEN min(due_date) FILTER (WHERE amount = 0 AND due_date < {d}) END)
               AS oldest_unpaid_due_date,
           coalesce(sum(outstanding) FILTER (WHERE outstanding > 0 AND due_date < {d}), 0)::DECIMAL(16,2)
               AS overdue_amount
    FROM o GROUP BY account_id
    """


@dataclass(frozen=True, slots=True)
class Credit:
    """Something that counts as paid towards the minimums from ``local_date`` until ``until``
    (exclusive; ``None`` = for ever): a payment (``kind="payment"``, until its reversal date) or an
    adjustment — waiver 减免, settlement discount, residual write-off 尾差核销 (until it is reversed)."""

    ref: str
    local_date: date
    amount: Decimal
    until: date | None = None
    kind: str = "payment"


def in_extract(local_day: date, extract_date: date) -> bool:
    """Whether a payment dated ``local_day`` (the debtor's local date) is already inside the figures
    of the extract of ``extract_date``: dated on or before it. The one rule used by the balance, the
    delinquency, settlements and promises alike (such a payment is recorded but never counted again)."""
    return local_day <= extract_date


def pool(credits: Iterable[Credit], extract_date: date, as_of: date) -> list[PaymentEvent]:
    """The credits that count as paid as of ``as_of``, as :class:`PaymentEvent` s for
    :func:`delinquency`: payments not :func:`in_extract` and adjustments dated from the extract date,
    dated on or before ``as_of`` and not reversed by then (a reversal counts from its date: snapshots
    before it are unchanged)."""
    out = []
    for c in credits:
        if c.local_date > as_of or (c.until is not None and c.until <= as_of) or c.amount <= 0:
            continue
        if c.kind == "payment" and in_extract(c.local_date, extract_date):
            continue
        if c.kind != "payment" and c.local_date < extract_date:
            continue
        out.append(PaymentEvent(c.ref, c.local_date, c.amount))
    return out


def POOL_SQL(credits: str, accounts: str, as_of: date) -> str:
    """Set-based :func:`pool`: ``(account_id, amount)`` rows that count as paid as of ``as_of``.

    ``credits``: ``(account_id, local_date DATE, amount DECIMAL(16,2), until DATE NULL, kind)``;
    ``accounts``: ``(account_id, extract_date DATE, …)``."""
    d = f"DATE '{as_of.isoformat()}'"
    return f"""
    SELECT c.account_id, c.amount FROM {credits} c JOIN {accounts} a ON a.account_id = c.account_id
    WHERE c.local_date <= {d} AND (c.until IS NULL OR c.until > {d}) AND c.amount > 0
      AND ((c.kind = 'payment' AND c.local_date > a.extract_date)
           OR (c.kind <> 'payment' AND c.local_date >= a.extract_date))
    """
