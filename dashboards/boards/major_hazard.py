"""重大危险源 (major hazard sources): tank levels, temperatures, pressures and gas concentrations of
the selected enterprises and sites, each point with its registry limit lines (一级/二级)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from hazmon.registry import SiteKind

from dashboards.boards.common import BoardContext, domain_dashboard

UID = "hazmon-major-hazard"
TYPES = ("tank_level", "temperature", "pressure", "combustible_gas", "toxic_gas")


def build(context: BoardContext) -> Dashboard:
    return domain_dashboard(UID, "major_hazard", context, SiteKind.MAJOR_HAZARD, TYPES)
