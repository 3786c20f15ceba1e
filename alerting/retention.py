"""InfluxDB retention (issue #16): which retention policy keeps which measurement, and the
statements that bring a database to it.

- ``raw`` keeps the measurement ``reading`` for ``influx_raw_retention_days`` (30): at 20 000
  readings/s raw points cannot be kept for years on one disk.
- ``long`` keeps ``reading_1h``, each point's hourly ``min``/``mean``/``max`` (and ``count``),
  written by the continuous query ``reading_1h`` from ``raw``, for ``influx_hourly_retention_days``
  (0: for good).
- ``autogen``, the default policy that readers without a policy name read, keeps everything else
  (``alarm``, ``enterprise_risk``, ``site_risk``, ``platform_ingest``, ``pipeline``,
  ``enterprise_location``) for good: alarms are kept for good (data standard §8).

Readers of raw readings name the policy: ``SELECT … FROM "raw"."reading"``.
"""

from __future__ import annotations

import aiohttp

from hazmon.series import DEFAULT_POLICY, RAW_POLICY, READING
from hazmon.settings import Settings

LONG_POLICY = "long"
HOURLY = "reading_1h"
RESAMPLE_FOR = "2h"          # each run recomputes the last two hours: readings up to an hour late count


class RetentionError(RuntimeError):
    """InfluxDB refused a retention statement."""


def beyond_retention(exc: Exception) -> bool:
    """InfluxDB's answer to a write some of whose points are older than their policy's duration: it
    kept the others and dropped those, as the policy says (a backlog older than the raw retention)."""
    return getattr(exc, "status", None) == 400 and "points beyond retention policy" in str(getattr(exc, "body", ""))


def hourly_select(database: str, where: str = "") -> str:
    """The aggregation of the continuous query; ``where`` (``" WHERE time >= …"``) runs it by hand."""
    return (f'SELECT min("value") AS "min", mean("value") AS "mean", max("value") AS "max", count("value") AS "count" '
            f'INTO "{database}"."{LONG_POLICY}"."{HOURLY}" FROM "{database}"."{RAW_POLICY}"."{READING}"{where} '
            f'GROUP BY time(1h), *')


def continuous_query(database: str) -> str:
    return (f'CREATE CONTINUOUS QUERY "{HOURLY}" ON "{database}" RESAMPLE EVERY 1h FOR {RESAMPLE_FOR} '
            f'BEGIN {hourly_select(database)} END')


def _duration(days: int) -> str:
    return f"{days}d" if days else "INF"


def policies(settings: Settings) -> dict[str, tuple[str, bool]]:
    """Each policy's duration and whether it is the default."""
    return {DEFAULT_POLICY: ("INF", True),
            RAW_POLICY: (_duration(settings.influx_raw_retention_days), False),
            LONG_POLICY: (_duration(settings.influx_hourly_retention_days), False)}


async def _query(session: aiohttp.ClientSession, url: str, q: str) -> list[dict]:
    async with session.post(f"{url}/query", data={"q": q}, timeout=aiohttp.ClientTimeout(total=10)) as response:
        response.raise_for_status()
        return (await response.json())["results"]


async def _run(session: aiohttp.ClientSession, url: str, q: str) -> None:
    errors = [result["error"] for result in await _query(session, url, q) if "error" in result]
    if errors:
        raise RetentionError(f"{q}: {errors[0]}")


async def ensure_retention(session: aiohttp.ClientSession, url: str, database: str, settings: Settings) -> None:
    """Create ``database``, its policies and the continuous query, or bring existing ones to the
    settings (idempotent). Raises aiohttp errors when InfluxDB is unreachable, RetentionError when it
    refuses."""
    await _run(session, url, f'CREATE DATABASE "{database}"')
    shown = await _query(session, url, f'SHOW RETENTION POLICIES ON "{database}"')
    existing = {row[0] for series in shown[0].get("series", []) for row in series["values"]}
    for name, (duration, default) in policies(settings).items():
        verb = "ALTER" if name in existing else "CREATE"
        replication = "" if name in existing else " REPLICATION 1"
        await _run(session, url, f'{verb} RETENTION POLICY "{name}" ON "{database}" DURATION {duration}'
                                 f'{replication}{" DEFAULT" if default else ""}')
    try:
        await _run(session, url, continuous_query(database))
    except RetentionError as exc:             # one of that name with another query: replace it
        if "already exists" not in str(exc):
            raise
        await _run(session, url, f'DROP CONTINUOUS QUERY "{HOURLY}" ON "{database}"')
        await _run(session, url, continuous_query(database))
