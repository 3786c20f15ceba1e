"""The alarm page (``/alarms/{id}``): server-rendered HTML and a small script, no build step.

The page carries no data itself; its script reads the alarm through the API with the officer's
token (kept in the browser's localStorage) and posts acknowledgements and disposal notes (处置反馈 with its cause chosen from the five of issue 17).
"""

from __future__ import annotations

from html import escape
from typing import Literal

from alerting.text import Texts

_LABELS = {
    "zh": {"title": "报警处置", "token": "访问令牌", "save": "保存", "officer": "处置人", "comment": "签收意见",
           "ack": "签收报警", "note": "处置反馈", "cause": "原因", "measures": "措施", "close": "关闭报警",
           "loading": "加载中…", "choose": "请选择原因"},
    "en": {"title": "Alarm", "token": "Access token", "save": "Save", "officer": "Officer", "comment": "Comment",
           "ack": "Acknowledge", "note": "Disposal note", "cause": "Cause", "measures": "Measures", "close": "Close alarm",
           "loading": "Loading…", "choose": "Choose the cause"},
}


def alarm_page(alarm_id: str, language: Literal["zh", "en"]) -> str:
    t = _LABELS[language]
    lang = "zh-CN" if language == "zh" else "en"
    causes = "".join(f'<option value="{code}">{words}</option>' for code, words in Texts(language).causes())
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{t['title']} {escape(alarm_id)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:46rem;margin:1rem auto;padding:0 1rem}}
dt{{font-weight:bold}} textarea,input,select{{width:100%;box-sizing:border-box}} section{{margin:1rem 0}}
#error{{color:#b00}} .state{{font-size:1.3rem}}</style></head>
<body data-alarm-id="{escape(alarm_id)}" data-language="{language}">
<h1>{t['title']}</h1>
<section><label>{t['token']} <input id="token" type="password"></label> <button id="save-token">{t['save']}</button></section>
<p id="error" role="alert"></p>
<section id="alarm"><p>{t['loading']}</p></section>
<section id="readings"><img src="/desk/alarms/{escape(alarm_id)}/readings.svg" alt="" style="width:100%" onerror="this.parentNode.hidden=true"></section>
<section><label>{t['officer']} <input id="officer"></label></section>
<section id="ack-form"><label>{t['comment']}<textarea id="comment"></textarea></label>
<button id="ack">{t['ack']}</button></section>
<section id="close-form"><label>{t['note']}<textarea id="note"></textarea></label>
<label>{t['cause']} <select id="cause" required data-choose="{t['choose']}"><option value="">{t['choose']}</option>{causes}</select></label><label>{t['measures']}<input id="measures"></label>
<button id="close">{t['close']}</button></section>
<script src="/static/alarm.js"></script>
</body></html>"""
