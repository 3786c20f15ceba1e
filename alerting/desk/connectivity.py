"""联网率 and 在线率 (issue 17) from each point's last reading: a point is sending (联网) when it reported in the
period, online (在线) when its last reading is at most 3 × its period old at the moment asked about. Fire
detectors send events, not readings: they count for neither. Pure functions of the registry and the readings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hazmon.registry import PointType, Registry
from hazmon.registry.loader import PointEntry

from alerting.desk.readings import LastReading

ONLINE_PERIODS = 3


def reports_readings(entry: PointEntry) -> bool:
    return entry.point.type is not PointType.FIRE_DETECTOR


def online(entry: PointEntry, last: LastReading | None, at_ms: int) -> bool:
    return last is not None and last.ts <= at_ms and at_ms - last.ts <= ONLINE_PERIODS * entry.point.period_s * 1000


@dataclass
class Connectivity:
    enterprises: int = 0
    enterprises_sending: int = 0
    points: int = 0
    points_sending: int = 0
    points_online: int = 0

    @property
    def network_rate(self) -> float | None:
        """联网率: points that sent in the period, of the registered ones."""
        return None if not self.points else self.points_sending / self.points

    @property
    def online_rate(self) -> float | None:
        """在线率: points online at the moment asked about, of the registered ones."""
        return None if not self.points else self.points_online / self.points


@dataclass
class CountyConnectivity:
    county: Connectivity = field(default_factory=Connectivity)
    towns: dict[str, Connectivity] = field(default_factory=dict)
    enterprises: dict[str, Connectivity] = field(default_factory=dict)


def connectivity(registry: Registry, seen: Callable[[str], bool], last: dict[tuple[str, str], LastReading],
                 at_ms: int) -> CountyConnectivity:
    """The county's, each town's and each enterprise's figures over the enterprises ``seen`` (those the officer may see)."""
    result = CountyConnectivity()
    entries: dict[str, list[PointEntry]] = {}
    for (enterprise, _), entry in registry.points.items():
        if reports_readings(entry):
            entries.setdefault(enterprise, []).append(entry)
    for enterprise, doc in registry.enterprises.items():
        if not seen(enterprise):
            continue
        scopes = (result.county, result.towns.setdefault(doc.enterprise.town, Connectivity()),
                  result.enterprises.setdefault(enterprise, Connectivity()))
        points = entries.get(enterprise, [])
        sending = [e for e in points if (enterprise, e.point.id) in last]
        up = sum(online(e, last[(enterprise, e.point.id)], at_ms) for e in sending)
        for scope in scopes:
            scope.enterprises += 1
            scope.enterprises_sending += bool(sending)
            scope.points += len(points)
            scope.points_sending += len(sending)
            scope.points_online += up
    return result
