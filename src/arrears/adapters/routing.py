"""Solve a team's day of field visits with PyVRP (VRP with time windows, service times, shift limits).

:func:`solve_team_day` turns a :class:`~arrears.domain.routing.TeamDay` into a PyVRP model:

* one depot at the team's base; one vehicle type per crew (start and end at the base, its shift
  as the time window and ``shift_duration``);
* one *optional* client per visit with its start window, service time (expected duration) and a
  prize of ``BASE_PRIZE + PRIORITY_PRIZE × priority`` minutes, so the solver serves every visit it
  can fit and drops low-priority ones first when the crews' time runs out;
* edges from :class:`~arrears.adapters.geo.TravelModel` (street graph in Futian, distance ×
  detour elsewhere); the cost minimised is total travel minutes plus the prizes of dropped visits.

Times are whole minutes after local midnight. :func:`solve_days` shares one time budget among
several teams in proportion to their visits.
"""
from __future__ import annotations

import time as _time

from pyvrp import Model
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from arrears.domain.routing import CrewRoute, PlannedStop, Stop, TeamDay, TeamPlan, Unassigned, prechecks

from .geo import TravelModel

__all__ = ["solve_team_day", "solve_days", "BASE_PRIZE", "PRIORITY_PRIZE"]

BASE_PRIZE = 1_000
PRIORITY_PRIZE = 100
#: stop early when this many iterations bring nothing (a small day converges in well under a second)
NO_IMPROVEMENT_ITERATIONS = 4_000


def _prize(s: Stop) -> int:
    return BASE_PRIZE + PRIORITY_PRIZE * max(0, int(s.priority))


def solve_team_day(day: TeamDay, travel: TravelModel | None = None, *, seconds: float = 5.0, seed: int = 1,
                   until_budget: bool = False) -> TeamPlan:
    """Plan one team's day. ``seconds``: the solver's time limit; unless ``until_budget`` it also
    stops after :data:`NO_IMPROVEMENT_ITERATIONS` iterations without improvement. Returns the
    routes (ordered stops with arrival and start minutes), the stops left out with reasons, total
    travel minutes, the objective and the solve seconds."""
    travel = travel or TravelModel()
    plan = TeamPlan(team_id=day.team_id)
    stops, plan.unassigned = prechecks(day)
    crews = [c for c in day.crews if len(c.members) >= max((s.staff for s in stops), default=1)]
    if not stops:
        return plan
    points = [(day.base_lat, day.base_lon)] + [(s.lat, s.lon) for s in stops]
    mins, _ = travel.matrix(points)  # type: ignore[arg-type]

    m = Model()
    locs = [m.add_location(x=lon * 1e4, y=lat * 1e4) for lat, lon in points]
    early = min(c.shift_start for c in crews)
    late = max(c.shift_end for c in crews)
    depot = m.add_depot(locs[0], tw_early=early, tw_late=late)
    for c in crews:
        m.add_vehicle_type(num_available=1, start_depot=depot, end_depot=depot, tw_early=c.shift_start,
                           tw_late=c.shift_end, shift_duration=c.shift_end - c.shift_start, unit_distance_cost=1,
                           name=c.key)
    for i, s in enumerate(stops, start=1):
        m.add_client(locs[i], service_duration=s.service, tw_early=s.tw_early, tw_late=s.tw_late, required=False,
                     prize=_prize(s), name=str(s.visit_id))
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                m.add_edge(a, b, distance=mins[i][j], duration=mins[i][j])
    stop = MaxRuntime(seconds) if until_budget else MultipleCriteria(
        [MaxRuntime(seconds), NoImprovement(NO_IMPROVEMENT_ITERATIONS)])
    t0 = _time.perf_counter()
    result = m.solve(stop, seed=seed, display=False, collect_stats=False)
    plan.solve_seconds = round(_time.perf_counter() - t0, 3)
    best = result.best
    plan.feasible = bool(best.is_feasible())
    plan.cost = int(result.cost()) if plan.feasible else int(best.distance_cost() + best.uncollected_prizes())
    served: set[int] = set()
    for route in best.routes():
        crew = crews[route.vehicle_type()]
        if route.time_warp() > 0:  # infeasible route: leave its stops out rather than promise them
            continue
        planned, prev, order = [], 0, 0
        for act in route.schedule():
            if not act.is_client():
                continue
            k = act.idx + 1  # location index (0 = base)
            order += 1
            s = stops[k - 1]
            planned.append(PlannedStop(visit_id=s.visit_id, order=order, arrival=int(act.start_time - act.wait_duration),
                                       start=int(act.start_time), travel_from_previous=mins[prev][k]))
            served.add(s.visit_id)
            prev = k
        travel_m = int(route.distance())
        plan.routes.append(CrewRoute(crew=crew, stops=tuple(planned), travel_minutes=travel_m,
                                     start=int(route.start_time()), end=int(route.end_time())))
        plan.travel_minutes += travel_m
    for k, s in enumerate(stops, start=1):
        if s.visit_id in served:
            continue
        alone = any(max(s.tw_early, c.shift_start + mins[0][k]) <= s.tw_late
                    and max(s.tw_early, c.shift_start + mins[0][k]) + s.service + mins[k][0] <= c.shift_end
                    for c in crews)
        plan.unassigned.append(Unassigned(s.visit_id, "capacity" if alone else "unreachable"))
    return plan


def solve_days(days: list[TeamDay], *, budget_seconds: float, seed: int = 1, until_budget: bool = False,
               travel: TravelModel | None = None) -> list[TeamPlan]:
    """Plan several team-days within ``budget_seconds`` in all (matrix building included): each
    team gets a share of the time left in proportion to its stops."""
    travel = travel or TravelModel()
    t0 = _time.perf_counter()
    total = sum(len(d.stops) for d in days) or 1
    left_stops = total
    plans = []
    for d in days:
        elapsed = _time.perf_counter() - t0
        remaining = max(0.05, budget_seconds - elapsed)
        share = max(0.05, remaining * len(d.stops) / max(1, left_stops))
        plans.append(solve_team_day(d, travel, seconds=share, seed=seed, until_budget=until_budget))
        left_stops -= len(d.stops)
    return plans
