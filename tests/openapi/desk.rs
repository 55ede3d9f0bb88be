//! The agent desk routes against the document: their fixed lists and request schemas are the
//! code's, the JSON the call layer answers and streams (agent and queue snapshots from a real
//! ACD engine, every desk event) fits the documented schemas, and their answers without a call
//! layer (401, 403, 400, 404, 415, 426, 503) are documented ones.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::answers::{assert_documented, conform};
use crate::schemas::{check_request_schema, enum_of};
use crate::support::{app, served_doc, AGENT, CHANNEL, DEPT_ROADS, SUPERVISOR};
use hotline::acd::{AcdConfig, Action, AgentStatus, CallId, Engine, Input, Requested};
use hotline::call::monitor::Mode;
use hotline::call::{CallView, DeskEvent, MonitorView, OrderBrief, Snapshot};

/// Asserts `v` fits `components/schemas/{name}`.
fn fits(doc: &Value, name: &str, v: &Value) {
    let mut errs = Vec::new();
    conform(
        doc,
        &json!({ "$ref": format!("#/components/schemas/{name}") }),
        v,
        "$",
        &mut errs,
    );
    assert!(
        errs.is_empty(),
        "{v} does not fit {name}:\n{}",
        errs.join("\n")
    );
}

#[tokio::test]
async fn desk_lists_and_request_schemas_are_the_codes() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let states: Vec<String> = AgentStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(enum_of(&doc, "AgentState"), states);
    assert_eq!(
        doc["components"]["schemas"]["QueueStatus"]["properties"]["strategy"]["enum"],
        json!(hotline::config::QUEUE_STRATEGIES)
    );
    check_request_schema::<hotline::api::desk::StateBody>(&doc, "AgentStateChange");
    check_request_schema::<hotline::api::desk::TransferBody>(&doc, "Transfer");
    check_request_schema::<hotline::api::desk::TakeBody>(&doc, "TakeCallback");
    check_request_schema::<hotline::api::supervisor::MonitorBody>(&doc, "MonitorRequest");
    check_request_schema::<hotline::api::supervisor::HangUpBody>(&doc, "HangUpRequest");
    assert_eq!(
        doc["components"]["schemas"]["MonitorRequest"]["properties"]["mode"]["enum"],
        json!(hotline::call::monitor::Mode::ALL.map(|m| m.as_str()))
    );

    // Every documented state is one the API takes (503 here: it passed the checks), and the
    // documented list is all it takes.
    let asked = doc["components"]["schemas"]["AgentStateChange"]["properties"]["state"]["enum"]
        .as_array()
        .expect("AgentStateChange.state enum")
        .clone();
    for state in &asked {
        let a = app
            .post(
                "/api/v1/agents/1001/state",
                AGENT,
                json!({"state": state, "reason": "lunch"}),
            )
            .await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "state {state}");
    }
    for state in AgentStatus::ALL.map(AgentStatus::as_str) {
        if asked.contains(&json!(state)) {
            continue;
        }
        let a = app
            .post(
                "/api/v1/agents/1001/state",
                AGENT,
                json!({ "state": state }),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "state {state}");
        assert_eq!(a.json()["field"], "state");
    }

    // The stream's messages: one schema per `type`, reachable through the discriminator.
    let desk_event = &doc["components"]["schemas"]["DeskEvent"];
    assert_eq!(desk_event["discriminator"]["propertyName"], "type");
    let types: BTreeSet<&str> = desk_event["discriminator"]["mapping"]
        .as_object()
        .expect("DeskEvent mapping")
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = ["agent-state", "offer", "screen-pop", "call-ended", "lagged"]
        .into_iter()
        .collect();
    assert_eq!(types, want);
    assert_eq!(
        desk_event["oneOf"].as_array().map(Vec::len),
        Some(want.len())
    );
    assert_eq!(
        doc["paths"]["/api/v1/events"]["get"]["x-message-schema"]["$ref"],
        "#/components/schemas/DeskEvent"
    );
}

/// The engine's first offer since the last call, as (call, agent).
fn next_offer(e: &mut Engine) -> (CallId, String) {
    while let Some(a) = e.poll_action() {
        if let Action::Offer { call, agent } = a {
            return (call, agent);
        }
    }
    panic!("no offer");
}

fn arrive(e: &mut Engine, call: u64, now: Instant) {
    e.handle(
        Input::CallArrived {
            call: CallId(call),
            queue: "12345".into(),
            priority: 0,
            caller_number: format!("1380000000{call}"),
        },
        now,
    )
    .expect("call arrives");
}

#[tokio::test]
async fn live_picture_and_agent_status_fit_their_schemas() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let config = hotline::config::load(std::path::Path::new("sip-config/hotline.toml"))
        .expect("demo config")
        .config;
    let mut e = Engine::new(AcdConfig::from_config(&config));
    let t0 = Instant::now();
    for agent in ["1001", "1002", "1003", "2001", "2002"] {
        e.handle(
            Input::AgentLogin {
                agent: agent.into(),
                contact_registered: true,
            },
            t0,
        )
        .expect("login");
    }
    e.handle(
        Input::AgentLogout {
            agent: "2002".into(),
        },
        t0,
    )
    .expect("logout");
    let picture = |e: &Engine, now: Instant, calls: usize| {
        serde_json::to_value(Snapshot {
            queues: e.queue_snapshots(now),
            agents: e.agent_snapshots(now, chrono::Utc::now()),
            calls: live_calls(calls),
            calls_in_progress: calls,
        })
        .expect("snapshot serializes")
    };
    let first = picture(&e, t0, 0);

    // One agent talks, then wraps up; a second talks; a third is rung; a caller waits.
    let t1 = t0 + Duration::from_secs(5);
    arrive(&mut e, 1, t1);
    let (c1, a1) = next_offer(&mut e);
    e.handle(
        Input::AgentAnswered {
            call: c1,
            agent: a1,
        },
        t1,
    )
    .expect("answer");
    e.handle(Input::CallEnded { call: c1 }, t1 + Duration::from_secs(10))
        .expect("end");
    let t2 = t1 + Duration::from_secs(11);
    arrive(&mut e, 2, t2);
    let (c2, a2) = next_offer(&mut e);
    e.handle(
        Input::AgentAnswered {
            call: c2,
            agent: a2,
        },
        t2,
    )
    .expect("answer");
    arrive(&mut e, 3, t2);
    let _ringing = next_offer(&mut e);
    arrive(&mut e, 4, t2);
    // In the other queue: one agent not ready, one on a break after logging in again.
    for input in [
        Input::SetState {
            agent: "2001".into(),
            state: Requested::NotReady("lunch".into()),
        },
        Input::AgentLogin {
            agent: "2002".into(),
            contact_registered: true,
        },
        Input::SetState {
            agent: "2002".into(),
            state: Requested::Break,
        },
    ] {
        e.handle(input, t2).expect("agent input");
    }
    let second = picture(&e, t2 + Duration::from_secs(3), 3);

    let mut seen = BTreeSet::new();
    for live in [&first, &second] {
        fits(&doc, "Live", live);
        for call in live["calls"].as_array().expect("calls") {
            fits(&doc, "LiveCall", call);
        }
        for agent in live["agents"].as_array().expect("agents") {
            fits(&doc, "AgentStatus", agent);
            seen.insert(agent["state"].as_str().expect("state").to_string());
        }
    }
    let all: BTreeSet<String> = AgentStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(seen, all, "the pictures show every agent state");
    let q = &second["queues"][0];
    assert_eq!(
        (
            q["name"].as_str(),
            q["waiting"].as_u64(),
            q["ringing"].as_u64()
        ),
        (Some("12345"), Some(1), Some(1))
    );
    assert!(second["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["wrap_up_left_secs"].is_u64()));
}

/// `n` calls in progress as the call layer lists them: waiting, talking, monitored in each
/// mode and state.
fn live_calls(n: usize) -> Vec<CallView> {
    let now = chrono::Utc::now();
    let modes = [
        None,
        Some(Mode::Listen),
        Some(Mode::Whisper),
        Some(Mode::Barge),
    ];
    (0..n)
        .map(|i| CallView {
            id: format!("20261127090000000-{i:06}"),
            caller: format!("1380000{i:04}"),
            number: "12345".into(),
            queue: (i % 2 == 0).then(|| "12345".into()),
            agent: (i > 0).then(|| "1001".into()),
            stage: if i == 0 { "queue" } else { "talking" },
            since: now,
            answered_at: (i > 0).then_some(now),
            monitor: modes[i % modes.len()].map(|m| MonitorView {
                supervisor: "supervisor".into(),
                extension: "8001".into(),
                mode: m.as_str(),
                state: if i % 2 == 0 { "ringing" } else { "connected" },
            }),
        })
        .collect()
}

#[tokio::test]
async fn every_desk_event_fits_the_stream_schema() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let caller = "13900000001";
    let mut ids = Vec::new();
    // Orders of a caller, as the screen pop reads them: one closed with a title, one open
    // without.
    for body in [
        json!({"request_type": "complaint", "description": "leak", "caller_number": caller,
               "title": "Leak"}),
        json!({"request_type": "help", "description": "noise", "caller_number": caller}),
    ] {
        let o = app.post("/api/v1/work-orders", AGENT, body).await;
        assert_eq!(o.status, StatusCode::CREATED);
        ids.push(o.json()["id"].as_i64().unwrap());
    }
    let tr = format!("/api/v1/work-orders/{}/transitions", ids[0]);
    for cmd in [
        json!({"action": "register"}),
        json!({"action": "close", "note": "answered on the call"}),
    ] {
        let a = app.post(&tr, AGENT, cmd).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.body)
        );
    }
    let orders = app.store.orders_for_caller(caller, 20).await.unwrap();
    let (closed, open): (Vec<_>, Vec<_>) = orders.iter().partition(|o| o.closed_at.is_some());
    assert_eq!((closed.len(), open.len()), (1, 1));
    let brief = |os: &[&hotline::cases::WorkOrder]| -> Vec<OrderBrief> {
        os.iter().map(|o| OrderBrief::from(*o)).collect()
    };
    let now = chrono::Utc::now();
    let events = [
        DeskEvent::AgentState {
            agent: "1001".into(),
            state: AgentStatus::NotReady.as_str(),
            reason: Some("lunch".into()),
            at: now,
        },
        DeskEvent::AgentState {
            agent: "1001".into(),
            state: AgentStatus::Ready.as_str(),
            reason: None,
            at: now,
        },
        DeskEvent::Offer {
            agent: "1001".into(),
            call_id: "c-1".into(),
            caller: caller.into(),
            queue: Some("12345".into()),
        },
        DeskEvent::Offer {
            agent: "1001".into(),
            call_id: "c-2".into(),
            caller: caller.into(),
            queue: None,
        },
        DeskEvent::ScreenPop {
            agent: "1001".into(),
            call_id: "c-1".into(),
            caller: caller.into(),
            number: "12345".into(),
            queue: Some("12345".into()),
            waited_secs: 12,
            previous_orders: brief(&closed),
            open_orders: brief(&open),
        },
        DeskEvent::CallEnded {
            agent: "1001".into(),
            call_id: "c-1".into(),
            needs_order: true,
        },
    ];
    let mut types = BTreeSet::new();
    for ev in &events {
        let v = serde_json::to_value(ev).expect("event serializes");
        fits(&doc, "DeskEvent", &v);
        types.insert(v["type"].as_str().expect("type").to_string());
    }
    assert_eq!(types.len(), 4, "every DeskEvent variant is checked");
    // What the stream sends when the client falls behind (src/api/desk.rs).
    fits(&doc, "DeskEvent", &json!({"type": "lagged", "missed": 3}));
    let mut errs = Vec::new();
    conform(
        &doc,
        &doc["components"]["schemas"]["DeskEvent"],
        &json!({"type": "offer", "agent": "1001"}),
        "$",
        &mut errs,
    );
    assert!(!errs.is_empty(), "an incomplete event does not fit");
}

#[tokio::test]
async fn desk_answers_without_a_call_layer_are_documented() {
    let app = app().await;
    let doc = served_doc(&app).await;
    const LOGIN: &str = "/api/v1/agents/{id}/login";
    const LOGOUT: &str = "/api/v1/agents/{id}/logout";
    const STATE: &str = "/api/v1/agents/{id}/state";
    const WRAP: &str = "/api/v1/agents/{id}/end-wrap-up";
    const TRANSFER: &str = "/api/v1/agents/{id}/transfer";
    const STATUS: &str = "/api/v1/agents/{id}/status";
    const TAKE: &str = "/api/v1/callbacks/{id}/take";
    const LIVE: &str = "/api/v1/live";
    const EVENTS: &str = "/api/v1/events";
    let ws = |uri: &str, token: Option<&str>| {
        let mut r = axum::http::Request::builder()
            .uri(uri)
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(axum::body::Body::empty()).unwrap()
    };
    #[rustfmt::skip]
    let answers = [
        ("post", LOGIN, app.send("POST", "/api/v1/agents/1001/login", None, None).await, StatusCode::UNAUTHORIZED),
        ("post", LOGIN, app.send("POST", "/api/v1/agents/1002/login", Some(AGENT), None).await, StatusCode::FORBIDDEN),
        ("post", LOGIN, app.send("POST", "/api/v1/agents/1001/login", Some(CHANNEL), None).await, StatusCode::FORBIDDEN),
        ("post", LOGIN, app.send("POST", "/api/v1/agents/1001/login", Some(AGENT), None).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", LOGOUT, app.send("POST", "/api/v1/agents/1001/logout", Some(DEPT_ROADS), None).await, StatusCode::FORBIDDEN),
        ("post", LOGOUT, app.send("POST", "/api/v1/agents/1002/logout", Some(SUPERVISOR), None).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", STATE, app.post("/api/v1/agents/1001/state", AGENT, json!({"state": "asleep"})).await, StatusCode::BAD_REQUEST),
        ("post", STATE, app.post("/api/v1/agents/1001/state", AGENT, json!({"reason": "x"})).await, StatusCode::BAD_REQUEST),
        ("post", STATE, app.send("POST", "/api/v1/agents/1001/state", Some(AGENT), Some(("text/plain", "ready".into()))).await, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("post", STATE, app.post("/api/v1/agents/1002/state", AGENT, json!({"state": "ready"})).await, StatusCode::FORBIDDEN),
        ("post", STATE, app.post("/api/v1/agents/1001/state", AGENT, json!({"state": "not-ready", "reason": "lunch"})).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", WRAP, app.send("POST", "/api/v1/agents/1001/end-wrap-up", Some("nope"), None).await, StatusCode::UNAUTHORIZED),
        ("post", WRAP, app.send("POST", "/api/v1/agents/1001/end-wrap-up", Some(AGENT), None).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", TRANSFER, app.post("/api/v1/agents/1001/transfer", AGENT, json!({"target": " "})).await, StatusCode::BAD_REQUEST),
        ("post", TRANSFER, app.post("/api/v1/agents/1001/transfer", AGENT, json!({"target": "12319", "x": 1})).await, StatusCode::BAD_REQUEST),
        ("post", TRANSFER, app.post("/api/v1/agents/1001/transfer", AGENT, json!({"target": "12319"})).await, StatusCode::SERVICE_UNAVAILABLE),
        ("get", STATUS, app.get("/api/v1/agents/1002/status", Some(AGENT)).await, StatusCode::FORBIDDEN),
        ("get", STATUS, app.get("/api/v1/agents/1001/status", Some(AGENT)).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", TAKE, app.send("POST", "/api/v1/callbacks/1/take", Some(DEPT_ROADS), None).await, StatusCode::FORBIDDEN),
        ("post", TAKE, app.send("POST", "/api/v1/callbacks/one/take", Some(AGENT), None).await, StatusCode::NOT_FOUND),
        ("post", TAKE, app.send("POST", "/api/v1/callbacks/1/take", Some(SUPERVISOR), None).await, StatusCode::BAD_REQUEST),
        ("post", TAKE, app.post("/api/v1/callbacks/1/take", AGENT, json!({"agent": "1002"})).await, StatusCode::FORBIDDEN),
        ("post", TAKE, app.send("POST", "/api/v1/callbacks/1/take", Some(AGENT), None).await, StatusCode::SERVICE_UNAVAILABLE),
        ("post", TAKE, app.post("/api/v1/callbacks/1/take", SUPERVISOR, json!({"agent": "1002"})).await, StatusCode::SERVICE_UNAVAILABLE),
        ("get", LIVE, app.get(LIVE, None).await, StatusCode::UNAUTHORIZED),
        ("get", LIVE, app.get(LIVE, Some(AGENT)).await, StatusCode::FORBIDDEN),
        ("get", LIVE, app.get(LIVE, Some(SUPERVISOR)).await, StatusCode::SERVICE_UNAVAILABLE),
        ("get", EVENTS, app.get(EVENTS, None).await, StatusCode::UNAUTHORIZED),
        ("get", EVENTS, app.get("/api/v1/events?access_token=nope", None).await, StatusCode::UNAUTHORIZED),
        ("get", EVENTS, app.get(EVENTS, Some(CHANNEL)).await, StatusCode::FORBIDDEN),
        ("get", EVENTS, app.get("/api/v1/events?access_token=demo-agent-1001&access_token=x", None).await, StatusCode::BAD_REQUEST),
        ("get", EVENTS, app.get(EVENTS, Some(SUPERVISOR)).await, StatusCode::UPGRADE_REQUIRED),
        ("get", EVENTS, app.get("/api/v1/events?access_token=demo-agent-1001", None).await, StatusCode::UPGRADE_REQUIRED),
        ("get", EVENTS, app.request(ws(EVENTS, None)).await, StatusCode::UNAUTHORIZED),
        ("get", EVENTS, app.request(ws(EVENTS, Some(DEPT_ROADS))).await, StatusCode::FORBIDDEN),
    ];
    for (method, template, a, want) in &answers {
        assert_eq!(
            a.status,
            *want,
            "{method} {template}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_documented(&doc, method, template, a);
        if a.status == StatusCode::BAD_REQUEST {
            assert!(a.json()["field"].is_string(), "a 400 names its field");
        }
    }
}
