"""Store and forward: records of a Kafka topic to the upper broker, offsets committed only after its PUBACKs.

The forwarder's consumer group holds how far the upper broker has acknowledged. Each round takes at
most ``uplink_max_inflight`` records, publishes their messages in partition order on one connection
(MQTT keeps one connection's QoS 1 messages in order, and a partition keeps one alarm's versions, one
device's readings, in order) and waits for every PUBACK; only then are the round's offsets acknowledged,
and a task of their own commits them (the latest acknowledged, one commit at a time) while the next
round is already read and sent: a commit's round trip to Kafka never holds a change back. When the link
fails in the middle of a round, the partitions are put back to the round's first records, and the next
connection sends the round again: the upper platform sees repeats only of what it was sent, never a gap
and never an older message after a newer one it has not been sent again. Offsets acknowledged and not
yet committed are committed by the next connection's committer or at the stop (a crash before sends them
again: repeats). An upper link down for hours leaves the records in Kafka (``kafka_input_retention_days``),
and they go up in order when it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from hazmon.settings import Settings

from uplink.link import UpperLink

log = logging.getLogger(__name__)
STOP_COMMIT_S = 10.0   # at most this for the stop's last commit (Kafka away: those records go up again later)
Bodies = Callable[[list[ConsumerRecord]], list[bytes]]   # the messages a round's records of one partition make


class Forwarder:
    def __init__(self, settings: Settings, topic: str, group: str, up_topic: str, bodies: Bodies) -> None:
        self.topic = topic
        self.up_topic = up_topic
        self._bodies = bodies
        self._max_inflight = settings.uplink_max_inflight
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                          enable_auto_commit=False, auto_offset_reset="earliest")
        self._acknowledged: dict[TopicPartition, int] = {}   # per partition, the offset after the last record PUBACKed
        self._committed: dict[TopicPartition, int] = {}      # what the group holds of it, as far as we committed
        self._to_commit = asyncio.Event()
        self.forwarded = 0

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        """Commit what the upper broker acknowledged and the committer had not yet, then leave the group."""
        try:
            async with asyncio.timeout(STOP_COMMIT_S):
                await self._commit_acknowledged()
        except (KafkaError, TimeoutError) as exc:   # sent again after the restart: repeats, nothing lost
            log.warning("acknowledged offsets not committed at the stop", extra={"topic": self.topic, "error": repr(exc)})
        await self._consumer.stop()

    async def backlog(self) -> int:
        """Records in Kafka not yet acknowledged by the upper broker. The ends are read last: the forwarder goes
        on meanwhile, and what it acknowledged before they are read is below them (never a negative count)."""
        partitions = list(self._consumer.assignment())
        if not partitions:
            return 0
        committed = {tp: await self._consumer.committed(tp) or 0 for tp in partitions}
        done = {tp: max(offset, self._acknowledged.get(tp, 0)) for tp, offset in committed.items()}
        ends = await self._consumer.end_offsets(partitions)
        return sum(end - done[tp] for tp, end in ends.items())

    async def run(self, link: UpperLink) -> None:
        """Forward until the link fails (UpperLinkError or another aiomqtt.MqttError) or a commit fails (KafkaError)."""
        committer = asyncio.create_task(self._commit_loop(), name=f"commit {self.topic}")
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=self._max_inflight)
                if committer.done():
                    committer.result()   # its KafkaError ends this connection; the next one commits again
                if not batches:
                    continue
                try:
                    waiters = [link.send(self.up_topic, body) for records in batches.values() for body in self._bodies(records)]
                    await link.delivered(waiters)
                except BaseException:
                    for tp, records in batches.items():
                        self._consumer.seek(tp, records[0].offset)   # the round goes again on the next connection
                    raise
                self._acknowledged.update({tp: records[-1].offset + 1 for tp, records in batches.items()})
                self._to_commit.set()
                self.forwarded += len(waiters)
                log.debug("forwarded upward", extra={"topic": self.topic, "messages": len(waiters)})
        finally:
            committer.cancel()
            await asyncio.gather(committer, return_exceptions=True)

    async def _commit_loop(self) -> None:
        self._to_commit.set()   # what an earlier connection acknowledged and did not commit
        while True:
            await self._to_commit.wait()
            self._to_commit.clear()
            await self._commit_acknowledged()

    async def _commit_acknowledged(self) -> None:
        assigned = self._consumer.assignment()   # a partition gone to a rebalance is no longer this consumer's to commit
        offsets = {tp: offset for tp, offset in self._acknowledged.items()
                   if tp in assigned and self._committed.get(tp) != offset}
        if offsets:
            await self._consumer.commit(offsets)
            self._committed.update(offsets)
