"""Registry coordinates into InfluxDB (measurement ``enterprise_location``) for the county map.

Grafana's geomap can only place what a query returns, and the coordinates live in the registry
(§7 ``lat``/``lon``); ``hazmon dashboards locations`` writes one point per enterprise. Writing again
overwrites nothing that matters: the map reads each enterprise's latest point.
"""

from __future__ import annotations

import logging
import time

import aiohttp

from hazmon.registry import Registry
from hazmon.series import location_line

log = logging.getLogger(__name__)


def location_lines(registry: Registry, ts_ms: int) -> list[str]:
    return [location_line(eid, doc.enterprise.lat, doc.enterprise.lon, doc.enterprise.name, doc.enterprise.town, ts_ms)
            for eid, doc in sorted(registry.enterprises.items())]


async def write_locations(registry: Registry, influx_url: str, database: str, headers: dict[str, str]) -> int:
    """Write every enterprise's location now (``headers``: ``Settings.influx_headers``, the credentials);
    returns the number of points written."""
    lines = location_lines(registry, int(time.time() * 1000))
    async with aiohttp.ClientSession(headers=headers) as session, session.post(
            f"{influx_url.rstrip('/')}/write", params={"db": database, "precision": "ms"},
            data="\n".join(lines).encode()) as response:
        if response.status >= 300:
            raise RuntimeError(f"InfluxDB refused the locations: {response.status} {await response.text()}")
    log.info("enterprise locations written", extra={"database": database, "points": len(lines)})
    return len(lines)
