"""The prefecture's duty desk (``/desk``, served by ``hazmon prefecture run`` next to its API): its officers
sign in with the credential the API takes (their token in ``prefecture_officer_tokens``), see every county's
figures, the alarms escalated to the prefecture with names, and each county's enterprises by risk colour, and
sign for an escalated alarm through the same path as the API (``DownSender.sign``).

A sign-in opens a server-side session of ``desk_session_h`` (held in memory: a restart signs everyone out);
the browser holds only its random id (cookie ``hazmon_prefecture_session``: HttpOnly, SameSite=Strict,
Secure when ``prefecture_public_url`` is https). The sign-in form is taken only from this site's own pages
(``Origin``), every form that changes something carries the session's CSRF token, and the pages run no
script (``Content-Security-Policy``). The API itself still takes bearer tokens only, never the cookie.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from hazmon.officer_time import BEIJING, beijing
from hazmon.settings import Settings

from prefecture.desk_pages import AlarmRow, CountyRow, EnterpriseRow, county_page, login_page, overview_page
from prefecture.down import COMMENT_MAX, DownSender
from prefecture.figures import county_figures
from prefecture.officers import Officers
from prefecture.record import ActionRefused, CountyRecord

SESSION_COOKIE = "hazmon_prefecture_session"
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'; base-uri 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class DeskSession:
    officer: str
    csrf: str
    expires_ms: int


class DeskSessions:
    """Signed-in officers by session id, each until ``hours`` after its sign-in."""

    def __init__(self, hours: float) -> None:
        self._ms = int(hours * 3_600_000)
        self._open: dict[str, DeskSession] = {}

    def open(self, officer: str) -> tuple[str, DeskSession]:
        now = time.time_ns() // 1_000_000
        self._open = {sid: s for sid, s in self._open.items() if s.expires_ms > now}
        sid = secrets.token_urlsafe(32)
        self._open[sid] = DeskSession(officer, secrets.token_urlsafe(32), now + self._ms)
        return sid, self._open[sid]

    def get(self, sid: str | None) -> DeskSession | None:
        session = self._open.get(sid) if sid else None
        return session if session is not None and session.expires_ms > time.time_ns() // 1_000_000 else None

    def close(self, sid: str) -> None:
        self._open.pop(sid, None)

    @property
    def seconds(self) -> int:
        return self._ms // 1000


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is not None and urlsplit(origin).netloc == request.host


def _day(raw: str | None, now_ms: int) -> tuple[str, int, int]:
    """The Beijing day asked for (``YYYY-MM-DD``, today when absent or not a date) and its bounds in ms."""
    try:
        start = datetime.strptime(raw or "", "%Y-%m-%d").replace(tzinfo=BEIJING)
    except ValueError:
        start = beijing(now_ms).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%d"), int(start.timestamp() * 1000), int((start + timedelta(days=1)).timestamp() * 1000)


class PrefectureDesk:
    def __init__(self, settings: Settings, record: CountyRecord, down: DownSender, officers: Officers) -> None:
        self._counties = settings.prefecture_counties
        self._record = record
        self._down = down
        self._officers = officers
        self._sessions = DeskSessions(settings.desk_session_h)
        public = settings.prefecture_public_url or ""
        self._secure_cookie = public.startswith("https:")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/desk/login", self.login_form), web.post("/desk/login", self.login),
                web.post("/desk/logout", self.logout), web.get("/desk", self.overview),
                web.get("/desk/counties/{county}", self.county),
                web.post("/desk/alarms/{county}/{alarm}/ack", self.ack)]

    def _session(self, request: web.Request) -> DeskSession:
        session = self._sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise web.HTTPSeeOther("/desk/login")
        return session

    async def _form_of(self, request: web.Request) -> tuple[DeskSession, dict[str, str]]:
        """The signed-in officer's form; 403 without this session's CSRF token."""
        session = self._session(request)
        form = {key: str(value) for key, value in (await request.post()).items()}
        if not secrets.compare_digest(form.get("csrf", "").encode(), session.csrf.encode()):
            raise web.HTTPForbidden(text="页面已过期，请刷新 (stale page: reload it)")
        return session, form

    async def login_form(self, request: web.Request) -> web.Response:
        return _html(login_page(error=False))

    async def login(self, request: web.Request) -> web.Response:
        if not _same_origin(request):
            raise web.HTTPForbidden(text="sign-in only from this site's own page")
        officer = self._officers.named(str((await request.post()).get("token", "")))
        if officer is None:
            return _html(login_page(error=True), status=401)
        sid, _ = self._sessions.open(officer)
        response = web.HTTPSeeOther("/desk")
        response.set_cookie(SESSION_COOKIE, sid, max_age=self._sessions.seconds, httponly=True, samesite="Strict",
                            secure=self._secure_cookie, path="/desk")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        await self._form_of(request)
        self._sessions.close(request.cookies.get(SESSION_COOKIE, ""))
        response = web.HTTPSeeOther("/desk/login")
        response.del_cookie(SESSION_COOKIE, path="/desk")
        raise response

    async def ack(self, request: web.Request) -> web.Response:
        session, form = await self._form_of(request)
        county, alarm_id = request.match_info["county"], request.match_info["alarm"]
        comment = form.get("comment", "").strip()
        outcome = {"signed": "1"}
        if len(comment) > COMMENT_MAX:
            outcome = {"refused": "bad_comment"}
        else:
            try:
                await self._down.sign(county, alarm_id, session.officer, comment)
            except ActionRefused as refused:
                outcome = {"refused": refused.code}
        raise web.HTTPSeeOther(f"/desk?{urlencode(outcome)}")

    async def _county_row(self, county: str, known: dict, day_start: int, day_end: int, now_ms: int
                          ) -> tuple[CountyRow, dict | None]:
        """The county's row of figures, and its registry summary (None before its first)."""
        entry = known.get(county, {})
        registry = await self._record.registry(county)
        alarms = await self._record.alarms_changed_since(county, day_start)
        figures = county_figures(registry, entry.get("heartbeat_at"), alarms, day_start, day_end, now_ms)
        beat = entry.get("heartbeat") or {}
        row = CountyRow(county, self._counties[county], figures, entry.get("heartbeat_at"), entry.get("open_alarms", 0),
                        entry.get("escalated_to_prefecture", 0), beat.get("backlog"))
        return row, registry

    def _alarm_row(self, county: str, alarm: dict, registry: dict | None, own_ack: dict | None) -> AlarmRow:
        enterprise = next((e for e in (registry or {}).get("enterprises", []) if e["id"] == alarm["enterprise"]), None)
        if enterprise is None:
            return AlarmRow(county, self._counties.get(county, ""), alarm, "", "", own_ack)
        site = next((s["name"] for s in enterprise["sites"] if s["id"] == alarm["site"]), "")
        return AlarmRow(county, self._counties.get(county, ""), alarm, enterprise["name"], site, own_ack)

    @staticmethod
    def _notice(request: web.Request) -> tuple[str | None, str | None]:
        signed = "已签收，正在下发至县平台；县平台回执后显示签收人" if request.query.get("signed") else None
        return signed, request.query.get("refused")

    async def overview(self, request: web.Request) -> web.Response:
        session = self._session(request)
        now_ms = time.time_ns() // 1_000_000
        day, start, end = _day(request.query.get("day"), now_ms)
        known = await self._record.counties()
        rows, registries = [], {}
        for county in sorted(self._counties):
            row, registries[county] = await self._county_row(county, known, start, end, now_ms)
            rows.append(row)
        escalated = [self._alarm_row(county, alarm, registries.get(county), own)
                     for county, alarm, own in await self._record.escalated_open() if county in self._counties]
        return _html(overview_page(session.officer, session.csrf, day, rows, escalated, *self._notice(request)))

    async def county(self, request: web.Request) -> web.Response:
        session = self._session(request)
        county = request.match_info["county"]
        if county not in self._counties:
            raise web.HTTPNotFound(text="没有这个县 (unknown county)")
        now_ms = time.time_ns() // 1_000_000
        day, start, end = _day(request.query.get("day"), now_ms)
        row, registry = await self._county_row(county, await self._record.counties(), start, end, now_ms)
        colours = {r["enterprise"]: r for r in await self._record.risk(county)}
        ranked = []
        for e in (registry or {}).get("enterprises", []):
            risk = colours.get(e["id"], {})   # none yet: blue, as the county sends an enterprise not coloured yet
            ranked.append((-risk.get("level", 0), e["name"], EnterpriseRow(
                e["name"], e["town"], risk.get("color", "blue"), risk.get("active_alarms", 0),
                risk.get("ts") or None)))   # RISK_NO_TIME: a blue without a time of its own
        enterprises = [row for *_, row in sorted(ranked, key=lambda r: r[:2])]
        open_alarms = await self._record.alarms(county, open_only=True, limit=500)
        own = {alarm["id"]: ack for c, alarm, ack in await self._record.escalated_open() if c == county}
        alarms = [self._alarm_row(county, a, registry, own.get(a["id"])) for a in open_alarms]
        return _html(county_page(session.officer, session.csrf, day, row, enterprises, alarms, *self._notice(request)))
