"""Table recovery targets the last record a read_committed consumer can receive, on the real Kafka.

The premise of ``stream_rules.recovery``: the broker (not a consumer's cache) knows where the committed
part of a partition ends, and the last committed record is found by reading the partition's tail.
Checked on the broker with transactions of several sizes, with a transaction still open, and with the
last transactions aborted, as a crashed worker leaves them (short ones, and one longer than the first
tail read): ``TransactionalRecovery`` must name exactly the offset a read_committed consumer ends on,
and -1 for a partition without a committed record. Targeting ``end − 2`` (the record before the last
marker) named an aborted record after an abort, and Faust waited two idle 5 s polls for it.
"""

from __future__ import annotations

from collections import Counter

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from stream_rules.end_offsets import TAIL_WINDOWS
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


async def abort_transactions(producer: AIOKafkaProducer, topic: str, partition: int, sizes: list[int]) -> None:
    for size in sizes:
        await producer.begin_transaction()
        for i in range(size):
            await producer.send(topic, f"a{i}".encode(), key=b"k", partition=partition)
        await producer.abort_transaction()


@pytest.mark.parametrize("tail", ["all-committed", "one-still-open", "aborted", "long-aborted"])
@pytest.mark.parametrize("sizes", [[1], [3, 1, 2], [2, 5]])
async def test_recovery_ends_on_the_last_record_a_read_committed_consumer_receives(
        kafka: str, sizes: list[int], tail: str) -> None:
    topic = f"test-recovery-{unique_name()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, transactional_id=f"test-recovery-{unique_name()}")
    await producer.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
        await write_transactions(producer, topic, sizes)
        if tail == "aborted":   # a crashed worker's, aborted by its successor; only aborted ones on partition 1
            await abort_transactions(producer, topic, 0, [2, 1])
            await abort_transactions(producer, topic, 1, [2])
        elif tail == "long-aborted":   # longer than the first tail read
            await abort_transactions(producer, topic, 0, [TAIL_WINDOWS[0] + 10])
        elif tail == "one-still-open":   # a crashed worker's: the committed part ends before it
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"uncommitted", key=b"k", partition=0)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka, isolation_level="read_committed", enable_auto_commit=False)
        await consumer.start()
        try:
            written, uncommitted = TopicPartition(topic, 0), TopicPartition(topic, 1)
            consumer.assign([written, uncommitted])
            await consumer.seek_to_beginning(written, uncommitted)
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
