"""A county's alarms go up through a real alerting service, Kafka and the uplink to the upper broker:
every change, versions in order, each as the API shows the alarm, with the county's id."""

from __future__ import annotations

from collections.abc import Callable

from hazmon import topics
from hazmon.exchange import up_topic
from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from testbed.alerting import CHEM, MINE, T0, eventually, transition
from testbed.uplink import COUNTY, UpperBroker, collecting, running_uplink, uplink_settings, versions_in_order


def suffix_of(names: PlatformTopics) -> str:
    return names.transitions[len(topics.ALARM_TRANSITIONS):]


async def test_every_change_of_every_alarm_goes_up_in_order(start_service: Callable, names: PlatformTopics,
                                                             produce: Callable, alerting_settings: Settings,
                                                             upper: UpperBroker, unique: str) -> None:
    service = await start_service()
    settings = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    async with (collecting(upper) as collector, collecting(upper, "registry") as registry,
                collecting(upper, "heartbeat") as heartbeat, running_uplink(settings)):
        await produce(names.transitions, [
            transition("u1", "raised", "TK01_LT", at=T0),
            transition("u2", "confirmed", "WK01_WL", rule="limit", level="orange", at=T0 + 1_000),
            transition("u1", "confirmed", "TK01_LT", at=T0 + 30_000),
            transition("u1", "escalated", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0 + 60_000)])
        await eventually(lambda: len(collector.messages) >= 4, 30, "the first four changes upward")
        await service.act({"v": 1, "action_id": f"ack-{unique}", "action": "ack", "enterprise": CHEM, "ts": T0 + 90_000,
                           "by": "duty/张三", "alarm": "u1", "comment": "已通知现场"})
        await produce(names.transitions, [transition("u1", "cleared", "TK01_LT", level="high_high", value=8.0, at=T0 + 120_000),
                                          transition("u2", "cleared", "WK01_WL", level="orange", at=T0 + 130_000)])
        await eventually(lambda: len(collector.messages) >= 7, 30, "every change upward")
        await eventually(lambda: registry.messages, 10, "the registry summary")
        await eventually(lambda: heartbeat.messages, 10, "a heartbeat")
    versions = collector.alarm_versions()
    assert versions == {"u1": [1, 2, 3, 4, 5], "u2": [1, 2]}, versions
    assert all(versions_in_order(v) for v in versions.values())
    last = [m for m in collector.messages if m["id"] == "u1"][-1]
    assert (last["county"], last["state"], last["change"], last["acked_by"], last["level"]) == (
        COUNTY, "cleared", "cleared", "duty/张三", "high_high")
    assert last == {**service.book.get("u1").to_json(), "v": 1, "county": COUNTY, "version": 5, "change": "cleared",  # type: ignore[union-attr]
                    "changed_at": T0 + 120_000, "changed_by": None}
    assert [m["enterprise"] for m in collector.messages if m["id"] == "u2"] == [MINE, MINE]
    summary = registry.messages[0]
    assert summary["county"] == COUNTY and CHEM in {e["id"] for e in summary["enterprises"]}
    beat = heartbeat.messages[-1]
    assert (beat["county"], beat["enterprises"], beat["points"]) == (COUNTY, len(summary["enterprises"]),
                                                                     sum(len(e["points"]) for e in summary["enterprises"]))
    assert beat["backlog"] >= 0
    assert up_topic(COUNTY, "alarm").endswith("/433127/alarm")
