"""What every dashboard shares: its frame (uid, tags, refresh, time zone), its links (the other dashboards,
the duty desk and its 考核指标), the enterprise → site → point variables read from InfluxDB (no rebuild when
the registry changes), and the confirmed-alarm annotations drawn on its time series panels."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models.dashboard import (AnnotationQuery, DashboardLink, DashboardLinkType, VariableHide, VariableModel,
                                                    VariableOption, VariableRefresh, VariableSort)

from hazmon.registry import Registry, SiteKind
from hazmon.registry.loader import PointEntry
from hazmon.registry.names import point_name
from hazmon.series import ENTERPRISE, LABEL_PATTERN, POINT, RAW_POLICY, SITE, VALUE

from dashboards import influxql
from dashboards.limits import point_threshold_steps
from dashboards.panels import series_panel
from dashboards.target import DATASOURCE
from dashboards.text import Texts

TAG = "hazmon"
ALL = "$__all"


@dataclass(frozen=True)
class BoardContext:
    """Everything a dashboard is generated from: the registry, the language and the alarm pages' URL."""

    registry: Registry
    texts: Texts
    api_url: str

    @property
    def desk_url(self) -> str:
        """The duty desk (值班工作台), served by the API under ``/desk``."""
        return f"{self.api_url.rstrip('/')}/desk"

    def point_label(self, entry: PointEntry) -> str:
        """A point's series as officers read it (§10): its site's name and its own (never its id)."""
        return f"{entry.site.name} {point_name(self.registry, entry, self.texts.language)}"

    def points(self, kind: SiteKind, *types: str) -> list[PointEntry]:
        """Registered, enabled points of ``types`` on sites of ``kind``, in a stable order."""
        return sorted((e for e in self.registry if e.site.kind is kind and e.point.type.value in types
                       and e.point.enabled), key=lambda e: (e.enterprise, e.point.id))


def new_dashboard(uid: str, title_key: str, context: BoardContext) -> dashboard_builders.Dashboard:
    texts = context.texts
    return (dashboard_builders.Dashboard(texts(title_key)).uid(uid).tags([TAG]).timezone("browser")
            .refresh("30s").time("now-6h", "now").readonly().annotation(ConfirmedAlarms(texts))
            .links(board_links(context)))


def board_links(context: BoardContext) -> list[cogbuilder.Builder[DashboardLink]]:
    """The links above every dashboard: the other hazmon dashboards (same time range and selections), the duty
    desk, and its 值班日报 with the day's 考核指标 (the 考核指标 board draws them over time)."""
    texts = context.texts
    return [dashboard_builders.DashboardLink(texts("other_dashboards")).type(DashboardLinkType.DASHBOARDS).tags([TAG])
            .as_dropdown(False).keep_time(True).include_vars(True),
            dashboard_builders.DashboardLink(texts("desk")).type(DashboardLinkType.LINK).url(context.desk_url)
            .icon("external link").tooltip(texts("desk_tooltip")).target_blank(True),
            dashboard_builders.DashboardLink(texts("assessment")).type(DashboardLinkType.LINK)
            .url(f"{context.desk_url}/report").icon("doc").tooltip(texts("assessment_tooltip")).target_blank(True)]


class InfluxAnnotation(AnnotationQuery):
    """An annotation query on the InfluxDB data source; the SDK's model has no InfluxQL target."""

    def __init__(self, name: str, query: str) -> None:
        super().__init__(name=name, datasource=DATASOURCE, enable=True, icon_color="red")
        self.query = query

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload["target"] = {"refId": "Anno", "query": self.query, "rawQuery": True, "resultFormat": "table",
                             "fromAnnotations": True, "textColumn": "message",
                             "tagsColumn": "enterprise,site,point,level"}
        return payload


class ConfirmedAlarms(cogbuilder.Builder[AnnotationQuery]):
    """Confirmed alarms (§8) as annotations on every time series panel of a dashboard."""

    def __init__(self, texts: Texts) -> None:
        query = influxql.confirmed_alarms('"message", "id", "enterprise", "site", "point", "level"')
        self._internal = InfluxAnnotation(texts("confirmed_alarms"), query)

    def build(self) -> AnnotationQuery:
        return self._internal


def tag_variable(name: str, label: str, query: str) -> TagVariable:
    """A multi-value variable (all by default) listing what ``query`` (influxql.tag_values) finds in InfluxDB,
    read again each time the dashboard loads: officers see the names, the value is the id (LABEL_PATTERN)."""
    return (TagVariable(name).label(label).query(query).regex(LABEL_PATTERN).datasource(DATASOURCE)
            .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
            .sort(VariableSort.ALPHABETICAL_ASC).multi(True).include_all(True).all_value(".*")
            .current(VariableOption(selected=True, text="All", value=ALL)))


def selection_variables(context: BoardContext, types: tuple[str, ...], site_var: str) -> list[TagVariable]:
    """Enterprise → site → point of the readings of ``types``, each listing only what the ones before select."""
    texts = context.texts
    enterprise = influxql.tag_values(ENTERPRISE, types)
    site = influxql.tag_values(SITE, types, influxql.variable(ENTERPRISE, ENTERPRISE))
    point = influxql.tag_values(POINT, types, influxql.selected(site_var))
    return [tag_variable(ENTERPRISE, texts("enterprise"), enterprise), tag_variable(site_var, texts(site_var), site),
            tag_variable(POINT, texts("point"), point)]


def _without_interval_fields(model: VariableModel) -> VariableModel:
    """``model`` without the interval-only fields (``auto``, ``auto_min``, ``auto_count``) that the SDK's
    VariableModel emits by default and Grafana's dashboard schema does not define for other variables."""
    model.auto = model.auto_min = model.auto_count = None
    return model


class TagVariable(dashboard_builders.QueryVariable):
    """A query variable without the interval-only fields."""

    def build(self) -> VariableModel:
        return _without_interval_fields(super().build())


def policy_variable(name: str, query: str, default: str) -> TagVariable:
    """A hidden ``name`` from ``query`` (influxql.policy_choice) over the dashboard's range; ``default`` until it runs."""
    return (TagVariable(name).query(query).datasource(DATASOURCE).refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .hide(VariableHide.HIDE_VARIABLE).current(VariableOption(selected=True, text=default, value=default)))


# Grafana units of the §7 point types.
TYPE_UNITS: dict[str, str] = {
    "tank_level": "lengthm", "temperature": "celsius", "pressure": "suffix: MPa", "combustible_gas": "suffix: %LEL",
    "toxic_gas": "suffix: ppm", "water_level": "lengthm", "dry_beach_length": "lengthm",
    "phreatic_depth": "lengthm", "displacement": "lengthmm", "rainfall": "lengthmm",
    "hydrant_pressure": "suffix: MPa", "sprinkler_pressure": "suffix: MPa", "water_tank_level": "lengthm",
    "residual_current": "suffix: mA", "cable_temperature": "celsius",
}


def limit_series_panel(context: BoardContext, kind: SiteKind, point_type: str, site_var: str) -> timeseries.Panel:
    """One §7 point type on the selected sites, each point with its registry limit lines."""
    return series_panel(context.texts(point_type), influxql.readings(point_type, site_var), TYPE_UNITS[point_type],
                        context.points(kind, point_type), point_threshold_steps, context.point_label)


def domain_dashboard(uid: str, title_key: str, context: BoardContext, kind: SiteKind, types: tuple[str, ...],
                     site_var: str = "site", reading_types: tuple[str, ...] = ()) -> dashboard_builders.Dashboard:
    """A domain's dashboard: enterprise, site and point variables over the readings of ``reading_types``
    (default ``types``), the reading policy chosen by the time range (hidden), then one limit-lined panel per
    point type."""
    board = new_dashboard(uid, title_key, context)
    for selection in selection_variables(context, reading_types or types, site_var):
        board.with_variable(selection)
    (board.with_variable(policy_variable(influxql.POLICY_VARIABLE, influxql.POLICY_QUERY, RAW_POLICY))
             .with_variable(policy_variable(influxql.SUM_VARIABLE, influxql.SUM_FIELD_QUERY, VALUE)))
    for point_type in types:
        board.with_panel(limit_series_panel(context, kind, point_type, site_var))
    return board
