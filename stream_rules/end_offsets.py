"""Partitions' ends as a read_committed consumer sees them (the last stable offsets), asked of the broker
by a small consumer of the worker's own: Faust's consumer runs in another thread, and its cached
offsets are None for a partition not fetched yet and stale for one fetched a while ago."""

from __future__ import annotations

from collections.abc import Iterable

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.consumer import Consumer
from faust.types import TP


def next_to_read(consumer: Consumer, tp: TP) -> int:
    """The next offset of ``tp`` Faust will hand to an agent: after the last one it handed (its read offset,
    kept as records go to the agents), else the committed one (after a seek)."""
    read = consumer._read_offset.get(tp)
    return read + 1 if read is not None else consumer._committed_offset.get(tp) or 0


class EndOffsets:
    def __init__(self, app: faust.types.AppT) -> None:
        self.app = app
        self._consumer: AIOKafkaConsumer | None = None

    async def of(self, tps: Iterable[TP]) -> dict[TP, int]:
        """The end offset of each partition of ``tps``."""
        wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]
        if not wanted:
            return {}
        if self._consumer is None:
            servers = [f"{url.host}:{url.port or 9092}" for url in self.app.conf.broker]
            self._consumer = AIOKafkaConsumer(bootstrap_servers=servers, isolation_level="read_committed",
                                              enable_auto_commit=False)
            await self._consumer.start()
        ends = await self._consumer.end_offsets(wanted)
        return {TP(tp.topic, tp.partition): end for tp, end in ends.items()}

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
