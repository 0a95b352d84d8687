"""``arrears bench routes --teams 25 --visits 500 [--seconds 60] [--json]``: the route solver on a
synthetic but realistic day — no database, no clock-dependent data.

Teams: 60 % work Futian (their visits at real street-graph nodes, so travel comes from shortest
paths on the OSM graph), the rest other districts (distance × detour factor). Each team has two
crews of two (the CN-FIELD-02 two-person policy), shift 09:00–18:00; each visit 30–60 minutes with
an all-day, morning (09–12) or afternoon (14–18) window and a priority 0–5. The whole run, travel
matrices included, gets ``--seconds`` (wall clock); it reports the objective (travel minutes +
prizes of visits left out), visits routed and left out, and the seconds used.
"""
from __future__ import annotations

import random
import time

from arrears.domain.routing import Crew, Stop, TeamDay
from arrears.adapters.geo import TravelModel, district_centroid, futian_graph
from arrears.adapters.routing import solve_days

OTHER = ("南山区", "罗湖区", "宝安区", "龙华区", "龙岗区")


def synthetic_days(teams: int, visits: int, seed: int = 7) -> list[TeamDay]:
    rnd = random.Random(seed)
    _, lats, lons, _ = futian_graph()
    out = []
    per = [visits // teams + (1 if i < visits % teams else 0) for i in range(teams)]
    vid = 0
    for t in range(teams):
        futian = t < round(teams * 0.6)
        base = district_centroid("福田区") if futian else district_centroid(OTHER[t % len(OTHER)])
        crews = tuple(Crew(f"t{t}c{c}", (t * 10 + 2 * c, t * 10 + 2 * c + 1), 540, 1080) for c in range(2))
        stops = []
        for _ in range(per[t]):
            vid += 1
            if futian:
                k = rnd.randrange(len(lats))
                lat, lon = float(lats[k]) + rnd.uniform(-3e-4, 3e-4), float(lons[k]) + rnd.uniform(-3e-4, 3e-4)
            else:
                lat, lon = base[0] + rnd.uniform(-0.03, 0.03), base[1] + rnd.uniform(-0.03, 0.03)
            w = rnd.random()
            early, late = (540, 1020) if w < 0.6 else ((540, 690) if w < 0.8 else (840, 1020))
            stops.append(Stop(vid, lat, lon, early, late, rnd.choice((30, 40, 45, 60)), rnd.randrange(6), 2))
        out.append(TeamDay(t, base[0], base[1], crews, tuple(stops)))
    return out


def bench_routes(teams: int = 25, visits: int = 500, seconds: float = 60.0, seed: int = 7) -> dict:
    days = synthetic_days(teams, visits, seed)
    t0 = time.perf_counter()
    travel = TravelModel()
    # the whole budget (matrices included); a 5 % margin for writing the answer
    plans = solve_days(days, budget_seconds=seconds * 0.95, until_budget=True, travel=travel)
    wall = time.perf_counter() - t0
    return {
        "teams": teams, "visits": visits, "budget_s": seconds, "wall_s": round(wall, 2),
        "within_budget": wall <= seconds,
        "solve_s": round(sum(p.solve_seconds for p in plans), 2),
        "cost": sum(p.cost for p in plans),
        "travel_minutes": sum(p.travel_minutes for p in plans),
        "routed": sum(len(r.stops) for p in plans for r in p.routes),
        "unassigned": sum(len(p.unassigned) for p in plans),
        "unassigned_reasons": _count(u.reason for p in plans for u in p.unassigned),
        "feasible": all(p.feasible for p in plans),
        "graph_pairs": travel.graph_pairs, "detour_pairs": travel.fallback_pairs,
    }


def _count(items) -> dict:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out
