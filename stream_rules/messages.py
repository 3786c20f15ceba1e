"""Operator-facing alarm texts: Simplified Chinese (``message``) and English (``message_en``)."""

from __future__ import annotations

RULE_TEXT: dict[str, tuple[str, str]] = {
    "limit": ("超限报警", "limit alarm"),
    "vote": ("多点联动报警", "group vote alarm"),
    "rainfall": ("降雨预警", "rainfall alarm"),
    "trend": ("趋势预警", "trend warning"),
    "fault": ("设备故障", "sensor fault"),
    "offline": ("设备离线", "device offline"),
    "fire": ("火警", "fire alarm"),
    "rollup": ("尾矿库综合预警", "tailings pond roll-up"),
    "platform": ("平台数据中断", "platform data outage"),
}
LEVEL_TEXT: dict[str, tuple[str, str]] = {
    "high": ("高报(一级)", "high (level 1)"),
    "high_high": ("高高报(二级)", "high-high (level 2)"),
    "low": ("低报(一级)", "low (level 1)"),
    "low_low": ("低低报(二级)", "low-low (level 2)"),
    "blue": ("蓝色", "blue"),
    "yellow": ("黄色", "yellow"),
    "orange": ("橙色", "orange"),
    "red": ("红色", "red"),
    "high_1h": ("1小时雨量超限", "1 h rainfall over limit"),
    "high_24h": ("24小时雨量超限", "24 h rainfall over limit"),
}
TRANSITION_TEXT: dict[str, tuple[str, str]] = {
    "raised": ("发生", "raised"),
    "confirmed": ("确认", "confirmed"),
    "escalated": ("升级", "escalated"),
    "deescalated": ("降级", "de-escalated"),
    "cleared": ("恢复", "cleared"),
    "recorded": ("记录", "recorded"),
}
REASON_TEXT: dict[str, tuple[str, str]] = {
    "out_of_range": ("量程外", "outside range"),
    "over_range": ("超量程", "over range"),
    "quality_bad": ("设备报告数据无效", "device reported bad quality"),
    "not_finite": ("非数值", "not a number"),
    "stuck": ("数值长时间不变", "value stuck"),
    "device_event": ("控制器报故障", "controller reported a fault"),
    "silence": ("超时未上报", "no data for 3 reporting periods"),
    "no_data": ("未收到任何企业数据", "no data from any enterprise"),
    "status": ("设备离线", "device status offline"),
    "reset": ("复位", "reset"),
    "normal": ("恢复正常", "back to normal"),
    "disabled": ("屏蔽", "disabled"),
    "supervisory": ("监管", "supervisory"),
    "start": ("启动", "start"),
    "feedback": ("反馈", "feedback"),
}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def compose(subject: str, rule: str, level: str | None, transition: str, value: float | None,
            limit: float | None, reason: str | None) -> tuple[str, str]:
    """(Chinese, English) text of one alarm transition about ``subject`` (a named point, device or site)."""
    rule_zh, rule_en = RULE_TEXT[rule]
    level_zh, level_en = LEVEL_TEXT.get(level or "", ("", ""))
    trans_zh, trans_en = TRANSITION_TEXT[transition]
    reason_zh, reason_en = REASON_TEXT.get(reason or "", ("", ""))
    zh = f"{subject} {rule_zh}{level_zh}{trans_zh}"
    en = f"{subject}: {rule_en} {level_en} {trans_en}".replace("  ", " ")
    if reason:
        zh += f"（{reason_zh}）"
        en += f" ({reason_en})"
    if value is not None:
        zh += f"：当前值 {_number(value)}"
        en += f": value {_number(value)}"
        if limit is not None:
            zh += f"，限值 {_number(limit)}"
            en += f", limit {_number(limit)}"
    return zh, en
