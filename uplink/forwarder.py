"""Store and forward: alarm changes from Kafka to the upper broker, offsets committed only after its PUBACKs.

The uplink's consumer group holds how far the upper broker has acknowledged. Each round takes at
most ``uplink_max_inflight`` records, publishes them in partition order on one connection (MQTT keeps
one connection's QoS 1 messages in order, and a partition keeps one alarm's versions in order),
waits for every PUBACK, and only then commits. When the link fails in the middle, the partitions are
put back to the round's first records, and the next connection sends the round again: the upper
platform sees repeats only of versions it was sent, never a gap and never an older version after a
newer one it has not been sent again. An upper link down for hours leaves the changes in Kafka
(``kafka_input_retention_days``), and they go up in order when it is back.
"""

from __future__ import annotations

import logging

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from hazmon import wire
from hazmon.exchange import up_topic
from hazmon.settings import Settings

from uplink.link import UpperLink
from uplink.messages import alarm_message

log = logging.getLogger(__name__)


class Forwarder:
    def __init__(self, settings: Settings, county_id: str, topic: str) -> None:
        self.county_id = county_id
        self.topic = topic
        self._max_inflight = settings.uplink_max_inflight
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=settings.uplink_group,
                                          enable_auto_commit=False, auto_offset_reset="earliest")
        self.alarms: dict[str, tuple[str, str]] = {}   # alarm id → (enterprise, escalated_to), of the open alarms forwarded
        self.forwarded = 0

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def backlog(self) -> int:
        """Alarm changes in Kafka not yet acknowledged by the upper broker."""
        partitions = self._consumer.assignment()
        if not partitions:
            return 0
        ends = await self._consumer.end_offsets(list(partitions))
        committed = {tp: await self._consumer.committed(tp) for tp in partitions}
        return sum(end - (committed[tp] or 0) for tp, end in ends.items())

    async def run(self, link: UpperLink) -> None:
        """Forward until the link fails (UpperLinkError or another aiomqtt.MqttError)."""
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=self._max_inflight)
            if not batches:
                continue
            try:
                waiters = [link.send(up_topic(self.county_id, "alarm"), body)
                           for records in batches.values() for body in self._bodies(records)]
                await link.delivered(waiters)
            except BaseException:
                for tp, records in batches.items():
                    self._consumer.seek(tp, records[0].offset)   # the round goes again on the next connection
                raise
            await self._consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
            self.forwarded += len(waiters)
            log.debug("alarm changes forwarded", extra={"records": len(waiters)})

    def _bodies(self, records: list[ConsumerRecord]) -> list[bytes]:
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
