"""考核指标 (assessment figures, issue 17) over time: 联网率, 在线率, 签收及时率, 处置率, 误报率 and the mean minutes to sign
and to close, of the county, each town and each enterprise, one point per Beijing day (measurement ``assessment``,
written by alerting every ``desk_assessment_s`` with the desk's figures, hazmon.series). Series are named by the
county's word, the town's or the enterprise's name (tag ``name``), never an id (§10)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.models.dashboard import DynamicConfigValue

from hazmon import series
from hazmon.registry import PointType

from dashboards import influxql
from dashboards.boards.common import BoardContext, new_dashboard, tag_variable
from dashboards.panels import table_panel, timeseries_panel
from dashboards.target import InfluxQL
from dashboards.text import Texts

UID = "hazmon-assessment"
RATES = (series.NETWORK_RATE, series.ONLINE_RATE, series.SIGN_IN_TIME_RATE, series.DISPOSAL_RATE, series.FALSE_ALARM_RATE)
MINUTES = (series.MINUTES_TO_SIGN, series.MINUTES_TO_CLOSE)
TABLE_COLUMNS = (series.ALARMS, *RATES, *MINUTES)
BY_NAME = "$tag_name"
_FROM = f'FROM "{series.ASSESSMENT}" WHERE $timeFilter AND "{series.SCOPE}" = '
ENTERPRISES = influxql.variable(series.ENTERPRISE, series.ENTERPRISE)


def scope(name: str) -> str:
    return f"{_FROM}{series.influxql_string(name)}"


def county(fields: tuple[str, ...], texts: Texts) -> str:
    """The county's ``fields`` of each day, each column named as officers read it."""
    columns = ", ".join(f'"{field}" AS "{texts(field)}"' for field in fields)
    return f"SELECT {columns} {scope(series.COUNTY_SCOPE)}"


def by_town(field: str) -> str:
    """One field of each day, a series per town (by its name)."""
    return f'SELECT "{field}" {scope(series.TOWN_SCOPE)} GROUP BY "{series.NAME}"'


def by_enterprise(field: str) -> str:
    """One field of each day, a series per enterprise of the ``$enterprise`` selection (by its name)."""
    return f'SELECT "{field}" {scope(series.ENTERPRISE_SCOPE)} AND {ENTERPRISES} GROUP BY "{series.NAME}"'


def _last(field: str) -> str:
    return f'last("{field}") AS "{field}"'


# The enterprises' figures of the latest day in the range, a row per enterprise.
ENTERPRISE_TABLE = (f'SELECT {", ".join(_last(f) for f in TABLE_COLUMNS)} {scope(series.ENTERPRISE_SCOPE)} '
                    f'AND {ENTERPRISES} GROUP BY "{series.NAME}"')


def enterprise_table(texts: Texts) -> table.Panel:
    panel = table_panel(texts("assessment_enterprises"), InfluxQL(ENTERPRISE_TABLE))
    panel.override_by_name(series.NAME, [DynamicConfigValue(id_val="displayName", value=texts("enterprise"))])
    panel.override_by_name("Time", [DynamicConfigValue(id_val="custom.hidden", value=True)])
    for field in TABLE_COLUMNS:
        unit = "percentunit" if field in RATES else "none"
        panel.override_by_name(field, [DynamicConfigValue(id_val="displayName", value=texts(field)),
                                       DynamicConfigValue(id_val="unit", value=unit)])
    return panel


def build(context: BoardContext) -> Dashboard:
    texts = context.texts
    board = new_dashboard(UID, "assessment_board", context).time("now-30d", "now").refresh("5m")
    board.with_variable(tag_variable(series.ENTERPRISE, texts("enterprise"),
                                     influxql.tag_values(series.ENTERPRISE, (t.value for t in PointType))))
    board.with_panel(timeseries_panel(texts("assessment_county_rates"), "percentunit")
                     .with_target(InfluxQL(county(RATES, texts)).alias("$col")))
    board.with_panel(timeseries_panel(texts("assessment_county_minutes"), "m")
                     .with_target(InfluxQL(county(MINUTES, texts)).alias("$col")))
    for field in RATES:
        board.with_panel(timeseries_panel(texts(field) + texts("by_town"), "percentunit")
                         .with_target(InfluxQL(by_town(field)).alias(BY_NAME)))
    board.with_panel(timeseries_panel(texts(series.MINUTES_TO_SIGN) + texts("by_town"), "m")
                     .with_target(InfluxQL(by_town(series.MINUTES_TO_SIGN)).alias(BY_NAME)))
    board.with_panel(timeseries_panel(texts(series.SIGN_IN_TIME_RATE) + texts("by_enterprise"), "percentunit")
                     .with_target(InfluxQL(by_enterprise(series.SIGN_IN_TIME_RATE)).alias(BY_NAME)))
    board.with_panel(enterprise_table(texts))
    return board
