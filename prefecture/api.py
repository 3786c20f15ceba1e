"""The prefecture's HTTP API: its counties, their alarms as its record has them, and its officers' 签收 of an
alarm escalated to the prefecture, which goes down to the county (§11 ``down/{county}/action``).

Every route needs a prefecture officer's bearer token (``prefecture_officer_tokens``); the officer's name
is the token's, so the county's record names who signed (``prefecture/<name>``). Counties are shown with
their names (``prefecture_counties``), as officers see them (§10).

    GET  /api/v1/prefecture/counties
    GET  /api/v1/prefecture/alarms[?county=ID&open=1&limit=N]
    GET  /api/v1/prefecture/alarms/{county}/{alarm}          the alarm, every version, the actions on it
    POST /api/v1/prefecture/alarms/{county}/{alarm}/ack      {"comment": "…"} → 202, the action as sent down
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from hazmon.errors import UserError
from hazmon.http_error import json_error
from hazmon.settings import Settings

from prefecture.down import DownSender
from prefecture.record import ActionRefused, CountyRecord

OFFICER_NAME = re.compile(r"^[^\x00-\x1f/]{1,64}$")   # as the county takes it (uplink.messages)
COMMENT_MAX = 1000
ONLINE_S = 180   # a county whose heartbeat (every 60 s) is older than this is shown offline
RECORD = web.AppKey("record", CountyRecord)
DOWN = web.AppKey("down", DownSender)
SETTINGS = web.AppKey("settings", Settings)
OFFICER = web.RequestKey("officer", str)
ACTION_STATUS = {"unknown_alarm": 404, "not_escalated": 409, "closed": 409, "already_acknowledged": 409}


def officer_index(settings: Settings) -> dict[str, str]:
    """Token → officer name; UserError for a name the county would refuse."""
    for name in settings.prefecture_officer_tokens:
        if not OFFICER_NAME.match(name):
            raise UserError(f"prefecture officer name {name!r}: 1-64 characters, no '/' or control characters")
    return {token: name for name, token in settings.prefecture_officer_tokens.items()}


def build_app(settings: Settings, record: CountyRecord, down: DownSender) -> web.Application:
    officers = officer_index(settings)

    @web.middleware
    async def bearer(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        name = next((officers[t] for t in officers if secrets.compare_digest(t, token.strip())), None) \
            if scheme.lower() == "bearer" else None
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
                        "online": beat_at is not None and now_ms - beat_at <= ONLINE_S * 1000,
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
        action = await request.app[RECORD].take_ack(f"pa-{secrets.token_hex(8)}", county, alarm_id, request[OFFICER],
                                                    comment, time.time_ns() // 1_000_000)
    except ActionRefused as refused:
        return json_error(ACTION_STATUS[refused.code], refused.code, str(refused))
    request.app[DOWN].wake()
    down = action.down
    return _json({"id": down["id"], "county": county, "alarm": alarm_id, "action": down["action"], "by": down["by"],
                  "comment": down["comment"], "ts": down["ts"]}, status=202)
