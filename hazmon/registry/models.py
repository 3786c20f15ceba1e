"""Pydantic models of one enterprise's registry file (data standard §7).

Unknown keys are refused (a misspelt ``hihg`` would otherwise silently drop a limit); every
cross-reference (a point's site, a type's required limits) is checked here so that a file that
loads is a file the rules can use.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class SiteKind(StrEnum):
    MAJOR_HAZARD = "major_hazard"
    TAILINGS_POND = "tailings_pond"
    FIRE_UNIT = "fire_unit"


class PointType(StrEnum):
    TANK_LEVEL = "tank_level"
    TEMPERATURE = "temperature"
    PRESSURE = "pressure"
    COMBUSTIBLE_GAS = "combustible_gas"
    TOXIC_GAS = "toxic_gas"
    WATER_LEVEL = "water_level"
    DRY_BEACH_LENGTH = "dry_beach_length"
    PHREATIC_DEPTH = "phreatic_depth"
    DISPLACEMENT = "displacement"
    RAINFALL = "rainfall"
    HYDRANT_PRESSURE = "hydrant_pressure"
    SPRINKLER_PRESSURE = "sprinkler_pressure"
    WATER_TANK_LEVEL = "water_tank_level"
    RESIDUAL_CURRENT = "residual_current"
    CABLE_TEMPERATURE = "cable_temperature"
    FIRE_DETECTOR = "fire_detector"


# §7: the unit of each type, as officers read it, and the type's name (zh, en) where a point has none of its own
POINT_UNITS: dict[PointType, str] = {
    PointType.TANK_LEVEL: "m", PointType.TEMPERATURE: "°C", PointType.PRESSURE: "MPa",
    PointType.COMBUSTIBLE_GAS: "%LEL", PointType.TOXIC_GAS: "ppm", PointType.WATER_LEVEL: "m",
    PointType.DRY_BEACH_LENGTH: "m", PointType.PHREATIC_DEPTH: "m", PointType.DISPLACEMENT: "mm",
    PointType.RAINFALL: "mm", PointType.HYDRANT_PRESSURE: "MPa", PointType.SPRINKLER_PRESSURE: "MPa",
    PointType.WATER_TANK_LEVEL: "m", PointType.RESIDUAL_CURRENT: "mA", PointType.CABLE_TEMPERATURE: "°C",
    PointType.FIRE_DETECTOR: "",
}
SITE_KIND_NAMES: dict[SiteKind, tuple[str, str]] = {   # the three domains of the county's plan (zh, en)
    SiteKind.TAILINGS_POND: ("尾矿库", "tailings pond"), SiteKind.MAJOR_HAZARD: ("重大危险源", "major hazard source"),
    SiteKind.FIRE_UNIT: ("消防", "fire safety"),
}
POINT_TYPE_NAMES: dict[PointType, tuple[str, str]] = {
    PointType.TANK_LEVEL: ("储罐液位", "tank level"), PointType.TEMPERATURE: ("温度", "temperature"),
    PointType.PRESSURE: ("压力", "pressure"), PointType.COMBUSTIBLE_GAS: ("可燃气体浓度", "combustible gas"),
    PointType.TOXIC_GAS: ("有毒气体浓度", "toxic gas"), PointType.WATER_LEVEL: ("库水位", "pond water level"),
    PointType.DRY_BEACH_LENGTH: ("干滩长度", "dry beach length"), PointType.PHREATIC_DEPTH: ("浸润线埋深", "phreatic depth"),
    PointType.DISPLACEMENT: ("坝体位移", "dam displacement"), PointType.RAINFALL: ("降雨量", "rainfall"),
    PointType.HYDRANT_PRESSURE: ("消火栓管网压力", "hydrant pressure"),
    PointType.SPRINKLER_PRESSURE: ("喷淋管网压力", "sprinkler pressure"),
    PointType.WATER_TANK_LEVEL: ("消防水箱液位", "fire water tank level"),
    PointType.RESIDUAL_CURRENT: ("电气火灾剩余电流", "residual current"),
    PointType.CABLE_TEMPERATURE: ("电气线路温度", "cable temperature"), PointType.FIRE_DETECTOR: ("火灾探测器", "fire detector"),
}


class _Strict(BaseModel):
    # allow_inf_nan: a ``.nan`` limit compares false with every value (never an alarm), ``.inf`` is never reached
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EnterpriseInfo(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    town: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TailingsDesign(_Strict):
    crest_elevation: float
    flood_level: float
    min_dry_beach: float = Field(gt=0)
    min_freeboard: float = Field(ge=0)


class Site(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    kind: SiteKind
    hazard_grade: int | None = Field(default=None, ge=1, le=4)
    grade: int | None = Field(default=None, ge=1, le=5)
    design: TailingsDesign | None = None

    @model_validator(mode="after")
    def _design_only_for_ponds(self) -> Site:
        if self.design is not None and self.kind is not SiteKind.TAILINGS_POND:
            raise ValueError("design is only for kind tailings_pond")
        return self


class ColorLimits(_Strict):
    direction: Literal["above", "below"]
    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ColorLimits:
        check_color_order(self.direction, [self.blue, self.yellow, self.orange, self.red])
        return self


def check_color_order(direction: str, values: list[float | None]) -> None:
    """Colours in blue→red order must worsen in ``direction``; raises ValueError if not."""
    given = [v for v in values if v is not None]
    if not given:
        raise ValueError("colors needs at least one of blue, yellow, orange, red")
    expected = sorted(given) if direction == "above" else sorted(given, reverse=True)
    if given != expected:
        worse = "higher" if direction == "above" else "lower"
        raise ValueError(f"colors must get {worse} from blue to red for direction {direction}: {given}")


TREND_WINDOW_MIN_S = 900.0
TREND_WINDOW_PERIODS = 6


class Point(_Strict):
    id: Identifier
    site: Identifier
    device: Identifier
    type: PointType
    name: str | None = None
    range: tuple[float, float] | None = None
    high: float | None = None
    high_high: float | None = None
    low: float | None = None
    low_low: float | None = None
    colors: ColorLimits | None = None
    high_1h: float | None = Field(default=None, gt=0)
    high_24h: float | None = Field(default=None, gt=0)
    deadband: float | None = Field(default=None, ge=0)
    confirm_s: float | None = Field(default=None, gt=0, le=86400)
    period_s: float = Field(default=60, gt=0, le=86400)
    rate_per_h: float | None = Field(default=None, gt=0)
    trend_window_s: float = Field(default=TREND_WINDOW_MIN_S, gt=0, le=86400,
                                  description="§8: default the larger of 900 s and 6 × period_s")
    stuck_s: float | None = Field(default=None, gt=0)
    group: Identifier | None = None
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _default_trend_window(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("trend_window_s") is None:
            period = data.get("period_s", 60)
            if isinstance(period, int | float):
                return {**data, "trend_window_s": max(TREND_WINDOW_MIN_S, TREND_WINDOW_PERIODS * period)}
        return data

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
            raise ValueError("range must be [low, high] with low < high")
        return value

    @model_validator(mode="after")
    def _one_form_of_limits(self) -> Point:
        two_level = any(v is not None for v in (self.high, self.high_high, self.low, self.low_low))
        if two_level and self.colors is not None:
            raise ValueError("a point uses either two-level limits (high/high_high/low/low_low) or colors, not both")
        if self.high is not None and self.high_high is not None and self.high_high < self.high:
            raise ValueError("high_high must not be below high")
        if self.low is not None and self.low_low is not None and self.low_low > self.low:
            raise ValueError("low_low must not be above low")
        if (self.high_1h or self.high_24h) and self.type is not PointType.RAINFALL:
            raise ValueError("high_1h / high_24h are only for type rainfall")
        return self

    @property
    def span(self) -> float | None:
        return None if self.range is None else self.range[1] - self.range[0]


class EnterpriseFile(_Strict):
    """One registry file: an enterprise, its sites and its points."""

    enterprise: EnterpriseInfo
    sites: list[Site] = Field(min_length=1)
    points: list[Point] = Field(default_factory=list)
