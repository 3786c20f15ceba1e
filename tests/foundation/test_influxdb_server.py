"""InfluxDB on the real server: write with the async influxdb-client (v2 compatibility API), read
back with Flux and with InfluxQL."""

from __future__ import annotations

import aiohttp
import pytest
from influxdb_client import Point
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

from hazmon.settings import Settings

pytestmark = pytest.mark.servers


async def test_write_and_query_back(influxdb: Settings, unique: str) -> None:
    database = f"test_{unique}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{influxdb.influx_url}/query", params={"q": f'CREATE DATABASE "{database}"'}) as resp:
            assert resp.status == 200
        try:
            async with InfluxDBClientAsync(url=influxdb.influx_url, token="", org="-") as client:
                points = [Point("reading").tag("enterprise", "E1").tag("point", f"P{i % 2}").field("value", float(i))
                          .time(1_764_376_800_000 + i * 1000, write_precision="ms") for i in range(10)]
                assert await client.write_api().write(bucket=f"{database}/autogen", record=points, write_precision="ms")
                tables = await client.query_api().query(
                    f'from(bucket: "{database}/autogen") |> range(start: 2025-01-01T00:00:00Z) '
                    f'|> filter(fn: (r) => r._measurement == "reading" and r.point == "P1")')
            values = sorted(record.get_value() for table in tables for record in table.records)
            assert values == [1.0, 3.0, 5.0, 7.0, 9.0]
            async with http.get(f"{influxdb.influx_url}/query",
                                params={"db": database, "q": 'SELECT count("value") FROM "reading"'}) as resp:
                body = await resp.json()
            assert body["results"][0]["series"][0]["values"][0][1] == 10
        finally:
            async with http.post(f"{influxdb.influx_url}/query", params={"q": f'DROP DATABASE "{database}"'}):
                pass
