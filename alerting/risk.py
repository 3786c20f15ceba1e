"""Enterprise risk colour (红橙黄蓝) and tailings pond colour, from open alarms (data standard §8).

Pure functions of the alarms and a moment: the service evaluates them at each change's own time, so
that a replay of the log computes the same colours at the same timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hazmon.registry import SiteKind

from alerting.model import FIRST_LEVELS, SECOND_LEVELS, WARNING_RULES, Alarm

COLORS: tuple[str, ...] = ("blue", "yellow", "orange", "red")   # index = level 0..3
FIRST_LEVEL_AGE_MS = 30 * 60 * 1000
_SEVERE_SITES = frozenset({SiteKind.MAJOR_HAZARD, SiteKind.TAILINGS_POND})
_COLOR_LEVEL = {color: i for i, color in enumerate(COLORS)}

SiteKindOf = Callable[[str, str], SiteKind | None]


@dataclass(frozen=True, slots=True)
class RiskColor:
    level: int
    active_alarms: int

    @property
    def color(self) -> str:
        return COLORS[self.level]


def alarm_risk_level(alarm: Alarm, site_kind: SiteKind | None, now_ms: int) -> int:
    """What one open alarm contributes to its enterprise's colour."""
    level = alarm.level
    if alarm.rule in WARNING_RULES:
        return 1   # trend warning, fault, offline: yellow whatever limit a trend predicts
    if alarm.rule == "fire" or (level in SECOND_LEVELS and site_kind in _SEVERE_SITES):
        return 3
    if level == "orange" or level in SECOND_LEVELS:
        return 2
    if level in FIRST_LEVELS and now_ms - alarm.started_at >= FIRST_LEVEL_AGE_MS:
        return 2
    if level == "blue":
        return 0
    return 1  # yellow, first level, trend, fault, offline and any other open alarm


def _pond_level(alarm: Alarm) -> int:
    """A pond alarm's colour: its own colour, red for a second-level limit, yellow for a first-level one.

    Warnings (a trend's predicted colour, faults, offline) do not colour the pond.
    """
    level = alarm.level
    if alarm.rule in WARNING_RULES:
        return 0
    if level in _COLOR_LEVEL:
        return _COLOR_LEVEL[level]  # type: ignore[index]
    if level in SECOND_LEVELS:
        return 3
    return 1 if level in FIRST_LEVELS else 0


def enterprise_risk(alarms: Iterable[Alarm], site_kind_of: SiteKindOf, now_ms: int) -> RiskColor:
    open_alarms = [a for a in alarms if a.is_open]
    level = max((alarm_risk_level(a, site_kind_of(a.enterprise, a.site), now_ms) for a in open_alarms), default=0)
    return RiskColor(level, len(open_alarms))


def pond_colors(alarms: Iterable[Alarm], site_kind_of: SiteKindOf) -> dict[tuple[str, str], RiskColor]:
    """(enterprise, site) → colour of every tailings pond with open alarms: the worst colour among them.

    The GB 39496 roll-up itself arrives from the rule engine as ``rollup`` alarms; this takes the
    worst of those and of the pond's point alarms, as §8 says the pond's colour is.
    """
    worst: dict[tuple[str, str], list[int]] = {}
    for alarm in alarms:
        if not alarm.is_open or site_kind_of(alarm.enterprise, alarm.site) is not SiteKind.TAILINGS_POND:
            continue
        entry = worst.setdefault((alarm.enterprise, alarm.site), [0, 0])
        entry[0] = max(entry[0], _pond_level(alarm))
        entry[1] += 1
    return {key: RiskColor(level, count) for key, (level, count) in worst.items()}
