"""Promises to pay (承诺还款, PTP): the status map and the kept / partly kept / broken rule.

A promise is ``amount`` (Decimal, yuan) by ``promised_on`` (the debtor's local date). Which payments
count towards it (:func:`counts_towards`, summed by :func:`paid_towards`): the customer's payments
dated from the day the promise was taken (``taken_on``) up to its :func:`deadline`
(``promised_on + grace_days``), not already inside their account's extract
(:func:`arrears.domain.delinquency.in_extract`: dated on or before the extract date) and not
reversed by the deadline (a reversal dated later does not count against it).

* **kept** (兑现): paid ≥ amount − tolerance — decided as soon as the payment posts.
* After the grace period (``as_of > promised_on + grace_days``): **partly kept** (部分兑现) when
  something was paid but less, **broken** (跳票) when nothing was paid.
* Before that, an open promise stays open.

``tolerance`` (Decimal ≥ 0) absorbs a small shortfall (e.g. a bank charge); ``grace_days`` (int ≥ 0)
lets a payment that arrives a day or two late still count. Both are settings
(``ARREARS_PTP_TOLERANCE``, ``ARREARS_PTP_GRACE_DAYS``). This module is the rule's one home: the
payment service (:func:`arrears.contexts.money.payments.services.evaluate_promises`, on every
posting and in the daily run) reads the promises and their payments and calls
:func:`paid_towards` and :func:`evaluate` for each; no other path decides a promise (the strategy
reads the stored status). ``tests/integration/test_promise_one_home.py`` checks the service
against this module on generated promises and payments.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .delinquency import in_extract
from arrears.core.machine import TransitionMap

from .errors import DomainError, IllegalTransition
from .money import ZERO, money

__all__ = ["OPEN", "KEPT", "PARTLY_KEPT", "BROKEN", "CANCELLED", "TRANSITIONS", "check_transition",
           "deadline", "PromisePayment", "counts_towards", "paid_towards", "evaluate"]

OPEN, KEPT, PARTLY_KEPT, BROKEN, CANCELLED = "open", "kept", "partly_kept", "broken", "cancelled"

#: The declared status map of a promise: only an open promise moves, and only once.
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({KEPT, PARTLY_KEPT, BROKEN, CANCELLED}),
    KEPT: frozenset(),
    PARTLY_KEPT: frozenset(),
    BROKEN: frozenset(),
    CANCELLED: frozenset(),
}


#: The promise map as the one transition helper checks it (:mod:`arrears.core.machine`).
MACHINE = TransitionMap("promise", TRANSITIONS, error=IllegalTransition)


def check_transition(from_status: str, to_status: str) -> str:
    """Return ``to_status`` if the map allows it; :class:`IllegalTransition` otherwise,
    ``ValueError`` for an unknown status."""
    return MACHINE.check(from_status, to_status)


def deadline(promised_on: date, grace_days: int) -> date:
    """Last local date a payment still counts: ``promised_on + grace_days``."""
    if grace_days < 0:
        raise DomainError(f"grace_days must be ≥ 0, got {grace_days}")
    return promised_on + timedelta(days=grace_days)


@dataclass(frozen=True)
class PromisePayment:
    """A payment of the promise's customer: ``local_date`` (the debtor's local date), ``amount``
    (Decimal > 0, in ``currency``, ISO 4217), ``extract_date`` (its account's extract date: a
    payment dated on or before it is already in the extract's figures) and ``reversed_on`` (the
    local date it was reversed or charged back from; ``None`` while it stands)."""

    local_date: date
    amount: Decimal
    extract_date: date
    reversed_on: date | None = None
    currency: str | None = None


def counts_towards(p: PromisePayment, taken_on: date, promised_on: date, grace_days: int,
                   currency: str | None = None) -> bool:
    """Whether payment ``p`` counts towards a promise taken on ``taken_on`` for ``promised_on`` in
    ``currency``: dated ``taken_on`` … :func:`deadline` (both inclusive), not
    :func:`~arrears.domain.delinquency.in_extract`, not reversed on or before the deadline, and in
    the promise's currency (amounts in different currencies are never added up: a USD payment
    does not keep a CNY promise). ``currency`` ``None`` (or a payment without one) skips the
    currency check."""
    end = deadline(promised_on, grace_days)
    return (taken_on <= p.local_date <= end and not in_extract(p.local_date, p.extract_date)
            and (p.reversed_on is None or p.reversed_on > end)
            and (currency is None or p.currency is None or p.currency == currency))


def paid_towards(payments: Iterable[PromisePayment], taken_on: date, promised_on: date, grace_days: int,
                 currency: str | None = None) -> Decimal:
    """The amount paid towards a promise in ``currency``: the sum of the ``payments`` that
    :func:`counts_towards` it (Decimal, two places, in that currency; 0.00 when none)."""
    return money(sum((p.amount for p in payments
                      if counts_towards(p, taken_on, promised_on, grace_days, currency)), ZERO))


def evaluate(amount: Decimal, promised_on: date, paid: Decimal, as_of: date, *, grace_days: int = 0,
             tolerance: Decimal = Decimal("0.00")) -> str:
    """The promise's status as of ``as_of`` given ``paid`` (Decimal ≥ 0) counted towards it.

    Returns ``"kept"``, ``"partly_kept"``, ``"broken"`` or ``"open"`` (not decided yet). Example:
    500.00 promised for 2025-03-10, grace 2 days, tolerance 1.00: 499.50 paid → kept; 200.00 paid
    and as of 2025-03-13 → partly_kept; nothing paid as of 2025-03-12 → open, 2025-03-13 → broken.
    """
    amount, paid, tol = money(amount), money(paid), money(tolerance)
    if amount <= 0 or paid < 0 or tol < 0:
        raise DomainError("promise amount must be > 0, paid and tolerance ≥ 0")
    if paid >= amount - tol:
        return KEPT
    if as_of <= deadline(promised_on, grace_days):
        return OPEN
    return PARTLY_KEPT if paid > 0 else BROKEN
