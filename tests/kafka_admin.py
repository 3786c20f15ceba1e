"""Kafka topics of the shared local broker, for the tests and benchmarks that create their own:
list them, and delete those chosen (tests name every topic uniquely, so they must clean up)."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient

DELETE_AT_ONCE = 100   # topics per DeleteTopics request


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
