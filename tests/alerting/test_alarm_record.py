"""The alarm record (issue #15) on the real Kafka broker: the ledger, restarts from it, paging, 待反馈, suppression rules.

A restart restores the alarms not yet closed from the ledger and folds only the topics' tail;
closed alarms leave memory and are read from the ledger; the topics may lose everything (a
retention that deleted them) without losing an alarm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import astuple

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hazmon.secrets import Principal
from hazmon.wire import AlarmAction

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.service import AlertingService
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alarm_history import MIN_MS, YEAR_MS, historic_log
from testbed.alerting import CHEM, FIRE, MINE, T0, Receiver, eventually, transition
from testbed.kafka_admin import delete_topics

pytestmark = pytest.mark.servers
DUTY = {"Authorization": f"Bearer {DUTY_TOKEN}"}
CHEM_TOKEN = {"Authorization": f"Bearer token-{CHEM}"}
FIRE_TOKEN = {"Authorization": f"Bearer token-{FIRE}"}
NOW = T0 + 2 * YEAR_MS


def act(kind: str, alarm: str, ts: int, enterprise: str = CHEM, **fields) -> AlarmAction:
    return AlarmAction(v=1, action_id=f"{kind}-{alarm}-{ts}", action=kind, enterprise=enterprise, ts=ts,
                       by="duty/张三", alarm=alarm, **fields)


@pytest.fixture
async def client_of(tokens: dict[str, Principal]) -> AsyncIterator:
    clients: list[TestClient] = []

    async def client(service: AlertingService) -> TestClient:
        started = TestClient(TestServer(build_app(service, tokens)))
        await started.start_server()
        clients.append(started)
        return started

    yield client
    for started in clients:
        await started.close()


async def test_a_restart_restores_the_ledger_and_reads_only_the_tail(start_service, produce, names, kafka,
                                                                     client_of) -> None:
    first = await start_service(ManualClock(T0 + 3 * MIN_MS))
    await produce(names.transitions, [
        transition("r1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
        transition("r2", "confirmed", "TK01_PT", level="high", at=T0 + 1000),
    ])
    await eventually(lambda: {"r1", "r2"} <= set(first.book.alarms), what="both alarms folded")
    await first.act(act("ack", "r2", T0 + 2000, comment="已到场"))
    await produce(names.transitions, [transition("r2", "cleared", "TK01_PT", level="high", at=T0 + 3000)])
    await eventually(lambda: first.book.get("r2").state == "cleared", what="r2 cleared")
    await first.act(act("close", "r2", T0 + 4000, note="阀门已更换"))
    assert first.book.get("r2") is None                       # closed: left memory once the ledger held it
    await first.stop()

    await produce(names.transitions, [transition("r3", "confirmed", "WK01_WL", level="high", at=T0 + 5000)])
    second = await start_service(ManualClock(T0 + 4 * MIN_MS))
    assert second.log.replayed == 1                           # only the tail since the ledger's offsets
    assert set(second.book.alarms) == {"r1", "r3"}
    assert second.book.get("r1").escalable_since == T0
    client = await client_of(second)
    closed = await (await client.get("/api/v1/alarms/r2", headers=DUTY)).json()
    assert (closed["state"], closed["close_note"], closed["acked_by"]) == ("closed", "阀门已更换", "duty/张三")
    assert [(h["kind"], h["ts"]) for h in closed["history"]] == [
        ("confirmed", T0 + 1000), ("acknowledged", T0 + 2000), ("cleared", T0 + 3000), ("closed", T0 + 4000)]
    assert closed["history"][1]["comment"] == "已到场" and closed["history"][3]["note"] == "阀门已更换"
    again = await client.post("/api/v1/alarms/r2/close", json={"note": "again"}, headers=DUTY)
    assert again.status == 409 and (await again.json())["error"] == "closed"
    await second.stop()

    # beyond retention: the topics lose everything; the ledger keeps every alarm
    await delete_topics(kafka, set(astuple(names)).__contains__)
    third = await start_service(ManualClock(T0 + 5 * MIN_MS))
    assert set(third.book.alarms) == {"r1", "r3"} and third.log.replayed == 0
    assert (await third.ledger.alarm("r2")).close_note == "阀门已更换"
    assert third.risk.current(CHEM).color == "red"            # the colour is restored with the alarms
    await third.tick()
    await eventually(lambda: third.book.get("r1").escalation == 1, what="the escalation clock survived the restarts")
    assert third.book.get("r1").escalations == [{"tier": 1, "at": T0 + 5 * MIN_MS}]


async def test_listing_pages_newest_first_with_a_cursor(start_service, produce, names, client_of) -> None:
    service = await start_service(ManualClock(T0 + 3_600_000))
    await produce(names.transitions, [transition(f"p{i:03d}", "confirmed", "TK01_LT" if i % 3 else "BLD1_TANK",
                                                 at=T0 + i * 1000) for i in range(507)])
    await eventually(lambda: len(service.book.alarms) == 507, what="507 alarms folded")
    for i in range(0, 507, 4):   # every fourth closed: the pages merge memory and the ledger
        point = "TK01_LT" if i % 3 else "BLD1_TANK"
        enterprise = CHEM if i % 3 else FIRE
        await produce(names.transitions, [transition(f"p{i:03d}", "cleared", point, at=T0 + 600_000 + i)])
        await eventually(lambda alarm_id=f"p{i:03d}": service.book.get(alarm_id).state == "cleared", what="cleared")
        await service.act(act("close", f"p{i:03d}", T0 + 700_000 + i, enterprise=enterprise, note="ok"))
    client = await client_of(service)

    default = await (await client.get("/api/v1/alarms", headers=DUTY)).json()
    assert len(default["alarms"]) == 500 and default["next"] is not None
    assert [a["id"] for a in default["alarms"][:2]] == ["p506", "p505"]
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/alarms?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = await (await client.get(query, headers=DUTY)).json()
        seen += [a["id"] for a in page["alarms"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"p{i:03d}" for i in range(506, -1, -1)]
    closed = await (await client.get("/api/v1/alarms?state=closed&limit=5000", headers=DUTY)).json()
    assert [a["id"] for a in closed["alarms"]] == [f"p{i:03d}" for i in range(504, -1, -4)]
    own = await (await client.get("/api/v1/alarms?limit=5000", headers=FIRE_TOKEN)).json()
    assert {a["enterprise"] for a in own["alarms"]} == {FIRE} and len(own["alarms"]) == 169
    assert own["next"] is None

    for bad, error in (("limit=5001", "bad_limit"), ("limit=0", "bad_limit"), ("limit=ten", "bad_limit"),
                       ("cursor=garbage", "bad_cursor")):
        refused = await client.get(f"/api/v1/alarms?{bad}", headers=DUTY)
        body = await refused.json()
        assert refused.status == 400 and body["error"] == error and body["message"], bad
    assert "5000" in (await (await client.get("/api/v1/alarms?limit=5001", headers=DUTY)).json())["message"]


async def test_a_self_cleared_second_level_alarm_awaits_feedback_and_escalates(start_service, produce, names,
                                                                               receiver: Receiver, client_of) -> None:
    clock = ManualClock(T0)
    service = await start_service(clock)
    await produce(names.transitions, [
        transition("w1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
        transition("w2", "confirmed", "TK01_PT", level="high", at=T0),
        transition("w3", "confirmed", "WK01_WL", level="high_high", at=T0),
    ])
    await eventually(lambda: len(service.book.alarms) == 3, what="three alarms")
    await service.act(act("ack", "w3", T0 + 30_000, enterprise=MINE, comment="已签收"))
    await produce(names.transitions, [transition(a, "cleared", p, level=lv, at=T0 + 60_000)
                                      for a, p, lv in (("w1", "TK01_LT", "high_high"), ("w2", "TK01_PT", "high"),
                                                       ("w3", "WK01_WL", "high_high"))])
    await eventually(lambda: all(a.state == "cleared" for a in service.book.alarms.values()), what="all cleared")
    client = await client_of(service)
    waiting = await (await client.get("/api/v1/alarms?awaiting_feedback=true", headers=DUTY)).json()
    assert [(a["id"], a["state"], a["awaiting_feedback"]) for a in waiting["alarms"]] == [("w1", "cleared", True)]

    clock.advance(5 * 60)
    await service.tick()
    await eventually(lambda: service.book.get("w1").escalation == 1, what="待反馈 escalates to the county")
    clock.advance(10 * 60)
    await service.tick()
    await eventually(lambda: service.book.get("w1").escalation == 2, what="and to the prefecture")
    assert [s["at"] for s in service.book.get("w1").escalations] == [T0 + 5 * MIN_MS, T0 + 15 * MIN_MS]
    await eventually(lambda: any("待反馈报警已上报州应急管理局" in str(b) for b in receiver.bodies), what="notified")
    steps = [b for path, b in zip(receiver.paths, receiver.bodies) if path == "/webhook" and "待反馈" in b["title"]]
    assert steps[0]["title"] == "【二级报警】待反馈报警已上报县应急管理局值班室：永顺县灵溪化工有限公司"
    assert "(1号储罐区 1号储罐液位, 二级报警)" in steps[0]["text"]    # the site and the point by name (§10), the level in words
    assert service.book.get("w2").escalation == service.book.get("w3").escalation == 0
    assert service.risk.current(CHEM).active_alarms == 0       # waiting for a note, not open: no colour

    closed = await service.act(act("close", "w1", clock.now_ms(), note="液位已恢复，原因为进料阀内漏"))
    assert closed.awaiting_feedback is False
    assert (await (await client.get("/api/v1/alarms?awaiting_feedback=true", headers=DUTY)).json())["alarms"] == []


async def test_suppression_rules_are_enforced_and_visible(start_service, produce, names, receiver: Receiver,
                                                          client_of) -> None:
    clock = ManualClock(T0)
    service = await start_service(clock)
    client = await client_of(service)
    url = f"/api/v1/enterprises/{CHEM}/points/TK01_LT/suppress"
    hour = 3_600_000

    by_enterprise = await client.post(url, json={"reason": "检修", "expires_at": T0 + hour}, headers=CHEM_TOKEN)
    assert by_enterprise.status == 403 and "值班室" in (await by_enterprise.json())["message"]
    no_reason = await client.post(url, json={"reason": " ", "expires_at": T0 + hour}, headers=DUTY)
    assert no_reason.status == 422 and (await no_reason.json())["field"] == "reason"
    assert "原因" in (await no_reason.json())["message"]
    too_long = await client.post(url, json={"reason": "检修", "expires_at": T0 + 72 * hour + 1}, headers=DUTY)
    assert too_long.status == 422 and (await too_long.json())["field"] == "expires_at"
    assert "72" in (await too_long.json())["message"]
    fire = await client.post(f"/api/v1/enterprises/{FIRE}/points/FAC1_Z07/suppress",
                             json={"reason": "检修", "expires_at": T0 + hour}, headers=DUTY)
    assert fire.status == 409 and (await fire.json())["error"] == "fire_point"
    assert (await client.post(url, json={"reason": "液位计检修", "expires_at": T0 + 72 * hour, "officer": "王值班"},
                              headers=DUTY)).status == 200

    shown = await (await client.get("/api/v1/suppressions", headers=DUTY)).json()
    assert shown["suppressions"] == [{"enterprise": CHEM, "point": "TK01_LT", "reason": "液位计检修",
                                      "by": "duty/王值班", "since": T0, "expires_at": T0 + 72 * hour}]
    assert (await (await client.get("/api/v1/suppressions", headers=FIRE_TOKEN)).json())["suppressions"] == []
    await produce(names.transitions, [transition("s1", "confirmed", "TK01_LT", level="high_high", at=T0 + 1000)])
    await eventually(lambda: service.book.get("s1") is not None, what="the suppressed point's alarm")
    alarm = await (await client.get("/api/v1/alarms/s1", headers=DUTY)).json()
    assert alarm["suppressed"] is True and alarm["suppression"]["expires_at"] == T0 + 72 * hour

    # a suppression that reaches the log some other way still never silences a fire alarm
    await service.log.publish(AlarmAction(v=1, action_id="raw-fire", action="suppress", enterprise=FIRE, ts=T0,
                                          by="duty", point="FAC1_Z07", reason="x", expires_at=T0 + hour))
    await eventually(lambda: (FIRE, "FAC1_Z07") in service.book.suppressions, what="the raw suppression")
    await produce(names.transitions, [transition("f1", "confirmed", "FAC1_Z07", rule="fire", level=None, value=None,
                                                 limit=None, at=T0 + 2000, message="3F 东走廊 火警")])
    await eventually(lambda: any("火警" in str(b) for b in receiver.bodies), what="the fire alarm notified")
    assert not service.book.is_suppressed(service.book.get("f1"), T0 + 2000)


async def test_years_of_alarms_restart_with_open_alarms_clocks_and_suppressions_intact(
        start_service, produce, names, alerting_settings, client_of) -> None:
    enterprises = [CHEM, MINE]
    transitions, actions = historic_log(2000, NOW, enterprises)
    transitions.append(transition("clock", "confirmed", "TK01_LT", level="high_high", at=NOW - 6 * MIN_MS))
    actions.append(act("escalate", "clock", NOW - MIN_MS, tier=1))
    actions.append(AlarmAction(v=1, action_id="keep", action="suppress", enterprise=MINE, ts=NOW - MIN_MS,
                               by="duty/王值班", point="P01", reason="检修", expires_at=NOW + 24 * 3_600_000))
    await produce(names.transitions, transitions)
    await produce(names.actions, actions)
    first = await start_service(ManualClock(NOW))
    opened = {a.id: a.record() for a in first.book.alarms.values()}
    assert len(opened) == 201 and "h000000" in opened           # the oldest, two years old, is open
    assert first.book.get("h000000").started_at <= NOW - 2 * YEAR_MS + MIN_MS
    suppressions = dict(first.book.suppressions)
    await first.stop()

    second = await start_service(ManualClock(NOW))
    assert second.log.replayed == 0
    assert {a.id: a.record() for a in second.book.alarms.values()} == opened
    assert second.book.suppressions == suppressions
    client = await client_of(second)
    oldest_closed = await (await client.get("/api/v1/alarms/h000001", headers=DUTY)).json()
    assert (oldest_closed["state"], oldest_closed["close_cause"]) == ("closed", "进料过量")
    active = await (await client.get("/api/v1/alarms?state=active&limit=5000", headers=DUTY)).json()
    acked = await (await client.get("/api/v1/alarms?state=acknowledged&limit=5000", headers=DUTY)).json()
    assert len(active["alarms"]) + len(acked["alarms"]) == 201 and acked["alarms"][-1]["id"] == "h000000"
    second.clock.advance(9 * 60)                                # 15 min after the clock alarm became second-level
    await second.tick()
    await eventually(lambda: second.book.get("clock").escalation == 2, what="the clock's second step")
    assert second.book.get("clock").escalations[-1] == {"tier": 2, "at": NOW - 6 * MIN_MS + 15 * MIN_MS}
    assert all(a.escalation == opened[a.id]["escalation"] for a in second.book.alarms.values() if a.id != "clock")
