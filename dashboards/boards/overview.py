"""县级总览 (county overview): which enterprise is in danger now. Enterprises by risk colour on a
map (registry coordinates) and in a table, open alarms by level and by domain, offline devices, and
today's alarm trend."""

from __future__ import annotations

from statistics import fmean

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import barchart, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig, DynamicConfigValue, Threshold

from hazmon import series
from hazmon.registry import SiteKind

from dashboards import influxql
from dashboards.boards.common import BoardContext, new_dashboard
from dashboards.panels import LEVEL_COLORS, RISK_COLORS, risk_value_map, stat_panel, table_panel, thresholds, timeseries_panel, value_map
from dashboards.target import DATASOURCE, InfluxQL

UID = "hazmon-overview"
DOMAINS = (SiteKind.TAILINGS_POND, SiteKind.MAJOR_HAZARD, SiteKind.FIRE_UNIT)

RISK_QUERY = (f'SELECT last("level") AS "level", "color", "active_alarms" FROM "{series.ENTERPRISE_RISK}" '
              f'WHERE time > now() - {influxql.CURRENT_LOOKBACK} GROUP BY "enterprise"')
LOCATION_QUERY = (f'SELECT last("lat") AS "lat", "lon", "name", "town" FROM "{series.ENTERPRISE_LOCATION}" '
                  f'GROUP BY "enterprise"')
JOIN_ON_ENTERPRISE = DataTransformerConfig(id_val="joinByField", options={"byField": "enterprise", "mode": "outer"})


def risk_targets() -> tuple[InfluxQL, InfluxQL]:
    """Each enterprise's latest risk colour, and its registry name and coordinates, joined by id."""
    return InfluxQL(RISK_QUERY, "A").table(), InfluxQL(LOCATION_QUERY, "B").table()


RISK_STEPS = [Threshold(value=None if level == 0 else float(level), color=color) for level, color in enumerate(RISK_COLORS)]


def risk_map(context: BoardContext) -> geomap.Panel:
    enterprises = [doc.enterprise for doc in context.registry.enterprises.values()]
    centre_lat = fmean(e.lat for e in enterprises) if enterprises else 0.0
    centre_lon = fmean(e.lon for e in enterprises) if enterprises else 0.0
    markers = (common_builders.MapLayerOptions().type("markers").name(context.texts("color")).tooltip(True)
               .location(common_builders.FrameGeometrySource().mode(common.FrameGeometrySourceMode.COORDS)
                         .latitude("lat").longitude("lon"))
               .config({"showLegend": True, "style": {"color": {"field": "level", "fixed": "blue"},
                                                      "size": {"fixed": 12}, "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                                                      "text": {"field": "name", "mode": "field"}}}))
    panel = (geomap.Panel().title(context.texts("risk_map")).datasource(DATASOURCE).span(14).height(12)
             .view(geomap.MapViewConfig().id("coords").lat(round(centre_lat, 4)).lon(round(centre_lon, 4)).zoom(10))  # type: ignore[arg-type]  # the SDK types degrees as int
             .layers([markers]).with_transformation(JOIN_ON_ENTERPRISE)
             .mappings([risk_value_map(context.texts)]).thresholds(thresholds(RISK_STEPS)))
    for target in risk_targets():
        panel.with_target(target)
    return panel


def risk_table(context: BoardContext) -> table.Panel:
    texts = context.texts
    panel = table_panel(texts("risk_table"), *risk_targets(), merge=False).span(10).height(12).with_transformation(JOIN_ON_ENTERPRISE)
    panel.with_transformation(DataTransformerConfig(id_val="organize", options={
        "excludeByName": {"Time": True, "Time 1": True, "Time 2": True, "color": True, "lat": True, "lon": True},
        "renameByName": {"name": texts("name"), "town": texts("town"), "level": texts("color"),
                         "active_alarms": texts("active_alarms"), "enterprise": texts("enterprise")}}))
    panel.override_by_name("level", [DynamicConfigValue(id_val="mappings", value=[risk_value_map(texts).to_json()]),
                                     DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})])
    return panel


def open_by_level(context: BoardContext) -> barchart.Panel:
    """Open alarms counted per level (level is a field of the open-alarm query, so Grafana groups)."""
    count_per_level = DataTransformerConfig(id_val="groupBy", options={"fields": {
        "level": {"aggregations": [], "operation": "groupby"},
        "id": {"aggregations": ["count"], "operation": "aggregate"}}})
    return (barchart.Panel().title(context.texts("open_by_level")).datasource(DATASOURCE).span(12).height(6)
            .with_target(InfluxQL(influxql.open_alarms('"id", "level"', group="")).table())
            .with_transformation(count_per_level).x_field("level")
            .mappings([value_map(context.texts, LEVEL_COLORS)]))


def open_by_domain(context: BoardContext) -> stat.Panel:
    targets = []
    for ref, kind in zip("ABC", DOMAINS, strict=True):
        where = influxql.site_filter(context.registry, kind)
        if where is not None:
            query = influxql.open_alarms('count("id")', where=where, group="")
            targets.append(InfluxQL(query, ref).alias(context.texts(f"domain_{kind.value}")))
    return stat_panel(context.texts("open_by_domain"), *targets, span=12)


def offline_devices(context: BoardContext) -> table.Panel:
    query = influxql.open_alarms('"id", "message", "started_at"', where="\"rule\" = 'offline'")
    panel = table_panel(context.texts("offline_devices"), InfluxQL(query)).span(12).height(8)
    panel.override_by_name("started_at", [DynamicConfigValue(id_val="unit", value="dateTimeFromNow")])
    return panel


def today_trend(context: BoardContext) -> timeseries.Panel:
    query = influxql.confirmed_alarms('count("id")', group='time(1h), "level" fill(0)')
    return (timeseries_panel(context.texts("today_trend"), "short").time_from("now/d").draw_style(common.GraphDrawStyle.BARS).stacking(
                common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
            .with_target(InfluxQL(query).alias("$tag_level")))


def build(context: BoardContext) -> Dashboard:
    board = new_dashboard(UID, "overview", context)
    for panel in (risk_map(context), risk_table(context), open_by_level(context), open_by_domain(context),
                  offline_devices(context), today_trend(context)):
        board.with_panel(panel)
    return board
