"""风险一张图: the county's enterprises on one map, coloured 红橙黄蓝 by their current risk, with offline
devices marked, each a link to its enterprise's view (``/desk/enterprises/{id}``); an SVG drawn on the server from the registry's
coordinates, so it needs no map tiles and no internet.

The shaded region is the county's administrative boundary when the registry ships one (``county.geojson``,
:mod:`hazmon.registry.boundary`), the map then spanning the whole county; without it, the convex hull of the
enterprises' coordinates widened by a margin, where the monitored enterprises are, and the map says so.
Positions use an equirectangular projection scaled by cos(latitude), true enough across one county. Spots
closer than SPOT_GAP (neighbours across a street, on a county-wide map) are drawn apart just enough for each
to be seen and clicked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from hazmon.registry.boundary import CountyBoundary
from hazmon.registry.models import EnterpriseInfo

WIDTH, HEIGHT, MARGIN = 900.0, 600.0, 70.0
LEGEND_W = 130.0        # the legend's column at the right
OUTLINE_PAD = 55.0      # the outline's distance from the outermost enterprises
MAX_SCALE = 40_000.0    # pixels per degree at most: two neighbours alone are not drawn a county apart
SPOT_GAP = 30.0         # the least distance between two enterprises' spots (radius 13, a white rim of 2)
LABEL_EM = 14.0         # a name's font size: a CJK character's width, twice a Latin one's
Box = tuple[float, float, float, float]     # left, top, right, bottom
FILL = {"red": "#cf1322", "orange": "#fa8c16", "yellow": "#fadb14", "blue": "#1677ff", "none": "#52c41a"}
WORDS = {"zh": {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝", "none": "无报警", "offline": "设备离线",
                "alarms": "条报警", "outline": "浅色区域为已登记企业的分布范围，非行政边界",
                "boundary": "浅色区域为{name}行政区域（随企业登记资料提供）", "county": "本县"},
         "en": {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue", "none": "no alarm",
                "offline": "devices offline", "alarms": "alarms", "outline": "shaded: where registered enterprises are, not the boundary",
                "boundary": "shaded: {name}, its boundary as the registry ships it", "county": "the county"}}


@dataclass(frozen=True)
class EnterpriseRisk:
    color: str            # red, orange, yellow, blue, or none when it has no open alarm
    active_alarms: int
    offline_devices: int


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull, counter-clockwise (Andrew's monotone chain)."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return unique

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _spread(spots: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """``spots`` with any two closer than SPOT_GAP pushed apart along the line between them (a few rounds)."""
    moved = {k: list(v) for k, v in spots.items()}
    keys = sorted(moved)
    for _ in range(30):
        crowded = False
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                (ax, ay), (bx, by) = moved[a], moved[b]
                dx, dy = bx - ax, by - ay
                distance = math.hypot(dx, dy)
                if distance >= SPOT_GAP - 0.01:
                    continue
                crowded = True
                ux, uy = (dx / distance, dy / distance) if distance > 1e-9 else (1.0, 0.0)
                push = (SPOT_GAP - distance) / 2
                moved[a] = [ax - ux * push, ay - uy * push]
                moved[b] = [bx + ux * push, by + uy * push]
        if not crowded:
            break
    return {k: (x, y) for k, (x, y) in moved.items()}


def _label_place(name: str, x: float, y: float, spots: list[tuple[float, float]],
                 labels: list[Box]) -> tuple[float, float, str, Box]:
    """Where a spot's name goes: below it, else above, right or left, the first place that covers no spot (each
    stays clickable) and no name placed before; below when none is free. Returns x, y, anchor and its box."""
    width = sum(LABEL_EM if ord(c) > 0x2E80 else LABEL_EM / 2 for c in name)
    places = [(x, y + 34, "middle", (x - width / 2, y + 20, x + width / 2, y + 38)),
              (x, y - 22, "middle", (x - width / 2, y - 36, x + width / 2, y - 18)),
              (x + 20, y + 5, "start", (x + 20, y - 9, x + 20 + width, y + 9)),
              (x - 20, y + 5, "end", (x - 20 - width, y - 9, x - 20, y + 9))]
    for place in places:
        left, top, right, bottom = place[3]
        if not any(left - 15 < sx < right + 15 and top - 15 < sy < bottom + 15 for sx, sy in spots) and \
                not any(left < r and lx < right and top < b and t < bottom for lx, t, r, b in labels):
            return place
    return places[0]


def county_map_svg(enterprises: list[EnterpriseInfo], risk_of: Callable[[str], EnterpriseRisk], language: str,
                   boundary: CountyBoundary | None = None) -> str:
    """The map of ``enterprises`` (those the officer may see) as one SVG element, within ``boundary`` if given."""
    words = WORDS[language]
    info = {e.id: e for e in enterprises}
    places = [(e.id, e.lon, e.lat) for e in sorted(enterprises, key=lambda e: e.id)]
    if not places and boundary is None:
        return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}"></svg>'
    extent = [(lon, lat) for _, lon, lat in places] + (list(boundary.positions()) if boundary is not None else [])
    mid_lat = (min(lat for _, lat in extent) + max(lat for _, lat in extent)) / 2
    squeeze = math.cos(math.radians(mid_lat))
    xs = [lon * squeeze for lon, _ in extent]
    ys = [lat for _, lat in extent]
    area_w, area_h = WIDTH - 2 * MARGIN - LEGEND_W, HEIGHT - 2 * MARGIN
    scale = min(area_w / max(max(xs) - min(xs), 1e-6), area_h / max(max(ys) - min(ys), 1e-6), MAX_SCALE)
    left = MARGIN + (area_w - (max(xs) - min(xs)) * scale) / 2         # the map centred in the area
    bottom = HEIGHT - MARGIN - (area_h - (max(ys) - min(ys)) * scale) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon * squeeze - min(xs)) * scale, bottom - (lat - min(ys)) * scale

    spots = _spread({e: at(lon, lat) for e, lon, lat in places})
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" role="img" id="county-map">',
             f'<rect width="{WIDTH:.0f}" height="{HEIGHT:.0f}" fill="#f7f9fc"/>']
    if boundary is not None:   # one path of every polygon's rings: holes left out by the even-odd rule
        outline = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (at(lon, lat) for lon, lat in ring[:-1])) + " Z"
                           for polygon in boundary.polygons for ring in polygon)
        caption = words["boundary"].format(name=boundary.name or words["county"])
        parts.append(f'<path id="county-boundary" data-name="{escape(boundary.name)}" fill="#e3eaf5" fill-rule="evenodd" '
                     f'stroke="#7d8fb3" stroke-width="2" stroke-linejoin="round" d="{outline}"/>')
    else:
        caption = words["outline"]
        ring = _hull(list(spots.values()))
        if ring:   # the hull drawn with a wide round stroke of its own colour: the region within OUTLINE_PAD of it
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
            parts.append(f'<polygon id="enterprise-hull" fill="#e3eaf5" stroke="#e3eaf5" stroke-width="{2 * OUTLINE_PAD:.0f}" '
                         f'stroke-linejoin="round" stroke-linecap="round" points="{points}"/>')
    labels: list[Box] = []
    for enterprise, (x, y) in spots.items():
        name = info[enterprise].name
        risk = risk_of(enterprise)
        label = f"{name}：{risk.active_alarms} {words['alarms']}" if language == "zh" else \
            f"{name}: {risk.active_alarms} {words['alarms']}"
        parts.append(f'<a href="/desk/enterprises/{escape(enterprise)}" class="enterprise" data-enterprise="{escape(enterprise)}"'
                     f' data-color="{risk.color}" data-offline="{risk.offline_devices}"><title>{escape(label)}</title>')
        if risk.offline_devices:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="19" fill="none" stroke="#595959" stroke-width="3" '
                         f'stroke-dasharray="4 3"/>')
        text_x, text_y, anchor, box = _label_place(name, x, y, [*spots.values()], labels)
        labels.append(box)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="13" fill="{FILL[risk.color]}" stroke="#fff" stroke-width="2"/>'
                     f'<text x="{text_x:.1f}" y="{text_y:.1f}" text-anchor="{anchor}" font-size="14">{escape(name)}</text>'
                     '</a>')
    legend_x, legend_y = WIDTH - LEGEND_W + 14, 30.0
    for color in ("red", "orange", "yellow", "blue", "none"):
        parts.append(f'<circle cx="{legend_x:.0f}" cy="{legend_y:.0f}" r="8" fill="{FILL[color]}"/>'
                     f'<text x="{legend_x + 16:.0f}" y="{legend_y + 5:.0f}" font-size="13">{words[color]}</text>')
        legend_y += 22
    parts.append(f'<circle cx="{legend_x:.0f}" cy="{legend_y:.0f}" r="10" fill="none" stroke="#595959" stroke-width="3" '
                 f'stroke-dasharray="4 3"/><text x="{legend_x + 16:.0f}" y="{legend_y + 5:.0f}" font-size="13">'
                 f'{words["offline"]}</text><text x="{WIDTH - 12:.0f}" y="{HEIGHT - 12:.0f}" text-anchor="end" '
                 f'font-size="11" fill="#8c8c8c" id="map-caption">{escape(caption)}</text></svg>')
    return "".join(parts)
