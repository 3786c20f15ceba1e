"""平台运行 (platform health): readings per second, refusals by enterprise and reason, duplicates and
gaps (``platform_ingest``, written by alerting), Kafka consumer lag, rule latency and writer
throughput (``pipeline``, defined in docs/dashboards.md)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from hazmon import series

from dashboards.boards.common import BoardContext, new_dashboard
from dashboards.panels import timeseries_panel
from dashboards.target import InfluxQL

UID = "hazmon-platform"
_INGEST = f'FROM "{series.PLATFORM_INGEST}" WHERE $timeFilter'
_PIPELINE = f'FROM "{series.PIPELINE}" WHERE $timeFilter'
# (title key, query, alias, unit)
PANELS: tuple[tuple[str, str, str, str], ...] = (
    ("readings_per_s", f'SELECT sum("accepted") / 60 {_INGEST} GROUP BY time(1m) fill(0)', "", "reqps"),
    ("refusals", f'SELECT sum(/^refused_/) {_INGEST} GROUP BY time(1m), "enterprise" fill(none)',
     "$tag_enterprise $col", "short"),
    ("duplicates_gaps", f'SELECT sum("duplicates") AS "duplicates", sum("gaps") AS "gaps" {_INGEST} '
     f'GROUP BY time(1m), "enterprise" fill(none)', "$tag_enterprise $col", "short"),
    ("kafka_lag", f'SELECT max("lag") {_PIPELINE} GROUP BY time($__interval), "component" fill(none)',
     "$tag_component", "short"),
    ("rule_latency", f'SELECT max("latency_ms") {_PIPELINE} AND "component" = \'rules\' '
     f'GROUP BY time($__interval), "component" fill(none)', "$tag_component", "ms"),
    ("writer_throughput", f'SELECT mean("points_per_s") {_PIPELINE} AND "component" = \'writer\' '
     f'GROUP BY time($__interval), "component" fill(none)', "$tag_component", "reqps"),
)


def build(context: BoardContext) -> Dashboard:
    board = new_dashboard(UID, "platform", context)
    for title_key, query, alias, unit in PANELS:
        target = InfluxQL(query).alias(alias) if alias else InfluxQL(query)
        board.with_panel(timeseries_panel(context.texts(title_key), unit).with_target(target))
    return board
