"""stream_rules.metrics on the real Kafka: each input partition's lag is its end minus the next offset
Faust hands to an agent (after its read offset, else its committed one), the deadman's ticks and
other topics are no input; a period's latency is one sample per batch (its oldest receive time),
summed up and then started again; the record goes to the metrics topic keyed by component."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP
from yarl import URL

from hazmon import wire
from hazmon.kafka_topics import ensure_topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from stream_rules.metrics import RulesMetrics


@dataclass
class FakeConsumer:
    """What the metrics read of Faust's consumer: its assignment, read and committed offsets."""

    tps: set[TP]
    _read_offset: defaultdict = field(default_factory=lambda: defaultdict(lambda: None))
    _committed_offset: defaultdict = field(default_factory=lambda: defaultdict(lambda: None))

    def assignment(self) -> set[TP]:
        return self.tps


@dataclass
class FakeProducer:
    sent: list[tuple[Any, ...]] = field(default_factory=list)

    async def send(self, *args: Any) -> None:
        self.sent.append(args)


@dataclass
class FakeApp:
    conf: Any
    consumer: FakeConsumer
    producer: FakeProducer = field(default_factory=FakeProducer)
    rebalancing: bool = False
    in_recovery: bool = False


async def test_lag_per_input_partition_and_latency_per_period(kafka: str, settings: Settings, unique: str) -> None:
    readings, ticks = PlatformTopics.with_suffix(f".test-metrics-{unique}").readings, f"test-metrics-{unique}-deadman-ticks"
    await ensure_topics(settings, [readings])
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for partition, count in ((0, 7), (1, 3)):
            for n in range(count):
                await producer.send_and_wait(readings, b"%d" % n, key=b"e", partition=partition)
    finally:
        await producer.stop()
    consumer = FakeConsumer({TP(readings, 0), TP(readings, 1), TP(readings, 2), TP(ticks, 0)})
    consumer._read_offset[TP(readings, 0)] = 2          # handed offsets 0..2 to an agent
    consumer._committed_offset[TP(readings, 1)] = 1     # after a seek to the committed offset
    app = FakeApp(conf=type("Conf", (), {"broker": [URL(f"kafka://{kafka}")]})(), consumer=consumer)
    metrics = RulesMetrics(app, [readings], PlatformTopics.with_suffix(f".test-metrics-{unique}").metrics)  # type: ignore[arg-type]

    metrics.batch_done([{"recv_ms": 1_000}, {"recv_ms": 900}, {"enterprise": "no receive time"}], 1_250)
    metrics.batch_done([{"recv_ms": 1_200}], 1_250)
    metrics.batch_done([{"now_ms": 1_000}], 1_250)      # nothing received: no sample
    record = await metrics.take(2_000)
    assert record["lags"] == [{"topic": readings, "partition": 0, "lag": 4}, {"topic": readings, "partition": 1, "lag": 2},
                              {"topic": readings, "partition": 2, "lag": 0}]
    assert record["latency"] == {"batches": 2, "p50_ms": 50.0, "p99_ms": 350.0, "max_ms": 350.0}
    assert (record["component"], record["ts"], record["instance"]) == ("rules", 2_000, wire.instance_name())

    await metrics.report()
    ((topic, key, value, *_),) = app.producer.sent
    assert (topic, key) == (metrics.topic, b"rules")
    assert "latency" not in orjson.loads(value)          # the period started again
    app.rebalancing = True
    await metrics.report()
    assert len(app.producer.sent) == 1                   # partitions moving: nothing to say
    await metrics._ends.stop()                           # its own consumer of the ends


class BrokenProducer:
    async def send(self, *args: Any) -> None:
        raise ConnectionError("broker away")


async def test_a_report_that_fails_is_logged_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    app = FakeApp(conf=None, consumer=FakeConsumer(set()), producer=BrokenProducer())  # type: ignore[arg-type]
    metrics = RulesMetrics(app, ["hazmon.readings.v1"], "hazmon.pipeline-metrics.v1")  # type: ignore[arg-type]
    await metrics.report()                               # a Faust timer's exception would end the worker
    assert "pipeline metrics not reported" in caplog.text
