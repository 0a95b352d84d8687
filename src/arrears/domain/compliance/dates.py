"""Date arithmetic for compliance deadlines: US federal holidays (5 U.S.C. 6103(a)), business
days, year steps, and the PRC convention that a period starts the day after its starting event
(民法典第二百零一条) and ends on the next working day when its last day is a holiday (第二百零三条).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

from ..calendar import add_months

__all__ = ["us_federal_holidays", "add_business_days", "add_years", "cn_period_end"]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    """A holiday on Saturday is observed on Friday, on Sunday on Monday."""
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


@lru_cache(maxsize=64)
def us_federal_holidays(year: int) -> frozenset[date]:
    """Legal public holidays of 5 U.S.C. 6103(a) in ``year`` (observed dates): New Year's Day,
    Birthday of Martin Luther King Jr. (3rd Mon Jan), Washington's Birthday (3rd Mon Feb), Memorial
    Day (last Mon May), Juneteenth (19 Jun, from 2021), Independence Day, Labor Day (1st Mon Sep),
    Columbus Day (2nd Mon Oct), Veterans Day (11 Nov), Thanksgiving (4th Thu Nov), Christmas."""
    out = {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),
        _nth_weekday(year, 2, 0, 3),
        _last_weekday(year, 5, 0),
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),
        _nth_weekday(year, 10, 0, 2),
        _observed(date(year, 11, 11)),
        _nth_weekday(year, 11, 3, 4),
        _observed(date(year, 12, 25)),
    }
    if year >= 2021:
        out.add(_observed(date(year, 6, 19)))
    # New Year's Day of next year observed on 31 Dec of this year
    nxt = _observed(date(year + 1, 1, 1))
    if nxt.year == year:
        out.add(nxt)
    return frozenset(out)


def add_business_days(start: date, n: int, holidays: Iterable[date] | None = None) -> date:
    """The ``n``-th day after ``start`` that is not a Saturday, Sunday or holiday (``holidays``;
    default: US federal holidays of the years involved)."""
    explicit = frozenset(holidays) if holidays is not None else None
    d, left = start, n
    while left > 0:
        d += timedelta(days=1)
        hol = explicit if explicit is not None else us_federal_holidays(d.year)
        if d.weekday() < 5 and d not in hol:
            left -= 1
    return d


def add_years(d: date, years: int) -> date:
    """``d`` plus whole years (29 Feb → 28 Feb in a common year)."""
    return add_months(d, 12 * years)


def cn_period_end(start_event: date, *, days: int = 0, years: int = 0, holidays: Iterable[date] = ()) -> date:
    """End of a period that starts the day after ``start_event`` (the start day is not counted):
    ``start_event + days`` (or ``+ years``), moved to the next non-holiday when it falls on one of
    ``holidays`` (statutory rest days the caller supplies)."""
    end = add_years(start_event, years) if years else start_event + timedelta(days=days)
    hol = set(holidays)
    while end in hol:
        end += timedelta(days=1)
    return end
