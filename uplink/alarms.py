"""§11 ``up/{county}/alarm`` bodies from the alarm-changes topic, and the index of the open alarms forwarded
(enterprise and escalation), against which the upper platform's actions are checked."""

from __future__ import annotations

import logging

import orjson
from aiokafka import ConsumerRecord

from hazmon import wire

from uplink.messages import alarm_message

log = logging.getLogger(__name__)


class AlarmChanges:
    def __init__(self, county_id: str) -> None:
        self.county_id = county_id
        self.alarms: dict[str, tuple[str, str]] = {}   # alarm id → (enterprise, escalated_to), of the open alarms forwarded

    def bodies(self, records: list[ConsumerRecord]) -> list[bytes]:
        bodies = []
        for record in records:
            try:
                change = wire.decode(record.value)
                bodies.append(alarm_message(self.county_id, change))
                alarm = change["alarm"]
                if alarm.get("state") == "closed":
                    self.alarms.pop(alarm["id"], None)   # nobody acts on it any more
                else:
                    self.alarms[alarm["id"]] = (alarm["enterprise"], alarm["escalated_to"])
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                log.error("alarm change not forwardable, skipped", extra={"topic": record.topic, "offset": record.offset,
                                                                          "partition": record.partition, "error": repr(exc)})
        return bodies
