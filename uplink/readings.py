"""§11 ``up/{county}/readings``: the readings of the point types the county chose (``uplink_readings_types``),
thinned to the first reading of each point in each ``uplink_readings_interval_s`` of device time (intervals
aligned to the epoch), as §3 telemetry of one device with its enterprise and the county: ``{"v": 1,
"county", "enterprise", "device", "readings": [{"point", "value", "ts", "q"}]}``. Whether a reading goes
depends on its own time and the interval it falls in, so a round sent again (a failed link, a restart)
sends the same readings again, or at most the first of an interval once more."""

from __future__ import annotations

import logging

import orjson
from aiokafka import ConsumerRecord

from hazmon import wire
from hazmon.registry import Registry

log = logging.getLogger(__name__)
QUALITY = ("good", "uncertain", "bad")


class ReadingsUp:
    def __init__(self, county_id: str, types: list[str], interval_s: float, registry: Registry) -> None:
        self.county_id = county_id
        self._types = frozenset(types)
        self._interval_ms = int(interval_s * 1000)
        self._last: dict[tuple[str, str], int] = {}   # (enterprise, point) → the interval of the last reading sent
        self.set_registry(registry)

    def set_registry(self, registry: Registry) -> None:
        self._chosen = {key for key, entry in registry.points.items() if str(entry.point.type) in self._types}

    def bodies(self, records: list[ConsumerRecord]) -> list[bytes]:
        bodies = []
        for record in records:
            try:
                batch = wire.decode(record.value)
                body = self._telemetry(batch)
            except (orjson.JSONDecodeError, KeyError, TypeError, IndexError) as exc:
                log.error("readings not forwardable, skipped", extra={"topic": record.topic, "offset": record.offset,
                                                                     "partition": record.partition, "error": repr(exc)})
                continue
            if body is not None:
                bodies.append(body)
        return bodies

    def _telemetry(self, batch: dict) -> bytes | None:
        enterprise = batch["enterprise"]
        readings = []
        for point, ts, value, q in zip(batch["points"], batch["ts"], batch["values"], batch["q"], strict=True):
            key = (enterprise, point)
            if key not in self._chosen:
                continue
            if self._interval_ms:
                interval = ts // self._interval_ms
                if self._last.get(key) == interval:
                    continue
                self._last[key] = interval
            readings.append({"point": point, "value": value, "ts": ts, "q": QUALITY[q]})
        if not readings:
            return None
        return orjson.dumps({"v": wire.WIRE_VERSION, "county": self.county_id, "enterprise": enterprise,
                             "device": batch["device"], "readings": readings})
