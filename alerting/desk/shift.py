"""The shift's records on the desk: 交接班 (``/desk/handover``) and 值班日报 (``/desk/report?day=YYYY-MM-DD``).

The daily report is one printable page of a Beijing-time day: the 考核指标 of the county, each
town and each enterprise (alerting/desk/assessment.py), 联网率 and 在线率 of the county and each town
(alerting/desk/connectivity.py, from InfluxDB), every alarm that started that day with
how it was handled, and the day's handovers. Browsers print it, or save it as a PDF file, as it
is (print styles hide the navigation).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from html import escape

from aiohttp import web

from hazmon.officer_time import BEIJING, beijing
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.accounts import Session
from alerting.desk.assessment import Figures, assess
from alerting.desk.connectivity import connectivity
from alerting.desk.handover import Handover, HandoverRefused, Handovers
from alerting.desk.pages import framed, html
from alerting.desk.readings import InfluxUnavailable
from alerting.desk.source import DeskSource, signed_in
from alerting.model import Alarm

DAY_MS = 86_400_000
HANDOVERS = web.AppKey("desk_handovers", Handovers)
WORDS = {
    "zh": {"handover": "交接班", "give": "交班", "take": "签收交接", "note": "交接说明", "given": "交班", "taken": "接班",
           "pending": "待签收的交接", "none_pending": "没有待签收的交接", "open_items": "交接时未关闭的报警",
           "report": "值班日报", "figures": "考核指标", "county": "全县", "town": "乡镇", "enterprise": "企业",
           "alarms": "报警数", "sign_rate": "签收及时率（5分钟内）", "disposal_rate": "处置率", "false_rate": "误报率",
           "to_sign": "平均签收用时（分钟）", "to_close": "平均处置用时（分钟）", "time": "报警时间", "content": "报警内容",
           "severity": "级别", "state": "状态", "handling": "签收 / 处置", "print": "打印或另存为 PDF", "day": "日期",
           "no_alarms": "当日无报警", "connectivity": "联网与在线", "network_rate": "联网率（当日有读数的点位）", "online_rate": "在线率",
           "enterprises_sending": "联网企业", "connectivity_note": "在线：最近读数不超过 3 个上报周期；在线率按此时刻计",
           "unavailable": "联网率、在线率暂不可用（InfluxDB 无响应）", "not_enterprise": "交接班在值班室之间进行，企业账号不参与"},
    "en": {"handover": "Shift handover", "give": "Hand over", "take": "Take over", "note": "Note", "given": "Handed over",
           "taken": "Taken over", "pending": "Handover waiting", "none_pending": "No handover waiting",
           "open_items": "Alarms open at the handover", "report": "Daily duty report", "figures": "Assessment figures",
           "county": "County", "town": "Town", "enterprise": "Enterprise", "alarms": "Alarms",
           "sign_rate": "Signed within 5 min", "disposal_rate": "Closed with a note", "false_rate": "False alarms",
           "to_sign": "Mean minutes to sign", "to_close": "Mean minutes to close", "time": "Raised", "content": "Alarm",
           "severity": "Level", "state": "State", "handling": "Signed / closed", "print": "Print or save as PDF",
           "day": "Day", "no_alarms": "No alarms that day", "connectivity": "Sending and online", "network_rate": "Points sending that day",
           "online_rate": "Points online", "enterprises_sending": "Enterprises sending",
           "connectivity_note": "Online: last reading at most 3 periods old; counted at",
           "unavailable": "Sending and online figures unavailable (InfluxDB did not answer)",
           "not_enterprise": "Handovers are between duty rooms; an enterprise's account takes no part"},
}


def beijing_day(raw: str | None, now_ms: int) -> tuple[date, int, int]:
    """The day asked for (default today, Beijing time) and its ``[start_ms, end_ms)``."""
    today = beijing(now_ms).date()
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        raise web.HTTPBadRequest(text="day: YYYY-MM-DD") from None
    start = int(datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp() * 1000)
    return day, start, start + DAY_MS


def shift_routes(source: DeskSource) -> list[web.AbstractRouteDef]:
    language = source.language

    def duty_room(request: web.Request, acting: bool = False) -> Session:
        """The session of an account that takes part in handovers: not an enterprise's (their notes are the rooms')."""
        session = signed_in(request, acting)
        if session.account.role == "enterprise":
            raise web.HTTPForbidden(text=WORDS[language()]["not_enterprise"])
        return session

    async def handover_page(request: web.Request) -> web.Response:
        session = duty_room(request)
        w = WORDS[language()]
        pending = await asyncio.to_thread(request.app[HANDOVERS].pending)
        caller: Principal = request[CALLER]
        body = ['<p id="error" class="error" role="alert"></p>']
        if pending is not None:
            body.append(f'<section id="pending"><h2>{w["pending"]}</h2>{_handover_text(pending, w, source)}')
            body.append(_items(pending.open_alarms, source, caller))
            if session.account.acts:
                body.append(f'<form data-post action="/desk/handover/{pending.id}/take"><button>{w["take"]}</button></form>')
            body.append("</section>")
        else:
            open_now = [a.id for a in source.visible(caller)]
            body.append(f'<p>{w["none_pending"]}</p><section><h2>{w["give"]}</h2>{_items(open_now, source, caller)}')
            if session.account.acts:
                body.append(f'<form data-post action="/desk/handover"><label>{w["note"]}<br><textarea name="note" id="note" '
                            f'rows="5" cols="80" required></textarea></label><br><button>{w["give"]}</button></form>')
            body.append("</section>")
        return _page(w["handover"], session, "".join(body))

    async def give(request: web.Request) -> web.Response:
        session = duty_room(request, acting=True)
        caller: Principal = request[CALLER]
        note = str((await request.json()).get("note", ""))
        open_now = [a.id for a in source.visible(caller)]
        return await _stored(asyncio.to_thread(request.app[HANDOVERS].give, principal_name(session, caller), note, open_now,
                                             source.now_ms()))

    async def take(request: web.Request) -> web.Response:
        session = duty_room(request, acting=True)
        handover_id = int(request.match_info["handover_id"])
        caller: Principal = request[CALLER]
        return await _stored(asyncio.to_thread(request.app[HANDOVERS].take, handover_id, principal_name(session, caller),
                                             source.now_ms()))

    async def report(request: web.Request) -> web.Response:
        session = signed_in(request)
        caller: Principal = request[CALLER]
        w = WORDS[language()]
        day, start, end = beijing_day(request.query.get("day"), source.now_ms())
        alarms = [a for a in await source.alarms_started(start, end) if source.may_see(caller, a.enterprise)]
        registry = source.registry()

        def town_of(enterprise: str) -> str:
            doc = registry.enterprises.get(enterprise)
            return doc.enterprise.town if doc is not None else ""

        def name_of(enterprise: str) -> str:
            doc = registry.enterprises.get(enterprise)
            return doc.enterprise.name if doc is not None else enterprise

        figures = assess(alarms, town_of, start, end)
        own = caller.enterprise if caller.role == "enterprise" else None
        if own is not None:     # an enterprise's account: its own figures under its name, no room's handover notes
            rows, handovers = [(name_of(own), figures.enterprises.get(own, Figures()))], []
        else:
            handovers = await asyncio.to_thread(request.app[HANDOVERS].between, start, end)
            rows = [(w["county"], figures.county)] + [(f'{w["town"]}：{t}', f) for t, f in sorted(figures.towns.items())] + \
                [(name_of(e), f) for e, f in sorted(figures.enterprises.items(), key=lambda kv: name_of(kv[0]))]
        parts = [f'<p class="noprint"><a href="?day={day - timedelta(days=1)}">‹</a> {w["day"]} {day} '
                 f'<a href="?day={day + timedelta(days=1)}">›</a> <button onclick="print()">{w["print"]}</button></p>',
                 f'<h2>{w["figures"]}</h2>', _figures_table(rows, w),
                 await _connectivity_section(source, caller, start, min(end, source.now_ms()), w,
                                             name_of(own) if own is not None else None),
                 f'<h2>{w["content"]}</h2>']
        parts.append(_alarms_table(sorted(alarms, key=lambda a: a.started_at), source, w) if alarms else f'<p>{w["no_alarms"]}</p>')
        parts.append(("" if own is not None else f'<h2>{w["handover"]}</h2>') + "".join(f"<div class=\"handover\">{_handover_text(h, w, source)}</div>"
                                                         for h in handovers))
        title = f'{w["report"]} {day.year}年{day.month}月{day.day}日' if language() == "zh" else f'{w["report"]} {day}'
        return _page(title, session, "".join(parts))

    def _page(title: str, session: Session, content: str) -> web.Response:
        return html(framed(title, language(), session.account, session.csrf, content))

    return [web.get("/desk/handover", handover_page), web.post("/desk/handover", give),
            web.post("/desk/handover/{handover_id:\\d+}/take", take), web.get("/desk/report", report)]


def principal_name(session: Session, caller: Principal) -> str:
    return caller.officer or session.account.name


async def _stored(work: Awaitable[Handover]) -> web.Response:
    try:
        handover = await work
    except HandoverRefused as refused:
        return web.json_response({"error": "refused", "message": str(refused)}, status=409)
    return web.json_response({"id": handover.id, "given_by": handover.given_by, "taken_by": handover.taken_by})


def _handover_text(h: Handover, w: dict[str, str], source: DeskSource) -> str:
    taken = f'；{w["taken"]}：{escape(h.taken_by)} {source.moment(h.taken_at)}' if h.taken_by and h.taken_at else ""
    return (f'<p>{w["given"]}：{escape(h.given_by)} {source.moment(h.given_at)}{taken}</p>'
            f'<blockquote>{escape(h.note)}</blockquote><p>{w["open_items"]}：{len(h.open_alarms)}</p>')


def _items(ids: list[str], source: DeskSource, caller: Principal) -> str:
    alarms = {a.id: a for a in source.visible(caller)}
    lines = []
    for alarm_id in ids:
        alarm = alarms.get(alarm_id)
        if alarm is None:
            continue   # closed since, or not this officer's to see
        rows = {r["field"]: r["text"] for r in source.alarm_json(alarm)["view"]["rows"]}
        lines.append(f'<li><a href="/alarms/{escape(alarm.id)}">{escape(rows.get("enterprise", ""))} '
                     f'{escape(rows.get("message", ""))}</a></li>')
    return f'<ul class="items">{"".join(lines)}</ul>'


def _percent(value: float | int | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _figures_table(rows: list[tuple[str, Figures]], w: dict[str, str]) -> str:
    head_cells = "".join(f"<th>{w[k]}</th>" for k in ("alarms", "sign_rate", "disposal_rate", "false_rate", "to_sign", "to_close"))
    body = []
    for name, figures in rows:
        f = figures.as_json()
        cells = [str(f["alarms"]), _percent(f["sign_in_time_rate"]), _percent(f["disposal_rate"]), _percent(f["false_alarm_rate"]),
                 "–" if f["mean_minutes_to_sign"] is None else str(f["mean_minutes_to_sign"]),
                 "–" if f["mean_minutes_to_close"] is None else str(f["mean_minutes_to_close"])]
        body.append(f"<tr><th>{escape(name)}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="figures"><thead><tr><th></th>{head_cells}</tr></thead><tbody>{"".join(body)}</tbody></table>'


async def _connectivity_section(source: DeskSource, caller: Principal, start_ms: int, at_ms: int,
                                w: dict[str, str], only: str | None) -> str:
    """联网率 (points that sent that day, enterprises sending) and 在线率 (at the day's end, or now for today): of
    the county and each town, or of what the caller sees under the one name ``only`` (an enterprise's account)."""
    try:
        last = await source.readings.last_readings(start_ms=start_ms, end_ms=at_ms + 1)
    except InfluxUnavailable:
        return f'<p id="connectivity" class="error">{w["unavailable"]}</p>'
    figures = connectivity(source.registry(), lambda e: source.may_see(caller, e), last, at_ms)
    rows = [(only, figures.county)] if only is not None else \
        [(w["county"], figures.county)] + [(f'{w["town"]}：{t}', c) for t, c in sorted(figures.towns.items())]
    head_cells = "".join(f"<th>{w[k]}</th>" for k in ("network_rate", "online_rate", "enterprises_sending"))
    body = "".join(f"<tr><th>{escape(name)}</th><td>{_percent(c.network_rate)}（{c.points_sending}/{c.points}）</td>"
                   f"<td>{_percent(c.online_rate)}（{c.points_online}/{c.points}）</td>"
                   f"<td>{c.enterprises_sending}/{c.enterprises}</td></tr>" for name, c in rows)
    return (f'<h3>{w["connectivity"]}</h3><table id="connectivity" class="figures"><thead><tr><th></th>{head_cells}</tr></thead><tbody>{body}'
            f'</tbody></table><p>{w["connectivity_note"]} {source.moment(at_ms)}</p>')


def _alarms_table(alarms: list[Alarm], source: DeskSource, w: dict[str, str]) -> str:
    body = []
    for alarm in alarms:
        shown = source.alarm_json(alarm)
        rows = {r["field"]: r["text"] for r in shown["view"]["rows"]}
        place = " / ".join(x for x in (rows.get("enterprise"), rows.get("site"), rows.get("point") or rows.get("device")) if x)
        handled = " ".join(x for x in (rows.get("acked_by"), rows.get("acked_at"), rows.get("ack_comment"),
                                       rows.get("closed_by"), rows.get("close_note")) if x)
        body.append("<tr>" + "".join(f"<td>{escape(x)}</td>" for x in (
            rows.get("started_at", ""), place, rows.get("message", ""), rows.get("severity", ""), shown["desk"]["state"], handled)) + "</tr>")
    head_cells = "".join(f"<th>{w[k]}</th>" for k in ("time", "enterprise", "content", "severity", "state", "handling"))
    return f'<table class="alarms"><thead><tr>{head_cells}</tr></thead><tbody>{"".join(body)}</tbody></table>'
