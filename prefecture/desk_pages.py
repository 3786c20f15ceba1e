"""The prefecture desk's server-rendered pages in Simplified Chinese (§10: names and units, never codes): the
sign-in, the counties overview (each county's figures, the alarms escalated to the prefecture with their
签收 form) and a county's page (its enterprises' risk colours, its open alarms). No script: every action
is a form carrying the session's CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from hazmon.duty_words import ALARM_STATES, AWAITING_FEEDBACK, RISK_COLOURS, TIERS
from hazmon.officer_time import beijing_text

from prefecture.figures import ONLINE_S, SIGN_WITHIN_MS, CountyFigures, Rate

TITLE = "州应急管理局值班工作台"
REFUSALS = {"unknown_alarm": "没有这条报警", "not_escalated": "该报警未上报州应急管理局，由县应急管理局签收",
            "closed": "报警已关闭，不能再签收", "already_acknowledged": "报警已被签收", "bad_comment": "签收意见最多 1000 字"}
_STYLE = """body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;background:#f4f5f7;color:#1d2129}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1f3a5f;color:#fff}
header h1{font-size:1.2rem;margin:0;flex:1} header a{color:#fff} header form{margin:0} main{padding:1rem}
h2{font-size:1.05rem;margin:1.2rem 0 .5rem} table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e5e6eb;padding:.45rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#f2f3f5} .lvl{display:inline-block;padding:0 .45rem;border-radius:3px;color:#fff}
.red{background:#cf1322}.orange{background:#d46b08}.yellow{background:#d4b106;color:#000}.blue{background:#1677ff}
.up{color:#389e0d;font-weight:bold}.down{color:#cf1322;font-weight:bold} .note{color:#4e5969;font-size:.85rem}
.notice{padding:.5rem 1rem;background:#e8f3ff;border-left:4px solid #1677ff} .refused{background:#fff1f0;border-color:#cf1322}
form.login{max-width:22rem;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:6px}
form.login input{width:100%;box-sizing:border-box;margin:.3rem 0 .8rem;padding:.4rem} .error{color:#cf1322}
td form{display:flex;gap:.4rem} td form input{flex:1;min-width:8rem} td.nw{white-space:nowrap}"""


@dataclass(frozen=True, slots=True)
class CountyRow:
    county: str
    name: str
    figures: CountyFigures
    heartbeat_at: int | None
    open_alarms: int
    escalated: int
    backlog: int | None


@dataclass(frozen=True, slots=True)
class AlarmRow:
    county: str
    county_name: str
    alarm: dict
    enterprise_name: str
    site_name: str
    own_ack: dict | None   # the prefecture's own 签收 of it: {"by", "ts", "sent_at"}


@dataclass(frozen=True, slots=True)
class EnterpriseRow:
    name: str
    town: str
    color: str
    active_alarms: int
    ts: int | None


def _page(body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{TITLE}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
            f'<body>{body}</body></html>')


def login_page(error: bool) -> str:
    problem = '<p class="error" role="alert">访问令牌不正确</p>' if error else ""
    return _page(f'<form class="login" method="post" action="/desk/login"><h1>{TITLE}</h1>{problem}'
                 '<label>访问令牌<input name="token" type="password" autocomplete="current-password" required autofocus>'
                 '</label><button type="submit">登录</button></form>')


def _header(officer: str, csrf: str) -> str:
    return (f'<header><h1>{TITLE}</h1><a href="/desk">各县总览</a><span>值班员：{escape(officer)}</span>'
            f'<form method="post" action="/desk/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">'
            '<button type="submit">退出</button></form></header>')


def _notice(notice: str | None, refused: str | None) -> str:
    if refused is not None:
        return f'<p class="notice refused" role="alert">{escape(REFUSALS.get(refused, "操作未完成"))}</p>'
    return "" if notice is None else f'<p class="notice" role="status">{escape(notice)}</p>'


def _rate(rate: Rate) -> str:
    value = rate.value
    return "—" if value is None else f"{value * 100:.1f}%（{rate.part}/{rate.whole}）"


def _figures_table(rows: list[CountyRow], day: str, linked: bool) -> str:
    lines = []
    for row in rows:
        name = f'<a href="/desk/counties/{escape(row.county)}">{escape(row.name)}</a>' if linked else escape(row.name)
        link = '<span class="up">在线</span>' if row.figures.online else '<span class="down">离线</span>'
        beat = "—" if row.heartbeat_at is None else beijing_text(row.heartbeat_at)
        f = row.figures
        lines.append(f'<tr data-county="{escape(row.county)}"><td>{name}</td><td>{link}</td><td>{beat}</td>'
                     f'<td class="networked">{_rate(f.networked)}</td><td class="online">{_rate(f.points_online)}</td>'
                     f'<td class="signed">{_rate(f.signed_in_time)}</td><td>{row.open_alarms}</td><td>{row.escalated}</td>'
                     f'<td>{"—" if row.backlog is None else row.backlog}</td></tr>')
    return (f'<form method="get" class="note">考核日期 <input type="date" name="day" value="{escape(day)}">'
            '<button type="submit">查看</button></form>'
            '<table id="figures"><thead><tr><th>县</th><th>县平台</th><th>最近心跳</th><th>联网率</th><th>在线率</th>'
            f'<th>签收及时率（{escape(day)}）</th><th>未关闭报警</th><th>上报州报警</th><th>待上报</th></tr></thead>'
            f'<tbody>{"".join(lines)}</tbody></table>'
            f'<p class="note">联网率：有设备在线的企业占登记企业的比例；在线率：在线点位占登记点位的比例（设备有未恢复的设备离线报警即为离线；'
            f'县平台超过 {ONLINE_S // 60} 分钟无心跳即为离线，其企业和点位均不计在线）。签收及时率：当日报警中 '
            f'{SIGN_WITHIN_MS // 60000} 分钟内签收的比例。</p>')


def _actor(by: str, enterprise_name: str) -> str:
    """Who signed, in words: 州应急管理局 李四, 县应急管理局值班室 王值班, the enterprise by name…"""
    who, _, officer = by.partition("/")
    if who == "town":
        return officer
    desk = enterprise_name if who.startswith("enterprise") else {"duty": TIERS["county"], "prefecture": TIERS["prefecture"]}.get(who, "")
    return f"{desk} {officer}".strip()


def _sign_cell(row: AlarmRow, csrf: str) -> str:
    alarm = row.alarm
    if alarm.get("acked_by"):
        return f'已签收：{escape(_actor(alarm["acked_by"], row.enterprise_name))}（{beijing_text(alarm["acked_at"])}）'
    if row.own_ack is not None:
        stage = "已下发，待县平台回执" if row.own_ack["sent_at"] is not None else "待下发至县平台"
        return f'{TIERS["prefecture"]} {escape(row.own_ack["by"])} 已签收（{stage}）'
    if alarm["escalated_to"] != "prefecture" or alarm["state"] == "closed":
        return '<span class="note">由县应急管理局处置</span>'
    return (f'<form method="post" action="/desk/alarms/{escape(row.county)}/{escape(alarm["id"])}/ack">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            '<input name="comment" maxlength="1000" placeholder="签收意见" aria-label="签收意见">'
            '<button type="submit">签收</button></form>')


def _alarm_table(rows: list[AlarmRow], csrf: str, empty: str) -> str:
    if not rows:
        return f'<p class="note">{empty}</p>'
    lines = []
    for row in rows:
        alarm = row.alarm
        state = ALARM_STATES.get(alarm["state"], "")
        if alarm.get("awaiting_feedback"):
            state += f"（{AWAITING_FEEDBACK}）"
        escalation = alarm["escalated_to"]
        reported = f'<br><span class="note">已上报至{TIERS[escalation]}</span>' if escalation in ("county", "prefecture") else ""
        place = " · ".join(escape(part) for part in (row.enterprise_name, row.site_name) if part)
        lines.append(f'<tr data-alarm="{escape(alarm["id"])}"><td>{beijing_text(alarm["started_at"])}</td>'
                     f'<td class="nw">{escape(row.county_name)}</td><td>{place}</td><td>{escape(alarm["message"])}</td>'
                     f'<td>{state}{reported}</td>'
                     f'<td>{_sign_cell(row, csrf)}</td></tr>')
    return ('<table class="alarms"><thead><tr><th>报警时间</th><th>县</th><th>企业 / 位置</th><th>报警内容</th><th>状态</th>'
            f'<th>签收</th></tr></thead><tbody>{"".join(lines)}</tbody></table>')


def overview_page(officer: str, csrf: str, day: str, counties: list[CountyRow], escalated: list[AlarmRow],
                  notice: str | None, refused: str | None) -> str:
    return _page(f'{_header(officer, csrf)}<main>{_notice(notice, refused)}<h2>各县考核指标</h2>'
                 f'{_figures_table(counties, day, linked=True)}<h2>上报州应急管理局的报警（未关闭）</h2>'
                 f'{_alarm_table(escalated, csrf, "没有上报州应急管理局的未关闭报警")}</main>')


def county_page(officer: str, csrf: str, day: str, county: CountyRow, enterprises: list[EnterpriseRow],
                alarms: list[AlarmRow], notice: str | None, refused: str | None) -> str:
    lines = []
    for e in enterprises:
        lines.append(f'<tr><td>{escape(e.name)}</td><td>{escape(e.town)}</td>'
                     f'<td><span class="lvl {escape(e.color)}">{RISK_COLOURS.get(e.color, "")}</span></td>'
                     f'<td>{e.active_alarms}</td><td>{"—" if e.ts is None else beijing_text(e.ts)}</td></tr>')
    risk = ('<table id="enterprises"><thead><tr><th>企业</th><th>乡镇</th><th>风险</th><th>未恢复报警</th><th>风险更新时间</th>'
            f'</tr></thead><tbody>{"".join(lines)}</tbody></table>') if lines else '<p class="note">县平台尚未上报企业清单</p>'
    return _page(f'{_header(officer, csrf)}<main>{_notice(notice, refused)}<h2>{escape(county.name)} 考核指标</h2>'
                 f'{_figures_table([county], day, linked=False)}<h2>{escape(county.name)} 企业风险</h2>{risk}'
                 f'<h2>{escape(county.name)} 未关闭报警</h2>{_alarm_table(alarms, csrf, "没有未关闭的报警")}</main>')
