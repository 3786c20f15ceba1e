"""Kafka topics of the shared local broker, for the tests and benchmarks that create their own:
unique names that say which test session made them, listing, and deleting those chosen (tests name
every topic uniquely, so they must clean up, and only after themselves: several sessions may share
the broker)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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
