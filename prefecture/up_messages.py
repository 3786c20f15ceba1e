"""The counties' §11 ``up`` messages as the prefecture takes them: checked, sorted into what goes to its record
and what goes to its InfluxDB (line protocol, timestamps in milliseconds).

A message is refused (logged by the caller, acknowledged, never applied) when its topic is not an ``up``
topic of a county of this prefecture, its body is not a version 1 object, its ``county`` is not the
topic's (a county speaks only for itself: the broker's ACL already refuses the other topics), or a
field the record needs is missing or of the wrong type. InfluxDB points are keyed by measurement, tags
and time, so a message received twice writes the same point twice: nothing doubles.
"""

from __future__ import annotations

import math

import orjson

from hazmon import series
from hazmon.exchange import RISK_NO_TIME, parse_up_topic

from prefecture.record import UpBatch

_ALARM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "version": int, "change": str, "changed_at": int, "enterprise": str, "state": str, "escalated_to": str}
_RISK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "enterprise": str, "color": str, "level": int, "active_alarms": int, "ts": int}
_HEARTBEAT_FIELDS: dict[str, type | tuple[type, ...]] = {"ts": int, "enterprises": int, "points": int, "backlog": int}


class UpRefused(ValueError):
    """A message the prefecture does not apply; the text says why."""


def _check(body: dict, fields: dict[str, type | tuple[type, ...]]) -> None:
    for name, kind in fields.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise UpRefused(f"field {name} missing or not {kind}")
    if isinstance(body.get("version"), int) and body["version"] < 1:
        raise UpRefused("version below 1")


class UpSorter:
    """Sorts a batch of messages of the prefecture's counties into an UpBatch and InfluxDB lines."""

    def __init__(self, counties: frozenset[str]) -> None:
        self.counties = counties
        self.batch = UpBatch()
        self.lines: list[str] = []

    def add(self, topic: str, payload: bytes) -> None:
        """Take one message in; UpRefused (and nothing taken) when it is not applicable."""
        parsed = parse_up_topic(topic)
        if parsed is None:
            raise UpRefused("not an up topic")
        county, kind = parsed
        if county not in self.counties:
            raise UpRefused("not a county of this prefecture")
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise UpRefused("not JSON") from None
        if not isinstance(body, dict) or body.get("v") != 1:
            raise UpRefused("not a version 1 object")
        if body.get("county") != county:
            raise UpRefused("county of the body is not the topic's")
        if kind == "alarm":
            _check(body, _ALARM_FIELDS)
            self.batch.alarms.append((county, body))
        elif kind == "risk":
            _check(body, _RISK_FIELDS)
            self.batch.risk.append((county, body))
            if body["ts"] != RISK_NO_TIME:   # blue for an enterprise nothing coloured yet: no moment, no point
                self.lines.append(f"{series.COUNTY_RISK},county={series.tag(county)},enterprise={series.tag(body['enterprise'])} "
                                  f"level={body['level']}i,color={series.string_field(body['color'])},"
                                  f"active_alarms={body['active_alarms']}i {body['ts']}")
        elif kind == "heartbeat":
            _check(body, _HEARTBEAT_FIELDS)
            self.batch.heartbeats.append((county, body))
            self.lines.append(f"{series.COUNTY_HEARTBEAT},county={series.tag(county)} enterprises={body['enterprises']}i,"
                              f"points={body['points']}i,backlog={body['backlog']}i {body['ts']}")
        elif kind == "registry":
            _check(body, {"ts": int, "enterprises": list})
            self.batch.registries.append((county, body))
        else:
            self.lines.extend(self._reading_lines(county, body))

    @staticmethod
    def _reading_lines(county: str, body: dict) -> list[str]:
        enterprise, device, readings = body.get("enterprise"), body.get("device"), body.get("readings")
        if not isinstance(enterprise, str) or not isinstance(device, str) or not isinstance(readings, list):
            raise UpRefused("readings need enterprise, device and readings")
        lines = []
        for reading in readings:
            if not isinstance(reading, dict):
                raise UpRefused("a reading is not an object")
            point, value, ts, quality = reading.get("point"), reading.get("value"), reading.get("ts"), reading.get("q")
            if (not isinstance(point, str) or not isinstance(ts, int) or not isinstance(quality, str)
                    or not isinstance(value, int | float) or isinstance(value, bool)):
                raise UpRefused("a reading needs point, value, ts and q")
            if math.isfinite(value):
                lines.append(f"{series.COUNTY_READING},county={series.tag(county)},enterprise={series.tag(enterprise)},device={series.tag(device)},"
                             f"point={series.tag(point)} value={float(value)!r},q={series.string_field(quality)} {ts}")
        return lines
