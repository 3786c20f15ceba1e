"""The live list's JSON of an alarm: words, not codes (§10), kept until the alarm changes, never kept once closed."""

from __future__ import annotations

import orjson

from hazmon.registry import Registry

from alerting.desk.view import ListItems
from alerting.model import Alarm
from alerting.text import Texts

CHEM = "91433127MA4CHEM001"


def _alarm(registry: Registry) -> Alarm:
    return Alarm(id="a1", enterprise=CHEM, site="TF01", device="RTU01", point="TK01_GAS2", rule="limit", level="high_high",
                 severity=2, value=30.0, limit=25.0, started_at=1_764_376_800_000, message="可燃气体浓度高高报警",
                 message_en="gas high-high")


def test_words_and_what_the_page_filters_by(registry: Registry) -> None:
    item = orjson.loads(ListItems().item(_alarm(registry), registry, Texts("zh")))
    assert item["rows"] == {"message": "可燃气体浓度高高报警", "severity": "二级报警", "enterprise": "永顺县灵溪化工有限公司",
                            "site": "1号储罐区", "point": "2号可燃气体探测器", "started_at": "2025-11-29 08:40:00"}
    assert (item["id"], item["state"], item["sound"], item["desk"]["state"]) == ("a1", "active", True, "未签收")


def test_kept_until_the_alarm_changes_and_never_once_closed(registry: Registry) -> None:
    items, texts, alarm = ListItems(), Texts("zh"), _alarm(registry)
    first = items.item(alarm, registry, texts)
    alarm.acked_at, alarm.acked_by = 1_764_376_860_000, "duty/王值班"
    assert items.item(alarm, registry, texts) is first                 # same revision: the kept bytes
    alarm.revision += 1
    assert orjson.loads(items.item(alarm, registry, texts))["state"] == "acknowledged"
    alarm.closed_at, alarm.revision = 1_764_376_900_000, alarm.revision + 1
    assert orjson.loads(items.item(alarm, registry, texts))["state"] == "closed"
    assert alarm.id not in items._items                                # noqa: SLF001 - the closed alarm is let go
