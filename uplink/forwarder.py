"""Store and forward: records of a Kafka topic to the upper broker, offsets committed only after its PUBACKs.

The forwarder's consumer group holds how far the upper broker has acknowledged. Each round takes at
most ``uplink_max_inflight`` records, publishes their messages in partition order on one connection
(MQTT keeps one connection's QoS 1 messages in order, and a partition keeps one alarm's versions, one
device's readings, in order), waits for every PUBACK, and only then commits. When the link fails in
the middle, the partitions are put back to the round's first records, and the next connection sends
the round again: the upper platform sees repeats only of what it was sent, never a gap and never an
older message after a newer one it has not been sent again. An upper link down for hours leaves the
records in Kafka (``kafka_input_retention_days``), and they go up in order when it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from hazmon.settings import Settings

from uplink.link import UpperLink

log = logging.getLogger(__name__)
Bodies = Callable[[list[ConsumerRecord]], list[bytes]]   # the messages a round's records of one partition make


class Forwarder:
    def __init__(self, settings: Settings, topic: str, group: str, up_topic: str, bodies: Bodies) -> None:
        self.topic = topic
        self.up_topic = up_topic
        self._bodies = bodies
        self._max_inflight = settings.uplink_max_inflight
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                          enable_auto_commit=False, auto_offset_reset="earliest")
        self.forwarded = 0

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def backlog(self) -> int:
        """Records in Kafka not yet acknowledged by the upper broker."""
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
                waiters = [link.send(self.up_topic, body) for records in batches.values() for body in self._bodies(records)]
                await link.delivered(waiters)
            except BaseException:
                for tp, records in batches.items():
                    self._consumer.seek(tp, records[0].offset)   # the round goes again on the next connection
                raise
            await self._consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
            self.forwarded += len(waiters)
            log.debug("forwarded upward", extra={"topic": self.topic, "messages": len(waiters)})
