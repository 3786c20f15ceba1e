"""Operator-facing words of alerting, in Simplified Chinese by default and English as an option."""

from __future__ import annotations

from typing import Literal

from hazmon.duty_words import ALARM_STATES, AWAITING_FEEDBACK
from hazmon.duty_words import TIERS as DUTY_TIERS
from hazmon.officer_time import beijing_text

from alerting.model import CLOSE_CAUSES, ESCALATION_PREFIX, FIRST_LEVELS, SECOND_LEVELS

_REFUSALS = {
    "not_found": ("没有这条报警", "no such alarm"),
    "closed": ("报警已关闭，不能再处理", "the alarm is closed and cannot be acted on"),
    "already_acknowledged": ("报警已被签收", "the alarm has already been acknowledged"),
    "still_active": ("报警仍在持续（数据尚未恢复），不能关闭；请先签收并处置，待数据恢复后再填写处置反馈关闭",
                     "the alarm is still active (the data has not cleared it); it cannot be closed yet"),
    "not_due": ("无需升级", "no escalation is due"),
    "expired": ("屏蔽到期时间必须晚于现在", "the suppression must expire in the future"),
    "too_long": ("屏蔽最长 72 小时，请缩短到期时间", "a suppression lasts at most 72 hours; choose an earlier expiry"),
    "no_reason": ("屏蔽必须填写原因", "a suppression needs a reason"),
    "duty_only": ("只有应急管理局值班室可以设置屏蔽", "only the duty desk may suppress a point"),
    "fire_point": ("火警点位不能屏蔽", "a fire detector cannot be suppressed: fire alarms are never silenced"),
}
# §10: the duty desk's word for what an alarm is, by rule (and by level for the limit-like rules)
_RULE_WORDS = {"fire": ("火警", "fire alarm"), "fault": ("设备故障", "device fault"), "offline": ("设备离线", "device offline"),
               "trend": ("趋势预警", "trend warning"), "platform": ("平台数据中断", "platform data outage")}
_COLOR_WORDS = {"red": ("红色预警", "red warning"), "orange": ("橙色预警", "orange warning"),
                "yellow": ("黄色预警", "yellow warning"), "blue": ("蓝色预警", "blue warning")}
# the Chinese words are the ones every desk uses (hazmon.duty_words); English beside them
_TIERS = tuple(DUTY_TIERS.values()), ("enterprise", "county duty desk", "prefecture")
_STATES = {state: (word, state) for state, word in ALARM_STATES.items()}
# the alarm page's rows (§10: names and units, the codes only under 详细信息)
_LABELS = {"message": ("报警内容", "Message"), "severity": ("类别", "Kind"), "enterprise": ("企业", "Enterprise"),
           "site": ("单元", "Site"), "point": ("点位", "Point"), "device": ("设备", "Device"),
           "quantity": ("监测项", "Quantity"), "value": ("数值", "Value"), "limit": ("限值", "Limit"),
           "rate": ("变化速率", "Rate"), "rate_limit": ("速率限值", "Rate limit"),
           "time_to_limit": ("预计达到限值", "Limit expected"), "reading_ts": ("设备时间", "Device time"),
           "started_at": ("开始时间", "Started"), "escalated_to": ("已上报至", "Escalated to"),
           "suppression": ("屏蔽", "Suppressed"), "acked_by": ("签收人", "Acknowledged by"),
           "acked_at": ("签收时间", "Acknowledged at"), "ack_comment": ("签收意见", "Comment"),
           "closed_by": ("关闭人", "Closed by"), "closed_at": ("关闭时间", "Closed at"),
           "close_note": ("处置反馈", "Disposal note"), "close_cause": ("原因", "Cause"),
           "close_measures": ("措施", "Measures"), "details": ("详细信息（内部编码）", "Details (internal codes)")}
_CAUSES = {"real_hazard": ("真实险情", "real hazard"), "device_fault": ("设备故障", "device fault"),
           "false_alarm": ("误报", "false alarm"), "test": ("测试", "test"), "other": ("其他", "other")}
# ingest's refusal reasons (data standard §6 and docs/ingest.md) as the enterprise view's data quality names them
_INGEST_REFUSALS = {"bad_json": ("消息不是合法 JSON", "not JSON"), "too_large": ("消息过大", "message too large"),
                    "bad_version": ("版本号错误", "wrong version"), "bad_shape": ("消息结构错误", "malformed message"),
                    "unknown_point": ("点位未登记", "unregistered point"), "bad_value": ("数值无效", "invalid value"),
                    "bad_ts": ("时间戳无效或过旧", "bad or too old timestamp"),
                    "unknown_device": ("设备未登记", "unregistered device"), "bad_event": ("事件名称无效", "unknown event"),
                    "rate_limited": ("超过发送频率上限", "over the rate limit")}
_EVENTS = {"raised": ("报警", "alarm"), "confirmed": ("报警", "alarm"), "escalated": ("报警升级", "alarm worsened"),
           "deescalated": ("报警降级", "alarm eased"), "cleared": ("报警恢复", "alarm cleared"),
           "recorded": ("记录", "record"), "acknowledged": ("报警已签收", "alarm acknowledged"),
           "closed": ("报警已关闭", "alarm closed")}


class Texts:
    def __init__(self, language: Literal["zh", "en"]) -> None:
        self._index = 0 if language == "zh" else 1
        self.language = language

    def refusal(self, code: str) -> str:
        return _REFUSALS[code][self._index]

    def tier(self, tier: int) -> str:
        return _TIERS[self._index][tier]

    def event(self, kind: str, awaiting_feedback: bool = False) -> str:
        if kind.startswith(ESCALATION_PREFIX):
            tier = self.tier(int(kind.removeprefix(ESCALATION_PREFIX)))
            if awaiting_feedback:
                return f"待反馈报警已上报{tier}" if self._index == 0 else f"alarm awaiting feedback escalated to the {tier}"
            return f"未签收报警已上报{tier}" if self._index == 0 else f"unacknowledged alarm escalated to the {tier}"
        return _EVENTS[kind][self._index]

    def severity(self, rule: str, level: str | None) -> str:
        """What the alarm is, in the desk's words (§10): 火警, 二级报警, 红色预警, 设备离线…"""
        if rule in _RULE_WORDS:
            return _RULE_WORDS[rule][self._index]
        if level in _COLOR_WORDS:
            return _COLOR_WORDS[level][self._index]
        if level in SECOND_LEVELS:
            return ("二级报警", "level-2 alarm")[self._index]
        if level in FIRST_LEVELS:
            return ("一级报警", "level-1 alarm")[self._index]
        return ("报警", "alarm")[self._index]

    def state(self, state: str, awaiting_feedback: bool) -> str:
        """状态：未签收, or 状态：已恢复（待反馈）…"""
        return ("状态：", "State: ")[self._index] + self.state_word(state, awaiting_feedback)

    def state_word(self, state: str, awaiting_feedback: bool) -> str:
        """未签收, or 已恢复（待反馈）… (where a column already says 状态)."""
        return _STATES[state][self._index] + ((f"（{AWAITING_FEEDBACK}）", " (awaiting feedback)")[self._index] if awaiting_feedback else "")

    def cause(self, cause: str) -> str:
        """处置反馈's cause in words; a free-text cause recorded before the codes (issue 17) as it was written."""
        words = _CAUSES.get(cause)
        return cause if words is None else words[self._index]

    def causes(self) -> list[tuple[str, str]]:
        """Every cause code with its words, in the order of ``CLOSE_CAUSES`` (the close form's choices)."""
        return [(code, _CAUSES[code][self._index]) for code in CLOSE_CAUSES]

    def ingest_refusal(self, reason: str) -> str:
        """Why ingest refused readings, in words (a reason newer than these words: 其他原因)."""
        words = _INGEST_REFUSALS.get(reason)
        return ("其他原因", "other reason")[self._index] if words is None else words[self._index]

    def label(self, field: str) -> str:
        return _LABELS[field][self._index]

    def moment(self, ts_ms: int) -> str:
        """A time as officers read it: Beijing time to the second."""
        shown = beijing_text(ts_ms)
        return shown if self._index == 0 else f"{shown} UTC+8"

    def over_range(self, quantity: str) -> str:
        return f"{quantity}（超量程）" if self._index == 0 else f"{quantity} (over range)"

    def time_to_limit(self, seconds: float, level: str) -> str:
        """约25分钟后达到二级报警限值 / in about 25 min, its level-2 alarm limit."""
        minutes = seconds / 60
        if self._index == 0:
            within = f"约{round(minutes)}分钟" if minutes < 60 else f"约{minutes / 60:.1f}小时"
            return f"{within}后达到{self.severity('limit', level)}限值"
        within = f"about {round(minutes)} min" if minutes < 60 else f"about {minutes / 60:.1f} h"
        return f"in {within}, its {self.severity('limit', level)} limit"

    def actor(self, by: str, enterprise_name: str) -> str:
        """Who acted (``duty/王值班``, ``enterprise:<id>/李工``, ``town/灵溪镇值班 (lingxi)``) in words: the desk or the
        enterprise by name, then the officer."""
        who, _, officer = by.partition("/")
        if who == "town":        # a town's desk account: its name says which town
            return officer
        desk = self.tier(1) if who == "duty" else enterprise_name
        return f"{desk} {officer}".strip()

    def alarm_message(self, message: str, message_en: str) -> str:
        return message if self._index == 0 else message_en

    def group_title(self, severity: str, enterprise_name: str, count: int) -> str:
        return (f"【{severity}】{enterprise_name}：{count} 条报警" if self._index == 0
                else f"[{severity}] {enterprise_name}: {count} alarms")
