"""Simple interest over a date period with an explicit day-count basis.

The period is half-open ``[start, end)``: interest accrues for each day from ``start`` up to but not
including ``end`` (``end - start`` days; 2023-12-01 → 2024-03-01 is 91 days). Everything is
:class:`~decimal.Decimal` at high precision and rounded **once**, at the end, with the money rule
(``ROUND_HALF_UP`` to 0.01, :mod:`arrears.domain.money`).

Day-count bases (:data:`BASES`):

``"actual/365"``
    days / 365.
``"actual/360"``
    days / 360.
``"actual/actual_contains_leap"``
    days / 366 if the period contains a 29 February, else days / 365 (the whole period, not just
    the start date's year — R16: 10,000.00 × 12 % × 91/366 = 298.36 for 2023-12-01 → 2024-03-01).
``"actual/actual_split"``
    the period split at 1 January; each piece's days / that year's length (365 or 366), summed
    (R16: 31/365 + 60/366 for 2023-12-01 → 2024-03-01 → 298.64).

Source: reported fault R16 (apache/fineract FINERACT-2197). Daily late interest on cards
(e.g. 万分之五 per day = 0.0005 × 365 = 18.25 % a year on actual/365) uses the same function.
"""
from __future__ import annotations

import calendar as _stdcal
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Literal

from .errors import DomainError
from .money import to_decimal, quantize

__all__ = ["Basis", "BASES", "year_fraction", "interest"]

Basis = Literal["actual/365", "actual/360", "actual/actual_contains_leap", "actual/actual_split"]
BASES: tuple[str, ...] = ("actual/365", "actual/360", "actual/actual_contains_leap", "actual/actual_split")

_PREC = 50  # working precision; the result is rounded once to cents


def _check_period(start: date, end: date) -> None:
    for what, d in (("start", start), ("end", end)):
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"{what} must be a date, got {type(d).__name__}")
    if end < start:
        raise ValueError(f"interest period ends before it starts: {start.isoformat()} → {end.isoformat()}")


def _contains_feb29(start: date, end: date) -> bool:
    return any(
        _stdcal.isleap(y) and start <= date(y, 2, 29) < end for y in range(start.year, end.year + 1)
    )


def _pieces(start: date, end: date, basis: str) -> list[tuple[int, int]]:
    """(days, denominator) pieces whose sum of days/denominator is the year fraction."""
    days = (end - start).days
    if basis == "actual/365":
        return [(days, 365)]
    if basis == "actual/360":
        return [(days, 360)]
    if basis == "actual/actual_contains_leap":
        return [(days, 366 if _contains_feb29(start, end) else 365)]
    if basis == "actual/actual_split":
        out: list[tuple[int, int]] = []
        cur = start
        while cur < end:
            nxt = min(date(cur.year + 1, 1, 1), end)
            out.append(((nxt - cur).days, 366 if _stdcal.isleap(cur.year) else 365))
            cur = nxt
        return out
    raise ValueError(f"unknown day-count basis {basis!r}; expected one of {BASES}")


def year_fraction(start: date, end: date, basis: Basis | str = "actual/365") -> Decimal:
    """The period ``[start, end)`` as a fraction of a year under ``basis`` (unrounded Decimal).

    ``year_fraction(date(2024, 12, 1), date(2025, 3, 1)) == Decimal(90) / 365``.
    Raises ``ValueError`` for an unknown basis or ``end < start``; ``TypeError`` for non-dates.
    """
    _check_period(start, end)
    pieces = _pieces(start, end, basis)
    with localcontext() as ctx:
        ctx.prec = _PREC
        return sum((Decimal(d) / Decimal(den) for d, den in pieces), Decimal(0))


def interest(
    balance: Decimal | int | str,
    annual_rate: Decimal | int | str,
    start: date,
    end: date,
    basis: Basis | str = "actual/365",
) -> Decimal:
    """Simple interest on ``balance`` at ``annual_rate`` over ``[start, end)``, rounded once to 0.01.

    ``balance``: amount (Decimal/int/plain str, ≥ 0). ``annual_rate``: a fraction per year, not a
    percentage (``Decimal("0.12")`` for 12 %), ≥ 0. Returns a 2-decimal Decimal; 0.00 for an empty
    period or a zero rate.

    Raises ``TypeError`` for float inputs or non-dates; ``ValueError`` for an unknown basis or
    ``end < start``; :class:`DomainError` for a negative balance or rate or a non-plain string.
    """
    bal = to_decimal(balance, "balance")
    rate = to_decimal(annual_rate, "annual_rate")
    if bal < 0:
        raise DomainError(f"interest: balance must not be negative, got {bal}")
    if rate < 0:
        raise DomainError(f"interest: annual_rate must not be negative, got {rate}")
    _check_period(start, end)
    pieces = _pieces(start, end, basis)
    with localcontext() as ctx:
        ctx.prec = _PREC
        raw = sum((bal * rate * Decimal(d) / Decimal(den) for d, den in pieces), Decimal(0))
    return quantize(raw)
