// The agent desk: log in with the agent's softphone credentials, change state, follow the
// agent's events (offer, screen pop, call ended, state) over the WebSocket, create or attach a
// work order for the call, transfer it, and show the agent's day.
(function () {
  "use strict";
  const { t, el, $, api } = H;
  let me = null;          // agent id
  let status = null;      // last AgentStatus
  let call = null;        // {call_id, caller, dialled, queue} of the current / last call
  let wrapUntil = null;   // Date the wrap-up ends (local countdown)
  let categories = [];

  function showLogin(show) {
    $("#login").classList.toggle("hidden", !show);
    $("#desk").classList.toggle("hidden", show);
    $("#logout").classList.toggle("hidden", show);
  }

  async function start(session) {
    H.token = session.token;
    me = session.user.agent;
    $("#who").textContent = session.user.name;
    showLogin(false);
    H.events(onEvent, (up) => $("#live-dot").classList.toggle("live", up), relogin);
    await Promise.all([refresh(), loadReference(), loadDay()]).catch((e) => H.toast(e.message, true));
  }

  async function refresh() {
    try {
      status = await api("GET", "/agents/" + me + "/status");
    } catch (e) {
      if (e.status === 401) return relogin();
      throw e;
    }
    if (status.state === "wrap-up" && status.wrap_up_left_secs !== null) {
      wrapUntil = new Date(Date.now() + status.wrap_up_left_secs * 1000);
    } else {
      wrapUntil = null;
    }
    renderState();
  }

  function renderState() {
    if (!status) return;
    const b = $("#state-badge");
    b.classList.remove("hidden");
    b.className = "state-badge st-" + status.state;
    b.textContent = t("state." + status.state) +
      (status.state === "not-ready" && status.reason ? " · " + status.reason : "");
    b.dataset.state = status.state;
    $("#btn-ready").classList.toggle("on", status.state === "ready");
    $("#btn-not-ready").classList.toggle("on", status.state === "not-ready");
    $("#btn-break").classList.toggle("on", status.state === "break");
    $("#wrap-up").classList.toggle("hidden", status.state !== "wrap-up");
    tick();
  }

  function tick() {
    if (wrapUntil) $("#wrap-up-left").textContent = H.secs((wrapUntil - Date.now()) / 1000);
  }
  setInterval(tick, 500);

  async function act(method, path, body) {
    try {
      await api(method, path, body);
    } catch (e) {
      H.toast(e.message, true);
    }
    await refresh().catch(() => {});
  }

  function onEvent(ev) {
    switch (ev.type) {
      case "agent-state":
        refresh().catch(() => {});
        break;
      case "offer":
        call = { call_id: ev.call_id, caller: ev.caller, queue: ev.queue };
        showPop(t("ringing_call"), null);
        break;
      case "screen-pop":
        // `caller` is the citizen's number, `number` the hotline number they dialled.
        call = { call_id: ev.call_id, caller: ev.caller, dialled: ev.number, queue: ev.queue };
        showPop("", ev);
        loadDay();
        break;
      case "call-ended":
        if (call && call.call_id === ev.call_id) {
          $("#pop-state").textContent = t("call_ended");
          $("#pop-needs-order").classList.toggle("hidden", !ev.needs_order);
        }
        loadDay();
        break;
    }
  }

  // The caller's orders as a list: number, type, status, title, when; open ones can be
  // attached to the call.
  function orderRows(box, orders, attachable) {
    box.replaceChildren();
    if (!orders || !orders.length) {
      box.append(el("div.muted", {}, t("none")));
      return;
    }
    for (const o of orders) {
      box.append(el("div.order", { "data-number": o.number }, [
        el("div", {}, [el("b", {}, o.number), " " + t("rt." + o.request_type) + " · " +
          t("status." + o.status)]),
        el("div", {}, [o.title || "", " ", el("span.muted", {}, H.time(o.created_at))]),
        attachable ? el("button", {
          type: "button", "data-order": o.id,
          onclick: (e) => attach(o, e.target),
        }, t("attach")) : null,
      ]));
    }
  }

  function showPop(state, ev) {
    $("#pop").classList.remove("hidden");
    $("#pop-state").textContent = state;
    $("#pop-number").textContent = call.caller;
    $("#pop-queue").textContent = (call.queue || "—") + (call.dialled ? " (" + call.dialled + ")" : "");
    $("#pop-waited").textContent = ev ? H.secs(ev.waited_secs) : "—";
    $("#pop-needs-order").classList.add("hidden");
    orderRows($("#pop-open"), ev ? ev.open_orders : [], true);
    orderRows($("#pop-previous"), ev ? ev.previous_orders : [], false);
    $("#f-caller").value = call.caller || "";
    $("#order-result").textContent = "";
  }

  async function attach(order, button) {
    if (!call) return;
    try {
      await api("POST", "/calls/" + encodeURIComponent(call.call_id) + "/work-order", { order_id: order.id });
      button.textContent = t("attached");
      button.disabled = true;
      $("#pop-needs-order").classList.add("hidden");
    } catch (e) {
      H.toast(e.message, true);
    }
  }

  async function loadReference() {
    const [cats, cells, queues, depts] = await Promise.all([
      api("GET", "/categories"), api("GET", "/grid-cells"),
      api("GET", "/queues").catch(() => []), api("GET", "/departments").catch(() => []),
    ]);
    categories = cats;
    renderCategories();
    const grid = $("#f-grid");
    grid.replaceChildren(el("option", { value: "" }, "—"));
    for (const c of cells) grid.append(el("option", { value: c.code }, c.code + " " + c.name));
    const target = $("#transfer-target");
    target.replaceChildren();
    const qg = el("optgroup", { label: t("queues") });
    for (const q of queues) qg.append(el("option", { value: q.name }, q.name));
    const dg = el("optgroup", { label: t("departments") });
    for (const d of depts) if (d.phone) dg.append(el("option", { value: d.phone }, d.name + " " + d.phone));
    target.append(qg, dg);
  }

  // Categories grouped by GB/T 30428 class: kind (event / component / service), then the
  // major class as an optgroup with its minor classes under it.
  function renderCategories() {
    const sel = $("#f-category");
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "" }, "—"));
    const name = (c) => (H.lang === "en" ? c.name_en : c.name_zh);
    for (const kind of ["event", "component", "service"]) {
      const majors = categories.filter((c) => c.kind === kind && !c.parent_id);
      for (const m of majors) {
        const g = el("optgroup", { label: t("kind." + kind) + " " + m.id + " " + name(m) });
        g.append(el("option", { value: m.id }, m.id + " " + name(m)));
        for (const c of categories.filter((c) => c.parent_id === m.id)) {
          g.append(el("option", { value: c.id }, c.id + " " + name(c)));
        }
        sel.append(g);
      }
    }
    sel.value = keep;
  }
  H.onLang.push(() => { renderCategories(); renderState(); loadDay(); });

  async function submitOrder(e) {
    e.preventDefault();
    $("#order-error").textContent = "";
    const v = (id) => $(id).value.trim() || null;
    const body = {
      request_type: $("#f-type").value,
      priority: $("#f-priority").value,
      description: $("#f-description").value,
      caller_number: v("#f-caller"),
      category_id: v("#f-category"),
      address: v("#f-address"),
      grid_cell: v("#f-grid"),
      title: v("#f-title"),
    };
    if (call && call.call_id) body.call_id = call.call_id;
    // The intake channel is the hotline number the citizen dialled.
    if (call && (call.dialled === "12345" || call.dialled === "12319")) body.channel = "phone-" + call.dialled;
    for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
    try {
      const o = await api("POST", "/work-orders", body);
      $("#order-result").textContent = t("order_created") + " " + o.number;
      $("#order-result").dataset.number = o.number;
      $("#pop-needs-order").classList.add("hidden");
      $("#f-description").value = "";
      $("#f-title").value = "";
      loadDay();
    } catch (err) {
      $("#order-error").textContent = err.message;
    }
  }

  async function loadDay() {
    if (!me) return;
    let d;
    try {
      d = await api("GET", "/agents/" + me + "/day");
    } catch (e) {
      $("#day-totals").replaceChildren(el("tr", {}, el("td.muted", {}, t("no_data"))));
      return;
    }
    const row = (k, v) => el("tr", {}, [el("th", {}, t(k)), el("td.num", {}, v)]);
    $("#day-totals").replaceChildren(
      row("calls", d.calls), row("answered", d.answered), row("talk_time", H.secs(d.talk_secs)),
      row("wrap_up_time", H.secs(d.wrap_up_secs)), row("orders_created", d.orders_created));
    const calls = $("#day-calls");
    calls.replaceChildren(el("tr", {}, [
      el("th", {}, t("number")), el("th", {}, t("time")), el("th", {}, t("order"))]));
    for (const c of d.last_calls || []) {
      calls.append(el("tr", {}, [el("td", {}, c.from_number), el("td", {}, H.time(c.answered_at)),
        el("td", {}, c.work_order_id === null ? "—" : String(c.work_order_id))]));
    }
  }

  function relogin() {
    H.logout("desk");
    showLogin(true);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("#login-error").textContent = "";
      try {
        const s = await H.login("desk", {
          agent: $("#login-agent").value.trim(), password: $("#login-password").value,
        });
        if (!s.user.agent) throw new Error(t("login_failed"));
        // Signing in on the desk also logs the agent in to its queues.
        H.token = s.token;
        await api("POST", "/agents/" + s.user.agent + "/login").catch(() => {});
        await start(s);
      } catch (err) {
        $("#login-error").textContent = err.message;
      }
    });
    $("#logout").addEventListener("click", async () => { await H.logout("desk"); location.reload(); });
    $("#btn-ready").addEventListener("click", () => act("POST", "/agents/" + me + "/state", { state: "ready" }));
    $("#btn-not-ready").addEventListener("click", () =>
      act("POST", "/agents/" + me + "/state", { state: "not-ready", reason: $("#reason").value }));
    $("#btn-break").addEventListener("click", () => act("POST", "/agents/" + me + "/state", { state: "break" }));
    $("#btn-logout-agent").addEventListener("click", () => act("POST", "/agents/" + me + "/logout"));
    $("#btn-end-wrap-up").addEventListener("click", () => act("POST", "/agents/" + me + "/end-wrap-up"));
    $("#btn-transfer").addEventListener("click", async () => {
      try {
        const r = await api("POST", "/agents/" + me + "/transfer", { target: $("#transfer-target").value });
        H.toast(t("transferred") + " " + r.transferred_to);
      } catch (e) {
        H.toast(e.message, true);
      }
    });
    $("#order-form").addEventListener("submit", submitOrder);
    const s = H.session("desk");
    if (s && s.user.agent) start(s); else showLogin(true);
  });
})();
