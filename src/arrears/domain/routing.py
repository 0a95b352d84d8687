"""Daily field routes: the problem and the answer as plain data (no solver, no graph, no clock).

A team's day is a vehicle routing problem with time windows: each **crew** (one agent, or two for
two-person visits) leaves the team's base at the start of the shift and is back by its end; each
**stop** (a visit) has a window in which the visit may start (minutes after local midnight, inside
the hours the compliance gate allows) and a service time (the visit's expected duration). The
solver (:mod:`arrears.adapters.routing`) may leave a stop out; every stop left out gets a
reason.

Times are whole minutes after local midnight of the visit day; distances whole metres.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Stop", "Crew", "TeamDay", "PlannedStop", "CrewRoute", "Unassigned", "TeamPlan", "prechecks",
           "REASONS", "minutes", "hhmm"]

#: why a stop is left out (code → English; the UI translates the Chinese twin)
REASONS = {
    "no_location": "the address has no coordinates",
    "no_crew": "the team has no crew on duty that day",
    "window_closed": "no time left in the allowed visit hours within the shift",
    "crew_too_small": "the visit needs more staff than the team's crews have",
    "unreachable": "cannot be reached and served within the shift",
    "capacity": "not enough crew time that day (lower priority visits are left out first)",
}


def minutes(h: int, m: int = 0) -> int:
    return h * 60 + m


def hhmm(mins: int) -> str:
    return f"{mins // 60:02d}:{mins % 60:02d}"


@dataclass(frozen=True)
class Stop:
    """One visit to route. ``lat``/``lon`` WGS84 (``None`` = not geocoded); ``tw_early``/``tw_late``
    the window for the start of the visit; ``service`` its expected minutes; ``priority`` ≥ 0 (the
    strategy's); ``staff`` the crew size it needs."""

    visit_id: int
    lat: float | None
    lon: float | None
    tw_early: int
    tw_late: int
    service: int
    priority: int = 0
    staff: int = 2
    district: str = ""


@dataclass(frozen=True)
class Crew:
    """A crew on duty: its members (user ids, first the lead), shift in minutes after midnight."""

    key: str
    members: tuple[int, ...]
    shift_start: int
    shift_end: int


@dataclass(frozen=True)
class TeamDay:
    """The routing problem of one team on one day: its base (WGS84), crews and stops."""

    team_id: int
    base_lat: float
    base_lon: float
    crews: tuple[Crew, ...]
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class PlannedStop:
    visit_id: int
    order: int
    arrival: int
    start: int
    travel_from_previous: int


@dataclass(frozen=True)
class CrewRoute:
    crew: Crew
    stops: tuple[PlannedStop, ...]
    travel_minutes: int
    start: int
    end: int


@dataclass(frozen=True)
class Unassigned:
    visit_id: int
    reason: str


@dataclass
class TeamPlan:
    team_id: int
    routes: list[CrewRoute] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)
    travel_minutes: int = 0
    cost: int = 0
    solve_seconds: float = 0.0
    feasible: bool = True


def prechecks(day: TeamDay) -> tuple[list[Stop], list[Unassigned]]:
    """Split the stops into routable ones and those left out before solving (with reasons):
    no coordinates, no crew, a crew too small, or a window that does not fit any crew's shift."""
    ok: list[Stop] = []
    out: list[Unassigned] = []
    biggest = max((len(c.members) for c in day.crews), default=0)
    for s in day.stops:
        if s.lat is None or s.lon is None:
            out.append(Unassigned(s.visit_id, "no_location"))
        elif not day.crews:
            out.append(Unassigned(s.visit_id, "no_crew"))
        elif s.staff > biggest:
            out.append(Unassigned(s.visit_id, "crew_too_small"))
        elif s.tw_late < s.tw_early or not any(
                max(s.tw_early, c.shift_start) + s.service <= c.shift_end and s.tw_late >= c.shift_start
                for c in day.crews):
            out.append(Unassigned(s.visit_id, "window_closed"))
        else:
            ok.append(s)
    return ok, out
