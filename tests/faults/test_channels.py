"""Notification channels under faults: a robot's non-JSON 200, a dead worker, a backlog ahead of a fire
alarm, a full lane, and a webhook receiver that is down, then answers 5xx, then is slow: nothing given up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from alerting.notify.delivery import Channel, Deliverer
from alerting.notify.message import Notification
from testbed.alerting import T0, Receiver, eventually, transition
from tests.alerting.test_notify import ZH, change, notification
from testbed.faults.proxy import Proxy


async def test_a_robots_non_json_200_does_not_end_its_worker(receiver: Receiver, tmp_path: Path) -> None:
    """Issue #14: a proxy's HTML page with HTTP 200 ended the channel's worker for good. It is not the robot's
    answer, so the message is not known delivered: retried (not dead-lettered) until the robot itself answers."""
    dead = tmp_path / "dead.jsonl"
    deliverer = Deliverer([Channel("dingtalk_markdown", f"{receiver.url}/ding")], ZH, (0.05,), dead, queue_max=100)
    await deliverer.start()
    try:
        receiver.raw = b"<html>gateway says ok</html>"
        deliverer.send(notification(change("j1")))
        await eventually(lambda: len(receiver.bodies) >= 3, 10, "the message tried again past the proxy's page")
        receiver.raw = None
        deliverer.send(notification(change("j2")))
        await asyncio.wait_for(deliverer.drain(), 10)
        assert "j2" in receiver.bodies[-1]["markdown"]["text"] and "j1" in receiver.bodies[-2]["markdown"]["text"]
        assert not [t for t in deliverer.tasks if t.done()]
    finally:
        await deliverer.close()
    assert not dead.exists()


async def test_a_fire_alarm_is_not_delayed_by_a_channels_backlog(receiver: Receiver, tmp_path: Path) -> None:
    deliverer = Deliverer([Channel("webhook", f"{receiver.url}/hook")], ZH, (5.0,), tmp_path / "dead.jsonl", queue_max=100)
    await deliverer.start()
    try:
        receiver.fail_next = 1_000_000           # the receiver refuses: ordinary notifications back off for 5 s each
        for n in range(5):
            deliverer.send(notification(change(f"b{n}")))
        await eventually(lambda: receiver.refused >= 1, 5, "the backlog's first refusal")
        receiver.fail_next = 0
        started = time.monotonic()
        deliverer.send(notification(change("f1", "FAC1_Z07", rule="fire", level=None, value=None, limit=None)))
        await eventually(lambda: any(c["alarm"]["id"] == "f1" for b in receiver.bodies for c in b["changes"]), 5,
                         "the fire alarm past the backlog")
        assert time.monotonic() - started < 1.0
        assert not any(c["alarm"]["id"].startswith("b") for b in receiver.bodies for c in b["changes"])
    finally:
        await deliverer.close()


async def test_a_full_lane_leaves_the_rest_in_the_outbox_and_memory_stays_bounded(receiver: Receiver,
                                                                                     tmp_path: Path) -> None:
    """A channel down for long: its lane holds ``queue_max`` notifications; the rest are neither kept in memory
    nor given up (before: dead-lettered at once): their outbox rows stay, for the outbox's sweep."""
    dead = tmp_path / "dead.jsonl"
    settled: list[tuple[str, list[str]]] = []

    async def record(channel: str, sent: Notification) -> None:
        settled.append((channel, [c.alarm["id"] for c in sent.changes]))

    deliverer = Deliverer([Channel("webhook", f"{receiver.url}/hook")], ZH, (0.2,), dead, queue_max=3, settled=record)
    await deliverer.start()
    try:
        receiver.fail_next = 1_000_000           # down for long: the first message backs off, three wait
        deliverer.send(notification(change("q0")))
        await eventually(lambda: receiver.refused >= 1, 5, "the first refusal")
        taken = [deliverer.workers[1].put(notification(change(f"q{n}"))) for n in range(1, 10)]
        assert taken == [True] * 3 + [False] * 6 and max(w.queued for w in deliverer.workers) == 3
        assert not dead.exists() and settled == []
        assert deliverer.holds(deliverer.channels[0].key, ("q3", 1)) and not deliverer.holds(deliverer.channels[0].key, ("q4", 1))
        receiver.fail_next = 0
        await eventually(lambda: len(settled) == 4, 10, "the lane's four delivered once the receiver is back")
        assert [ids for _, ids in settled] == [["q0"], ["q1"], ["q2"], ["q3"]]
    finally:
        await deliverer.close()


async def test_a_stopped_notification_worker_shows_in_healthz(start_service) -> None:
    service = await start_service()
    assert service.dead_tasks() == []
    service.deliverer.tasks[0].cancel()
    await asyncio.sleep(0)
    assert service.dead_tasks() == [service.deliverer.tasks[0].get_name()]


async def test_webhook_down_then_5xx_then_slow_loses_nothing(start_service, produce, names: PlatformTopics,
                                                              alerting_settings: Settings, receiver: Receiver,
                                                              tmp_path: Path) -> None:
    proxy = Proxy("127.0.0.1", int(receiver.url.rsplit(":", 1)[1]))
    settings = alerting_settings.model_copy(update={
        "alerting_webhooks": [f"{proxy.url}/webhook"], "alerting_dingtalk_urls": [], "alerting_wecom_urls": [],
        "alerting_retry_s": (0.3, 0.6, 1.2), "alerting_group_window_s": 0.0})
    service = await start_service(settings=settings)
    dead = settings.alerting_deadletter_file

    def delivered() -> set[str]:
        return {c["alarm"]["id"] for b in receiver.bodies for c in b["changes"]}

    def dead_lettered() -> set[str]:
        return {a for r in map(orjson.loads, dead.read_bytes().splitlines()) for a in r["alarms"]} if dead.exists() else set()

    async def confirm(alarm_id: str, point: str) -> None:
        await produce(names.transitions, [transition(alarm_id, "raised", point, at=T0),
                                          transition(alarm_id, "confirmed", point, at=T0 + 1000)])

    # down (connection refused): each notification is retried past its back-off steps, never given up
    for n, point in enumerate(["TK01_LT", "TK01_TT", "TK01_PT"]):
        await confirm(f"down-{n}", point)
    await asyncio.sleep(3.0)                     # every back-off step spent
    assert dead_lettered() == set()
    # up, answering 5xx for a while: the outage's and the new one delivered at a retry
    await proxy.up()
    await eventually(lambda: {"down-0", "down-1", "down-2"} <= delivered(), 20, "the outage's alarms delivered")
    receiver.fail_next = 2
    await confirm("5xx-0", "WK01_WL")
    await eventually(lambda: "5xx-0" in delivered(), 15, "delivery after 5xx answers")
    # slow (3 s an answer, under the 10 s timeout): delivered
    receiver.delay_s = 3.0
    await confirm("slow-0", "WK01_DS1")
    await eventually(lambda: "slow-0" in delivered(), 15, "delivery from a slow receiver")
    try:
        assert service.dead_tasks() == []
        assert delivered() == {"down-0", "down-1", "down-2", "5xx-0", "slow-0"} and dead_lettered() == set()
        await eventually(lambda: _outbox_empty(service), 10, "the outbox emptied")
    finally:
        await proxy.down()


async def _outbox_empty(service) -> bool:
    return await service.ledger.outbox() == []

