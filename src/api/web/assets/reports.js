// The reports page: KPI table for a date range grouped by day / hour / queue / agent, its CSV,
// the calls behind a row in a dialog, a trend line per day (connection rate, service level) and a bar per hour (offered,
// answered); and the month view for the vendor assessment with 漏报 / 错报 marks on orders.
(function () {
  "use strict";
  const { t, el, $, api } = H;
  const COLS = [
    ["key", "key"], ["offered", "offered"], ["answered", "answered"], ["abandoned", "abandoned"],
    ["short_abandoned", "short_abandoned"], ["connection_rate", "connection_rate", H.pct],
    ["service_level", "service_level", H.pct], ["asa_secs", "asa", H.secs], ["aht_secs", "aht", H.secs],
    ["wrap_up_secs", "wrap_up_time", H.secs], ["callback_rate", "callback_rate", H.pct],
    ["satisfaction_rate", "satisfaction", H.pct], ["orders_created", "orders_created"],
    ["on_time_closure_rate", "on_time", H.pct], ["first_contact_resolution", "fcr", H.pct],
  ];
  let lastKpi = null;
  let lastMonth = null;

  function showLogin(show) {
    $("#login").classList.toggle("hidden", !show);
    $("#reports").classList.toggle("hidden", show);
    $("#logout").classList.toggle("hidden", show);
  }

  function kpiTable(table, rows, total) {
    table.replaceChildren(el("tr", {}, COLS.map(([, k]) => el("th" + (k === "key" ? "" : ".num"), {}, t(k)))));
    const line = (r, isTotal) => el("tr" + (isTotal ? ".total" : ""), { "data-key": r.key },
      COLS.map(([f, , fmt]) => {
        const v = f === "key" && isTotal ? t("total") : r[f];
        const text = fmt ? fmt(v) : v === null || v === undefined ? "—" : String(v);
        if (f !== "key" || !r.calls_url) return el(f === "key" ? "td" : "td.num", {}, text);
        // The row's calls (every number traces back to them), listed in a dialog.
        return el("td.key", {}, [text, " ", el("a", {
          href: "#calls", title: t("show_calls"), class: "calls",
          onclick: (e) => { e.preventDefault(); showCalls(r.calls_url, text); },
        }, "↗")]);
      }));
    for (const r of rows) table.append(line(r, false));
    if (total) table.append(line(total, true));
    if (!rows.length) table.append(el("tr", {}, el("td.muted", { colspan: COLS.length }, t("no_data"))));
  }

  // A label for a code ("disp.answered" → 接听), the code itself when there is none.
  const label = (prefix, code) => {
    const v = t(prefix + code);
    return v === prefix + code ? code : v;
  };

  // The calls of a report row: `calls_url` (`/api/v1/calls?…`) read through the API helper
  // with the session token, shown in the dialog: number, offered, answered, disposition,
  // agent and the order, which opens below the list.
  async function showCalls(callsUrl, rowLabel) {
    const dialog = $("#calls-dialog");
    const url = new URL(callsUrl, location.origin);
    if (!url.searchParams.has("limit")) url.searchParams.set("limit", "500");
    $("#calls-title").textContent = t("calls") + " · " + rowLabel;
    $("#calls-error").textContent = "";
    $("#calls-summary").textContent = "";
    $("#calls-order").replaceChildren();
    const table = $("#calls-table");
    table.replaceChildren(el("tr", {}, ["number", "offered", "answered", "disposition", "agent", "order"]
      .map((k) => el("th", {}, t(k)))));
    if (!dialog.open) dialog.showModal();
    try {
      const page = await api("GET", url.pathname.replace(/^\/api\/v1/, "") + url.search);
      for (const c of page.items) {
        const order = c.work_order_id === null ? "—" : el("a", {
          href: "#order-" + c.work_order_id, class: "order",
          onclick: (e) => { e.preventDefault(); showOrder(c.work_order_id); },
        }, "#" + c.work_order_id);
        table.append(el("tr", { "data-call": c.id }, [
          el("td", {}, c.from_number), el("td", {}, H.time(c.offered_at)),
          el("td", {}, H.time(c.answered_at)),
          el("td", {}, c.disposition ? label("disp.", c.disposition) : t("in_progress")),
          el("td", {}, c.agent_id || "—"), el("td", {}, order),
        ]));
      }
      if (!page.items.length) table.append(el("tr", {}, el("td.muted", { colspan: 6 }, t("no_data"))));
      $("#calls-summary").textContent = page.items.length < page.total
        ? page.items.length + " / " + page.total : String(page.total);
    } catch (err) {
      $("#calls-error").textContent = err.message;
    }
  }

  async function showOrder(id) {
    const box = $("#calls-order");
    box.replaceChildren(el("p.muted", {}, "…"));
    try {
      const o = await api("GET", "/work-orders/" + id);
      box.replaceChildren(el("dl", { "data-order": o.number }, [
        el("dt", {}, t("order")), el("dd", {}, o.number),
        el("dt", {}, t("status")), el("dd", {}, label("status.", o.status)),
        el("dt", {}, t("category")), el("dd", {}, o.category_id || "—"),
        el("dt", {}, t("description")), el("dd", {}, o.title ? o.title + " — " + o.description : o.description),
        el("dt", {}, t("time")), el("dd", {}, H.time(o.created_at)),
      ]));
    } catch (err) {
      box.replaceChildren(el("p.error", {}, err.message));
    }
  }

  function query() {
    const p = new URLSearchParams({ from: $("#from").value, to: $("#to").value, group: $("#group").value });
    if ($("#queue").value.trim()) p.set("queue", $("#queue").value.trim());
    if ($("#agent").value.trim()) p.set("agent", $("#agent").value.trim());
    return p;
  }

  async function loadKpi(e) {
    if (e) e.preventDefault();
    $("#kpi-error").textContent = "";
    const p = query();
    const by = (g) => { const q = new URLSearchParams(p); q.set("group", g); return api("GET", "/reports/kpi?" + q); };
    try {
      const [main, days, hours] = await Promise.all([api("GET", "/reports/kpi?" + p), by("day"), by("hour")]);
      lastKpi = { main, days, hours };
      renderKpi();
    } catch (err) {
      $("#kpi-error").textContent = err.message;
    }
  }

  function renderKpi() {
    if (!lastKpi) return;
    const { main, days, hours } = lastKpi;
    kpiTable($("#kpi-table"), main.rows, main.total);
    lineChart($("#chart-trend"), days.rows.map((r) => r.key.slice(5)), [
      { name: t("connection_rate"), color: "#1565c0", values: days.rows.map((r) => r.connection_rate) },
      { name: t("service_level"), color: "#2e7d32", values: days.rows.map((r) => r.service_level) },
    ]);
    const byHour = Object.fromEntries(hours.rows.map((r) => [r.key, r]));
    const hs = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));
    barChart($("#chart-hours"), hs, [
      { name: t("offered"), color: "#90a4ae", values: hs.map((h) => (byHour[h] || {}).offered || 0) },
      { name: t("answered"), color: "#1565c0", values: hs.map((h) => (byHour[h] || {}).answered || 0) },
    ]);
  }

  // CSV through fetch (it needs the bearer token), saved as a file.
  async function download(path, name, errBox) {
    try {
      const r = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + H.token } });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || r.status);
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      errBox.textContent = err.message;
    }
  }

  async function loadMonth(e) {
    if (e) e.preventDefault();
    $("#month-error").textContent = "";
    try {
      lastMonth = await api("GET", "/reports/month?month=" + $("#month").value);
      renderMonth();
    } catch (err) {
      $("#month-error").textContent = err.message;
    }
  }

  function renderMonth() {
    if (!lastMonth) return;
    const m = lastMonth;
    const tg = m.targets || {};
    const mark = (v, target) => (v === null || target === undefined ? "" : v >= target ? "good" : "bad");
    $("#month-summary").replaceChildren(el("p", {}, [
      t("connection_rate") + ": ", el("b." + mark(m.total.connection_rate, tg.connection_rate), {}, H.pct(m.total.connection_rate)),
      " (" + t("targets") + " " + H.pct(tg.connection_rate) + ") · " + t("service_level") + ": ",
      el("b." + mark(m.total.service_level, tg.service_level), {}, H.pct(m.total.service_level)),
      " (" + t("targets") + " " + H.pct(tg.service_level) + ") · " + t("missed") + ": ",
      el("b", { id: "marks-missed" }, String(m.marks.missed)), " · " + t("wrong") + ": ",
      el("b", { id: "marks-wrong" }, String(m.marks.wrong)),
    ]));
    kpiTable($("#month-days"), m.days, m.total);
    const table = $("#month-marks");
    table.replaceChildren(el("tr", {}, ["order", "kind", "note", "marked_by", "time", ""].map((k) => el("th", {}, k ? t(k) : ""))));
    for (const o of m.marks.orders) {
      table.append(el("tr", { "data-mark": o.id }, [
        el("td", {}, o.order_number), el("td", {}, t(o.kind)), el("td", {}, o.note || ""),
        el("td", {}, o.marked_by), el("td", {}, H.time(o.marked_at)),
        el("td", {}, el("button", { type: "button", onclick: () => withdraw(o) }, t("withdraw"))),
      ]));
    }
  }

  async function withdraw(o) {
    try {
      await api("POST", "/work-orders/" + encodeURIComponent(o.order_number) + "/marks/" + o.id + "/withdraw");
      await loadMonth();
    } catch (err) {
      H.toast(err.message, true);
    }
  }

  async function submitMark(e) {
    e.preventDefault();
    $("#mark-error").textContent = "";
    try {
      const body = { kind: $("#mark-kind").value };
      if ($("#mark-note").value.trim()) body.note = $("#mark-note").value.trim();
      await api("POST", "/work-orders/" + encodeURIComponent($("#mark-order").value.trim()) + "/marks", body);
      H.toast(t("saved"));
      $("#mark-note").value = "";
      if ($("#month").value) await loadMonth();
    } catch (err) {
      $("#mark-error").textContent = err.message;
    }
  }

  async function start(s) {
    H.token = s.token;
    showLogin(false);
    // "Today" is the city's day (its utc_offset), which the server knows; the browser's own
    // clock may be in another zone.
    let today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
    try {
      const t = await api("GET", "/reports/today");
      if (t && t.date) today = new Date(t.date + "T00:00:00Z");
    } catch (_) { /* keep the browser's day */ }
    const iso = (d) => d.toISOString().slice(0, 10);
    if (!$("#to").value) $("#to").value = iso(today);
    if (!$("#from").value) $("#from").value = iso(new Date(today.getTime() - 6 * 86400000));
    if (!$("#month").value) $("#month").value = iso(today).slice(0, 7);
    loadKpi();
  }

  H.onLang.push(() => { renderKpi(); renderMonth(); });

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
    $("#kpi-form").addEventListener("submit", loadKpi);
    $("#kpi-csv").addEventListener("click", () => {
      const p = query();
      p.set("format", "csv");
      download("/reports/kpi?" + p, "kpi-" + p.get("from") + "-" + p.get("to") + ".csv", $("#kpi-error"));
    });
    $("#month-form").addEventListener("submit", loadMonth);
    $("#month-csv").addEventListener("click", () =>
      download("/reports/month?format=csv&month=" + $("#month").value, "month-" + $("#month").value + ".csv", $("#month-error")));
    $("#mark-form").addEventListener("submit", submitMark);
    $("#calls-close").addEventListener("click", () => $("#calls-dialog").close());
    const s = H.session("super");
    if (s) start(s); else showLogin(true);
  });
})();
