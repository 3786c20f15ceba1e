"""What the desk reads from InfluxDB 1.8 (its HTTP ``/query`` API): each point's last reading and one point's
readings over a window (``"raw"."reading"``, written by alerting's topic writer), and ingest's refusals by
reason over a window (``platform_ingest``, fields ``refused_<reason>``)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from hazmon.series import ENTERPRISE, PLATFORM_INGEST, POINT, RAW_POLICY, READING, VALUE, influxql_string

TIMEOUT = aiohttp.ClientTimeout(total=10)
REFUSED = "sum_refused_"
_RAW = f'"{RAW_POLICY}"."{READING}"'      # raw readings, by their retention policy


class InfluxUnavailable(Exception):
    """InfluxDB could not be queried: down, not answering, or refusing the query (e.g. its database not yet created)."""


@dataclass(frozen=True)
class LastReading:
    ts: int          # ms since the epoch, the reading's own time
    value: float


@dataclass(frozen=True)
class Readings:
    url: str
    headers: dict[str, str]
    database: str

    async def _series(self, query: str) -> list[dict]:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT, headers=self.headers) as http, http.get(
                    f"{self.url.rstrip('/')}/query", params={"db": self.database, "q": query, "epoch": "ms"}) as answer:
                body = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise InfluxUnavailable(str(exc)) from exc
        if answer.status != 200 or "error" in body:
            raise InfluxUnavailable(str(body.get("error", answer.status)))
        result = body["results"][0]
        if "error" in result:
            raise InfluxUnavailable(str(result["error"]))
        return result.get("series", [])

    async def last_readings(self, enterprise: str | None = None, start_ms: int | None = None, end_ms: int | None = None,
                            policy: str = RAW_POLICY) -> dict[tuple[str, str], LastReading]:
        """(enterprise, point) → its newest reading in ``[start_ms, end_ms)`` (unbounded when None), of one
        enterprise or all; points that did not report are absent. From the aggregates of ``policy`` (MINUTE_POLICY,
        HOUR_POLICY: a scan of buckets, not of every reading) the time is the newest bucket's start."""
        where = [f'"{ENTERPRISE}" = {influxql_string(enterprise)}'] if enterprise is not None else []
        where += [f"time >= {start_ms}ms"] if start_ms is not None else []
        where += [f"time < {end_ms}ms"] if end_ms is not None else []
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        series = await self._series(f'SELECT last("{VALUE}") FROM "{policy}"."{READING}"{clause} GROUP BY "{ENTERPRISE}", "{POINT}"')
        return {(s["tags"][ENTERPRISE], s["tags"][POINT]): LastReading(int(s["values"][0][0]), float(s["values"][0][1]))
                for s in series}

    async def window(self, enterprise: str, point: str, start_ms: int, end_ms: int,
                     bucket_ms: int | None = None) -> list[tuple[int, float]]:
        """One point's readings in ``[start_ms, end_ms]``, oldest first: each of them, or with ``bucket_ms`` each
        bucket's minimum and maximum (two readings at the bucket's start, so that a spike is kept)."""
        where = (f'"{ENTERPRISE}" = {influxql_string(enterprise)} AND "{POINT}" = {influxql_string(point)} '
                 f"AND time >= {start_ms}ms AND time <= {end_ms}ms")
        if bucket_ms is None:
            series = await self._series(f'SELECT "{VALUE}" FROM {_RAW} WHERE {where}')
            return [(int(ts), float(v)) for ts, v in series[0]["values"]] if series else []
        series = await self._series(f'SELECT min("{VALUE}"), max("{VALUE}") FROM {_RAW} WHERE {where} '
                                    f"GROUP BY time({bucket_ms}ms) fill(none)")
        return [(int(ts), float(v)) for ts, low, high in (series[0]["values"] if series else []) for v in (low, high)]

    async def refusals(self, enterprise: str, start_ms: int, end_ms: int) -> dict[str, int]:
        """Reason → readings/messages ingest refused for ``enterprise`` in ``[start_ms, end_ms)`` (none: empty)."""
        series = await self._series(f'SELECT sum(*) FROM "{PLATFORM_INGEST}" WHERE "{ENTERPRISE}" = {influxql_string(enterprise)} '
                                    f"AND time >= {start_ms}ms AND time < {end_ms}ms")
        if not series:
            return {}
        row = dict(zip(series[0]["columns"], series[0]["values"][0]))
        return {name.removeprefix(REFUSED): int(n) for name, n in row.items() if name.startswith(REFUSED) and n}
