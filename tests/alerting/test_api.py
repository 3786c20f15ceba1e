"""Every API endpoint with right and wrong tokens, on a service folding the real Kafka log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hazmon.secrets import Principal

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.service import AlertingService
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition

pytestmark = pytest.mark.servers
DUTY = {"Authorization": f"Bearer {DUTY_TOKEN}"}
CHEM_TOKEN = {"Authorization": f"Bearer token-{CHEM}"}
FIRE_TOKEN = {"Authorization": f"Bearer token-{FIRE}"}


@pytest.fixture
async def api(start_service, produce, names, tokens: dict[str, Principal]) -> AsyncIterator[tuple[TestClient, AlertingService]]:
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [
        transition("c1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
        transition("c2", "confirmed", "TK01_PT", level="high", at=T0 + 1000),
        transition("f1", "confirmed", "BLD1_TANK", level="low", value=1.9, limit=2.0, at=T0 + 2000),
    ])
    await eventually(lambda: len(service.book.alarms) == 3, what="three alarms folded")
    async with TestClient(TestServer(build_app(service, tokens))) as client:
        yield client, service


async def test_openapi_and_health_need_no_token(api) -> None:
    client, _ = api
    health = await client.get("/healthz")
    assert health.status == 200 and await health.json() == {"status": "ok", "caught_up": True, "stopped_loops": []}
    ticks = next(t for t in asyncio.all_tasks() if t.get_name() == "alarm-ticks")
    ticks.cancel()
    await asyncio.gather(ticks, return_exceptions=True)
    failed = await client.get("/healthz")
    assert failed.status == 503 and (await failed.json())["stopped_loops"] == ["alarm-ticks"]
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/api/v1/alarms", "/api/v1/alarms/{alarm_id}/ack", "/api/v1/alarms/{alarm_id}/close",
            "/api/v1/enterprises/{enterprise_id}/risk"} <= set(document["paths"])


async def test_list_alarms_by_role_and_filters(api) -> None:
    client, _ = api
    assert (await client.get("/api/v1/alarms")).status == 401
    assert (await client.get("/api/v1/alarms", headers={"Authorization": "Bearer wrong"})).status == 401
    every = await (await client.get("/api/v1/alarms", headers=DUTY)).json()
    assert [a["id"] for a in every["alarms"]] == ["f1", "c2", "c1"]
    first = every["alarms"][2]
    assert {k: first[k] for k in ("enterprise", "site", "point", "device", "rule", "level", "state", "value", "limit",
                                  "started_at", "message")} == {
        "enterprise": CHEM, "site": "TF01", "point": "TK01_LT", "device": "RTU01", "rule": "limit", "level": "high_high",
        "state": "active", "value": 10.8, "limit": 10.5, "started_at": T0, "message": "1号储罐液位高报警"}
    own = await (await client.get("/api/v1/alarms", headers=CHEM_TOKEN)).json()
    assert sorted(a["id"] for a in own["alarms"]) == ["c1", "c2"]
    assert (await client.get(f"/api/v1/alarms?enterprise={FIRE}", headers=CHEM_TOKEN)).status == 403
    since = await (await client.get(f"/api/v1/alarms?since={T0 + 1000}&enterprise={CHEM}", headers=DUTY)).json()
    assert [a["id"] for a in since["alarms"]] == ["c2"]
    bad = await client.get("/api/v1/alarms?state=burning", headers=DUTY)
    assert bad.status == 422 and (await bad.json())["field"] == "state"
    bad = await client.get("/api/v1/alarms?since=yesterday", headers=DUTY)
    assert bad.status == 422 and (await bad.json())["field"] == "since"


async def test_get_ack_and_close_with_right_and_wrong_tokens(api, produce, names) -> None:
    client, service = api
    assert (await client.get("/api/v1/alarms/c1")).status == 401
    other = await client.get("/api/v1/alarms/c1", headers=FIRE_TOKEN)   # another enterprise's alarm: as if missing
    missing = await client.get("/api/v1/alarms/nope", headers=DUTY)
    assert other.status == missing.status == 404 and await other.json() == await missing.json()
    assert (await (await client.get("/api/v1/alarms/c1", headers=CHEM_TOKEN)).json())["id"] == "c1"

    assert (await client.post("/api/v1/alarms/c1/ack", json={"comment": "x"})).status == 401
    assert (await client.post("/api/v1/alarms/c1/ack", json={"comment": "x"}, headers=FIRE_TOKEN)).status == 404
    for body, field in (({}, "comment"), ({"comment": ""}, "comment"), ({"comment": 5}, "comment"), ([1], "body")):
        bad = await client.post("/api/v1/alarms/c1/ack", json=body, headers=CHEM_TOKEN)
        assert bad.status == 422 and (await bad.json())["field"] == field, body
    broken = await client.post("/api/v1/alarms/c1/ack", data=b"{not json", headers=CHEM_TOKEN)
    assert broken.status == 422 and (await broken.json())["field"] == "body"
    acked = await client.post("/api/v1/alarms/c1/ack", json={"comment": "已到场", "officer": "李四"}, headers=CHEM_TOKEN)
    body = await acked.json()
    assert acked.status == 200 and (body["state"], body["acked_by"]) == ("acknowledged", f"enterprise:{CHEM}/李四")
    again = await client.post("/api/v1/alarms/c1/ack", json={"comment": "again"}, headers=DUTY)
    assert again.status == 409 and (await again.json())["error"] == "already_acknowledged"

    assert (await client.post("/api/v1/alarms/c1/close", json={"note": "x"}, headers=FIRE_TOKEN)).status == 404
    bad = await client.post("/api/v1/alarms/c1/close", json={"cause": "x"}, headers=DUTY)
    assert bad.status == 422 and (await bad.json())["field"] == "note"
    refused = await client.post("/api/v1/alarms/c1/close", json={"note": "处置完毕"}, headers=DUTY)
    assert refused.status == 409 and (await refused.json())["error"] == "still_active"
    await produce(names.transitions, [transition("c1", "cleared", "TK01_LT", level="high_high", at=T0 + 50_000)])
    await eventually(lambda: service.book.get("c1").state == "cleared", what="cleared")
    free_text = await client.post("/api/v1/alarms/c1/close", json={"note": "处置完毕", "cause": "阀门内漏"}, headers=DUTY)
    assert free_text.status == 422 and (await free_text.json())["field"] == "cause"   # one of the five causes
    closed = await client.post("/api/v1/alarms/c1/close", json={"note": "处置完毕，阀门内漏", "cause": "device_fault"},
                               headers=DUTY)
    assert closed.status == 200 and (await closed.json())["state"] == "closed"
    listed = await (await client.get("/api/v1/alarms?state=closed", headers=DUTY)).json()
    assert [a["id"] for a in listed["alarms"]] == ["c1"]


async def test_enterprise_risk_and_suppression(api) -> None:
    client, _ = api
    assert (await client.get(f"/api/v1/enterprises/{CHEM}/risk")).status == 401
    assert (await client.get(f"/api/v1/enterprises/{CHEM}/risk", headers=FIRE_TOKEN)).status == 403
    assert (await client.get("/api/v1/enterprises/nobody/risk", headers=DUTY)).status == 404
    risk = await (await client.get(f"/api/v1/enterprises/{CHEM}/risk", headers=CHEM_TOKEN)).json()
    assert {k: risk[k] for k in ("enterprise", "color", "level", "active_alarms")} == {
        "enterprise": CHEM, "color": "red", "level": 3, "active_alarms": 2}
    quiet = await (await client.get(f"/api/v1/enterprises/{MINE}/risk", headers=DUTY)).json()
    assert (quiet["color"], quiet["level"], quiet["active_alarms"], quiet["tailings_ponds"]) == ("blue", 0, 0, [])

    url = f"/api/v1/enterprises/{CHEM}/points/TK01_PT/suppress"
    body = {"reason": "压力变送器检修", "expires_at": T0 + 3_600_000}
    assert (await client.post(url, json=body)).status == 401
    assert (await client.post(url, json=body, headers=FIRE_TOKEN)).status == 403
    bad = await client.post(url, json={"expires_at": T0 + 3_600_000}, headers=DUTY)
    assert bad.status == 422 and (await bad.json())["field"] == "reason"
    expired = await client.post(url, json={"reason": "x", "expires_at": T0}, headers=DUTY)
    assert expired.status == 409
    assert (await client.post(url, json=body, headers=DUTY)).status == 200
    shown = await (await client.get("/api/v1/alarms/c2", headers=DUTY)).json()
    assert shown["suppressed"] is True
