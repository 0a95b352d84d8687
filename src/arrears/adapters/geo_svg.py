"""An SVG map of field routes drawn from Shenzhen's district polygons — no map tiles, no internet.

Equirectangular projection around the routes' latitude (fine at city scale); the view is the
routes' bounding box with a margin (the whole city when there are no routes). Each crew's route is
a polyline in its own colour with numbered stops. The output is a standalone ``<svg>`` element;
district names are the only text besides the stop numbers (no addresses).
"""
from __future__ import annotations

import math
from html import escape

from .geo import district_shapes

__all__ = ["render_routes", "COLOURS"]

COLOURS = ("#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65", "#a04000", "#2e4053")
WIDTH = 640


def _bbox(points):
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return min(lats), max(lats), min(lons), max(lons)


def render_routes(routes: list[list[tuple[tuple[float, float], str]]], base: tuple[float, float] | None = None) -> str:
    """``routes``: per crew, its ordered stops as ``((lat, lon), label)``; ``base``: the team's start."""
    pts = [p for r in routes for p, _ in r] + ([base] if base else [])
    if pts:
        s, n, w, e = _bbox(pts)
        pad_lat, pad_lon = max((n - s) * 0.15, 0.004), max((e - w) * 0.15, 0.004)
        s, n, w, e = s - pad_lat, n + pad_lat, w - pad_lon, e + pad_lon
    else:
        s, n, w, e = 22.43, 22.87, 113.75, 114.63
    k = math.cos(math.radians((s + n) / 2))
    span_x, span_y = (e - w) * k, (n - s)
    height = max(120, int(WIDTH * span_y / span_x))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round((lon - w) * k / span_x * WIDTH, 1), round((n - lat) / span_y * height, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="routemap" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-label="route map">',
             f'<rect width="{WIDTH}" height="{height}" fill="#eef3f7"/>']
    tol = max(span_y, 0.0005) / 400
    from shapely.geometry import box

    view = box(w, s, e, n)
    for name, geom in district_shapes():
        if not geom.intersects(view):
            continue
        g = geom.intersection(view).simplify(tol, preserve_topology=True)
        polys = [g] if g.geom_type == "Polygon" else [p for p in getattr(g, "geoms", []) if p.geom_type == "Polygon"]
        for poly in polys:
            d = "M" + " L".join(f"{x},{y}" for x, y in (xy(lat, lon) for lon, lat in poly.exterior.coords)) + " Z"
            parts.append(f'<path d="{d}" fill="#fbfaf5" stroke="#9aa5b1" stroke-width="1"/>')
        c = g.representative_point()
        cx, cy = xy(c.y, c.x)
        parts.append(f'<text x="{cx}" y="{cy}" font-size="12" fill="#7b8794" text-anchor="middle">{escape(name)}</text>')
    for i, route in enumerate(routes):
        colour = COLOURS[i % len(COLOURS)]
        line = ([xy(*base)] if base else []) + [xy(*p) for p, _ in route] + ([xy(*base)] if base else [])
        if len(line) > 1:
            parts.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in line)}" fill="none" '
                         f'stroke="{colour}" stroke-width="2.5" stroke-linejoin="round" opacity="0.85"/>')
        for p, label in route:
            x, y = xy(*p)
            parts.append(f'<circle cx="{x}" cy="{y}" r="8" fill="{colour}"/>'
                         f'<text x="{x}" y="{y + 4}" font-size="10" fill="#fff" text-anchor="middle">{escape(label)}</text>')
    if base:
        x, y = xy(*base)
        parts.append(f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="#1f2933"/>')
    parts.append("</svg>")
    return "".join(parts)
