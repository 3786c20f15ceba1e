"""The prefecture's ingest records an alarm while InfluxDB is still writing an earlier batch's points, and
acknowledges no batch before InfluxDB has the points of every batch up to it: when that write fails, the
connection ends and the broker's session gives both batches again (the alarm as a repeat)."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson

from hazmon.exchange import up_topic
from prefecture.service import Prefecture
from testbed.alerting import eventually
from testbed.uplink import COUNTY, UpperBroker


async def test_a_slow_influx_write_holds_no_alarm_back_and_acknowledges_nothing(upper: UpperBroker,
                                                                              prefecture: Prefecture) -> None:
    write = prefecture.influx.write
    written: list[list[str]] = []   # the lines of each write InfluxDB took
    writing = asyncio.Event()        # the first write began
    failing = asyncio.Event()        # the first write waits for this, then fails

    async def first_write_slow_and_failing(lines: list[str]) -> None:
        if not failing.is_set() and lines:
            writing.set()
            await failing.wait()
            raise aiohttp.ClientConnectionError("InfluxDB away (test)")
        await write(lines)
        written.append(lines)

    prefecture.influx.write = first_write_slow_and_failing  # type: ignore[method-assign]
    heartbeat = {"v": 1, "county": COUNTY, "ts": 1_000, "enterprises": 3, "points": 9, "backlog": 0}
    alarm = {"v": 1, "county": COUNTY, "id": "S1", "version": 1, "change": "confirmed", "changed_at": 1_000,
             "changed_by": None, "enterprise": "E1", "state": "active", "escalated_to": "enterprise"}
    async with upper.county_client(COUNTY) as county:
        await county.publish(up_topic(COUNTY, "heartbeat"), orjson.dumps(heartbeat), qos=1)
        await asyncio.wait_for(writing.wait(), 30)   # the heartbeat recorded, its InfluxDB write under way, waiting
        await county.publish(up_topic(COUNTY, "alarm"), orjson.dumps(alarm), qos=1)
        await eventually(lambda: prefecture.ingest.versions == 1, 30, "the alarm recorded while InfluxDB is slow")
        assert (await prefecture.record.versions(COUNTY)) == {"S1": [1]}
        failing.set()   # the heartbeat's write fails: neither batch was acknowledged
        await eventually(lambda: prefecture.ingest.repeats == 1, 30, "the alarm given again by the broker's session")
        await eventually(lambda: any(line.startswith("county_heartbeat,") for lines in written for line in lines), 30,
                         "the heartbeat's point written on the next connection")
    assert prefecture.ingest.connections >= 2
    assert prefecture.ingest.versions == 1
