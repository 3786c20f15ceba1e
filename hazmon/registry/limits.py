"""Effective limits of a point: its own values, else the type defaults of data standard §7.

The rules see every point's limits in one shape, :class:`EffectiveLimits`: an ordered tuple of
:class:`Limit` (level name, direction, threshold, severity). Severity orders levels within a
form: 一级 ``high``/``low`` = 1 and 二级 ``high_high``/``low_low`` = 2; colours blue 1 … red 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hazmon.registry.models import ColorLimits, Point, PointType, Site, check_color_order

Direction = Literal["above", "below"]
COLOR_ORDER: tuple[str, ...] = ("blue", "yellow", "orange", "red")
TWO_LEVEL: dict[str, tuple[Direction, int]] = {
    "high": ("above", 1), "high_high": ("above", 2), "low": ("below", 1), "low_low": ("below", 2),
}

# §7 "default limits where the point gives none", two-level form.
TWO_LEVEL_DEFAULTS: dict[PointType, dict[str, float]] = {
    PointType.COMBUSTIBLE_GAS: {"high": 25.0, "high_high": 50.0},
    PointType.HYDRANT_PRESSURE: {"low": 0.15, "low_low": 0.10, "high": 1.0},
    PointType.SPRINKLER_PRESSURE: {"low": 0.05, "low_low": 0.02},
    PointType.RESIDUAL_CURRENT: {"high": 300.0, "high_high": 500.0},
    PointType.CABLE_TEMPERATURE: {"high": 60.0, "high_high": 80.0},
}
# Types whose limits the registry must give (§7 "none: required").
TWO_LEVEL_REQUIRED = {PointType.TANK_LEVEL, PointType.TEMPERATURE, PointType.PRESSURE,
                      PointType.TOXIC_GAS, PointType.WATER_TANK_LEVEL}
COLOR_TYPES = {PointType.WATER_LEVEL, PointType.DRY_BEACH_LENGTH, PointType.PHREATIC_DEPTH,
               PointType.DISPLACEMENT}
RAINFALL_1H_DEFAULT_MM = 16.0    # GB/T 28592: 暴雨 is 16 mm in 1 h or 50 mm in 24 h
RAINFALL_24H_DEFAULT_MM = 50.0
DISPLACEMENT_MULTIPLES = {"orange": 0.8, "yellow": 0.6, "blue": 0.4}
DRY_BEACH_MULTIPLES = {"red": 1.0, "orange": 1.1, "yellow": 1.2, "blue": 1.3}


@dataclass(frozen=True, slots=True)
class Limit:
    level: str
    direction: Direction
    threshold: float
    severity: int

    def breached(self, value: float) -> bool:
        """True when ``value`` is beyond the limit (a value exactly on the limit is beyond it)."""
        return value >= self.threshold if self.direction == "above" else value <= self.threshold


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    form: Literal["two_level", "colors", "rainfall", "events"]
    limits: tuple[Limit, ...]
    deadband: float
    confirm_s: float
    high_1h: float | None = None
    high_24h: float | None = None


def default_confirm_s(period_s: float) -> float:
    """§7: the larger of 3 × period_s and 30 s, capped at 600 s."""
    return min(600.0, max(3.0 * period_s, 30.0))


def _color_defaults(point: Point, site: Site) -> dict[str, float]:
    design = site.design
    given = point.colors
    if point.type is PointType.WATER_LEVEL:
        if design is None:
            return {}
        return {"orange": design.flood_level, "red": design.crest_elevation - design.min_freeboard}
    if point.type is PointType.DRY_BEACH_LENGTH:
        if design is None:
            return {}
        return {name: design.min_dry_beach * k for name, k in DRY_BEACH_MULTIPLES.items()}
    if point.type is PointType.DISPLACEMENT and given is not None and given.red is not None:
        return {name: given.red * k for name, k in DISPLACEMENT_MULTIPLES.items()}
    return {}


def _colors(point: Point, site: Site) -> tuple[Limit, ...]:
    direction: Direction = "above" if point.type in (PointType.WATER_LEVEL, PointType.DISPLACEMENT) else "below"
    given = point.colors
    if given is not None and given.direction != direction:
        raise ValueError(f"colors.direction must be {direction} for type {point.type.value}")
    values = _color_defaults(point, site)
    if given is not None:
        values.update({name: getattr(given, name) for name in COLOR_ORDER if getattr(given, name) is not None})
    if point.type is PointType.DISPLACEMENT and "red" not in values:
        raise ValueError("type displacement needs colors.red (the other colours default to 0.8/0.6/0.4 of it)")
    if point.type is PointType.PHREATIC_DEPTH and "red" not in values:
        raise ValueError("type phreatic_depth needs colors with at least red (the minimum burial depth)")
    if not values:
        raise ValueError(f"type {point.type.value} needs colors, or a site design to derive them from")
    check_color_order(direction, [values.get(name) for name in COLOR_ORDER])
    return tuple(Limit(name, direction, values[name], COLOR_ORDER.index(name) + 1)
                 for name in COLOR_ORDER if name in values)


def _two_level(point: Point) -> tuple[Limit, ...]:
    values = dict(TWO_LEVEL_DEFAULTS.get(point.type, {}))
    values.update({name: getattr(point, name) for name in TWO_LEVEL if getattr(point, name) is not None})
    if not values:
        raise ValueError(f"type {point.type.value} needs limits: at least one of high, high_high, low, low_low")
    if "high" in values and "high_high" in values and values["high_high"] < values["high"]:
        raise ValueError(f"high_high {values['high_high']} is below high {values['high']} (after type defaults)")
    if "low" in values and "low_low" in values and values["low_low"] > values["low"]:
        raise ValueError(f"low_low {values['low_low']} is above low {values['low']} (after type defaults)")
    return tuple(Limit(name, TWO_LEVEL[name][0], values[name], TWO_LEVEL[name][1]) for name in TWO_LEVEL if name in values)


def effective_limits(point: Point, site: Site) -> EffectiveLimits:
    """The limits the rules apply to ``point``; raises ValueError naming what is missing."""
    span = point.span
    deadband = point.deadband if point.deadband is not None else (0.01 * span if span is not None else 0.0)
    confirm_s = point.confirm_s if point.confirm_s is not None else default_confirm_s(point.period_s)
    if point.type is PointType.FIRE_DETECTOR:
        return EffectiveLimits("events", (), deadband, confirm_s)
    if point.type is PointType.RAINFALL:
        return EffectiveLimits("rainfall", (), deadband, confirm_s,
                               high_1h=point.high_1h or RAINFALL_1H_DEFAULT_MM,
                               high_24h=point.high_24h or RAINFALL_24H_DEFAULT_MM)
    if point.type in COLOR_TYPES:
        two_level = any(getattr(point, name) is not None for name in TWO_LEVEL)
        if two_level:
            raise ValueError(f"type {point.type.value} takes colors, not two-level limits")
        return EffectiveLimits("colors", _colors(point, site), deadband, confirm_s)
    if point.colors is not None:
        return EffectiveLimits("colors", _colors_as_given(point.colors), deadband, confirm_s)
    return EffectiveLimits("two_level", _two_level(point), deadband, confirm_s)


def _colors_as_given(colors: ColorLimits) -> tuple[Limit, ...]:
    return tuple(Limit(name, colors.direction, getattr(colors, name), COLOR_ORDER.index(name) + 1)
                 for name in COLOR_ORDER if getattr(colors, name) is not None)
