"""The domain dashboards' enterprise → site → point variables are InfluxDB queries: run on the real InfluxDB
after the simulated county was written, each lists exactly what was written for its domain and what the
variables before it select; an enterprise the registry did not know when the dashboards were generated is
listed as soon as its readings are written (no rebuild of the dashboards)."""

from __future__ import annotations

import time

import aiohttp
import pytest

from hazmon import series
from hazmon.registry import Registry
from hazmon.registry.loader import PointEntry
from hazmon.settings import Settings

from dashboards.boards import fire, major_hazard, tailings
from tests.dashboards.county import write_lines

pytestmark = pytest.mark.servers

DOMAIN_TYPES = {major_hazard.UID: set(major_hazard.TYPES), fire.UID: set(fire.TYPES),
                tailings.UID: {*tailings.LIMIT_TYPES, "rainfall"}}
SITE_VARIABLE = {major_hazard.UID: "site", fire.UID: "site", tailings.UID: "pond"}




def variable_queries(model: dict) -> dict[str, str]:
    return {v["name"]: v["query"] for v in model["templating"]["list"] if v["type"] == "query"}


async def values(settings: Settings, database: str, query: str, chosen: dict[str, str]) -> set[str]:
    """The values Grafana lists for ``query`` with the variables before it set to ``chosen`` (one value each,
    or ``.*`` for all), as its InfluxDB data source sends it."""
    for name, value in sorted(chosen.items(), key=lambda kv: -len(kv[0])):
        query = query.replace(f"${name}", value)
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": query}) as response:
        body = await response.json()
    assert response.status == 200, body
    result = body["results"][0]
    assert "error" not in result, f"{result['error']}\n{query}"
    return {value for one in result.get("series", []) for _key, value in one["values"]}


def written(registry: Registry, uid: str) -> list[PointEntry]:
    """The registry points the simulated county wrote readings for on ``uid``'s domain."""
    return [e for e in registry if e.point.type.value in DOMAIN_TYPES[uid]]


@pytest.mark.parametrize("uid", sorted(DOMAIN_TYPES))
async def test_each_variable_lists_what_was_written_for_its_domain_and_selection(
        influxdb: Settings, county: str, registry: Registry, models: dict[str, dict], uid: str) -> None:
    queries = variable_queries(models[uid])
    site_var = SITE_VARIABLE[uid]
    points = written(registry, uid)
    assert points, uid
    everything = {"enterprise": ".*", site_var: ".*"}
    assert await values(influxdb, county, queries["enterprise"], {}) == {e.enterprise for e in points}
    assert await values(influxdb, county, queries[site_var], everything) == {e.site.id for e in points}
    assert await values(influxdb, county, queries["point"], everything) == {e.point.id for e in points}
    for enterprise in sorted({e.enterprise for e in points}):
        own = [e for e in points if e.enterprise == enterprise]
        assert await values(influxdb, county, queries[site_var], {"enterprise": enterprise}) == {e.site.id for e in own}
        site = own[0].site.id
        chosen = {"enterprise": enterprise, site_var: site}
        assert await values(influxdb, county, queries["point"], chosen) == {e.point.id for e in own if e.site.id == site}


async def test_a_new_enterprise_is_listed_without_a_rebuild(influxdb: Settings, county: str, registry: Registry,
                                                            models: dict[str, dict]) -> None:
    """The models were generated from the sample registry; an enterprise added since sends readings."""
    queries = variable_queries(models[major_hazard.UID])
    tank = next(e for e in registry if e.point.type.value == "tank_level")
    newcomer = "91510000NEWCOMER01"
    assert newcomer not in registry.enterprises
    assert newcomer not in await values(influxdb, county, queries["enterprise"], {})
    prefix = series.reading_prefix(newcomer, "NEW_SITE", "NEW_TK", tank.point.type.value)
    await write_lines(influxdb, county, series.reading_lines(prefix, [int(time.time() * 1000)], [3.5]))
    assert newcomer in await values(influxdb, county, queries["enterprise"], {})
    assert await values(influxdb, county, queries["site"], {"enterprise": newcomer}) == {"NEW_SITE"}
    assert await values(influxdb, county, queries["point"], {"enterprise": newcomer, "site": ".*"}) == {"NEW_TK"}
