"""The registry compiled for the hot path: one :class:`Catalog` per enterprise.

Thresholds live in ``(points, 4)`` numpy arrays indexed by severity − 1 (padded with ±inf where a
point has no such level), so that a batch of readings is classified with a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.registry.limits import Limit
from hazmon.registry.loader import PointEntry, Registry
from hazmon.registry.models import PointType, SiteKind
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

    def __init__(self, entries: list[PointEntry]) -> None:
        self.ids: list[str] = [e.id for e in entries]
        self.index: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        self.rules: list[PointRules] = [_point_rules(e) for e in entries]
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


def _point_rules(entry: PointEntry) -> PointRules:
    levels: dict[str, dict[int, Limit]] = {"above": {}, "below": {}}
    for limit in entry.limits.limits:
        levels[limit.direction][limit.severity] = limit
    point = entry.point
    trend = point.rate_per_h is not None or entry.limits.form == "colors"
    stuck_ms = None if point.stuck_s is None else point.stuck_s * 1000.0
    subject = Subject(entry.site.id, point.device, point.id, f"{entry.site.name}{point.name or ''}[{point.id}]")
    return PointRules(entry, levels, trend, entry.limits.form == "rainfall", stuck_ms, subject)


def compile_registry(registry: Registry) -> dict[str, Catalog]:
    """Enterprise id → its catalog; disabled points are left out (they raise nothing). The platform's own
    alarms (its data outage, §8) belong to the pseudo-enterprise ``PLATFORM``, which has no points."""
    by_enterprise: dict[str, list[PointEntry]] = {ent: [] for ent in registry.enterprises}
    for entry in registry:
        if entry.point.enabled:
            by_enterprise[entry.enterprise].append(entry)
    by_enterprise[PLATFORM] = []
    return {ent: Catalog(entries) for ent, entries in by_enterprise.items()}
