// The duty desk's live alarm list (值班工作台): server-sent events from /desk/events, filters (time too), sort, sound and
// browser notifications for fire, red and second-level alarms until signed, 签收 one or many, the 待反馈 filter.
// The session cookie signs the officer in; every change goes through window.deskPost (post.js, the CSRF token).
"use strict";
(() => {
  const body = document.body;
  const words = JSON.parse(document.getElementById("labels").textContent);
  const readOnly = body.dataset.readOnly === "true";
  const alarms = new Map();            // id -> alarm as /desk/events gives it
  const notified = new Set();          // ids a browser notification was shown for
  const filterKeys = ["state", "town", "domain", "enterprise", "kind"];
  let soundOn = false;
  let audio = null;

  const row = (alarm, field) => alarm.rows[field] || "";    // the list's words of the alarm (§10)
  const PAGE = 100;                     // rows drawn at first; 显示更多 draws the next hundred
  let drawn = PAGE;
  const facets = {
    state: (a) => [a.desk.state, a.desk.state],
    town: (a) => [a.desk.town, a.desk.town],
    domain: (a) => [a.desk.domain, a.desk.domain],
    enterprise: (a) => [a.enterprise, row(a, "enterprise")],
    kind: (a) => [row(a, "severity"), row(a, "severity")],
  };
  const unsigned = (a) => a.acked_at === null && a.state !== "closed";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (k === "class") node.className = v; else node.setAttribute(k, v); });
    children.forEach((c) => node.append(c));
    return node;
  }

  const asked = new URLSearchParams(location.search);   // e.g. /desk?enterprise=ID or /desk?awaiting_feedback=true

  function refreshFilters() {
    filterKeys.forEach((key) => {
      const select = document.getElementById(`filter-${key}`);
      const chosen = select.value || asked.get(key) || "";
      const options = new Map();
      alarms.forEach((a) => { const [value, text] = facets[key](a); if (value) options.set(value, text); });
      select.replaceChildren(el("option", {value: ""}, words.all),
        ...[...options].sort((x, y) => x[1].localeCompare(y[1], "zh")).map(([v, t]) => el("option", {value: v}, t)));
      select.value = options.has(chosen) ? chosen : "";
      if (options.has(chosen)) asked.delete(key);
    });
  }

  const feedbackOnly = document.getElementById("filter-feedback");   // 待反馈: cleared before anyone signed
  feedbackOnly.checked = asked.get("awaiting_feedback") === "true";

  // 报警时间从/到: Beijing time in the fields whatever the browser's zone; the presets count back from the
  // service's clock (data-now-ms when the page was made, plus the time since), not the browser's
  const BEIJING_MS = 8 * 3600 * 1000;
  const loadedAt = Date.now();
  const serviceNow = () => Number(body.dataset.nowMs) + (Date.now() - loadedAt);
  const from = document.getElementById("filter-from");
  const to = document.getElementById("filter-to");
  const fieldMs = (field) => field.value ? Date.parse(field.value.slice(0, 16) + ":00Z") - BEIJING_MS : null;
  const fieldText = (ms) => new Date(ms + BEIJING_MS).toISOString().slice(0, 16);
  from.value = asked.get("from") || "";
  to.value = asked.get("to") || "";

  const severe = (a) => (a.rule === "fire" ? 10 : 0) + (a.sound ? 5 : 0) + a.severity;
  const newest = (x, y) => y.started_at - x.started_at || y.id.localeCompare(x.id);
  const sorts = {
    newest,
    oldest: (x, y) => -newest(x, y),
    severity: (x, y) => severe(y) - severe(x) || newest(x, y),
    unsigned: (x, y) => Number(unsigned(y)) - Number(unsigned(x)) || newest(x, y),
    enterprise: (x, y) => row(x, "enterprise").localeCompare(row(y, "enterprise"), "zh") || newest(x, y),
  };
  const sortBy = document.getElementById("sort");
  if (sorts[asked.get("sort")]) sortBy.value = asked.get("sort");

  function shown() {
    const chosen = Object.fromEntries(filterKeys.map((k) => [k, document.getElementById(`filter-${k}`).value || asked.get(k)]));
    const [since, until] = [fieldMs(from), fieldMs(to)];
    return [...alarms.values()]
      .filter((a) => !feedbackOnly.checked || a.awaiting_feedback)
      .filter((a) => filterKeys.every((k) => !chosen[k] || facets[k](a)[0] === chosen[k]))
      .filter((a) => (since === null || a.started_at >= since) && (until === null || a.started_at < until + 60000))
      .sort(sorts[sortBy.value] || newest);
  }

  function render() {
    refreshFilters();
    const list = shown();
    document.getElementById("count").textContent = String(list.length);
    document.getElementById("feedback-count").textContent = String([...alarms.values()].filter((a) => a.awaiting_feedback).length);
    const more = document.getElementById("more");
    more.hidden = list.length <= drawn;
    more.textContent = `${words.more}（${Math.min(drawn, list.length)} / ${list.length}）`;
    document.getElementById("alarms").replaceChildren(...list.slice(0, drawn).map((a) => {
      const box = el("input", {type: "checkbox", class: "pick", "data-id": a.id});
      if (readOnly || !unsigned(a)) box.disabled = true;
      const actions = el("td", {});
      if (!readOnly && unsigned(a)) {
        const ack = el("button", {class: "ack", "data-id": a.id}, words.ack);
        ack.addEventListener("click", () => acknowledge([a.id]));
        actions.append(ack, " ");
      }
      actions.append(el("a", {href: `/alarms/${encodeURIComponent(a.id)}`}, words.detail));
      const where = [row(a, "site"), row(a, "point") || row(a, "device")].filter(Boolean).join(" / ");
      const place = el("td", {});          // the enterprise's name opens its view
      if (row(a, "enterprise")) {
        place.append(el("a", {href: `/desk/enterprises/${encodeURIComponent(a.enterprise)}`}, row(a, "enterprise")));
        if (where) place.append(" / ");
      }
      place.append(where);
      const tr = el("tr", {"data-id": a.id, class: a.sound && unsigned(a) ? "sound" : ""},
        el("td", {}, box), el("td", {}, row(a, "started_at")), place, el("td", {}, row(a, "message")),
        el("td", {}, el("span", {class: `lvl ${a.desk.tone}`}, row(a, "severity"))), el("td", {class: "state"}, a.desk.state),
        actions);
      return tr;
    }));
    alarmSound();
  }

  function alarmSound() {
    const ringing = [...alarms.values()].filter((a) => a.sound && unsigned(a));
    body.dataset.sound = ringing.length ? "on" : "off";
    document.getElementById("banner").hidden = !ringing.length;
    if (ringing.length && soundOn) beep();
    ringing.filter((a) => !notified.has(a.id)).forEach((a) => {
      notified.add(a.id);
      if (window.Notification && Notification.permission === "granted") {
        new Notification(row(a, "severity"), {body: `${row(a, "enterprise")} ${row(a, "message")}`, tag: a.id});
      }
    });
  }

  function beep() {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  }
  setInterval(() => { if (body.dataset.sound === "on" && soundOn) beep(); }, 3000);

  async function acknowledge(ids) {
    const comment = document.getElementById("ack-comment").value.trim();
    if (!comment) {                       // §8: acknowledged by whom, when, with a comment
      document.getElementById("status").textContent = words.need_comment;
      document.getElementById("ack-comment").focus();
      return;
    }
    const failed = [];
    for (const id of ids) {
      try {
        const alarm = await window.deskPost(`/api/v1/alarms/${encodeURIComponent(id)}/ack`, {comment});
        if (alarm && alarms.has(id)) alarms.set(id, {...alarms.get(id), ...alarm});
      } catch (problem) {
        failed.push(`${id}: ${problem.message}`);
      }
    }
    document.getElementById("status").textContent = failed.length ? failed.join("; ") : words.live;
    render();
  }

  document.getElementById("ack-selected").addEventListener("click", () =>
    acknowledge([...document.querySelectorAll("input.pick:checked")].map((box) => box.dataset.id)));
  document.getElementById("select-all").addEventListener("change", (event) =>
    document.querySelectorAll("input.pick:not(:disabled)").forEach((box) => { box.checked = event.target.checked; }));
  filterKeys.forEach((key) => document.getElementById(`filter-${key}`).addEventListener("change", () => {
    asked.delete(key);
    render();
  }));
  feedbackOnly.addEventListener("change", render);
  document.getElementById("more").addEventListener("click", () => { drawn += PAGE; render(); });
  document.querySelector(".bar").addEventListener("change", () => { drawn = PAGE; }, true);   // a new filter: its first page
  [from, to, sortBy].forEach((field) => field.addEventListener("change", render));
  document.querySelectorAll("button.preset").forEach((button) => button.addEventListener("click", () => {
    const hours = Number(button.dataset.hours);
    from.value = hours ? fieldText(serviceNow() - hours * 3600 * 1000) : "";
    to.value = "";
    render();
  }));
  document.getElementById("enable-sound").addEventListener("click", () => {
    soundOn = true;
    if (window.Notification && Notification.permission === "default") Notification.requestPermission();
    alarmSound();
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    await window.deskPost("/desk/logout").catch(() => null);
    location.href = "/desk/login";
  });

  const events = new EventSource("/desk/events");
  events.addEventListener("snapshot", (event) => {
    alarms.clear();
    JSON.parse(event.data).forEach((a) => alarms.set(a.id, a));
    document.getElementById("status").textContent = words.live;
    render();
  });
  events.addEventListener("alarm", (event) => {
    const {alarm} = JSON.parse(event.data);
    if (alarm.state === "closed") alarms.delete(alarm.id); else alarms.set(alarm.id, alarm);
    body.dataset.lastChange = String(Date.now());
    render();
  });
  events.addEventListener("reload", () => location.reload());
  events.addEventListener("error", () => { document.getElementById("status").textContent = words.reconnecting; });
})();
