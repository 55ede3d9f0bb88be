// Shared by the pages: the session (token in localStorage), API calls with the bearer token,
// the i18n switch, the live event stream with reconnects, and small DOM and format helpers.
(function () {
  "use strict";
  const H = {};
  window.H = H;

  H.lang = localStorage.getItem("hotline.lang") === "en" ? "en" : "zh";
  H.t = function (key) {
    const table = window.H_I18N[H.lang] || {};
    return key in table ? table[key] : (window.H_I18N.zh[key] || key);
  };
  H.applyI18n = function (root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((e) => {
      e.textContent = H.t(e.dataset.i18n);
    });
    (root || document).querySelectorAll("[data-i18n-ph]").forEach((e) => {
      e.placeholder = H.t(e.dataset.i18nPh);
    });
    document.documentElement.lang = H.lang === "en" ? "en" : "zh-CN";
  };
  H.onLang = [];
  H.setLang = function (lang) {
    H.lang = lang;
    localStorage.setItem("hotline.lang", lang);
    H.applyI18n();
    H.onLang.forEach((f) => f());
  };

  // The session of this page kind ("desk" or "super"): {token, user, expires_at}.
  H.session = function (kind) {
    try {
      const s = JSON.parse(localStorage.getItem("hotline.session." + kind) || "null");
      if (s && new Date(s.expires_at) > new Date()) return s;
    } catch (e) { /* a broken entry is no session */ }
    return null;
  };
  H.token = null;
  H.login = async function (kind, body) {
    const r = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const v = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(v.message || H.t("login_failed"));
    localStorage.setItem("hotline.session." + kind, JSON.stringify(v));
    H.token = v.token;
    return v;
  };
  H.logout = async function (kind) {
    if (H.token) {
      await fetch("/api/v1/session", {
        method: "DELETE",
        headers: { Authorization: "Bearer " + H.token },
      }).catch(() => {});
    }
    localStorage.removeItem("hotline.session." + kind);
    H.token = null;
  };

  // One API call; resolves to the JSON body (null for 204), rejects with an Error whose
  // message is the API's and whose .status is the HTTP status.
  H.api = async function (method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + H.token } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch("/api/v1" + path, opts);
    if (r.status === 204) return null;
    const ct = r.headers.get("Content-Type") || "";
    const v = ct.includes("json") ? await r.json().catch(() => null) : await r.text();
    if (!r.ok) {
      const msg = (v && v.message) || (v && v.error && v.error.message) || r.status + "";
      const e = new Error(msg);
      e.status = r.status;
      throw e;
    }
    return v;
  };

  // The event stream: calls onEvent(json) for each event, onStatus(true/false) on (dis)connect,
  // reconnecting after a pause while the page lives. When the server closes it because the
  // session ended (close code 4401) it calls onEnded() instead of reconnecting.
  H.events = function (onEvent, onStatus, onEnded) {
    let delay = 1000;
    function connect() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(
        proto + "//" + location.host + "/api/v1/events?access_token=" + encodeURIComponent(H.token));
      ws.onopen = () => { delay = 1000; onStatus && onStatus(true); };
      ws.onmessage = (m) => {
        try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); }
      };
      ws.onclose = (c) => {
        onStatus && onStatus(false);
        if (c.code === 4401) { onEnded && onEnded(); return; }
        if (H.token) setTimeout(connect, delay);
        delay = Math.min(delay * 2, 15000);
      };
    }
    connect();
  };

  // el("div.card", {onclick: f, "data-x": 1}, [children or text])
  H.el = function (spec, attrs, children) {
    const [tag, ...classes] = spec.split(".");
    const e = document.createElement(tag);
    if (classes.length) e.className = classes.join(" ");
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of [].concat(children === undefined ? [] : children)) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  };
  H.$ = (sel) => document.querySelector(sel);

  H.secs = function (s) {
    if (s === null || s === undefined || isNaN(s)) return "—";
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + two(m) : m) + ":" + two(x);
  };
  H.pct = (r) => (r === null || r === undefined ? "—" : (r * 100).toFixed(1) + "%");
  H.time = function (iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return d.toLocaleString(H.lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
  };
  H.toast = function (text, bad) {
    const t = H.el("div.toast" + (bad ? ".bad" : ""), { role: "status" }, text);
    document.body.append(t);
    setTimeout(() => t.remove(), 4000);
  };

  document.addEventListener("DOMContentLoaded", () => {
    H.applyI18n();
    const sw = H.$("#lang");
    if (sw) sw.addEventListener("click", () => H.setLang(H.lang === "zh" ? "en" : "zh"));
  });
})();
