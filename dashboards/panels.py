"""Panel factories shared by the dashboards: point series with limit lines, alarm tables, stats.

A point's series is named ``enterprise/point`` by the query's alias; an override per registered
point gives it its name as officers read it (§10, ``BoardContext.point_label``) and the point's own limit lines (see :mod:`dashboards.limits`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataTransformerConfig,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
)

from hazmon.registry.loader import PointEntry

from dashboards.target import DATASOURCE, InfluxQL
from dashboards.text import Texts

StepsOf = Callable[[PointEntry], list[Threshold]]
SERIES_ALIAS = "$tag_enterprise/$tag_point"
RISK_COLORS = ("blue", "yellow", "orange", "red")  # enterprise_risk.level 0..3
STATE_COLORS = {"active": "red", "acknowledged": "orange", "cleared": "green", "closed": "text"}
LEVEL_COLORS = {"high": "orange", "low": "orange", "high_high": "red", "low_low": "red",
                "blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"}


def series_name(entry: PointEntry) -> str:
    """The name :data:`SERIES_ALIAS` gives a point's series."""
    return f"{entry.enterprise}/{entry.point.id}"


def thresholds_config(steps: list[Threshold]) -> dict[str, object]:
    return {"mode": ThresholdsMode.ABSOLUTE.value, "steps": [step.to_json() for step in steps]}


def thresholds(steps: list[Threshold]) -> dashboard_builders.ThresholdsConfig:
    return dashboard_builders.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def limit_override(steps: list[Threshold], style: common.GraphThresholdsStyleMode) -> list[DynamicConfigValue]:
    return [DynamicConfigValue(id_val="thresholds", value=thresholds_config(steps)),
            DynamicConfigValue(id_val="custom.thresholdsStyle", value={"mode": style.value})]


def timeseries_panel(title: str, unit: str) -> timeseries.Panel:
    """A time series panel with a table legend (last and max per series) and a shared tooltip."""
    return (timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).span(12).height(8)
            .legend(common_builders.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.TABLE)
                    .placement(common.LegendPlacement.BOTTOM).calcs(["lastNotNull", "max"]))
            .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI)
                     .sort(common.SortOrder.DESCENDING)))


def series_panel(title: str, query: str, unit: str, entries: Iterable[PointEntry],
                 steps_of: StepsOf, name_of: Callable[[PointEntry], str]) -> timeseries.Panel:
    """A time series panel of one query, one override per point: its name (``name_of``) and its limit lines."""
    panel = timeseries_panel(title, unit).with_target(InfluxQL(query).alias(SERIES_ALIAS))
    for entry in sorted(entries, key=series_name):
        panel.override_by_name(series_name(entry), [DynamicConfigValue(id_val="displayName", value=name_of(entry)),
                                                     *limit_override(steps_of(entry), common.GraphThresholdsStyleMode.DASHED)])
    return panel


def value_map(texts: Texts, colors: dict[str, str], keys: dict[str, str] | None = None) -> ValueMap:
    """Maps raw values to operator text (``keys[value]`` or the value itself as text key) and colours."""
    keys = keys or {value: value for value in colors}
    return ValueMap(options={value: ValueMappingResult(text=texts(keys[value]), color=color, index=index)
                             for index, (value, color) in enumerate(colors.items())})


def risk_value_map(texts: Texts) -> ValueMap:
    """enterprise_risk / site_risk ``level`` 0..3 → 蓝黄橙红."""
    return value_map(texts, {str(level): color for level, color in enumerate(RISK_COLORS)},
                     {str(level): color for level, color in enumerate(RISK_COLORS)})


MERGE = DataTransformerConfig(id_val="merge", options={})


def table_panel(title: str, *targets: InfluxQL, merge: bool = True) -> table.Panel:
    """A table of ``targets`` in table format; ``merge`` joins the one-frame-per-series results into one table."""
    panel = (table.Panel().title(title).datasource(DATASOURCE).span(24).height(10).filterable(True)
             .frame_index(0).show_header(True).cell_options(common.TableAutoCellOptions()))
    for target in targets:
        panel.with_target(target.table())
    if merge:
        panel.with_transformation(MERGE)
    return panel


def stat_panel(title: str, *targets: InfluxQL, span: int = 6) -> stat.Panel:
    panel = (stat.Panel().title(title).datasource(DATASOURCE).span(span).height(6)
             .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
             .color_mode(common.BigValueColorMode.BACKGROUND).graph_mode(common.BigValueGraphMode.NONE))
    for target in targets:
        panel.with_target(target)
    return panel


def row(title: str) -> dashboard_builders.Row:
    return dashboard_builders.Row(title)
