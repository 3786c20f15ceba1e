"""The 平台运行 board's pipeline panels on the real InfluxDB read exactly what the processes write
(``series.pipeline_lines`` of their ``wire.PipelineMetrics``): two rules workers sharing the
partitions of a topic make one lag, the sum over all partitions; latency is the worst process's;
throughput the sum of alerting's processes."""

from __future__ import annotations

import time

import aiohttp
import pytest

from dashboards.boards import platform
from hazmon import series, wire
from hazmon.settings import Settings
from tests.dashboards.county import write_lines
from tests.dashboards.test_queries_influx import grafana_interpolate

pytestmark = pytest.mark.servers
READINGS = "hazmon.readings.v1"


def record(component: str, instance: str, ts: int, lags: dict[int, int], latency: list[float] | None = None,
           **gauges: float) -> wire.PipelineMetrics:
    metrics = wire.PipelineMetrics(v=1, component=component, instance=instance, ts=ts,  # type: ignore[typeddict-item]
                                   lags=[wire.PartitionLag(topic=READINGS, partition=p, lag=n) for p, n in lags.items()],
                                   gauges=gauges)
    summary = wire.latency_of(latency or [])
    if summary is not None:
        metrics["latency"] = summary
    return metrics


@pytest.fixture
async def database(influxdb: Settings, database: str) -> str:
    minute = (int(time.time() * 1000) - 5 * 60_000) // 60_000 * 60_000   # one whole minute, five minutes ago
    records = [record("rules", "a:1", minute + 10_000, {0: 5, 1: 7}, [10.0, 20.0, 30.0]),
               record("rules", "b:2", minute + 20_000, {2: 1}, [400.0]),
               record("recorder", "c:3", minute + 30_000, {0: 2}, influx_queue=12.0, points_per_s=100.0),
               record("recorder", "d:4", minute + 40_000, {1: 0}, influx_queue=3.0, points_per_s=50.0)]
    await write_lines(influxdb, database, [line for r in records for line in series.pipeline_lines(r)])
    return database


async def rows(settings: Settings, database: str, query: str) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{settings.influx_url}/query",
                            params={"db": database, "q": grafana_interpolate(query), "epoch": "ms"}) as response:
            result = (await response.json())["results"][0]
    assert "error" not in result, result
    return [{**one.get("tags", {}), **dict(zip(one["columns"], row))}
            for one in result.get("series", []) for row in one["values"] if any(v is not None for v in row[1:])]


async def test_pipeline_panels_read_what_the_processes_wrote(influxdb: Settings, database: str) -> None:
    lag = await rows(influxdb, database, platform.KAFKA_LAG)
    assert sorted((r["component"], r["topic"], r["sum"]) for r in lag) == [("recorder", READINGS, 2),
                                                                          ("rules", READINGS, 13)]
    (latency,) = await rows(influxdb, database, platform.RULE_LATENCY)
    assert (latency["p50"], latency["p99"], latency["max"]) == (400.0, 400.0, 400.0)   # the worse worker's
    (throughput,) = await rows(influxdb, database, platform.WRITER_THROUGHPUT)
    assert throughput["sum"] == 150.0
    queue = await rows(influxdb, database, platform.INFLUX_QUEUE)
    assert sorted((r["instance"], r["max"]) for r in queue) == [("c:3", 12.0), ("d:4", 3.0)]
    assert await rows(influxdb, database, platform.INGEST_LATENCY) == []   # no ingest wrote: nothing made up
