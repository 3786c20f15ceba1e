// Alarm page: shows one alarm from the API and posts acknowledgements and disposal notes.
"use strict";
(function () {
  const body = document.body;
  const alarmId = body.dataset.alarmId;
  const zh = body.dataset.language === "zh";
  const $ = (id) => document.getElementById(id);
  const STATES = zh ? {active: "未签收", acknowledged: "已签收", cleared: "已恢复", closed: "已关闭"}
                    : {active: "active", acknowledged: "acknowledged", cleared: "cleared", closed: "closed"};
  const FIELDS = zh
    ? [["message", "报警内容"], ["enterprise", "企业"], ["site", "单元"], ["point", "点位"], ["rule", "规则"],
       ["level", "级别"], ["value", "数值"], ["limit", "限值"], ["started_at", "开始时间"], ["escalated_to", "已上报至"],
       ["acked_by", "签收人"], ["acked_at", "签收时间"], ["ack_comment", "签收意见"], ["closed_by", "关闭人"],
       ["closed_at", "关闭时间"], ["close_note", "处置反馈"]]
    : [["message_en", "Message"], ["enterprise", "Enterprise"], ["site", "Site"], ["point", "Point"], ["rule", "Rule"],
       ["level", "Level"], ["value", "Value"], ["limit", "Limit"], ["started_at", "Started"], ["escalated_to", "Escalated to"],
       ["acked_by", "Acknowledged by"], ["acked_at", "Acknowledged at"], ["ack_comment", "Comment"], ["closed_by", "Closed by"],
       ["closed_at", "Closed at"], ["close_note", "Disposal note"]];
  const TIMES = new Set(["started_at", "acked_at", "closed_at"]);

  $("token").value = localStorage.getItem("hazmon-token") || "";
  $("save-token").addEventListener("click", () => { localStorage.setItem("hazmon-token", $("token").value.trim()); load(); });

  async function call(method, path, payload) {
    const response = await fetch(path, {
      method, headers: {"Authorization": "Bearer " + $("token").value.trim(), "Content-Type": "application/json"},
      body: payload === undefined ? undefined : JSON.stringify(payload)});
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || response.status);
    return data;
  }

  function render(alarm) {
    const rows = FIELDS.filter(([key]) => alarm[key] !== null && alarm[key] !== undefined).map(([key, label]) => {
      const value = TIMES.has(key) ? new Date(alarm[key]).toLocaleString(zh ? "zh-CN" : "en") : String(alarm[key]);
      const dd = document.createElement("dd"); dd.textContent = value; dd.dataset.field = key;
      const dt = document.createElement("dt"); dt.textContent = label;
      return [dt, dd];
    });
    const state = document.createElement("p");
    state.className = "state"; state.id = "state"; state.dataset.state = alarm.state;
    state.textContent = (zh ? "状态：" : "State: ") + STATES[alarm.state]
      + (alarm.awaiting_feedback ? (zh ? "（待反馈）" : " (awaiting feedback)") : "");
    const list = document.createElement("dl");
    rows.forEach(([dt, dd]) => list.append(dt, dd));
    $("alarm").replaceChildren(state, list);
    $("ack-form").hidden = alarm.acked_at !== null || alarm.state === "closed";
    $("close-form").hidden = alarm.state === "closed";
  }

  async function load() {
    try { render(await call("GET", "/api/v1/alarms/" + encodeURIComponent(alarmId))); $("error").textContent = ""; }
    catch (err) { $("error").textContent = err.message; }
  }

  async function act(action, payload) {
    try {
      payload.officer = $("officer").value.trim() || undefined;
      render(await call("POST", "/api/v1/alarms/" + encodeURIComponent(alarmId) + "/" + action, payload));
      $("error").textContent = "";
    } catch (err) { $("error").textContent = err.message; }
  }

  $("ack").addEventListener("click", () => act("ack", {comment: $("comment").value}));
  $("close").addEventListener("click", () => act("close", {note: $("note").value, cause: $("cause").value || undefined,
                                                           measures: $("measures").value || undefined}));
  load();
})();
