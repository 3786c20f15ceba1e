"""Payloads of the notification channels: generic JSON webhook, DingTalk robot, WeCom robot.

DingTalk: ``{"msgtype":"markdown","markdown":{"title":…,"text":…}}`` or
``{"msgtype":"text","text":{"content":…}}``; WeCom: ``{"msgtype":"markdown","markdown":{"content":…}}``
or ``{"msgtype":"text","text":{"content":…}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from alerting.notify.message import Notification
from alerting.text import Texts

ChannelFormat = Literal["webhook", "dingtalk_markdown", "dingtalk_text", "wecom_markdown", "wecom_text"]
Payload = Callable[[Notification, Texts], dict]


def webhook(notification: Notification, texts: Texts) -> dict:
    return {"v": 1, "enterprise": notification.enterprise, "title": notification.title(texts),
            "text": notification.plain(texts),
            "changes": [{"id": c.key[0], "version": c.key[1], "kind": c.kind, "ts": c.ts, "link": c.link, "alarm": c.alarm}
                        for c in notification.changes]}


def dingtalk_markdown(notification: Notification, texts: Texts) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": notification.title(texts), "text": notification.markdown(texts)}}


def wecom_markdown(notification: Notification, texts: Texts) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": notification.markdown(texts)}}


def robot_text(notification: Notification, texts: Texts) -> dict:
    """DingTalk and WeCom share the text message shape."""
    return {"msgtype": "text", "text": {"content": notification.plain(texts)}}


PAYLOADS: dict[str, Payload] = {
    "webhook": webhook,
    "dingtalk_markdown": dingtalk_markdown,
    "dingtalk_text": robot_text,
    "wecom_markdown": wecom_markdown,
    "wecom_text": robot_text,
}
