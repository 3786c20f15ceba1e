"""The alarm page's rows (``alerting.alarm_view``), every rule in both languages: names and units,
never an internal code outside the folded details (§10); 超量程, a trend's rate and time to limit."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry
from hazmon.wire import PLATFORM_ENTERPRISE

from alerting.alarm_view import alarm_view
from alerting.model import Alarm
from alerting.text import Texts
from testbed.alerting import CHEM, T0

RULE_LEVELS = [("limit", "high_high"), ("limit", "low"), ("vote", "high"), ("rainfall", "high_1h"), ("trend", None),
               ("trend", "high_high"), ("fault", None), ("offline", None), ("fire", None), ("rollup", "red"),
               ("limit", "orange")]
CODES = (CHEM, "TF01", "TK01_LT", "RTU01", "high_high", "high_1h", "duty/", "enterprise:")
WORD_CODES = ("low", "limit", "trend", "vote", "rollup", "fault", "offline", "rainfall", "orange")   # English words too


def alarm(rule: str, level: str | None, **fields) -> Alarm:
    base = {"id": "v1", "enterprise": CHEM, "site": "TF01", "device": "RTU01", "point": "TK01_LT", "rule": rule,
            "level": level, "severity": 2, "value": 10.8, "limit": 10.5, "started_at": T0, "message": "报警",
            "message_en": "alarm", "reading_ts": T0 + 1000, "acked_by": f"enterprise:{CHEM}/李工", "acked_at": T0 + 5000,
            "escalation": 1}
    return Alarm(**{**base, **fields})


def shown(view: dict) -> str:
    return "\n".join(f"{row['label']}: {row['text']}" for row in view["rows"]) + "\n" + view["state"]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(("rule", "level"), RULE_LEVELS)
def test_every_rule_reads_in_names_and_units(named_registry: Registry, language: str, rule: str,
                                             level: str | None) -> None:
    view = alarm_view(alarm(rule, level), named_registry, Texts(language), None)   # type: ignore[arg-type]
    text = shown(view)
    codes = CODES + WORD_CODES if language == "zh" else CODES
    assert not [code for code in codes if code in text], text
    assert "10.8 m" in text and ("10.5 m" in text or "10.5 m/h" in text)
    assert "永顺县灵溪化工有限公司" in text and "1号储罐区" in text and "1号储罐液位" in text
    assert {d["field"] for d in view["details"]} >= {"id", "enterprise", "point", "rule"}   # the codes, folded


def test_the_platforms_outage_names_no_enterprise(named_registry: Registry) -> None:
    view = alarm_view(alarm("platform", None, enterprise=PLATFORM_ENTERPRISE, site="", device="", point="", value=None,
                            limit=None, acked_by=None), named_registry, Texts("zh"), None)
    assert [row["field"] for row in view["rows"]][:2] == ["message", "severity"]
    assert PLATFORM_ENTERPRISE not in shown(view) and "平台数据中断" in shown(view)


def test_over_range_trend_and_who_acted(named_registry: Registry) -> None:
    zh = Texts("zh")
    over = shown(alarm_view(alarm("fault", None, value=13.5, limit=None, extra={"reason": "over_range"}),
                            named_registry, zh, None))
    assert "数值: 13.5 m（超量程）" in over and "签收人: 永顺县灵溪化工有限公司 李工" in over
    assert "已上报至: 县应急管理局值班室" in over and "设备时间: 2025-11-29 08:40:01" in over
    rate = shown(alarm_view(alarm("trend", None, value=9.1, limit=0.3,
                                  extra={"slope_per_h": 0.42, "rate_per_h": 0.3}), named_registry, zh, None))
    assert "速率限值: 0.3 m/h" in rate and "变化速率: 0.42 m/h" in rate and "\n限值: " not in rate
    ahead = shown(alarm_view(alarm("trend", "high_high", value=10.15, extra={"slope_per_h": 0.42,
                                                                             "time_to_limit_s": 5400.0,
                                                                             "next_level": "high_high"}),
                             named_registry, zh, None))
    assert "预计达到限值: 约1.5小时后达到二级报警限值" in ahead


@pytest.mark.parametrize(("language", "device"), [("zh", "设备: 采集设备（1号储罐液位等6个测点）"),
                                                  ("en", "Device: data logger (1号储罐液位 and 5 more points)")])
def test_an_offline_device_by_what_it_reports_not_its_id(named_registry: Registry, language: str, device: str) -> None:
    view = alarm_view(alarm("offline", None, point="", value=None, limit=None), named_registry, Texts(language), None)
    text = shown(view)
    assert device in text and "RTU01" not in text, text
