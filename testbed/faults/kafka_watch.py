"""How far a topic's partitions have moved, for recovery times: their end offsets (what producers got
in) and a consumer group's committed offsets (what it has done), asked of whichever brokers answer."""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from testbed.kafka_admin import TopicClients


class TopicWatch(TopicClients):
    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic, request_timeout_ms=5000)   # a dead broker is asked of briefly

    async def leaders(self) -> dict[int, int]:
        """Partition → node id of its leader (−1: none)."""
        (described,) = await self.admin.describe_topics([self.topic])
        return {p["partition"]: p["leader"] for p in described["partitions"]}

    async def ends(self) -> dict[TopicPartition, int] | None:
        """End offsets, or None while some partition cannot say."""
        with contextlib.suppress(KafkaError, asyncio.TimeoutError, OSError):
            async with asyncio.timeout(6):
                return await self.consumer.end_offsets(self.partitions)
        return None

    async def committed(self, group: str) -> dict[TopicPartition, int] | None:
        with contextlib.suppress(KafkaError, asyncio.TimeoutError, OSError):
            async with asyncio.timeout(6):
                offsets = await self.admin.list_consumer_group_offsets(group)
            return {tp: offsets[tp].offset if tp in offsets else -1 for tp in self.partitions}
        return None

    async def busy(self, seconds: float) -> set[TopicPartition]:
        """The partitions written to within ``seconds``: those a recovery is judged on (an idle one never moves)."""
        before = await self.ends()
        await asyncio.sleep(seconds)
        after = await self.ends()
        return {tp for tp, offset in (after or {}).items() if before and offset > before[tp]}

    async def all_moved(self, since: float, among: set[TopicPartition], group: str | None = None,
                        timeout_s: float = 120.0) -> float | None:
        """Seconds after ``since`` (monotonic) until the end offset (or ``group``'s committed offset) of every
        partition ``among`` has moved past where it stood at the first look; None if not within ``timeout_s``."""
        look = (lambda: self.committed(group)) if group else self.ends
        first = None
        while first is None and time.monotonic() - since < timeout_s:
            first = await look()
        moved: set[TopicPartition] = set()
        while first is not None and time.monotonic() - since < timeout_s:
            now = await look()
            if now is not None:
                moved |= {tp for tp, offset in now.items() if tp in among and offset > first[tp]}
                if moved == among:
                    return time.monotonic() - since
            await asyncio.sleep(0.25)
        return None
