"""消防物联网 (fire IoT): pipe pressures, fire water tank levels, electrical fire points with their
limit lines, and the fire alarm controllers' events (fire alarms and faults of detector points)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from hazmon import series
from hazmon.registry import SiteKind

from dashboards import influxql
from dashboards.boards.common import BoardContext, domain_dashboard
from dashboards.panels import table_panel
from dashboards.target import InfluxQL

UID = "hazmon-fire"
TYPES = ("hydrant_pressure", "sprinkler_pressure", "water_tank_level", "residual_current", "cable_temperature")


def controller_events_query(context: BoardContext) -> str | None:
    """Alarm records (fire, fault, offline, …) of the fire detector points, newest first."""
    detectors = influxql.point_filter(context.points(SiteKind.FIRE_UNIT, "fire_detector"))
    if detectors is None:
        return None
    return (f'SELECT "message", "level", "transition", "id" FROM "{series.ALARM}" WHERE $timeFilter AND {detectors} '
            f'AND {influxql.selected("site")} GROUP BY {influxql.ALARM_KEY}, "state"')


def build(context: BoardContext) -> Dashboard:
    board = domain_dashboard(UID, "fire", context, SiteKind.FIRE_UNIT, TYPES)
    events = controller_events_query(context)
    if events is not None:
        board.with_panel(table_panel(context.texts("controller_events"), InfluxQL(events)))
    return board
