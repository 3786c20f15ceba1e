"""§11 risk: every enterprise's colour at connection, and a change as alerting computes it (a real alerting
service, a recorder writing its colours to the test's InfluxDB database, the uplink reading it)."""

from __future__ import annotations

from collections.abc import Callable

from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from tests.alerting.support import CHEM, FIRE, MINE, T0, eventually, transition
from tests.uplink.conftest import COUNTY, UpperBroker, collecting, running_uplink, uplink_settings
from tests.uplink.test_forward import suffix_of


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
