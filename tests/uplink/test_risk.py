"""§11 risk: every enterprise's colour at connection, and a change as alerting computes it (a real alerting
service, a recorder writing its colours to the test's InfluxDB database, the uplink reading it)."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson

from hazmon.exchange import up_topic
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from prefecture.service import Prefecture
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition
from testbed.uplink import COUNTY, UpperBroker, collecting, running_uplink, uplink_settings
from tests.uplink.test_forward import suffix_of
from uplink.risk import RiskForwarder


async def test_colours_go_up_at_connection_and_on_change(start_service: Callable, start_recorder: Callable,
                                                         names: PlatformTopics, produce: Callable,
                                                         alerting_settings: Settings, upper: UpperBroker,
                                                         unique: str) -> None:
    await start_service()
    await start_recorder()   # alerting's colours reach InfluxDB through the recorder
    settings = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    async with collecting(upper, "risk") as collector, running_uplink(settings):
        await eventually(lambda: {m["enterprise"] for m in collector.messages} >= {CHEM, MINE, FIRE}, 30,
                         "every enterprise's colour at connection")
        assert all((m["county"], m["color"], m["level"]) == (COUNTY, "blue", 0) for m in collector.messages)
        await produce(names.transitions, [transition("r1", "confirmed", "TK01_LT", level="high_high", value=10.8,
                                                     limit=10.5, at=T0)])
        await eventually(lambda: any(m["enterprise"] == CHEM and m["color"] == "red" for m in collector.messages), 30,
                         "the chemical plant turning red upward")
    red = [m for m in collector.messages if m["color"] == "red"]
    assert [(m["enterprise"], m["level"], m["active_alarms"], m["ts"]) for m in red] == [(CHEM, 3, 1, T0)]


async def _colour_at_prefecture(prefecture: Prefecture, enterprise: str) -> dict | None:
    return {r["enterprise"]: r for r in await prefecture.record.risk(COUNTY)}.get(enterprise)


async def test_a_colour_written_after_the_uplink_connected_reaches_the_prefecture(
        start_service: Callable, start_recorder: Callable, names: PlatformTopics, produce: Callable,
        alerting_settings: Settings, upper: UpperBroker, prefecture: Prefecture, unique: str) -> None:
    """The uplink connects first (blue for every enterprise: nothing written yet), then alerting colours the
    chemical plant red at the transition's time, T0, long before the wall clock's time of that blue: the
    prefecture's record must show red (it kept a blue stamped with the wall clock's time before, for good)."""
    await start_service()
    await start_recorder()
    settings = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    async with running_uplink(settings):
        async def blue_at_prefecture() -> bool:
            colour = await _colour_at_prefecture(prefecture, CHEM)
            return colour is not None and colour["color"] == "blue"
        await eventually(blue_at_prefecture, 60, "the chemical plant blue at the prefecture (no colour yet)")
        await produce(names.transitions, [transition("r1", "confirmed", "TK01_LT", level="high_high", value=10.8,
                                                     limit=10.5, at=T0)])

        async def red_at_prefecture() -> bool:
            colour = await _colour_at_prefecture(prefecture, CHEM)
            return colour is not None and colour["color"] == "red"
        await eventually(red_at_prefecture, 60, "the chemical plant red at the prefecture")
    assert await _colour_at_prefecture(prefecture, CHEM) == {"enterprise": CHEM, "level": 3, "color": "red",
                                                             "active_alarms": 1, "ts": T0}


async def test_the_full_round_corrects_a_stale_colour_stamped_later(
        start_service: Callable, start_recorder: Callable, names: PlatformTopics, produce: Callable,
        alerting_settings: Settings, upper: UpperBroker, prefecture: Prefecture, unique: str) -> None:
    """The prefecture holds blue for the chemical plant stamped with a wall-clock time (what an uplink sent
    before this rule, or any stale colour stamped later than the county's); the county's colour is red at T0.
    The full round (at connection, as every 5 minutes) must bring the record to red."""
    await start_service()
    await start_recorder()
    await produce(names.transitions, [transition("r1", "confirmed", "TK01_LT", level="high_high", value=10.8,
                                                 limit=10.5, at=T0)])
    settings = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")

    async def red_at_the_county() -> bool:
        colour = (await RiskForwarder(settings, COUNTY).colours()).get(CHEM)
        return colour is not None and colour[0][1] == "red"
    await eventually(red_at_the_county, 30, "the chemical plant red in the county's InfluxDB")
    stale = {"v": 1, "county": COUNTY, "enterprise": CHEM, "color": "blue", "level": 0, "active_alarms": 0,
             "ts": int(time.time() * 1000)}
    async with upper.county_client(COUNTY) as county:
        await county.publish(up_topic(COUNTY, "risk"), orjson.dumps(stale), qos=1)

    async def stale_at_prefecture() -> bool:
        return await _colour_at_prefecture(prefecture, CHEM) == {k: stale[k] for k in
                                                                  ("enterprise", "level", "color", "active_alarms", "ts")}
    await eventually(stale_at_prefecture, 30, "the stale blue at the prefecture")
    async with running_uplink(settings):
        async def red_at_prefecture() -> bool:
            colour = await _colour_at_prefecture(prefecture, CHEM)
            return colour is not None and colour["color"] == "red"
        await eventually(red_at_prefecture, 60, "the full round's red at the prefecture")
