"""The contact history, pre-indexed for the gate.

A decision looks at small slices of the history: today's attempts on one number, a party's calls
in a seven-day window, the debtor's attempts since they were last reached. :class:`ContactHistory`
sorts the records once and indexes them by local calendar day (in the debtor's zone), by party,
by contact point and by role, so each of those slices is a dictionary lookup or a ``bisect`` —
the cost of a decision does not grow with 90 days of history. Appending a record in time order is
O(1); an out-of-order record re-indexes.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .model import ContactRecord, outcome_reached, outcome_refused

__all__ = ["ContactHistory"]


class ContactHistory:
    """Contact records indexed for the gate. ``tz``: the zone whose calendar days are used (the
    debtor's primary zone)."""

    __slots__ = ("tz", "zone", "records", "_epoch", "_ord", "_by_day", "_by_party", "_by_point", "_by_role",
                 "_party_epoch", "_role_epoch", "_role_success", "_point_ord", "_refused")

    def __init__(self, records: Iterable[ContactRecord] = (), tz: str = "Asia/Shanghai") -> None:
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.records: list[ContactRecord] = []
        self._reindex(sorted(records, key=lambda r: r.ts))

    # ---- building --------------------------------------------------------------------------
    def _reindex(self, records: list[ContactRecord]) -> None:
        self.records = []
        self._epoch: list[float] = []
        self._ord: list[int] = []
        self._by_day: dict[int, list[int]] = {}
        self._by_party: dict[str, list[int]] = {}
        self._by_point: dict[str, list[int]] = {}
        self._by_role: dict[str, list[int]] = {}
        self._party_epoch: dict[str, list[float]] = {}
        self._role_epoch: dict[str, list[float]] = {}
        self._role_success: dict[str, list[int]] = {}
        self._point_ord: dict[str, list[int]] = {}
        self._refused: dict[str, float] = {}
        for r in records:
            self._append(r)

    def _append(self, r: ContactRecord) -> None:
        i = len(self.records)
        e = r.ts.timestamp()
        o = r.ts.astimezone(self.zone).toordinal()
        self.records.append(r)
        self._epoch.append(e)
        self._ord.append(o)
        self._by_day.setdefault(o, []).append(i)
        self._by_party.setdefault(r.party, []).append(i)
        self._party_epoch.setdefault(r.party, []).append(e)
        if r.contact_point is not None:
            self._by_point.setdefault(r.contact_point, []).append(i)
            self._point_ord.setdefault(r.contact_point, []).append(o)
        self._by_role.setdefault(r.role, []).append(i)
        self._role_epoch.setdefault(r.role, []).append(e)
        refused = outcome_refused(r.outcome)
        if outcome_reached(r.outcome) or refused:
            self._role_success.setdefault(r.role, []).append(len(self._by_role[r.role]) - 1)
        if refused and r.party not in self._refused:
            self._refused[r.party] = e

    def add(self, record: ContactRecord) -> None:
        """Add a record (O(1) when it is not older than the newest one)."""
        if not self._epoch or record.ts.timestamp() >= self._epoch[-1]:
            self._append(record)
        else:
            self._reindex(sorted([*self.records, record], key=lambda r: r.ts))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ContactRecord]:
        return iter(self.records)

    # ---- queries ---------------------------------------------------------------------------
    def local_ordinal(self, ts: datetime) -> int:
        """The local calendar day of ``ts`` in the index zone, as a date ordinal."""
        return ts.astimezone(self.zone).toordinal()

    def on_day(self, ordinal: int) -> list[ContactRecord]:
        """Records of one local day (ordinal), in time order."""
        recs = self.records
        return [recs[i] for i in self._by_day.get(ordinal, ())]

    def on_days(self, first: int, last: int) -> Iterator[tuple[int, ContactRecord]]:
        """``(ordinal, record)`` for local days ``first`` … ``last`` (inclusive), in time order."""
        recs, by_day = self.records, self._by_day
        for o in range(first, last + 1):
            for i in by_day.get(o, ()):
                yield o, recs[i]

    def day_of(self, record_index: int) -> int:
        return self._ord[record_index]

    def for_party(self, party: str) -> list[ContactRecord]:
        recs = self.records
        return [recs[i] for i in self._by_party.get(party, ())]

    def for_party_before(self, party: str, ts: datetime) -> list[ContactRecord]:
        """The party's records strictly before ``ts``."""
        idx = self._by_party.get(party)
        if not idx:
            return []
        n = bisect_left(self._party_epoch[party], ts.timestamp())
        recs = self.records
        return [recs[i] for i in idx[:n]]

    def for_point_on_day(self, point: str, ordinal: int) -> list[ContactRecord]:
        """Records on contact point ``point`` during local day ``ordinal`` (bisect on the point's days)."""
        idx = self._by_point.get(point)
        if not idx:
            return []
        ords = self._point_ord[point]
        lo, hi = bisect_left(ords, ordinal), bisect_right(ords, ordinal)
        recs = self.records
        return [recs[i] for i in idx[lo:hi]]

    def refused_before(self, party: str, ts: datetime) -> bool:
        """Did ``party`` refuse further contact (a ``refused`` outcome) before ``ts``?"""
        e = self._refused.get(party)
        return e is not None and e < ts.timestamp()

    def role_since_last_success(self, role: str, ts: datetime) -> tuple[ContactRecord | None, list[ContactRecord]]:
        """For the records of ``role`` (e.g. the debtor) before ``ts``: the last one that reached
        the person (or ``None``) and every record after it, in time order."""
        idx = self._by_role.get(role)
        if not idx:
            return None, []
        n = bisect_left(self._role_epoch[role], ts.timestamp())
        succ = self._role_success.get(role, [])
        k = bisect_left(succ, n) - 1
        recs = self.records
        if k >= 0:
            pos = succ[k]
            return recs[idx[pos]], [recs[i] for i in idx[pos + 1:n]]
        return None, [recs[i] for i in idx[:n]]

    def last_before(self, ts: datetime) -> ContactRecord | None:
        n = bisect_left(self._epoch, ts.timestamp())
        return self.records[n - 1] if n else None


def ordinal_start(ordinal: int, zone: ZoneInfo) -> datetime:
    """Local midnight starting day ``ordinal`` in ``zone`` (aware; DST-safe)."""
    d = date.fromordinal(ordinal)
    return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(zone)


def next_local_midnight(ts: datetime, zone: ZoneInfo) -> datetime:
    """The next local midnight after ``ts`` in ``zone``."""
    d = ts.astimezone(zone).date() + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=zone)
