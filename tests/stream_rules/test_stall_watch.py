"""The stall watch on the real Kafka: a partition with records waiting that the worker does not read ends
the worker; one that is read, or has nothing waiting, or is being recovered, does not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP
from yarl import URL

from stream_rules.stall_watch import PartitionStalled, StallWatch
from testbed.kafka_admin import delete_topics, unique_name

pytestmark = pytest.mark.usefixtures("kafka")
STALL_S = 0.3


@dataclass
class ConsumerState:
    """What the watch reads of Faust's consumer: its assignment and the offsets it handed to the agents."""

    assigned: set[TP]
    _read_offset: dict[TP, int | None] = field(default_factory=dict)
    _committed_offset: dict[TP, int | None] = field(default_factory=dict)
    _paused_partitions: set[TP] = field(default_factory=set)
    _buffered_partitions: set[TP] = field(default_factory=set)
    _active_partitions: set[TP] = field(default_factory=set)

    def assignment(self) -> set[TP]:
        return self.assigned


@pytest.fixture
async def topic(kafka: str) -> str:
    name = f"test-stall-{unique_name()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    for n in range(5):
        await producer.send_and_wait(name, b"reading %d" % n, partition=0)
    await producer.stop()
    yield name
    await delete_topics(kafka, {name}.__contains__)


def _watch(kafka: str, topic: str, consumer: ConsumerState, crashes: list[BaseException]) -> tuple[StallWatch, SimpleNamespace]:
    app = SimpleNamespace(consumer=consumer, rebalancing=False, in_recovery=False,
                          conf=SimpleNamespace(broker=[URL(f"kafka://{kafka}")]))

    async def crash(reason: BaseException) -> None:
        crashes.append(reason)

    return StallWatch(app, [topic], STALL_S, crash), app   # type: ignore[arg-type]


async def test_records_waiting_and_never_read_end_the_worker(kafka: str, topic: str) -> None:
    crashes: list[BaseException] = []
    consumer = ConsumerState({TP(topic, 0), TP(topic, 1)}, _paused_partitions={TP(topic, 0)})
    watch, _ = _watch(kafka, topic, consumer, crashes)
    await watch.check()
    assert crashes == []                               # its clock starts at the first look
    await asyncio.sleep(STALL_S * 1.5)
    await watch.check()
    assert len(crashes) == 1 and isinstance(crashes[0], PartitionStalled)
    assert str(crashes[0]) == f"{topic}[0]"             # partition 1 has nothing waiting


async def test_a_partition_read_as_records_come_or_read_to_its_end_is_no_stall(kafka: str, topic: str) -> None:
    crashes: list[BaseException] = []
    consumer = ConsumerState({TP(topic, 0)})
    watch, app = _watch(kafka, topic, consumer, crashes)
    for offset in (0, 1, 2):                            # slow, but moving
        consumer._read_offset[TP(topic, 0)] = offset
        await watch.check()
        await asyncio.sleep(STALL_S * 0.7)
    consumer._read_offset[TP(topic, 0)] = 4              # everything read: nothing waiting however long
    await watch.check()
    await asyncio.sleep(STALL_S * 1.5)
    await watch.check()
    consumer._read_offset[TP(topic, 0)] = None           # recovering: not the agents' turn yet
    app.in_recovery = True
    await watch.check()
    await asyncio.sleep(STALL_S * 1.5)
    await watch.check()
    assert crashes == []
