"""InfluxQL of the dashboards: the query shapes the panels share, over the measurements of
:mod:`hazmon.series`.

Grafana fills ``$timeFilter``, ``$__interval`` and the dashboard variables (``$enterprise``,
``$site``, ``$point``: ids of registered points read from InfluxDB, :func:`tag_values`) in before the query reaches
InfluxDB; variables are matched as regular expressions so that "all" (``.*``) and multi-value selections (``(a|b)``) work alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from hazmon.registry import Registry, SiteKind
from hazmon.registry.loader import PointEntry
from hazmon.series import (ALARM, DEFAULT_POLICY, ENTERPRISE, ENTERPRISE_LABEL, POINT, POINT_LABEL, POLICY_MAX_SPAN_MS,
                           POLICY_NAME, POLICY_SUM_FIELD, RAW_POLICY, READING, READING_POLICY, REGISTRY_POINT, SITE, SITE_LABEL,
                           TYPE)
from hazmon.series import influxql_string as quote

RAW_READING = f'"{RAW_POLICY}"."{READING}"'
# Readings over the dashboard's range come from the policy the hidden variable POLICY_VARIABLE chooses for it
# (raw, minute or hour: docs/timeseries.md); a sum over buckets adds the field SUM_VARIABLE names.
POLICY_VARIABLE = "reading_rp"
SUM_VARIABLE = "reading_sum"
RANGE_READING = f'"${POLICY_VARIABLE}"."{READING}"'
SUM_OF_READINGS = f'sum("${SUM_VARIABLE}")'

# One alarm per point and rule (§8): escalation changes its level tag, so level is not part of the key.
ALARM_KEY = '"enterprise", "site", "point", "rule"'
# alerting writes every colour and every alarm on the desk again each alerting_risk_snapshot_s (≤ 600 s,
# default 300): the latest record of anything current is at most that old, however old the alarm is.
CURRENT_LOOKBACK = "20m"
# Rules confirmed only after confirm_s (§8); for the others (alerting.model.IMMEDIATE_RULES) "raised" is confirmed.
CONFIRMING_RULES = ("limit", "vote", "rainfall")
_IMMEDIATE = f"\"rule\" !~ /^({'|'.join(CONFIRMING_RULES)})$/"
CONFIRMED = f"(\"transition\" = 'confirmed' OR (\"transition\" = 'raised' AND {_IMMEDIATE}))"
# Open now (§8 lifecycle): active or acknowledged, and not a breach still waiting for confirmation.
OPEN = f"\"state\" =~ /^(active|acknowledged)$/ AND (\"transition\" != 'raised' OR {_IMMEDIATE})"
# On the alarm desk: open, or 待反馈 (cleared by the data before anyone acknowledged it, awaiting its note).
ON_DESK = f"(({OPEN}) OR \"awaiting_feedback\" = true)"
# The registry_point tag that labels each id tag with its name.
LABELS = {ENTERPRISE: ENTERPRISE_LABEL, SITE: SITE_LABEL, POINT: POINT_LABEL}


def one_of(values: Iterable[str]) -> str:
    """An anchored regular expression matching exactly ``values`` (identifiers of §1 need no escaping)."""
    return "/^(" + "|".join(sorted(set(values))) + ")$/"


def variable(tag: str, name: str) -> str:
    return f'"{tag}" =~ /^${name}$/'


def selected(site_var: str, points: bool = False) -> str:
    """The dashboard's enterprise and site selection (variables ``$enterprise`` and ``$<site_var>``), and its
    point selection (``$point``) where ``points`` (a measurement with a point tag)."""
    chosen = f'{variable(ENTERPRISE, ENTERPRISE)} AND {variable(SITE, site_var)}'
    return f'{chosen} AND {variable(POINT, POINT)}' if points else chosen


def tag_values(key: str, types: Iterable[str], within: str = "") -> str:
    """The query of a variable listing the registered enterprises, sites or points (``key``: their id tag) that
    have points of ``types``, as "<id> <name>" labels of ``registry_point`` (``hazmon dashboards locations``);
    the variable's regex ``series.LABEL_PATTERN`` shows officers the name and keeps the id as the value the
    panels filter by. Read from InfluxDB when the dashboard loads: a point the registry gains is listed without
    a dashboard rebuild. ``within``: the selection of the variables it follows (enterprise → site → point)."""
    where = f'"{TYPE}" =~ {one_of(types)}' + (f" AND {within}" if within else "")
    return f'SHOW TAG VALUES FROM "{REGISTRY_POINT}" WITH KEY = "{LABELS[key]}" WHERE {where}'


def site_filter(registry: Registry, kind: SiteKind) -> str | None:
    """A WHERE clause matching the sites of one domain (enterprise and site together), or None."""
    clauses = [f"(\"enterprise\" = {quote(eid)} AND \"site\" =~ {one_of(s.id for s in doc.sites if s.kind is kind)})"
               for eid, doc in sorted(registry.enterprises.items()) if any(s.kind is kind for s in doc.sites)]
    return "(" + " OR ".join(clauses) + ")" if clauses else None


def point_filter(entries: Iterable[PointEntry]) -> str | None:
    """A WHERE clause matching exactly these points (enterprise and point together), or None."""
    by_enterprise: dict[str, set[str]] = {}
    for entry in entries:
        by_enterprise.setdefault(entry.enterprise, set()).add(entry.point.id)
    clauses = [f"(\"enterprise\" = {quote(eid)} AND \"point\" =~ {one_of(points)})"
               for eid, points in sorted(by_enterprise.items())]
    return "(" + " OR ".join(clauses) + ")" if clauses else None


def policy_choice(field: str) -> str:
    """The query of a variable that reads ``field`` of the finest reading policy that still holds the
    range's start (``time >= now() - from``: each READING_POLICY point's time is its policy's duration)
    and serves a range that long (``max_span_ms``); Grafana fills ``${__from}`` and ``${__to}`` (ms) in."""
    return (f'SELECT first("{field}") FROM "{DEFAULT_POLICY}"."{READING_POLICY}" WHERE time >= now() - ${{__from}}ms '
            f'AND "{POLICY_MAX_SPAN_MS}" >= ${{__to}} - ${{__from}}')


POLICY_QUERY = policy_choice(POLICY_NAME)
SUM_FIELD_QUERY = policy_choice(POLICY_SUM_FIELD)


def readings(point_type: str, site_var: str, select: str = 'mean("value")',
             group: str = "time($__interval)") -> str:
    """One series per point of ``point_type`` on the selected enterprise and site, from the policy the
    dashboard's range chose (``value`` is a reading or a bucket's mean; for sums, SUM_OF_READINGS)."""
    return (f'SELECT {select} FROM {RANGE_READING} WHERE $timeFilter AND "type" = {quote(point_type)} '
            f'AND {selected(site_var, points=True)} GROUP BY {group}, "enterprise", "point" fill(none)')


def rolling_rainfall(window: str, site_var: str) -> str:
    """Rainfall summed over the last ``window``, per point (§7 rolling sums; a recent window: always raw)."""
    return (f'SELECT sum("value") FROM {RAW_READING} WHERE time > now() - {window} AND "type" = \'rainfall\' '
            f'AND {selected(site_var, points=True)} GROUP BY "enterprise", "point"')


def latest_alarms(where: str = "") -> str:
    """Each alarm's latest record; its tags ``level`` and ``state`` become fields of the outer query."""
    extra = f" AND {where}" if where else ""
    return (f'SELECT last("id") AS "id", "level", "state", "transition", "message", "value", "limit", "escalation", '
            f'"started_at", "awaiting_feedback" FROM "{ALARM}" WHERE time > now() - {CURRENT_LOOKBACK}{extra} GROUP BY {ALARM_KEY}')


def open_alarms(select: str, where: str = "", group: str = ALARM_KEY, state: str = OPEN) -> str:
    """``select`` over the alarms open now (confirmed, active or acknowledged; or ``state``, e.g.
    ``ON_DESK``), grouped by ``group``."""
    group_by = f" GROUP BY {group}" if group else ""
    return f"SELECT {select} FROM ({latest_alarms(where)}) WHERE {state}{group_by}"


def confirmed_alarms(select: str, where: str = "", group: str = "") -> str:
    """``select`` over the records where an alarm became confirmed, within the dashboard's time range."""
    extra = f" AND {where}" if where else ""
    group_by = f" GROUP BY {group}" if group else ""
    return f'SELECT {select} FROM "{ALARM}" WHERE $timeFilter AND {CONFIRMED}{extra}{group_by}'
