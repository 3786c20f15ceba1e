"""What every dashboard shares: its frame (uid, tags, refresh, time zone), registry-driven
variables, and the confirmed-alarm annotations drawn on its time series panels."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models.dashboard import (AnnotationQuery, VariableHide, VariableModel, VariableOption,
                                                    VariableRefresh)

from hazmon.registry import Registry, SiteKind
from hazmon.registry.loader import PointEntry
from hazmon.series import RAW_POLICY, VALUE

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

    def points(self, kind: SiteKind, *types: str) -> list[PointEntry]:
        """Registered, enabled points of ``types`` on sites of ``kind``, in a stable order."""
        return sorted((e for e in self.registry if e.site.kind is kind and e.point.type.value in types
                       and e.point.enabled), key=lambda e: (e.enterprise, e.point.id))


def new_dashboard(uid: str, title_key: str, context: BoardContext) -> dashboard_builders.Dashboard:
    texts = context.texts
    return (dashboard_builders.Dashboard(texts(title_key)).uid(uid).tags([TAG]).timezone("browser")
            .refresh("30s").time("now-6h", "now").readonly().annotation(ConfirmedAlarms(texts)))


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


def enterprise_variable(context: BoardContext, kind: SiteKind) -> RegistryVariable:
    """Enterprises with a site of ``kind``, shown by name, matched by id."""
    options = {eid: doc.enterprise.name for eid, doc in sorted(context.registry.enterprises.items())
               if any(site.kind is kind for site in doc.sites)}
    return _custom_variable("enterprise", context.texts("enterprise"), options)


def site_variable(context: BoardContext, kind: SiteKind, name: str, label_key: str) -> RegistryVariable:
    """Sites of ``kind``, shown by name, matched by id (ids are unique within an enterprise only)."""
    options = {site.id: site.name for _, doc in sorted(context.registry.enterprises.items())
               for site in doc.sites if site.kind is kind}
    return _custom_variable(name, context.texts(label_key), options)


def _without_interval_fields(model: VariableModel) -> VariableModel:
    """``model`` without the interval-only fields (``auto``, ``auto_min``, ``auto_count``) that the SDK's
    VariableModel emits by default and Grafana's dashboard schema does not define for other variables."""
    model.auto = model.auto_min = model.auto_count = None
    return model


class RegistryVariable(dashboard_builders.CustomVariable):
    """A custom variable (registry options) without the interval-only fields."""

    def build(self) -> VariableModel:
        return _without_interval_fields(super().build())


class PolicyVariable(dashboard_builders.QueryVariable):
    """A hidden query variable chosen again at each change of the time range, without the interval-only fields."""

    def build(self) -> VariableModel:
        return _without_interval_fields(super().build())


def policy_variable(name: str, query: str, default: str) -> PolicyVariable:
    """``name`` from ``query`` (influxql.policy_choice) over the dashboard's range; ``default`` until it runs."""
    return (PolicyVariable(name).query(query).datasource(DATASOURCE).refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .hide(VariableHide.HIDE_VARIABLE).current(VariableOption(selected=True, text=default, value=default)))


def _custom_variable(name: str, label: str, options: dict[str, str]) -> RegistryVariable:
    values = ", ".join(f"{text} : {value}" for value, text in options.items())
    return (RegistryVariable(name).label(label).values(values).multi(True).include_all(True)
            .all_value(".*").current(VariableOption(selected=True, text="All", value=ALL)))



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
                        context.points(kind, point_type), point_threshold_steps)


def domain_dashboard(uid: str, title_key: str, context: BoardContext, kind: SiteKind, types: tuple[str, ...],
                     site_var: str = "site") -> dashboard_builders.Dashboard:
    """A domain's dashboard: enterprise and site variables, the reading policy chosen by the time range
    (hidden), then one limit-lined panel per point type."""
    board = (new_dashboard(uid, title_key, context).with_variable(enterprise_variable(context, kind))
             .with_variable(site_variable(context, kind, site_var, site_var))
             .with_variable(policy_variable(influxql.POLICY_VARIABLE, influxql.POLICY_QUERY, RAW_POLICY))
             .with_variable(policy_variable(influxql.SUM_VARIABLE, influxql.SUM_FIELD_QUERY, VALUE)))
    for point_type in types:
        board.with_panel(limit_series_panel(context, kind, point_type, site_var))
    return board
