"""Records alerting hands to other stages through Kafka, sent in order off the alarm path, kept until Kafka
acknowledged them.

:meth:`TopicSender.enqueue` is called from the service's change callback, which is synchronous and on
the alarm path: the record is only queued there, and one task sends the queue through an idempotent
producer (``acks=all``). The guarantee: a record queued is delivered at least once, and each key's records
reach their partition in the order they were queued; within one run, a record appears twice only when a
delivery failed without Kafka saying whether it was written (a produce request lost with its broker), and
then the copies are adjacent in the partition (across a crash: below).

How: the records wait in one lane per partition (the producer's key partitioner picks it), in queue order.
Each lane has at most one batch with the producer at a time, of as many of its first records as fit
(the records queued while the previous batch was under way: many in flight, no record awaited alone);
a record leaves its lane only once the batch holding it is acknowledged. ``AIOKafkaProducer.send`` alone
would drop a record whose delivery fails after it was buffered (its partition without a leader for longer
than ``request_timeout_ms``, a broker refusing it), and a later batch of the same partition could be
written before the failed one. When a delivery fails, nothing more is handed to that producer; once its
other batches are settled it is closed, and a new producer (a new producer id: the old one's sequence
numbers have a gap Kafka would refuse) sends every record not yet acknowledged again, in queue order.
While Kafka is away the records wait in memory (the alarm log waits with them: nothing new is folded
without Kafka). :meth:`TopicSender.stop` waits up to ``stop_timeout_s`` for what is queued to be
acknowledged and logs, at error level, how many records it could not deliver.

Across a crash: with a :class:`Journal` (alerting's ledger), each record queued is also staged there and
each one acknowledged is named there, for its owner to commit (the ledger does with the alarm log's next
write: a record made by folding a batch is committed together with that batch's offsets, so the offsets
never pass a record that neither Kafka nor the ledger holds). :meth:`TopicSender.start` queues first what
the journal still holds, in the order it was queued: records a killed process left unacknowledged (or
acknowledged just before the kill, not yet marked: a repeat of the same record, as the docs allow). Used by
``alerting.change_topic`` (for the uplink) and ``alerting.series_topic`` (for the recorder).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

log = logging.getLogger(__name__)
RETRY_S = 1.0           # between a failed delivery (or a producer that would not start) and the next producer
CLOSE_S = 1.0           # how long a producer may take to close once nothing more is awaited of it


Entry = tuple[str, int]   # a record in the journal: (the run that queued it, its number in that run)


class Journal(Protocol):
    """Where the records queued are kept until Kafka acknowledged them (``alerting.ledger.Ledger``)."""

    def stage_unsent(self, topic: str, run: str, number: int, key: bytes, value: bytes) -> None: ...

    def stage_sent(self, topic: str, entries: list[Entry]) -> None: ...

    async def unsent(self, topic: str) -> list[tuple[Entry, bytes, bytes]]: ...


@dataclass(slots=True)
class _Record:
    number: int         # place in the queue: the order records are sent again after a failure
    key: bytes
    value: bytes
    entry: Entry        # its place in the journal


@dataclass(slots=True)
class _Lane:
    """One partition's records not yet acknowledged, in queue order; the first ``in_flight`` are the batch
    the producer is delivering (0: none)."""

    records: deque[_Record] = field(default_factory=deque)
    in_flight: int = 0


class TopicSender:
    def __init__(self, bootstrap: str, topic: str, task_name: str, *, request_timeout_ms: int = 40_000,
                 stop_timeout_s: float = 3.0, journal: Journal | None = None) -> None:
        self.topic = topic
        self._journal = journal
        self._run_id = uuid.uuid4().hex[:12]
        self._bootstrap = bootstrap
        self._task_name = task_name
        self._request_timeout_ms = request_timeout_ms
        self._stop_timeout_s = stop_timeout_s
        self._partitioner = DefaultPartitioner()
        self._incoming: deque[_Record] = deque()     # queued, not yet on a lane of the current producer
        self._lanes: dict[int, _Lane] = {}
        self._wake = asyncio.Event()                 # a record queued, a batch settled
        self._all_acknowledged = asyncio.Event()
        self._all_acknowledged.set()
        self._failure: BaseException | None = None   # the first failed delivery of the current producer
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task | None = None
        self._accepted = 0      # records queued since start
        self.sent = 0           # records Kafka acknowledged since start

    @property
    def queued(self) -> int:
        """Records queued and not yet acknowledged by Kafka."""
        return self._accepted - self.sent

    async def start(self) -> None:
        """Queue what the journal holds (a previous run's records not known acknowledged), then start sending."""
        if self._journal is not None:
            left = await self._journal.unsent(self.topic)
            for entry, key, value in left:
                self._queue(key, value, entry)
            if left:
                log.warning("records a previous run left unacknowledged queued again",
                            extra={"topic": self.topic, "records": len(left)})
        self._producer = self._new_producer()
        await self._producer.start()
        self._task = asyncio.create_task(self._run(), name=self._task_name)

    def enqueue(self, key: bytes, value: bytes) -> None:
        """Queue one record (and stage it in the journal); never blocks."""
        entry = (self._run_id, self._accepted)
        if self._journal is not None:
            self._journal.stage_unsent(self.topic, *entry, key, value)
        self._queue(key, value, entry)

    def _queue(self, key: bytes, value: bytes, entry: Entry) -> None:
        self._incoming.append(_Record(self._accepted, key, value, entry))
        self._accepted += 1
        self._all_acknowledged.clear()
        self._wake.set()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(bootstrap_servers=self._bootstrap, enable_idempotence=True, acks="all",
                                request_timeout_ms=self._request_timeout_ms)

    async def _run(self) -> None:
        while True:
            assert self._producer is not None
            try:
                await self._deliver(self._producer)
            except Exception as failure:  # noqa: BLE001 - whatever the producer raised, a new one sends again
                log.warning("delivery failed, sending what is not acknowledged again through a new producer",
                            extra={"topic": self.topic, "records": self.queued, "error": repr(failure)},
                            exc_info=not isinstance(failure, KafkaError))   # a traceback for the unexpected
            await self._settle()
            await self._close(self._producer)
            self._producer = None
            self._requeue()
            self._producer = await self._started_producer()

    async def _deliver(self, producer: AIOKafkaProducer) -> None:
        """Hand the lanes' records to ``producer``, one batch per partition at a time, until a delivery
        fails (raised)."""
        self._failure = None
        partitions = sorted(await producer.partitions_for(self.topic))
        while True:
            if self._failure is not None:
                raise self._failure
            self._wake.clear()
            while self._incoming:
                record = self._incoming.popleft()
                partition = self._partitioner(record.key, partitions, partitions)
                self._lanes.setdefault(partition, _Lane()).records.append(record)
            for partition, lane in self._lanes.items():
                if self._failure is None and lane.records and not lane.in_flight:
                    await self._send_batch(producer, partition, lane)
            await self._wake.wait()

    async def _send_batch(self, producer: AIOKafkaProducer, partition: int, lane: _Lane) -> None:
        batch = producer.create_batch()
        count = 0
        for record in lane.records:         # the first record always fits; a batch closes when full
            if batch.append(key=record.key, value=record.value, timestamp=None) is None:
                break
            count += 1
        batch.close()
        delivery = await producer.send_batch(batch, self.topic, partition=partition)
        lane.in_flight = count
        delivery.add_done_callback(lambda done: self._settled(lane, done))

    def _settled(self, lane: _Lane, delivery: asyncio.Future) -> None:
        """A batch of ``lane`` acknowledged (its records leave the lane) or failed (they stay, for the next producer)."""
        count, lane.in_flight = lane.in_flight, 0
        failure = delivery.exception() if not delivery.cancelled() else KafkaError("delivery cancelled")
        if failure is None:
            done = [lane.records.popleft().entry for _ in range(count)]
            if self._journal is not None:
                self._journal.stage_sent(self.topic, done)
            self.sent += count
            if not self.queued:
                self._all_acknowledged.set()
        elif self._failure is None:
            self._failure = failure
        self._wake.set()

    async def _settle(self) -> None:
        """Wait until no batch is with the producer: each is acknowledged or failed (while Kafka is away,
        an idempotent producer retries a batch it sent until Kafka answers)."""
        while any(lane.in_flight for lane in self._lanes.values()):
            self._wake.clear()
            await self._wake.wait()

    def _requeue(self) -> None:
        """Every record not acknowledged back in the queue, in queue order, for the next producer's lanes."""
        waiting = [record for lane in self._lanes.values() for record in lane.records] + list(self._incoming)
        self._incoming = deque(sorted(waiting, key=lambda record: record.number))
        self._lanes = {}

    async def _started_producer(self) -> AIOKafkaProducer:
        while True:
            await asyncio.sleep(RETRY_S)
            producer = self._new_producer()
            try:
                await producer.start()
            except KafkaError as failure:
                log.warning("no producer, Kafka away; trying again", extra={"topic": self.topic, "error": repr(failure)})
                await producer.stop()
                continue
            except asyncio.CancelledError:
                await producer.stop()
                raise
            return producer

    @staticmethod
    async def _close(producer: AIOKafkaProducer) -> None:
        """Close ``producer`` within ``CLOSE_S``: its stop waits for every batch, and an idempotent aiokafka
        producer retries a batch until Kafka answers; past the bound its sender task (no public way) is
        ended, which lets stop return, dropping what it held."""
        closing = asyncio.ensure_future(producer.stop())
        done, _ = await asyncio.wait({closing}, timeout=CLOSE_S)
        if not done:
            sender = producer._sender.sender_task
            if sender is not None:
                sender.cancel()
        await closing

    async def stop(self) -> None:
        """Wait up to ``stop_timeout_s`` for every queued record to be acknowledged, then close; logs what
        could not be delivered (with a journal, kept there for the next start)."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._stop_timeout_s):
                    await self._all_acknowledged.wait()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._producer is not None:
            await self._close(self._producer)
            self._producer = None
        if self.queued:
            log.error("records not delivered at stop", extra={"topic": self.topic, "records": self.queued})
