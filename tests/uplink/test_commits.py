"""The forwarder's commits are off the changes' path and never ahead of the upper broker: a commit that Kafka is
slow to answer holds no later change back, what it commits was acknowledged (PUBACK) before, and what was
acknowledged and not yet committed is committed at the stop."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hazmon import wire
from hazmon.settings import Settings
from testbed.alerting import eventually
from testbed.uplink import TopicOf, UpperBroker, alarm_change, collecting, running_uplink, uplink_settings


async def committed_offset(kafka: str, group: str, topic: str, partition: int) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, partition))
    finally:
        await consumer.stop()


async def test_a_slow_commit_holds_no_change_back(kafka: str, settings: Settings, upper: UpperBroker,
                                                 platform_topic: TopicOf, unique: str) -> None:
    suffix, topic = await platform_topic("changes")
    group = f"test-uplink-{unique}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    commits: list[dict] = []
    answer = asyncio.Event()   # Kafka answers the forwarder's commits only once set

    async def send(version: int) -> int:
        sent = await producer.send_and_wait(topic, wire.encode(alarm_change("a01", version)), key=b"a01")
        return sent.partition

    try:
        async with collecting(upper) as collector, running_uplink(uplink_settings(settings, upper, suffix, group)) as uplink:
            consumer = uplink.forwarder._consumer
            commit = consumer.commit

            async def slow_commit(offsets: dict) -> None:
                commits.append(dict(offsets))
                await answer.wait()
                await commit(offsets)

            consumer.commit = slow_commit  # type: ignore[method-assign]
            partition = await send(1)
            await eventually(lambda: [m["version"] for m in collector.messages] == [1], 30, "version 1 upward")
            await eventually(lambda: len(commits) == 1, 10, "the commit of version 1's round")
            await send(2)
            await eventually(lambda: [m["version"] for m in collector.messages] == [1, 2], 30,
                             "version 2 upward while version 1's commit waits for Kafka")
            assert await committed_offset(kafka, group, topic, partition) is None   # nothing committed yet
            assert commits == [{TopicPartition(topic, partition): 1}]   # only what the broker acknowledged
            await send(3)
            await eventually(lambda: [m["version"] for m in collector.messages] == [1, 2, 3], 30, "version 3 upward")
            answer.set()
            await eventually(lambda: commits[-1] == {TopicPartition(topic, partition): 3}, 10,
                             "one commit of what was acknowledged meanwhile")
            consumer.commit = commit  # type: ignore[method-assign]
            await send(4)
            await eventually(lambda: [m["version"] for m in collector.messages] == [1, 2, 3, 4], 30, "version 4 upward")
        # the stop committed version 4's offset if the committer had not yet
        assert await committed_offset(kafka, group, topic, partition) == 4
    finally:
        answer.set()
        await producer.stop()


async def test_the_backlog_never_counts_below_zero_while_changes_go_up(
        kafka: str, settings: Settings, upper: UpperBroker, platform_topic: TopicOf, unique: str) -> None:
    """The heartbeat's backlog reads Kafka's committed offsets and ends while the forwarder goes on; a change
    acknowledged while that read waits for Kafka must not be counted below the end (CI saw ``backlog: -1``)."""
    suffix, topic = await platform_topic("changes")
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    asked = asyncio.Event()
    answer = asyncio.Event()   # Kafka answers the backlog's reads of committed offsets only once set

    async def send(version: int) -> None:
        await producer.send_and_wait(topic, wire.encode(alarm_change("a01", version)), key=b"a01")

    try:
        async with collecting(upper) as collector, \
                running_uplink(uplink_settings(settings, upper, suffix, f"test-uplink-{unique}")) as uplink:
            forwarder = uplink.forwarder
            await send(1)
            await eventually(lambda: forwarder.forwarded == 1, 30, "version 1 acknowledged upward")
            consumer = forwarder._consumer
            committed = consumer.committed

            async def slow_committed(partition: TopicPartition) -> int | None:
                asked.set()
                await answer.wait()
                return await committed(partition)

            consumer.committed = slow_committed  # type: ignore[method-assign]
            backlog = asyncio.create_task(forwarder.backlog())
            await asyncio.wait_for(asked.wait(), 10)
            await send(2)
            await eventually(lambda: forwarder.forwarded == 2, 30, "version 2 acknowledged while the backlog is read")
            answer.set()
            assert await asyncio.wait_for(backlog, 30) == 0
            consumer.committed = committed  # type: ignore[method-assign]
            assert [m["version"] for m in collector.messages] == [1, 2]
    finally:
        answer.set()
        await producer.stop()
