"""Grafana annotations for confirmed alarms, sent through grafana-client to a local HTTP receiver."""

from __future__ import annotations

import pytest

from hazmon.settings import Settings

from alerting.clock import ManualClock
from testbed.alerting import CHEM, T0, Receiver, eventually, transition

pytestmark = pytest.mark.servers


async def test_confirmed_alarm_is_annotated_once(start_service, produce, names, alerting_settings: Settings) -> None:
    grafana = await Receiver(answer={"id": 1, "message": "Annotation added"}).start()
    try:
        settings = alerting_settings.model_copy(update={"grafana_url": grafana.url, "grafana_token": "glsa_test",
                                                        "alerting_webhooks": [], "alerting_dingtalk_urls": [],
                                                        "alerting_wecom_urls": []})
        service = await start_service(ManualClock(T0), settings=settings)
        await produce(names.transitions, [
            transition("g1", "raised", "TK01_LT", at=T0),
            transition("g1", "confirmed", "TK01_LT", at=T0 + 30_000, started_at=T0),
            transition("g1", "escalated", "TK01_LT", level="high_high", at=T0 + 60_000, started_at=T0),
        ])
        await eventually(lambda: service.book.get("g1") is not None and service.book.get("g1").level == "high_high")
        await eventually(lambda: len(grafana.bodies) == 1, what="one annotation")
        await service.stop()
    finally:
        await grafana.stop()
    assert grafana.paths == ["/api/annotations"]
    body = grafana.bodies[0]
    assert body["time"] == T0 + 30_000 and body["text"] == "1号储罐液位高报警"
    assert {"hazmon", f"enterprise:{CHEM}", "point:TK01_LT", "alarm:g1", "level:high"} <= set(body["tags"])
