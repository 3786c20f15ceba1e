"""Lifecycle and escalation on the real Kafka broker, with time moved by the test.

State is folded from the transitions and actions topics: a second instance started later agrees
with the first, and neither repeats history's notifications.
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from hazmon.wire import AlarmAction

from alerting.clock import ManualClock
from alerting.model import ActionRefused
from testbed.alerting import CHEM, T0, Receiver, eventually, transition

pytestmark = pytest.mark.servers
MIN = 60_000


def act(kind: str, alarm: str, ts: int, **fields) -> AlarmAction:
    return AlarmAction(v=1, action_id=f"{kind}-{alarm}-{ts}", action=kind, enterprise=CHEM, ts=ts,
                       by="duty/张三", alarm=alarm, **fields)


async def test_lifecycle_escalation_and_a_second_instance(start_service, produce, names, receiver: Receiver,
                                                          alerting_settings) -> None:
    clock = ManualClock(T0)
    first = await start_service(clock)
    await produce(names.transitions, [
        transition("a1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
        transition("a2", "confirmed", "TK01_PT", level="high", value=1.05, limit=1.0, at=T0),
    ])
    await eventually(lambda: {"a1", "a2"} <= set(first.book.alarms), what="both alarms folded")
    await eventually(lambda: len(receiver.bodies) == 3, what="first alarm on three channels")

    clock.advance(5 * 60 - 1)
    await first.tick()
    clock.advance(1)
    await first.tick()
    await eventually(lambda: first.book.get("a1").escalation == 1, what="escalation to the county")
    assert first.book.get("a1").escalations == [{"tier": 1, "at": T0 + 5 * MIN}]
    assert first.book.get("a2").escalation == 0   # first level never escalates
    await eventually(lambda: any("县应急管理局值班室" in str(b) for b in receiver.bodies), what="escalation notified")

    acked = await first.act(act("ack", "a1", clock.now_ms(), comment="已安排人员到场"))
    assert (acked.state, acked.acked_by, acked.ack_comment) == ("acknowledged", "duty/张三", "已安排人员到场")
    clock.advance(15 * 60)
    await first.tick()
    with pytest.raises(ActionRefused) as refused:
        await first.act(act("close", "a1", clock.now_ms(), note="处置完毕"))
    assert refused.value.code == "still_active"

    delivered = len(receiver.bodies)
    own_ledger = alerting_settings.model_copy(update={"alerting_ledger_file": alerting_settings.home / "second.sqlite3"})
    second = await start_service(ManualClock(clock.now_ms()), settings=own_ledger)   # folds the whole log
    mirror = second.book.get("a1")
    assert (mirror.state, mirror.escalation, mirror.acked_by) == ("acknowledged", 1, "duty/张三")
    assert second.book.get("a2").state == "active"

    await produce(names.transitions, [transition("a1", "cleared", "TK01_LT", level="high_high", value=9.0,
                                                 at=clock.now_ms())])
    await eventually(lambda: second.book.get("a1").state == "cleared", what="cleared seen by the second instance")
    closed = await second.act(act("close", "a1", clock.now_ms() + 1, note="液位恢复", cause="进料阀内漏", measures="更换阀门"))
    assert closed.state == "closed"
    await eventually(lambda: first.book.get("a1") is None, what="the first instance agrees, and lets the closed alarm go")
    recorded = await first.ledger.alarm("a1")
    assert (recorded.state, recorded.close_cause) == ("closed", "进料阀内漏")
    assert recorded.escalation == 1   # acknowledged before 15 min: no prefecture step
    await first.deliverer.drain()
    await second.deliverer.drain()
    assert len(receiver.bodies) == delivered       # the second instance did not repeat history's notifications


async def test_fire_goes_out_at_once_and_escalates_to_the_prefecture(start_service, produce, names, receiver: Receiver,
                                                                     alerting_settings) -> None:
    clock = ManualClock(T0)
    routed = alerting_settings.model_copy(update={"alerting_channels": [
        {"format": "wecom_text", "url": f"{receiver.url}/county", "min_tier": 1},
        {"format": "dingtalk_text", "url": f"{receiver.url}/prefecture", "min_tier": 2}]})
    service = await start_service(clock, settings=routed)
    await produce(names.transitions, [transition("a1", "confirmed", "BLD1_TANK", level="low", at=T0)])
    await eventually(lambda: len(receiver.bodies) == 3, what="first alarm of the hospital")
    await produce(names.transitions, [transition("f1", "confirmed", "FAC1_Z07", rule="fire", level=None,
                                                 value=None, limit=None, at=T0 + 1, message="3F 东走廊 火警")])
    await eventually(lambda: len(receiver.bodies) == 6, 5.0, "the fire alarm, not held by the storm window")
    assert all("火警" in str(body) for body in receiver.bodies[3:])
    assert not {"/county", "/prefecture"} & set(receiver.paths)   # tiered channels: escalations only
    clock.advance(16 * 60)
    await service.tick()
    await eventually(lambda: service.book.get("f1").escalation == 2, what="prefecture")
    assert [s["tier"] for s in service.book.get("f1").escalations] == [1, 2]
    assert service.risk.current(service.book.get("f1").enterprise).color == "red"
    await eventually(lambda: receiver.paths.count("/prefecture") == 1, what="the prefecture's message")
    await eventually(lambda: receiver.paths.count("/county") == 2, what="both steps at the county desk")
    prefecture = receiver.bodies[receiver.paths.index("/prefecture")]["text"]["content"]
    assert prefecture.startswith("【火警】未签收报警已上报州应急管理局：永顺县人民医院")
    assert receiver.paths.count("/webhook") == 4    # every channel of tier 0 got both steps too


async def test_malformed_records_are_skipped_not_fatal(start_service, produce, names, kafka: str) -> None:
    service = await start_service(ManualClock(T0))
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for junk in (b"not json", b"[1, 2]", b'{"id": "x1", "transition": "confirmed"}'):
            await producer.send_and_wait(names.transitions, junk, key=CHEM.encode())
        await producer.send_and_wait(names.actions, b'{"action": "ack"}', key=CHEM.encode())
    finally:
        await producer.stop()
    await produce(names.transitions, [transition("ok1", "confirmed", "TK01_LT", at=T0)])
    await eventually(lambda: service.book.get("ok1") is not None, what="the good record after the junk")
    assert set(service.book.alarms) == {"ok1"}
    again = await start_service(ManualClock(T0))      # and a replay over the junk builds the same book
    assert set(again.book.alarms) == {"ok1"}
