"""A stopped adapter acknowledges what it wrote to Kafka before it disconnects: the adapter that
takes over its session gets none of it again."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import IngestEnterprise, ingest_settings_for, read_kafka
from tests.ingest.test_backlog import T0, queue_backlog

pytestmark = pytest.mark.servers
MESSAGES = 2000


async def test_stop_acknowledges_before_disconnecting(mosquitto: Settings, kafka: str,
                                                     test_enterprise: IngestEnterprise, unique: str) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_receive_maximum=200,
                                   ingest_batch_messages=50)
    await queue_backlog(settings, test_enterprise, MESSAGES)
    first, stop_first = IngestAdapter(settings), asyncio.Event()
    running = asyncio.create_task(first.run(stop_first))
    async with asyncio.timeout(60):
        while first.messages_taken < MESSAGES // 4:  # stopped in the middle of the backlog
            await asyncio.sleep(0.005)
    stop_first.set()
    await asyncio.wait_for(running, 60)

    second, stop_second = IngestAdapter(settings), asyncio.Event()  # the same session
    running = asyncio.create_task(second.run(stop_second))
    try:
        records = await read_kafka(settings, PlatformTopics.of(settings).readings,
                                   lambda r: len({t for x in r for t in orjson.loads(x.value)["ts"]}) >= 10 * MESSAGES)
    finally:
        stop_second.set()
        await asyncio.wait_for(running, 60)
    seen = [ts for record in records for ts in orjson.loads(record.value)["ts"]]
    assert sorted(seen) == [T0 + 10 * n + i for n in range(MESSAGES) for i in range(10)]  # all, and once
