"""Field conditions on a generated county, with their ground truth in data standard §8 (rev. 1.1) terms.

:func:`field_county` lays out, on every enterprise of a county (``device_sim.county``), one
condition per 12 h slot, plus county-wide ones: a device clock off by ±90 s or ±4 min for the whole
run, and a 5 min broker/ingest outage once a week. For each it states the alarms that must appear
(:class:`Truth`, ``required``), and those that may (``required=False``); anything else the
platform opens is a false alarm. Noise (``device_sim.field_signals``) is everywhere and is owed
nothing. :mod:`device_sim.field_feed` turns the result into wire records.

| condition | what happens | truth |
| --- | --- | --- |
| ``beach_step`` | dry beach steps to 1.07 × its minimum for 3 h | one ``limit`` alarm at the colour reached; no trend |
| ``displacement_trend`` | a GNSS point moves 12 mm/h for 1.5 h (rate limit 2), then holds | one ``trend`` warning |
| ``gas_pinned`` | a detector pinned at full scale + 0.5 (100.5 %LEL) for 20 min | ``limit`` at its most severe level, and a ``fault`` |
| ``gas_leak`` | two detectors of a voting group (``points[:2]``) rise to 60 %LEL for 10 min, the others see 15 % of it | one ``vote`` alarm, ``point`` = the group, level ``high_high``; no member ``limit`` |
| ``dead_channel`` | one point stops reporting for 6 h, its device's others go on | one ``fault`` of that point; no ``offline`` |
| ``device_offline`` | a gateway's connection drops for 30 min (the will fires) | one ``offline`` of that device; no ``fault`` |
| ``fire`` | a fire event on a controller zone, reset after 10 min | one ``fire`` alarm at once |
| ``backfill`` | every gateway of the enterprise buffers an hour (断点续传); one uploads 3 min after its siblings | ``offline`` alarms raised (platform clock) during the silent hour may be; none later |
| clock skew | one gateway stamps its readings +90 s, −90 s, +4 min or −4 min off, all run long | nothing |
| ``outage`` | nobody's data reaches the platform for 5 min, then the backlog arrives | one ``platform`` alarm (enterprise ``platform``); no ``offline`` |
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hazmon.registry import Registry
from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType, SiteKind

from device_sim.stream import rng_for

START_MS = 1_764_000_000_000        # 2025-11-24T16:00:00Z: local (UTC+8) midnight
DAY_S = 86400.0
SLOT_S = 12 * 3600.0                # one condition per enterprise per slot, inside [1 h, 10 h] of it
OUTAGE_AT_S = 11 * 3600.0           # into the day: clear of every slot's condition
OUTAGE_S = 300.0
OUTAGE_EVERY_DAYS = 7
SKEWS_S = (90.0, -90.0, 240.0, -240.0)
PLATFORM = "platform"               # §9: the platform's own alarm has enterprise and rule "platform"

BEACH_STEP_FACTOR = 1.07            # × min_dry_beach: between red (1.0) and orange (1.1)
BEACH_STEP_S = 3 * 3600.0
TREND_MM_PER_H = 12.0               # 6 × the county's rate_per_h (2 mm/h): beyond doubt over 1 mm GNSS noise
TREND_S = 1.5 * 3600.0
PINNED_VALUE_ABOVE = 0.5            # pinned at full scale + this
PINNED_S = 1200.0
LEAK_PEAK = 60.0                    # %LEL, beyond high_high (50)
LEAK_RISE_S, LEAK_HOLD_S, LEAK_FALL_S = 60.0, 600.0, 120.0
LEAK_OTHERS = 0.15                  # what the group's other detectors see of it
DEAD_S = 6 * 3600.0
OFFLINE_S = 1800.0
FIRE_RESET_S = 600.0
BACKFILL_S = 3600.0
BACKFILL_LATE_S = 180.0             # the last gateway starts uploading this long after its siblings
UPLOAD_SPEEDUP = 60.0               # a backlog uploads 60× faster than it was recorded

KINDS: dict[SiteKind, tuple[str, ...]] = {
    SiteKind.TAILINGS_POND: ("beach_step", "displacement_trend", "dead_channel", "device_offline"),
    SiteKind.MAJOR_HAZARD: ("gas_leak", "gas_pinned", "dead_channel", "device_offline", "backfill"),
    SiteKind.FIRE_UNIT: ("fire", "dead_channel", "device_offline", "backfill"),
}


@dataclass(frozen=True)
class Condition:
    """One field condition: ``kind`` on an enterprise's device and/or points over [start_s, end_s) of the run."""

    kind: str
    enterprise: str
    start_s: float
    end_s: float
    device: str | None = None
    points: tuple[str, ...] = ()
    value: float | None = None


@dataclass(frozen=True)
class Truth:
    """An alarm that must (``required``) or may appear: ``rule`` on a point, a device or (both None) anything
    of the enterprise, at ``level`` (None: any), first opened at a reading time in [from_ms, to_ms]
    (``by_emitted``: at a platform time, ``emitted_ms``). ``onset_ms`` is when the condition began."""

    condition: str
    enterprise: str
    rule: str
    point: str | None
    device: str | None
    level: str | None
    from_ms: int
    to_ms: int
    onset_ms: int
    required: bool = True
    by_emitted: bool = False


@dataclass
class FieldCounty:
    """A county, its field conditions and their truth; times of conditions in seconds from ``start_ms``."""

    registry: Registry
    seed: int
    days: float
    start_ms: int
    conditions: list[Condition] = field(default_factory=list)
    skews_s: dict[tuple[str, str], float] = field(default_factory=dict)
    outages: list[tuple[float, float]] = field(default_factory=list)
    water_near_flood: set[tuple[str, str]] = field(default_factory=set)
    truths: list[Truth] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.days * DAY_S

    def point_days(self) -> float:
        """Enabled points of the registry × days."""
        return sum(e.point.enabled for e in self.registry) * self.days


def telemetry_devices(registry: Registry, enterprise: str) -> list[str]:
    """Devices of the enterprise that send telemetry (a fire alarm controller sends events only)."""
    return sorted(device for device, entries in registry.devices(enterprise).items()
                  if any(e.point.type is not PointType.FIRE_DETECTOR for e in entries))


def most_severe(entry: PointEntry, direction: str) -> tuple[str, float]:
    """(level, threshold) of the point's most severe limit on ``direction``."""
    limit = max((lim for lim in entry.limits.limits if lim.direction == direction), key=lambda lim: lim.severity)
    return limit.level, limit.threshold


def level_at(entry: PointEntry, value: float) -> str:
    """The most severe level a value breaches (§8: on the limit is beyond it)."""
    beyond = [lim for lim in entry.limits.limits if lim.breached(value)]
    return max(beyond, key=lambda lim: lim.severity).level


class _Planner:
    """Chooses the conditions of one county and writes their truth."""

    def __init__(self, county: FieldCounty) -> None:
        self.county = county
        self.registry = county.registry
        self.trend_used: set[tuple[str, str]] = set()

    def ms(self, seconds: float) -> int:
        return self.county.start_ms + int(round(seconds * 1000))

    def shift_ms(self, enterprise: str, device: str) -> int:
        """Reading times of a skewed device are off by its skew."""
        return int(round(self.county.skews_s.get((enterprise, device), 0.0) * 1000))

    def truth(self, c: Condition, rule: str, *, point: str | None = None, device: str | None = None,
              level: str | None = None, to_s: float, from_s: float | None = None, required: bool = True,
              by_emitted: bool = False, skewed: bool = True) -> None:
        """Add a truth about condition ``c``; reading-time windows follow the skew of ``c.device`` (``skewed``)."""
        shift = 0 if by_emitted or not skewed or c.device is None else self.shift_ms(c.enterprise, c.device)
        start = c.start_s if from_s is None else from_s
        self.county.truths.append(Truth(c.kind, c.enterprise, rule, point, device, level, self.ms(start) + shift,
                                        self.ms(to_s) + shift, self.ms(c.start_s) + shift, required, by_emitted))

    def plan(self) -> None:
        enterprises = list(self.registry.enterprises)
        for i, enterprise in enumerate(enterprises):
            devices = telemetry_devices(self.registry, enterprise)
            if (i // 3) % 2 == 0 and devices:
                self.county.skews_s[(enterprise, devices[-1])] = SKEWS_S[(i // 6) % len(SKEWS_S)]
        for i, enterprise in enumerate(enterprises):
            self._near_flood(i, enterprise)
            rng = rng_for(self.county.seed, enterprise, "field-plan")
            kinds = KINDS[self.registry.enterprises[enterprise].sites[0].kind]
            for slot in range(int(self.county.duration_s // SLOT_S)):
                start = slot * SLOT_S + 3600.0 + float(np.round(rng.uniform(0, 3 * 3600.0)))
                for k in range(len(kinds)):
                    condition = self._condition(kinds[(slot + i + k) % len(kinds)], enterprise, start, slot)
                    if condition is not None:
                        self.county.conditions.append(condition)
                        self._truths(condition)
                        break
        first = min(2, int(np.ceil(self.county.days)) - 1)
        for day in range(first, int(np.ceil(self.county.days)), OUTAGE_EVERY_DAYS):
            start = day * DAY_S + OUTAGE_AT_S
            if start + OUTAGE_S < self.county.duration_s:
                self.county.outages.append((start, start + OUTAGE_S))
                outage = Condition("outage", PLATFORM, start, start + OUTAGE_S)
                self.county.conditions.append(outage)
                self.truth(outage, PLATFORM, from_s=start - 60.0, to_s=start + OUTAGE_S + 300.0)

    def _near_flood(self, i: int, enterprise: str) -> None:
        """Every other pond holds steady 0.2 m under its flood level (2 cm ripple) the whole run."""
        if i % 2 == 0:
            for entry in self.registry.devices(enterprise).get("GNSS1", []):
                if entry.point.type is PointType.WATER_LEVEL:
                    self.county.water_near_flood.add((enterprise, entry.id))

    def _points(self, enterprise: str, *types: PointType) -> list[PointEntry]:
        return [e for e in self.registry if e.enterprise == enterprise and e.point.type in types]

    def _condition(self, kind: str, enterprise: str, start: float, slot: int) -> Condition | None:
        skewed = {d for (e, d) in self.county.skews_s if e == enterprise}
        devices = telemetry_devices(self.registry, enterprise)
        match kind:
            case "beach_step":
                beach = self._points(enterprise, PointType.DRY_BEACH_LENGTH)
                design = beach[0].site.design if beach else None
                if design is None:
                    return None
                return Condition(kind, enterprise, start, start + BEACH_STEP_S, beach[0].point.device, (beach[0].id,),
                                 round(BEACH_STEP_FACTOR * design.min_dry_beach, 1))
            case "displacement_trend":
                free = [e for e in self._points(enterprise, PointType.DISPLACEMENT) if (enterprise, e.id) not in self.trend_used]
                if not free:
                    return None
                self.trend_used.add((enterprise, free[0].id))
                return Condition(kind, enterprise, start, start + TREND_S, free[0].point.device, (free[0].id,), TREND_MM_PER_H)
            case "gas_pinned":
                gas = self._points(enterprise, PointType.COMBUSTIBLE_GAS)
                pinned = gas[slot % len(gas)]
                return Condition(kind, enterprise, start, start + PINNED_S, pinned.point.device, (pinned.id,),
                                 pinned.point.range[1] + PINNED_VALUE_ABOVE)   # type: ignore[index]
            case "gas_leak":
                groups: dict[str, list[PointEntry]] = {}
                for entry in self._points(enterprise, PointType.COMBUSTIBLE_GAS):
                    groups.setdefault(entry.point.group or "", []).append(entry)
                voting = [members for name, members in sorted(groups.items()) if name and len(members) >= 2]
                if not voting:
                    return None
                members = voting[slot % len(voting)]
                first = slot % len(members)
                pair = (members[first], members[(first + 1) % len(members)])
                end = start + LEAK_RISE_S + LEAK_HOLD_S + LEAK_FALL_S
                others = tuple(m.id for m in members if m not in pair)
                return Condition(kind, enterprise, start, end, pair[0].point.device, (pair[0].id, pair[1].id, *others),
                                 LEAK_PEAK)
            case "dead_channel":
                candidates = [e for e in self.registry if e.enterprise == enterprise and e.point.group is None
                              and e.point.type not in (PointType.FIRE_DETECTOR, PointType.RAINFALL)
                              and len([x for x in self.registry.devices(enterprise)[e.point.device]
                                       if x.point.type is not PointType.FIRE_DETECTOR]) > 1]
                if not candidates:
                    return None
                dead = candidates[slot % len(candidates)]
                return Condition(kind, enterprise, start, start + DEAD_S, dead.point.device, (dead.id,))
            case "device_offline":
                usable = [d for d in devices if d not in skewed]
                if not usable:
                    return None
                return Condition(kind, enterprise, start, start + OFFLINE_S, usable[slot % len(usable)])
            case "fire":
                zones = self._points(enterprise, PointType.FIRE_DETECTOR)
                if not zones:
                    return None
                zone = zones[slot % len(zones)]
                return Condition(kind, enterprise, start, start + FIRE_RESET_S, zone.point.device, (zone.id,))
            case "backfill":
                if len(devices) < 2:
                    return None
                return Condition(kind, enterprise, start, start + BACKFILL_S, devices[slot % len(devices)])
        raise ValueError(f"unknown field condition {kind}")

    def _truths(self, c: Condition) -> None:
        registry = self.registry
        entries = [registry.point(c.enterprise, p) for p in c.points]
        entry = entries[0] if entries else None
        period = entry.point.period_s if entry is not None else 0.0
        confirm = entry.limits.confirm_s if entry is not None else 0.0
        first = float(np.ceil(c.start_s / period) * period) if period else c.start_s   # first reading of the condition
        match c.kind:
            case "beach_step":
                assert entry is not None and c.value is not None
                self.truth(c, "limit", point=entry.id, level=level_at(entry, c.value), to_s=first + confirm + 2 * period)
            case "displacement_trend":
                assert entry is not None
                self.truth(c, "trend", point=entry.id, to_s=c.end_s + entry.point.trend_window_s)
            case "gas_pinned":
                assert entry is not None
                level, _ = most_severe(entry, "above")
                self.truth(c, "limit", point=entry.id, level=level, to_s=first + confirm + 2 * period)
                self.truth(c, "fault", point=entry.id, to_s=first + confirm + 2 * period)
            case "gas_leak":
                assert entry is not None and entry.point.group is not None
                level, _ = most_severe(entry, "above")
                self.truth(c, "vote", point=entry.point.group, level=level,
                           to_s=c.start_s + LEAK_RISE_S + 3 * period + 5.0)
            case "dead_channel":
                assert entry is not None and c.device is not None
                # silence is judged on the platform's clock or the device's: a skewed device's window covers both
                skew = abs(self.county.skews_s.get((c.enterprise, c.device), 0.0))
                self.truth(c, "fault", point=entry.id, from_s=c.start_s - skew,
                           to_s=c.start_s + 3 * period + max(300.0, 3 * period) + skew, skewed=False)
            case "device_offline":
                assert c.device is not None
                tick = min(e.point.period_s for e in registry.devices(c.enterprise)[c.device])
                self.truth(c, "offline", device=c.device, to_s=c.start_s + 3 * tick + 120.0)
            case "fire":
                assert entry is not None
                self.truth(c, "fire", point=entry.id, to_s=c.start_s + 5.0)
            case "backfill":
                for device in telemetry_devices(registry, c.enterprise):
                    self.truth(c, "offline", device=device, to_s=c.end_s - 0.001, required=False, by_emitted=True)


def field_county(registry: Registry, days: float, seed: int, start_ms: int = START_MS) -> FieldCounty:
    """The field conditions of ``registry`` over ``days`` and their truth; the same inputs give the same plan."""
    county = FieldCounty(registry, seed, days, start_ms)
    _Planner(county).plan()
    return county
