"""Alerting killed (SIGKILL) or stopped (SIGTERM) while its records for other stages wait for Kafka: after the restart every alarm
change reaches the changes topic (for the uplink) and every alarm record line the series topic (for the
recorder), a repeat only with the same alarm id and version.

The window is made certain on a three-broker cluster of this module's own (testbed/faults/cluster.py; the
shared broker is never stopped): the alarm log's topics live on broker 1, the changes and series topics on
broker 2, which the test stops. Alerting goes on folding transitions and recording them in its ledger
(offsets included) while nothing it sends for other stages can be acknowledged; it is killed then, broker 2
comes back, alerting starts again. Once everything arrived the ledger holds no record for other stages
(each acknowledged one is deleted, or every restart would send it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hazmon import wire
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from hzctl.stack.kafka import Kafka
from testbed.alerting import T0, Receiver, eventually, transition
from testbed.faults.cluster import Cluster
from tests.alerting.conftest import record_sender
from tests.faults.child import AlertingChild

pytestmark = pytest.mark.servers
PARTITIONS = 2
LOG_NODE = 1        # the transitions and actions topics: stays up
OUTPUT_NODE = 2     # the changes and series topics: stopped while alerting folds, then killed
ALARMS = 12
LINE_ID = re.compile(r'(?:^|[ ,])id="([^"]*)"')
LINE_TRANSITION = re.compile(r'[ ,]transition="([^"]*)"')


@pytest.fixture
def output_broker(cluster: Cluster) -> Iterator[Kafka]:
    """Broker ``OUTPUT_NODE``, running again after the test whatever the test did to it."""
    node = cluster.nodes[OUTPUT_NODE - 1]
    yield node
    if node.process.pid() is None:
        cluster.restart(node)


@pytest.fixture
async def topics(cluster: Cluster, names: PlatformTopics) -> PlatformTopics:
    """The alarm log's topics on broker ``LOG_NODE``, the topics for other stages on ``OUTPUT_NODE``, one
    replica each (a write needs that one only)."""
    bootstrap = cluster.settings.kafka_bootstrap
    placed = {names.transitions: LOG_NODE, names.actions: LOG_NODE, names.changes: OUTPUT_NODE, names.series: OUTPUT_NODE}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=-1, replication_factor=-1,
                                            replica_assignments={p: [node] for p in range(PARTITIONS)},
                                            topic_configs={"min.insync.replicas": "1", "retention.ms": "-1"})
                                   for name, node in placed.items()])

        async def led() -> bool:
            described = await admin.describe_topics(list(placed))
            return all(len(d["partitions"]) == PARTITIONS and all(p["leader"] >= 0 for p in d["partitions"])
                       for d in described)
        await eventually(led, 60, "leaders of the test's topics")
    finally:
        await admin.close()
    return names


@pytest.fixture
def child(alerting_settings: Settings, cluster: Cluster, topics: PlatformTopics, tmp_path: Path,
          receiver: Receiver) -> Iterator[AlertingChild]:
    on_cluster = alerting_settings.model_copy(update={"kafka_bootstrap": cluster.settings.kafka_bootstrap})
    process = AlertingChild(on_cluster, topics, tmp_path / "child", [f"{receiver.url}/webhook"],
                            {"HAZMON_KAFKA_REPLICATION_FACTOR": "1", "HAZMON_KAFKA_MIN_INSYNC_REPLICAS": "1"})
    process.home.mkdir()
    yield process
    process.stop()


@pytest.fixture
async def produce_on_cluster(cluster: Cluster) -> AsyncIterator:
    async with record_sender(cluster.settings.kafka_bootstrap) as send:
        yield send


async def read_all(bootstrap: str, topic: str) -> list[bytes]:
    """Every record value of ``topic`` up to its end offsets now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            values += [m.value for records in batches.values() for m in records]
        return values
    finally:
        await consumer.stop()


def ledger(child: AlertingChild) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(child.home / "alerting" / "ledger.sqlite3", timeout=5))


def folded_offsets(child: AlertingChild, topic: str) -> int:
    """Records of ``topic`` the child's ledger has recorded as folded (the sum of its next offsets)."""
    with ledger(child) as db:
        return db.execute("SELECT coalesce(sum(next), 0) FROM offsets WHERE topic = ?", (topic,)).fetchone()[0]


def unsent(child: AlertingChild) -> int:
    """Records for other stages the child's ledger holds (not known acknowledged)."""
    with ledger(child) as db:
        return db.execute("SELECT count(*) FROM unsent").fetchone()[0]


def recorded_changes(child: AlertingChild) -> tuple[set[tuple[str, int]], set[tuple[str, str]]]:
    """What the ledger says happened: every (alarm id, version) and every (alarm id, change kind)."""
    with ledger(child) as db:
        versions = {(alarm_id, v) for alarm_id, revision in db.execute("SELECT id, revision FROM alarms")
                    for v in range(1, revision + 1)}
        kinds = set(db.execute("SELECT alarm_id, kind FROM alarm_events"))
    return versions, kinds


async def changes_on_topic(bootstrap: str, topic: str) -> list[tuple[str, int]]:
    """(alarm id, version) of every alarm change on ``topic``, in partition order."""
    return [(change["alarm"]["id"], change["version"]) for change in map(wire.decode, await read_all(bootstrap, topic))]


async def alarm_lines_on_topic(bootstrap: str, topic: str) -> set[tuple[str, str]]:
    """(alarm id, transition) of every ``alarm`` line alerting put on the series ``topic``."""
    found: set[tuple[str, str]] = set()
    for record in map(wire.decode, await read_all(bootstrap, topic)):
        for line in record["lines"]:
            if line.startswith("alarm,"):
                alarm_id, kind = LINE_ID.search(line), LINE_TRANSITION.search(line)
                assert alarm_id is not None and kind is not None, line
                found.add((alarm_id.group(1), kind.group(1)))
    return found


def transitions_of(first: int, count: int) -> list[dict]:
    """``count`` alarms, each raised, confirmed and cleared."""
    records: list[dict] = []
    for n in range(first, first + count):
        at = T0 + n * 10_000
        records += [transition(f"sent-{n}", kind, "TK01_LT", at=at + step * 1000, started_at=at)
                    for step, kind in enumerate(("raised", "confirmed", "cleared"))]
    return records


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_records_for_other_stages_unacknowledged_at_a_kill_arrive_after_restart(
        child: AlertingChild, cluster: Cluster, topics: PlatformTopics, output_broker: Kafka, produce_on_cluster,
        signum: int) -> None:
    bootstrap = cluster.settings.kafka_bootstrap
    child.start()
    await child.healthy()
    before = transitions_of(0, 2)
    await produce_on_cluster(topics.transitions, before)

    async def sent_before() -> bool:
        return len(await changes_on_topic(bootstrap, topics.changes)) >= 6
    await eventually(sent_before, 60, "the changes made before the outage on the changes topic")

    await asyncio.to_thread(output_broker.process.stop)      # nothing for other stages is acknowledged now
    during = transitions_of(2, ALARMS)
    await produce_on_cluster(topics.transitions, during)
    await eventually(lambda: folded_offsets(child, topics.transitions) == len(before) + len(during), 60,
                     "the transitions folded and recorded in the ledger with their offsets")
    child.kill(signum)

    await asyncio.to_thread(cluster.restart, output_broker)
    child.start()
    await child.healthy()
    versions, kinds = recorded_changes(child)
    assert len(versions) == 3 * (2 + ALARMS), versions    # raised, confirmed, cleared: versions 1 to 3 of each

    async def all_arrived() -> bool:
        return (versions <= set(await changes_on_topic(bootstrap, topics.changes))
                and kinds <= await alarm_lines_on_topic(bootstrap, topics.series))
    with contextlib.suppress(AssertionError):
        await eventually(all_arrived, 60, "every change and alarm line after the restart")
    got = await changes_on_topic(bootstrap, topics.changes)
    lines = await alarm_lines_on_topic(bootstrap, topics.series)
    assert versions - set(got) == set(), f"alarm changes lost: {len(versions - set(got))} of {len(versions)}"
    assert kinds - lines == set(), f"alarm lines lost: {len(kinds - lines)} of {len(kinds)}"
    # a repeat carries the same id and version (what a receiver folds): nothing on the topic the ledger does not know
    assert set(got) <= versions
    await eventually(lambda: unsent(child) == 0, 30, "the ledger's unsent records deleted once acknowledged")
