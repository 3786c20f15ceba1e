"""The enterprise view (``/desk/enterprises/{id}``): one enterprise as the desk and its own account see it, its
current risk, data quality (在线率: points whose last reading is within 3 × their period; ingest's refusals of
the last 24 h by reason), every site with its points' current value, unit and state, and its open alarms.
Scoped like the rest of the desk: an enterprise the account may not see is as missing as an unknown one."""

from __future__ import annotations

from html import escape

from aiohttp import web

from hazmon.registry import Registry
from hazmon.registry.loader import PointEntry
from hazmon.registry.models import POINT_TYPE_NAMES, POINT_UNITS, SITE_KIND_NAMES
from hazmon.registry.names import point_name
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.connectivity import online, reports_readings
from alerting.desk.county_map import WORDS as RISK_WORDS
from alerting.desk.pages import framed, html
from alerting.desk.readings import InfluxUnavailable, LastReading
from alerting.desk.source import DeskSource, signed_in
from alerting.model import Alarm
from alerting.text import Texts

REFUSALS_WINDOW_MS = 86_400_000
WORDS = {
    "zh": {"risk": "当前风险", "town": "乡镇", "open": "未关闭报警", "quality": "数据质量", "online": "在线率",
           "online_of": "个点位在线，共", "refused": "近 24 小时拒收", "no_refusals": "近 24 小时无拒收",
           "unavailable": "读数暂不可用（InfluxDB 无法查询）", "point": "点位", "quantity": "监测项", "value": "当前值",
           "at": "读数时间", "state": "状态", "normal": "正常", "offline": "离线", "never": "无数据",
           "suppressed": "已屏蔽", "events": "事件型（无读数）", "no_open": "没有未关闭的报警", "time": "报警时间",
           "content": "报警内容", "kind": "类别", "detail": "详情", "not_found": "没有这家企业"},
    "en": {"risk": "Current risk", "town": "Town", "open": "Open alarms", "quality": "Data quality", "online": "Online",
           "online_of": "points online of", "refused": "Refused in the last 24 h", "no_refusals": "Nothing refused in the last 24 h",
           "unavailable": "Readings unavailable (InfluxDB could not be queried)", "point": "Point", "quantity": "Quantity",
           "value": "Value", "at": "Read at", "state": "State", "normal": "normal", "offline": "offline",
           "never": "no data", "suppressed": "suppressed", "events": "events only (no readings)",
           "no_open": "No open alarm", "time": "Raised", "content": "Alarm", "kind": "Kind", "detail": "Details",
           "not_found": "No such enterprise"},
}


def _point_state(entry: PointEntry, last: LastReading | None, alarm: Alarm | None, suppressed: bool, now_ms: int,
                 texts: Texts, w: dict[str, str]) -> tuple[str, str]:
    """(the state in words, its CSS class)."""
    if alarm is not None:
        return f"{texts.severity(alarm.rule, alarm.level)}（{texts.state_word(alarm.state, alarm.awaiting_feedback)}）", "alarm"
    if suppressed:
        return w["suppressed"], "suppressed"
    if not reports_readings(entry):
        return w["normal"], "normal"
    if last is None:
        return w["never"], "offline"
    return (w["normal"], "normal") if online(entry, last, now_ms) else (w["offline"], "offline")


def _points_table(registry: Registry, entries: list[PointEntry], last: dict[str, LastReading] | None,
                  alarms: dict[str, Alarm], suppressed: set[str], now_ms: int, source: DeskSource) -> str:
    language, texts = source.language(), source.texts()
    w = WORDS[language]
    rows = []
    for entry in entries:
        reading = (last or {}).get(entry.point.id)
        state, tone = _point_state(entry, reading, alarms.get(entry.point.id), entry.point.id in suppressed, now_ms,
                                   texts, w)
        if not reports_readings(entry):
            value, at = w["events"], ""
        elif reading is None:
            value, at = "–", ""
        else:
            value, at = f"{reading.value:.6g} {POINT_UNITS[entry.point.type]}".rstrip(), source.moment(reading.ts)
        quantity = POINT_TYPE_NAMES[entry.point.type][0 if language == "zh" else 1]
        cells = (point_name(registry, entry, language), quantity, value, at)
        rows.append(f'<tr class="point {tone}">' + "".join(f"<td>{escape(c)}</td>" for c in cells)
                    + f'<td class="state">{escape(state)}</td></tr>')
    heads = "".join(f"<th>{w[k]}</th>" for k in ("point", "quantity", "value", "at", "state"))
    return f'<table class="points"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _alarms_table(alarms: list[Alarm], source: DeskSource, w: dict[str, str]) -> str:
    if not alarms:
        return f'<p>{w["no_open"]}</p>'
    body = []
    for alarm in alarms:
        shown = source.alarm_json(alarm)
        rows = {r["field"]: r["text"] for r in shown["view"]["rows"]}
        cells = "".join(f"<td>{escape(rows.get(k, ''))}</td>" for k in ("started_at", "message", "severity"))
        body.append(f'<tr class="alarm">{cells}<td>{escape(shown["desk"]["state"])}</td>'
                    f'<td><a href="/alarms/{escape(alarm.id)}">{w["detail"]}</a></td></tr>')
    heads = "".join(f"<th>{w[k]}</th>" for k in ("time", "content", "kind", "state")) + "<th></th>"
    return f'<table id="open-alarms"><thead><tr>{heads}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def enterprise_routes(source: DeskSource) -> list[web.AbstractRouteDef]:
    async def page(request: web.Request) -> web.Response:
        session = signed_in(request)
        caller: Principal = request[CALLER]
        enterprise = request.match_info["enterprise_id"]
        language, texts, registry, now_ms = source.language(), source.texts(), source.registry(), source.now_ms()
        w = WORDS[language]
        doc = registry.enterprises.get(enterprise)
        if doc is None or not source.may_see(caller, enterprise):
            raise web.HTTPNotFound(text=w["not_found"])
        open_alarms = [a for a in source.visible(caller) if a.enterprise == enterprise]
        by_point = {a.point: a for a in reversed(open_alarms) if a.point}     # the newest open alarm of each point
        suppressed = {s.point for s in source.suppressions() if s.enterprise == enterprise}
        entries = sorted((e for (owner, _), e in registry.points.items() if owner == enterprise),
                         key=lambda e: (e.site.id, e.point.id))
        try:
            last: dict[str, LastReading] | None = {
                point: reading for (_, point), reading in (await source.readings.last_readings(enterprise)).items()}
            refusals: dict[str, int] | None = await source.readings.refusals(enterprise, now_ms - REFUSALS_WINDOW_MS,
                                                                             now_ms)
        except InfluxUnavailable:
            last = refusals = None
        risk = source.risk_of(enterprise)
        parts = [f'<p><span class="risk" data-color="{risk.color}">{w["risk"]}：{RISK_WORDS[language][risk.color]}</span>'
                 f' · {w["town"]}：{escape(doc.enterprise.town)} · {w["open"]}：{len(open_alarms)}</p>',
                 f'<h2>{w["quality"]}</h2>']
        if last is None or refusals is None:
            parts.append(f'<p id="quality" class="error">{w["unavailable"]}</p>')
        else:
            reporting = [e for e in entries if reports_readings(e)]
            up = sum(online(e, last.get(e.point.id), now_ms) for e in reporting)
            rate = f"{100 * up / len(reporting):.0f}%" if reporting else "–"
            refused = "；".join(f"{texts.ingest_refusal(r)} {n}" for r, n in sorted(refusals.items(), key=lambda kv: -kv[1]))
            refused_text = f'{w["refused"]}：{escape(refused)}' if refused else w["no_refusals"]
            parts.append(f'<p id="quality">{w["online"]}：<b id="online-rate">{rate}</b>（{up} {w["online_of"]} '
                         f'{len(reporting)}）<br><span id="refusals">{refused_text}</span></p>')
        for site in doc.sites:
            kind = SITE_KIND_NAMES[site.kind][0 if language == "zh" else 1]
            parts.append(f'<h2>{escape(site.name)}（{kind}）</h2>')
            parts.append(_points_table(registry, [e for e in entries if e.site.id == site.id], last, by_point, suppressed,
                                       now_ms, source))
        parts.append(f'<h2>{w["open"]}</h2>{_alarms_table(open_alarms, source, w)}')
        return html(framed(doc.enterprise.name, language, session.account, session.csrf, "".join(parts)))

    return [web.get("/desk/enterprises/{enterprise_id}", page)]
