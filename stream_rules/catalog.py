"""The registry compiled for the hot path: one :class:`Catalog` per enterprise.

Thresholds live in ``(points, 4)`` numpy arrays indexed by severity − 1 (padded with ±inf where a
point has no such level), so that a batch of readings is classified with a few array operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hazmon.registry.limits import Limit
from hazmon.registry.loader import PointEntry, Registry
from hazmon.registry.models import POINT_UNITS, PointType, Site, SiteKind
from hazmon.registry.names import device_name, group_name, point_name
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
    names: tuple[str, str]   # the point's own name (zh, en) as officers read it (§10), for lists of points

    @property
    def slow_path(self) -> bool:
        """Points whose every reading must pass the per-reading rules (windows, stuck detection)."""
        return self.trend or self.rainfall or self.stuck_ms is not None


class Catalog:
    """One enterprise's points as arrays (for numpy) and as :class:`PointRules` (for the state machine), and
    the subjects of its alarms named as officers read them (§10: names, never ids), from ``registry``."""

    def __init__(self, entries: list[PointEntry], registry: Registry, enterprise_name: str = "") -> None:
        self.enterprise_name = enterprise_name
        self.ids: list[str] = [e.id for e in entries]
        self.index: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        self.rules: list[PointRules] = [_point_rules(e, registry, enterprise_name) for e in entries]
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
        self._device_subjects = {d: self._named(d, "", members, device_name, registry) for d, members in self.devices.items()}
        self._group_subjects = {g: self._named(entries[members[0]].point.device, g, members, group_name, registry)
                                for g, members in self.groups.items()}

    def _named(self, device: str, point: str, members: list[int], name: Callable[[Registry, list[PointEntry], str], str],
               registry: Registry) -> Subject:
        """The subject of a device's or a group's alarms: at the site of its first point, named by ``name``."""
        first = self.rules[members[0]]
        entries, place = [self.rules[m].entry for m in members], f"{self.enterprise_name} {first.entry.site.name}"
        return Subject(first.entry.site.id, device, point, f"{place} {name(registry, entries, 'zh')}",
                       f"{place} {name(registry, entries, 'en')}", first.subject.unit if point else "")

    def device_subject(self, device: str) -> Subject:
        return self._device_subjects[device]

    def site_subject(self, site: Site) -> Subject:
        return Subject(site.id, "", site.id, f"{self.enterprise_name} {site.name}", f"{self.enterprise_name} {site.name}")

    def group_subject(self, group: str) -> Subject:
        return self._group_subjects[group]


def _point_rules(entry: PointEntry, registry: Registry, enterprise_name: str) -> PointRules:
    levels: dict[str, dict[int, Limit]] = {"above": {}, "below": {}}
    for limit in entry.limits.limits:
        levels[limit.direction][limit.severity] = limit
    point = entry.point
    trend = point.rate_per_h is not None or entry.limits.form == "colors"
    stuck_ms = None if point.stuck_s is None else point.stuck_s * 1000.0
    names = point_name(registry, entry, "zh"), point_name(registry, entry, "en")
    place = f"{enterprise_name} {entry.site.name}"
    subject = Subject(entry.site.id, point.device, point.id, f"{place} {names[0]}", f"{place} {names[1]}", POINT_UNITS[point.type])
    return PointRules(entry, levels, trend, entry.limits.form == "rainfall", stuck_ms, subject, names)


def compile_registry(registry: Registry) -> dict[str, Catalog]:
    """Enterprise id → its catalog; disabled points are left out (they raise nothing). The platform's own
    alarms (its data outage, §8) belong to the pseudo-enterprise ``PLATFORM``, which has no points."""
    by_enterprise: dict[str, list[PointEntry]] = {ent: [] for ent in registry.enterprises}
    for entry in registry:
        if entry.point.enabled:
            by_enterprise[entry.enterprise].append(entry)
    by_enterprise[PLATFORM] = []
    names = {ent: doc.enterprise.name for ent, doc in registry.enterprises.items()}
    return {ent: Catalog(entries, registry, names.get(ent, "")) for ent, entries in by_enterprise.items()}
