"""风险一张图: the county's enterprises on one map, coloured 红橙黄蓝 by their current risk, with offline
devices marked, each a link to its enterprise's view (``/desk/enterprises/{id}``); an SVG drawn on the server from the registry's
coordinates, so it needs no map tiles and no internet.

The shaded region is the convex hull of the enterprises' coordinates widened by a margin: where the county's
monitored enterprises are, not its administrative boundary (no boundary file is shipped). Positions
use an equirectangular projection scaled by cos(latitude), true enough across one county.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from hazmon.registry.models import EnterpriseInfo

WIDTH, HEIGHT, MARGIN = 900.0, 600.0, 70.0
LEGEND_W = 130.0        # the legend's column at the right
OUTLINE_PAD = 55.0      # the outline's distance from the outermost enterprises
MAX_SCALE = 40_000.0    # pixels per degree at most: two neighbours alone are not drawn a county apart
FILL = {"red": "#cf1322", "orange": "#fa8c16", "yellow": "#fadb14", "blue": "#1677ff", "none": "#52c41a"}
WORDS = {"zh": {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝", "none": "无报警", "offline": "设备离线",
                "alarms": "条报警", "outline": "浅色区域为已登记企业的分布范围，非行政边界"},
         "en": {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue", "none": "no alarm",
                "offline": "devices offline", "alarms": "alarms", "outline": "shaded: where registered enterprises are, not the boundary"}}


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


def county_map_svg(enterprises: list[EnterpriseInfo], risk_of: Callable[[str], EnterpriseRisk], language: str) -> str:
    """The map of ``enterprises`` (those the officer may see) as one SVG element."""
    words = WORDS[language]
    info = {e.id: e for e in enterprises}
    places = [(e.id, e.lon, e.lat) for e in sorted(enterprises, key=lambda e: e.id)]
    if not places:
        return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}"></svg>'
    mid_lat = sum(lat for _, _, lat in places) / len(places)
    squeeze = math.cos(math.radians(mid_lat))
    xs = [lon * squeeze for _, lon, _ in places]
    ys = [lat for _, _, lat in places]
    area_w, area_h = WIDTH - 2 * MARGIN - LEGEND_W, HEIGHT - 2 * MARGIN
    scale = min(area_w / max(max(xs) - min(xs), 1e-6), area_h / max(max(ys) - min(ys), 1e-6), MAX_SCALE)
    left = MARGIN + (area_w - (max(xs) - min(xs)) * scale) / 2         # the enterprises centred in the area
    bottom = HEIGHT - MARGIN - (area_h - (max(ys) - min(ys)) * scale) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon * squeeze - min(xs)) * scale, bottom - (lat - min(ys)) * scale

    spots = {e: at(lon, lat) for e, lon, lat in places}
    ring = _hull(list(spots.values()))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" role="img" id="county-map">',
             f'<rect width="{WIDTH:.0f}" height="{HEIGHT:.0f}" fill="#f7f9fc"/>']
    if ring:   # the hull drawn with a wide round stroke of its own colour: the region within OUTLINE_PAD of it
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
        parts.append(f'<polygon fill="#e3eaf5" stroke="#e3eaf5" stroke-width="{2 * OUTLINE_PAD:.0f}" '
                     f'stroke-linejoin="round" stroke-linecap="round" points="{points}"/>')
    labels: list[tuple[float, float]] = []
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
        below = y + 34
        crowded = any(abs(lx - x) < 150 and abs(ly - below) < 18 for lx, ly in labels)
        label_y = y - 22 if crowded else below      # a close neighbour's name is below: this one above
        labels.append((x, label_y))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="13" fill="{FILL[risk.color]}" stroke="#fff" stroke-width="2"/>'
                     f'<text x="{x:.1f}" y="{label_y:.1f}" text-anchor="middle" font-size="14">{escape(name)}</text>'
                     '</a>')
    legend_x, legend_y = WIDTH - LEGEND_W + 14, 30.0
    for color in ("red", "orange", "yellow", "blue", "none"):
        parts.append(f'<circle cx="{legend_x:.0f}" cy="{legend_y:.0f}" r="8" fill="{FILL[color]}"/>'
                     f'<text x="{legend_x + 16:.0f}" y="{legend_y + 5:.0f}" font-size="13">{words[color]}</text>')
        legend_y += 22
    parts.append(f'<circle cx="{legend_x:.0f}" cy="{legend_y:.0f}" r="10" fill="none" stroke="#595959" stroke-width="3" '
                 f'stroke-dasharray="4 3"/><text x="{legend_x + 16:.0f}" y="{legend_y + 5:.0f}" font-size="13">'
                 f'{words["offline"]}</text><text x="{WIDTH - 12:.0f}" y="{HEIGHT - 12:.0f}" text-anchor="end" '
                 f'font-size="11" fill="#8c8c8c">{words["outline"]}</text></svg>')
    return "".join(parts)
