"""Refusal reasons (data standard §6, with hazmon's documented additions) and their texts.

The codes are the contract; the texts go to enterprises on the ``errors`` topic and to operators
in ``hazmon ingest check``, in Simplified Chinese by default and English as an option.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Language = Literal["zh", "en"]


class Reason(StrEnum):
    # whole message (§6)
    BAD_JSON = "bad_json"
    TOO_LARGE = "too_large"
    BAD_VERSION = "bad_version"
    BAD_SHAPE = "bad_shape"
    # one reading (§6)
    UNKNOWN_POINT = "unknown_point"
    BAD_VALUE = "bad_value"
    BAD_TS = "bad_ts"
    # hazmon additions (docs/ingest.md): topic and registry disagree; an event name outside §4
    UNKNOWN_DEVICE = "unknown_device"
    BAD_EVENT = "bad_event"
    # hazmon addition (§6 rev. 1.1: rate limits per enterprise): over the enterprise's or device's rate
    RATE_LIMITED = "rate_limited"


_TEXTS: dict[str, dict[Language, str]] = {
    "not_json": {"zh": "不是合法的 UTF-8 JSON：{error}", "en": "not valid UTF-8 JSON: {error}"},
    "not_object": {"zh": "消息必须是 JSON 对象", "en": "the message must be a JSON object"},
    "too_large": {"zh": "消息 {size} 字节，超过上限 {limit} 字节", "en": "message of {size} bytes exceeds the limit of {limit} bytes"},
    "bad_version": {"zh": "v 必须为 1，收到 {value}", "en": "v must be 1, got {value}"},
    "readings_not_list": {"zh": "readings 必须是数组", "en": "readings must be a list"},
    "too_many_readings": {"zh": "readings 有 {count} 条，超过上限 {limit} 条", "en": "{count} readings exceed the limit of {limit}"},
    "bad_seq": {"zh": "seq 必须是非负整数，收到 {value}", "en": "seq must be a non-negative integer, got {value}"},
    "reading_not_object": {"zh": "第 {index} 条读数不是 JSON 对象", "en": "reading {index} is not a JSON object"},
    "unknown_point": {"zh": "第 {index} 条读数：点位 {point} 不在本设备的登记清单中", "en": "reading {index}: point {point} is not registered to this device"},
    "events_only": {"zh": "第 {index} 条读数：点位 {point} 为火灾探测器，只接收事件", "en": "reading {index}: point {point} is a fire detector and takes events only"},
    "bad_value": {"zh": "第 {index} 条读数（{point}）：value 必须是有限数值，收到 {value}", "en": "reading {index} ({point}): value must be a finite number, got {value}"},
    "bad_quality": {"zh": "第 {index} 条读数（{point}）：q 只能是 good、uncertain 或 bad，收到 {value}", "en": "reading {index} ({point}): q must be good, uncertain or bad, got {value}"},
    "bad_reading_ts": {"zh": "第 {index} 条读数（{point}）：时间戳 {value} {problem}", "en": "reading {index} ({point}): timestamp {value} {problem}"},
    "bad_message_ts": {"zh": "消息时间戳 {value} {problem}", "en": "message timestamp {value} {problem}"},
    "ts_unparseable": {"zh": "无法解析（应为整数毫秒或带时区偏移的 RFC 3339）", "en": "cannot be parsed (integer milliseconds or RFC 3339 with an offset)"},
    "ts_future": {"zh": "超前平台时间 5 分钟以上", "en": "is more than 5 minutes in the future"},
    "ts_past": {"zh": "早于平台时间 {days} 天以上", "en": "is more than {days} days in the past"},
    "unknown_enterprise": {"zh": "企业 {enterprise} 未登记", "en": "enterprise {enterprise} is not registered"},
    "unknown_device": {"zh": "设备 {device} 未在企业 {enterprise} 的清单中登记", "en": "device {device} is not registered for enterprise {enterprise}"},
    "event_point": {"zh": "事件的点位 {point} 不在本设备的登记清单中", "en": "event point {point} is not registered to this device"},
    "event_missing_point": {"zh": "事件缺少 point 字段", "en": "the event has no point"},
    "bad_event": {"zh": "事件 {value} 不在标准列表中（{allowed}）", "en": "event {value} is not one of the standard's ({allowed})"},
    "bad_text": {"zh": "事件 text 必须是字符串", "en": "the event's text must be a string"},
    "rate_limited": {"zh": "超过速率上限（{scope}每秒 {limit}），本消息未接收", "en": "over the rate limit ({scope}: {limit} per second); message not taken"},
    "scope_enterprise_msgs": {"zh": "企业消息", "en": "enterprise messages"},
    "scope_enterprise_bytes": {"zh": "企业字节", "en": "enterprise bytes"},
    "scope_device_msgs": {"zh": "设备消息", "en": "device messages"},
    "bad_online": {"zh": "状态消息的 online 必须是 true 或 false", "en": "online must be true or false in a status message"},
}


def text(key: str, language: Language, **facts: object) -> str:
    """The operator-facing sentence ``key`` in ``language`` with ``facts`` filled in."""
    return _TEXTS[key][language].format(**{k: _short(v) for k, v in facts.items()})



def _short(value: object) -> str:
    shown = str(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
