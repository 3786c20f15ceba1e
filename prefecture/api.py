"""The prefecture's HTTP API: its counties, their alarms as its record has them, and its officers' 签收 of an
alarm escalated to the prefecture, which goes down to the county (§11 ``down/{county}/action``). The same
server carries the desk's pages under ``/desk`` (``prefecture.desk``, its own sign-in).

Every API route needs a prefecture officer's bearer token (``prefecture_officer_tokens``); the officer's name
is the token's, so the county's record names who signed (``prefecture/<name>``). Counties are shown with
their names (``prefecture_counties``), as officers see them (§10).

    GET  /api/v1/prefecture/counties
    GET  /api/v1/prefecture/alarms[?county=ID&open=1&limit=N]
    GET  /api/v1/prefecture/alarms/{county}/{alarm}          the alarm, every version, the actions on it
    POST /api/v1/prefecture/alarms/{county}/{alarm}/ack      {"comment": "…"} → 202, the action as sent down
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from hazmon.http_error import json_error
from hazmon.settings import Settings

from prefecture.desk import PrefectureDesk
from prefecture.down import COMMENT_MAX, DownSender
from prefecture.figures import county_online
from prefecture.officers import Officers
from prefecture.record import ActionRefused, CountyRecord

RECORD = web.AppKey("record", CountyRecord)
DOWN = web.AppKey("down", DownSender)
SETTINGS = web.AppKey("settings", Settings)
OFFICER = web.RequestKey("officer", str)
ACTION_STATUS = {"unknown_alarm": 404, "not_escalated": 409, "closed": 409, "already_acknowledged": 409}


def build_app(settings: Settings, record: CountyRecord, down: DownSender) -> web.Application:
    officers = Officers(settings)

    @web.middleware
    async def bearer(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path == "/healthz" or request.path == "/desk" or request.path.startswith("/desk/"):
            return await handler(request)   # the desk's pages check their own sign-in (prefecture.desk)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        name = officers.named(token) if scheme.lower() == "bearer" else None
        if name is None:
            return json_error(401, "unauthorized", "缺少或无效的访问令牌 (missing or invalid bearer token)")
        request[OFFICER] = name
        return await handler(request)

    app = web.Application(middlewares=[bearer])
    app[RECORD], app[DOWN], app[SETTINGS] = record, down, settings
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/prefecture/counties", counties)
    app.router.add_get("/api/v1/prefecture/alarms", alarms)
    app.router.add_get("/api/v1/prefecture/alarms/{county}/{alarm}", alarm)
    app.router.add_post("/api/v1/prefecture/alarms/{county}/{alarm}/ack", ack)
    app.router.add_routes(PrefectureDesk(settings, record, down, officers).routes())
    return app


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _named(settings: Settings, alarm: dict, county: str) -> dict:
    return {**alarm, "county_name": settings.prefecture_counties.get(county, county)}


async def healthz(request: web.Request) -> web.Response:
    return _json({"ok": True})


async def counties(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    known = await request.app[RECORD].counties()
    now_ms = time.time_ns() // 1_000_000
    listing = []
    for county, name in sorted(settings.prefecture_counties.items()):
        entry = known.get(county, {})
        beat = entry.get("heartbeat") or {}
        beat_at = entry.get("heartbeat_at")
        listing.append({"county": county, "name": name, "heartbeat_at": beat_at,
                        "online": county_online(beat_at, now_ms),
                        "enterprises": beat.get("enterprises"), "points": beat.get("points"), "backlog": beat.get("backlog"),
                        "open_alarms": entry.get("open_alarms", 0),
                        "escalated_to_prefecture": entry.get("escalated_to_prefecture", 0)})
    return _json({"counties": listing})


async def alarms(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    county = request.query.get("county")
    try:
        limit = min(int(request.query.get("limit", "200")), 1000)
    except ValueError:
        return json_error(400, "bad_request", "limit must be a number")
    found = await request.app[RECORD].alarms(county, request.query.get("open") == "1", limit)
    return _json({"alarms": [_named(settings, a, a["county"]) for a in found]})


async def alarm(request: web.Request) -> web.Response:
    county, alarm_id = request.match_info["county"], request.match_info["alarm"]
    record = request.app[RECORD]
    found = await record.alarm(county, alarm_id)
    if found is None:
        return json_error(404, "unknown_alarm", "no such alarm in the prefecture's record")
    found["actions"] = await record.actions(county, alarm_id)
    return _json(_named(request.app[SETTINGS], found, county))


async def ack(request: web.Request) -> web.Response:
    """签收: recorded, then sent down by the DownSender; the county's next version of the alarm shows it."""
    county, alarm_id = request.match_info["county"], request.match_info["alarm"]
    try:
        body = await request.json(loads=orjson.loads)
    except ValueError:
        return json_error(400, "bad_request", "the body must be JSON")
    comment = body.get("comment", "") if isinstance(body, dict) else None
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        return json_error(400, "bad_request", f"comment: text of at most {COMMENT_MAX} characters")
    try:
        action = await request.app[DOWN].sign(county, alarm_id, request[OFFICER], comment)
    except ActionRefused as refused:
        return json_error(ACTION_STATUS[refused.code], refused.code, str(refused))
    down = action.down
    return _json({"id": down["id"], "county": county, "alarm": alarm_id, "action": down["action"], "by": down["by"],
                  "comment": down["comment"], "ts": down["ts"]}, status=202)
