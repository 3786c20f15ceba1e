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
  // §10: officers read words, not the codes of the API (rule, level, tier)
  const WORDS = zh ? {
    rule: {limit: "限值报警", vote: "多点联动报警", rainfall: "降雨报警", trend: "趋势预警", fault: "设备故障",
           offline: "设备离线", fire: "火警", rollup: "尾矿库预警", platform: "平台数据中断"},
    level: {high: "一级（高）", high_high: "二级（高高）", low: "一级（低）", low_low: "二级（低低）", blue: "蓝色",
            yellow: "黄色", orange: "橙色", red: "红色", high_1h: "1 小时雨量超限", high_24h: "24 小时雨量超限"},
    escalated_to: {enterprise: "企业", county: "县应急管理局值班室", prefecture: "州应急管理局"},
  } : {
    rule: {limit: "limit alarm", vote: "group alarm", rainfall: "rainfall alarm", trend: "trend warning",
           fault: "device fault", offline: "device offline", fire: "fire alarm", rollup: "tailings pond warning",
           platform: "platform data outage"},
    level: {high: "level 1 (high)", high_high: "level 2 (high-high)", low: "level 1 (low)", low_low: "level 2 (low-low)",
            high_1h: "1 h rainfall over limit", high_24h: "24 h rainfall over limit"},
    escalated_to: {enterprise: "enterprise", county: "county duty desk", prefecture: "prefecture"},
  };
  const shown = (key, value) => TIMES.has(key) ? new Date(value).toLocaleString(zh ? "zh-CN" : "en")
                                               : (WORDS[key] || {})[value] || String(value);

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
      const dd = document.createElement("dd"); dd.textContent = shown(key, alarm[key]); dd.dataset.field = key;
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
