"""The upper platform's 签收 of an alarm escalated to it reaches the county's alarm record (a real alerting
service on the test's topics), attributed to the upper officer; an action on an alarm that was not
escalated to it, or on another county's topic, changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

from hazmon.exchange import down_action_topic
from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from testbed.alerting import CHEM, T0, eventually, transition
from testbed.uplink import (COUNTY, OTHER, UPPER_PASSWORD, UPPER_USER, UpperBroker, collecting, running_uplink,
                            uplink_settings)
from tests.uplink.test_forward import suffix_of


def escalate(alarm: str, tier: int, at: int, unique: str) -> dict:
    return {"v": 1, "action_id": f"esc-{alarm}-{tier}-{unique}", "action": "escalate", "enterprise": CHEM, "ts": at,
            "by": "escalator", "alarm": alarm, "tier": tier}


def upper_ack(alarm: str, upper_id: str, by: str = "李四") -> bytes:
    return orjson.dumps({"v": 1, "id": upper_id, "alarm": alarm, "action": "ack", "by": by, "comment": "州应急局已签收，请县局督促处置"})


async def test_upper_ack_lands_on_the_countys_alarm(start_service: Callable, names: PlatformTopics, produce: Callable,
                                                    alerting_settings: Settings, upper: UpperBroker, unique: str) -> None:
    service = await start_service()
    settings = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    async with collecting(upper) as collector, running_uplink(settings) as uplink:
        await produce(names.transitions, [
            transition("d1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
            transition("d2", "confirmed", "TK01_TT", level="high_high", value=80.0, limit=70.0, at=T0)])
        # the escalator escalates alarms it has: actions on another topic may be read before the transitions
        await eventually(lambda: service.book.get("d1") is not None and service.book.get("d2") is not None, 30,
                         "both alarms in the county's record")
        await produce(names.actions, [escalate("d1", 1, T0 + 300_000, unique), escalate("d1", 2, T0 + 900_000, unique),
                                      escalate("d2", 1, T0 + 300_000, unique)])
        await eventually(lambda: any(m["id"] == "d1" and m["escalated_to"] == "prefecture" for m in collector.messages)
                         and any(m["id"] == "d2" and m["escalated_to"] == "county" for m in collector.messages),
                         30, "both escalations upward")
        async with upper.client(UPPER_USER, UPPER_PASSWORD) as prefecture:
            await prefecture.publish(down_action_topic(OTHER), upper_ack("d1", f"p0-{unique}", "王五"), qos=1)  # not this county's
            await prefecture.publish(down_action_topic(COUNTY), upper_ack("d2", f"p1-{unique}"), qos=1)   # only at the county
            await prefecture.publish(down_action_topic(COUNTY), upper_ack("d1", f"p2-{unique}"), qos=1)
        await eventually(lambda: service.book.get("d1").acked_by is not None, 30, "the upper 签收 on the county's record")  # type: ignore[union-attr]
        await eventually(lambda: any(m["id"] == "d1" and m["change"] == "acknowledged" for m in collector.messages),
                         30, "the acknowledged alarm upward again")
        await asyncio.sleep(1.0)
        assert uplink.actions_applied == 1
    d1 = service.book.get("d1")
    assert d1 is not None and (d1.state, d1.acked_by, d1.ack_comment) == ("acknowledged", "prefecture/李四",
                                                                          "州应急局已签收，请县局督促处置")
    assert service.book.get("d2").acked_by is None   # type: ignore[union-attr]
    upward = [m for m in collector.messages if m["id"] == "d1"][-1]
    assert (upward["acked_by"], upward["changed_by"], upward["state"]) == ("prefecture/李四", "prefecture/李四", "acknowledged")
