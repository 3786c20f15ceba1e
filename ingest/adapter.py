"""The adapter: MQTT messages in, Kafka records out, each MQTT message acknowledged only after
Kafka acknowledged what it produced.

Messages come through a broker session per enterprise (or per shard, ``ingest.sessions``); each
session's receiving task parses messages into the current ``FlushBatch``; a flusher task takes the batch
once the previous flush finished and the flush interval passed (25 ms when quiet, up to 100 ms under
load: ``flush_interval_s``), writes it to Kafka, then acknowledges its messages in arrival order. When Kafka is down the flush waits, the
batch fills, the receiver stops taking messages, and the broker stops sending once
``ingest_receive_maximum`` messages are unacknowledged (a broker that does not, as Mosquitto 2.0.11
with a backlog, is made to wait: the link stops reading). Memory stays bounded; nothing is dropped.
An enterprise over its rate with a session of its own is not read for a while (its backlog waits in
its own broker queue, what the session already holds waits unparsed); a message over its device's rate, or its enterprise's in a shared session
(``ingest.limits``), is acknowledged, counted and answered without being parsed or written; answers
on errors topics have a rate per enterprise too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from typing import cast

from hazmon.logs import printable
from hazmon.registry import Registry, load_registry
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from hazmon.wire import encode
from ingest.directory import DeviceDirectory
from ingest.kafka_sink import KafkaSink
from ingest.limits import RateLimits
from ingest.mqtt_frames import Message
from ingest.mqtt_link import MqttLink
from ingest.outbound import Ack, FlushBatch, KafkaRecord, Reply
from ingest.parser import ParseRules, parse_message
from ingest.reasons import text
from ingest.sequence import SeqTracker, SeqVerdict
from ingest.session_plan import SessionPlan
from ingest.sessions import SessionPool
from ingest.stats import FlushLatencies, IngestCounters
from ingest.topics import Kind, split_topic

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


RATE_WINDOW_S = 1.0   # the message rate that paces the flushes is of about the last second


class MessageRate:
    """Messages per second over about the last ``RATE_WINDOW_S``, exponentially weighted: a burst (devices
    reporting on the same tick) does not set the flushes' pace, a sustained load does."""

    def __init__(self) -> None:
        self._weighted = 0.0   # messages, each weighted by exp(-its age / RATE_WINDOW_S)

    def add(self, messages: int, over_s: float) -> float:
        """``messages`` more, taken ``over_s`` after the last: the rate now."""
        self._weighted = self._weighted * math.exp(-max(over_s, 0.0) / RATE_WINDOW_S) + messages
        return self._weighted / RATE_WINDOW_S


def flush_interval_s(settings: Settings, messages_per_s: float) -> float:
    """The time from one flush's start to the next at ``messages_per_s`` (``MessageRate``):
    ``ingest_flush_interval_s`` on a quiet platform, growing with the rate up to
    ``ingest_flush_interval_max_s`` at ``ingest_flush_busy_rate`` (never below the shortest). A flush
    costs the same whatever it holds, and so does each of the records it writes for the rules, the
    recorder and Kafka: under load a longer wait makes fewer, larger ones (issue #18: at 20 000
    readings/s, 100 ms instead of 25 cut hazmon's CPU per reading by ~40 %), where a quiet platform
    has the CPU to spare and its alarms keep the shortest wait."""
    paced = settings.ingest_flush_interval_max_s * messages_per_s / settings.ingest_flush_busy_rate
    return max(settings.ingest_flush_interval_s, min(settings.ingest_flush_interval_max_s, paced))


class IngestAdapter:
    def __init__(self, settings: Settings, sink: KafkaSink | None = None) -> None:
        self._settings = settings
        self._topics = PlatformTopics.of(settings)
        self._sink = sink or KafkaSink(settings)
        self._directory = DeviceDirectory(frozenset(), {}, {}, "")  # the registry, indexed for the hot path
        self._seqs = SeqTracker()
        self._rules = ParseRules.from_settings(settings)
        self._limits = RateLimits(settings)
        self._counters = IngestCounters()
        self._latencies = FlushLatencies()
        self._batch = FlushBatch(self._topics)
        self._flushing = 0              # messages of the batch being written now
        self._ready = asyncio.Event()   # the batch has messages
        self._due = asyncio.Event()     # the batch cannot grow: flush it without waiting for the interval
        self._room = asyncio.Event()    # the flusher took the batch
        self._draining = False
        self._sessions = SessionPool(settings, self._take)
        self._replies: set[asyncio.Task[None]] = set()
        self._answers_lost: Counter[str] = Counter()  # since the last stats period, by cause
        self._paused: set[str] = set()  # enterprises whose session was paused for their rate this period
        self.connected = self._sessions.connected  # every session subscribed
        self.messages_taken = 0         # since start, for the log and for tests of the shared group

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged: at most ``ingest_receive_maximum`` + 1 (every
        link stops reading past that, whatever the broker sends)."""
        queued = sum(link.queued for link in self._sessions.links.values())
        return queued + len(self._batch) + self._flushing

    @property
    def in_flight_bytes(self) -> int:
        """Payload bytes of the messages received on the current connections and not yet acknowledged:
        at most ``ingest_max_unacked_bytes`` plus one message."""
        return self._sessions.budget.bytes

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then drain: flush and acknowledge what was taken, and exit."""
        registry = await asyncio.to_thread(load_registry, self._settings.registry_dir)  # RegistryError: not started
        watch = RegistryWatch(self._settings.registry_dir, registry)
        watch.listeners.append(self._registry_changed)
        await self._sink.start()
        self._registry_changed(registry)
        receiver = asyncio.create_task(self._sessions.failed.wait(), name="ingest-sessions")
        flusher = asyncio.create_task(self._flush_forever(), name="ingest-flush")
        helpers = [asyncio.create_task(watch.watch(self._settings.ingest_registry_poll_s)),
                   asyncio.create_task(self._publish_stats_forever())]
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([stopped, receiver, flusher], return_when=asyncio.FIRST_COMPLETED)
            if self._sessions.failure is not None:
                raise self._sessions.failure
            if flusher.done() and (failure := flusher.exception()) is not None:
                raise failure
            log.info("stopping: draining in-flight messages", extra={"messages": len(self._batch)})
            self._draining = True  # the receiver takes no more; the connection stays for the acks
            self._ready.set()
            self._due.set()
            await self._drain(flusher)
        finally:
            for task in (stopped, receiver, flusher, *helpers):
                task.cancel()
            await asyncio.gather(stopped, receiver, flusher, *helpers, return_exceptions=True)
            await self._sessions.close()
            await self._sink.stop()
        log.info("stopped", extra={"messages_taken": self.messages_taken})

    def _registry_changed(self, registry: Registry) -> None:
        """A new registry in use: its devices and points for the parser, its enterprises' sessions."""
        self._directory = DeviceDirectory.from_registry(registry)
        self._sessions.apply(self._directory.enterprises)

    async def _drain(self, flusher: asyncio.Task[None]) -> None:
        try:
            async with asyncio.timeout(self._settings.ingest_drain_timeout_s):
                await flusher   # cancelled when the time is up
            async with asyncio.timeout(self._settings.ingest_drain_timeout_s):
                await self._publish_stats()
        except TimeoutError:
            log.warning("drain timed out: unacknowledged messages stay with the broker and come again",
                        extra={"timeout_s": self._settings.ingest_drain_timeout_s})
            return
        if self._replies:
            await asyncio.wait(self._replies, timeout=5)

    async def _take(self, link: MqttLink, session: SessionPlan, message: Message) -> None:
        route = split_topic(message.topic)
        debt_s = self._debt_s(session, route)
        if debt_s > 0:
            await asyncio.sleep(debt_s)
        if self._draining:  # left unacknowledged: the broker sends it again
            return
        self.messages_taken += 1
        self._classify(message, route, link, session)
        self._ready.set()
        full = len(self._batch) >= self._settings.ingest_batch_messages
        if full or link.full:
            self._due.set()
        if full:
            self._room.clear()
            await self._room.wait()

    def _debt_s(self, session: SessionPlan, route: tuple[str, str, Kind] | None) -> float:
        """A session of its own enterprise stops reading once the enterprise is over its rate, but
        holds what it had received (up to ``ingest_session_max_unacked_bytes``: 17 messages of 250 KB):
        those wait (this long), unparsed, until the enterprise is within its rate again. Parsed at once,
        they took a flood of large bad messages past the byte rate (bench/abuse.py)."""
        if route is None or not session.exclusive or route[0] not in session.enterprises:
            return 0.0
        return self._limits.debt_s(route[0], time.monotonic())  # at most one message's worth: nothing else spends it

    def _classify(self, message: Message, route: tuple[str, str, Kind] | None, link: MqttLink,
                  session: SessionPlan) -> None:
        """Put the message (on the topic of ``route``) into the current batch: ignored, rate-limited,
        duplicate, or parsed; pause the session of an enterprise over its rate."""
        ack: Ack = (link, message.mid)
        topic = message.topic
        payload = cast(bytes, message.payload)   # received payloads are bytes (paho declares bytes | bytearray)
        if route is None:  # outside the subscribed filters: cannot happen with the broker's routing
            log.warning("message on an unexpected topic acknowledged and ignored", extra={"topic": printable(topic)})
            self._batch.add_ignored(ack)
            return
        enterprise, device, kind = route
        recv_ms = now_ms()
        directory = self._directory
        language = self._settings.language
        first_time = enterprise not in self._limits.limited
        own_session = session.exclusive and enterprise in session.enterprises
        if own_session:
            self._pause_if_over_rate(link, enterprise, len(payload), directory)
        scope = self._limits.admit(enterprise, device, len(payload), time.monotonic(), directory,
                                   per_enterprise=not own_session)
        if scope is not None:
            limit = f"{self._limits.limit(scope):g}"
            if first_time:
                log.warning("rate limited: messages refused until the rate drops", extra={
                    "enterprise": printable(enterprise), "device": printable(device), "scope": scope, "limit": limit})
            self._batch.add_rate_limited(enterprise, device, topic, ack, recv_ms, text(
                "rate_limited", language, scope=text(scope, language), limit=limit))
            return
        verdict = parse_message(kind, enterprise, device, payload, recv_ms, directory, language, self._rules)
        gap = 0
        if verdict.seq is not None and not verdict.refused_whole:
            seen, gap = self._seqs.observe(enterprise, device, verdict.seq)
            if seen is SeqVerdict.DUPLICATE:
                self._batch.add_duplicate(verdict, ack)
                return
        self._batch.add(verdict, topic, payload, ack, gap, language)
        if verdict.refusals and self._limits.may_tell(enterprise, "log", time.monotonic()):
            first = verdict.refusals[0]
            log.info("refused", extra={"enterprise": printable(enterprise), "device": printable(device),
                                       "reasons": ",".join(dict.fromkeys(r.reason.value for r in verdict.refusals)),
                                       "refusals": len(verdict.refusals), "point": printable(first.point),
                                       "reading": first.reading_index})

    def _pause_if_over_rate(self, link: MqttLink, enterprise: str, size: int, directory: DeviceDirectory) -> None:
        wait = self._limits.spend(enterprise, size, time.monotonic(), directory)
        if not wait:
            return
        link.pause_for(wait)
        if enterprise not in self._paused:  # once per stats period
            self._paused.add(enterprise)
            log.warning("rate limited: the enterprise's session is not read until the rate drops", extra={
                "enterprise": printable(enterprise), "pause_s": f"{wait:.3f}"})

    async def _flush_forever(self) -> None:
        """Flush the batch once it has messages, at most every ``flush_interval_s`` (at once when the batch
        cannot grow, or the adapter drains): a device's readings of that time go to Kafka as one record.
        Flushing whenever the last flush ended made more records of fewer readings once the adapter was
        faster, which cost the rules, the recorder and Kafka more per reading than ingest saved."""
        loop = asyncio.get_running_loop()
        settings = self._settings
        interval = settings.ingest_flush_interval_s
        started = -interval
        rate = MessageRate()
        while True:
            await self._ready.wait()
            wait = started + interval - loop.time()
            if wait > 0 and not self._due.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._due.wait()
            now = loop.time()
            self._ready.clear()
            self._due.clear()
            batch, self._batch = self._batch, FlushBatch(self._topics)
            self._room.set()
            interval = flush_interval_s(settings, rate.add(len(batch), now - started))
            started = now
            if len(batch):
                self._flushing = len(batch)
                await self._flush(batch)
                self._flushing = 0
            if self._draining:
                if not len(self._batch):
                    return
                self._due.set()

    async def _flush(self, batch: FlushBatch) -> None:
        records = batch.kafka_records()
        if records:
            await self._sink.write_until_done(records)
            self._latencies.flushed((readings["recv_ms"] for readings in batch.readings.values()), now_ms())
        for link, mids in batch.acks_by_link().items():
            link.ack_all(mids)
        self._counters.merge(batch.counters)
        for reply in batch.replies:
            if self._limits.may_tell(reply.enterprise, "answers", time.monotonic()):
                self._send_reply(reply)

    def _send_reply(self, reply: Reply) -> None:
        """Answer on the errors topic in the background; never holds up the data path."""
        link = self._sessions.link_for(reply.enterprise)
        if link is None:
            self._answers_lost["dropped: its session is not connected"] += 1
            return
        if len(self._replies) >= self._settings.ingest_max_error_replies:
            self._answers_lost["dropped: too many pending"] += 1
            return
        task = asyncio.create_task(link.publish(reply.topic, reply.payload))
        self._replies.add(task)
        task.add_done_callback(self._reply_done)

    def _reply_done(self, task: asyncio.Task[None]) -> None:
        self._replies.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._answers_lost[f"failed: {task.exception()}"] += 1

    async def _publish_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.ingest_stats_interval_s)
            await self._publish_stats()

    async def _publish_stats(self) -> None:
        records = [KafkaRecord(self._topics.ingest_stats, r["enterprise"].encode(), encode(r))
                   for r in self._counters.take_records(now_ms())]
        records.append(KafkaRecord(self._topics.metrics, b"ingest", encode(self._latencies.take_record(now_ms(), self.in_flight))))
        self._limits.limited.clear()  # the next rate refusal or pause of an enterprise is logged again
        self._paused.clear()
        for cause, lost in self._answers_lost.items():  # one line per cause and period, not one per answer
            log.warning("errors-topic answers lost", extra={"cause": cause, "answers": lost})
        self._answers_lost.clear()
        if records:
            await self._sink.write_until_done(records)
