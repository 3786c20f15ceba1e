"""Partitions' ends as a read_committed consumer sees them (the last stable offsets), asked of the broker
by a small consumer of the worker's own: Faust's consumer runs in another thread, and its cached
offsets are None for a partition not fetched yet and stale for one fetched a while ago."""

from __future__ import annotations

from collections.abc import Iterable

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP


class EndOffsets:
    def __init__(self, app: faust.App) -> None:
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
