"""What the adapter needs from the registry, indexed for the hot path: which devices exist and
which points each device may report."""

from __future__ import annotations

from dataclasses import dataclass

from hazmon.registry import PointType, Registry


@dataclass(frozen=True, slots=True)
class DeviceDirectory:
    enterprises: frozenset[str]
    telemetry_points: dict[tuple[str, str], frozenset[str]]  # (enterprise, device) → points taking readings
    event_points: dict[tuple[str, str], frozenset[str]]      # (enterprise, device) → every registered point
    fingerprint: str

    @classmethod
    def from_registry(cls, registry: Registry) -> DeviceDirectory:
        every: dict[tuple[str, str], set[str]] = {}
        telemetry: dict[tuple[str, str], set[str]] = {}
        for entry in registry:
            device = (entry.enterprise, entry.point.device)
            every.setdefault(device, set()).add(entry.id)
            points = telemetry.setdefault(device, set())
            if entry.point.type is not PointType.FIRE_DETECTOR:
                points.add(entry.id)
        return cls(frozenset(registry.enterprises), {k: frozenset(v) for k, v in telemetry.items()},
                   {k: frozenset(v) for k, v in every.items()}, registry.fingerprint)

    def is_fire_detector(self, enterprise: str, device: str, point: str) -> bool:
        return point in self.event_points.get((enterprise, device), ()) and \
            point not in self.telemetry_points.get((enterprise, device), ())
