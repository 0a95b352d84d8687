"""Calendar arithmetic: local business dates, month stepping without drift, days past due.

Every function takes its dates explicitly; nothing here reads the clock.

Sources: R10 (an amount due today is not overdue: DPD 0), R15 (monthly dates on the 29th–31st must
not drift to the 28th after February: each date is computed from the anchor, never from the previous
date), R12 (DPD counts from the due date), and the glossary's definition of DPD "in the debtor's
local calendar" (an instant belongs to the local date of the debtor/business timezone).
"""
from __future__ import annotations

import calendar as _stdcal
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MonthRule",
    "MONTH_RULES",
    "days_in_month",
    "local_date",
    "add_months",
    "monthly_dates",
    "latest_cycle_date_before",
    "days_past_due",
]

MonthRule = Literal["same_day", "end_of_month"]
#: ``same_day``: keep the anchor's day of month, clamped to the month's length (31 Jan → 28 Feb →
#: 31 Mar). ``end_of_month``: like ``same_day``, except an anchor on the last day of its month stays
#: on the last day of every month (29 Feb 2024 → 31 Mar 2024 → 30 Apr 2024).
MONTH_RULES: tuple[str, ...] = ("same_day", "end_of_month")


def _check_rule(rule: str) -> None:
    if rule not in MONTH_RULES:
        raise ValueError(f"unknown month rule {rule!r}; expected one of {MONTH_RULES}")


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` (1–12) of ``year`` (Gregorian; Feb has 29 in leap years)."""
    return _stdcal.monthrange(year, month)[1]


def local_date(instant: datetime, tz: str) -> date:
    """The calendar date of ``instant`` in timezone ``tz`` (an IANA name such as ``"Asia/Shanghai"``).

    ``instant`` must be timezone-aware. Examples: 2025-08-10 15:30 UTC is 23:30 in Beijing → 2025-08-10;
    2025-08-10 16:30 UTC is 00:30 the next day in Beijing → **2025-08-11** (not the UTC date).

    Raises ``ValueError`` for a naive datetime (its zone is unknown, so its date is ambiguous) and
    for an unknown timezone name.
    """
    if not isinstance(instant, datetime):
        raise TypeError(f"local_date: expected datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("local_date: naive datetime; pass a timezone-aware instant")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"local_date: unknown timezone {tz!r}") from exc
    return instant.astimezone(zone).date()


def _month_index(d: date) -> int:
    return d.year * 12 + (d.month - 1)


def add_months(anchor: date, n: int, rule: MonthRule | str = "same_day") -> date:
    """``anchor`` moved by ``n`` whole months (``n`` may be 0 or negative), computed from the anchor.

    The day of month is ``min(anchor.day, days_in_month)`` — it is clamped in short months but never
    drifts: ``add_months(31 Jan 2021, 2) == 31 Mar 2021`` even though month 1 is 28 Feb (R15).
    With ``rule="end_of_month"`` an anchor that is the last day of its month maps to the last day of
    the target month (``add_months(29 Feb 2024, 1, "end_of_month") == 31 Mar 2024``); other anchors
    behave as with ``"same_day"``.

    Always derive a schedule as ``add_months(anchor, k)`` for k = 0, 1, 2 …, never by stepping the
    previous result. Raises ``ValueError`` for an unknown rule or a result outside years 1–9999,
    ``TypeError`` if ``n`` is not an int.
    """
    _check_rule(rule)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"add_months: n must be an int, got {type(n).__name__}")
    idx = _month_index(anchor) + n
    year, month0 = divmod(idx, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"add_months: {anchor.isoformat()} + {n} months is outside years 1–9999")
    month = month0 + 1
    last = days_in_month(year, month)
    if rule == "end_of_month" and anchor.day == days_in_month(anchor.year, anchor.month):
        return date(year, month, last)
    return date(year, month, min(anchor.day, last))


def monthly_dates(anchor: date, count: int, rule: MonthRule | str = "same_day") -> list[date]:
    """``count`` monthly dates starting **at** the anchor: ``[add_months(anchor, k, rule) for k in 0..count-1]``.

    R15: ``monthly_dates(date(2021, 1, 31), 6)`` → 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May, 30 Jun 2021.
    Raises ``ValueError`` if ``count`` is negative or the rule is unknown.
    """
    _check_rule(rule)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"monthly_dates: count must be a non-negative int, got {count!r}")
    return [add_months(anchor, k, rule) for k in range(count)]


def latest_cycle_date_before(as_of: date, due_day: int, rule: MonthRule | str = "same_day") -> date:
    """The most recent cycle date strictly before ``as_of`` for a card whose cycle day is ``due_day``.

    The cycle date in a month is ``min(due_day, days_in_month)`` (clamped, R15), e.g. due_day 31 →
    28/29 Feb, 30 Apr. ``as_of`` itself is never returned (a date due today is not yet past due,
    R10): ``latest_cycle_date_before(date(2025, 3, 15), 15) == date(2025, 2, 15)``.

    ``rule`` is accepted for symmetry with :func:`add_months`; for a bare day of month both rules
    give the same dates (day 31 already means "last day of the month" after clamping).

    Raises ``ValueError`` unless ``1 <= due_day <= 31``, or for an unknown rule.
    """
    _check_rule(rule)
    if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= 31:
        raise ValueError(f"latest_cycle_date_before: due_day must be an int 1–31, got {due_day!r}")
    this_month = date(as_of.year, as_of.month, min(due_day, days_in_month(as_of.year, as_of.month)))
    if this_month < as_of:
        return this_month
    prev = add_months(date(as_of.year, as_of.month, 1), -1)
    return date(prev.year, prev.month, min(due_day, days_in_month(prev.year, prev.month)))


def days_past_due(as_of: date, due_date: date | None) -> int:
    """Whole calendar days from ``due_date`` to ``as_of``; 0 if nothing is due (``None``), if it is
    due today (R10) or in the future. Both dates are local business dates (see :func:`local_date`).

    ``days_past_due(date(2025, 8, 10), date(2025, 8, 9)) == 1``.
    """
    if due_date is None:
        return 0
    if isinstance(as_of, datetime) or isinstance(due_date, datetime):
        raise TypeError("days_past_due: pass dates, not datetimes (convert with local_date first)")
    return max(0, (as_of - due_date).days)
