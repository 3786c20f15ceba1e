"""InfluxDB down for the recorder: nothing queued within the bound is lost, the queue's memory is bounded,
and what waits in Kafka (readings, alerting's lines) is written once InfluxDB is back."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from urllib.parse import urlsplit

import aiohttp
import pytest

from hazmon.settings import Settings

from hazmon.wire import ReadingBatch

from recorder.influx import InfluxWriter
from hazmon.topics import PlatformTopics
from testbed.alerting import CHEM, T0, eventually
from testbed.faults.proxy import Proxy


def probe_lines(start: int, count: int) -> list[str]:
    """Lines of a measurement of the test's own, one per millisecond, with a text field like an alarm's."""
    return [f"fault_probe,enterprise=E{i % 7},point=P{i % 13} value={i}i,message=\"第{i}条报警记录 limit exceeded\" {T0 + i}"
            for i in range(start, start + count)]


async def count(settings: Settings, measurement: str = "fault_probe") -> int:
    async with aiohttp.ClientSession() as session, session.get(
            f"{settings.influx_url}/query", params={"db": settings.influx_db, "q": f"SELECT count(value) FROM {measurement}"}) as response:
        body = await response.json()
    series = body["results"][0].get("series", [])
    return series[0]["values"][0][1] if series else 0


def holds(settings: Settings, expected: int, measurement: str = "fault_probe"):
    """A check for :func:`eventually`: the database holds ``expected`` points of ``measurement``."""
    async def check() -> bool:
        return await count(settings, measurement) == expected
    return check


@pytest.fixture
async def proxy(influxdb: Settings) -> Proxy:
    target = urlsplit(influxdb.influx_url)
    server = Proxy(target.hostname or "127.0.0.1", target.port or 8086)
    await server.up()
    yield server
    await server.down()


async def test_submitted_lines_survive_an_outage(alerting_settings: Settings, proxy: Proxy) -> None:
    settings = alerting_settings.model_copy(update={"influx_url": proxy.url})
    writer = InfluxWriter(settings)
    assert await writer.ensure_database()
    await writer.start()
    try:
        writer.submit(probe_lines(0, 100))
        await eventually(holds(alerting_settings, 100), 20, "the lines before the outage")
        await proxy.down()
        for batch in range(20):                  # 2 s of alarms while InfluxDB is unreachable
            writer.submit(probe_lines(100 + batch * 50, 50))
            await asyncio.sleep(0.1)
        assert writer.queued > 0 and writer.dropped == 0
        await proxy.up()
        await eventually(holds(alerting_settings, 1100), 40, "every line after the outage")
        assert writer.dropped == 0
    finally:
        await writer.close()


async def test_queue_is_bounded_while_influx_is_down(alerting_settings: Settings, proxy: Proxy,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    await proxy.down()
    settings = alerting_settings.model_copy(update={"influx_url": proxy.url, "alerting_influx_queue_max": 20_000})
    writer = InfluxWriter(settings)
    await writer.start()
    tracemalloc.start()
    try:
        with caplog.at_level(logging.ERROR, logger="recorder.influx"):
            for batch in range(100):             # 100 000 lines against a bound of 20 000
                writer.submit(probe_lines(batch * 1000, 1000))
                await asyncio.sleep(0)
            await asyncio.sleep(0.5)             # a few failed flushes
            assert writer.queued <= 20_000
            assert writer.dropped == 100_000 - writer.queued
            assert "influx queue full" in caplog.text
            _, peak = tracemalloc.get_traced_memory()
            assert peak < 40 * 1024 * 1024, peak   # 20 000 lines of ≈ 110 bytes, not 100 000
        await proxy.up()
        await eventually(holds(alerting_settings, 20_000), 40, "the newest 20 000 lines after the outage")
    finally:
        tracemalloc.stop()
        await writer.close()


async def test_readings_wait_in_kafka_through_an_outage(start_recorder, produce, names: PlatformTopics,
                                                        alerting_settings: Settings, proxy: Proxy) -> None:
    """The reading writer commits its offsets only after a write: what InfluxDB could not take is read again."""
    recorder = await start_recorder(alerting_settings.model_copy(update={"influx_url": proxy.url}))

    def batch(first: int) -> ReadingBatch:
        return ReadingBatch(v=1, enterprise=CHEM, device="RTU01", recv_ms=T0 + first * 1000 + 999,
                            points=["TK01_LT"] * 100, ts=[T0 + (first + i) * 1000 for i in range(100)],
                            values=[float(i) for i in range(100)], q=[0] * 100, ts_src=[0] * 100)

    await produce(names.readings, [batch(0)])
    await eventually(holds(alerting_settings, 100, '"raw".reading'), 30, "the readings before the outage")
    await proxy.down()
    await produce(names.readings, [batch(100 * n) for n in range(1, 11)])   # 1 000 readings while InfluxDB is away
    await asyncio.sleep(3.0)
    assert await count(alerting_settings, '"raw".reading') == 100
    await proxy.up()
    await eventually(holds(alerting_settings, 1100, '"raw".reading'), 60, "every reading after the outage")
    assert recorder.dead_tasks() == []
