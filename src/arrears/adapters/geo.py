"""Geography for field visits: Shenzhen's districts, the Futian street graph and travel times.

Data (shipped in ``arrears/data``, see its README; nothing is fetched at run time):

* ``shenzhen_districts_wgs84.geojson`` — the 10 district polygons (BSD-3-Clause, transbigdata);
* ``shenzhen_futian_osm_network.graphml`` — the OpenStreetMap street graph of western/central
  Futian (ODbL 1.0, © OpenStreetMap contributors; 1 751 nodes, 4 009 directed edges).

Travel time between two WGS84 points (:class:`TravelModel`), in minutes:

* both points inside the Futian polygon and each within :data:`SNAP_LIMIT_M` of a graph node:
  the shortest path on the directed street graph, each edge timed at the speed of its road class
  (:data:`SPEED_KMH`, lowered to the edge's posted ``maxspeed`` if that is lower), plus the walk
  from the address to the nearest node and from the node to the next address at
  :data:`WALK_KMH`;
* otherwise: the great-circle distance × :data:`DETOUR_FACTOR` at :data:`URBAN_KMH`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import networkx as nx
import numpy as np

from arrears.domain.fieldwork import haversine_m

__all__ = ["DATA_DIR", "GRAPH_PATH", "DISTRICTS_PATH", "SPEED_KMH", "DETOUR_FACTOR", "URBAN_KMH", "WALK_KMH",
           "SNAP_LIMIT_M", "futian_graph", "districts", "district_of", "district_centroid", "TravelModel",
           "Snap"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GRAPH_PATH = DATA_DIR / "shenzhen_futian_osm_network.graphml"
DISTRICTS_PATH = DATA_DIR / "shenzhen_districts_wgs84.geojson"

#: daytime urban speeds of a field crew (car / e-scooter), km/h, by OSM ``highway`` class; paths
#: only walkable are timed at walking speed
SPEED_KMH = {
    "motorway": 45.0, "motorway_link": 30.0, "trunk": 35.0, "trunk_link": 25.0, "primary": 25.0,
    "primary_link": 20.0, "secondary": 22.0, "secondary_link": 18.0, "tertiary": 20.0, "tertiary_link": 18.0,
    "unclassified": 15.0, "residential": 15.0, "living_street": 10.0, "service": 10.0, "road": 15.0,
    "footway": 4.5, "path": 4.5, "pedestrian": 4.5, "steps": 2.0, "cycleway": 12.0, "track": 8.0,
}
DEFAULT_KMH = 15.0
WALK_KMH = 4.5
#: straight line → road distance outside the graph (urban detour factor) and the average speed
DETOUR_FACTOR = 1.4
URBAN_KMH = 22.0
#: an address farther than this from every graph node is outside the graph's coverage
SNAP_LIMIT_M = 400.0


def _kmh(data: dict) -> float:
    hw = data.get("highway", "")
    if hw.startswith("["):  # a simplified edge merging classes: "['residential', 'service']"
        hw = hw.strip("[]").split(",")[0].strip(" '\"")
    v = SPEED_KMH.get(hw, DEFAULT_KMH)
    ms = str(data.get("maxspeed", "")).strip("[]'\" ").split(",")[0].strip(" '\"")
    if ms.isdigit() and 0 < int(ms) < v:
        v = float(ms)
    return v


@lru_cache(maxsize=1)
def futian_graph() -> tuple[nx.DiGraph, np.ndarray, np.ndarray, list[str]]:
    """``(graph, lats, lons, node_ids)``: the Futian graph as a DiGraph whose edges carry ``t``
    (seconds, the fastest of parallel edges) and ``m`` (metres), with the node coordinates as arrays
    for the nearest-node search. Read once per process."""
    raw = nx.read_graphml(GRAPH_PATH)
    g = nx.DiGraph()
    for u, v, d in raw.edges(data=True):
        length = float(d.get("length", 0) or 0)
        t = length / (_kmh(d) / 3.6)
        if not g.has_edge(u, v) or g[u][v]["t"] > t:
            g.add_edge(u, v, t=t, m=length)
    ids = list(raw.nodes)
    lats = np.array([float(raw.nodes[n]["y"]) for n in ids])
    lons = np.array([float(raw.nodes[n]["x"]) for n in ids])
    return g, lats, lons, ids


@lru_cache(maxsize=1)
def districts() -> list[tuple[str, object, tuple[float, float]]]:
    """``[(name with 区 e.g. "福田区", prepared shapely geometry, (lat, lon) centroid)]``."""
    from shapely.geometry import shape
    from shapely.prepared import prep

    with DISTRICTS_PATH.open(encoding="utf-8") as f:
        fc = json.load(f)
    out = []
    for feat in fc["features"]:
        p = feat["properties"]
        name = p["qh"] if p["qh"].endswith(("区", "新区")) else p["qh"] + ("新区" if p["qh"] == "大鹏" else "区")
        out.append((name, prep(shape(feat["geometry"])), (p["centroid_y"], p["centroid_x"])))
    return out


@lru_cache(maxsize=1)
def district_shapes() -> list[tuple[str, object]]:
    """``[(name, shapely geometry)]`` for drawing."""
    from shapely.geometry import shape

    with DISTRICTS_PATH.open(encoding="utf-8") as f:
        fc = json.load(f)
    names = [d[0] for d in districts()]
    return [(names[i], shape(feat["geometry"])) for i, feat in enumerate(fc["features"])]


def district_of(lat: float, lon: float) -> str | None:
    """The Shenzhen district containing the point (``"福田区"`` …), or ``None`` outside them."""
    from shapely.geometry import Point

    pt = Point(lon, lat)
    for name, geom, _ in districts():
        if geom.contains(pt):
            return name
    return None


def district_centroid(name: str) -> tuple[float, float] | None:
    """``(lat, lon)`` of a district's centroid by name (with or without 区)."""
    key = name.removesuffix("区")
    for n, _, c in districts():
        if n.removesuffix("区") == key or n == name:
            return c
    return None


@dataclass(frozen=True)
class Snap:
    node: str | None
    distance_m: float


class TravelModel:
    """Travel minutes between WGS84 points (see the module docstring). One instance caches the
    shortest-path trees it computed, so a day's matrix costs one Dijkstra per distinct node."""

    def __init__(self, *, detour_factor: float = DETOUR_FACTOR, urban_kmh: float = URBAN_KMH,
                 snap_limit_m: float = SNAP_LIMIT_M) -> None:
        self.detour, self.kmh, self.snap_limit = detour_factor, urban_kmh, snap_limit_m
        self._trees: dict[str, dict[str, float]] = {}
        self.graph_pairs = 0
        self.fallback_pairs = 0

    def snap(self, lat: float, lon: float) -> Snap:
        """The nearest graph node of a point inside Futian (within the snap limit), else none."""
        if district_of(lat, lon) != "福田区":
            return Snap(None, math.inf)
        g, lats, lons, ids = futian_graph()
        k = math.cos(math.radians(lat))
        d2 = (lats - lat) ** 2 + ((lons - lon) * k) ** 2
        i = int(np.argmin(d2))
        dist = haversine_m(lat, lon, float(lats[i]), float(lons[i]))
        return Snap(ids[i] if dist <= self.snap_limit else None, dist)

    def _tree(self, node: str) -> dict[str, float]:
        tree = self._trees.get(node)
        if tree is None:
            tree = nx.single_source_dijkstra_path_length(futian_graph()[0], node, weight="t")
            self._trees[node] = tree
        return tree

    def fallback_seconds(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        return haversine_m(a[0], a[1], b[0], b[1]) * self.detour / (self.kmh / 3.6)

    def matrix(self, points: list[tuple[float, float]]) -> tuple[list[list[int]], list[list[int]]]:
        """``(minutes, metres)`` square matrices (row = from, column = to) of ``points``; minutes
        are rounded up (a 10-second hop still costs a minute of a plan), the diagonal 0."""
        snaps = [self.snap(lat, lon) for lat, lon in points]
        n = len(points)
        mins = [[0] * n for _ in range(n)]
        metres = [[0] * n for _ in range(n)]
        walk = WALK_KMH / 3.6
        for i in range(n):
            tree = self._tree(snaps[i].node) if snaps[i].node is not None else None
            for j in range(n):
                if i == j:
                    continue
                sec = None
                if tree is not None and snaps[j].node is not None:
                    t = tree.get(snaps[j].node)
                    if t is not None:
                        sec = t + (snaps[i].distance_m + snaps[j].distance_m) / walk
                        self.graph_pairs += 1
                if sec is None:
                    sec = self.fallback_seconds(points[i], points[j])
                    self.fallback_pairs += 1
                mins[i][j] = max(1, math.ceil(sec / 60))
                metres[i][j] = int(round(haversine_m(*points[i], *points[j]) * (1 if tree else self.detour)))
        return mins, metres
