"""Table recovery targets the last record a read_committed consumer can receive, on the real Kafka.

The premise of ``stream_rules.recovery``: in a partition written only in transactions, that record
sits just before the last commit marker. Checked here on the broker, with transactions of several
sizes, and ``TransactionalRecovery`` must name exactly the offset a read_committed consumer ends on.
"""

from __future__ import annotations

import uuid
from collections import Counter

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from stream_rules.recovery import TransactionalTableManager

pytestmark = pytest.mark.usefixtures("kafka")


class EndOffsets:
    """The part of Faust's consumer that recovery asks for the highwaters: the real end offsets."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        ends = await self.consumer.end_offsets([TopicPartition(tp.topic, tp.partition) for tp in tps])
        return {TP(tp.topic, tp.partition): end for tp, end in ends.items()}


async def write_transactions(bootstrap: str, topic: str, sizes: list[int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"test-recovery-{uuid.uuid4().hex[:8]}")
    await producer.start()
    try:
        for size in sizes:
            async with producer.transaction():
                for i in range(size):
                    await producer.send(topic, f"r{i}".encode(), key=b"k", partition=0)
    finally:
        await producer.stop()


async def last_offset_received(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> int:
    last = -1
    while await consumer.position(tp) < end:
        for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
            last = message.offset
    return last


@pytest.mark.parametrize("sizes", [[1], [3, 1, 2], [2, 5]])
async def test_recovery_ends_on_the_last_record_a_read_committed_consumer_receives(kafka: str, sizes: list[int]) -> None:
    topic = f"test-recovery-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
        await write_transactions(kafka, topic, sizes)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka, isolation_level="read_committed", enable_auto_commit=False)
        await consumer.start()
        try:
            written, empty = TopicPartition(topic, 0), TopicPartition(topic, 1)
            consumer.assign([written, empty])
            await consumer.seek_to_beginning(written, empty)
            end = (await consumer.end_offsets([written]))[written]
            received = await last_offset_received(consumer, written, end)

            recovery = faust.App(f"test-{topic}", TableManager=TransactionalTableManager).tables.recovery
            highwaters: Counter[TP] = Counter()
            await recovery._build_highwaters(EndOffsets(consumer), {TP(topic, 0), TP(topic, 1)}, highwaters, "active")
        finally:
            await consumer.stop()
        assert received == sum(sizes) + len(sizes) - 2   # every record, and a marker after each transaction
        assert highwaters == {TP(topic, 0): received, TP(topic, 1): -1}
    finally:
        await admin.delete_topics([topic])
        await admin.close()
