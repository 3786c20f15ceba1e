// Alarm page: shows one alarm from the API and posts acknowledgements and disposal notes.
"use strict";
(function () {
  const body = document.body;
  const alarmId = body.dataset.alarmId;
  const $ = (id) => document.getElementById(id);
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

  // §10: the rows come composed by the API (alarm.view: names, units, the desk's words); the codes only folded
  function render(alarm) {
    const list = document.createElement("dl");
    alarm.view.rows.forEach(({field, label, text}) => {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = text; dd.dataset.field = field;
      list.append(dt, dd);
    });
    const state = document.createElement("p");
    state.className = "state"; state.id = "state"; state.dataset.state = alarm.state;
    state.textContent = alarm.view.state;
    const details = document.createElement("details");
    const summary = document.createElement("summary"); summary.textContent = alarm.view.details_label;
    const codes = document.createElement("dl");
    alarm.view.details.forEach(({field, text}) => {
      const dt = document.createElement("dt"); dt.textContent = field;
      const dd = document.createElement("dd"); dd.textContent = text;
      codes.append(dt, dd);
    });
    details.append(summary, codes);
    $("alarm").replaceChildren(state, list, details);
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
  $("close").addEventListener("click", () => {
    if (!$("cause").value) { $("error").textContent = $("cause").dataset.choose; $("cause").focus(); return; }
    act("close", {note: $("note").value, cause: $("cause").value, measures: $("measures").value || undefined});
  });
  load();
})();
