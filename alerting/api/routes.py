"""Handlers of the API (data standard §9) and the application that serves them."""

from __future__ import annotations

import uuid
from pathlib import Path

from aiohttp import web

from hazmon.secrets import Principal

from alerting.api.auth import PRINCIPAL, actor, bearer_auth, forbidden, json_error, may_see, principal_of
from alerting.api.bodies import AckBody, BadRequest, CloseBody, SuppressBody, int_param, parse_body
from alerting.api.openapi import OPENAPI
from alerting.api.page import alarm_page
from alerting.model import STATES, ActionRefused, AlarmAction
from alerting.service import AlertingService

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


async def list_alarms(request: web.Request) -> web.Response:
    principal = principal_of(request)
    state = request.query.get("state") or None
    enterprise = request.query.get("enterprise") or None
    if state is not None and state not in STATES:
        raise BadRequest("state", f"must be one of {', '.join(STATES)}")
    since = int_param(request, "since")
    if enterprise is not None and not may_see(principal, enterprise):
        return forbidden()
    service = _service(request)
    now_ms = service.clock.now_ms()
    alarms = [a for a in service.book.alarms.values()
              if may_see(principal, a.enterprise) and (enterprise is None or a.enterprise == enterprise)
              and (state is None or a.state == state) and (since is None or a.started_at >= since)]
    alarms.sort(key=lambda a: a.started_at, reverse=True)
    return web.json_response({"alarms": [a.to_json(service.book.is_suppressed(a, now_ms)) for a in alarms]})


def _visible_alarm(request: web.Request):
    service = _service(request)
    alarm = service.book.get(request.match_info["alarm_id"])
    if alarm is None:
        return None, json_error(404, "not_found", service.texts.refusal("not_found"))
    if not may_see(principal_of(request), alarm.enterprise):
        return None, forbidden()
    return alarm, None


async def get_alarm(request: web.Request) -> web.Response:
    alarm, refusal = _visible_alarm(request)
    if refusal is not None:
        return refusal
    service = _service(request)
    return web.json_response(alarm.to_json(service.book.is_suppressed(alarm, service.clock.now_ms())))


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
        status = 404 if refused.code == "not_found" else 409
        return json_error(status, refused.code, refused.message)
    if alarm is None:
        return web.json_response({"accepted": True, "action_id": action["action_id"]})
    return web.json_response(alarm.to_json(service.book.is_suppressed(alarm, service.clock.now_ms())))


async def _on_alarm(request: web.Request, kind: str, body_model: type[AckBody] | type[CloseBody]) -> web.Response:
    """Ack or close: the caller must see the alarm, then the body must be valid, then the lifecycle decides."""
    alarm, refusal = _visible_alarm(request)
    if refusal is not None:
        return refusal
    body = await parse_body(request, body_model)
    fields = body.model_dump(exclude={"officer"})
    return await _act(request, _action(principal_of(request), body.officer, alarm.enterprise, kind, _service(request),
                                       alarm=alarm.id, **fields))


async def ack_alarm(request: web.Request) -> web.Response:
    return await _on_alarm(request, "ack", AckBody)


async def close_alarm(request: web.Request) -> web.Response:
    return await _on_alarm(request, "close", CloseBody)


async def suppress_point(request: web.Request) -> web.Response:
    enterprise, point = request.match_info["enterprise_id"], request.match_info["point_id"]
    principal = principal_of(request)
    if not may_see(principal, enterprise):
        return forbidden()
    service = _service(request)
    if service.registry.point(enterprise, point) is None:
        return json_error(404, "not_found", f"unknown point {enterprise}/{point}")
    body = await parse_body(request, SuppressBody)
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


def build_app(service: AlertingService, tokens: dict[str, Principal]) -> web.Application:
    app = web.Application(middlewares=[bearer_auth, bad_request_as_422])
    app[SERVICE] = service
    app[PRINCIPAL] = tokens
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/api/v1/alarms", list_alarms)
    app.router.add_get("/api/v1/alarms/{alarm_id}", get_alarm)
    app.router.add_post("/api/v1/alarms/{alarm_id}/ack", ack_alarm)
    app.router.add_post("/api/v1/alarms/{alarm_id}/close", close_alarm)
    app.router.add_get("/api/v1/enterprises/{enterprise_id}/risk", enterprise_risk)
    app.router.add_post("/api/v1/enterprises/{enterprise_id}/points/{point_id}/suppress", suppress_point)
    app.router.add_get("/alarms/{alarm_id}", page)
    app.router.add_static("/static/", STATIC_DIR)
    return app
