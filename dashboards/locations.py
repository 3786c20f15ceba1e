"""The registry's facts into InfluxDB for Grafana: where each enterprise is (measurement
``enterprise_location``, the county map) and what each point and its site and enterprise are called
(``registry_point``, the names the dashboards' variables list).

Grafana can only show what a query returns, and the coordinates (§7 ``lat``/``lon``) and names live in
the registry; ``hazmon dashboards locations`` writes one point per enterprise and one per enabled
registered point. Run it again after the registry changes: the map reads each enterprise's latest point,
and the registered points are replaced (what was written before this run is deleted, so a point taken out
of the registry or renamed is no longer listed).
"""

from __future__ import annotations

import logging
import time

import aiohttp

from hazmon.registry import Registry
from hazmon.registry.models import POINT_UNITS
from hazmon.registry.names import point_name
from hazmon.series import REGISTRY_POINT, location_line, registry_point_line

log = logging.getLogger(__name__)


def location_lines(registry: Registry, ts_ms: int) -> list[str]:
    return [location_line(eid, doc.enterprise.lat, doc.enterprise.lon, doc.enterprise.name, doc.enterprise.town, ts_ms)
            for eid, doc in sorted(registry.enterprises.items())]


def name_lines(registry: Registry, ts_ms: int) -> list[str]:
    """One ``registry_point`` line per enabled point, named in Simplified Chinese as officers read it (§10)."""
    return [registry_point_line((e.enterprise, registry.enterprises[e.enterprise].enterprise.name), (e.site.id, e.site.name),
                                (e.point.id, point_name(registry, e, "zh")), e.point.type.value, POINT_UNITS[e.point.type],
                                ts_ms)
            for e in sorted(registry, key=lambda e: (e.enterprise, e.point.id)) if e.point.enabled]


async def write_locations(registry: Registry, influx_url: str, database: str, headers: dict[str, str]) -> int:
    """Write every enterprise's location and every point's names now, then delete the points' earlier names
    (``headers``: ``Settings.influx_headers``, the credentials); returns the number of enterprises written."""
    ts = int(time.time() * 1000)
    locations, names = location_lines(registry, ts), name_lines(registry, ts)
    lines = [*locations, *names]
    base = influx_url.rstrip("/")
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base}/write", params={"db": database, "precision": "ms"},
                                data="\n".join(lines).encode()) as response:
            if response.status >= 300:
                raise RuntimeError(f"InfluxDB refused the registry facts: {response.status} {await response.text()}")
        async with session.post(f"{base}/query", data={"db": database,
                                                      "q": f'DELETE FROM "{REGISTRY_POINT}" WHERE time < {ts}ms'}) as response:
            body = await response.json(content_type=None)
            if response.status >= 300 or "error" in body.get("results", [{}])[0]:
                raise RuntimeError(f"InfluxDB refused to delete the earlier names: {response.status} {body}")
    log.info("registry locations and names written", extra={"database": database, "enterprises": len(locations),
                                                             "points": len(names)})
    return len(locations)
