"""The shift's records on the desk: 交接班 (``/desk/handover``) and 值班日报 (``/desk/report?day=YYYY-MM-DD``).

The daily report is one printable page of a Beijing-time day: for the county, each town and each enterprise
the caller sees (by name, alerting/desk/day_figures.py; an enterprise with no alarm too), the 考核指标
(alerting/desk/assessment.py) and 联网率 and 在线率 (alerting/desk/connectivity.py, from InfluxDB), every alarm that started that day with
how it was handled, and the day's handovers. Browsers print it as it is (print styles hide the
navigation); ``/desk/report.pdf?day=`` gives the same report as a PDF file (alerting/desk/report_pdf.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from aiohttp import web

from hazmon import series
from hazmon.officer_time import BEIJING, beijing
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.accounts import Session
from alerting.desk.assessment import Figures, assess
from alerting.desk.connectivity import Connectivity, CountyConnectivity, connectivity
from alerting.desk.day_figures import ScopeFigures, by_scope, enterprise_town
from alerting.desk.handover import Handover, HandoverRefused, Handovers
from alerting.desk.pages import framed, html
from alerting.desk.readings import InfluxUnavailable
from alerting.desk.report_pdf import FontMissing, Section, Table, report_pdf
from alerting.desk.source import DeskSource, signed_in
from alerting.model import Alarm

DAY_MS = 86_400_000
HANDOVERS = web.AppKey("desk_handovers", Handovers)
FIGURE_HEADS = ("alarms", "sign_rate", "disposal_rate", "false_rate", "to_sign", "to_close")
FIGURE_WIDTHS = (30, 8, 14, 9, 9, 15, 15)     # relative widths of the PDF's 考核指标 columns: a whole enterprise name
CONNECTIVITY_HEADS = ("network_rate", "online_rate", "enterprises_sending")
CONNECTIVITY_WIDTHS = (30, 28, 28, 14)        # the names' column as wide as in the 考核指标 above
ALARM_HEADS = ("time", "enterprise", "content", "severity", "state", "handling")
ALARM_WIDTHS = (14, 26, 26, 8, 8, 18)     # relative widths of the PDF's alarm columns
WORDS = {
    "zh": {"handover": "交接班", "give": "交班", "take": "签收交接", "note": "交接说明", "given": "交班", "taken": "接班",
           "pending": "待签收的交接", "none_pending": "没有待签收的交接", "open_items": "交接时未关闭的报警",
           "report": "值班日报", "figures": "考核指标", "county": "全县", "town": "乡镇", "enterprise": "企业",
           "alarms": "报警数", "sign_rate": "签收及时率（5分钟内）", "disposal_rate": "处置率", "false_rate": "误报率",
           "to_sign": "平均签收用时（分钟）", "to_close": "平均处置用时（分钟）", "time": "报警时间", "content": "报警内容",
           "severity": "级别", "state": "状态", "handling": "签收 / 处置", "print": "打印", "pdf": "下载 PDF 文件", "day": "日期",
           "no_alarms": "当日无报警", "connectivity": "联网与在线", "network_rate": "联网率（当日有读数的点位）", "online_rate": "在线率",
           "enterprises_sending": "联网企业", "connectivity_note": "在线：最近读数不超过 3 个上报周期；在线率按此时刻计",
           "unavailable": "联网率、在线率暂不可用（InfluxDB 无法查询）", "not_enterprise": "交接班在值班室之间进行，企业账号不参与"},
    "en": {"handover": "Shift handover", "give": "Hand over", "take": "Take over", "note": "Note", "given": "Handed over",
           "taken": "Taken over", "pending": "Handover waiting", "none_pending": "No handover waiting",
           "open_items": "Alarms open at the handover", "report": "Daily duty report", "figures": "Assessment figures",
           "county": "County", "town": "Town", "enterprise": "Enterprise", "alarms": "Alarms",
           "sign_rate": "Signed within 5 min", "disposal_rate": "Closed with a note", "false_rate": "False alarms",
           "to_sign": "Mean minutes to sign", "to_close": "Mean minutes to close", "time": "Raised", "content": "Alarm",
           "severity": "Level", "state": "State", "handling": "Signed / closed", "print": "Print", "pdf": "Download the PDF file",
           "day": "Day", "no_alarms": "No alarms that day", "connectivity": "Sending and online", "network_rate": "Points sending that day",
           "online_rate": "Points online", "enterprises_sending": "Enterprises sending",
           "connectivity_note": "Online: last reading at most 3 periods old; counted at",
           "unavailable": "Sending and online figures unavailable (InfluxDB could not be queried)",
           "not_enterprise": "Handovers are between duty rooms; an enterprise's account takes no part"},
}


@dataclass(frozen=True)
class DailyReport:
    """A day's report in words, as the caller may see it: the page and the PDF file show the same."""

    title: str
    day: date
    figures: list[tuple[str, list[str]]]                                 # (county, town or enterprise, FIGURE_HEADS)
    connectivity: tuple[list[tuple[str, list[str]]], str] | None         # (rows of CONNECTIVITY_HEADS, note); None: no InfluxDB
    alarms: list[list[str]]                                              # ALARM_HEADS, by start time
    handovers: list[tuple[str, str, str]]                                # (given and taken, note, open items)
    duty_room: bool                                                      # not an enterprise's account: handovers shown


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

    async def daily_report(request: web.Request) -> DailyReport:
        """The day's report as the caller may see it: an enterprise's account its own figures and alarms only."""
        caller: Principal = request[CALLER]
        w = WORDS[language()]
        day, start, end = beijing_day(request.query.get("day"), source.now_ms())
        alarms = [a for a in await source.alarms_started(start, end) if source.may_see(caller, a.enterprise)]
        registry = source.registry()
        figures = assess(alarms, lambda e: enterprise_town(registry, e), start, end)
        at = min(end, source.now_ms())      # 在线率 at the day's end, or now for today
        reach = await _reach(source, caller, start, at)
        rows = by_scope(registry, figures, reach, lambda e: source.may_see(caller, e))
        own = caller.enterprise if caller.role == "enterprise" else None
        if own is not None:     # an enterprise's account: its own figures under its name, no room's handover notes
            rows, handovers = [r for r in rows if r.enterprise == own], []
        else:
            handovers = await asyncio.to_thread(request.app[HANDOVERS].between, start, end)
        named = [(_scope_name(r, w), r) for r in rows]
        title = f'{w["report"]} {day.year}年{day.month}月{day.day}日' if language() == "zh" else f'{w["report"]} {day}'
        return DailyReport(
            title=title, day=day, figures=[(name, _figure_cells(r.handled)) for name, r in named],
            connectivity=None if reach is None else ([(name, _connectivity_cells(r.reach)) for name, r in named if r.reach is not None],
                                                     f'{w["connectivity_note"]} {source.moment(at)}'),
            alarms=[_alarm_cells(a, source) for a in sorted(alarms, key=lambda a: a.started_at)],
            handovers=[_handover_lines(h, w, source) for h in handovers], duty_room=own is None)

    async def report(request: web.Request) -> web.Response:
        session = signed_in(request)
        w = WORDS[language()]
        r = await daily_report(request)
        parts = [f'<p class="noprint"><a href="?day={r.day - timedelta(days=1)}">‹</a> {w["day"]} {r.day} '
                 f'<a href="?day={r.day + timedelta(days=1)}">›</a> <button onclick="print()">{w["print"]}</button> '
                 f'<a id="pdf" href="/desk/report.pdf?day={r.day}" download>{w["pdf"]}</a></p>',
                 f'<h2>{w["figures"]}</h2>', _grid(w, FIGURE_HEADS, r.figures, "figures"), _connectivity_html(r.connectivity, w),
                 f'<h2>{w["content"]}</h2>']
        parts.append(_grid(w, ALARM_HEADS, [(None, cells) for cells in r.alarms], "alarms") if r.alarms else f'<p>{w["no_alarms"]}</p>')
        parts.append((f'<h2>{w["handover"]}</h2>' if r.duty_room else "") + "".join(
            f'<div class="handover"><p>{escape(given)}</p><blockquote>{escape(note)}</blockquote><p>{escape(items)}</p></div>'
            for given, note, items in r.handovers))
        return _page(r.title, session, "".join(parts))

    async def report_pdf_file(request: web.Request) -> web.Response:
        """The same report as a PDF file, to download, keep or send on."""
        signed_in(request)
        w = WORDS[language()]
        r = await daily_report(request)
        figures: list[Table | str] = [Table(["", *(w[k] for k in FIGURE_HEADS)], [[n, *c] for n, c in r.figures], FIGURE_WIDTHS)]
        if r.connectivity is None:
            figures.append(w["unavailable"])
        else:
            rows, note = r.connectivity
            figures += [w["connectivity"], Table(["", *(w[k] for k in CONNECTIVITY_HEADS)], [[n, *c] for n, c in rows],
                                                 CONNECTIVITY_WIDTHS), note]
        sections = [Section(w["figures"], figures)]
        sections.append(Section(w["content"], [Table([w[k] for k in ALARM_HEADS], r.alarms, ALARM_WIDTHS)]
                                if r.alarms else [w["no_alarms"]]))
        if r.duty_room:
            sections.append(Section(w["handover"], ["\n".join(lines) for lines in r.handovers]))
        try:
            body = await asyncio.to_thread(report_pdf, r.title, sections, source.pdf_font)
        except FontMissing as missing:
            raise web.HTTPServiceUnavailable(text=str(missing)) from None
        return web.Response(body=body, content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="hazmon-report-{r.day}.pdf"'})

    def _page(title: str, session: Session, content: str) -> web.Response:
        return html(framed(title, language(), session.account, session.csrf, content))

    return [web.get("/desk/handover", handover_page), web.post("/desk/handover", give),
            web.post("/desk/handover/{handover_id:\\d+}/take", take), web.get("/desk/report", report),
            web.get("/desk/report.pdf", report_pdf_file)]


def principal_name(session: Session, caller: Principal) -> str:
    return caller.officer or session.account.name


async def _stored(work: Awaitable[Handover]) -> web.Response:
    try:
        handover = await work
    except HandoverRefused as refused:
        return web.json_response({"error": "refused", "message": str(refused)}, status=409)
    return web.json_response({"id": handover.id, "given_by": handover.given_by, "taken_by": handover.taken_by})


def _handover_lines(h: Handover, w: dict[str, str], source: DeskSource) -> tuple[str, str, str]:
    """Who handed over and took over when, the note, how many items were open."""
    taken = f'；{w["taken"]}：{h.taken_by} {source.moment(h.taken_at)}' if h.taken_by and h.taken_at else ""
    return f'{w["given"]}：{h.given_by} {source.moment(h.given_at)}{taken}', h.note, f'{w["open_items"]}：{len(h.open_alarms)}'


def _handover_text(h: Handover, w: dict[str, str], source: DeskSource) -> str:
    given, note, items = _handover_lines(h, w, source)
    return f'<p>{escape(given)}</p><blockquote>{escape(note)}</blockquote><p>{escape(items)}</p>'


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


def _figure_cells(figures: Figures) -> list[str]:
    """One row of 考核指标, in the order of FIGURE_HEADS."""
    f = figures.as_json()
    return [str(f["alarms"]), _percent(f["sign_in_time_rate"]), _percent(f["disposal_rate"]), _percent(f["false_alarm_rate"]),
            "–" if f["mean_minutes_to_sign"] is None else str(f["mean_minutes_to_sign"]),
            "–" if f["mean_minutes_to_close"] is None else str(f["mean_minutes_to_close"])]


def _grid(w: dict[str, str], heads: tuple[str, ...], rows: Sequence[tuple[str | None, list[str]]], css: str,
          element_id: str = "") -> str:
    """A table of ``rows`` (each with a row heading, or None for none) under the column headings ``heads``."""
    named = any(name is not None for name, _ in rows)
    head_cells = ("<th></th>" if named else "") + "".join(f"<th>{w[k]}</th>" for k in heads)
    body = "".join("<tr>" + (f"<th>{escape(name)}</th>" if name is not None else "") + "".join(
        f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for name, cells in rows)
    id_attr = f' id="{element_id}"' if element_id else ""
    return f'<table{id_attr} class="{css}"><thead><tr>{head_cells}</tr></thead><tbody>{body}</tbody></table>'


async def _reach(source: DeskSource, caller: Principal, start_ms: int, at_ms: int) -> CountyConnectivity | None:
    """联网与在线 of what the caller sees: points that sent from ``start_ms``, online at ``at_ms``; None when InfluxDB
    does not answer."""
    try:
        last = await source.readings.last_readings(start_ms=start_ms, end_ms=at_ms + 1)
    except InfluxUnavailable:
        return None
    return connectivity(source.registry(), lambda e: source.may_see(caller, e), last, at_ms)


def _scope_name(row: ScopeFigures, w: dict[str, str]) -> str:
    """A row's heading: 全县, 乡镇：<name>, or the enterprise's name."""
    if row.scope == series.COUNTY_SCOPE:
        return w["county"]
    return f'{w["town"]}：{row.name}' if row.scope == series.TOWN_SCOPE else row.name


def _connectivity_cells(c: Connectivity) -> list[str]:
    """One row of 联网与在线, in the order of CONNECTIVITY_HEADS."""
    return [f"{_percent(c.network_rate)}（{c.points_sending}/{c.points}）", f"{_percent(c.online_rate)}（{c.points_online}/{c.points}）",
            f"{c.enterprises_sending}/{c.enterprises}"]


def _connectivity_html(figures: tuple[list[tuple[str, list[str]]], str] | None, w: dict[str, str]) -> str:
    if figures is None:
        return f'<p id="connectivity" class="error">{w["unavailable"]}</p>'
    rows, note = figures
    return (f'<h3>{w["connectivity"]}</h3>{_grid(w, CONNECTIVITY_HEADS, rows, "figures", "connectivity")}'
            f'<p>{escape(note)}</p>')


def _alarm_cells(alarm: Alarm, source: DeskSource) -> list[str]:
    """One alarm of the day in words, in the order of ALARM_HEADS."""
    shown = source.alarm_json(alarm)
    rows = {r["field"]: r["text"] for r in shown["view"]["rows"]}
    place = " / ".join(x for x in (rows.get("enterprise"), rows.get("site"), rows.get("point") or rows.get("device")) if x)
    handled = " ".join(x for x in (rows.get("acked_by"), rows.get("acked_at"), rows.get("ack_comment"),
                                   rows.get("closed_by"), rows.get("close_note")) if x)
    return [rows.get("started_at", ""), place, rows.get("message", ""), rows.get("severity", ""), shown["desk"]["state"], handled]
