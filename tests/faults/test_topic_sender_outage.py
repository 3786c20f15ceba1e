"""Alerting's records for other stages (alarm changes for the uplink, InfluxDB lines for the recorder:
``alerting.topic_sender``) survive a partition without a leader for longer than the producer's request
timeout: every record queued arrives, in order, once; and ``stop`` with Kafka away returns and says
what it could not deliver.

The Kafka is a three-broker cluster of this module's own (testbed/faults/cluster.py; the shared broker is
never stopped). The test topic has two partitions of one replica each: partition 0 on broker 2, which the
test stops (its partition has no leader until it is back: what a single-broker stack shows while its
broker is away), partition 1 on broker 1, which stays up. The producer's request timeout is 3 s, so
batches for partition 0 expire inside aiokafka while broker 2 is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import murmur2

from hzctl.stack.kafka import Kafka
from alerting.topic_sender import TopicSender
from testbed.alerting import eventually
from testbed.faults.cluster import Cluster
from testbed.kafka_admin import unique_name

pytestmark = pytest.mark.servers
REQUEST_TIMEOUT_MS = 3000
AWAY_S = 4 * REQUEST_TIMEOUT_MS / 1000     # records queued over this while partition 0 has no leader
VICTIM_NODE = 2                             # the broker holding partition 0


def keys_of(partition: int, count: int) -> list[bytes]:
    """``count`` keys the default partitioner puts on ``partition`` of a two-partition topic."""
    keys = (f"alarm-{n}".encode() for n in range(1000))
    return [k for k in keys if (murmur2(k) & 0x7FFFFFFF) % 2 == partition][:count]


KEYS = keys_of(0, 3) + keys_of(1, 2)        # three alarms on the broker that goes away, two on one that stays


@pytest.fixture
async def topic(cluster: Cluster) -> str:
    """Two partitions of one replica: 0 on broker ``VICTIM_NODE``, 1 on broker 1."""
    name = f"test-topic-sender-{unique_name()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=-1, replication_factor=-1,
                                            replica_assignments={0: [VICTIM_NODE], 1: [1]})])

        async def led() -> bool:
            (described,) = await admin.describe_topics([name])
            return len(described["partitions"]) == 2 and all(p["leader"] >= 0 for p in described["partitions"])
        await eventually(led, 30, "leaders of the test topic")
    finally:
        await admin.close()
    return name


@pytest.fixture
def victim(cluster: Cluster) -> Iterator[Kafka]:
    """Broker ``VICTIM_NODE``, running again after the test whatever the test did to it."""
    node = cluster.nodes[VICTIM_NODE - 1]
    yield node
    if node.process.pid() is None:
        cluster.restart(node)


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every record of ``topic`` up to its end offsets now, as (key, value), partition by partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            records += [(m.key, m.value) for tp in partitions for m in batches.get(tp, [])]
        return records
    finally:
        await consumer.stop()


def per_key(records: list[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    by_key: dict[bytes, list[bytes]] = {}
    for key, value in records:
        by_key.setdefault(key, []).append(value)
    return by_key


class Queued:
    """What the test queued on ``sender``, in the order it queued it."""

    def __init__(self, sender: TopicSender) -> None:
        self.sender = sender
        self.records: list[tuple[bytes, bytes]] = []

    def put(self, rounds: int) -> None:
        """One record per key per round."""
        for _ in range(rounds):
            for key in KEYS:
                value = f"{key.decode()}#{len(self.records)}".encode()
                self.records.append((key, value))
                self.sender.enqueue(key, value)


async def test_records_queued_while_a_partition_has_no_leader_all_arrive_in_order_once(
        kafka: str, cluster: Cluster, topic: str, victim: Kafka) -> None:
    bootstrap = cluster.settings.kafka_bootstrap
    sender = TopicSender(bootstrap, topic, "test-topic-sender", request_timeout_ms=REQUEST_TIMEOUT_MS)
    queued = Queued(sender)
    await sender.start()
    try:
        queued.put(4)

        async def all_written() -> bool:
            return len(await read_all(bootstrap, topic)) >= len(queued.records)
        await eventually(all_written, 60, "the records queued before the outage")   # none in flight at the stop
        await asyncio.to_thread(victim.process.stop)
        loop = asyncio.get_running_loop()
        away_since = loop.time()
        while loop.time() - away_since < AWAY_S:
            queued.put(1)
            await asyncio.sleep(0.25)
        await asyncio.to_thread(cluster.restart, victim)
        queued.put(4)
        await eventually(lambda: sender.queued == 0, 120, "the sender's queue empty")
    finally:
        await sender.stop()
    got = await read_all(bootstrap, topic)
    # no delivery was in doubt (nothing was in flight when the broker stopped): idempotence allows no repeat,
    # so each record arrives exactly once, and each key's records in the order they were queued
    assert sorted(got) == sorted(queued.records), f"{len(got)} records arrived of {len(queued.records)} queued"
    assert per_key(got) == per_key(queued.records)
    assert sender.queued == 0 and sender.sent == len(queued.records)


async def test_stop_with_a_partition_away_returns_and_logs_what_it_could_not_deliver(
        kafka: str, cluster: Cluster, topic: str, victim: Kafka, caplog: pytest.LogCaptureFixture) -> None:
    bootstrap = cluster.settings.kafka_bootstrap
    sender = TopicSender(bootstrap, topic, "test-topic-sender", request_timeout_ms=REQUEST_TIMEOUT_MS,
                         stop_timeout_s=10.0)
    queued = Queued(sender)
    await sender.start()
    queued.put(2)
    await eventually(lambda: sender.queued == 0, 60, "the records queued before the outage acknowledged")
    await asyncio.to_thread(victim.process.stop)
    queued.put(3)
    on_partition_0 = sum(1 for key, _ in queued.records[2 * len(KEYS):] if key in KEYS[:3])
    with caplog.at_level(logging.ERROR, logger="alerting.topic_sender"):
        await asyncio.wait_for(sender.stop(), 120)   # a guard against a hang, not a timing
    undelivered = [r for r in caplog.records if r.name == "alerting.topic_sender" and r.levelno == logging.ERROR]
    assert [getattr(r, "records", None) for r in undelivered] == [on_partition_0], caplog.text
    assert sender.queued == on_partition_0 and sender.sent == len(queued.records) - on_partition_0
