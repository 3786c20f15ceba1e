"""Lines InfluxDB refuses (HTTP 400: a field type conflict, an unparsable line) are set aside and
counted, never retried forever: the writers move on and what comes behind them is written.

On the real InfluxDB 1.8: a ``reading`` whose ``value`` was once written as a string makes every
float ``value`` of that shard a type conflict (InfluxDB answers 400 ``partial write``)."""

from __future__ import annotations

import aiohttp
import pytest

from hazmon.settings import Settings
from hazmon.wire import ReadingBatch

from recorder.influx import InfluxWriter
from testbed.alerting import CHEM, T0, eventually, query

pytestmark = pytest.mark.servers
WEEKS_LATER = T0 + 60 * 86_400_000     # another shard of the raw policy, where ``value`` is still a float


async def write_raw(settings: Settings, policy: str, line: str) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/write", params={"db": settings.influx_db, "rp": policy, "precision": "ms"},
            data=line.encode()) as response:
        assert response.status == 204, await response.text()


def reading(ts: int, value: float) -> ReadingBatch:
    return ReadingBatch(v=1, enterprise=CHEM, device="RTU01", recv_ms=ts, points=["TK01_LT"], ts=[ts],
                        values=[value], q=[0], ts_src=[0])


async def test_a_refused_batch_of_readings_is_set_aside_and_the_writer_moves_on(
        start_recorder, produce, names, alerting_settings: Settings) -> None:
    recorder = await start_recorder()
    await write_raw(alerting_settings, "raw",
                    f'reading,enterprise={CHEM},site=TF01,point=TK01_LT,type=tank_level value="broken" {T0 - 1000}')
    await produce(names.readings, [reading(T0, 9.6), reading(WEEKS_LATER, 9.7)])

    async def refused_batch_committed() -> bool:
        return recorder.points_written >= 2
    await eventually(refused_batch_committed, timeout_s=15, what="the batch with a refused line committed")
    assert recorder.influx.set_aside == 1
    await produce(names.readings, [reading(WEEKS_LATER + 1000, 9.8)])   # behind it: written, not held up

    async def later_written() -> bool:
        rows = await query(alerting_settings, f'SELECT value FROM "raw".reading WHERE time >= {WEEKS_LATER}ms')
        return [r["value"] for r in rows] == [9.7, 9.8]
    await eventually(later_written, timeout_s=15, what="the readings behind the refused one in InfluxDB")
    assert (await recorder.metrics.take(T0))["gauges"]["influx_set_aside"] == 1    # on the 平台运行 board


async def test_refused_lines_of_the_submit_queue_are_set_aside_not_queued_again(alerting_settings: Settings) -> None:
    writer = InfluxWriter(alerting_settings)
    await writer.ensure_database()
    await write_raw(alerting_settings, "autogen", f'alarm,enterprise={CHEM} value="broken" {T0 - 1000}')
    writer.submit([f"alarm,enterprise={CHEM} value=1.5 {T0}", f"alarm,enterprise={CHEM} other=2.5 {T0 + 1}"])
    await writer.flush()
    assert writer.queued == 0 and writer.set_aside == 1
    writer.submit(["a line that is not line protocol", f"alarm,enterprise={CHEM} other=3.5 {T0 + 2}"])
    await writer.flush()
    assert writer.queued == 0 and writer.set_aside == 2
    assert [r["other"] for r in await query(alerting_settings, "SELECT other FROM alarm")] == [2.5, 3.5]
    await writer.close()
