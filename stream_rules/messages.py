"""Operator-facing alarm texts in the duty desk's words (data standard §10): Simplified Chinese
(``message``) and English (``message_en``).

Each text names the enterprise, site and point (or device, group, pond) by name, says what
happened, the value and the limit with their units, and the device time of the reading that made
the change; a trend says its rate per hour and the predicted time to the next limit. Officers never
read internal codes: rule and level names are translated here; points, devices and voting groups
are named by :mod:`hazmon.registry.names` (a point without a registered name by its quantity, never
by its id), which the catalog puts into each :class:`Subject`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hazmon.officer_time import beijing_text

if TYPE_CHECKING:   # alarms.py composes its texts here
    from stream_rules.alarms import Subject


# (prefix, noun) per rule: §10's 报警 for a process limit (一级/二级), 预警 for a colour or trend warning
RULE_TEXT: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "limit": (("", "报警"), ("", "alarm")),
    "vote": (("多点联动", "报警"), ("group ", "alarm")),
    "rainfall": (("", "降雨预警"), ("", "rainfall warning")),
    "trend": (("", "趋势预警"), ("", "trend warning")),
    "fault": (("", "设备故障"), ("", "sensor fault")),
    "offline": (("", "设备离线"), ("", "device offline")),
    "fire": (("", "火警"), ("", "fire alarm")),
    "rollup": (("尾矿库综合", "预警"), ("tailings pond ", "warning")),
    "platform": (("", "平台数据中断"), ("", "platform data outage")),
}
LEVEL_TEXT: dict[str, tuple[str, str]] = {
    "high": ("高限一级", "level 1 high"),
    "high_high": ("高高限二级", "level 2 high-high"),
    "low": ("低限一级", "level 1 low"),
    "low_low": ("低低限二级", "level 2 low-low"),
    "blue": ("蓝色", "blue"),
    "yellow": ("黄色", "yellow"),
    "orange": ("橙色", "orange"),
    "red": ("红色", "red"),
    "high_1h": ("1小时", "1 h"),
    "high_24h": ("24小时", "24 h"),
}
COLOURS = frozenset({"blue", "yellow", "orange", "red"})
TRANSITION_TEXT: dict[str, tuple[str, str]] = {   # 确认: the rule confirmed the alarm (§10); 签收 is the officer's
    "raised": ("发生", "raised"),
    "confirmed": ("确认", "confirmed"),
    "escalated": ("升级", "escalated"),
    "deescalated": ("降级", "de-escalated"),
    "cleared": ("恢复", "cleared"),
    "recorded": ("记录", "recorded"),
}
REASON_TEXT: dict[str, tuple[str, str]] = {
    "out_of_range": ("量程外", "outside its range"),
    "over_range": ("超量程", "over range"),
    "quality_bad": ("设备报告数据无效", "device reported bad quality"),
    "not_finite": ("非数值", "not a number"),
    "stuck": ("数值长时间不变", "value stuck"),
    "device_event": ("控制器报故障", "controller reported a fault"),
    "silence": ("超时未上报", "no data for 3 reporting periods"),
    "status": ("设备报告离线", "device reported offline"),
    "no_data": ("未收到任何企业数据", "no data from any enterprise"),
    "reset": ("复位", "reset"),
    "normal": ("恢复正常", "back to normal"),
    "disabled": ("屏蔽", "disabled"),
    "supervisory": ("监管", "supervisory"),
    "start": ("启动", "start"),
    "feedback": ("反馈", "feedback"),
}
Extra = dict[str, float | str | None]


def _number(value: float) -> str:
    return f"{value:.6g}"


def _quantity(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}".rstrip()


def _time(ts_ms: int) -> tuple[str, str]:
    shown = beijing_text(ts_ms)
    return shown, f"{shown} UTC+8"


def _duration(seconds: float) -> tuple[str, str]:
    if seconds < 3600:
        minutes = max(1, round(seconds / 60))
        return f"约{minutes}分钟", f"about {minutes} min"
    hours = round(seconds / 3600, 1)
    return f"约{_number(hours)}小时", f"about {_number(hours)} h"


def listed_values(points: list[tuple[tuple[str, str], float]], unit: str) -> tuple[str, str]:
    """Points (their (zh, en) names) with their values, as a group alarm lists its members beyond the limit:
    ``1号可燃气体探测器 30 %LEL、2号可燃气体探测器 27 %LEL``."""
    return ("、".join(f"{zh} {_quantity(value, unit)}" for (zh, _), value in points),
            ", ".join(f"{en} {_quantity(value, unit)}" for (_, en), value in points))


def compose(subject: Subject, rule: str, level: str | None, transition: str, value: float | None,
            limit: float | None, reason: str | None, extra: Extra, reading_ts: int) -> tuple[str, str]:
    """(Chinese, English) text of one alarm transition about ``subject``."""
    head_zh, head_en = _headline(rule, level)
    trans_zh, trans_en = TRANSITION_TEXT[transition]
    zh = [f"{subject.name}：{head_zh}{trans_zh}"]
    en = [f"{subject.name_en}: {head_en} {trans_en}"]
    if reason:
        reason_zh, reason_en = REASON_TEXT.get(reason, ("", ""))
        zh[0] += f"（{reason_zh}）"
        en[0] += f" ({reason_en})"
    unit = subject.unit
    if rule == "trend":
        _trend(zh, en, extra, unit, limit if level is None else None)
    elif value is not None:
        zh.append(f"当前值 {_quantity(value, unit)}" + (f"，限值 {_quantity(limit, unit)}" if limit is not None else ""))
        en.append(f"value {_quantity(value, unit)}" + (f", limit {_quantity(limit, unit)}" if limit is not None else ""))
    if rule == "vote" and extra.get("members"):
        zh.append(f"超限测点 {extra['members']}")
        en.append(f"points beyond: {extra['members_en']}")
    if rule == "platform" and extra.get("silent_s") is not None:
        zh_for, en_for = _duration(float(extra["silent_s"] or 0))
        zh.append(f"已{zh_for}未收到数据")
        en.append(f"no data for {en_for}")
    if rule == "fire" and extra.get("text"):
        zh.append(f"控制器信息：{extra['text']}")
        en.append(f"controller says: {extra['text']}")
    at_zh, at_en = _time(reading_ts)
    zh.append(f"时间 {at_zh}")
    en.append(f"at {at_en}")
    return "；".join(zh), "; ".join(en)


def _headline(rule: str, level: str | None) -> tuple[str, str]:
    """What happened, in §10's words: e.g. 高高限二级报警, 红色预警, 多点联动高限一级报警, 1小时降雨预警."""
    (prefix_zh, noun_zh), (prefix_en, noun_en) = RULE_TEXT[rule]
    if rule == "trend":   # a trend's level is only the limit it predicts: said with the time to it
        level = None
    level_zh, level_en = LEVEL_TEXT.get(level or "", ("", ""))
    if rule in ("limit", "vote") and level in COLOURS:
        noun_zh, noun_en = "预警", "warning"
    return f"{prefix_zh}{level_zh}{noun_zh}", " ".join(w for w in (f"{prefix_en}{level_en}".strip(), noun_en) if w)


def _trend(zh: list[str], en: list[str], extra: Extra, unit: str, rate_limit: float | None) -> None:
    """A trend's rate per hour (against its limit when the rate is what it breached) and the time to the next limit."""
    slope = extra.get("slope_per_h")
    if slope is not None:
        rate = _quantity(float(slope), f"{unit}/h")
        zh.append(f"变化速率 {rate}" + (f"（速率限值 {_quantity(rate_limit, f'{unit}/h')}）" if rate_limit is not None else ""))
        en.append(f"rate {rate}" + (f" (rate limit {_quantity(rate_limit, f'{unit}/h')})" if rate_limit is not None else ""))
    eta, next_level = extra.get("time_to_limit_s"), extra.get("next_level")
    if eta is not None and next_level:
        level_zh, level_en = LEVEL_TEXT.get(str(next_level), ("", ""))
        in_zh, in_en = _duration(float(eta))
        zh.append(f"预计{in_zh}后达到{level_zh}限值")
        en.append(f"expected to reach its {level_en} limit in {in_en}")
