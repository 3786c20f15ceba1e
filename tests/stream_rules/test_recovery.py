"""Table recovery targets the last record a read_committed consumer can receive, on the real Kafka.

The premise of ``stream_rules.recovery``: in a partition written only in transactions, that record
sits just before the last commit marker, and the broker (not a consumer's cache) knows where the
committed part ends. Checked on the broker with transactions of several sizes, with and without a
transaction still open: ``TransactionalRecovery`` must name exactly the offset a read_committed
consumer ends on, and -1 for an empty partition.
"""

from __future__ import annotations

from collections import Counter

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from stream_rules.recovery import TransactionalTableManager
from testbed.kafka_admin import unique_name

pytestmark = pytest.mark.usefixtures("kafka")


async def write_transactions(producer: AIOKafkaProducer, topic: str, sizes: list[int]) -> None:
    for size in sizes:
        async with producer.transaction():
            for i in range(size):
                await producer.send(topic, f"r{i}".encode(), key=b"k", partition=0)


async def last_offset_received(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> int:
    last = -1
    while await consumer.position(tp) < end:
        for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
            last = message.offset
    return last


@pytest.mark.parametrize("open_transaction", [False, True], ids=["all-committed", "one-still-open"])
@pytest.mark.parametrize("sizes", [[1], [3, 1, 2], [2, 5]])
async def test_recovery_ends_on_the_last_record_a_read_committed_consumer_receives(
        kafka: str, sizes: list[int], open_transaction: bool) -> None:
    topic = f"test-recovery-{unique_name()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, transactional_id=f"test-recovery-{unique_name()}")
    await producer.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
        await write_transactions(producer, topic, sizes)
        if open_transaction:   # a crashed worker's: the committed part ends before it
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"uncommitted", key=b"k", partition=0)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka, isolation_level="read_committed", enable_auto_commit=False)
        await consumer.start()
        try:
            written, empty = TopicPartition(topic, 0), TopicPartition(topic, 1)
            consumer.assign([written, empty])
            await consumer.seek_to_beginning(written, empty)
            end = (await consumer.end_offsets([written]))[written]
            received = await last_offset_received(consumer, written, end)
        finally:
            await consumer.stop()

        recovery = faust.App(f"test-{topic}", broker=f"kafka://{kafka}", TableManager=TransactionalTableManager).tables.recovery
        highwaters: Counter[TP] = Counter()
        await recovery._build_highwaters(None, {TP(topic, 0), TP(topic, 1)}, highwaters, "active")
        await recovery.on_stop()
        assert received == sum(sizes) + len(sizes) - 2   # every record, and a marker after each transaction
        assert highwaters == {TP(topic, 0): received, TP(topic, 1): -1}
    finally:
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()
