"""Table recovery that reads a transactional changelog to its true end, stops there at once, and hands the
agents their partitions from the committed offsets only.

Faust 0.15.3 gets three things wrong when it recovers a table partition; the first two only under
``exactly_once``:

* It takes the partition's end from the consumer's cached last stable offset, which is None for
  a partition not fetched since the assignment and stale for one fetched a while ago. None made
  a survivor of a failover crash with ``ConsistencyError`` ("persisted offset 6 > highwater -1")
  and restart (~25 s instead of ~8 s); a stale value would end the recovery before the newest
  state. ``TransactionalRecovery`` asks the broker instead (ListOffsets, read_committed), with its
  own small client (``stream_rules.end_offsets``).
* It recovers until it has applied the record at ``end − 1``. Under transactions that offset is
  the last transaction's commit marker, which a read_committed consumer never receives, so it
  waited for two idle 5 s polls of the changelog before it noticed: ~10 s of every failover.
  Targeting ``end − 2`` (the record before that marker) ended the wait when the last transaction
  committed, but not after a crash, whose last transaction is aborted: its records never come
  either, and the fault bench's rules kill still waited the two idle polls (~11 s of 36 s).
  Recovery now targets each partition's last committed record, found by reading its tail
  (``EndOffsets.last_committed``: a read_committed read of the last records, wider if they were
  all aborted); a partition without a committed record needs no recovery. Only a partition whose
  committed records lie before the widest tail gets ``end − 2`` and Faust's idle-poll fallback:
  slower, never wrong.
* At the end of a recovery (``on_recovery_completed``, and ``_resume_streams`` when there was nothing
  to recover) it resumed the stream partitions *before* seeking them to their committed offsets,
  with the flow already running. In that window, long on a loaded machine, the fetcher handed records
  from the partitions' old positions to the agents; the seek then moved the read offsets back, the
  fetcher's batch in hand was read on past them and recorded as a "gap" (offsets never to be seen),
  and resuming the flow control emptied the agents' queues of the records already handed over. Those
  records were never applied, and the next commit counted the gap as done and committed past them:
  two alarms of the fault bench's rules-kill phase were lost so (docs/reliability.md). Here the
  partitions are sought while still paused and resumed after, as in faust-streaming's own repository.

That seek (``Consumer.perform_seek``, aiokafka's ``seek_to_committed``) also leaves alone every partition
without a committed offset above 0, where Faust counts on the seek to undo records it fetched and dropped
(its ``getmany`` drops a fetched batch when the flow stopped or the generation changed meanwhile). A
partition never committed then stayed where the dropped batch had left it, at its end: never read, its
records never applied (CI, 2026-12-07: 3 000 of 7 200 transitions of ``test_backlog_kills``). Those
partitions are sought to their beginning here, where the worker's consumer resets a partition without a
committed offset (``auto.offset.reset=earliest``, Faust's default).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Set
from typing import cast

from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP, ConsumerT
from mode import Service

from stream_rules.end_offsets import EndOffsets


class TransactionalRecovery(Recovery):
    _end_offsets: EndOffsets | None = None

    async def _build_highwaters(self, consumer: ConsumerT, tps: Set[TP], destination: Counter[TP], title: str) -> None:
        if self._end_offsets is None:
            self._end_offsets = EndOffsets(self.app)
        last = await self._end_offsets.last_committed(tps)
        destination.clear()
        destination.update(last)
        self.log.info("Last committed changelog records for %s partitions: %s", title,
                      {f"{tp.topic}[{tp.partition}]": offset for tp, offset in sorted(destination.items())})

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        """Faust 0.15.3's, with the stream partitions sought to their committed offsets before they resume."""
        self.log.info("Restore complete!")
        await self.app.on_rebalance_complete.send()
        self._set_recovery_ended()
        recovered = [asyncio.ensure_future(table.on_recovery_completed(self.actives_for_table[table],
                                                                       self.standbys_for_table[table]))
                     for table in self.tables.values()]
        if recovered:
            await asyncio.wait(recovered)
        if self.app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again app id %s param %s", self.app.consumer_generation_id, generation_id)
            return
        await self._seek_then_resume(standbys_ready=not self.app.assignor.assigned_standbys())

    async def _resume_streams(self, generation_id: int = 0) -> None:
        """Faust 0.15.3's (nothing to recover), with the seek before the resume as in ``on_recovery_completed``."""
        await self.app.on_rebalance_complete.send()
        if self.app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again")
            return
        await self._seek_then_resume(standbys_ready=True)

    async def _seek_then_resume(self, standbys_ready: bool) -> None:
        """Seek the (paused) stream partitions to their committed offsets, then resume them and the flow."""
        consumer = self.app.consumer
        assignment = consumer.assignment()
        if assignment:
            self.log.info("Seek stream partitions to committed offsets.")
            await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
            await self._seek_uncommitted_to_beginning(consumer, assignment)
        self.completed.set()
        consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
        self.log.info("Resuming flow...")
        self.app.flow_control.resume()
        consumer.resume_flow()
        await cast(Service, self.app._fetcher).maybe_start()  # type: ignore[attr-defined]  # Faust's own fetcher
        self.tables.on_actives_ready()
        if standbys_ready:
            self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")

    async def _seek_uncommitted_to_beginning(self, consumer: ConsumerT, assignment: Set[TP]) -> None:
        """Seek the stream partitions ``perform_seek`` left alone (no committed offset above 0) to their beginning."""
        uncommitted = [tp for tp in assignment
                       if not self._is_changelog_tp(tp) and not consumer._committed_offset.get(tp)]  # type: ignore[attr-defined]
        if uncommitted:
            beginnings = await consumer.earliest_offsets(*uncommitted)
            await self._wait(consumer.seek_wait(beginnings), timeout=self.app.conf.broker_request_timeout)

    async def on_stop(self) -> None:
        await super().on_stop()
        if self._end_offsets is not None:
            await self._end_offsets.stop()


class TransactionalTableManager(TableManager):
    """The app's table manager (``faust.App(TableManager=...)``) recovering with ``TransactionalRecovery``."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = TransactionalRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
