"""The duty desk's server-rendered pages, sign-in, the live alarm list and the risk map, in the officer's language
(Simplified Chinese first). No build step and nothing from the internet: the list's script is
``/desk/static/desk.js``; the page itself carries only the officer's name and the CSRF token."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from aiohttp import web

from alerting.desk.accounts import Account

LABELS: dict[str, dict[str, Any]] = {
    "zh": {
        "desk": "值班工作台", "sign_in": "登录", "name": "账号", "password": "密码", "bad_login": "账号或密码不正确，或账号已停用",
        "sign_out": "退出", "all": "全部", "state": "状态", "town": "乡镇", "domain": "领域", "enterprise": "企业",
        "kind": "类别", "level": "级别",
        "time": "报警时间", "place": "企业 / 位置", "content": "报警内容", "action": "操作", "ack": "签收",
        "ack_selected": "签收所选", "comment": "签收意见", "detail": "详情", "count": "条", "sound_on": "有未签收的火警、红色或二级报警",
        "enable_sound": "开启声音与通知", "live": "实时", "reconnecting": "连接中断，正在重连…", "select_all": "全选",
        "roles": {"duty": "值班员", "town": "乡镇", "enterprise": "企业", "prefecture": "州级（只读）"},
        "need_comment": "请先填写签收意见", "nav_handover": "交接班", "nav_report": "值班日报", "nav_list": "实时报警", "nav_map": "风险一张图", "map_note": "每 15 秒更新；点击企业查看详情",
        "nav_suppress": "屏蔽", "feedback_only": "只看待反馈", "from": "报警时间从", "to": "到", "last_24h": "近 24 小时",
        "last_7d": "近 7 天", "any_time": "不限时间", "sort": "排序", "more": "显示更多",
        "sorts": {"newest": "最新在前", "oldest": "最早在前", "severity": "级别高在前", "unsigned": "未签收在前",
                  "enterprise": "按企业"},
    },
    "en": {
        "desk": "Duty desk", "sign_in": "Sign in", "name": "Account", "password": "Password",
        "bad_login": "Wrong account or password, or the account is disabled", "sign_out": "Sign out", "all": "All",
        "state": "State", "town": "Town", "domain": "Domain", "enterprise": "Enterprise", "kind": "Kind",
        "level": "Level", "time": "Raised",
        "place": "Enterprise / place", "content": "Alarm", "action": "Action", "ack": "Acknowledge",
        "ack_selected": "Acknowledge selected", "comment": "Comment", "detail": "Details", "count": "alarms",
        "sound_on": "Unacknowledged fire, red or second-level alarms", "enable_sound": "Turn on sound and notifications",
        "live": "live", "reconnecting": "Connection lost, reconnecting…", "select_all": "Select all",
        "roles": {"duty": "duty officer", "town": "town", "enterprise": "enterprise", "prefecture": "prefecture (read only)"},
        "need_comment": "Write a comment first", "nav_handover": "Handover", "nav_report": "Daily report",
        "nav_list": "Live alarms", "nav_map": "Risk map", "map_note": "Updated every 15 s; click an enterprise for details",
        "nav_suppress": "Suppressions", "feedback_only": "Awaiting feedback only", "from": "Raised from", "to": "to",
        "last_24h": "Last 24 h", "last_7d": "Last 7 days", "any_time": "Any time", "sort": "Sort", "more": "Show more",
        "sorts": {"newest": "newest first", "oldest": "oldest first", "severity": "most severe first",
                  "unsigned": "unsigned first", "enterprise": "by enterprise"},
    },
}
POST_SCRIPT = '<script src="/desk/static/post.js"></script>'   # the one CSRF-carrying POST of every page
_STYLE = """body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;background:#f4f5f7;color:#1d2129}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1f3a5f;color:#fff}
header h1{font-size:1.2rem;margin:0;flex:1} main{padding:1rem} table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e5e6eb;padding:.45rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#f2f3f5} tr.sound td{background:#fff1f0} .lvl{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff}
.red,.second{background:#cf1322}.orange{background:#d46b08}.yellow{background:#d4b106;color:#000}.blue{background:#1677ff}
.first{background:#d46b08}.warning{background:#8c8c8c}.fire{background:#a8071a}
#banner{background:#cf1322;color:#fff;padding:.5rem 1rem;font-weight:bold} .bar{display:flex;gap:.6rem;flex-wrap:wrap;margin-bottom:.6rem}
form.login{max-width:22rem;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:6px}
form.login input{width:100%;box-sizing:border-box;margin:.3rem 0 .8rem;padding:.4rem} .error{color:#cf1322}
#status{font-size:.85rem} nav a{color:#fff;margin:0 .3rem} #map svg{width:100%;max-width:1100px;max-height:78vh;background:#fff}
.printonly{display:none} @media print{.noprint,header{display:none}.printonly{display:block}body{background:#fff}}"""


def head(title: str, language: str) -> str:
    lang = "zh-CN" if language == "zh" else "en"
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>')


def login_page(language: str, next_path: str, error: bool) -> str:
    t = LABELS[language]
    problem = f'<p class="error" role="alert">{t["bad_login"]}</p>' if error else ""
    return (f'{head(t["desk"], language)}<body><form class="login" method="post" action="/desk/login">'
            f'<h1>{t["desk"]}</h1>{problem}<input type="hidden" name="next" value="{escape(next_path)}">'
            f'<label>{t["name"]}<input name="name" autocomplete="username" required autofocus></label>'
            f'<label>{t["password"]}<input name="password" type="password" autocomplete="current-password" required></label>'
            f'<button type="submit">{t["sign_in"]}</button></form></body></html>')


def who(t: dict[str, Any], account: Account, language: str) -> str:
    role = t["roles"][account.role]
    return f"{escape(account.display_name)}（{role}）" if language == "zh" else f"{escape(account.display_name)} ({role})"


def nav(t: dict[str, Any], account: Account) -> str:
    """The desk's pages, less 交接班 for an enterprise's account (handovers are between duty rooms)."""
    every = (("/desk", "nav_list"), ("/desk/map", "nav_map"), ("/desk/suppressions", "nav_suppress"),
             ("/desk/handover", "nav_handover"), ("/desk/report", "nav_report"))
    links = [link for link in every if account.role != "enterprise" or link[1] != "nav_handover"]
    return "<nav>" + " · ".join(f'<a href="{href}">{t[key]}</a>' for href, key in links) + "</nav>"


def framed(title: str, language: str, account: Account, csrf: str, content: str, script: str = "") -> str:
    """A desk page: the header with the navigation and who is signed in (not printed), then ``content``."""
    t = LABELS[language]
    return (f'{head(title, language)}<body data-language="{language}" data-csrf="{escape(csrf)}">'
            f'<header class="noprint"><h1>{escape(title)}</h1>{nav(t, account)}<span>{who(t, account, language)}</span></header>'
            f'<main><h1 class="printonly">{escape(title)}</h1>{content}</main>{POST_SCRIPT}<script>{script}</script></body></html>')


def map_page(language: str, account: Account, csrf: str, svg: str) -> str:
    """风险一张图: the server's SVG, fetched again every 15 s."""
    t = LABELS[language]
    script = ("setInterval(async()=>{const r=await fetch('/desk/map.svg',{credentials:'same-origin'});"
              "if(r.ok){document.getElementById('map').innerHTML=await r.text();}},15000);")
    return framed(t["nav_map"], language, account, csrf, f'<p>{t["map_note"]}</p><div id="map">{svg}</div>', script)


def html(text: str, status: int = 200) -> web.Response:
    """A page as the desk answers it."""
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def desk_page(language: str, account: Account, csrf: str, now_ms: int) -> str:
    """The live list; ``now_ms`` is the service's clock, from which the page's time presets count (Beijing time)."""
    t = LABELS[language]
    officer = who(t, account, language)
    filters = "".join(f'<label>{t[key]} <select id="filter-{key}"><option value="">{t["all"]}</option></select></label>'
                      for key in ("state", "town", "domain", "enterprise", "kind"))
    times = (f'<label>{t["from"]} <input type="datetime-local" id="filter-from"></label>'
             f'<label>{t["to"]} <input type="datetime-local" id="filter-to"></label>'
             + "".join(f'<button type="button" class="preset" data-hours="{h}">{t[k]}</button>'
                       for k, h in (("last_24h", 24), ("last_7d", 168), ("any_time", 0))))
    sorts = "".join(f'<option value="{k}">{words}</option>' for k, words in t["sorts"].items())
    acting = "" if account.acts else ' data-read-only="true"'
    return (f'{head(t["desk"], language)}<body data-language="{language}" data-csrf="{escape(csrf)}" '
            f'data-sound="off" data-now-ms="{now_ms}"{acting}>'
            f'<header><h1>{t["desk"]}</h1>{nav(t, account)}<span id="status">{t["live"]}</span><span>{officer}</span>'
            f'<button id="enable-sound">{t["enable_sound"]}</button><button id="sign-out">{t["sign_out"]}</button></header>'
            f'<div id="banner" role="alert" hidden>{t["sound_on"]}</div><main>'
            f'<div class="bar">{filters}{times}<label>{t["sort"]} <select id="sort">{sorts}</select></label><label><input type="checkbox" id="filter-feedback"> {t["feedback_only"]}'
            f'（<b id="feedback-count">0</b>）</label><span><b id="count">0</b> {t["count"]}</span></div>'
            f'<div class="bar" id="bulk"><label><input type="checkbox" id="select-all"> {t["select_all"]}</label>'
            f'<input id="ack-comment" placeholder="{t["comment"]}"><button id="ack-selected">{t["ack_selected"]}</button></div>'
            f'<table><thead><tr><th></th><th>{t["time"]}</th><th>{t["place"]}</th><th>{t["content"]}</th>'
            f'<th>{t["level"]}</th><th>{t["state"]}</th><th>{t["action"]}</th></tr></thead><tbody id="alarms"></tbody></table>'
            f'<p><button id="more" type="button" hidden>{t["more"]}</button></p>'
            f'</main><script id="labels" type="application/json">{_labels_json(t)}</script>'
            f'{POST_SCRIPT}<script src="/desk/static/desk.js"></script></body></html>')


def _labels_json(t: dict) -> str:
    words = {k: v for k, v in t.items() if isinstance(v, str)}
    return json.dumps(words, ensure_ascii=False).replace("</", "<\\/")
