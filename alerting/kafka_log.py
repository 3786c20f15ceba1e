"""The alarm log: the transitions and actions topics folded into the book, the ledger written after each batch.

Every instance reads every partition of both topics (no consumer group) from where its ledger's
snapshot ends (``alerting/ledger.py``), or from the beginning when it has none, and folds them into
its :class:`AlarmBook`; it is *caught up* once it has read what the topics held when it started.
After each batch the changed alarms, their lifecycle entries and the offsets reached go to the
ledger in one transaction, and closed alarms leave memory. Actions are published keyed by
enterprise; :meth:`AlarmLog.applied` lets the API answer only after its own instance has folded
and recorded the action it wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable


import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from hazmon import wire
from hazmon.topics import PlatformTopics
from hazmon.wire import AlarmAction

from alerting.book import AlarmBook
from hazmon.consumer_lag import consumer_lags
from alerting.ledger import Ledger, Offsets, event_row
from alerting.model import ActionRefused, Alarm, AlarmEvent

log = logging.getLogger(__name__)

OnEvent = Callable[[AlarmEvent, bool], None]   # (event, live): live is False while replaying history
OnFolded = Callable[[], None]   # after each batch or replay slice: what is evaluated once per batch (colours)
REPLAY_CHUNK = 20_000   # history records folded between two ledger writes while catching up
REPLAY_SLICE = 500      # history records folded between two turns of the event loop (the API answers meanwhile)


def _decode(record: ConsumerRecord) -> dict | None:
    """The record's JSON object, or None (logged) when it is not one: one bad record never stops the log."""
    try:
        value = wire.decode(record.value)
    except orjson.JSONDecodeError as exc:
        value, error = None, str(exc)
    else:
        error = "not a JSON object"
    if isinstance(value, dict):
        return value
    log.error("undecodable record skipped", extra={"topic": record.topic, "partition": record.partition,
                                                   "offset": record.offset, "error": error})
    return None


class AlarmLog:
    def __init__(self, bootstrap: str, names: PlatformTopics, book: AlarmBook, ledger: Ledger,
                 on_event: OnEvent, on_folded: OnFolded) -> None:
        self._bootstrap = bootstrap
        self._names = names
        self._book = book
        self._ledger = ledger
        self._on_event = on_event
        self._on_folded = on_folded
        # the rules worker writes transitions in Kafka transactions: a killed worker's aborted
        # records stay in the log and must not be folded (read_committed skips them)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          isolation_level="read_committed",
                                          max_partition_fetch_bytes=4 * 1024 * 1024)
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=0)
        self._waiting: dict[str, asyncio.Future[Alarm | None]] = {}
        self._settled: list[tuple[asyncio.Future[Alarm | None], Alarm | None, ActionRefused | None]] = []
        self._events: list[tuple] = []
        self._positions: Offsets = {}
        self._recorded: Offsets = {}
        self._catch_up_to: dict[TopicPartition, int] = {}
        self.caught_up = asyncio.Event()
        self.replayed = 0   # records of the tail folded at start (since the ledger's offsets)

    async def start(self, partition_counts: dict[str, int]) -> None:
        """Restore the ledger's snapshot and seek each partition to where the snapshot ends."""
        await self._producer.start()
        await self._consumer.start()
        snapshot = await self._ledger.restore()
        self._book.restore(snapshot.alarms, snapshot.suppressions)
        partitions = [TopicPartition(topic, p) for topic in (self._names.transitions, self._names.actions)
                      for p in range(partition_counts[topic])]
        self._consumer.assign(partitions)
        begins = await self._consumer.beginning_offsets(partitions)
        ends = await self._consumer.end_offsets(partitions)
        for tp in partitions:
            at = snapshot.offsets.get((tp.topic, tp.partition))
            if at is None or not begins[tp] <= at <= ends[tp]:
                if at is not None:
                    log.warning("ledger offset outside the topic, reading the partition whole",
                                extra={"topic": tp.topic, "partition": tp.partition, "offset": at,
                                       "first": begins[tp], "end": ends[tp]})
                at = begins[tp]
            self._consumer.seek(tp, at)
            self._positions[(tp.topic, tp.partition)] = at
        self._recorded = dict(snapshot.offsets)
        self._catch_up_to = {tp: end for tp, end in ends.items() if end > self._positions[(tp.topic, tp.partition)]}
        log.info("alarm ledger restored", extra={"alarms": len(snapshot.alarms), "ledger": str(self._ledger.path),
                                                 "tail": sum(end - self._positions[(tp.topic, tp.partition)]
                                                             for tp, end in self._catch_up_to.items())})

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def publish(self, action: AlarmAction) -> None:
        await self._producer.send_and_wait(self._names.actions, wire.encode(action), key=action["enterprise"].encode())

    async def lags(self) -> list[wire.PartitionLag]:
        """Records behind on each partition of the transitions and actions topics."""
        return await consumer_lags(self._consumer)

    def applied(self, action_id: str) -> asyncio.Future[Alarm | None]:
        """A future resolved when this instance folded and recorded ``action_id`` (or failed with why it was refused)."""
        return self._waiting.setdefault(action_id, asyncio.get_running_loop().create_future())

    async def run(self) -> None:
        await self._replay_history()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            values = [(tp.topic, value) for tp, records in batches.items() for value in self._decoded(tp, records)]
            await self._recall([value for _, value in values])
            for topic, value in values:
                self._fold(topic, value, live=True)
            self._on_folded()
            await self._record()

    def _decoded(self, tp: TopicPartition, records: list[ConsumerRecord]) -> list[dict]:
        self._reached(tp, records)
        return [value for value in map(_decode, records) if value is not None]

    def _reached(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        if records:
            self._positions[(tp.topic, tp.partition)] = records[-1].offset + 1

    async def _replay_history(self) -> None:
        """Fold the tail the topics held at start, merged by each record's own time, then declare caught up.

        The two topics interleave differently on every read; folding history in time order (as it
        happened live) makes every replay build the same book and write the same InfluxDB points.
        """
        history: list[tuple[int, int, str, dict]] = []
        later: list[tuple[str, dict]] = []
        while self._catch_up_to:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                end = self._catch_up_to.get(tp, 0)
                is_action = tp.topic == self._names.actions
                for record, value in zip(records, map(_decode, records)):
                    if value is None:
                        continue
                    if record.offset < end:
                        at = value.get("ts" if is_action else "emitted_ms")
                        history.append((at if isinstance(at, int) else 0, int(is_action), tp.topic, value))
                    else:
                        later.append((tp.topic, value))
                self._reached(tp, records)
            for tp, end in list(self._catch_up_to.items()):
                if await self._consumer.position(tp) >= end:
                    del self._catch_up_to[tp]
        history.sort(key=lambda item: (item[0], item[1]))
        for start in range(0, len(history), REPLAY_CHUNK):
            chunk = history[start:start + REPLAY_CHUNK]
            await self._recall([value for *_, value in chunk])
            for first in range(0, len(chunk), REPLAY_SLICE):
                for _, _, topic, value in chunk[first:first + REPLAY_SLICE]:
                    self._fold(topic, value, live=False)
                self._on_folded()
                await asyncio.sleep(0)   # a long history: the API, the desk and /healthz answer while it folds
            # closed alarms leave memory as the history goes; the offsets only once all of it is folded
            await self._record(offsets=start + REPLAY_CHUNK >= len(history))
        self.replayed = len(history)
        log.info("alarm log caught up", extra={"alarms": len(self._book.alarms), "records": len(history)})
        self.caught_up.set()
        await self._recall([value for _, value in later])
        for topic, value in later:
            self._fold(topic, value, live=True)
        self._on_folded()
        await self._record()

    async def _recall(self, values: list[dict]) -> None:
        """Bring back from the ledger the closed alarms that these records are about (a late record, a refused act)."""
        missing = set()
        for value in values:
            alarm_id = value.get("alarm") if "action" in value else value.get("id")
            if isinstance(alarm_id, str) and alarm_id not in self._book.alarms:
                missing.add(alarm_id)
        if missing:
            self._book.restore(await self._ledger.alarms(missing))

    async def _record(self, offsets: bool = True) -> None:
        """Write what the folded records changed (and how far they reach) with the records for other stages
        they made (``Ledger.stage_unsent``), then let closed alarms go and answer the API."""
        alarms, suppressions = self._book.take_changes()
        reached = {key: at for key, at in self._positions.items() if offsets and self._recorded.get(key) != at}
        if alarms or suppressions or self._events or reached or self._ledger.unsent_staged:
            events, self._events = self._events, []
            await self._ledger.write(alarms, events, suppressions, reached)
            self._recorded.update(reached)
            self._book.evict_closed(alarms)
        settled, self._settled = self._settled, []
        for waiter, alarm, refused in settled:
            if waiter.done():
                continue
            if refused is not None:
                waiter.set_exception(refused)
            else:
                waiter.set_result(alarm)

    def _fold(self, topic: str, record: dict, live: bool) -> None:
        try:
            self._fold_record(topic, record, live)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("malformed record skipped", extra={"topic": topic, "alarm": record.get("id") or record.get("alarm"),
                                                         "error": repr(exc)})

    def _fold_record(self, topic: str, record: dict, live: bool) -> None:
        if topic == self._names.transitions:
            event = self._book.apply_transition(record)  # type: ignore[arg-type]
            if event is not None:
                self._changed(event, live)
            return
        waiter = self._waiting.pop(record["action_id"], None)
        try:
            event = self._book.apply_action(record)  # type: ignore[arg-type]
        except ActionRefused as refused:
            log.info("action refused", extra={"action": record["action"], "alarm": record.get("alarm"), "code": refused.code})
            if waiter is not None:
                self._settled.append((waiter, None, refused))
            return
        if waiter is not None:
            self._settled.append((waiter, None if event is None else event.alarm, None))
        if event is not None:
            self._changed(event, live)

    def _changed(self, event: AlarmEvent, live: bool) -> None:
        self._events.append(event_row(event))
        self._on_event(event, live)
