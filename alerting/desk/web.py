"""The duty desk's sign-in, its session cookie, and the live alarm list's page and event stream.

A signed-in officer's browser carries one cookie (``hazmon_session``: HttpOnly, SameSite=Lax, Secure
behind https) and is then a caller of the same API as machines with bearer tokens
(:func:`session_auth` makes the :class:`~hazmon.secrets.Principal`); every request that changes
something must also carry the session's CSRF token in ``X-CSRF-Token`` (the desk's script sends
it) or is refused 403. The sign-in form itself is accepted only from this site's own pages
(``Origin``). ``/desk/events`` streams server-sent events: ``snapshot`` (the open alarms the
officer may see), then ``alarm`` per change, ``reload`` when the page fell too far behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware

from hazmon.registry import Registry
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.accounts import Accounts, Session
from alerting.desk.alarm_chart import alarm_chart_routes
from alerting.desk.feed import RELOAD, AlarmFeed
from alerting.desk.county_map import county_map_svg
from alerting.desk.enterprise import enterprise_routes
from alerting.desk.pages import desk_page, html, login_page, map_page
from alerting.desk.source import DESK_SESSION, DeskSource, signed_in
from alerting.desk.suppression import suppression_routes
from alerting.desk.view import ListItems
from alerting.model import Alarm

SESSION_COOKIE = "hazmon_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KEEPALIVE_S = 15.0
SNAPSHOT_CHUNK = 500      # alarms of a snapshot written before the service's other work gets its turn
ACCOUNTS = web.AppKey("desk_accounts", Accounts)
FEED = web.AppKey("desk_feed", AlarmFeed)
STATIC_DIR = Path(__file__).with_name("static")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def principal_of_session(session: Session, registry: Registry) -> Principal:
    """The API caller a desk account is: its role, scope, and its name for the alarm record."""
    account = session.account
    officer = f"{account.display_name} ({account.name})"
    towns = None
    if account.role == "town":
        towns = frozenset(e for e, doc in registry.enterprises.items() if doc.enterprise.town == account.town)
    return Principal(account.role, account.enterprise, officer, towns)


def _bearer(request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def session_auth(registry: Callable[[], Registry]) -> Middleware:
    """Middleware: a request without a bearer token and with a live session cookie is that officer's."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = request.cookies.get(SESSION_COOKIE)
        if token and not _bearer(request):
            session = await asyncio.to_thread(request.app[ACCOUNTS].session, token)
            if session is not None:
                if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session.csrf:
                    return web.json_response({"error": "csrf", "message": "页面已过期，请刷新 (stale page: reload it)"},
                                             status=403)
                request[DESK_SESSION] = session
                request[CALLER] = principal_of_session(session, registry())
        return await handler(request)

    return middleware


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is not None and urlsplit(origin).netloc == request.host


def _local_path(raw: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//elsewhere`` or a full URL)."""
    return raw if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else "/desk"


def desk_routes(source: DeskSource, secure_cookie: bool) -> list[web.AbstractRouteDef]:
    """The desk's routes: sign-in and out, the live list and its event stream, the county map, 屏蔽, the enterprise view."""
    language = source.language

    async def login_form(request: web.Request) -> web.Response:
        return html(login_page(language(), _local_path(request.query.get("next")), error=False))

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        target = _local_path(str(form.get("next", "")))
        if not _same_origin(request):
            raise web.HTTPForbidden(text="sign-in only from this site's own page")
        accounts = request.app[ACCOUNTS]
        account = await asyncio.to_thread(accounts.verify, str(form.get("name", "")), str(form.get("password", "")))
        if account is None:
            return html(login_page(language(), target, error=True), status=401)
        token, session = await asyncio.to_thread(accounts.open_session, account)
        response = web.HTTPSeeOther(target)
        response.set_cookie(SESSION_COOKIE, token, max_age=int(accounts.session_ms / 1000), httponly=True,
                            samesite="Lax", secure=secure_cookie, path="/")
        raise response

    async def logout(request: web.Request) -> web.Response:
        token = request.cookies.get(SESSION_COOKIE)
        if DESK_SESSION in request and token:
            await asyncio.to_thread(request.app[ACCOUNTS].close_session, token)
        response = web.HTTPSeeOther("/desk/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def desk(request: web.Request) -> web.Response:
        session = signed_in(request)
        return html(desk_page(language(), session.account, session.csrf, source.now_ms()))

    items = ListItems()

    async def events(request: web.Request) -> web.StreamResponse:
        signed_in(request)
        caller: Principal = request[CALLER]
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                             "X-Accel-Buffering": "no"})
        await stream.prepare(request)
        with request.app[FEED].subscribe() as changes:
            try:
                await _snapshot(stream, source.visible(caller))
                while True:
                    try:
                        async with asyncio.timeout(KEEPALIVE_S):
                            change = await changes.get()
                    except TimeoutError:
                        await stream.write(b": keepalive\n\n")
                        continue
                    if isinstance(change, str):   # RELOAD: this page fell too far behind
                        await stream.write(_event(RELOAD, None))
                        return stream
                    alarm, kind = change
                    if source.may_see(caller, alarm.enterprise):
                        item = items.item(alarm, source.registry(), source.texts())
                        await stream.write(b'event: alarm\ndata: {"change":' + orjson.dumps(kind) + b',"alarm":' + item
                                           + b"}\n\n")
            except ConnectionResetError:      # the page went away
                return stream

    async def _snapshot(stream: web.StreamResponse, alarms: list[Alarm]) -> None:
        """``snapshot``: the open alarms as one event, written :data:`SNAPSHOT_CHUNK` at a time, the service's other
        work (Kafka, the other pages) between them."""
        registry, texts = source.registry(), source.texts()
        await stream.write(b"event: snapshot\ndata: [")
        for start in range(0, len(alarms), SNAPSHOT_CHUNK):
            part = b",".join(items.item(a, registry, texts) for a in alarms[start:start + SNAPSHOT_CHUNK])
            await stream.write(b"," + part if start else part)
            await asyncio.sleep(0)
        await stream.write(b"]\n\n")

    async def county_map(request: web.Request) -> web.Response:
        session = signed_in(request)
        return html(map_page(language(), session.account, session.csrf, _map_svg(request)))

    async def county_map_image(request: web.Request) -> web.Response:
        signed_in(request)
        return web.Response(text=_map_svg(request), content_type="image/svg+xml", charset="utf-8")

    def _map_svg(request: web.Request) -> str:
        caller: Principal = request[CALLER]
        registry = source.registry()
        seen = [doc.enterprise for e, doc in registry.enterprises.items() if source.may_see(caller, e)]
        return county_map_svg(seen, source.risk_of, language(), registry.boundary)

    return [web.get("/desk/login", login_form), web.post("/desk/login", login), web.post("/desk/logout", logout),
            web.get("/desk", desk), web.get("/desk/events", events), web.get("/desk/map", county_map),
            web.get("/desk/map.svg", county_map_image), web.static("/desk/static", STATIC_DIR),
            *suppression_routes(source), *enterprise_routes(source),
            *alarm_chart_routes(source)]


def _event(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
