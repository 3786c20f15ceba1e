"""平台运行 (platform health): readings per second, refusals by enterprise and reason, duplicates and
gaps (``platform_ingest``, ingest's counters written by the recorder); Kafka consumer lag per component and
topic, rule and ingest latency (p50, p99, max), InfluxDB writer throughput and queue (``pipeline`` and
``pipeline_lag``: the processes' ``wire.PipelineMetrics``, docs/dashboards.md "Pipeline metrics").

Each query reads exactly what ``hazmon.series.pipeline_lines`` writes: the names come from there."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from hazmon import series

from dashboards.boards.common import BoardContext, new_dashboard
from dashboards.panels import timeseries_panel
from dashboards.target import InfluxQL

UID = "hazmon-platform"
_INGEST = f'FROM "{series.PLATFORM_INGEST}" WHERE $timeFilter'
_PIPELINE = f'FROM "{series.PIPELINE}" WHERE $timeFilter'
_BY_TIME = "GROUP BY time($__interval)"


def component(name: str) -> str:
    return f'"{series.COMPONENT}" = {series.influxql_string(name)}'


def latency(name: str) -> str:
    """A component's batch latency: the worst p50, p99 and max of its processes in each interval."""
    return (f'SELECT max("{series.LATENCY_P50}") AS "p50", max("{series.LATENCY_P99}") AS "p99", '
            f'max("{series.LATENCY_MAX}") AS "max" {_PIPELINE} AND {component(name)} {_BY_TIME} fill(none)')


# Lag per component and topic: the sum over partitions of each partition's last lag in the interval
# (a partition is one process's at a time; its lag is reported by whoever owns it).
KAFKA_LAG = (f'SELECT sum("{series.LAG}") FROM (SELECT last("{series.LAG}") AS "{series.LAG}" '
             f'FROM "{series.PIPELINE_LAG}" WHERE $timeFilter {_BY_TIME}, '
             f'"{series.COMPONENT}", "{series.TOPIC}", "{series.PARTITION}") '
             f'WHERE $timeFilter {_BY_TIME}, "{series.COMPONENT}", "{series.TOPIC}" fill(none)')
RULE_LATENCY = latency("rules")
INGEST_LATENCY = latency("ingest")
WRITER_THROUGHPUT = (f'SELECT sum("{series.POINTS_PER_S}") FROM (SELECT mean("{series.POINTS_PER_S}") AS '
                     f'"{series.POINTS_PER_S}" {_PIPELINE} AND {component("recorder")} {_BY_TIME}, '
                     f'"{series.INSTANCE}") WHERE $timeFilter {_BY_TIME} fill(none)')
INFLUX_QUEUE = (f'SELECT max("{series.INFLUX_QUEUE}") {_PIPELINE} AND {component("recorder")} '
                f'{_BY_TIME}, "{series.INSTANCE}" fill(none)')

# (title key, query, alias, unit)
PANELS: tuple[tuple[str, str, str, str], ...] = (
    ("readings_per_s", f'SELECT sum("accepted") / 60 {_INGEST} GROUP BY time(1m) fill(0)', "", "reqps"),
    ("refusals", f'SELECT sum(/^refused_/) {_INGEST} GROUP BY time(1m), "enterprise" fill(none)',
     "$tag_enterprise $col", "short"),
    ("duplicates_gaps", f'SELECT sum("duplicates") AS "duplicates", sum("gaps") AS "gaps" {_INGEST} '
     f'GROUP BY time(1m), "enterprise" fill(none)', "$tag_enterprise $col", "short"),
    ("kafka_lag", KAFKA_LAG, "$tag_component $tag_topic", "short"),
    ("rule_latency", RULE_LATENCY, "$col", "ms"),
    ("ingest_latency", INGEST_LATENCY, "$col", "ms"),
    ("writer_throughput", WRITER_THROUGHPUT, "", "reqps"),
    ("influx_queue", INFLUX_QUEUE, "$tag_instance", "short"),
)


def build(context: BoardContext) -> Dashboard:
    board = new_dashboard(UID, "platform", context)
    for title_key, query, alias, unit in PANELS:
        target = InfluxQL(query).alias(alias) if alias else InfluxQL(query)
        board.with_panel(timeseries_panel(context.texts(title_key), unit).with_target(target))
    return board
