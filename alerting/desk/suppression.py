"""屏蔽 on the desk (``/desk/suppressions``): the suppressions in force with who set them and until when, and for
the duty desk the form that asks the API for one (``POST /api/v1/enterprises/{e}/points/{p}/suppress``). The API
keeps §8's rules (duty only, a reason, at most 72 h, never a fire detector); the form shows its refusal as
worded."""

from __future__ import annotations

from html import escape

from aiohttp import web

from hazmon.registry.names import point_name
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.pages import framed, html
from alerting.desk.source import DeskSource, signed_in

DEFAULT_HOURS = 8
WORDS = {
    "zh": {"title": "屏蔽", "in_force": "生效中的屏蔽", "none": "当前没有生效的屏蔽", "enterprise": "企业", "point": "点位",
           "reason": "原因", "by": "设置人", "since": "开始时间", "until": "到期时间（北京时间）", "submit": "设置屏蔽",
           "form": "设置屏蔽：维护期间该点位的报警不通知、不升级；须填写原因，最长 72 小时，火警点位不能屏蔽",
           "duty_only": "只有县应急管理局值班室可以设置屏蔽"},
    "en": {"title": "Suppressions", "in_force": "Suppressions in force", "none": "No suppression in force",
           "enterprise": "Enterprise", "point": "Point", "reason": "Reason", "by": "Set by", "since": "Since",
           "until": "Until (Beijing time)", "submit": "Suppress",
           "form": "Suppress a point during maintenance (no notification, no escalation): a reason, at most 72 h, "
                   "never a fire detector", "duty_only": "Only the county duty desk may suppress a point"},
}
_SCRIPT = """const form = document.getElementById("suppress");
const BEIJING_MS = 8 * 3600 * 1000;   // the field shows Beijing time, whatever the browser's zone
if (form) form.elements.until.value = new Date(Number(form.elements.until.dataset.defaultMs) + BEIJING_MS)
  .toISOString().slice(0, 16);
if (form) form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const [enterprise, point] = form.elements.point.value.split("/");
  const until = Date.parse(form.elements.until.value + ":00Z") - BEIJING_MS;
  try {
    await window.deskPost(`/api/v1/enterprises/${encodeURIComponent(enterprise)}/points/${encodeURIComponent(point)}/suppress`,
      {reason: form.elements.reason.value, expires_at: until});
    location.reload();
  } catch (refusal) {
    document.getElementById("error").textContent = refusal.message;
  }
});"""


def suppression_routes(source: DeskSource) -> list[web.AbstractRouteDef]:
    async def page(request: web.Request) -> web.Response:
        session = signed_in(request)
        caller: Principal = request[CALLER]
        language, texts, registry = source.language(), source.texts(), source.registry()
        w = WORDS[language]

        def enterprise_name(enterprise: str) -> str:
            doc = registry.enterprises.get(enterprise)
            return doc.enterprise.name if doc is not None else enterprise

        rows = []
        for s in sorted(source.suppressions(), key=lambda s: s.expires_at):
            if not source.may_see(caller, s.enterprise):
                continue
            entry = registry.point(s.enterprise, s.point)
            name = enterprise_name(s.enterprise)
            point = f"{entry.site.name} / {point_name(registry, entry, language)}" if entry is not None else s.point
            cells = (name, point, s.reason, texts.actor(s.by, name), texts.moment(s.since), texts.moment(s.expires_at))
            rows.append('<tr class="suppression">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        heads = "".join(f"<th>{w[k]}</th>" for k in ("enterprise", "point", "reason", "by", "since", "until"))
        listing = (f'<table id="suppressions"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
                   if rows else f'<p id="suppressions">{w["none"]}</p>')
        if caller.role == "duty":
            groups = []
            for enterprise, doc in sorted(registry.enterprises.items(), key=lambda kv: kv[1].enterprise.name):
                options = "".join(
                    f'<option value="{escape(enterprise)}/{escape(e.point.id)}">{escape(e.site.name)} / '
                    f'{escape(point_name(registry, e, language))}</option>'
                    for (owner, _), e in sorted(registry.points.items()) if owner == enterprise)
                groups.append(f'<optgroup label="{escape(doc.enterprise.name)}">{options}</optgroup>')
            until_ms = source.now_ms() + DEFAULT_HOURS * 3_600_000
            form = (f'<h2>{w["submit"]}</h2><p>{w["form"]}</p><form id="suppress" class="bar">'
                    f'<label>{w["point"]} <select name="point" id="suppress-point">{"".join(groups)}</select></label>'
                    f'<label>{w["reason"]} <input name="reason" id="suppress-reason" size="30"></label>'
                    f'<label>{w["until"]} <input name="until" id="suppress-until" type="datetime-local" data-default-ms="{until_ms}">'
                    f'</label><button>{w["submit"]}</button></form>')
        else:
            form = f'<p>{w["duty_only"]}</p>'
        content = f'{form}<p id="error" class="error" role="alert"></p><h2>{w["in_force"]}</h2>{listing}'
        return html(framed(w["title"], language, session.account, session.csrf, content, _SCRIPT))

    return [web.get("/desk/suppressions", page)]
