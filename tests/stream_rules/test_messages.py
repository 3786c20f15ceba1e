"""§10: every rule's alarm texts, in both languages, name what they are about, carry units with every
value, say when (device time, Beijing) and use the desk's words, never internal codes."""

from __future__ import annotations

import re

import pytest

from hazmon.registry import Registry
from hazmon.wire import AlarmTransition, Quality
from tests.stream_rules.county import ENT, T0, Driver, controller_event, write_registry

CODES = re.compile(r"high_high|low_low|high_1h|high_24h|out_of_range|over_range|quality_bad|not_finite|device_event"
                   r"|no_data|_")
ZH_CODES = re.compile(r"\b(limit|vote|rainfall|trend|fault|offline|fire|rollup|platform|high|low|blue|yellow|orange|red)\b")
UNITS = {"LT": "m", "G1": "%LEL", "G2": "%LEL", "ZONE": "%LEL", "TR": "MPa", "RAIN": "mm", "D1": "mm"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return write_registry(tmp_path_factory.mktemp("registry"))


def every_rule(registry: Registry) -> list[AlarmTransition]:
    """At least one transition of each rule, from the engine itself."""
    out: list[AlarmTransition] = []
    driver = Driver(registry)
    driver.series("LT", [11, 11, 11, 11, 21, 21, 21, 21])                 # limit, escalated over range
    driver.series("G1", [30, 30], start_s=80)
    driver.step(100, {"G1": 30, "G2": 30})                              # vote
    driver.step(110, {"ST": 20}, {"ST": Quality.BAD})                   # fault
    out += driver.out + driver.engine.process(events=[controller_event("fire", 120)])
    trend = Driver(registry, devices=("RTU3",))
    trend.series("TR", [round(1.0 + 0.1 * i, 3) for i in range(16)], period_s=60)
    tailings = Driver(registry, devices=("GNSS",))
    for i in range(4):
        tailings.step(i * 300, {"D1": 45, "D2": 45, "D3": 45, "D4": 45, "RAIN": 20})   # rollup, rainfall
    silent = Driver(registry, devices=("RTU1", "RTU2", "RTU3"))
    for s in range(0, 1000, 10):
        silent.step(s)                                                   # GNSS offline
    outage = Driver(registry)
    outage.step(0)
    return out + trend.out + tailings.out + silent.out + outage.engine.tick(T0 + 600_000)   # platform


def test_every_rule_reads_in_the_desks_words_with_units_and_time(registry: Registry) -> None:
    transitions = every_rule(registry)
    assert {t["rule"] for t in transitions} >= {"limit", "vote", "rainfall", "trend", "fault", "offline", "fire",
                                                 "rollup", "platform"}
    for t in transitions:
        zh, en = t["message"], t["message_en"]
        assert not CODES.search(zh) and not ZH_CODES.search(zh), zh
        assert not CODES.search(en), en
        assert re.search(r"时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", zh) and "UTC+8" in en, (zh, en)
        if t["enterprise"] == ENT:
            assert zh.startswith("测试企业 ") and en.startswith("测试企业 "), zh
        unit = UNITS.get(t["point"])
        if unit and t["value"] is not None and t["rule"] != "trend":
            assert f"{t['value']:.6g} {unit}" in zh and f"{t['value']:.6g} {unit}" in en, zh
            if t["limit"] is not None:
                assert f"{t['limit']:.6g} {unit}" in zh, zh


def test_words_of_section_10(registry: Registry) -> None:
    by_rule = {}
    for t in every_rule(registry):
        by_rule.setdefault((t["rule"], t["transition"]), t["message"])
    assert "高限一级报警确认" in by_rule[("limit", "confirmed")]
    assert "超量程" in by_rule[("limit", "escalated")] and "高高限二级报警升级" in by_rule[("limit", "escalated")]
    assert "多点联动高限一级报警" in by_rule[("vote", "confirmed")]
    assert "超限测点 可燃气体浓度 1 30 %LEL、可燃气体浓度 2 30 %LEL" in by_rule[("vote", "confirmed")]
    assert "黄色预警" in by_rule[("rollup", "confirmed")] and "预警" in by_rule[("rainfall", "confirmed")]
    assert "设备故障" in by_rule[("fault", "raised")] and "设备离线" in by_rule[("offline", "raised")]
    assert "火警确认" in by_rule[("fire", "confirmed")] and "控制器信息：3F" in by_rule[("fire", "confirmed")]
    assert "平台数据中断" in by_rule[("platform", "raised")]
    trend = by_rule[("trend", "raised")]
    assert "趋势预警" in trend and "变化速率 6 MPa/h" in trend and "预计" in trend and "限值" in trend
    assert not any("签收" in m for m in by_rule.values())   # 签收 is the officer's word, never the rule's


def test_points_devices_and_groups_without_a_name_are_never_shown_by_id(registry: Registry) -> None:
    """§7 makes a point's name optional, §10 keeps ids from officers: the test registry names no point, so
    its points read as their quantity (numbered within the site), devices and groups by what they carry."""
    ids = {e.id for e in registry} | {e.point.device for e in registry} | {e.point.group for e in registry if e.point.group}
    pattern = re.compile("|".join(rf"(?<![A-Za-z0-9_]){re.escape(i)}(?![A-Za-z0-9_])" for i in sorted(ids, key=len, reverse=True)))
    said = {(t["rule"], t["point"] or t["device"]): (t["message"], t["message_en"]) for t in every_rule(registry)}
    for zh, en in said.values():
        assert not pattern.search(zh) and not pattern.search(en), (zh, en)
    assert said[("limit", "LT")][0].startswith("测试企业 储罐区 储罐液位：")
    assert said[("vote", "ZONE")][1].startswith("测试企业 储罐区 combustible gas group (combustible gas 1 and 1 more point): ")
    assert said[("offline", "GNSS")][0].startswith("测试企业 尾矿库 采集设备（降雨量等5个测点）：设备离线")
    assert said[("fire", "Z1")][0].startswith("测试企业 楼 火灾探测器：火警")
