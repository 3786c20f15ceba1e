"""The recorder's side of the pipeline metrics on the real servers: a consumer's lag per partition is the
broker's end minus its position (asked of the broker, also for a consumer that has not fetched), and
a PipelineMetrics record read from the metrics topic becomes the ``pipeline`` and ``pipeline_lag``
points the 平台运行 board reads."""

from __future__ import annotations

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hazmon import wire
from hazmon.kafka_topics import ensure_topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics

from hazmon.consumer_lag import consumer_lags
from recorder.influx import InfluxWriter
from recorder.pipeline_metrics import pipeline_metrics_lines


async def test_consumer_lag_is_the_end_minus_the_position(kafka: str, settings: Settings, unique: str) -> None:
    topic = PlatformTopics.with_suffix(f".test-lag-{unique}").metrics
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, b"%d" % n, key=b"rules", partition=1)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        assert await consumer_lags(consumer) == []                    # nothing assigned
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        consumer.seek(TopicPartition(topic, 0), 0)
        consumer.seek(TopicPartition(topic, 1), 0)
        assert await consumer_lags(consumer) == [{"topic": topic, "partition": 0, "lag": 0},
                                                 {"topic": topic, "partition": 1, "lag": 5}]
        consumer.seek(TopicPartition(topic, 1), 3)
        assert [lag["lag"] for lag in await consumer_lags(consumer)] == [0, 2]
    finally:
        await consumer.stop()


async def test_a_metrics_record_becomes_the_boards_points(kafka: str, influxdb: Settings, unique: str) -> None:
    record = wire.PipelineMetrics(v=1, component="rules", instance="host:1", ts=1_700_000_000_000,
                                  lags=[wire.PartitionLag(topic="hazmon.readings.v1", partition=p, lag=p) for p in range(3)],
                                  latency=wire.Latency(batches=4, p50_ms=12.5, p99_ms=80.0, max_ms=80.0))
    consumed = type("Record", (), {"value": wire.encode(record), "topic": "t", "partition": 0, "offset": 0})()
    broken = type("Record", (), {"value": b"{", "topic": "t", "partition": 0, "offset": 1})()
    lines = pipeline_metrics_lines([consumed, broken])           # a malformed record is skipped
    database = f"hz_metrics_{unique}"
    writer = InfluxWriter(influxdb, database)
    try:
        await writer.write(lines)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{influxdb.influx_url}/query", params={"db": database, "epoch": "ms", "q": (
                    'SELECT * FROM "pipeline" WHERE time > 0; SELECT "lag", "partition" FROM "pipeline_lag" '
                    "WHERE time > 0 GROUP BY \"component\", \"topic\"")}) as response:
                results = (await response.json())["results"]
    finally:
        async with aiohttp.ClientSession() as http:
            await http.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'})
        await writer.close()
    (pipeline,) = results[0]["series"]
    assert dict(zip(pipeline["columns"], pipeline["values"][0])) == {
        "time": record["ts"], "component": "rules", "instance": "host:1", "lag": 3, "batches": 4,
        "latency_p50_ms": 12.5, "latency_p99_ms": 80.0, "latency_max_ms": 80.0}
    (lags,) = results[1]["series"]
    assert lags["tags"] == {"component": "rules", "topic": "hazmon.readings.v1"}
    assert sorted(lags["values"], key=lambda row: row[2]) == [[record["ts"], 0, "0"], [record["ts"], 1, "1"], [record["ts"], 2, "2"]]
