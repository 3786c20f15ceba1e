"""``hazmon dashboards locations``: the registry's coordinates land in InfluxDB for the county map."""

from __future__ import annotations

import aiohttp
import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards.boards.overview import LOCATION_QUERY
from dashboards.locations import write_locations

pytestmark = pytest.mark.servers


async def test_locations_are_the_registry_coordinates(influxdb: Settings, registry: Registry, unique: str) -> None:
    database = f"hz_dash_loc_{unique}"
    async with aiohttp.ClientSession() as session:
        await session.post(f"{influxdb.influx_url}/query", data={"q": f'CREATE DATABASE "{database}"'})
        try:
            assert await write_locations(registry, influxdb.influx_url, database, influxdb.influx_headers) == len(registry.enterprises)
            async with session.post(f"{influxdb.influx_url}/query", data={"db": database, "q": LOCATION_QUERY}) as response:
                series = (await response.json())["results"][0]["series"]
        finally:
            await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'})
    found = {s["tags"]["enterprise"]: dict(zip(s["columns"], s["values"][0], strict=True)) for s in series}
    assert set(found) == set(registry.enterprises)
    for eid, doc in registry.enterprises.items():
        assert (found[eid]["lat"], found[eid]["lon"], found[eid]["name"]) == (
            doc.enterprise.lat, doc.enterprise.lon, doc.enterprise.name)
