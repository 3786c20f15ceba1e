"""``hazmon influx backup`` / ``restore`` on the real InfluxDB: a restored database holds the same
readings (in their retention policy) and alarms as the one backed up; an existing one is not overwritten."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from recorder.influx import InfluxWriter
from hzctl.cli import main
from hazmon.settings import Settings
from tests.foundation.test_influx_retention import query

pytestmark = pytest.mark.servers


@pytest.fixture
async def databases(influxdb: Settings, unique: str) -> AsyncIterator[tuple[str, str]]:
    names = (f"hz_backup_{unique}", f"hz_restored_{unique}")
    yield names
    async with aiohttp.ClientSession() as session:
        for name in names:
            await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{name}"'})


async def contents(settings: Settings, database: str) -> tuple[list, list, set]:
    readings = await query(settings, database, 'SELECT "value", "point" FROM "raw"."reading"')
    alarms = await query(settings, database, 'SELECT "id", "state" FROM "alarm"')
    policies = {row["name"] for row in await query(settings, database, f'SHOW RETENTION POLICIES ON "{database}"')}
    return ([(r["time"], r["point"], r["value"]) for r in readings], [(r["time"], r["id"], r["state"]) for r in alarms],
            policies)


async def test_backup_then_restore_gives_the_same_readings_and_alarms(influxdb: Settings, databases: tuple[str, str],
                                                                      tmp_path: Path, capsys) -> None:
    source, restored = databases
    now = int(time.time() * 1000)
    writer = InfluxWriter(influxdb, database=source)
    try:
        await writer.write([*(f"reading,enterprise=E1,point=P{i % 3},site=S1,type=pressure value={i}.5 {now - i * 1000}"
                              for i in range(100)),
                            f'alarm,enterprise=E1,site=S1,point=P1,rule=limit,level=high,state=active id="a1" {now}'])
    finally:
        await writer.close()
    before = await contents(influxdb, source)
    assert len(before[0]) == 100 and len(before[1]) == 1

    assert main(["influx", "backup", str(tmp_path / "b"), "--database", source]) == 0
    assert main(["influx", "restore", str(tmp_path / "b"), "--as", restored]) == 0
    deadline = time.monotonic() + 15              # influxd opens restored shards after it returns: seconds at most
    while await contents(influxdb, restored) != before and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert await contents(influxdb, restored) == before

    assert main(["influx", "restore", str(tmp_path / "b"), "--as", source]) == 1      # never over a database
    assert "exists" in capsys.readouterr().err
