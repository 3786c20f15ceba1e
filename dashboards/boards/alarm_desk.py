"""报警处置台 (alarm desk): which alarm waits for whom. Open and 待反馈 alarms, however old, with colour, age,
acknowledgement state and escalation tier, each linking to its page in the API; recently closed
alarms with their disposal notes; time-to-acknowledge statistics."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import stat, table
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig, DynamicConfigValue

from hazmon import series

from dashboards import influxql
from dashboards.boards.common import BoardContext, new_dashboard
from dashboards.panels import LEVEL_COLORS, STATE_COLORS, stat_panel, table_panel, value_map
from dashboards.target import InfluxQL
from dashboards.text import Texts

UID = "hazmon-alarm-desk"
OPEN_COLUMNS = '"id", "level", "state", "awaiting_feedback", "message", "value", "limit", "escalation", "started_at"'
CLOSED_QUERY = (f'SELECT "id", "level", "message", "note", "by" FROM "{series.ALARM}" WHERE $timeFilter '
                f'AND "state" = \'closed\' GROUP BY {influxql.ALARM_KEY}')
ACK_QUERY = f'SELECT "started_at" FROM "{series.ALARM}" WHERE $timeFilter AND "transition" = \'acknowledged\''
TIER_COLORS = {"0": "text", "1": "orange", "2": "red"}


def alarm_link(api_url: str) -> str:
    """The alarm's page in the API, ``{api_url}/alarms/{id}``, filled per row by Grafana."""
    return f"{api_url.rstrip('/')}/alarms/${{__data.fields.id}}"


def column_overrides(panel: table.Panel, texts: Texts, api_url: str) -> table.Panel:
    """Operator names, colours and the alarm page link on the alarm table's columns."""
    link = {"title": texts("alarm_link"), "url": alarm_link(api_url), "targetBlank": True}
    colored = DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})
    tiers = value_map(texts, TIER_COLORS, {tier: f"tier{tier}" for tier in TIER_COLORS})
    panel.override_by_name("id", [DynamicConfigValue(id_val="links", value=[link])])
    panel.override_by_name("message", [DynamicConfigValue(id_val="links", value=[link]),
                                       DynamicConfigValue(id_val="displayName", value=texts("message"))])
    panel.override_by_name("level", [DynamicConfigValue(id_val="mappings", value=[value_map(texts, LEVEL_COLORS).to_json()]),
                                     colored, DynamicConfigValue(id_val="displayName", value=texts("level"))])
    panel.override_by_name("state", [DynamicConfigValue(id_val="mappings", value=[value_map(texts, STATE_COLORS).to_json()]),
                                     colored, DynamicConfigValue(id_val="displayName", value=texts("state"))])
    panel.override_by_name("escalation", [DynamicConfigValue(id_val="mappings", value=[tiers.to_json()]), colored,
                                          DynamicConfigValue(id_val="displayName", value=texts("escalation"))])
    panel.override_by_name("started_at", [DynamicConfigValue(id_val="unit", value="dateTimeFromNow"),
                                          DynamicConfigValue(id_val="displayName", value=texts("started_at"))])
    feedback = value_map(texts, {"true": "purple"}, {"true": "awaiting_feedback"})
    panel.override_by_name("awaiting_feedback", [DynamicConfigValue(id_val="mappings", value=[feedback.to_json()]), colored,
                                                 DynamicConfigValue(id_val="displayName", value=texts("awaiting_feedback"))])
    for column in ("enterprise", "site", "point", "rule", "value", "limit", "note", "by"):
        panel.override_by_name(column, [DynamicConfigValue(id_val="displayName", value=texts(column))])
    return panel


def open_alarms(context: BoardContext) -> table.Panel:
    """Active, acknowledged and 待反馈 alarms, oldest first (sortBy names the column as displayed, after its
    displayName override)."""
    query = influxql.open_alarms(OPEN_COLUMNS, state=influxql.ON_DESK)
    panel = table_panel(context.texts("open_alarms"), InfluxQL(query)).height(12).sort_by(
        [common_builders.TableSortByFieldState().display_name(context.texts("started_at")).desc(False)])
    return column_overrides(panel, context.texts, context.api_url)


def recently_closed(context: BoardContext) -> table.Panel:
    panel = table_panel(context.texts("recently_closed"), InfluxQL(CLOSED_QUERY))
    return column_overrides(panel, context.texts, context.api_url)


def ack_time(context: BoardContext) -> stat.Panel:
    """Acknowledgement time = the acknowledged record's time − the alarm's ``started_at``."""
    texts = context.texts
    delay = DataTransformerConfig(id_val="calculateField", options={
        "mode": "binary", "binary": {"left": "Time", "operator": "-", "right": "started_at"},
        "alias": texts("ack_time"), "replaceFields": True})
    return (stat_panel(texts("ack_time"), InfluxQL(ACK_QUERY).table(), span=24).unit("ms")
            .with_transformation(delay)
            .reduce_options(common_builders.ReduceDataOptions().calcs(["mean", "max", "count"]).values(False)))


def build(context: BoardContext) -> Dashboard:
    board = new_dashboard(UID, "alarm_desk", context).refresh("10s")
    for panel in (open_alarms(context), ack_time(context), recently_closed(context)):
        board.with_panel(panel)
    return board
