"""The registry compiled for the hot path: one :class:`Catalog` per enterprise.

Thresholds live in ``(points, 4)`` numpy arrays indexed by severity − 1 (padded with ±inf where a
point has no such level), so that a batch of readings is classified with a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.registry.limits import Limit
from hazmon.registry.loader import PointEntry, Registry
from hazmon.registry.models import POINT_TYPE_NAMES, POINT_UNITS, PointType, Site, SiteKind
from hazmon.wire import PLATFORM_ENTERPRISE
from stream_rules.alarms import Subject

LEVELS = 4
OFFLINE_PERIODS = 3.0  # §8: nothing for 3 × period_s
PLATFORM = PLATFORM_ENTERPRISE


@dataclass(frozen=True, slots=True)
class PointRules:
    """What the per-reading rules need to know of one point."""

    entry: PointEntry
    levels: dict[str, dict[int, Limit]]   # direction → severity → limit
    trend: bool
    rainfall: bool
    stuck_ms: float | None
    subject: Subject

    @property
    def slow_path(self) -> bool:
        """Points whose every reading must pass the per-reading rules (windows, stuck detection)."""
        return self.trend or self.rainfall or self.stuck_ms is not None


class Catalog:
    """One enterprise's points as arrays (for numpy) and as :class:`PointRules` (for the state machine)."""

    def __init__(self, entries: list[PointEntry], enterprise_name: str = "") -> None:
        self.enterprise_name = enterprise_name
        self.ids: list[str] = [e.id for e in entries]
        self.index: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        self.rules: list[PointRules] = [_point_rules(e, enterprise_name) for e in entries]
        n = len(entries)
        self.low = np.array([e.point.range[0] if e.point.range else -np.inf for e in entries], dtype=np.float64)
        self.high = np.array([e.point.range[1] if e.point.range else np.inf for e in entries], dtype=np.float64)
        self.period_ms = np.array([e.point.period_s * 1000.0 for e in entries], dtype=np.float64)
        self.deadband = np.array([e.limits.deadband for e in entries], dtype=np.float64)
        self.reports = np.array([e.point.type is not PointType.FIRE_DETECTOR and e.point.enabled for e in entries], dtype=bool)
        self.slow = np.array([r.slow_path for r in self.rules], dtype=bool)
        self.above = np.full((n, LEVELS), np.inf)
        self.below = np.full((n, LEVELS), -np.inf)
        for i, rules in enumerate(self.rules):
            for severity, limit in rules.levels["above"].items():
                self.above[i, severity - 1] = limit.threshold
            for severity, limit in rules.levels["below"].items():
                self.below[i, severity - 1] = limit.threshold
        # §8 fail-safe: the sides that have limits are the dangerous ones; their worst severity
        self.worst_above = np.array([max(r.levels["above"], default=0) for r in self.rules], dtype=np.int64)
        self.worst_below = np.array([max(r.levels["below"], default=0) for r in self.rules], dtype=np.int64)
        self.guards_above, self.guards_below = self.worst_above > 0, self.worst_below > 0
        self.devices: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            self.devices.setdefault(entry.point.device, []).append(i)
        # per device: its reporting points, and how long its silence may last (3 × its shortest period)
        self.reporting: dict[str, np.ndarray] = {
            d: np.array([i for i in members if self.reports[i]], dtype=np.int64) for d, members in self.devices.items()}
        self.device_silence_ms: dict[str, float] = {
            d: OFFLINE_PERIODS * float(self.period_ms[r].min()) for d, r in self.reporting.items() if len(r)}
        self.groups: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            if entry.point.group is not None:
                self.groups.setdefault(entry.point.group, []).append(i)
        self.ponds = {e.site.id: e.site for e in entries if e.site.kind is SiteKind.TAILINGS_POND}

    def device_subject(self, device: str) -> Subject:
        site = self.rules[self.devices[device][0]].entry.site
        return Subject(site.id, device, "", f"{self.enterprise_name} {site.name} 设备{device}",
                       f"{self.enterprise_name} {site.name} device {device}")

    def site_subject(self, site: Site) -> Subject:
        return Subject(site.id, "", site.id, f"{self.enterprise_name} {site.name}", f"{self.enterprise_name} {site.name}")

    def group_subject(self, group: str) -> Subject:
        first = self.rules[self.groups[group][0]]
        site = first.entry.site
        return Subject(site.id, first.entry.point.device, group, f"{self.enterprise_name} {site.name} 联动分组{group}",
                       f"{self.enterprise_name} {site.name} voting group {group}", first.subject.unit)


def _point_rules(entry: PointEntry, enterprise_name: str) -> PointRules:
    levels: dict[str, dict[int, Limit]] = {"above": {}, "below": {}}
    for limit in entry.limits.limits:
        levels[limit.direction][limit.severity] = limit
    point = entry.point
    trend = point.rate_per_h is not None or entry.limits.form == "colors"
    stuck_ms = None if point.stuck_s is None else point.stuck_s * 1000.0
    type_zh, type_en = POINT_TYPE_NAMES[point.type]
    place = f"{enterprise_name} {entry.site.name}"
    subject = Subject(entry.site.id, point.device, point.id, f"{place} {point.name or f'{type_zh}{point.id}'}",
                      f"{place} {point.name or f'{type_en} {point.id}'}", POINT_UNITS[point.type])
    return PointRules(entry, levels, trend, entry.limits.form == "rainfall", stuck_ms, subject)


def compile_registry(registry: Registry) -> dict[str, Catalog]:
    """Enterprise id → its catalog; disabled points are left out (they raise nothing). The platform's own
    alarms (its data outage, §8) belong to the pseudo-enterprise ``PLATFORM``, which has no points."""
    by_enterprise: dict[str, list[PointEntry]] = {ent: [] for ent in registry.enterprises}
    for entry in registry:
        if entry.point.enabled:
            by_enterprise[entry.enterprise].append(entry)
    by_enterprise[PLATFORM] = []
    names = {ent: doc.enterprise.name for ent, doc in registry.enterprises.items()}
    return {ent: Catalog(entries, names.get(ent, "")) for ent, entries in by_enterprise.items()}
