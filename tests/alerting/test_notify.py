"""Notification delivery to a local HTTP receiver: exact DingTalk/WeCom shapes, outage, recovery, dead-letter, storm control."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from alerting.book import AlarmBook
from alerting.clock import ManualClock
from alerting.notify.delivery import Channel, Deliverer
from alerting.notify.message import Notification, NotifiedChange
from alerting.notify.storm import StormControl
from alerting.text import Texts
from testbed.alerting import CHEM, FIRE, T0, Receiver, eventually, transition

ZH = Texts("zh")


def change(alarm_id: str, point: str = "TK01_LT", **kw) -> NotifiedChange:
    book = AlarmBook(ZH)
    event = book.apply_transition(transition(alarm_id, "confirmed", point, **kw))
    return NotifiedChange.of(event, "http://duty.example:8400", "1号储罐区 1号储罐液位")


def notification(*changes: NotifiedChange) -> Notification:
    return Notification(CHEM, "永顺县灵溪化工有限公司", list(changes))


async def deliver(channels: list[Channel], backoff_s: tuple[float, ...], dead: Path, *alarm_ids: str) -> Deliverer:
    """Send one notification per alarm id through a fresh deliverer and wait until each is delivered or dead."""
    deliverer = Deliverer(channels, ZH, backoff_s, dead, queue_max=100)
    await deliverer.start()
    try:
        for alarm_id in alarm_ids:
            deliverer.send(notification(change(alarm_id)))
        await deliverer.drain()
    finally:
        await deliverer.close()
    return deliverer


async def test_exact_robot_payload_shapes(receiver: Receiver, tmp_path: Path) -> None:
    formats = ["dingtalk_markdown", "dingtalk_text", "wecom_markdown", "wecom_text", "webhook"]
    await deliver([Channel(f, f"{receiver.url}/{f}") for f in formats], (0.05,), tmp_path / "dead.jsonl", "a1")
    got = dict(zip(receiver.paths, receiver.bodies))
    title = "【一级报警】报警：永顺县灵溪化工有限公司"
    line = "[报警] 1号储罐液位高报警 (1号储罐区 1号储罐液位, 一级报警)"
    link = "http://duty.example:8400/alarms/a1"
    markdown = f"### {title}\n- {line} [处置]({link})"
    plain = f"{title}\n{line} {link}"
    assert got["/dingtalk_markdown"] == {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    assert got["/dingtalk_text"] == {"msgtype": "text", "text": {"content": plain}}
    assert got["/wecom_markdown"] == {"msgtype": "markdown", "markdown": {"content": markdown}}
    assert got["/wecom_text"] == {"msgtype": "text", "text": {"content": plain}}
    webhook = got["/webhook"]
    assert (webhook["enterprise"], webhook["title"], webhook["changes"][0]["alarm"]["id"]) == (CHEM, title, "a1")


async def test_outage_then_recovery_delivers_in_order(receiver: Receiver, tmp_path: Path) -> None:
    receiver.fail_next = 3     # down for the first three attempts, up at the fourth
    deliverer = await deliver([Channel("wecom_markdown", f"{receiver.url}/wecom")], (0.1, 0.2, 0.4),
                              tmp_path / "dead.jsonl", "a1", "a2")
    assert receiver.refused == 3
    assert ["a1" in b["markdown"]["content"] for b in receiver.bodies] == [True, False]
    assert "a2" in receiver.bodies[1]["markdown"]["content"]
    assert sum(w.delivered for w in deliverer.workers) == 2 and not (tmp_path / "dead.jsonl").exists()


async def test_a_refusal_for_good_goes_to_dead_letter_at_once(tmp_path: Path) -> None:
    """A robot's errcode (wrong keyword, token or signature) will not change by retrying: dead-lettered at once,
    where the operator finds it, instead of holding the lane's other messages back."""
    robot = await Receiver(answer={"errcode": 310000, "errmsg": "keywords not in content"}).start()
    dead = tmp_path / "dead.jsonl"
    try:
        await deliver([Channel("dingtalk_markdown", f"{robot.url}/ding")], (0.05, 0.05), dead, "a1")
    finally:
        await robot.stop()
    assert len(robot.bodies) == 1   # one try, answered with an errcode
    records = [orjson.loads(line) for line in dead.read_bytes().splitlines()]
    assert [(r["channel"], r["alarms"], r["payload"]["msgtype"]) for r in records] == [("dingtalk_markdown", ["a1"], "markdown")]


async def test_storm_groups_one_enterprise_but_never_delays_fire() -> None:
    sent: list[Notification] = []
    storm = StormControl(0.3, sent.append, lambda e: e)
    storm.submit(CHEM, change("a1"), urgent=False)          # first: at once
    storm.submit(CHEM, change("a2", point="TK01_TT"), urgent=False)
    storm.submit(CHEM, change("a3", point="TK01_PT"), urgent=False)
    storm.submit(FIRE, change("f1", point="FAC1_Z07", rule="fire", level=None), urgent=True)
    assert [[c.alarm["id"] for c in n.changes] for n in sent] == [["a1"], ["f1"]]
    await eventually(lambda: len(sent) == 3, 2.0, "the grouped message")
    assert [c.alarm["id"] for c in sent[2].changes] == ["a2", "a3"]
    assert sent[2].title(ZH) == f"【一级报警】{CHEM}：2 条报警"
    await asyncio.sleep(0.4)
    storm.submit(CHEM, change("a4"), urgent=False)        # inside the re-opened window: held, sent by flush
    storm.flush()
    assert [c.alarm["id"] for c in sent[-1].changes] == ["a4"]


@pytest.mark.servers
async def test_alarm_path_never_waits_on_influxdb(start_service, produce, names, alerting_settings,
                                                  receiver: Receiver) -> None:
    """With InfluxDB unreachable, alarms are still folded and notified; their lines go on the series topic
    (alerting writes no InfluxDB: the recorder does, docs/architecture.md)."""
    down = alerting_settings.model_copy(update={"influx_url": "http://127.0.0.1:9"})
    service = await start_service(ManualClock(T0), settings=down)
    await produce(names.transitions, [transition("d1", "confirmed", "TK01_LT", level="high_high", at=T0)])
    await eventually(lambda: len(receiver.bodies) == 3, 10.0, "notifications while InfluxDB is down")
    assert service.risk.current(CHEM).color == "red"
    await eventually(lambda: service.series.lines == 2 and service.series.queued == 0, 10.0, "the alarm record and the risk colour on the series topic")


def test_english_texts_when_settings_language_is_en() -> None:
    escalated = AlarmBook(Texts("en"))
    escalated.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high_high"))
    event = escalated.apply_action({"v": 1, "action_id": "e1", "action": "escalate", "enterprise": CHEM, "ts": T0 + 300_000,
                                    "by": "system:escalation", "alarm": "a1", "tier": 1})
    message = Notification(CHEM, "Lingxi Chemicals", [NotifiedChange.of(event, "http://duty", "tank farm 1 tank 1 level")])
    assert message.plain(Texts("en")) == ("[level-2 alarm] unacknowledged alarm escalated to the county duty desk: "
                                          "Lingxi Chemicals\n"
                                          "[unacknowledged alarm escalated to the county duty desk] TK01_LT limit high_high "
                                          "(tank farm 1 tank 1 level, level-2 alarm) http://duty/alarms/a1")
