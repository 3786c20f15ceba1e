"""InfluxDB retention and downsampling (issue #16, docs/timeseries.md): the policies that keep readings
and their aggregates, the continuous queries that fill the aggregates, the points that tell the
dashboards which policy serves which time range, and the statements that bring a database to all of
it (idempotent: :class:`recorder.influx.InfluxWriter` runs them before its first write).

- ``raw`` keeps measurement ``reading`` for ``influx_raw_retention_days`` (90);
- ``minute`` keeps ``reading`` again, one point per point and minute: ``value`` the mean, ``min``,
  ``max``, ``sum``, ``count``, written from ``raw`` by the continuous query ``reading_1m``, for
  ``influx_minute_retention_days`` (three years);
- ``hour`` the same per hour, written from ``minute`` by ``reading_1h`` (its ``value`` is
  ``sum/count``, the exact hourly mean), for ``influx_hourly_retention_days`` (0: for good);
- ``autogen``, the default policy, keeps everything else for good (alarms: data standard §8).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from hazmon.series import (COUNT, DEFAULT_POLICY, HOUR_POLICY, MAX, MIN, MINUTE_POLICY, POLICY_MAX_SPAN_MS,
                           POLICY_NAME, POLICY_SUM_FIELD, RAW_POLICY, READING, READING_POLICY, SUM, VALUE, string_field)
from hazmon.settings import Settings

DAY_MS = 86_400_000
FOREVER_MS = 4_000_000_000_000      # 2096: the time of a policy kept for good in READING_POLICY (below InfluxDB's 2262)
MINUTE_RESAMPLE_FOR = "2m"          # each minute's run recomputes the last two: a reading up to 1 min late counts
HOUR_RESAMPLE_FOR = "2h"            # each hour's run recomputes the last two from the minute aggregates
BUCKET_MS = {"1m": 60_000, "1h": 3_600_000}
BACKFILL_BUCKETS = 60               # buckets per statement of run_aggregation


@dataclass(frozen=True)
class ReadingPolicy:
    """A retention policy of measurement ``reading``: its bucket and source (None for raw), how long it
    keeps points (0: for good) and the longest dashboard time range it serves."""

    name: str
    days: int
    max_span_ms: int
    bucket: str | None = None
    source: str | None = None
    resample_for: str | None = None

    @property
    def continuous_query(self) -> str:
        return f"{READING}_{self.bucket}"

    @property
    def sum_field(self) -> str:
        return VALUE if self.bucket is None else SUM


def reading_policies(settings: Settings) -> tuple[ReadingPolicy, ...]:
    """Finest first: raw for ranges up to 2 days, minute aggregates up to 31 days, hourly beyond."""
    return (ReadingPolicy(RAW_POLICY, settings.influx_raw_retention_days, 2 * DAY_MS),
            ReadingPolicy(MINUTE_POLICY, settings.influx_minute_retention_days, 31 * DAY_MS,
                          "1m", RAW_POLICY, MINUTE_RESAMPLE_FOR),
            ReadingPolicy(HOUR_POLICY, settings.influx_hourly_retention_days, FOREVER_MS,
                          "1h", MINUTE_POLICY, HOUR_RESAMPLE_FOR))


class RetentionError(RuntimeError):
    """InfluxDB refused a retention statement."""


def beyond_retention(exc: Exception) -> bool:
    """InfluxDB's answer to a write some of whose points are older than their policy's duration: it
    kept the others and dropped those, as the policy says (a backlog older than the raw retention)."""
    return getattr(exc, "status", None) == 400 and "points beyond retention policy" in str(getattr(exc, "body", ""))


def aggregate_select(database: str, policy: ReadingPolicy, where: str = "") -> str:
    """The aggregation of ``policy``'s continuous query; ``where`` (``" WHERE time >= …"``) runs it by hand."""
    if policy.source == RAW_POLICY:
        fields = (f'mean("{VALUE}") AS "{VALUE}", min("{VALUE}") AS "{MIN}", max("{VALUE}") AS "{MAX}", '
                  f'sum("{VALUE}") AS "{SUM}", count("{VALUE}") AS "{COUNT}"')
    else:
        fields = (f'sum("{SUM}") / sum("{COUNT}") AS "{VALUE}", min("{MIN}") AS "{MIN}", max("{MAX}") AS "{MAX}", '
                  f'sum("{SUM}") AS "{SUM}", sum("{COUNT}") AS "{COUNT}"')
    return (f'SELECT {fields} INTO "{database}"."{policy.name}"."{READING}" '
            f'FROM "{database}"."{policy.source}"."{READING}"{where} GROUP BY time({policy.bucket}), *')


def continuous_query(database: str, policy: ReadingPolicy) -> str:
    return (f'CREATE CONTINUOUS QUERY "{policy.continuous_query}" ON "{database}" '
            f'RESAMPLE EVERY {policy.bucket} FOR {policy.resample_for} BEGIN {aggregate_select(database, policy)} END')


PolicyPoint = tuple[int, str, int, str]     # time (ms), POLICY_NAME, POLICY_MAX_SPAN_MS, POLICY_SUM_FIELD


def policy_points(settings: Settings) -> list[PolicyPoint]:
    """The READING_POLICY points (hazmon.series): each policy's time is its duration plus its rank, so
    that a query for ``time >= now() - <range start>`` keeps the policies that still hold the range's
    start, and the first of them in time is the finest."""
    return [((p.days * DAY_MS if p.days else FOREVER_MS) + rank, p.name, p.max_span_ms, p.sum_field)
            for rank, p in enumerate(reading_policies(settings))]


def _policy_line(point: PolicyPoint) -> str:
    ts, name, max_span_ms, sum_field = point
    return (f"{READING_POLICY} {POLICY_NAME}={string_field(name)},{POLICY_MAX_SPAN_MS}={max_span_ms}i,"
            f"{POLICY_SUM_FIELD}={string_field(sum_field)} {ts}")


async def _query(session: aiohttp.ClientSession, url: str, q: str, database: str | None = None) -> list[dict]:
    data = {"q": q, "epoch": "ms", **({"db": database} if database else {})}
    async with session.post(f"{url}/query", data=data, timeout=aiohttp.ClientTimeout(total=30)) as response:
        response.raise_for_status()
        return (await response.json())["results"]


async def _run(session: aiohttp.ClientSession, url: str, q: str, database: str | None = None) -> list[dict]:
    results = await _query(session, url, q, database)
    errors = [result["error"] for result in results if "error" in result]
    if errors:
        raise RetentionError(f"{q}: {errors[0]}")
    return [dict(zip(series["columns"], row)) | {"series": series.get("name")}
            for result in results for series in result.get("series", []) for row in series.get("values", [])]


async def run_aggregation(session: aiohttp.ClientSession, url: str, database: str, policy: ReadingPolicy,
                          start_ms: int, end_ms: int, condition: str = "") -> None:
    """Compute ``policy``'s aggregates over ``[start_ms, end_ms)`` now, as its continuous query would
    (readings that came later than its resample window, a backfill), of the series matching
    ``condition`` (InfluxQL, e.g. one enterprise; all when empty), one window of BACKFILL_BUCKETS
    buckets per statement so that none runs for long."""
    step = BACKFILL_BUCKETS * BUCKET_MS[policy.bucket or ""]
    also = f" AND {condition}" if condition else ""
    for window in range(start_ms, end_ms, step):
        where = f" WHERE time >= {window}ms AND time < {min(window + step, end_ms)}ms{also}"
        await _run(session, url, aggregate_select(database, policy, where))


async def _ensure_policies(session: aiohttp.ClientSession, url: str, database: str, settings: Settings) -> None:
    existing = {row["name"] for row in await _run(session, url, f'SHOW RETENTION POLICIES ON "{database}"')}
    wanted = {DEFAULT_POLICY: ("INF", True)} | {p.name: (f"{p.days}d" if p.days else "INF", False)
                                                 for p in reading_policies(settings)}
    for name, (duration, default) in wanted.items():
        verb, replication = ("ALTER", "") if name in existing else ("CREATE", " REPLICATION 1")
        await _run(session, url, f'{verb} RETENTION POLICY "{name}" ON "{database}" DURATION {duration}'
                                 f'{replication}{" DEFAULT" if default else ""}')


async def _ensure_continuous_queries(session: aiohttp.ClientSession, url: str, database: str,
                                     settings: Settings) -> None:
    """Ours created or replaced when their text differs; any other on the database (an earlier layout's) dropped."""
    ours = {p.continuous_query: continuous_query(database, p) for p in reading_policies(settings) if p.bucket}
    shown = await _run(session, url, "SHOW CONTINUOUS QUERIES")
    for stale in sorted({row["name"] for row in shown if row["series"] == database} - set(ours)):
        await _run(session, url, f'DROP CONTINUOUS QUERY "{stale}" ON "{database}"')
    for name, statement in ours.items():
        try:
            await _run(session, url, statement)
        except RetentionError as exc:             # one of that name with another query: replace it
            if "already exists" not in str(exc):
                raise
            await _run(session, url, f'DROP CONTINUOUS QUERY "{name}" ON "{database}"')
            await _run(session, url, statement)


async def _ensure_policy_points(session: aiohttp.ClientSession, url: str, database: str, settings: Settings) -> None:
    wanted = policy_points(settings)
    shown = await _run(session, url, f'SELECT * FROM "{DEFAULT_POLICY}"."{READING_POLICY}"', database)
    if [(row["time"], row[POLICY_NAME], row[POLICY_MAX_SPAN_MS], row[POLICY_SUM_FIELD]) for row in shown] == wanted:
        return
    await _run(session, url, f'DROP MEASUREMENT "{READING_POLICY}"', database)
    async with session.post(f"{url}/write", params={"db": database, "rp": DEFAULT_POLICY, "precision": "ms"},
                            data="\n".join(map(_policy_line, wanted)).encode(),
                            timeout=aiohttp.ClientTimeout(total=30)) as response:
        if response.status >= 300:
            raise RetentionError(f"{READING_POLICY}: {response.status} {await response.text()}")


async def ensure_retention(session: aiohttp.ClientSession, url: str, database: str, settings: Settings) -> None:
    """Create ``database``, its policies, the continuous queries and the READING_POLICY points, or bring
    existing ones to the settings (idempotent). Raises aiohttp errors when InfluxDB is unreachable,
    RetentionError when it refuses."""
    await _run(session, url, f'CREATE DATABASE "{database}"')
    await _ensure_policies(session, url, database, settings)
    await _ensure_continuous_queries(session, url, database, settings)
    await _ensure_policy_points(session, url, database, settings)
