"""Local time-of-day windows across time zones (DST-safe).

An *allowed window* is ``[from, until)`` seconds after local midnight (``until`` inclusive when
asked). A window whose ``from`` is after its ``until`` wraps midnight. Local times are computed in
each candidate zone; a time is allowed only if every zone allows it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["zone", "sod", "in_window", "local_at", "next_window_start", "next_in_all_windows"]

UTC = timezone.utc


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """A cached :class:`ZoneInfo` (``ValueError`` for an unknown name)."""
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise ValueError(f"unknown time zone {name!r}") from exc


def sod(local: datetime) -> int:
    """Seconds since local midnight."""
    return local.hour * 3600 + local.minute * 60 + local.second


def in_window(s: int, frm: int, until: int, inclusive: bool = False) -> bool:
    """Is second-of-day ``s`` inside the allowed window?"""
    if frm <= until:
        return frm <= s < until or (inclusive and s == until)
    return s >= frm or s < until or (inclusive and s == until)


def local_at(d: date, seconds: int, z: ZoneInfo) -> datetime:
    """The aware datetime at ``seconds`` after midnight on local date ``d`` in ``z``; a time in a
    DST gap resolves to the first valid instant after it."""
    dt = datetime(d.year, d.month, d.day, seconds // 3600, (seconds // 60) % 60, seconds % 60, tzinfo=z)
    return dt.astimezone(UTC).astimezone(z)


def next_window_start(local: datetime, frm: int, until: int, z: ZoneInfo) -> datetime:
    """The next start of the allowed window strictly after a forbidden local time ``local``."""
    s = sod(local)
    d = local.date()
    if frm <= until:
        target = d if s < frm else d + timedelta(days=1)
    else:  # wrapping window: the forbidden span is [until, frm) within one day
        target = d
    out = local_at(target, frm, z)
    if out <= local:
        out = local_at(target + timedelta(days=1), frm, z)
    return out


def next_in_all_windows(t: datetime, windows: list[tuple[ZoneInfo, int, int, bool]]) -> datetime | None:
    """The earliest instant ≥ ``t`` allowed by every ``(zone, from, until, inclusive)`` window, or
    ``None`` when the windows never overlap."""
    for _ in range(32):
        moved = False
        for z, frm, until, inclusive in windows:
            loc = t.astimezone(z)
            if not in_window(sod(loc), frm, until, inclusive):
                t = next_window_start(loc, frm, until, z)
                moved = True
        if not moved:
            return t
    return None
