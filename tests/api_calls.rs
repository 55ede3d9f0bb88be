//! The call routes over HTTP, on SQLite and on the real PostgreSQL: call records with their
//! steps and filters, recordings streamed with byte ranges to those allowed to hear them,
//! attaching a call to an order, and callback tasks as each role sees them.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Utc;
use common::{Backend, TestStore};
use hotline::cases::store::NewCallbackAttempt;
use hotline::cases::{CallRecord, CallStep, NewCallbackTask};
use hotline::config::{ApiUser, Role};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

both_backends!(
    call_records_with_steps_and_filters,
    recordings_stream_with_ranges,
    attach_a_call_to_an_order,
    callbacks_by_role,
);

const SUPERVISOR: &str = "demo-supervisor";
const AGENT_1001: &str = "demo-agent-1001";
const AGENT_1002: &str = "test-agent-1002";
const CHANNEL: &str = "demo-channel";

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// The router over `ts`, with a second agent user (1002) and `data_dir` as the data directory.
fn app(ts: &TestStore, data_dir: &Path) -> axum::Router {
    let mut config = ts.config.clone();
    config.server.data_dir = data_dir.to_path_buf();
    config.users.push(ApiUser {
        name: "agent-1002".into(),
        role: Role::Agent,
        token: Some(AGENT_1002.into()),
        token_sha256: None,
        agent: Some("1002".into()),
        department: None,
        channel: None,
        extension: None,
        sip_password: None,
        sip_ha1_md5: None,
        sip_ha1_sha256: None,
    });
    hotline::api::router(hotline::api::AppState::new(ts.store.clone(), config))
}

async fn send(
    app: &axum::Router,
    method: Method,
    path: &str,
    token: &str,
    extra: Option<(header::HeaderName, &str)>,
    body: Option<Value>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some((name, value)) = extra {
        req = req.header(name, value);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    Resp {
        status: resp.status(),
        headers: resp.headers().clone(),
        bytes: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

async fn get(app: &axum::Router, path: &str, token: &str) -> Resp {
    send(app, Method::GET, path, token, None, None).await
}

fn assert_error(r: &Resp, status: StatusCode, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.bytes));
    let body = r.json();
    assert!(body["error"].is_string(), "{body}");
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
}

fn answered(id: &str, agent: &str) -> CallRecord {
    let t = Utc::now();
    CallRecord {
        queue: Some("12345".into()),
        agent_id: Some(agent.into()),
        answered_at: Some(t),
        ended_at: Some(t),
        disposition: Some("answered".into()),
        needs_order: true,
        ..CallRecord::inbound(id, "13800000001", "12345", t)
    }
}

async fn call_records_with_steps_and_filters(b: Backend) {
    let ts = TestStore::new(b).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    let c = answered("h-1", "1001");
    ts.store.save_call(&c).await.unwrap();
    let mut out = CallRecord::inbound("h-2", "12345", "13800000001", Utc::now());
    out.direction = "outbound".into();
    ts.store.save_call(&out).await.unwrap();
    for (step, agent) in [
        ("offered", None),
        ("queued", None),
        ("answered", Some("1001")),
    ] {
        let mut s = CallStep::new("h-1", c.offered_at, step);
        s.agent_id = agent.map(str::to_string);
        ts.store.add_call_step(&s).await.unwrap();
    }
    let one = get(&app, "/api/v1/calls/h-1", AGENT_1002).await;
    assert_eq!(one.status, StatusCode::OK);
    let body = one.json();
    assert_eq!(body["id"], "h-1");
    assert_eq!(body["needs_order"], true);
    assert_eq!(body["direction"], "inbound");
    let steps: Vec<&str> = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["offered", "queued", "answered"]);
    let flagged = get(&app, "/api/v1/calls?needs_order=true", SUPERVISOR).await;
    assert_eq!(flagged.json()["total"], 1);
    assert_eq!(flagged.json()["items"][0]["id"], "h-1");
    let outbound = get(
        &app,
        "/api/v1/calls?direction=outbound&to_number=13800000001",
        SUPERVISOR,
    )
    .await;
    assert_eq!(outbound.json()["items"][0]["id"], "h-2");
    assert_eq!(outbound.json()["total"], 1);
    for (query, field) in [
        ("direction=up", "direction"),
        ("needs_order=maybe", "needs_order"),
        ("offered_from=yesterday", "offered_from"),
        ("colour=red", "colour"),
    ] {
        let r = get(&app, &format!("/api/v1/calls?{query}"), SUPERVISOR).await;
        assert_error(&r, StatusCode::BAD_REQUEST, Some(field));
    }
    assert_error(
        &get(&app, "/api/v1/calls/none", SUPERVISOR).await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_error(
        &get(&app, "/api/v1/calls/h-1", CHANNEL).await,
        StatusCode::FORBIDDEN,
        None,
    );
}

/// A small mono WAV: 8 kHz, 16-bit, 400 samples of a ramp (844 bytes with the header).
fn write_wav(path: &Path) -> Vec<u8> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..400i16 {
        w.write_sample(i * 37).unwrap();
    }
    w.finalize().unwrap();
    std::fs::read(path).unwrap()
}

async fn recordings_stream_with_ranges(b: Backend) {
    let ts = TestStore::new(b).await;
    let data = tempfile::tempdir().unwrap();
    let app = app(&ts, data.path());
    // Relative to the data directory, as the recorder's root is DATA_DIR/recordings.
    let rel = "recordings/2026/11/23/r-1.wav";
    let wav = write_wav(&data.path().join(rel));
    let len = wav.len();
    let mut c = answered("r-1", "1001");
    c.recording_path = Some(rel.into());
    ts.store.save_call(&c).await.unwrap();

    let whole = get(&app, "/api/v1/calls/r-1/recording", SUPERVISOR).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.bytes, wav);
    assert_eq!(whole.headers[header::CONTENT_TYPE], "audio/wav");
    assert_eq!(whole.headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(
        whole.headers[header::CONTENT_LENGTH],
        len.to_string().as_str()
    );
    // The same through /recordings/{id}, for the agent who handled the call.
    let mine = get(&app, "/api/v1/recordings/r-1", AGENT_1001).await;
    assert_eq!((mine.status, mine.bytes.len()), (StatusCode::OK, len));

    let range = |spec: &'static str| {
        let app = app.clone();
        async move {
            send(
                &app,
                Method::GET,
                "/api/v1/recordings/r-1",
                SUPERVISOR,
                Some((header::RANGE, spec)),
                None,
            )
            .await
        }
    };
    let head = range("bytes=0-43").await;
    assert_eq!(head.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(head.bytes, wav[..44]);
    assert_eq!(
        head.headers[header::CONTENT_RANGE],
        format!("bytes 0-43/{len}").as_str()
    );
    assert_eq!(head.headers[header::CONTENT_LENGTH], "44");
    assert_eq!(&head.bytes[..4], b"RIFF");
    let middle = range("bytes=100-199").await;
    assert_eq!(middle.bytes, wav[100..200]);
    let suffix = range("bytes=-100").await;
    assert_eq!(suffix.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(suffix.bytes, wav[len - 100..]);
    assert_eq!(
        suffix.headers[header::CONTENT_RANGE],
        format!("bytes {}-{}/{len}", len - 100, len - 1).as_str()
    );
    let open_ended = range("bytes=800-").await;
    assert_eq!(open_ended.bytes, wav[800..]);
    let past_end = range("bytes=500-100000").await;
    assert_eq!(past_end.bytes, wav[500..]);
    // Unsatisfiable: 416 with the length.
    let spec: &'static str = Box::leak(format!("bytes={len}-").into_boxed_str());
    let none = range(spec).await;
    assert_eq!(none.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        none.headers[header::CONTENT_RANGE],
        format!("bytes */{len}").as_str()
    );
    // Several ranges: the whole file.
    let multi = range("bytes=0-1,5-6").await;
    assert_eq!((multi.status, multi.bytes.len()), (StatusCode::OK, len));

    // Who may hear it.
    for (token, path) in [
        (AGENT_1002, "/api/v1/recordings/r-1"),
        (AGENT_1002, "/api/v1/calls/r-1/recording"),
        (CHANNEL, "/api/v1/recordings/r-1"),
        ("demo-dept-roads", "/api/v1/recordings/r-1"),
    ] {
        assert_error(&get(&app, path, token).await, StatusCode::FORBIDDEN, None);
    }
    // An absolute path works as well.
    let abs = data.path().join("elsewhere/r-2.wav");
    write_wav(&abs);
    let mut c2 = answered("r-2", "1002");
    c2.recording_path = Some(abs.display().to_string());
    ts.store.save_call(&c2).await.unwrap();
    let r2 = get(&app, "/api/v1/recordings/r-2", AGENT_1002).await;
    assert_eq!((r2.status, r2.bytes.len()), (StatusCode::OK, len));
    // No recording, a file gone, no such call: 404.
    ts.store.save_call(&answered("r-3", "1001")).await.unwrap();
    assert_error(
        &get(&app, "/api/v1/recordings/r-3", SUPERVISOR).await,
        StatusCode::NOT_FOUND,
        None,
    );
    std::fs::remove_file(&abs).unwrap();
    assert_error(
        &get(&app, "/api/v1/recordings/r-2", SUPERVISOR).await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_error(
        &get(&app, "/api/v1/recordings/none", SUPERVISOR).await,
        StatusCode::NOT_FOUND,
        None,
    );
}

async fn attach_a_call_to_an_order(b: Backend) {
    let ts = TestStore::new(b).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    ts.store.save_call(&answered("a-1", "1001")).await.unwrap();
    let order = send(
        &app,
        Method::POST,
        "/api/v1/work-orders",
        AGENT_1001,
        None,
        Some(json!({"request_type": "complaint", "description": "noise at night"})),
    )
    .await
    .json();
    let id = order["id"].as_i64().unwrap();
    let attach = |token: &'static str, call: &'static str, body: Value| {
        let app = app.clone();
        async move {
            send(
                &app,
                Method::POST,
                &format!("/api/v1/calls/{call}/work-order"),
                token,
                None,
                Some(body),
            )
            .await
        }
    };
    // Another agent may not; bad bodies name the field; unknown order or call: 404.
    assert_error(
        &attach(AGENT_1002, "a-1", json!({"order_id": id})).await,
        StatusCode::FORBIDDEN,
        None,
    );
    assert_error(
        &attach(CHANNEL, "a-1", json!({"order_id": id})).await,
        StatusCode::FORBIDDEN,
        None,
    );
    assert_error(
        &attach(AGENT_1001, "a-1", json!({"order_id": "x"})).await,
        StatusCode::BAD_REQUEST,
        Some("order_id"),
    );
    assert_error(
        &attach(AGENT_1001, "a-1", json!({})).await,
        StatusCode::BAD_REQUEST,
        Some("order_id"),
    );
    assert_error(
        &attach(AGENT_1001, "a-1", json!({"order_id": 999_999})).await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_error(
        &attach(AGENT_1001, "none", json!({"order_id": id})).await,
        StatusCode::NOT_FOUND,
        None,
    );
    let ok = attach(AGENT_1001, "a-1", json!({"order_id": id})).await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ok.bytes)
    );
    assert_eq!(ok.json()["work_order_id"], id);
    assert_eq!(ok.json()["needs_order"], false);
    let events = get(
        &app,
        &format!("/api/v1/work-orders/{id}/events"),
        SUPERVISOR,
    )
    .await;
    let last = events.json().as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "call-linked");
    assert_eq!(last["data"]["call_id"], "a-1");
    // A supervisor attaches someone else's call; a second order for a tied call is refused.
    ts.store.save_call(&answered("a-2", "1002")).await.unwrap();
    let sup = attach(SUPERVISOR, "a-2", json!({"order_id": id})).await;
    assert_eq!(sup.status, StatusCode::OK);
    let other = send(
        &app,
        Method::POST,
        "/api/v1/work-orders",
        AGENT_1001,
        None,
        Some(json!({"request_type": "help", "description": "other"})),
    )
    .await
    .json();
    let again = attach(SUPERVISOR, "a-2", json!({"order_id": other["id"]})).await;
    assert_error(&again, StatusCode::CONFLICT, None);
}

async fn callbacks_by_role(b: Backend) {
    let ts = TestStore::new(b).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(&ts, dir.path());
    let t = Utc::now();
    let task = |number: &str| NewCallbackTask {
        kind: "missed-call".into(),
        number: number.into(),
        queue: Some("12345".into()),
        call_id: None,
        max_attempts: 1,
        work_order_id: None,
    };
    let open = ts
        .store
        .create_callback_task(&task("13800000001"), t)
        .await
        .unwrap();
    let mine = ts
        .store
        .create_callback_task(&task("13800000002"), t)
        .await
        .unwrap();
    let theirs = ts
        .store
        .create_callback_task(&task("13800000003"), t)
        .await
        .unwrap();
    ts.store
        .take_callback_task(mine.id, "1001", t)
        .await
        .unwrap();
    ts.store
        .take_callback_task(theirs.id, "1002", t)
        .await
        .unwrap();
    // 1001's attempt fails: with max_attempts 1 the task is failed, still 1001's.
    ts.store
        .record_callback_attempt(
            mine.id,
            &NewCallbackAttempt {
                at: t,
                agent_id: Some("1001".into()),
                call_id: Some("out-1".into()),
                outcome: "no-answer".into(),
                detail: Some("rang 30 s".into()),
            },
            chrono::Duration::minutes(30),
        )
        .await
        .unwrap();
    let ids = |r: Resp| -> Vec<i64> {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(get(&app, "/api/v1/callbacks", SUPERVISOR).await),
        [theirs.id, mine.id, open.id]
    );
    assert_eq!(
        ids(get(&app, "/api/v1/callbacks", AGENT_1001).await),
        [mine.id, open.id]
    );
    assert_eq!(
        ids(get(&app, "/api/v1/callbacks?status=failed", SUPERVISOR).await),
        [mine.id]
    );
    assert_eq!(
        ids(get(&app, "/api/v1/callbacks?number=13800000003", AGENT_1001).await),
        Vec::<i64>::new()
    );
    let detail = get(&app, &format!("/api/v1/callbacks/{}", mine.id), AGENT_1001).await;
    assert_eq!(detail.status, StatusCode::OK);
    let body = detail.json();
    assert_eq!(
        (&body["status"], &body["attempts"]),
        (&json!("failed"), &json!(1))
    );
    assert_eq!(body["attempt_log"][0]["outcome"], "no-answer");
    assert_eq!(body["attempt_log"][0]["detail"], "rang 30 s");
    assert_error(
        &get(
            &app,
            &format!("/api/v1/callbacks/{}", theirs.id),
            AGENT_1001,
        )
        .await,
        StatusCode::NOT_FOUND,
        None,
    );
    let seen = get(
        &app,
        &format!("/api/v1/callbacks/{}", theirs.id),
        SUPERVISOR,
    )
    .await;
    assert_eq!(seen.json()["agent_id"], "1002");
    for (path, status, field) in [
        (
            "/api/v1/callbacks?status=lost",
            StatusCode::BAD_REQUEST,
            Some("status"),
        ),
        (
            "/api/v1/callbacks?kind=spam",
            StatusCode::BAD_REQUEST,
            Some("kind"),
        ),
        ("/api/v1/callbacks/abc", StatusCode::NOT_FOUND, None),
        ("/api/v1/callbacks/999999", StatusCode::NOT_FOUND, None),
    ] {
        assert_error(&get(&app, path, SUPERVISOR).await, status, field);
    }
    assert_error(
        &get(&app, "/api/v1/callbacks", CHANNEL).await,
        StatusCode::FORBIDDEN,
        None,
    );
}
