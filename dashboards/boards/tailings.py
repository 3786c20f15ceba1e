"""尾矿库 (tailings ponds): water level against flood level and crest, dry beach length and phreatic
depth against their colour limits, displacement and its rate, rainfall 1 h / 24 h, and the pond's
colour; variables for enterprise and pond."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue, Threshold

from hazmon import series
from hazmon.registry import SiteKind
from hazmon.registry.loader import PointEntry

from dashboards import influxql
from dashboards.boards.common import TYPE_UNITS, BoardContext, domain_dashboard
from dashboards.limits import NORMAL_COLOR, rainfall_steps
from dashboards.panels import (
    SERIES_ALIAS, StepsOf, risk_value_map, series_name, series_panel, stat_panel, thresholds_config,
)
from dashboards.target import InfluxQL

UID = "hazmon-tailings"
KIND = SiteKind.TAILINGS_POND
LIMIT_TYPES = ("water_level", "dry_beach_length", "phreatic_depth", "displacement")


def rate_steps(entry: PointEntry) -> list[Threshold]:
    """The trend limit (``rate_per_h``) as the displacement rate's limit line."""
    steps = [Threshold(value=None, color=NORMAL_COLOR)]
    if entry.point.rate_per_h is not None:
        steps.append(Threshold(value=entry.point.rate_per_h, color="orange"))
    return steps


def rainfall_1h_steps(entry: PointEntry) -> list[Threshold]:
    assert entry.limits.high_1h is not None
    return rainfall_steps(entry.limits.high_1h)


def rainfall_24h_steps(entry: PointEntry) -> list[Threshold]:
    assert entry.limits.high_24h is not None
    return rainfall_steps(entry.limits.high_24h)


def rolling_rainfall_stat(context: BoardContext, window: str, title_key: str, steps_of: StepsOf) -> stat.Panel:
    """Rainfall summed over the last ``window`` per gauge, coloured by the gauge's own limit."""
    panel = stat_panel(context.texts(title_key), InfluxQL(influxql.rolling_rainfall(window, "pond")).alias(SERIES_ALIAS),
                       span=6).unit(TYPE_UNITS["rainfall"])
    for entry in context.points(KIND, "rainfall"):
        panel.override_by_name(series_name(entry), [
            DynamicConfigValue(id_val="displayName", value=context.point_label(entry)),
            DynamicConfigValue(id_val="thresholds", value=thresholds_config(steps_of(entry)))])
    return panel


def pond_color_query() -> str:
    return (f'SELECT last("level") FROM "{series.SITE_RISK}" WHERE time > now() - {influxql.CURRENT_LOOKBACK} '
            f'AND {influxql.selected("pond")} GROUP BY "enterprise", "site"')


def pond_color(context: BoardContext) -> stat.Panel:
    """Each pond's latest colour (site_risk), named by the registry."""
    panel = (stat_panel(context.texts("pond_color"), InfluxQL(pond_color_query()).alias("$tag_enterprise/$tag_site"))
             .mappings([risk_value_map(context.texts)]))
    for eid, doc in sorted(context.registry.enterprises.items()):
        for site in doc.sites:
            if site.kind is KIND:
                panel.override_by_name(f"{eid}/{site.id}", [DynamicConfigValue(id_val="displayName", value=site.name)])
    return panel


def build(context: BoardContext) -> Dashboard:
    texts = context.texts
    board = domain_dashboard(UID, "tailings", context, KIND, LIMIT_TYPES, site_var="pond", reading_types=(*LIMIT_TYPES, "rainfall"))
    board.with_panel(pond_color(context))
    board.with_panel(rolling_rainfall_stat(context, "1h", "rain_1h", rainfall_1h_steps))
    board.with_panel(rolling_rainfall_stat(context, "24h", "rain_24h", rainfall_24h_steps))
    rate = influxql.readings("displacement", "pond", select='derivative(mean("value"), 1h)')
    board.with_panel(series_panel(texts("displacement_rate"), rate, TYPE_UNITS["displacement"],
                                  context.points(KIND, "displacement"), rate_steps, context.point_label))
    hourly = influxql.readings("rainfall", "pond", select=influxql.SUM_OF_READINGS, group="time(1h)")
    board.with_panel(series_panel(texts("rain_1h"), hourly, TYPE_UNITS["rainfall"],
                                  context.points(KIND, "rainfall"), rainfall_1h_steps, context.point_label))
    return board
