"""Words on the duty desk (data standard §10) for what every desk shows of an alarm and a risk: one home for
the county's and the prefecture's desks (the prefecture's is Simplified Chinese only). Officers see these
words, never the codes they stand for (``active``, ``red``, ``prefecture``)."""

from __future__ import annotations

ALARM_STATES = {"active": "未签收", "acknowledged": "已签收", "cleared": "已恢复", "closed": "已关闭"}
AWAITING_FEEDBACK = "待反馈"   # cleared by the data before anyone signed for it (§8)
RISK_COLOURS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TIERS = {"enterprise": "企业", "county": "县应急管理局值班室", "prefecture": "州应急管理局"}   # escalation steps
