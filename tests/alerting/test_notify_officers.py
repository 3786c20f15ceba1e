"""Notifications an officer can act on: DingTalk robot signing (加签) checked by a local robot, and
@mentions of the people on duty for escalation steps (DingTalk ``at.atMobiles``, WeCom
``mentioned_mobile_list``)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from alerting.notify.delivery import Channel, Deliverer
from alerting.notify.message import Notification
from tests.alerting.test_notify import ZH, change, notification

SECRET = "SEC0f3c5d2b7a9e41c6b8d0e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4"
DUTY = {1: ["13800000001", "13800000002"], 2: ["13900000009"]}


class SigningRobot:
    """A local DingTalk-like robot: checks ``timestamp`` (within an hour) and ``sign`` as DingTalk does,
    answers errcode 310000 when they do not match, and records what it accepted."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: list[tuple[dict[str, str], dict]] = []
        self.refused = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)   # decoded: a sign sent without URL-encoding ('+' as space) no longer matches
        timestamp = int(query.get("timestamp", "0"))
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        if abs(time.time() * 1000 - timestamp) > 3_600_000 or not hmac.compare_digest(query.get("sign", ""), expected):
            self.refused += 1
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        self.accepted.append((query, orjson.loads(await request.read())))
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def robot() -> AsyncIterator[SigningRobot]:
    server = SigningRobot(SECRET)
    app = web.Application()
    app.router.add_post("/robot/send", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/robot/send"  # noqa: SLF001
    yield server
    await runner.cleanup()


async def _send(channels: list[Channel], tmp_path: Path, *notifications: Notification,
                duty_mobiles: dict[int, list[str]] | None = None) -> Deliverer:
    deliverer = Deliverer(channels, ZH, (0.05,), tmp_path / "dead.jsonl", queue_max=100, duty_mobiles=duty_mobiles)
    await deliverer.start()
    try:
        for message in notifications:
            deliverer.send(message)
        await deliverer.drain()
    finally:
        await deliverer.close()
    return deliverer


def _step(alarm_id: str, tier: int) -> Notification:
    """An escalation step of a second-level alarm to ``tier`` (1 county desk, 2 prefecture)."""
    return notification(dataclasses.replace(change(alarm_id, level="high_high"), kind=f"escalated_tier{tier}"))


async def test_a_signed_dingtalk_robot_accepts_every_message(robot: SigningRobot, tmp_path: Path) -> None:
    signed = Channel("dingtalk_markdown", f"{robot.url}?access_token=tok123", secret=SECRET)
    deliverer = await _send([signed], tmp_path, *(notification(change(f"s{i}")) for i in range(8)))
    assert robot.refused == 0 and len(robot.accepted) == 8 and deliverer.workers[1].delivered == 8
    for query, body in robot.accepted:
        assert query["access_token"] == "tok123" and body["msgtype"] == "markdown"
    assert SECRET not in repr(signed) and SECRET not in signed.key


async def test_a_wrong_or_missing_secret_is_refused_by_the_robot(robot: SigningRobot, tmp_path: Path) -> None:
    wrong = Channel("dingtalk_text", f"{robot.url}?access_token=tok123", secret="SECnot-the-robots")
    unsigned = Channel("dingtalk_text", f"{robot.url}?access_token=tok123")
    deliverer = await _send([wrong, unsigned], tmp_path, notification(change("w1")))
    assert robot.accepted == [] and robot.refused == 2      # one attempt on each channel: an errcode is for good
    assert sum(w.dead for w in deliverer.workers) == 2
    dead = (tmp_path / "dead.jsonl").read_text()
    assert "sign=" not in dead and "SECnot-the-robots" not in dead                # the secret is never written down


def test_a_secret_is_only_for_dingtalk() -> None:
    with pytest.raises(ValueError, match="DingTalk"):
        Channel("wecom_text", "http://127.0.0.1/wecom", secret=SECRET)


async def test_escalation_steps_mention_the_people_on_duty_for_their_tier(robot: SigningRobot, receiver, tmp_path: Path) -> None:
    formats = ["dingtalk_text", "wecom_markdown", "wecom_text", "webhook"]
    channels = [Channel(f, f"{receiver.url}/{f}") for f in formats]
    channels.append(Channel("dingtalk_markdown", robot.url, secret=SECRET))
    await _send(channels, tmp_path, notification(change("plain")), _step("county", 1), _step("prefecture", 2),
                duty_mobiles=DUTY)

    by_path: dict[str, list[dict]] = {}
    for path, body in zip(receiver.paths, receiver.bodies):
        by_path.setdefault(path, []).append(body)
    markdown = [body for _, body in robot.accepted]
    ordinary, county, prefecture = (by_path["/dingtalk_text"][i] for i in range(3))
    assert "at" not in ordinary and "@" not in ordinary["text"]["content"]           # not an escalation: nobody paged
    assert county["at"] == {"atMobiles": DUTY[1], "isAtAll": False}
    assert county["text"]["content"].endswith(" @13800000001 @13800000002")        # DingTalk highlights those in the text
    assert prefecture["at"]["atMobiles"] == DUTY[2]
    assert "at" not in markdown[0] and markdown[1]["at"]["atMobiles"] == DUTY[1]
    assert markdown[2]["markdown"]["text"].endswith("\n\n@13900000009") and markdown[2]["at"]["atMobiles"] == DUTY[2]

    wecom_ordinary, wecom_county, wecom_prefecture = by_path["/wecom_text"]
    assert "mentioned_mobile_list" not in wecom_ordinary["text"]
    assert wecom_county["text"]["mentioned_mobile_list"] == DUTY[1]
    assert wecom_prefecture["text"]["mentioned_mobile_list"] == DUTY[2]
    md_ordinary, md_county, _ = by_path["/wecom_markdown"]                            # WeCom markdown cannot mention
    assert md_ordinary["msgtype"] == "markdown"
    assert md_county["msgtype"] == "text" and md_county["text"]["mentioned_mobile_list"] == DUTY[1]
    assert all("at" not in body and "mentioned_mobile_list" not in str(body) for body in by_path["/webhook"])


async def test_without_duty_mobiles_an_escalation_mentions_nobody(receiver, tmp_path: Path) -> None:
    await _send([Channel("dingtalk_text", f"{receiver.url}/d"), Channel("wecom_text", f"{receiver.url}/w")], tmp_path,
                _step("county", 1), duty_mobiles={2: ["13900000009"]})
    assert all("at" not in body and "mentioned_mobile_list" not in body["text"] for body in receiver.bodies)


def test_the_service_hands_each_channel_its_secret() -> None:
    from alerting.service import channels_of
    from hazmon.settings import Settings

    settings = Settings(alerting_channels=[{"format": "dingtalk_text", "url": "http://127.0.0.1:1/robot/send", "secret": "SEC1"},
                                           {"format": "webhook", "url": "http://127.0.0.1:1/hook"}])
    channels = channels_of(settings)
    assert [c.secret for c in channels] == ["SEC1", None]
