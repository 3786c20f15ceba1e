"""Scenario files (YAML): behaviour injected on points over time, and the alarms that must follow.

A scenario names the enterprises it simulates (of the registry it runs on), its length, its seed,
its injections and its ground truth: ``expect`` (alarms that must be confirmed inside a window) and
``forbid`` (alarms that must not appear inside a window), in the data standard's §9 vocabulary.
Times are seconds from the scenario's start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hazmon.wire import Rule

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
Level = Literal["high", "high_high", "low", "low_low", "blue", "yellow", "orange", "red"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Timed(_Strict):
    enterprise: str
    at_s: float = Field(ge=0)


class _OnPoint(_Timed):
    point: str


class Ramp(_OnPoint):
    """From the point's last value before ``at_s``, linearly to ``to`` over ``over_s``, then held until ``until_s``."""

    kind: Literal["ramp"]
    to: float
    over_s: float = Field(gt=0)
    until_s: float | None = None


class Step(_OnPoint):
    """``value`` from ``at_s`` for ``duration_s`` (default: to the end)."""

    kind: Literal["step"]
    value: float
    duration_s: float | None = Field(default=None, gt=0)


class Spike(_OnPoint):
    """``value`` for ``duration_s``, meant to be shorter than the point's confirm time."""

    kind: Literal["spike"]
    value: float
    duration_s: float = Field(gt=0)


class Leak(_OnPoint):
    """A gas leak plume: rises linearly to ``peak`` over ``rise_s``, holds ``hold_s``, then decays with ``decay_s``."""

    kind: Literal["leak"]
    peak: float
    rise_s: float = Field(gt=0)
    hold_s: float = Field(default=0, ge=0)
    decay_s: float = Field(gt=0)


class Stuck(_OnPoint):
    """The sensor repeats one value (its value at ``at_s`` unless ``value`` is given) for ``duration_s``."""

    kind: Literal["stuck"]
    duration_s: float = Field(gt=0)
    value: float | None = None


class OutOfRange(_OnPoint):
    """A sensor fault: readings outside the registered range (by 10 % of it) for ``duration_s``."""

    kind: Literal["out_of_range"]
    side: Literal["above", "below"] = "above"
    duration_s: float = Field(gt=0)


class BadQuality(_OnPoint):
    """The device flags the point's readings ``q`` for ``duration_s``, optionally with a ``value``."""

    kind: Literal["bad_quality"]
    q: Literal["bad", "uncertain"] = "bad"
    duration_s: float = Field(gt=0)
    value: float | None = None


class Fire(_OnPoint):
    """A fire alarm controller zone reports ``fire``; ``reset`` follows after ``reset_after_s`` if given."""

    kind: Literal["fire"]
    text: str = "火警"
    reset_after_s: float | None = Field(default=None, gt=0)


class ControllerEvent(_OnPoint):
    """Another §4 event of a fire alarm controller zone: fault, disabled (屏蔽), supervisory, start,
    feedback, reset or normal."""

    kind: Literal["event"]
    event: Literal["fault", "disabled", "supervisory", "start", "feedback", "reset", "normal"]
    text: str = ""


class Flood(_Timed):
    """Heavy rain of ``mm_per_h`` on a tailings pond ``site`` for ``duration_s``; the pond responds."""

    kind: Literal["flood"]
    site: str
    mm_per_h: float = Field(gt=0)
    duration_s: float = Field(gt=0)


class _OnDevice(_Timed):
    device: str


class Offline(_OnDevice):
    """The device's connection drops abruptly (its MQTT will fires) and comes back after ``duration_s``."""

    kind: Literal["offline"]
    duration_s: float = Field(gt=0)


class ClockSkew(_OnDevice):
    """The device's clock runs ``skew_s`` ahead (positive) or behind from ``at_s`` for ``duration_s``."""

    kind: Literal["clock_skew"]
    skew_s: float
    duration_s: float | None = Field(default=None, gt=0)


class Duplicate(_OnDevice):
    """The device's first message at or after ``at_s`` is sent ``copies`` more times (same seq)."""

    kind: Literal["duplicate"]
    copies: int = Field(default=1, ge=1)


class OutOfOrder(_OnDevice):
    """The device's messages in [at_s, at_s + duration_s) are sent in reverse order."""

    kind: Literal["out_of_order"]
    duration_s: float = Field(gt=0)


class Malformed(_OnDevice):
    """``count`` malformed payloads at ``at_s``: not JSON, wrong version, readings not a list, in turn."""

    kind: Literal["malformed"]
    count: int = Field(default=3, ge=1)


class ForeignTopic(_OnDevice):
    """One message of the device published under ``as_enterprise``'s topic (the broker ACL refuses it)."""

    kind: Literal["foreign_topic"]
    as_enterprise: str


Injection = Annotated[Ramp | Step | Spike | Leak | Stuck | OutOfRange | BadQuality | Fire | ControllerEvent | Flood
                      | Offline | ClockSkew | Duplicate | OutOfOrder | Malformed | ForeignTopic, Field(discriminator="kind")]
DeviceInjection = Offline | ClockSkew | Duplicate | OutOfOrder | Malformed | ForeignTopic
VALUE_INJECTIONS = (Ramp, Step, Spike, Leak, Stuck, OutOfRange, BadQuality)
DEVICE_INJECTIONS = (Offline, ClockSkew, Duplicate, OutOfOrder, Malformed, ForeignTopic)


class ExpectedAlarm(_Strict):
    """An alarm (point, rule, level) confirmed — or, in ``forbid``, not present — within [from_s, to_s].

    ``point`` is omitted for an offline alarm, which is per ``device``; ``level`` is omitted where
    the rule has none, and in ``forbid`` it means any level.
    """

    enterprise: str
    rule: Rule
    point: str | None = None
    device: str | None = None
    level: Level | None = None
    from_s: float = Field(ge=0)
    to_s: float

    @model_validator(mode="after")
    def _window_and_subject(self) -> ExpectedAlarm:
        if self.to_s < self.from_s:
            raise ValueError("to_s must not be before from_s")
        if self.point is None and self.device is None:
            raise ValueError("an expected alarm names a point, or a device for an offline alarm")
        return self

    def window_ms(self, start_ms: int) -> tuple[int, int]:
        """The window in epoch milliseconds, for a run started at ``start_ms``."""
        return start_ms + int(self.from_s * 1000), start_ms + int(self.to_s * 1000)


class Scenario(_Strict):
    name: str
    description: str
    duration_s: float = Field(gt=0, le=30 * 86400)
    seed: int = 0
    enterprises: list[str] = Field(min_length=1)
    injections: list[Injection] = Field(default_factory=list)
    expect: list[ExpectedAlarm] = Field(default_factory=list)
    forbid: list[ExpectedAlarm] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inside_the_run(self) -> Scenario:
        for item in (*self.injections, *self.expect, *self.forbid):
            start = item.at_s if hasattr(item, "at_s") else item.from_s
            if start > self.duration_s:
                raise ValueError(f"{item!r} starts after the scenario ends ({self.duration_s} s)")
        return self


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file; pydantic's ValidationError names the field at fault."""
    return Scenario.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in ``device_sim/scenarios``."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))
