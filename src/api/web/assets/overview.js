// The leader overview (管理通): tiles of the city's totals, open / overdue orders by district,
// grid cell and category, the most overdue orders, the department ranking of the last 30 days
// (reloaded every 30 s), and the monthly evaluation (综合评价) per department or inspector
// with its CSV.
(function () {
  "use strict";
  const { t, el, $, api } = H;
  const RELOAD_MS = 30000;
  let last = null;
  let lastEval = null;
  let timer = null;

  const num = (v) => (v === null || v === undefined ? "—" : String(v));

  function showLogin(show) {
    $("#login").classList.toggle("hidden", !show);
    $("#overview").classList.toggle("hidden", show);
    $("#logout").classList.toggle("hidden", show);
  }

  // A table from columns [field, i18n key, formatter?] and rows.
  function table(node, cols, rows) {
    node.replaceChildren(el("tr", {}, cols.map(([f, k]) => el(f === cols[0][0] ? "th" : "th.num", {}, t(k)))));
    for (const r of rows) {
      node.append(el("tr", {}, cols.map(([f, , fmt], i) =>
        el(i === 0 ? "td" : "td.num", {}, fmt ? fmt(r[f], r) : num(r[f])))));
    }
    if (!rows.length) node.append(el("tr", {}, el("td.muted", { colspan: cols.length }, t("no_data"))));
  }

  const named = (v, r) => (v === null || v === undefined ? "—" : r.name && r.name !== v ? v + " " + r.name : v);

  function render() {
    if (!last) return;
    const o = last;
    $("#ov-updated").textContent = H.time(o.generated_at);
    const tot = o.totals;
    const tile = (k, v, bad) => el("div.ov-tile" + (bad ? ".bad" : ""), {}, [el("span.muted", {}, t(k)), " ", el("b", {}, num(v))]);
    $("#ov-tiles").replaceChildren(
      tile("open", tot.open), tile("overdue", tot.overdue, tot.overdue > 0), tile("parked", tot.parked),
      tile("reported_today", tot.reported_today), tile("closed_today", tot.closed_today),
      ...Object.entries(tot.by_status).map(([s, n]) => tile("status." + s, n)));
    const area = [["key", "key", named], ["open", "open"], ["overdue", "overdue"], ["parked", "parked"], ["closed_30d", "closed_30d"]];
    table($("#ov-districts"), area, o.districts);
    table($("#ov-grids"), area, o.grid_cells);
    table($("#ov-categories"), [["category_id", "category", named], ["open", "open"], ["overdue", "overdue"],
      ["closed_30d", "closed_30d"], ["on_time_closure_rate", "on_time", H.pct]], o.categories);
    table($("#ov-overdue"), [["number", "order"], ["category_id", "category"], ["grid_cell", "grid_cell"],
      ["department_id", "department"], ["deadline", "deadline", H.time], ["overdue_hours", "overdue_hours"]], o.overdue_orders);
    table($("#ov-ranking"), [["rank", "rank"], ["department", "department", named], ["dispatched", "dispatched"],
      ["handled", "handled"], ["handled_on_time", "handled_on_time"], ["returned", "returned"],
      ["overdue_open", "overdue"], ["on_time_rate", "on_time_handling", H.pct]], o.departments);
  }

  async function load(e) {
    if (e) e.preventDefault();
    $("#ov-error").textContent = "";
    const d = $("#ov-district").value.trim();
    try {
      last = await api("GET", "/overview" + (d ? "?district=" + encodeURIComponent(d) : ""));
      render();
    } catch (err) {
      $("#ov-error").textContent = err.message;
    }
  }

  function renderEval() {
    if (!lastEval) return;
    const ev = lastEval;
    const cols = ev.by === "inspector"
      ? [["inspector", "by.inspector"], ["reports", "reports_count"], ["valid_reports", "valid_reports"],
        ["valid_rate", "valid_rate", H.pct], ["missed", "missed"], ["wrong", "wrong"]]
      : [["department", "department", named], ["registered", "registered"], ["dispatched", "dispatched"],
        ["handled", "handled"], ["handled_on_time", "handled_on_time"],
        ["on_time_handling_rate", "on_time_handling", H.pct], ["returned", "returned"],
        ["reworked", "reworked"], ["closed", "closed"], ["on_time_closure_rate", "on_time", H.pct]];
    const key = cols[0][0];
    const total = Object.assign({}, ev.total, { [key]: t("total"), name: null });
    table($("#ev-table"), cols, ev.rows.concat([total]));
  }

  async function loadEval(e) {
    if (e) e.preventDefault();
    $("#ev-error").textContent = "";
    try {
      lastEval = await api("GET", "/reports/evaluation?month=" + $("#ev-month").value + "&by=" + $("#ev-by").value);
      renderEval();
    } catch (err) {
      $("#ev-error").textContent = err.message;
    }
  }

  // CSV through fetch (it needs the bearer token), saved as a file.
  async function downloadEval() {
    const q = "month=" + $("#ev-month").value + "&by=" + $("#ev-by").value;
    try {
      const r = await fetch("/api/v1/reports/evaluation?format=csv&" + q, { headers: { Authorization: "Bearer " + H.token } });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || r.statusText);
      const a = el("a", { href: URL.createObjectURL(await r.blob()), download: "evaluation-" + $("#ev-by").value + "-" + $("#ev-month").value + ".csv" });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      $("#ev-error").textContent = err.message;
    }
  }

  function start(s) {
    H.token = s.token;
    showLogin(false);
    if (!$("#ev-month").value) $("#ev-month").value = new Date().toISOString().slice(0, 7);
    load();
    if (!timer) timer = setInterval(load, RELOAD_MS);
  }

  H.onLang.push(() => { render(); renderEval(); });

  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("#login-error").textContent = "";
      try {
        start(await H.login("leader", { token: $("#login-token").value.trim() }));
      } catch (err) {
        $("#login-error").textContent = err.message;
      }
    });
    $("#logout").addEventListener("click", async () => { await H.logout("leader"); location.reload(); });
    $("#ov-form").addEventListener("submit", load);
    $("#ev-form").addEventListener("submit", loadEval);
    $("#ev-csv").addEventListener("click", downloadEval);
    const s = H.session("leader");
    if (s) start(s); else showLogin(true);
  });
})();
