"""Payloads of the notification channels: generic JSON webhook, DingTalk robot, WeCom robot.

DingTalk: ``{"msgtype":"markdown","markdown":{"title":…,"text":…}}`` or
``{"msgtype":"text","text":{"content":…}}``; WeCom: ``{"msgtype":"markdown","markdown":{"content":…}}``
or ``{"msgtype":"text","text":{"content":…}}``.

``mobiles`` are the people on duty to @mention (an escalation step, ``alerting_duty_mobiles``): DingTalk
``at.atMobiles`` with each ``@mobile`` also in the text (DingTalk highlights only those named there);
WeCom ``text.mentioned_mobile_list``. WeCom's markdown cannot mention by mobile, so a WeCom markdown
channel sends a message with mentions as text. The generic webhook carries no mentions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from alerting.notify.message import Notification
from alerting.text import Texts

ChannelFormat = Literal["webhook", "dingtalk_markdown", "dingtalk_text", "wecom_markdown", "wecom_text"]
Payload = Callable[[Notification, Texts, tuple[str, ...]], dict]


def webhook(notification: Notification, texts: Texts, mobiles: tuple[str, ...] = ()) -> dict:
    return {"v": 1, "enterprise": notification.enterprise, "title": notification.title(texts),
            "text": notification.plain(texts),
            "changes": [{"id": c.key[0], "version": c.key[1], "kind": c.kind, "ts": c.ts, "link": c.link, "alarm": c.alarm}
                        for c in notification.changes]}


def _dingtalk_at(payload: dict, mobiles: tuple[str, ...]) -> dict:
    return {**payload, "at": {"atMobiles": list(mobiles), "isAtAll": False}} if mobiles else payload


def _at(mobiles: tuple[str, ...]) -> str:
    return "".join(f" @{m}" for m in mobiles)


def dingtalk_markdown(notification: Notification, texts: Texts, mobiles: tuple[str, ...] = ()) -> dict:
    text = notification.markdown(texts) + (f"\n\n{_at(mobiles).strip()}" if mobiles else "")
    return _dingtalk_at({"msgtype": "markdown", "markdown": {"title": notification.title(texts), "text": text}}, mobiles)


def dingtalk_text(notification: Notification, texts: Texts, mobiles: tuple[str, ...] = ()) -> dict:
    return _dingtalk_at({"msgtype": "text", "text": {"content": notification.plain(texts) + _at(mobiles)}}, mobiles)


def wecom_text(notification: Notification, texts: Texts, mobiles: tuple[str, ...] = ()) -> dict:
    text = {"content": notification.plain(texts)}
    return {"msgtype": "text", "text": {**text, "mentioned_mobile_list": list(mobiles)} if mobiles else text}


def wecom_markdown(notification: Notification, texts: Texts, mobiles: tuple[str, ...] = ()) -> dict:
    if mobiles:
        return wecom_text(notification, texts, mobiles)
    return {"msgtype": "markdown", "markdown": {"content": notification.markdown(texts)}}


PAYLOADS: dict[str, Payload] = {
    "webhook": webhook,
    "dingtalk_markdown": dingtalk_markdown,
    "dingtalk_text": dingtalk_text,
    "wecom_markdown": wecom_markdown,
    "wecom_text": wecom_text,
}
