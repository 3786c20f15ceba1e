"""Limit lines of a point, from the registry's effective limits (data standard §7).

A panel draws a point's limits as Grafana threshold steps on that point's series. Steps run upward:
the colour below the lowest "below" limit is the worst, each "below" limit passed improves it, and
each "above" limit passed worsens it. Tailings water level also gets the dam crest as a line.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Threshold

from hazmon.registry.limits import Limit
from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType

NORMAL_COLOR = "green"
CREST_COLOR = "purple"
_TWO_LEVEL_COLORS = {1: "orange", 2: "red"}


def limit_color(limit: Limit) -> str:
    """Grafana colour of a limit: its own colour for four-colour limits, orange/red for 一级/二级."""
    return limit.level if limit.level in ("blue", "yellow", "orange", "red") else _TWO_LEVEL_COLORS[limit.severity]


def threshold_steps(limits: tuple[Limit, ...]) -> list[Threshold]:
    """Grafana threshold steps whose values are exactly the limits' thresholds."""
    below = sorted((lim for lim in limits if lim.direction == "below"), key=lambda lim: lim.threshold)
    above = sorted((lim for lim in limits if lim.direction == "above"), key=lambda lim: lim.threshold)
    steps = [Threshold(value=None, color=limit_color(below[0]) if below else NORMAL_COLOR)]
    for index, limit in enumerate(below):
        better = limit_color(below[index + 1]) if index + 1 < len(below) else NORMAL_COLOR
        steps.append(Threshold(value=limit.threshold, color=better))
    steps.extend(Threshold(value=limit.threshold, color=limit_color(limit)) for limit in above)
    return steps


def point_threshold_steps(entry: PointEntry) -> list[Threshold]:
    """The limit lines of one point; for a tailings water level the dam crest is added as a line."""
    steps = threshold_steps(entry.limits.limits)
    design = entry.site.design
    if entry.point.type is PointType.WATER_LEVEL and design is not None:
        steps.append(Threshold(value=design.crest_elevation, color=CREST_COLOR))
        steps[1:] = sorted(steps[1:], key=lambda step: step.value if step.value is not None else float("-inf"))
    return steps


def rainfall_steps(threshold: float) -> list[Threshold]:
    """A rolling rainfall sum's single limit (暴雨): red from ``threshold`` up."""
    return [Threshold(value=None, color=NORMAL_COLOR), Threshold(value=threshold, color="red")]
