"""The rules worker's stall watch: an input partition with records waiting that no agent reads ends the worker.

Seen in tests after a crash and restart under load: the new worker read some of its partitions and
never fetched another again, alive and silent, its alarms never raised (the commit watch of
``stream_rules.transactions`` did not fire: nothing was stuck holding a batch). Whatever stops a
partition (a pause never lifted, a fetch that never returns), a partition of the worker's inputs
whose end is past what the worker has read, and whose read offset has not moved for ``stall_s``,
ends the worker with its state in the log (read offsets, ends, Faust's paused, buffered and active
partitions); ``hazmon rules worker`` starts a fresh one, which resumes from the last commit.

Ends are asked of the broker (``stream_rules.end_offsets``; that consumer ends with the process);
read offsets are those Faust keeps as it hands records to the agents. A partition with a single
record waiting is not told from one read to its end (Faust's read offset is the next offset after a
seek, the last one after a read): never a false stall, at worst one record late to be noticed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import cast

import faust
from faust.transport.consumer import Consumer
from faust.types import TP

from stream_rules.end_offsets import EndOffsets, next_to_read

log = logging.getLogger("stream_rules.stall_watch")


class PartitionStalled(RuntimeError):
    """An input partition of the worker with records waiting has not been read for ``stall_s``."""


class StallWatch:
    def __init__(self, app: faust.App, topics: Collection[str], stall_s: float,
                 crash: Callable[[BaseException], Awaitable[None]]) -> None:
        self.app = app
        self.topics = frozenset(topics)
        self.stall_s = stall_s
        self.crash = crash
        self._seen: dict[TP, tuple[int | None, float]] = {}   # read offset, and since when it has been that
        self._ends = EndOffsets(app)

    async def check(self) -> None:
        """Look once (call it every few seconds); crash the worker if a partition stalled."""
        consumer = cast(Consumer, self.app.consumer)
        if self.app.rebalancing or self.app.in_recovery:
            self._seen.clear()        # a partition's clock starts when the worker may read it
            return
        assigned = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        if not assigned:
            return
        ends = await self._ends.of(assigned)
        now = time.monotonic()
        stalled = []
        for tp in assigned:
            read = consumer._read_offset.get(tp)     # the last offset handed to an agent (None: none yet)
            waiting = ends[tp] > next_to_read(consumer, tp)
            before, since = self._seen.get(tp, (read, now))
            since = since if before == read else now
            self._seen[tp] = (read, since)
            if waiting and now - since >= self.stall_s:
                stalled.append(tp)
        if stalled:
            await self._stalled(stalled, ends)

    async def _stalled(self, stalled: list[TP], ends: dict[TP, int]) -> None:
        consumer = cast(Consumer, self.app.consumer)

        def names(tps: Collection[TP]) -> list[str]:
            return sorted(f"{tp.topic}[{tp.partition}]" for tp in tps)

        log.error("input partition not read: the worker stops and restarts from the committed state", extra={
            "stalled": names(stalled), "stall_s": self.stall_s,
            "read": {f"{tp.topic}[{tp.partition}]": consumer._read_offset.get(tp) for tp in stalled},
            "ends": {f"{tp.topic}[{tp.partition}]": ends[tp] for tp in stalled},
            "paused": names(consumer._paused_partitions), "buffered": names(consumer._buffered_partitions),
            "active": names(consumer._active_partitions or ())})
        await self.crash(PartitionStalled(", ".join(names(stalled))))
