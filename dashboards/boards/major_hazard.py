"""重大危险源 (major hazard sources): tank levels, temperatures, pressures and gas concentrations of
the selected enterprises and sites, each point with its registry limit lines (一级/二级)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from hazmon.registry import SiteKind

from dashboards.boards.common import BoardContext, enterprise_variable, limit_series_panel, new_dashboard, site_variable

UID = "hazmon-major-hazard"
TYPES = ("tank_level", "temperature", "pressure", "combustible_gas", "toxic_gas")


def build(context: BoardContext) -> Dashboard:
    kind = SiteKind.MAJOR_HAZARD
    board = (new_dashboard(UID, "major_hazard", context).with_variable(enterprise_variable(context, kind))
             .with_variable(site_variable(context, kind, "site", "site")))
    for point_type in TYPES:
        board.with_panel(limit_series_panel(context, kind, point_type, "site"))
    return board
