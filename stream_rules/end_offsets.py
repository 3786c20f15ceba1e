"""Where partitions end as a read_committed consumer sees them, asked of the broker by a small consumer of the
worker's own (Faust's consumer runs in another thread, and its cached offsets are None for a partition not
fetched yet and stale for one fetched a while ago): the end offsets (the last stable offsets), and the offset
of each partition's last committed record, read from the partition's tail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.consumer import Consumer
from faust.types import TP

TAIL_WINDOWS = (64, 4096)   # records (markers included) read back from a partition's end, the second if the first held no committed record
TAIL_READ_S = 10.0          # at most this long to read the tails; a partition not read to its end by then gets the fallback


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
        ends = await (await self._started()).end_offsets(wanted)
        return {TP(tp.topic, tp.partition): end for tp, end in ends.items()}

    async def last_committed(self, tps: Iterable[TP]) -> dict[TP, int]:
        """The offset of the last record a read_committed consumer receives from each partition of ``tps``:
        the last one delivered by a read of the partition's tail (``TAIL_WINDOWS``), whatever aborted records
        and markers follow it; ``begin − 1`` for a partition without a committed record. A partition whose
        committed records all lie before the widest tail (or not read in ``TAIL_READ_S``) gets ``end − 2``,
        the record before the last marker if the last transaction committed: never before the truth."""
        wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]
        if not wanted:
            return {}
        consumer = await self._started()
        ends = await consumer.end_offsets(wanted)
        begins = await consumer.beginning_offsets(wanted)
        found: dict[TopicPartition, int] = {tp: begins[tp] - 1 for tp in wanted if ends[tp] <= begins[tp]}
        give_up = asyncio.get_running_loop().time() + TAIL_READ_S
        for window in TAIL_WINDOWS:
            starts = {tp: max(begins[tp], ends[tp] - window) for tp in wanted if tp not in found}
            if not starts:
                break
            last = await self._read_tails(consumer, starts, ends, give_up)
            found.update({tp: offset for tp, offset in last.items() if offset is not None})
            found.update({tp: begins[tp] - 1 for tp, offset in last.items()   # the whole partition read: nothing committed
                          if offset is None and starts[tp] == begins[tp]})
        return {TP(tp.topic, tp.partition): found[tp] if tp in found else max(ends[tp] - 2, begins[tp]) for tp in wanted}

    async def _read_tails(self, consumer: AIOKafkaConsumer, starts: dict[TopicPartition, int],
                          ends: dict[TopicPartition, int], give_up: float) -> dict[TopicPartition, int | None]:
        """The offset of the last record delivered from each partition of ``starts`` read from there to its end
        (None: none delivered); a partition not read to its end by ``give_up`` (loop time) is left out."""
        consumer.assign(list(starts))
        for tp, start in starts.items():
            consumer.seek(tp, start)
        last: dict[TopicPartition, int | None] = dict.fromkeys(starts)
        pending = set(starts)
        loop = asyncio.get_running_loop()
        try:
            while pending and loop.time() < give_up:
                for tp, records in (await consumer.getmany(*pending, timeout_ms=200)).items():
                    if records:
                        last[tp] = records[-1].offset
                pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        finally:
            consumer.unsubscribe()
        return {tp: offset for tp, offset in last.items() if tp not in pending}

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            servers = [f"{url.host}:{url.port or 9092}" for url in self.app.conf.broker]
            self._consumer = AIOKafkaConsumer(bootstrap_servers=servers, isolation_level="read_committed",
                                              enable_auto_commit=False)
            await self._consumer.start()
        return self._consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
