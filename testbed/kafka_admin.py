"""Kafka topics of the shared local broker, for the tests and benchmarks that create their own:
unique names that say which test session made them, listing, and deleting those chosen (tests name
every topic uniquely, so they must clean up, and only after themselves: several sessions may share
the broker); and the clients that read one topic's offsets (``TopicClients``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

DELETE_AT_ONCE = 100   # topics per DeleteTopics request
SESSION_TAG = uuid.uuid4().hex[:4]   # this test session's: the first characters of every name it makes


def unique_name() -> str:
    """A short unique suffix for a test's topic, group and database names, starting with ``SESSION_TAG``."""
    return SESSION_TAG + uuid.uuid4().hex[:6]


async def topic_names(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, chosen: Callable[[str], bool]) -> list[str]:
    """Delete every topic of the broker for which ``chosen`` is true; returns their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if chosen(t))
        for start in range(0, len(names), DELETE_AT_ONCE):
            await admin.delete_topics(names[start:start + DELETE_AT_ONCE], timeout_ms=60_000)
        return names
    finally:
        await admin.close()


class TopicClients:
    """A consumer (for end offsets) and an admin client (for the topic's partitions and a group's committed
    offsets) on one topic, open inside ``async with``; ``partitions`` is known once entered."""

    def __init__(self, bootstrap: str, topic: str, request_timeout_ms: int = 40_000) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
        self.partitions: list[TopicPartition] = []

    async def __aenter__(self) -> Self:
        await self.consumer.start()
        await self.admin.start()
        (described,) = await self.admin.describe_topics([self.topic])
        self.partitions = [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.consumer.stop()
        await self.admin.close()
