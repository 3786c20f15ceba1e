"""Exactly-once for the rules worker: outputs in the source partition's Kafka transaction, commits between batches.

faust-streaming 0.15 opens one transaction per source partition (transactional id
``APP-GROUP-PARTITION``) and commits each with the offsets of that partition, and with the table
changelog records attached to them. Four gaps remain that would let a crashed worker's successor
repeat committed output or miss state, or crash a survivor, and a fifth that could stall it; this module
closes them:

* A record sent with ``Topic.send`` to a topic this app does not consume gets no transactional
  id (Faust cannot work out its partition's group), so it is written outside any transaction
  and is visible at once, while the offsets that produced it may be aborted. ``send`` here names
  the transaction itself: every topic of the worker is keyed by enterprise with the same number
  of partitions, so an output belongs to the transaction of the partition number it is sent to.
* Faust commits on a timer, which may fall between an agent sending a batch's outputs and the
  batch's offsets being acknowledged: the outputs then commit with the previous offsets and are
  produced again after a crash. ``batch()`` holds a lock from the first record of a batch to its
  acknowledgement, and the consumer's ``commit`` takes the same lock and first awaits
  ``before_commit``, which sends the changed state of the partitions committing to the table's changelog
  with ``send_state``.
* Faust's own table writes are not used: it queues their changelog records in a background buffer,
  and one still on its way when a commit starts lands in the next transaction (state behind the
  outputs after a crash) or, when a rebalance has just ended the transactions, crashes the worker
  ("Can't send messages while not in transaction"). The worker writes the table's store directly and
  sends the changelog record here, awaited, inside the partition's transaction.

* A worker that loses a partition in a rebalance may keep that partition's transactional producer
  (seen when the first worker held every partition until a second joined): the new owner's
  producer fences it, and when the partition comes back after a failover the stale producer is
  reused and the survivor crashes with ``ProducerFenced``. ``mend_producers`` stops, at
  every rebalance, the producers of partitions the worker no longer owns. Faust's
  ``begin_transaction`` also creates a missing producer and registers it only after an await, so
  two calls for one id could make two producers that fence each other (``ProducerFenced`` at the
  next commit): the calls are serialised per id. And after a rebalance a
  partition's producer was seen between transactions (its last one committed, the next not
  begun), so the next send or offset commit crashed the worker ("Not in the middle of a
  transaction"). A producer in that clean state is given its next transaction before it is used;
  one in any other state (aborting, fenced, failed) is left to fail loudly. ``install`` puts all of
  this in place at the app's start, before the first rebalance.

* A commit that never returns (seen once in CI after a kill: the worker alive and silent, its later
  outputs never committed) would hold the batch lock, and every input with it, for good: past
  ``rules_commit_timeout_s`` the worker crashes and ``hazmon rules worker`` starts a fresh one.

Outputs (alarm transitions: every record on the transitions topic is one the desk waits for) are
visible to ``read_committed`` consumers only once their transaction commits, so a batch that sent
any commits, at once, the transactions of the partitions it sent them to, and only those, instead
of waiting for Faust's timer (``rules_commit_s``); the quiet bulk of readings, and the state of
every other partition, keep the timer's batching. A partition's transaction holds only that
partition's outputs, state and offsets, so committing it alone keeps them together; the state of the
other partitions is not even sent then (``before_commit`` is told which partitions commit): sent, it
would be sent again at their own commit, since it changes again meanwhile. An enterprise's whole state
is one changelog record, so the state written per second is the number of times it is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Set
from contextlib import asynccontextmanager
from typing import Any

import faust
from aiokafka.producer.transaction_manager import TransactionState
from faust.types import TP

log = logging.getLogger("stream_rules.transactions")


class PartitionTransactions:
    def __init__(self, app: faust.App, source_topic: str, before_commit: Callable[[Set[int] | None], Awaitable[None]],
                 commit_timeout_s: float) -> None:
        self.app = app
        self.source_topic = source_topic   # any consumed topic: all share one partition group
        self.before_commit = before_commit  # sends the state the commit of these partitions (None: all) must carry
        self.commit_timeout_s = commit_timeout_s  # past it a commit (or the batch holding its lock) is stuck
        self._lock = asyncio.Lock()
        self._installed = False
        self._sent_to: set[int] = set()   # partitions the running batch sent outputs to: committed after it

    def transactional_id(self, partition: int) -> str | None:
        if not self.app.in_transaction:
            return None
        group = self.app.assignor.group_for_topic(self.source_topic)
        return f"{self.app.conf.id}-{group}-{partition}"

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int,
                   headers: list[tuple[str, bytes]] | None = None) -> Awaitable[Any]:
        """Queue an output to ``topic``/``partition`` inside that partition's open transaction; the batch
        commits that transaction when it ends."""
        self._sent_to.add(partition)
        return await self.send_state(topic, key, value, partition, headers)

    async def send_state(self, topic: str, key: bytes | None, value: bytes, partition: int,
                         headers: list[tuple[str, bytes]] | None = None) -> Awaitable[Any]:
        """Like ``send``, for state (changelog) records: no immediate commit is asked for."""
        transactional_id = self.transactional_id(partition)
        if transactional_id is not None:
            await self._resume([transactional_id])
        return await self.app.producer.send(topic, key, value, partition, None, headers, transactional_id=transactional_id)

    async def _resume(self, transactional_ids: Iterable[str]) -> None:
        """Begin the next transaction of each producer that is between two (its last one committed)."""
        producers = self.app.producer._transaction_producers  # type: ignore[attr-defined]  # Faust's per-id producers
        for transactional_id in transactional_ids:
            producer = producers.get(transactional_id)
            if producer is not None and producer._txn_manager.state is TransactionState.READY:
                log.warning("transaction had not been begun; beginning it", extra={"transactional_id": transactional_id})
                await self.app.producer.begin_transaction(transactional_id)

    @asynccontextmanager
    async def batch(self, events: Iterable[faust.EventT]) -> AsyncIterator[None]:
        """Process a batch with no commit in between; its events are acknowledged before the lock opens. Then
        the transactions of the partitions it sent outputs to commit, not waiting for the timer."""
        async with self._lock:
            yield
            for event in events:
                event.ack()
            sent_to, self._sent_to = self._sent_to, set()
        if sent_to:
            await self.app.consumer.commit({tp for tp in self.app.consumer.assignment() if tp.partition in sent_to})

    def install(self) -> None:
        """Guard every commit and, under exactly-once, mend the producers; idempotent. Call it at the app's
        start, before the consumer first joins its group: Faust starts app tasks only after the first
        recovery, and a rebalance before that (two workers starting together) once left a worker the
        producer of a partition that moved away; when the partition came back after a failover that
        stale producer was fenced and the survivor crashed."""
        if self._installed:
            return
        self._installed = True
        self._guard_commits()
        if self.app.in_transaction:
            self.mend_producers()

    def mend_producers(self) -> None:
        """From now on: one ``begin_transaction`` per id at a time, and at each rebalance the producers of
        partitions it took away stopped before Faust starts the new ones."""
        producer = self.app.producer
        begin: Callable[[str], Awaitable[None]] = producer.begin_transaction
        locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

        async def begin_transaction(transactional_id: str) -> None:
            async with locks[transactional_id]:
                await begin(transactional_id)

        producer.begin_transaction = begin_transaction  # type: ignore[method-assign]  # maybe_begin_transaction calls it
        manager = self.app.consumer.transactions
        start_assigned: Callable[..., Awaitable[None]] = manager.on_rebalance

        async def on_rebalance(assigned: set, revoked: set, newly_assigned: set) -> None:
            # owned: counted from the source topic's partitions alone, whatever else the assignment holds
            owned = {self.transactional_id(tp.partition) for tp in assigned if tp.topic == self.source_topic}
            ours = str(self.transactional_id(0))[:-1]   # "APP-GROUP-": the partition group's producers
            running = producer._transaction_producers   # type: ignore[attr-defined]  # Faust's own; no public list
            for transactional_id in [t for t in running if t.startswith(ours) and t not in owned]:
                log.info("partition moved away: its producer stopped", extra={"transactional_id": transactional_id})
                await producer.stop_transaction(transactional_id)
            await start_assigned(assigned, revoked, newly_assigned)

        manager.on_rebalance = on_rebalance  # type: ignore[method-assign]  # Faust's app calls it by attribute

    def _guard_commits(self) -> None:
        consumer = self.app.consumer
        unguarded: Callable[..., Awaitable[bool]] = consumer.commit

        async def commit(topics: Set[Any] | None = None, *args: Any, **kwargs: Any) -> bool:
            # Faust's timer commits every partition (no topics); a batch with outputs, its partitions' TPs
            partitions = (None if topics is None or not all(isinstance(tp, TP) for tp in topics)
                          else {tp.partition for tp in topics})
            try:
                async with asyncio.timeout(self.commit_timeout_s), self._lock:
                    await self.before_commit(partitions)
                    if self.app.in_transaction:
                        await self._resume(list(self.app.producer._transaction_producers))  # type: ignore[attr-defined]
                    return await unguarded(topics, *args, **kwargs)
            except TimeoutError as stuck:
                await self._crash_stuck(stuck)
                raise

        consumer.commit = commit  # type: ignore[method-assign,assignment]  # Faust's commit loop calls it by attribute

    async def _crash_stuck(self, stuck: TimeoutError) -> None:
        """End the worker: a commit that never returns holds the batch lock, and with it every input, for
        good (seen once after a kill: the worker alive and silent, its outputs never committed). The
        successor resumes from the last commit; the producers' states say where it stuck."""
        producers = getattr(self.app.producer, "_transaction_producers", {})
        states = {tid: str(p._txn_manager.state) for tid, p in producers.items() if hasattr(p, "_txn_manager")}
        log.error("commit stuck: the worker stops and restarts from the committed state",
                  extra={"timeout_s": self.commit_timeout_s, "batch_running": self._lock.locked(), "producers": states})
        await self.app.crash(stuck)
