"""Exactly-once for the rules worker: outputs in the source partition's Kafka transaction, commits between batches.

faust-streaming 0.15 opens one transaction per source partition (transactional id
``APP-GROUP-PARTITION``) and commits each with the offsets of that partition, and with the table
changelog records attached to them. Three gaps remain that would let a crashed worker's successor
repeat committed output or miss state, and this module closes them:

* A record sent with ``Topic.send`` to a topic this app does not consume gets no transactional
  id (Faust cannot work out its partition's group), so it is written outside any transaction
  and is visible at once, while the offsets that produced it may be aborted. ``send`` here names
  the transaction itself: every topic of the worker is keyed by enterprise with the same number
  of partitions, so an output belongs to the transaction of the partition number it is sent to.
* Faust commits on a timer, which may fall between an agent sending a batch's outputs and the
  batch's offsets being acknowledged: the outputs then commit with the previous offsets and are
  produced again after a crash. ``batch()`` holds a lock from the first record of a batch to its
  acknowledgement, and the consumer's ``commit`` takes the same lock and first awaits
  ``before_commit``, which sends the changed state to the table's changelog with ``send_state``.
* Faust's own table writes are not used: it queues their changelog records in a background buffer,
  and one still on its way when a commit starts lands in the next transaction (state behind the
  outputs after a crash) or, when a rebalance has just ended the transactions, crashes the worker
  ("Can't send messages while not in transaction"). The worker writes the table's store directly and
  sends the changelog record here, awaited, inside the partition's transaction.

Outputs are visible to ``read_committed`` consumers only once their transaction commits, so a
batch that sent any (alarms are rare) commits at once instead of waiting for Faust's timer: the
alarm path pays one commit, the quiet bulk of readings keeps the timer's batching.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import faust


class PartitionTransactions:
    def __init__(self, app: faust.App, source_topic: str, before_commit: Callable[[], Awaitable[None]]) -> None:
        self.app = app
        self.source_topic = source_topic   # any consumed topic: all share one partition group
        self.before_commit = before_commit  # sends the state the commit must carry (``send_state``)
        self._lock = asyncio.Lock()
        self._guarded = False
        self._sent = False

    def transactional_id(self, partition: int) -> str | None:
        if not self.app.in_transaction:
            return None
        group = self.app.assignor.group_for_topic(self.source_topic)
        return f"{self.app.conf.id}-{group}-{partition}"

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int) -> Awaitable[Any]:
        """Queue an output to ``topic``/``partition`` inside that partition's open transaction."""
        self._sent = True
        return await self.send_state(topic, key, value, partition)

    async def send_state(self, topic: str, key: bytes | None, value: bytes, partition: int) -> Awaitable[Any]:
        """Like ``send``, for state (changelog) records: no immediate commit is asked for."""
        return await self.app.producer.send(topic, key, value, partition, None, None,
                                            transactional_id=self.transactional_id(partition))

    @asynccontextmanager
    async def batch(self, events: Iterable[faust.EventT]) -> AsyncIterator[None]:
        """Process a batch with no commit in between; its events are acknowledged before the lock opens."""
        self._guard_commits()
        async with self._lock:
            yield
            for event in events:
                event.ack()
            sent, self._sent = self._sent, False
        if sent:
            await self.app.consumer.commit()

    def _guard_commits(self) -> None:
        if self._guarded:
            return
        consumer = self.app.consumer
        unguarded: Callable[..., Awaitable[bool]] = consumer.commit

        async def commit(*args: Any, **kwargs: Any) -> bool:
            async with self._lock:
                await self.before_commit()
                return await unguarded(*args, **kwargs)

        consumer.commit = commit  # type: ignore[method-assign]  # Faust's commit loop calls it by attribute
        self._guarded = True
