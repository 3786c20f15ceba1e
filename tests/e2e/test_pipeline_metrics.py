"""The platform watches itself (issue 16): a small isolated pipeline (ingest, one rules worker, alerting,
the recorder on the local stack) takes a device's readings, and the 平台运行 board's own queries, as
Grafana sends them, return what the processes reported (hazmon.pipeline-metrics.v1, alerting's lines on
hazmon.series.v1) and the recorder wrote to InfluxDB: the Kafka lag of every input partition of the
rules worker, of alerting and of the recorder, the rule latency and the ingest latency
(p50 ≤ p99 ≤ max), and the recorder's InfluxDB queue."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import aiomqtt
import orjson
import pytest

from dashboards.boards import platform
from hazmon.settings import Settings
from tests.dashboards.test_queries_influx import grafana_interpolate
from testbed.pipeline import IsolatedPipeline
from tests.e2e.runs import sample_county

pytestmark = pytest.mark.servers
CHEM = "91433127MA4CHEM001"    # of the sample registry: device RTU01 with TK01_LT and TK01_TT
MESSAGES = 20
REPORTED_WITHIN_S = 90.0


async def rows_of(run: IsolatedPipeline, query: str) -> list[dict]:
    """Every row of every series of a board query on the run's database, as {tags…, column: value}."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.get(f"{run.settings.influx_url}/query",
                            params={"db": run.influx_db, "q": grafana_interpolate(query), "epoch": "ms"}) as response:
            body = await response.json()
    result = body["results"][0]
    assert "error" not in result, (result["error"], query)
    return [{**one.get("tags", {}), **dict(zip(one["columns"], row))}
            for one in result.get("series", []) for row in one["values"]]


async def until_rows(run: IsolatedPipeline, query: str, wanted, what: str) -> list[dict]:
    """The query's rows once ``wanted(rows)`` holds; fail naming ``what`` and the children's logs otherwise."""
    deadline = time.monotonic() + REPORTED_WITHIN_S
    while time.monotonic() < deadline:
        rows = await rows_of(run, query)
        if wanted(rows):
            return rows
        await asyncio.sleep(1.0)
    tails = {name: child.log_tail() for name, child in run.supervisor.children.items()}
    raise AssertionError(f"no {what} on the platform board: {rows}\n{tails}")


async def test_the_platform_board_shows_the_pipelines_lag_and_latency(
        mosquitto: Settings, kafka: str, influxdb: Settings, settings: Settings, tmp_path: Path, unique: str) -> None:
    run, ids, secrets = sample_county(settings, tmp_path, unique, CHEM)
    enterprise = ids[CHEM]
    run.env.update({"HAZMON_RULES_METRICS_S": "1", "HAZMON_ALERTING_METRICS_S": "1"})
    readings, transitions = run.names.readings, run.names.transitions
    try:
        await run.start()
        password = secrets.enterprise(enterprise).mqtt_password
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise, password=password,
                                  identifier=f"metrics-{unique}", protocol=aiomqtt.ProtocolVersion.V5) as device:
            for seq in range(1, MESSAGES + 1):
                body = {"v": 1, "ts": int(time.time() * 1000), "seq": seq,
                        "readings": [{"point": "TK01_LT", "value": 5.0}, {"point": "TK01_TT", "value": 25.0}]}
                await device.publish(f"hazmon/v1/{enterprise}/RTU01/telemetry", orjson.dumps(body), qos=1)
                await asyncio.sleep(0.05)
        await asyncio.wait_for(_readings_in_kafka(run, 2 * MESSAGES), REPORTED_WITHIN_S)

        await until_rows(run, platform.KAFKA_LAG, lambda rows: any(
            r["component"] == "rules" and r["topic"] == readings for r in rows), "rules lag of the readings topic")
        latency = await until_rows(run, platform.RULE_LATENCY, bool, "rule latency")
        ingest = await until_rows(run, platform.INGEST_LATENCY, bool, "ingest latency")
        lag = await until_rows(run, platform.KAFKA_LAG, lambda rows: any(
            r["component"] == "alerting" and r["topic"] == transitions for r in rows), "alerting's lag")
        lag = await until_rows(run, platform.KAFKA_LAG, lambda rows: any(
            r["component"] == "recorder" and r["topic"] == readings for r in rows), "the recorder's lag")
        queue = await until_rows(run, platform.INFLUX_QUEUE, bool, "InfluxDB queue")
        partitions = await rows_of(run, 'SELECT last("lag") FROM "pipeline_lag" WHERE $timeFilter '
                                        'GROUP BY "component", "topic", "partition"')
    finally:
        run.supervisor.stop_all()
        await run.drop_database()
        await run.drop_topics()
    inputs = {run.names.readings, run.names.events, run.names.device_status}
    owned = {(r["topic"], r["partition"]) for r in partitions if r["component"] == "rules"}
    assert owned == {(t, str(p)) for t in inputs for p in range(settings.kafka_partitions)}   # every input partition
    assert {r["topic"] for r in lag if r["component"] == "alerting"} >= {transitions, run.names.actions}
    assert {r["topic"] for r in lag if r["component"] == "recorder"} >= {readings, run.names.series}
    for rows in (latency, ingest):
        for row in rows:
            assert 0 <= row["p50"] <= row["p99"] <= row["max"] < REPORTED_WITHIN_S * 1000, rows
    assert all(r["max"] >= 0 for r in queue)


async def _readings_in_kafka(run: IsolatedPipeline, count: int) -> None:
    while await run.kafka_readings() < count:
        await asyncio.sleep(0.5)
