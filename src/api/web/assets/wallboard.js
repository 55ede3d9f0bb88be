// The wallboard: queues, agents by state, calls in progress with the supervisor's actions
// (listen, whisper, barge, stop, hang up; force an agent ready / not ready / out) and alerts.
// It reloads GET /api/v1/wallboard when an event arrives (at most once a second) and every
// five seconds anyway; times in a state tick locally between reloads.
(function () {
  "use strict";
  const { t, el, $, api } = H;
  const TARGETS = { service_level: 0.8, connection_rate: 0.95, long_wait_secs: 60 };
  const STATES = ["ready", "on-call", "ringing", "wrap-up", "not-ready", "break", "logged-out"];
  let data = null;
  let loadedAt = 0;
  let pending = null;
  let lastLoad = 0;
  const armed = {};     // call id → until when its 强拆 button is armed

  function showLogin(show) {
    $("#login").classList.toggle("hidden", !show);
    $("#board").classList.toggle("hidden", show);
    $("#logout").classList.toggle("hidden", show);
    $("#ext-box").classList.toggle("hidden", show);
  }

  async function load() {
    lastLoad = Date.now();
    try {
      data = await api("GET", "/wallboard");
    } catch (e) {
      if (e.status === 401) { await H.logout("super"); showLogin(true); return; }
      if (e.status !== 404) { H.toast(e.message, true); return; }
      // A server without the wallboard route: the live view has queues and agents.
      const live = await api("GET", "/live");
      data = { queues: live.queues, agents: live.agents, calls: live.calls || [],
        calls_in_progress: live.calls_in_progress, alerts: [] };
    }
    loadedAt = Date.now();
    render();
  }

  // Reload soon after an event, no more than once a second.
  function soon() {
    if (pending) return;
    const wait = Math.max(0, 1000 - (Date.now() - lastLoad));
    pending = setTimeout(() => { pending = null; load(); }, wait);
  }

  function cls(value, target, higherIsBetter) {
    if (value === null || value === undefined) return "";
    const ok = higherIsBetter ? value >= target : value <= target;
    const near = higherIsBetter ? value >= target * 0.9 : value <= target * 1.5;
    return ok ? "good" : near ? "warn" : "bad";
  }

  function num(value, label, klass) {
    return el("div", {}, [el("div.n" + (klass ? "." + klass : ""), {}, value), el("div.l", {}, label)]);
  }

  function render() {
    const alerts = data.alerts || [];
    const qbox = $("#queues");
    qbox.replaceChildren();
    for (const q of data.queues) {
      const today = q.today || {};
      const alarm = alerts.some((a) => a.queue === q.name && a.severity === "critical");
      qbox.append(el("div.tile" + (alarm ? ".alarm" : ""), { "data-queue": q.name }, [
        el("h2", {}, q.name),
        el("div.nums", {}, [
          num(q.waiting, t("waiting"), q.waiting > 0 ? "warn" : "good"),
          num(H.secs(q.longest_wait_secs), t("longest_wait"),
            cls(q.longest_wait_secs, TARGETS.long_wait_secs, false)),
          num(q.agents_ready + "/" + q.agents_logged_in, t("agents")),
          num(today.answered === undefined ? "—" : today.answered, t("answered")),
          num(today.abandoned === undefined ? "—" : today.abandoned, t("abandoned")),
          num(H.pct(today.service_level), t("service_level"),
            cls(today.service_level, TARGETS.service_level, true)),
          num(H.pct(today.connection_rate), t("connection_rate"),
            cls(today.connection_rate, TARGETS.connection_rate, true)),
          num(today.offered === undefined ? "—" : today.offered, t("offered")),
        ]),
      ]));
    }
    renderCalls();
    renderAgents();
    const ul = $("#alerts");
    ul.replaceChildren();
    if (!alerts.length) ul.append(el("li.muted", {}, t("none")));
    for (const a of alerts) {
      ul.append(el("li.alert." + a.severity, {}, H.lang === "en" ? a.message_en : a.message_zh));
    }
  }

  function elapsed(iso, secs) {
    if (secs !== undefined && secs !== null) return secs + (Date.now() - loadedAt) / 1000;
    if (iso) return (Date.now() - new Date(iso)) / 1000;
    return null;
  }

  function renderCalls() {
    const calls = data.calls || [];
    $("#calls-count").textContent = "(" + (data.calls_in_progress ?? calls.length) + ")";
    const table = $("#calls");
    table.replaceChildren(el("tr", {}, ["caller", "queue", "agent", "stage", "since", "monitor", ""]
      .map((k) => el("th", {}, k ? t(k) : ""))));
    for (const c of calls) {
      const m = c.monitor;
      const modeBtn = (mode) => el("button" + (m && m.mode === mode ? ".on" : ""), {
        type: "button", "data-action": mode,
        onclick: () => monitor(c, mode),
      }, t(mode));
      // 强拆 asks first: the first click arms it for 3 s (kept across reloads of the board).
      const armedNow = (armed[c.id] || 0) > Date.now();
      const hang = el("button.danger", { type: "button", "data-action": "hangup" },
        t(armedNow ? "confirm_hangup" : "hangup"));
      hang.addEventListener("click", () => {
        if ((armed[c.id] || 0) > Date.now()) { delete armed[c.id]; hangup(c); return; }
        armed[c.id] = Date.now() + 3000;
        hang.textContent = t("confirm_hangup");
        setTimeout(() => { if (hang.isConnected) hang.textContent = t("hangup"); }, 3000);
      });
      table.append(el("tr", { "data-call": c.id }, [
        el("td", {}, c.caller), el("td", {}, (c.queue || "—") + (c.number ? " (" + c.number + ")" : "")), el("td", {}, c.agent || "—"),
        el("td", {}, c.stage ? t("stage." + c.stage) : ""), el("td.num.tick", { "data-since": c.answered_at || c.since },
          H.secs(elapsed(c.answered_at || c.since))),
        el("td", {}, m ? t(m.mode) + " · " + m.supervisor + " (" + m.extension + ")" : "—"),
        el("td", {}, [modeBtn("listen"), modeBtn("whisper"), modeBtn("barge"),
          el("button", { type: "button", "data-action": "stop", onclick: () => stopMonitor(c) }, t("stop")),
          hang]),
      ]));
    }
    if (!calls.length) table.append(el("tr", {}, el("td.muted", { colspan: 7 }, t("none"))));
  }

  // The agents of the last render by id, for the clock's tick (a find() per agent element per
  // second would be quadratic with a thousand agents).
  let agentsById = new Map();

  function renderAgents() {
    agentsById = new Map(data.agents.map((a) => [a.id, a]));
    const box = $("#agents");
    box.replaceChildren();
    for (const st of STATES) {
      const agents = data.agents.filter((a) => a.state === st);
      const lane = el("div.lane", { "data-state": st }, el("h3", {}, [
        el("span.state-badge.st-" + st, {}, t("state." + st)), " " + agents.length]));
      for (const a of agents) {
        lane.append(el("div.agent", { "data-agent": a.id }, [
          el("div.who", {}, [a.id + " ", el("span.muted", {}, a.reason || "")]),
          el("div.tick", { "data-secs": a.state_secs ?? "" }, H.secs(elapsed(a.since, a.state_secs))),
          el("div.acts", {}, [
            el("button", { type: "button", onclick: () => force(a, "ready") }, t("force_ready")),
            el("button", { type: "button", onclick: () => force(a, "not-ready") }, t("force_busy")),
            el("button", { type: "button", onclick: () => force(a, "logout") }, t("sign_out")),
          ]),
        ]));
      }
      box.append(lane);
    }
  }

  // Times in a state and call durations tick between reloads.
  setInterval(() => {
    $("#clock").textContent = new Date().toLocaleTimeString(H.lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
    if (!data) return;
    document.querySelectorAll("#agents .tick").forEach((e) => {
      const a = agentsById.get(e.parentNode.dataset.agent);
      if (a) e.textContent = H.secs(elapsed(a.since, a.state_secs));
    });
    document.querySelectorAll("#calls .tick").forEach((e) => {
      e.textContent = H.secs(elapsed(e.dataset.since));
    });
  }, 1000);

  async function run(method, path, body) {
    try {
      await api(method, path, body);
    } catch (e) {
      H.toast(e.message, true);
    }
    soon();
  }

  function monitor(c, mode) {
    const body = { mode };
    const ext = $("#extension").value.trim();
    if (ext) body.extension = ext;
    return run("POST", "/calls/" + encodeURIComponent(c.id) + "/monitor", body);
  }
  const stopMonitor = (c) => run("DELETE", "/calls/" + encodeURIComponent(c.id) + "/monitor");
  const hangup = (c) => run("POST", "/calls/" + encodeURIComponent(c.id) + "/hangup", { reason: "supervisor" });
  function force(a, what) {
    if (what === "logout") return run("POST", "/agents/" + a.id + "/logout");
    const body = what === "ready" ? { state: "ready" } : { state: "not-ready", reason: "supervisor" };
    return run("POST", "/agents/" + a.id + "/state", body);
  }

  function start(s) {
    H.token = s.token;
    showLogin(false);
    $("#extension").value = localStorage.getItem("hotline.extension") || "";
    H.events(() => soon(), (up) => { $("#live-dot").classList.toggle("live", up); if (up) soon(); },
      async () => { await H.logout("super"); showLogin(true); });
    load();
    setInterval(() => { if (Date.now() - lastLoad > 4500) load(); }, 5000);
  }

  H.onLang.push(() => data && render());

  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("#login-error").textContent = "";
      try {
        start(await H.login("super", { token: $("#login-token").value.trim() }));
      } catch (err) {
        $("#login-error").textContent = err.message;
      }
    });
    $("#logout").addEventListener("click", async () => { await H.logout("super"); location.reload(); });
    $("#extension").addEventListener("change", (e) => localStorage.setItem("hotline.extension", e.target.value.trim()));
    const s = H.session("super");
    if (s) start(s); else showLogin(true);
  });
})();
