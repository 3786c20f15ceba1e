"""Operator-facing words of alerting, in Simplified Chinese by default and English as an option."""

from __future__ import annotations

from typing import Literal

from alerting.model import ESCALATION_PREFIX

_REFUSALS = {
    "not_found": ("没有这条报警", "no such alarm"),
    "closed": ("报警已关闭，不能再处理", "the alarm is closed and cannot be acted on"),
    "already_acknowledged": ("报警已被确认", "the alarm has already been acknowledged"),
    "still_active": ("报警仍在持续（数据尚未恢复），不能关闭；请先确认并处置，待数据恢复后再填写处置反馈关闭",
                     "the alarm is still active (the data has not cleared it); it cannot be closed yet"),
    "not_due": ("无需升级", "no escalation is due"),
    "expired": ("屏蔽到期时间必须晚于现在", "the suppression must expire in the future"),
    "too_long": ("屏蔽最长 72 小时，请缩短到期时间", "a suppression lasts at most 72 hours; choose an earlier expiry"),
    "no_reason": ("屏蔽必须填写原因", "a suppression needs a reason"),
    "duty_only": ("只有应急管理局值班室可以设置屏蔽", "only the duty desk may suppress a point"),
    "fire_point": ("火警点位不能屏蔽", "a fire detector cannot be suppressed: fire alarms are never silenced"),
}
_TIERS = ("企业", "县应急管理局值班室", "州应急管理局"), ("enterprise", "county duty desk", "prefecture")
_EVENTS = {"raised": ("报警", "alarm"), "confirmed": ("报警", "alarm"), "escalated": ("报警升级", "alarm worsened"),
           "deescalated": ("报警降级", "alarm eased"), "cleared": ("报警恢复", "alarm cleared"),
           "recorded": ("记录", "record"), "acknowledged": ("报警已确认", "alarm acknowledged"),
           "closed": ("报警已关闭", "alarm closed")}


class Texts:
    def __init__(self, language: Literal["zh", "en"]) -> None:
        self._index = 0 if language == "zh" else 1
        self.language = language

    def refusal(self, code: str) -> str:
        return _REFUSALS[code][self._index]

    def tier(self, tier: int) -> str:
        return _TIERS[self._index][tier]

    def event(self, kind: str) -> str:
        if kind.startswith(ESCALATION_PREFIX):
            tier = self.tier(int(kind.removeprefix(ESCALATION_PREFIX)))
            return f"未确认报警已上报{tier}" if self._index == 0 else f"unacknowledged alarm escalated to the {tier}"
        return _EVENTS[kind][self._index]

    def alarm_message(self, message: str, message_en: str) -> str:
        return message if self._index == 0 else message_en

    def group_title(self, enterprise_name: str, count: int) -> str:
        return (f"{enterprise_name}：{count} 条报警" if self._index == 0
                else f"{enterprise_name}: {count} alarms")
