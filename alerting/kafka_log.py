"""Kafka as the record of truth for alarm state: the transitions and actions topics, read whole.

Every instance reads both topics from the beginning (no consumer group: each needs every
partition) and folds them into its :class:`AlarmBook`; it is *caught up* once it has read what the
topics held when it started. Actions are published keyed by enterprise; :meth:`AlarmLog.applied`
lets the API answer only after its own book has folded the action it wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hazmon import topics, wire

from alerting.book import AlarmBook
from alerting.model import ActionRefused, Alarm, AlarmAction, AlarmEvent

log = logging.getLogger(__name__)

OnEvent = Callable[[AlarmEvent, bool], None]   # (event, live): live is False while replaying history


@dataclass(frozen=True, slots=True)
class AlertingTopics:
    transitions: str = topics.ALARM_TRANSITIONS
    actions: str = topics.ALARM_ACTIONS
    readings: str = topics.READINGS
    ingest_stats: str = topics.INGEST_STATS


async def ensure_topics(bootstrap: str, names: list[str], partitions: int, timeout_s: float = 30.0) -> dict[str, int]:
    """Create the topics that are missing; return each topic's partition count once all have leaders."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another instance created it meanwhile
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            described = await admin.describe_topics(names)
            counts = {d["topic"]: len(d["partitions"]) for d in described if d["error_code"] == 0}
            if all(counts.get(n) for n in names):
                return counts
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Kafka topics without partitions after {timeout_s} s: {names}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


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
    def __init__(self, bootstrap: str, names: AlertingTopics, book: AlarmBook, on_event: OnEvent) -> None:
        self._bootstrap = bootstrap
        self._names = names
        self._book = book
        self._on_event = on_event
        # the rules worker writes transitions in Kafka transactions: a killed worker's aborted
        # records stay in the log and must not be folded (read_committed skips them)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          isolation_level="read_committed",
                                          max_partition_fetch_bytes=4 * 1024 * 1024)
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=0)
        self._waiting: dict[str, asyncio.Future[Alarm | None]] = {}
        self._catch_up_to: dict[TopicPartition, int] = {}
        self.caught_up = asyncio.Event()

    async def start(self, partition_counts: dict[str, int]) -> None:
        await self._producer.start()
        await self._consumer.start()
        partitions = [TopicPartition(topic, p) for topic in (self._names.transitions, self._names.actions)
                      for p in range(partition_counts[topic])]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        ends = await self._consumer.end_offsets(partitions)
        self._catch_up_to = {tp: end for tp, end in ends.items() if end > 0}

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def publish(self, action: AlarmAction) -> None:
        await self._producer.send_and_wait(self._names.actions, wire.encode(action), key=action["enterprise"].encode())

    def applied(self, action_id: str) -> asyncio.Future[Alarm | None]:
        """A future resolved when this instance folds ``action_id`` (or failed with why it was refused)."""
        return self._waiting.setdefault(action_id, asyncio.get_running_loop().create_future())

    async def run(self) -> None:
        await self._replay_history()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    value = _decode(record)
                    if value is not None:
                        self._fold(tp.topic, value, live=True)

    async def _replay_history(self) -> None:
        """Fold what the topics held at start, merged by each record's own time, then declare caught up.

        The two topics interleave differently on every read; folding history in time order (as it
        happened live) makes every replay build the same book and write the same InfluxDB points.
        """
        history: list[tuple[int, int, str, dict]] = []
        later: list[tuple[str, dict]] = []
        while self._catch_up_to:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                end = self._catch_up_to.get(tp, 0)
                for record in records:
                    value = _decode(record)
                    if value is None:
                        continue
                    if record.offset < end:
                        is_action = tp.topic == self._names.actions
                        at = value.get("ts" if is_action else "emitted_ms")
                        history.append((at if isinstance(at, int) else 0, int(is_action), tp.topic, value))
                    else:
                        later.append((tp.topic, value))
            for tp, end in list(self._catch_up_to.items()):
                if await self._consumer.position(tp) >= end:
                    del self._catch_up_to[tp]
        history.sort(key=lambda item: (item[0], item[1]))
        for _, _, topic, value in history:
            self._fold(topic, value, live=False)
        log.info("alarm log caught up", extra={"alarms": len(self._book.alarms), "records": len(history)})
        self.caught_up.set()
        for topic, value in later:
            self._fold(topic, value, live=True)

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
                self._on_event(event, live)
            return
        waiter = self._waiting.pop(record["action_id"], None)
        try:
            event = self._book.apply_action(record)  # type: ignore[arg-type]
        except ActionRefused as refused:
            log.info("action refused", extra={"action": record["action"], "alarm": record.get("alarm"), "code": refused.code})
            if waiter is not None and not waiter.done():
                waiter.set_exception(refused)
            return
        if waiter is not None and not waiter.done():
            waiter.set_result(None if event is None else event.alarm)
        if event is not None:
            self._on_event(event, live)
