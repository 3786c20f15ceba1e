"""Handlers of the API (data standard §9) and the application that serves them."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
from aiohttp import web

from hazmon.registry import PointType
from hazmon.secrets import Principal
from hazmon.wire import AlarmAction

from alerting.alarm_view import alarm_view
from alerting.api.auth import (PRINCIPAL, TokenIndex, actor, bearer_auth, forbidden, json_error, may_act, may_see,
                                principal_of, watch_only)
from alerting.api.bodies import AckBody, BadRequest, CloseBody, SuppressBody, int_param, parse_body
from alerting.api.openapi import OPENAPI
from alerting.api.page import alarm_page
from alerting.api.paging import PageRefused, alarm_page as listing_page, decode_cursor, page_limit
from alerting.book import SUPPRESSION_MAX_MS
from alerting.desk.county_map import EnterpriseRisk
from alerting.desk.report_pdf import PdfFont
from alerting.desk.shift import HANDOVERS, shift_routes
from alerting.desk.source import DeskSource, DeskStores
from alerting.desk.view import desk_fields
from alerting.desk.web import ACCOUNTS, FEED, desk_routes, session_auth
from alerting.model import STATES, ActionRefused, Alarm
from alerting.service import AlertingService, suppression_json

SERVICE = web.AppKey("service", AlertingService)
STATIC_DIR = Path(__file__).with_name("static")


def _service(request: web.Request) -> AlertingService:
    return request.app[SERVICE]


async def healthz(request: web.Request) -> web.Response:
    """200 once the alarm log is folded and every loop runs; 503 while starting or when a loop died."""
    service = _service(request)
    caught_up, dead = service.log.caught_up.is_set(), service.dead_tasks()
    status = "failed" if dead else "ok" if caught_up else "starting"
    return web.json_response({"status": status, "caught_up": caught_up, "stopped_loops": dead},
                             status=200 if status == "ok" else 503)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def _json(body: dict) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def list_alarms(request: web.Request) -> web.Response:
    """§9 rev 1.1: newest first, ``limit`` (default 500, at most 5 000) and ``next``, the cursor of the following page."""
    principal = principal_of(request)
    state = request.query.get("state") or None
    enterprise = request.query.get("enterprise") or None
    if state is not None and state not in STATES:
        raise BadRequest("state", f"must be one of {', '.join(STATES)}")
    awaiting = request.query.get("awaiting_feedback") or None
    if awaiting not in (None, "true", "false"):
        raise BadRequest("awaiting_feedback", "must be true or false")
    since = int_param(request, "since")
    if enterprise is not None and not may_see(principal, enterprise):
        return forbidden()
    try:
        limit, cursor = page_limit(request.query.get("limit")), decode_cursor(request.query.get("cursor"))
    except PageRefused as refused:
        return refused.response()
    if principal.role == "enterprise":
        enterprise = principal.enterprise
    # a town's account: the ledger is asked by one enterprise only, so its closed history is per enterprise
    ledger_readable = principal.role != "town" or enterprise is not None

    def wanted(alarm: Alarm) -> bool:
        return ((enterprise is None or alarm.enterprise == enterprise) and may_see(principal, alarm.enterprise)
                and (state is None or alarm.state == state)
                and (since is None or alarm.started_at >= since)
                and (awaiting is None or alarm.awaiting_feedback == (awaiting == "true")))

    service = _service(request)
    closed_wanted = state in (None, "closed") and awaiting != "true" and ledger_readable
    alarms, next_cursor = await listing_page(service.book.newest_first(), wanted,
                                             service.ledger if closed_wanted else None, enterprise, since, cursor, limit)
    if service.book.suppressions:
        parts = b",".join(a.json_bytes(service.suppression_of(a)) for a in alarms)
    else:   # the usual case: every alarm's JSON as kept since its last change
        parts = b",".join(a.json_bytes(None) for a in alarms)
    return web.Response(body=b'{"alarms":[' + parts + b'],"next":' + orjson.dumps(next_cursor) + b"}",
                        content_type="application/json")


def _alarm_json(service: AlertingService, alarm: Alarm) -> dict:
    """One alarm as the API shows it, with ``view``: the alarm page's rows in the desk's words (§10)."""
    suppression = service.suppression_of(alarm)
    return {**alarm.to_json(suppression), "view": alarm_view(alarm, service.registry, service.texts, suppression)}


async def _visible_alarm(request: web.Request) -> tuple[Alarm | None, web.Response | None]:
    """The alarm of the path, from memory or the ledger; another enterprise's alarm is as missing as a missing one."""
    service = _service(request)
    alarm_id = request.match_info["alarm_id"]
    alarm = service.book.get(alarm_id) or await service.ledger.alarm(alarm_id)
    if alarm is None or not may_see(principal_of(request), alarm.enterprise):
        return None, json_error(404, "not_found", service.texts.refusal("not_found"))
    return alarm, None


async def get_alarm(request: web.Request) -> web.Response:
    """One alarm with its lifecycle from the ledger (``history``: transitions, acknowledgement, escalations, note)."""
    alarm, refusal = await _visible_alarm(request)
    if refusal is not None:
        return refusal
    assert alarm is not None
    service = _service(request)
    return _json({**_alarm_json(service, alarm), "history": await service.ledger.history(alarm.id)})


async def list_suppressions(request: web.Request) -> web.Response:
    """The suppressions (屏蔽) in force: point, reason, who set it, since when and until when."""
    principal = principal_of(request)
    service = _service(request)
    return _json({"suppressions": [suppression_json(s) for s in service.book.suppressions_at(service.clock.now_ms())
                                   if may_see(principal, s.enterprise)]})


def _action(principal: Principal, officer: str | None, enterprise: str, kind: str, service: AlertingService,
            **fields: str | int | None) -> AlarmAction:
    action = {"v": 1, "action_id": str(uuid.uuid4()), "action": kind, "enterprise": enterprise,
              "ts": service.clock.now_ms(), "by": actor(principal, officer)}
    action.update({k: v for k, v in fields.items() if v is not None})
    return action  # type: ignore[return-value]


async def _act(request: web.Request, action: AlarmAction) -> web.Response:
    service = _service(request)
    try:
        alarm = await service.act(action)
    except ActionRefused as refused:
        status = {"not_found": 404, "too_long": 422, "no_reason": 422}.get(refused.code, 409)
        return json_error(status, refused.code, refused.message)
    if alarm is None:
        return _json({"accepted": True, "action_id": action["action_id"]})
    return _json(_alarm_json(service, alarm))


async def _on_alarm(request: web.Request, kind: str, body_model: type[AckBody] | type[CloseBody]) -> web.Response:
    """Ack or close: the caller must see the alarm and may act, then the body must be valid, then the lifecycle decides."""
    alarm, refusal = await _visible_alarm(request)
    if refusal is not None:
        return refusal
    assert alarm is not None   # no refusal: the alarm is there and the caller may see it
    if not may_act(principal_of(request)):
        return watch_only()
    body = await parse_body(request, body_model)
    if alarm.id not in _service(request).book.alarms:   # closed and read from the ledger
        return json_error(409, "closed", _service(request).texts.refusal("closed"))
    fields = body.model_dump(exclude={"officer"})
    return await _act(request, _action(principal_of(request), body.officer, alarm.enterprise, kind, _service(request),
                                       alarm=alarm.id, **fields))


async def ack_alarm(request: web.Request) -> web.Response:
    return await _on_alarm(request, "ack", AckBody)


async def close_alarm(request: web.Request) -> web.Response:
    return await _on_alarm(request, "close", CloseBody)


async def suppress_point(request: web.Request) -> web.Response:
    """§8: the duty desk only, a reason, at most 72 h, never a fire detector; each refusal says which."""
    enterprise, point = request.match_info["enterprise_id"], request.match_info["point_id"]
    principal = principal_of(request)
    service = _service(request)
    if principal.role != "duty":   # §8: the duty desk only (a town's or the prefecture's account neither)
        return json_error(403, "duty_only", service.texts.refusal("duty_only"))
    entry = service.registry.point(enterprise, point)
    if entry is None:
        return json_error(404, "not_found", f"unknown point {enterprise}/{point}")
    if entry.point.type is PointType.FIRE_DETECTOR:
        return json_error(409, "fire_point", service.texts.refusal("fire_point"))
    try:
        body = await parse_body(request, SuppressBody)
    except BadRequest as bad:
        if bad.field == "reason":
            raise BadRequest("reason", service.texts.refusal("no_reason")) from None
        raise
    if body.expires_at - service.clock.now_ms() > SUPPRESSION_MAX_MS:
        raise BadRequest("expires_at", service.texts.refusal("too_long"))
    return await _act(request, _action(principal, body.officer, enterprise, "suppress", service,
                                       point=point, reason=body.reason, expires_at=body.expires_at))


async def enterprise_risk(request: web.Request) -> web.Response:
    enterprise = request.match_info["enterprise_id"]
    if not may_see(principal_of(request), enterprise):
        return forbidden()
    service = _service(request)
    if enterprise not in service.registry.enterprises:
        return json_error(404, "not_found", f"unknown enterprise {enterprise}")
    risk = service.risk.current(enterprise)
    ponds = [{"site": site, "color": c.color, "level": c.level, "active_alarms": c.active_alarms}
             for site, c in sorted(service.risk.ponds_of(enterprise).items())]
    return web.json_response({"enterprise": enterprise, "color": risk.color, "level": risk.level,
                              "active_alarms": risk.active_alarms, "tailings_ponds": ponds})


async def page(request: web.Request) -> web.Response:
    service = _service(request)
    return web.Response(text=alarm_page(request.match_info["alarm_id"], service.texts.language),
                        content_type="text/html", charset="utf-8")


@web.middleware
async def bad_request_as_422(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as bad:
        return bad.response()


def _desk_source(service: AlertingService) -> DeskSource:
    """The desk's view of ``service``: what it lists, pushes, maps and reports."""
    def alarm_json(alarm: Alarm) -> dict:
        return {**_alarm_json(service, alarm), **desk_fields(alarm, service.registry, service.texts)}

    def visible(principal: Principal) -> list[Alarm]:
        return [a for a in service.book.newest_first() if a.state != "closed" and may_see(principal, a.enterprise)]

    async def find_alarm(alarm_id: str) -> Alarm | None:
        return service.book.get(alarm_id) or await service.ledger.alarm(alarm_id)

    def risk_of(enterprise: str) -> EnterpriseRisk:
        risk = service.risk.current(enterprise)
        offline = {a.device for a in service.book.of_enterprise(enterprise)
                   if a.rule == "offline" and a.state in ("active", "acknowledged")}
        return EnterpriseRisk(risk.color if risk.active_alarms else "none", risk.active_alarms, len(offline))

    return DeskSource(language=lambda: service.texts.language, registry=lambda: service.registry,
                      now_ms=service.clock.now_ms, moment=service.texts.moment, visible=visible, alarm_json=alarm_json,
                      alarms_started=service.alarms_started, find_alarm=find_alarm, risk_of=risk_of, may_see=may_see, texts=lambda: service.texts,
                      suppressions=lambda: service.book.suppressions_at(service.clock.now_ms()),
                      readings=service.readings,
                      pdf_font=PdfFont(service.settings.desk_pdf_font, service.settings.desk_pdf_font_index))


async def _close_feed(app: web.Application) -> None:
    app[FEED].close()


def build_app(service: AlertingService, tokens: dict[str, Principal], desk: DeskStores | None = None) -> web.Application:
    """The API on ``service``; ``tokens`` (kept up to date through ``app[PRINCIPAL].tokens``) count for the
    enterprises of the service's current registry. With ``desk``, the duty desk too: officers signed in
    with a session cookie call the same API (alerting/desk)."""
    sessions = [session_auth(lambda: service.registry)] if desk is not None else []
    app = web.Application(middlewares=[*sessions, bearer_auth, bad_request_as_422])
    app[SERVICE] = service
    if desk is not None:
        app[ACCOUNTS], app[FEED], app[HANDOVERS] = desk.accounts, service.feed, desk.handovers
        app.on_shutdown.append(_close_feed)
        source = _desk_source(service)
        app.router.add_routes(desk_routes(source, secure_cookie=service.public_url.startswith("https:")))
        app.router.add_routes(shift_routes(source))
    app[PRINCIPAL] = TokenIndex(tokens, lambda: service.registry.enterprises)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/api/v1/alarms", list_alarms)
    app.router.add_get("/api/v1/alarms/{alarm_id}", get_alarm)
    app.router.add_post("/api/v1/alarms/{alarm_id}/ack", ack_alarm)
    app.router.add_post("/api/v1/alarms/{alarm_id}/close", close_alarm)
    app.router.add_get("/api/v1/enterprises/{enterprise_id}/risk", enterprise_risk)
    app.router.add_post("/api/v1/enterprises/{enterprise_id}/points/{point_id}/suppress", suppress_point)
    app.router.add_get("/api/v1/suppressions", list_suppressions)
    app.router.add_get("/alarms/{alarm_id}", page)
    app.router.add_static("/static/", STATIC_DIR)
    return app
