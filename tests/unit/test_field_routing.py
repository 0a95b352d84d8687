"""Routing on the real Futian street graph (OSM, shipped in arrears/data) with PyVRP."""
from __future__ import annotations

import networkx as nx

from arrears.domain.fieldwork import haversine_m
from arrears.domain.routing import Crew, Stop, TeamDay, prechecks
from arrears.adapters.geo import DETOUR_FACTOR, URBAN_KMH, TravelModel, district_of, futian_graph
from arrears.adapters.geo_svg import render_routes
from arrears.adapters.routing import solve_team_day

# two real intersections of the graph (nodes 278659481 and 352965781 of the OSM extract)
JINGTIAN = (22.5444302, 114.0397861)
SOUTH = (22.5273745, 114.0385653)
NANSHAN = (22.5300, 113.9300)


def test_graph_is_the_futian_extract_and_strongly_connected():
    g, lats, lons, ids = futian_graph()
    assert g.number_of_nodes() == 1751 and len(ids) == 1751
    assert nx.is_strongly_connected(g)
    assert all(district_of(float(a), float(o)) == "福田区" for a, o in list(zip(lats, lons))[:50])
    assert district_of(*NANSHAN) == "南山区"


def test_futian_travel_time_is_the_shortest_path_on_the_graph():
    tm = TravelModel()
    mins, _ = tm.matrix([JINGTIAN, SOUTH])
    g = futian_graph()[0]
    sec = nx.shortest_path_length(g, "278659481", "352965781", weight="t")
    assert mins[0][1] == max(1, -(-int(sec + 0.999) // 60)) or abs(mins[0][1] - sec / 60) <= 1
    # a street path is never shorter than the straight line at the fastest speed
    assert mins[0][1] * 60 >= haversine_m(*JINGTIAN, *SOUTH) / (45 / 3.6)
    assert tm.graph_pairs == 2 and tm.fallback_pairs == 0


def test_outside_futian_uses_distance_times_detour():
    tm = TravelModel()
    mins, _ = tm.matrix([JINGTIAN, NANSHAN])
    expected = haversine_m(*JINGTIAN, *NANSHAN) * DETOUR_FACTOR / (URBAN_KMH / 3.6) / 60
    assert abs(mins[0][1] - expected) <= 1
    assert tm.fallback_pairs == 2


def _stops():
    g, lats, lons, ids = futian_graph()
    picks = [0, 150, 300, 450, 600, 750, 900, 1050, 1200, 1350]
    out = [Stop(i + 1, float(lats[k]), float(lons[k]), 540, 1020, 40, priority=i % 3, staff=2)
           for i, k in enumerate(picks)]
    out.append(Stop(50, float(lats[5]), float(lons[5]), 840, 900, 30, staff=2))  # afternoon window only
    return out


def test_team_day_is_routed_within_windows_and_shift():
    crews = (Crew("a", (1, 2), 540, 1080), Crew("b", (3, 4), 540, 1080))
    day = TeamDay(1, 22.535, 114.02, crews, tuple(_stops()) + (Stop(99, None, None, 540, 1020, 40),
                                                                Stop(98, 22.54, 114.03, 540, 1020, 40, staff=3)))
    plan = solve_team_day(day, seconds=2)
    served = {s.visit_id: s for r in plan.routes for s in r.stops}
    assert set(served) == {s.visit_id for s in _stops()}
    assert {(u.visit_id, u.reason) for u in plan.unassigned} == {(99, "no_location"), (98, "crew_too_small")}
    assert 840 <= served[50].start <= 900
    for r in plan.routes:
        assert r.start >= 540 and r.end <= 1080
        assert [s.order for s in r.stops] == list(range(1, len(r.stops) + 1))
        starts = [s.start for s in r.stops]
        assert starts == sorted(starts)
    assert plan.travel_minutes == sum(r.travel_minutes for r in plan.routes) > 0


def test_overfull_day_leaves_out_low_priority_visits_with_a_reason():
    g, lats, lons, ids = futian_graph()
    stops = tuple(Stop(i + 1, float(lats[i * 80]), float(lons[i * 80]), 540, 1020, 120, priority=5 if i < 3 else 0)
                  for i in range(8))
    plan = solve_team_day(TeamDay(1, 22.535, 114.02, (Crew("a", (1, 2), 540, 1080),), stops), seconds=2)
    served = {s.visit_id for r in plan.routes for s in r.stops}
    assert {1, 2, 3} <= served and len(served) <= 4
    assert all(u.reason == "capacity" for u in plan.unassigned) and len(plan.unassigned) == 8 - len(served)


def test_prechecks_closed_window():
    day = TeamDay(1, 22.5, 114.0, (Crew("a", (1,), 540, 600),), (Stop(1, 22.5, 114.0, 700, 800, 30, staff=1),))
    ok, out = prechecks(day)
    assert not ok and out[0].reason == "window_closed"


def test_svg_map_draws_districts_and_routes_without_tiles():
    svg = render_routes([[(JINGTIAN, "1"), (SOUTH, "2")]], base=(22.535, 114.02))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "福田区" in svg and "<polyline" in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
