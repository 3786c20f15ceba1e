"""The Faust layer around the engine: topics, the state table, agents and timers.

Three agents read READINGS, EVENTS and DEVICE_STATUS in batches (``stream.take_events``); events
have their own agent with a short batch window so a fire alarm never waits behind readings. Every
topic is keyed by enterprise and has ``settings.kafka_partitions`` partitions, and the state table
is keyed by enterprise with the producer's partitioner, so the record, its enterprise's state and
its output all live in the same partition number: with ``rules_exactly_once`` one Kafka transaction
per partition commits the outputs, the changelog and the input offsets together
(``stream_rules.transactions``).

The deadman is an input too: a timer puts a tick (processing time) on the app's own ticks topic,
one per partition it owns, and an agent judges silence when it reads it. So the deadman's alarms
commit in the partition's transaction like all others, and a replay after a crash judges the same
tick at the same time.

A record the rules cannot evaluate (not JSON, not the wire shape, in another enterprise's partition,
or one the engine raises on) is set aside: dead-lettered in its batch's transaction, counted, logged,
and the batch goes on without it (``stream_rules.admission``, ``.runtime``, ``.dead_letters``). Only what
concerns the worker itself (Kafka, a transaction, a commit) goes on to ``fatal``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Set

import faust
import orjson
from aiokafka.partitioner import murmur2

from hazmon.registry.loader import load_registry
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from hazmon.wire import AlarmTransition
from stream_rules.acked_offsets import drop_duplicate_acks
from stream_rules.admission import Kind, Unfit, admit
from stream_rules.dead_letters import DeadLetter
from stream_rules.engine import RuleEngine
from stream_rules.fetch_wait import limit_fetch_wait
from stream_rules.metrics import RulesMetrics
from stream_rules.paused_fetches import drain_only_active
from stream_rules.recovery import TransactionalTableManager
from stream_rules.runtime import TableRuntime
from stream_rules.stall_watch import StallWatch
from stream_rules.transactions import PartitionTransactions

log = logging.getLogger("stream_rules.worker")
STALL_CHECK_S = 5.0   # how often the stall watch looks (stream_rules.stall_watch)
ENTERPRISES_CACHED = 65_536   # partitions of this many enterprise ids kept (murmur2 in Python: ~6 µs each)


def partition_of(enterprise: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a record keyed by ``enterprise``."""
    return (murmur2(enterprise.encode()) & 0x7FFFFFFF) % partitions


def topic_names(settings: Settings) -> list[str]:
    """The platform topics the worker reads and writes (its own internal topics are Faust's)."""
    names = PlatformTopics.of(settings)
    return [names.readings, names.events, names.device_status, names.transitions, names.metrics, names.deadletter]


def build_app(settings: Settings, logging_config: dict | None = None) -> faust.App:
    """A Faust app running the rules with ``settings``; run it with ``app.main()``. ``logging_config``
    (``logging.config.dictConfig``) replaces the logging Faust's worker would set up."""
    datadir = settings.rules_datadir or settings.home / "rules" / settings.rules_app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = faust.App(
        settings.rules_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(datadir),
        topic_partitions=settings.kafka_partitions,
        # Faust's own topics (the table's changelog, the deadman ticks) as replicated as the platform's:
        # with one copy a dead broker's partitions stop the worker until it is back
        topic_replication_factor=settings.kafka_replication_factor,
        processing_guarantee="exactly_once" if settings.rules_exactly_once else "at_least_once",
        TableManager=TransactionalTableManager if settings.rules_exactly_once else "faust.tables:TableManager",
        broker_session_timeout=settings.rules_session_timeout_s,
        broker_heartbeat_interval=settings.rules_heartbeat_s,
        broker_commit_interval=settings.rules_commit_s,
        stream_buffer_maxsize=max(4096, settings.rules_batch * 2),
        web_enabled=False,
        logging_config=logging_config,
        key_serializer="raw",     # keys are enterprise ids, values our own orjson bytes
        value_serializer="raw",
    )
    partitions = settings.kafka_partitions
    # Raw bytes everywhere (orjson by hand). Faust picks "raw" from ``bytes`` types; with a table present a
    # topic given ``schema=`` instead is never consumed, and a table given ``schema=`` recovers keys as JSON.
    def raw_topic(name: str, internal: bool = False) -> faust.TopicT:
        return app.topic(name, partitions=partitions, internal=internal, key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw")

    names = PlatformTopics.of(settings)
    readings = raw_topic(names.readings)
    events = raw_topic(names.events)
    statuses = raw_topic(names.device_status)
    output_topic = raw_topic(names.transitions)
    output = output_topic.get_topic_name()
    ticks = raw_topic(f"{settings.rules_app_id}-deadman-ticks", internal=True)
    table = app.Table("rules-state", default=None, partitions=partitions, use_partitioner=True,
                      key_type=bytes, value_type=bytes)
    registry = load_registry(settings.registry_dir)
    # The store, not the table: a table write would queue its changelog record in Faust's background
    # buffer; write_state sends it inside the partition's transaction instead (stream_rules.transactions).
    runtime = TableRuntime(RuleEngine(registry, lateness_s=settings.rules_lateness_s,
                                            outage_s=settings.rules_platform_outage_s), table.data)
    changelog = table.changelog_topic.get_topic_name()
    enterprise_partition = functools.lru_cache(maxsize=ENTERPRISES_CACHED)(lambda e: partition_of(e, partitions))

    async def write_state(committing: Set[int] | None) -> None:
        """The changed state of the ``committing`` partitions (None: all) into their transactions."""
        which = None if committing is None else (lambda e: enterprise_partition(e) in committing)
        for key, raw in runtime.flush(which):
            await transactions.send_state(changelog, key, raw, enterprise_partition(key.decode()))

    transactions = PartitionTransactions(app, names.readings, before_commit=write_state,
                                         commit_timeout_s=settings.rules_commit_timeout_s)
    inputs = [names.readings, names.events, names.device_status]
    metrics = RulesMetrics(app, inputs, names.metrics)

    async def emit(transitions: list[AlarmTransition]) -> None:
        for transition in transitions:
            enterprise = transition["enterprise"]
            await transactions.send(output, enterprise.encode(), orjson.dumps(transition), partition_of(enterprise, partitions))
            log.info("alarm %s", transition["transition"], extra={
                "enterprise": enterprise, "point": transition["point"] or transition["device"],
                "rule": transition["rule"], "level": transition["level"], "id": transition["id"]})

    def fatal(name: str, work: Callable[[faust.StreamT], Awaitable[None]]) -> Callable[[faust.StreamT], Awaitable[None]]:
        """An agent whose failure stops the whole worker. Faust would restart the agent alone, or (seen after a
        failed commit in a rebalance) leave it dead while the deadman goes on raising every device offline;
        the state in memory may be ahead of what committed, so the process exits and ``hazmon rules worker``
        starts a fresh one from the committed state. Only the worker's own failures get here (Kafka, a
        transaction, a commit): a record the rules cannot evaluate is set aside in ``evaluate``, since a fresh
        worker would read it again and end again."""
        async def agent(stream: faust.StreamT) -> None:
            try:
                await work(stream)
            except Exception as exc:
                log.error("rules agent failed: the worker stops and restarts from the committed state",
                          extra={"agent": name, "error": repr(exc)[:300]})
                await app.crash(exc)
                raise
        agent.__name__ = name.replace("-", "_")
        return agent

    async def dead_letter(letters: list[DeadLetter]) -> None:
        for letter in letters:
            await transactions.send(names.deadletter, letter.key, letter.value, letter.partition, letter.headers())
            letter.log()
        metrics.set_aside(len(letters))

    async def evaluate(kind: Kind, topic: str, events: list[faust.EventT]) -> list[dict]:
        """One batch of ``topic``: the records the rules can read evaluated and their transitions sent, the
        others dead-lettered; the records evaluated."""
        fit: list[faust.EventT] = []
        records: list[dict] = []
        letters: list[DeadLetter] = []
        for event in events:
            message = event.message
            try:
                records.append(admit(kind, event.value, message.partition, enterprise_partition))
                fit.append(event)
            except Unfit as unfit:
                letters.append(DeadLetter.of(topic, message.partition, message.offset, message.key, event.value, unfit))

        def engine_failed(position: int, error: Exception) -> None:
            message = fit[position].message
            letters.append(DeadLetter.engine_failed(topic, message.partition, message.offset, message.key,
                                                    fit[position].value, error))

        await emit(runtime.process(kind, topic, [event.message.offset for event in fit], records, engine_failed))
        await dead_letter(letters)
        return records

    def batched(kind: Kind, topic: str, within: float) -> Callable[[faust.StreamT], Awaitable[None]]:
        async def work(stream: faust.StreamT) -> None:
            async for events in stream.take_events(settings.rules_batch, within=within):  # type: ignore[attr-defined]
                async with transactions.batch(events):
                    records = await evaluate(kind, topic, events)
                    metrics.batch_done(records, int(time.time() * 1000))
        return fatal(f"rules-{kind}", work)

    async def deadman(stream: faust.StreamT) -> None:
        async for events in stream.take_events(partitions, within=settings.rules_batch_s):  # type: ignore[attr-defined]
            async with transactions.batch(events):
                for event in events:
                    message = event.message
                    owned = [e for e in runtime.engine.catalogs if partition_of(e, partitions) == message.partition]
                    await emit(runtime.tick(orjson.loads(event.value)["now_ms"], owned, message.topic, message.offset))

    app.agent(readings, name="rules-readings")(batched("readings", names.readings, settings.rules_batch_s))
    app.agent(events, name="rules-events")(batched("events", names.events, settings.rules_event_batch_s))
    app.agent(statuses, name="rules-statuses")(batched("statuses", names.device_status, settings.rules_batch_s))
    app.agent(ticks, name="rules-deadman")(fatal("rules-deadman", deadman))

    start_app = app.on_start

    async def on_start() -> None:
        """Before the consumer joins its group, so before any rebalance or commit (an app task would start
        only after the first recovery): see stream_rules.acked_offsets, .fetch_wait, .paused_fetches and
        .transactions."""
        await start_app()
        drop_duplicate_acks(app.consumer)
        limit_fetch_wait(app.consumer._thread, settings.rules_fetch_wait_ms)  # type: ignore[attr-defined]
        drain_only_active(app.consumer._thread)  # type: ignore[attr-defined]
        transactions.install()

    app.on_start = on_start  # type: ignore[method-assign]  # mode's Service.start calls it by attribute

    @app.task
    async def declare_output() -> None:
        """Outputs go to explicit partitions (their input's): the topic must exist with ``partitions`` of them."""
        await output_topic.maybe_declare()

    @app.timer(settings.rules_tick_s, name="rules-deadman-clock")
    async def deadman_clock() -> None:
        tick = orjson.dumps({"now_ms": int(time.time() * 1000)})
        for tp in app.consumer.assignment():
            if tp.topic == ticks.get_topic_name():
                await app.producer.send(tp.topic, None, tick, tp.partition, None, None)  # outside any transaction
        counters = runtime.engine.counters
        counters["replayed"] += runtime.replayed.total()
        if +counters:
            log.info("rules processed since the last tick", extra=dict(counters))
            counters.clear()
            runtime.replayed.clear()

    stall_watch = StallWatch(app, inputs, settings.rules_stall_s, app.crash)

    @app.timer(STALL_CHECK_S, name="rules-stall-watch")
    async def stall_check() -> None:
        await stall_watch.check()

    @app.timer(settings.rules_metrics_s, name="rules-metrics")
    async def report_metrics() -> None:
        await metrics.report()

    watch = RegistryWatch(settings.registry_dir, registry)
    watch.listeners.append(runtime.engine.set_registry)

    @app.timer(settings.rules_registry_poll_s, name="rules-registry")
    async def registry_poll() -> None:
        await watch.check()

    return app
