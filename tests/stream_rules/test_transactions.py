"""The worker's mends of Faust are in place from the app's start, before the consumer first joins its group.

Faust starts app tasks only after the first table recovery. Two workers starting together rebalance
before that: the first held every partition, kept the producers of the three that moved to the
other, and when they came back after the other was killed those stale (fenced) producers crashed it
("Can't send messages while not in transaction", ProducerFenced). Driven on the real app that
``build_app`` makes, started as mode starts it (``on_start``); only the producers are fakes, so no
broker is needed.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer
from faust.types import TP

from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from stream_rules.worker import build_app

PARTITIONS = range(6)


@pytest.fixture
async def started(settings: Settings) -> object:
    app = build_app(settings.model_copy(update={"kafka_partitions": len(PARTITIONS)}))
    app.in_worker = True          # what faust's Worker sets before it starts the app
    await app.on_start()          # mode runs this before the app's children: the consumer has not joined
    return app


async def test_a_rebalance_right_after_the_start_stops_the_producers_of_partitions_that_moved(
        started, settings: Settings) -> None:
    app = started
    readings = PlatformTopics.of(settings).readings
    app.assignor._topic_groups = {readings: 1}                     # what the first assignment tells it
    tids = {p: f"{app.conf.id}-1-{p}" for p in PARTITIONS}
    producer = app.producer
    producer._transaction_producers = {tid: object() for tid in tids.values()}   # all six, from the first generation
    stopped: list[str] = []
    begun: list[str] = []

    async def stop_transaction(transactional_id: str) -> None:
        stopped.append(transactional_id)
        producer._transaction_producers.pop(transactional_id)

    async def maybe_begin_transaction(transactional_id: str) -> None:
        begun.append(transactional_id)

    producer.stop_transaction = stop_transaction
    producer.maybe_begin_transaction = maybe_begin_transaction
    kept = {TP(readings, p) for p in (0, 1, 2)}
    # Faust computed nothing revoked in the crash seen (its own stop did nothing): only the mend can stop them
    await app.consumer.transactions.on_rebalance(kept, set(), set())
    assert sorted(stopped) == [tids[p] for p in (3, 4, 5)]
    assert sorted(producer._transaction_producers) == [tids[p] for p in (0, 1, 2)]
    assert sorted(begun) == [tids[p] for p in (0, 1, 2)]


async def test_commits_are_guarded_and_acks_counted_once_from_the_start(started) -> None:
    consumer = started.consumer
    assert consumer._dropping_duplicate_acks
    assert "_guard_commits" in consumer.commit.__qualname__


async def test_the_consumer_asks_the_broker_for_a_short_fetch_wait(started, settings: Settings) -> None:
    """Faust fixes 1 500 ms; the worker's aiokafka consumer is made with rules_fetch_wait_ms (stream_rules.fetch_wait)."""
    consumer = started.consumer._thread._create_worker_consumer(started.transport)
    assert consumer._fetch_max_wait_ms == settings.rules_fetch_wait_ms < 1500
    assert AIOKafkaConsumer(fetch_max_wait_ms=7)._fetch_max_wait_ms == 7   # the attribute aiokafka's Fetcher is made with


async def test_a_commit_that_hangs_ends_the_worker(settings: Settings) -> None:
    """A commit stuck on the broker held the batch lock for good (seen in CI after a kill: the worker alive,
    silent, its outputs never committed): past ``rules_commit_timeout_s`` the worker crashes instead, and
    ``hazmon rules worker`` starts a fresh one from the last commit."""
    app = build_app(settings.model_copy(update={"kafka_partitions": len(PARTITIONS), "rules_commit_timeout_s": 0.2}))
    app.in_worker = True
    crashed: list[BaseException] = []

    async def crash(reason: BaseException) -> None:
        crashed.append(reason)

    async def commit_never_returns(*_args: object, **_kwargs: object) -> bool:
        await asyncio.Event().wait()
        return True

    app.crash = crash                              # what Faust's worker would do: stop and exit non-zero
    app.consumer.commit = commit_never_returns     # Faust's commit, stuck: the guard goes round it at the start
    await app.on_start()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(app.consumer.commit(), timeout=5)
    assert len(crashed) == 1 and isinstance(crashed[0], TimeoutError)
