"""A backlog queued in the broker for the adapter's session drains with the adapter holding at most
its receive maximum (+1) of messages, and every reading reaches Kafka.

Mosquitto 2.0.11 does not keep to a client's Receive Maximum once the session has a queue: each
PUBACK releases up to Receive Maximum more queued messages, so the broker pushes the backlog at
the adapter. The adapter has to bound what it holds itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiomqtt
import orjson
import pytest

from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from ingest.mqtt_link import ingest_link
from ingest.session_plan import plan_sessions
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import RECENT_MS, IngestEnterprise, ingest_settings_for, read_kafka

pytestmark = pytest.mark.servers
RECEIVE_MAXIMUM = 50
BACKLOG = 4000
T0 = RECENT_MS


async def make_session(settings: Settings, enterprise: IngestEnterprise) -> None:
    """The adapter's session of ``enterprise`` and its subscriptions, for the broker to queue into."""
    for plan in plan_sessions([enterprise.id], settings.ingest_session_shards).values():
        async with ingest_link(settings, plan) as link:
            await link.subscribed


async def queue_backlog(settings: Settings, enterprise: IngestEnterprise, messages: int = BACKLOG) -> None:
    """Telemetry messages (QoS 1, 10 readings each) published while the adapter is away; its session
    and subscription are made first."""
    await make_session(settings, enterprise)
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise.id,
                              password=enterprise.password, protocol=aiomqtt.ProtocolVersion.V5) as device:
        for n in range(messages):
            readings = [{"point": ("TK01_LT", "TK01_TT")[i % 2], "value": float(i), "ts": T0 + 10 * n + i}
                        for i in range(10)]
            body = {"v": 1, "seq": n + 1, "readings": readings}
            await device.publish(f"hazmon/v1/{enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)


async def drain(settings: Settings, messages: int, readings: int,
                measure: Callable[[IngestAdapter], int]) -> tuple[int, list]:
    """Run an adapter until it took and acknowledged ``messages``: the peak of ``measure`` meanwhile, and
    the readings records once ``readings`` are in Kafka."""
    adapter = IngestAdapter(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(adapter.run(stop))
    peak = 0
    try:
        async with asyncio.timeout(120):
            while adapter.messages_taken < messages or adapter.in_flight:
                peak = max(peak, measure(adapter))
                await asyncio.sleep(0.002)
        records = await read_kafka(settings, PlatformTopics.of(settings).readings,
                                   lambda r: sum(len(orjson.loads(x.value)["ts"]) for x in r) >= readings)
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
    return peak, records


async def test_backlog_drains_within_the_receive_maximum(mosquitto: Settings, kafka: str,
                                                        test_enterprise: IngestEnterprise, unique: str) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_receive_maximum=RECEIVE_MAXIMUM,
                                   ingest_batch_messages=20)
    await queue_backlog(settings, test_enterprise)

    peak, records = await drain(settings, BACKLOG, 10 * BACKLOG, lambda adapter: adapter.in_flight)
    assert RECEIVE_MAXIMUM // 2 <= peak <= RECEIVE_MAXIMUM + 1
    seen = [ts for record in records for ts in orjson.loads(record.value)["ts"]]
    assert sorted(seen) == [T0 + 10 * n + i for n in range(BACKLOG) for i in range(10)]
    assert seen == sorted(seen)  # one device: its readings in Kafka in the order they were published


async def test_backlog_of_large_messages_stays_within_the_byte_bound(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str) -> None:
    """2 000 held messages of 256 KiB are 500 MiB: bench/abuse.py's bad messages took the adapter to
    407 MB. Past ``ingest_max_unacked_bytes`` it reads no further, whatever the message count."""
    bound, size, messages = 1024 * 1024, 100_000, 200
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_max_unacked_bytes=bound,
                                   ingest_batch_messages=5)
    await make_session(settings, test_enterprise)
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=test_enterprise.id,
                              password=test_enterprise.password, protocol=aiomqtt.ProtocolVersion.V5) as device:
        for n in range(messages):
            body = {"v": 1, "pad": "x" * size, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": T0 + n}]}
            await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
    peak, records = await drain(settings, messages, messages, lambda adapter: adapter.in_flight_bytes)
    assert bound // 2 <= peak <= bound + size + 200, peak
    assert sorted(ts for record in records for ts in orjson.loads(record.value)["ts"]) == [T0 + n for n in range(messages)]


async def test_one_sessions_backlog_stays_within_the_session_bound(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str) -> None:
    """A session holds at most its own bound (``ingest_session_max_unacked``), however much room the
    process's budget has: a flooded enterprise cannot take the room of the others."""
    session_bound, backlog = 20, 1000
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_session_max_unacked=session_bound,
                                   ingest_receive_maximum=2000, ingest_batch_messages=10)
    await queue_backlog(settings, test_enterprise, backlog)
    peak, records = await drain(settings, backlog, 10 * backlog, lambda adapter: adapter.in_flight)
    assert session_bound // 2 <= peak <= session_bound + 1, peak
    assert len({ts for record in records for ts in orjson.loads(record.value)["ts"]}) == 10 * backlog


@pytest.mark.parametrize("bound", ["session", "batch"])
async def test_a_batch_that_cannot_grow_does_not_wait_for_the_flush_interval(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str, bound: str) -> None:
    """Under load flushes are up to ``ingest_flush_interval_max_s`` apart, but a batch that cannot grow
    goes at once: its session at its Receive Maximum (the broker sends nothing more until the PUBACKs), or
    ``ingest_batch_messages`` reached. Waiting on such a batch would only cap the rate (here, with an
    interval of a minute, 20 messages a minute: the backlog would not drain within ``drain``'s 120 s)."""
    backlog = 400
    bounds = {"session": {"ingest_session_max_unacked": 20}, "batch": {"ingest_batch_messages": 20}}[bound]
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_flush_interval_s=60.0,
                                   ingest_flush_interval_max_s=60.0, **bounds)
    await queue_backlog(settings, test_enterprise, backlog)
    _, records = await drain(settings, backlog, 10 * backlog, lambda adapter: adapter.in_flight)
    assert len({ts for record in records for ts in orjson.loads(record.value)["ts"]}) == 10 * backlog
