"""Creates the platform's Kafka topics with their partitions and retention, in one place.

Every hazmon process calls :func:`ensure_topics` for the topics it reads or writes before it starts
(the local stack does too, right after Kafka is up), so no topic is ever created by a producer with
the broker's defaults and no worker subscribes to a topic that does not exist yet. A topic that
exists with other retention settings (an older install) is brought to the platform's.

Replicas: ``kafka_replication_factor`` copies of every topic, and a write acknowledged (acks=all) only
once ``kafka_min_insync_replicas`` of them have it, so a broker of a cluster may die with nothing
acknowledged lost and writes going on (3 and 2 on a three-broker cluster). A topic's replica count
is not changed once created (that is a partition reassignment, an operator's decision).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from hazmon.settings import Settings
from hazmon.topics import keeping

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


def topic_configs(name: str, settings: Settings) -> dict[str, str]:
    """Retention of the topic ``name`` (hazmon.topics.KEEPING: inputs for days, alarms for good) and
    the replicas a write needs."""
    kind = keeping(name)
    replicas = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    if kind == "forever":
        return {"retention.ms": "-1", "retention.bytes": "-1", **replicas}
    days = settings.kafka_input_retention_days if kind == "input" else settings.kafka_deadletter_retention_days
    return {"retention.ms": str(int(days * DAY_MS)), "retention.bytes": "-1", **replicas}


async def ensure_topics(settings: Settings, names: Iterable[str], timeout_s: float = 30.0) -> dict[str, int]:
    """Create the missing topics of ``names`` and align the retention of the others; return each
    topic's partition count once every partition has a leader."""
    names = list(dict.fromkeys(names))
    wanted = {name: topic_configs(name, settings) for name in names}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=settings.kafka_partitions, replication_factor=settings.kafka_replication_factor,
                            topic_configs=wanted[n]) for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
                log.info("kafka topics created", extra={"topics": [t.name for t in missing]})
            except TopicAlreadyExistsError:
                pass   # another process created it meanwhile; its configs are aligned below next time
        await _align(admin, {n: c for n, c in wanted.items() if n in existing})
        return await _wait_for_leaders(admin, names, timeout_s)
    finally:
        await admin.close()


def ensure_topics_blocking(settings: Settings, names: Iterable[str]) -> dict[str, int]:
    """:func:`ensure_topics` from synchronous code, on a loop of its own (the caller's thread may get
    another loop later, as Faust's worker does: ``asyncio.run`` would leave it none)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(ensure_topics(settings, names))
    finally:
        loop.close()


async def _align(admin: AIOKafkaAdminClient, wanted: dict[str, dict[str, str]]) -> None:
    if not wanted:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in wanted]
    described = await admin.describe_configs(resources)
    current: dict[str, dict[str, str]] = {}
    for response in described:
        for _error, _message, _type, name, entries in response.resources:
            current[name] = {entry[0]: entry[1] for entry in entries}
    stale = {n: c for n, c in wanted.items() if any(current.get(n, {}).get(k) != v for k, v in c.items())}
    if stale:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, n, c) for n, c in stale.items()])
        log.warning("kafka topic retention and replicas brought to the platform's", extra={"topics": sorted(stale)})


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float) -> dict[str, int]:
    """Until every partition of ``names`` has a leader."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        described = await admin.describe_topics(names)
        counts = {d["topic"]: len(d["partitions"]) for d in described
                  if d["error_code"] == 0 and all(p["leader"] >= 0 for p in d["partitions"])}
        if all(counts.get(n) for n in names):
            return counts
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"Kafka topics without partitions after {timeout_s} s: {names}")
        await asyncio.sleep(0.2)
