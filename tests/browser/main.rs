//! The web pages in headless Chromium (Debian `chromium` + `chromium-driver`, driven over
//! WebDriver by `webdriver.rs`) against a real `hotline serve` with the demo configuration,
//! SIPp callers through the trunk and baresip softphones as agents — the live suite's harness
//! (`tests/sip_live/support`). Each test saves numbered screenshots under
//! `<target>/test-output/browser/<test>/` and prints their paths.
//!
//! Scenarios: an agent logs in on the desk and goes ready; a call pops up with the caller's
//! earlier order; an order created from the form is in `GET /api/v1/work-orders` and tied to
//! the call; a session ended elsewhere brings the desk back to its login; the wallboard shows
//! a waiting caller in its queue and an agent's state change live; a supervisor clicks 监听 on a
//! call and their softphone (baresip as 8001) hears both sides, then 停止 and 强拆; the reports
//! page, after real calls, draws its table and charts with the API's figures and lists a row's
//! calls (and an order) in a dialog.

#[path = "../sip_live/support/mod.rs"]
mod support;
mod webdriver;

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};

use support::agent::{ready_agent, wait_registered, wait_state, Agent, Answer};
use support::audio::tone_seconds;
use support::caller::{Caller, CALLER_HZ};
use support::{wait_for, Config, Server};
use webdriver::Browser;

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
const LIFE: Duration = Duration::from_secs(120);

/// The demo with MD5 digest (baresip), English prompts and short queue timers.
fn config() -> Config {
    let mut cfg = Config::demo()
        .sip("digest_algorithms", vec!["MD5"])
        .media("language", "en");
    for q in ["12345", "12319"] {
        cfg = cfg
            .queue(q, "ring_secs", 3)
            .queue(q, "wrap_up_secs", 30)
            .queue(q, "max_wait_secs", 90)
            .queue(q, "announce_secs", 0);
    }
    cfg
}

/// Seconds of prompts a 12319 caller hears before the queue (greeting and recording notice).
fn before_queue_12319() -> Duration {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts/en");
    let secs: f64 = ["greeting-12319", "recording-notice"]
        .iter()
        .map(|p| {
            let wav = hound::WavReader::open(dir.join(format!("{p}.wav"))).expect("prompt");
            f64::from(wav.duration()) / f64::from(wav.spec().sample_rate)
        })
        .sum();
    Duration::from_secs_f64(secs.ceil() + 1.0)
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.http)
}

/// `GET /api/v1/work-orders?caller_number=…` items (as admin).
fn orders_of(server: &Server, number: &str) -> Vec<Value> {
    let (code, v) = server.api(
        "GET",
        &format!("/api/v1/work-orders?caller_number={number}"),
        None,
    );
    assert_eq!(code, 200, "{v}");
    v["items"].as_array().cloned().unwrap_or_default()
}

/// The desk: agent 2001 logs in with its softphone password, goes not ready and ready again
/// by the buttons; a caller with an earlier order dials 12319, the screen pop shows the number
/// and that order; the form creates an order tied to the call.
#[test]
fn desk_login_ready_screen_pop_and_order_form() {
    let server = Server::start(config(), LOCAL);
    let _agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let caller = "13900000101";
    let (code, earlier) = server.api(
        "POST",
        "/api/v1/work-orders",
        Some(&json!({
            "request_type": "complaint",
            "title": "路灯不亮",
            "description": "Street light out at the corner, reported last week.",
            "caller_number": caller,
        })),
    );
    assert_eq!(code, 201, "{earlier}");
    let earlier_number = earlier["number"].as_str().unwrap().to_string();

    let b = Browser::start("desk");
    b.go(&url(&server, "/"));
    b.find("#login-agent");
    b.screenshot("login");
    // A wrong password is refused on the page.
    b.type_into("#login-agent", "2001");
    b.type_into("#login-password", "wrong");
    b.click("#login-submit");
    b.wait_js(
        Duration::from_secs(5),
        "login error shown",
        "return document.querySelector('#login-error').textContent",
    );
    b.type_into("#login-password", "demo-2001");
    b.click("#login-submit");
    b.wait_js(
        Duration::from_secs(10),
        "desk shown",
        "return !document.querySelector('#desk').classList.contains('hidden') \
         && document.querySelector('#state-badge').dataset.state",
    );
    // 示忙 with a reason, then 示闲.
    b.js(
        "document.querySelector('#reason').value = 'meeting'",
        json!([]),
    );
    b.click("#btn-not-ready");
    wait_state(&server, "2001", "not-ready", Duration::from_secs(5));
    b.wait_js(
        Duration::from_secs(5),
        "badge not-ready",
        "return document.querySelector('#state-badge').dataset.state === 'not-ready'",
    );
    assert!(
        b.text("#state-badge").contains("示忙"),
        "{}",
        b.text("#state-badge")
    );
    b.screenshot("not-ready");
    b.click("#btn-ready");
    wait_state(&server, "2001", "ready", Duration::from_secs(5));
    b.wait_js(
        Duration::from_secs(5),
        "badge ready",
        "return document.querySelector('#state-badge').dataset.state === 'ready'",
    );
    b.screenshot("ready");

    // The call: the pop shows the caller and the earlier order among the open ones.
    let greeting = before_queue_12319();
    let call = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(20))
        .dial(&server);
    let shown = b.wait_js(
        greeting + Duration::from_secs(10),
        "screen pop",
        "const p = document.querySelector('#pop'); \
         return !p.classList.contains('hidden') && document.querySelector('#pop-waited').textContent !== '—' \
           && document.querySelector('#pop-number').textContent",
    );
    assert_eq!(shown, caller);
    let open = b.text("#pop-open");
    assert!(open.contains(&earlier_number), "open orders: {open}");
    assert!(b.text("#pop-queue").contains("12319"));
    b.screenshot("screen-pop");

    // The form: the caller's number is filled in; pick a category and grid cell, describe.
    let filled = b.js(
        "return document.querySelector('#f-caller').value",
        json!([]),
    );
    assert_eq!(filled, caller);
    let category = b.js(
        "const s = document.querySelector('#f-category'); \
         const o = [...s.options].find(o => o.value.startsWith('E')); s.value = o.value; return o.value",
        json!([]),
    );
    let cell = b.js(
        "const s = document.querySelector('#f-grid'); s.selectedIndex = 1; return s.value",
        json!([]),
    );
    b.js(
        "document.querySelector('#f-type').value = 'urban-management'; \
         document.querySelector('#f-priority').value = 'urgent'",
        json!([]),
    );
    b.type_into("#f-address", "Bingcao Road 12");
    b.type_into(
        "#f-description",
        "Manhole cover missing in front of the school gate.",
    );
    b.screenshot("order-form");
    b.click("#order-submit");
    let number = b.wait_js(
        Duration::from_secs(5),
        "order created",
        "return document.querySelector('#order-result').dataset.number",
    );
    b.screenshot("order-created");
    let orders = orders_of(&server, caller);
    let created = orders
        .iter()
        .find(|o| o["number"] == number)
        .unwrap_or_else(|| panic!("order {number} in {orders:?}"));
    assert_eq!(created["request_type"], "urban-management");
    assert_eq!(created["priority"], "urgent");
    assert_eq!(created["category_id"], category);
    assert_eq!(created["grid_cell"], cell);
    assert_eq!(created["address"], "Bingcao Road 12");
    assert_eq!(created["channel"], "phone-12319");
    call.wait().assert_success();
    // The call record is tied to the order created on the page.
    let id = created["id"].as_i64().unwrap();
    let rec = wait_for(
        Duration::from_secs(10),
        "call record with the order",
        || {
            let (_, v) = server.api("GET", &format!("/api/v1/calls?from_number={caller}"), None);
            v["items"]
                .as_array()?
                .iter()
                .find(|r| r["work_order_id"] == id)
                .cloned()
        },
    );
    assert_eq!(rec["agent_id"], "2001");
    // After the call: wrap-up with its countdown and 结束整理.
    b.wait_js(
        Duration::from_secs(10),
        "wrap-up shown",
        "return !document.querySelector('#wrap-up').classList.contains('hidden') \
         && document.querySelector('#wrap-up-left').textContent",
    );
    b.screenshot("wrap-up");
    b.click("#btn-end-wrap-up");
    wait_state(&server, "2001", "ready", Duration::from_secs(5));
    // English switch, remembered over a reload.
    b.click("#lang");
    b.go(&url(&server, "/"));
    b.wait_js(
        Duration::from_secs(5),
        "english after reload",
        "return document.querySelector('#btn-ready').textContent === 'Ready'",
    );
    b.screenshot("english");
    // The session ended elsewhere (here by the API): the next event closes the page's stream
    // (4401) and the desk shows its login instead of reconnecting.
    let token = b.js(
        "return JSON.parse(localStorage.getItem('hotline.session.desk')).token",
        json!([]),
    );
    let (code, v) = server.api_as(token.as_str().unwrap(), "DELETE", "/api/v1/session", None);
    assert_eq!(code, 204, "{v}");
    let (code, v) = server.api(
        "POST",
        "/api/v1/agents/2001/state",
        Some(&json!({"state": "not-ready", "reason": "meeting"})),
    );
    assert_eq!(code, 200, "{v}");
    b.wait_js(
        Duration::from_secs(10),
        "login after the session ended",
        "return !document.querySelector('#login').classList.contains('hidden') \
         && document.querySelector('#desk').classList.contains('hidden')",
    );
    b.screenshot("session-ended");
}

/// The wallboard: a supervisor logs in with a token; a caller waits in 12319 while its agent
/// is not ready, and the queue tile shows it; the agent's state change moves it between the
/// state lanes without a reload of the page.
#[test]
fn wallboard_shows_the_queue_and_agent_changes_live() {
    let server = Server::start(config(), LOCAL);
    let _agent: Agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let (code, v) = server.api(
        "POST",
        "/api/v1/agents/2001/state",
        Some(&json!({"state": "not-ready", "reason": "meeting"})),
    );
    assert_eq!(code, 200, "{v}");

    let b = Browser::start("wallboard");
    b.go(&url(&server, "/wallboard"));
    b.type_into("#login-token", "demo-supervisor");
    b.click("#login-submit");
    b.wait_js(
        Duration::from_secs(10),
        "agent 2001 in the not-ready lane",
        "return document.querySelector('[data-state=\"not-ready\"] [data-agent=\"2001\"]')",
    );
    b.screenshot("not-ready");

    let greeting = before_queue_12319();
    let caller = "13900000202";
    let call = Caller::new("12319", caller)
        .hold(greeting + Duration::from_secs(12))
        .dial(&server);
    let waiting = b.wait_js(
        greeting + Duration::from_secs(8),
        "a waiting caller on the 12319 tile",
        "const t = document.querySelector('[data-queue=\"12319\"] .n'); \
         return t && t.textContent !== '0' && t.textContent",
    );
    assert_eq!(waiting, "1");
    b.screenshot("caller-waiting");

    // The agent is made ready by the API: the page follows over the event stream.
    let (code, v) = server.api(
        "POST",
        "/api/v1/agents/2001/state",
        Some(&json!({"state": "ready"})),
    );
    assert_eq!(code, 200, "{v}");
    b.wait_js(
        Duration::from_secs(8),
        "agent 2001 on the call",
        "return document.querySelector('[data-state=\"on-call\"] [data-agent=\"2001\"]')",
    );
    b.wait_js(
        Duration::from_secs(5),
        "queue empty again",
        "return document.querySelector('[data-queue=\"12319\"] .n').textContent === '0'",
    );
    b.screenshot("agent-on-call");
    call.wait().assert_success();
    // The supervisor forces the agent out from the board.
    b.wait_js(
        Duration::from_secs(8),
        "agent 2001 after the call",
        "return document.querySelector('[data-agent=\"2001\"]') \
         && !document.querySelector('[data-state=\"on-call\"] [data-agent=\"2001\"]')",
    );
    b.js(
        "[...document.querySelectorAll('[data-agent=\"2001\"] .acts button')][2].click()",
        json!([]),
    );
    wait_state(&server, "2001", "logged-out", Duration::from_secs(5));
    b.wait_js(
        Duration::from_secs(5),
        "agent 2001 logged out on the board",
        "return document.querySelector('[data-state=\"logged-out\"] [data-agent=\"2001\"]')",
    );
    b.screenshot("forced-logout");
}

/// The supervisor on the wallboard: 监听 on a call in progress calls their softphone (8001),
/// which then hears the caller and the agent; 停止 hangs it up; 强拆 (clicked twice, it asks
/// first) ends the call. The audit trail says who did it.
#[test]
fn supervisor_listens_from_the_wallboard() {
    const AGENT_HZ: u32 = 550;
    let server = Server::start(config(), LOCAL);
    let _agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let sup = Agent::start(&server, "8001", Answer::Auto, LIFE);
    wait_registered(&server, "8001", Duration::from_secs(10));
    let b = Browser::start("supervisor");
    b.go(&url(&server, "/wallboard"));
    b.type_into("#login-token", "demo-supervisor");
    b.click("#login-submit");
    b.find("#calls");

    let greeting = before_queue_12319();
    let caller = "13900000303";
    let call = Caller::new("12319", caller)
        .until_hung_up(greeting + Duration::from_secs(60))
        .dial(&server);
    wait_state(
        &server,
        "2001",
        "on-call",
        greeting + Duration::from_secs(8),
    );
    b.wait_js(
        Duration::from_secs(8),
        "the call on the board, talking",
        &format!(
            "const r = [...document.querySelectorAll('#calls tr[data-call]')]\
               .find(r => r.textContent.includes('{caller}')); \
             return r && r.textContent.includes('2001') && r.dataset.call"
        ),
    );
    b.screenshot("call-on-board");
    b.click("#calls tr[data-call] button[data-action='listen']");
    let live = wait_for(Duration::from_secs(8), "monitor connected", || {
        let (_, live) = server.api_as("demo-supervisor", "GET", "/api/v1/live", None);
        live["calls"]
            .as_array()?
            .iter()
            .find(|c| c["caller"] == caller && c["monitor"]["state"] == "connected")
            .cloned()
    });
    assert_eq!(live["monitor"]["mode"], "listen", "{live}");
    assert_eq!(live["monitor"]["extension"], "8001", "{live}");
    b.wait_js(
        Duration::from_secs(5),
        "listen shown on the board",
        "return document.querySelector(\"#calls button.on[data-action='listen']\")",
    );
    b.screenshot("listening");
    std::thread::sleep(Duration::from_secs(5));
    b.click("#calls tr[data-call] button[data-action='stop']");
    wait_for(Duration::from_secs(5), "BYE to the supervisor", || {
        (!sup.requests(server.sip, "BYE").is_empty()).then_some(())
    });
    // What the softphone heard while listening: the caller's and the agent's tones.
    let heard = wait_for(Duration::from_secs(5), "8001's audio", || {
        let h = sup.heard();
        (h.len() > 8000).then_some(h)
    });
    let (from_caller, from_agent) = (
        tone_seconds(&heard, CALLER_HZ),
        tone_seconds(&heard, AGENT_HZ),
    );
    assert!(
        from_caller >= 3.0 && from_agent >= 3.0,
        "the supervisor heard the caller {from_caller} s and the agent {from_agent} s"
    );
    // 强拆: the first click asks, the second hangs up.
    b.click("#calls tr[data-call] button[data-action='hangup']");
    b.screenshot("confirm-hangup");
    b.click("#calls tr[data-call] button[data-action='hangup']");
    call.wait().assert_success();
    let (code, audit) = server.api("GET", "/api/v1/audit?actor=supervisor&limit=20", None);
    assert_eq!(code, 200, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .or_else(|| audit["items"].as_array())
        .unwrap_or_else(|| panic!("audit list: {audit}"))
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for want in ["login", "listen", "monitor-stop", "force-hangup"] {
        assert!(
            actions.contains(&want),
            "{want} in the audit trail: {actions:?}"
        );
    }
    b.wait_js(
        Duration::from_secs(8),
        "the call gone from the board",
        "return !document.querySelector('#calls tr[data-call]')",
    );
    b.screenshot("after-hangup");
}

/// The calls of `from` with their disposition set (ended and recorded), as admin.
fn ended_calls_from(server: &Server, from: &str, count: usize) -> Vec<Value> {
    wait_for(Duration::from_secs(15), "call records", || {
        let (code, v) = server.api("GET", &format!("/api/v1/calls?from_number={from}"), None);
        assert_eq!(code, 200, "{v}");
        let items = v["items"].as_array().cloned().unwrap_or_default();
        (items.len() >= count && items.iter().all(|c| !c["disposition"].is_null())).then_some(items)
    })
}

/// The reports page for a supervisor with real calls behind it: one answered call with an
/// order attached and one hung up in the greeting (not offered to the queue). The table and charts show the figures the
/// API gives (not zeros), a row's ↗ lists its calls in a dialog through the API (with the
/// session token), and the order link there shows the order.
#[test]
fn reports_page_renders_for_a_supervisor() {
    let server = Server::start(config(), LOCAL);
    let _agent = ready_agent(&server, "2001", Answer::Auto, LIFE);
    let greeting = before_queue_12319();
    let (talker, quitter) = ("13900000201", "13900000202");
    let answered = Caller::new("12319", talker)
        .hold(greeting + Duration::from_secs(8))
        .dial(&server);
    let abandoned = Caller::new("12319", quitter)
        .hold(Duration::from_secs(2))
        .dial(&server);
    abandoned.wait();
    answered.wait();
    let talked = ended_calls_from(&server, talker, 1);
    assert_eq!(talked[0]["disposition"], "answered", "{talked:?}");
    let quit = ended_calls_from(&server, quitter, 1);
    assert_eq!(quit[0]["disposition"], "abandoned", "{quit:?}");
    let (code, order) = server.api(
        "POST",
        "/api/v1/work-orders",
        Some(&json!({
            "request_type": "complaint",
            "description": "Rubbish not collected on Bingcao Road.",
            "caller_number": talker,
        })),
    );
    assert_eq!(code, 201, "{order}");
    let call_id = talked[0]["id"].as_str().unwrap();
    let (code, linked) = server.api(
        "POST",
        &format!("/api/v1/calls/{call_id}/work-order"),
        Some(&json!({"order_id": order["id"]})),
    );
    assert_eq!(code, 200, "{linked}");

    let b = Browser::start("reports");
    b.go(&url(&server, "/reports"));
    b.type_into("#login-token", "demo-supervisor");
    b.click("#login-submit");
    b.wait_js(
        Duration::from_secs(10),
        "report table",
        "return document.querySelector('#kpi-table tr') || document.querySelector('#kpi-error').textContent",
    );
    let err = b.text("#kpi-error");
    assert!(err.is_empty(), "reports error: {err}");
    // By default the last week, a row a day and the total.
    let rows = b.js(
        "return [...document.querySelectorAll('#kpi-table tr[data-key]')].map(r => r.dataset.key)",
        json!([]),
    );
    assert_eq!(rows.as_array().map(Vec::len), Some(8), "{rows}");

    // The days around now (the report's days are in the city's zone, +08:00, the browser's
    // default range in its own): yesterday to tomorrow by UTC holds the calls just made.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    b.js(
        "document.querySelector('#from').value = arguments[0]; \
         document.querySelector('#to').value = arguments[1]; \
         document.querySelector('#group').value = 'day'",
        json!([from.to_string(), to.to_string()]),
    );
    b.click("#kpi-submit");
    let (code, kpi) = server.api_as(
        "demo-supervisor",
        "GET",
        &format!("/api/v1/reports/kpi?from={from}&to={to}&group=day"),
        None,
    );
    assert_eq!(code, 200, "{kpi}");
    let total = &kpi["total"];
    // The call that hung up in the greeting was not offered to the queue; it is among the
    // row's calls.
    let offered = total["offered"].as_i64().unwrap();
    assert!(offered >= 1, "{kpi}");
    assert!(total["answered"].as_i64().unwrap() >= 1, "{kpi}");
    assert!(total["calls"].as_i64().unwrap() >= 2, "{kpi}");
    // The page's total row shows the API's figures (columns: key, offered, answered, …).
    let cell = |col: usize| {
        format!(
            "const r = document.querySelector('#kpi-table tr.total'); \
             return r && r.children[{col}].textContent"
        )
    };
    let shown = b.wait_js(
        Duration::from_secs(10),
        "total offered",
        &format!(
            "const v = (function () {{ {} }})(); return v === '{offered}' && v",
            cell(1)
        ),
    );
    assert_eq!(shown, json!(offered.to_string()));
    assert_eq!(
        b.js(&cell(2), json!([])),
        json!(total["answered"].to_string())
    );
    assert_eq!(
        b.js(&cell(12), json!([])),
        json!(total["orders_created"].to_string())
    );
    assert_eq!(
        b.js(&cell(3), json!([])),
        json!(total["abandoned"].to_string())
    );
    // The hour chart has two bars an hour, some of them not empty.
    let bars = b.js(
        "return document.querySelectorAll('#chart-hours rect.bar').length",
        json!([]),
    );
    assert_eq!(bars, 48);
    let ticks = b.js(
        "return [...document.querySelectorAll('#chart-hours text')].slice(0, 5).map(t => t.textContent)",
        json!([]),
    );
    assert_eq!(ticks, json!(["0", "1", "2", "3", "4"]));
    b.screenshot("reports");

    // The total row's calls in the dialog: the same calls as its calls_url gives the admin.
    let (code, listed) = server.api("GET", total["calls_url"].as_str().unwrap(), None);
    assert_eq!(code, 200, "{listed}");
    b.click("#kpi-table tr.total a.calls");
    let count = b.wait_js(
        Duration::from_secs(5),
        "calls dialog",
        "const d = document.querySelector('#calls-dialog'); \
         const n = document.querySelectorAll('#calls-table tr[data-call]').length; \
         return d.open && n > 0 && n",
    );
    assert_eq!(count, json!(listed["total"]));
    assert_eq!(b.text("#calls-error"), "");
    let row = b.js(
        "const r = document.querySelector('#calls-table tr[data-call=\"' + arguments[0] + '\"]'); \
         return r && [...r.children].map(c => c.textContent)",
        json!([call_id]),
    );
    let row = row.as_array().cloned().unwrap_or_default();
    assert_eq!(row.len(), 6, "{row:?}");
    assert_eq!(row[0], talker);
    assert_eq!(row[3], "接听");
    assert_eq!(row[4], "2001");
    assert_eq!(row[5], json!(format!("#{}", order["id"])));
    b.click(&format!("#calls-table tr[data-call=\"{call_id}\"] a.order"));
    let number = b.wait_js(
        Duration::from_secs(5),
        "order in the dialog",
        "const o = document.querySelector('#calls-order dl'); return o && o.dataset.order",
    );
    assert_eq!(number, order["number"]);
    b.screenshot("calls-dialog");
    b.click("#calls-close");
    assert_eq!(
        b.js(
            "return document.querySelector('#calls-dialog').open",
            json!([])
        ),
        json!(false)
    );

    // The month view with its 漏报 / 错报 counts.
    b.click("#month-submit");
    let missed = b.wait_js(
        Duration::from_secs(5),
        "month view",
        "const m = document.querySelector('#marks-missed'); return m && m.textContent",
    );
    assert_eq!(missed, "0");
    b.click("#lang");
    assert_eq!(b.text("#kpi-submit"), "Show");
    b.screenshot("english-month");
}
