"""The time-series contract (data standard §9 and its documented extensions): InfluxDB 1.8 measurement,
tag and field names, the retention policy that holds each measurement, line-protocol escaping and the
lines of the measurements that several processes write or read.

Writers (alerting, whose lines the recorder writes, the recorder's own, the dashboards' writer of registry locations and names) build their lines here, readers
(the dashboards, the desk, uplink) name what they read from here: a name changes in one place.
Timestamps are milliseconds since the epoch (``precision=ms``).
"""

from __future__ import annotations

import math
from itertools import repeat

from hazmon.wire import PipelineMetrics

# Measurements (docs/dashboards.md "What the dashboards read from InfluxDB").
READING = "reading"                          # §9: tags READING_TAGS, field VALUE
ALARM = "alarm"                              # §9 and alerting's extensions (docs/alerting.md)
ENTERPRISE_RISK = "enterprise_risk"          # §9: tag enterprise; fields level, color, active_alarms
SITE_RISK = "site_risk"                      # extension: tailings pond colour, tags enterprise, site
PLATFORM_INGEST = "platform_ingest"          # extension: ingest counters per enterprise and window
PIPELINE = "pipeline"                        # extension: platform health per component and process (PIPELINE_TAGS)
PIPELINE_LAG = "pipeline_lag"                # extension: input lag per component, topic and partition (LAG_TAGS)
ENTERPRISE_LOCATION = "enterprise_location"  # extension: registry coordinates for the county map
REGISTRY_POINT = "registry_point"            # extension: each registered point with its names, for the dashboards' variables
COUNTY_RISK = "county_risk"                  # the prefecture (§11): a county enterprise's colour, tags county, enterprise
COUNTY_HEARTBEAT = "county_heartbeat"        # the prefecture: a county's heartbeat (enterprises, points, backlog), tag county
COUNTY_READING = "county_reading"            # the prefecture: readings a county sends up, tags county, enterprise, device, point
ASSESSMENT = "assessment"                    # extension: the desk's 考核指标 of a Beijing day (assessment_line, below)

# The reading measurement's tags and field.
ENTERPRISE, SITE, POINT, TYPE = "enterprise", "site", "point", "type"
READING_TAGS = (ENTERPRISE, POINT, SITE, TYPE)   # sorted: InfluxDB's own order, cheapest to parse
VALUE = "value"

# The registry_point measurement: the reading tags (ids, what the dashboards filter by) and a label per level,
# "<id> <name>" (LABEL_PATTERN parses it back); field UNIT, the point's §7 unit.
ENTERPRISE_LABEL, SITE_LABEL, POINT_LABEL = "enterprise_label", "site_label", "point_label"
UNIT = "unit"
# A label as a Grafana variable regex (JavaScript named groups): the id is the value, the name the text.
LABEL_PATTERN = r"/^(?<value>[A-Za-z0-9_-]+) (?<text>.+)$/"

# The pipeline measurements' tags and fields (docs/dashboards.md "Pipeline metrics"), from wire.PipelineMetrics.
COMPONENT, INSTANCE, TOPIC, PARTITION = "component", "instance", "topic", "partition"
PIPELINE_TAGS = (COMPONENT, INSTANCE)
LAG_TAGS = (COMPONENT, PARTITION, TOPIC)
LAG = "lag"                                  # integer: records behind (pipeline: the sum over the process's partitions)
LATENCY_P50, LATENCY_P99, LATENCY_MAX, BATCHES = "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "batches"
IN_FLIGHT = "in_flight"                      # ingest: MQTT messages received and not yet acknowledged
INFLUX_QUEUE = "influx_queue"                # recorder: lines waiting for InfluxDB
POINTS_PER_S = "points_per_s"                # recorder: points written to InfluxDB per second over the period
SET_ASIDE = "influx_set_aside"               # recorder: lines InfluxDB refused (400) since the process started
RULES_SET_ASIDE = "rules_set_aside"          # rules: input records dead-lettered (unreadable, or the engine failed on them) since start

# The assessment measurement (docs/dashboards.md "考核指标"): one point per Beijing day and scope, stamped with the
# day's start (each write of the day replaces the last). Tags: SCOPE (COUNTY_SCOPE, TOWN_SCOPE, ENTERPRISE_SCOPE), TOWN (the town's name; "-" for
# the county), ENTERPRISE (its id; "-" for a town or the county) and NAME, what officers read (the county's word, the
# town's or the enterprise's name). Fields: ALARMS and the points counted (integers), the rates as fractions of 1 and
# the mean minutes; a figure with nothing to count (no alarm signed, InfluxDB silent) is left out.
SCOPE, TOWN, NAME = "scope", "town", "name"
COUNTY_SCOPE, TOWN_SCOPE, ENTERPRISE_SCOPE = "county", "town", "enterprise"
ALARMS, SIGN_IN_TIME_RATE, DISPOSAL_RATE, FALSE_ALARM_RATE = "alarms", "sign_in_time_rate", "disposal_rate", "false_alarm_rate"
MINUTES_TO_SIGN, MINUTES_TO_CLOSE = "mean_minutes_to_sign", "mean_minutes_to_close"
NETWORK_RATE, ONLINE_RATE = "network_rate", "online_rate"
POINTS, POINTS_SENDING, POINTS_ONLINE, ENTERPRISES_SENDING = "points", "points_sending", "points_online", "enterprises_sending"
ASSESSMENT_COUNTS = (ALARMS, POINTS, POINTS_SENDING, POINTS_ONLINE, ENTERPRISES_SENDING)

# Retention policies (docs/timeseries.md). Raw readings live in RAW_POLICY; their 1-minute and 1-hour
# aggregates are measurement READING again, in their own policies, with VALUE the bucket's mean and MIN,
# MAX, SUM, COUNT besides, so that one query reads any of the three by its policy name.
RAW_POLICY = "raw"
MINUTE_POLICY = "minute"
HOUR_POLICY = "hour"
DEFAULT_POLICY = "autogen"                   # everything else, kept for good (alarms: §8)
MIN, MAX, SUM, COUNT = "min", "max", "sum", "count"
# Which reading policy serves which time range (written at start with the policies, read by the dashboards'
# variables): one point per policy in DEFAULT_POLICY, its time = the policy's duration in ms after the
# epoch plus its rank (so that the finest policy is the first in time); fields POLICY_NAME, POLICY_MAX_SPAN_MS
# (the longest range it serves) and POLICY_SUM_FIELD (the field a sum over buckets adds: VALUE raw, SUM aggregated).
READING_POLICY = "reading_policy"
POLICY_NAME, POLICY_MAX_SPAN_MS, POLICY_SUM_FIELD = "rp", "max_span_ms", "sum_field"

_TAG_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})
_READING_LINE = READING + ","
_LAG_LINE = f"{PIPELINE_LAG},{COMPONENT}="


def tag(value: str) -> str:
    """A tag value in line protocol; an empty value (not allowed by InfluxDB) is written ``-``."""
    return value.translate(_TAG_ESCAPES) if value else "-"


def string_field(value: str) -> str:
    """A string field value in line protocol."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number_field(value: float) -> str:
    """A float field value in line protocol."""
    return repr(float(value))


def influxql_string(value: str) -> str:
    """A string literal in InfluxQL (``'…'``), e.g. a tag value in a WHERE clause."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def reading_prefix(enterprise: str, site: str, point: str, point_type: str) -> str:
    """Measurement and tags of one point's readings; computed once per point, reused per reading."""
    return (f"{READING},{ENTERPRISE}={tag(enterprise)},{POINT}={tag(point)},{SITE}={tag(site)},"
            f"{TYPE}={tag(point_type)} {VALUE}=")


def reading_lines(prefix: str, ts: list[int], values: list[float]) -> list[str]:
    """``reading`` lines of one point (``prefix`` from :func:`reading_prefix`); non-finite values skipped."""
    return [f"{prefix}{v!r} {t}" for t, v in zip(ts, values) if math.isfinite(v)]


def pipeline_lines(record: PipelineMetrics) -> list[str]:
    """One process's period (``wire.PipelineMetrics``): a ``pipeline`` point (the sum of its lags, its
    latency summary, its gauges) and a ``pipeline_lag`` point per input partition."""
    component, ts = tag(record["component"]), record["ts"]
    fields = [f"{LAG}={sum(p['lag'] for p in record['lags'])}i"] if record["lags"] else []
    latency = record.get("latency")
    if latency is not None:
        fields += [f"{LATENCY_P50}={number_field(latency['p50_ms'])}", f"{LATENCY_P99}={number_field(latency['p99_ms'])}",
                   f"{LATENCY_MAX}={number_field(latency['max_ms'])}", f"{BATCHES}={int(latency['batches'])}i"]
    fields += [f"{tag(name)}={number_field(value)}" for name, value in sorted((record.get("gauges") or {}).items())]
    lines = [f"{_LAG_LINE}{component},{PARTITION}={int(p['partition'])},{TOPIC}={tag(p['topic'])} "
             f"{LAG}={int(p['lag'])}i {ts}" for p in record["lags"]]
    if fields:
        lines.append(f"{PIPELINE},{COMPONENT}={component},{INSTANCE}={tag(record['instance'])} {','.join(fields)} {ts}")
    return lines


def ingest_stats_line(stats: dict) -> str:
    """Ingest's counters of one enterprise and window (measurement ``platform_ingest``)."""
    fields = [f"{name}={int(stats.get(name, 0))}i" for name in ("accepted", "duplicates", "gaps")]
    fields += [f"refused_{reason}={int(n)}i" for reason, n in sorted((stats.get("refused") or {}).items())]
    return f"{PLATFORM_INGEST},{ENTERPRISE}={tag(stats['enterprise'])} {','.join(fields)} {int(stats['window_end_ms'])}"


def location_line(enterprise: str, lat: float, lon: float, name: str, town: str, ts: int) -> str:
    """An enterprise's registry coordinates (measurement ``enterprise_location``)."""
    return (f"{ENTERPRISE_LOCATION},{ENTERPRISE}={tag(enterprise)} lat={number_field(lat)},lon={number_field(lon)},"
            f"name={string_field(name)},town={string_field(town)} {ts}")


def assessment_line(scope: str, town: str, enterprise: str, name: str, figures: dict[str, float | int | None],
                    day_start_ms: int) -> str:
    """One scope's 考核指标 of the day starting at ``day_start_ms`` (measurement ``assessment``): ``figures`` by field
    name (ASSESSMENT_COUNTS as integers, the rest as floats; None left out)."""
    fields = [f"{key}={int(value)}i" if key in ASSESSMENT_COUNTS else f"{key}={number_field(value)}"
              for key, value in sorted(figures.items()) if value is not None]
    return (f"{ASSESSMENT},{ENTERPRISE}={tag(enterprise)},{NAME}={tag(name)},{SCOPE}={tag(scope)},{TOWN}={tag(town)} "
            f"{','.join(fields)} {day_start_ms}")


def label(identifier: str, name: str) -> str:
    """An id and the name officers read for it, in one tag value (LABEL_PATTERN; §1 ids hold no space); the
    name's runs of white space (line breaks too) become one space, a backslash a slash (line protocol escapes)."""
    return f"{identifier} {' '.join(name.replace(chr(92), '/').split())}"


def registry_point_line(enterprise: tuple[str, str], site: tuple[str, str], point: tuple[str, str], point_type: str,
                        unit: str, ts: int) -> str:
    """A registered point (measurement ``registry_point``): ``enterprise``, ``site`` and ``point`` are
    ``(id, name)``; the ids are tagged as on its readings, each with its :func:`label`."""
    (eid, ename), (sid, sname), (pid, pname) = enterprise, site, point
    return (f"{REGISTRY_POINT},{ENTERPRISE}={tag(eid)},{ENTERPRISE_LABEL}={tag(label(eid, ename))},{POINT}={tag(pid)},"
            f"{POINT_LABEL}={tag(label(pid, pname))},{SITE}={tag(sid)},{SITE_LABEL}={tag(label(sid, sname))},"
            f"{TYPE}={tag(point_type)} {UNIT}={string_field(unit)} {ts}")


def policy_of(line: str) -> str:
    """The retention policy a line-protocol line is written to: raw readings to RAW_POLICY, the rest
    to DEFAULT_POLICY (aggregates are written by InfluxDB itself, docs/timeseries.md)."""
    return RAW_POLICY if line.startswith(_READING_LINE) else DEFAULT_POLICY


def by_policy(lines: list[str]) -> dict[str, list[str]]:
    """``lines`` grouped by retention policy, each group in the original order (readings alone: one pass in C)."""
    if all(map(str.startswith, lines, repeat(_READING_LINE))):
        return {RAW_POLICY: list(lines)} if lines else {}
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(policy_of(line), []).append(line)
    return groups
