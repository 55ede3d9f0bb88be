//! The agent desk routes over HTTP without a call layer, on SQLite and on the real PostgreSQL:
//! who may act for which agent (401, 403), bad bodies named by field (400, 415), and past
//! those checks a JSON 503 because no call layer runs — for every desk route, the live view
//! and the event stream (whose WebSocket handshake is tried on a real socket too).

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Backend, TestStore};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

both_backends!(
    desk_needs_a_token,
    agents_act_for_themselves_only,
    bad_bodies_name_their_field,
    without_a_call_layer_the_desk_answers_503,
    event_stream_checks_the_token_then_the_handshake,
);

const ADMIN: &str = "demo-admin";
const SUPERVISOR: &str = "demo-supervisor";
const AGENT_1001: &str = "demo-agent-1001";
const CHANNEL: &str = "demo-channel";
const DEPARTMENT: &str = "demo-dept-roads";

/// Every desk route with a body it accepts (method, path, body).
const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("POST", "/api/v1/agents/1001/login", None),
    ("POST", "/api/v1/agents/1001/logout", None),
    (
        "POST",
        "/api/v1/agents/1001/state",
        Some(r#"{"state": "not-ready", "reason": "lunch"}"#),
    ),
    ("POST", "/api/v1/agents/1001/end-wrap-up", None),
    (
        "POST",
        "/api/v1/agents/1001/transfer",
        Some(r#"{"target": "12319"}"#),
    ),
    ("GET", "/api/v1/agents/1001/status", None),
    (
        "POST",
        "/api/v1/callbacks/7/take",
        Some(r#"{"agent": "1001"}"#),
    ),
];

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Resp {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: {status} is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Resp {
        status,
        headers,
        body,
    }
}

/// `r` is a JSON error with `status` and kind `error` (and, for a 400, naming `field`).
fn assert_error(what: &str, r: &Resp, status: StatusCode, error: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(r.body["error"], error, "{what}: {}", r.body);
    assert!(r.body["message"].is_string(), "{what}: {}", r.body);
    if let Some(f) = field {
        assert_eq!(r.body["field"], f, "{what}: {}", r.body);
    }
}

async fn desk_needs_a_token(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (method, path, body) in ROUTES
        .iter()
        .copied()
        .chain([("GET", "/api/v1/live", None)])
    {
        for token in [None, Some("not-a-token")] {
            let r = send(&app, method, path, token, body).await;
            assert_error(path, &r, StatusCode::UNAUTHORIZED, "unauthorized", None);
            assert_eq!(
                r.headers.get(header::WWW_AUTHENTICATE).unwrap(),
                "Bearer realm=\"hotline\""
            );
        }
    }
}

async fn agents_act_for_themselves_only(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    // An agent's token for another agent.
    for (method, path, body) in ROUTES {
        let other = path.replace("/agents/1001/", "/agents/1002/");
        let body = body.map(|b| b.replace("1001", "1002"));
        let r = send(&app, method, &other, Some(AGENT_1001), body.as_deref()).await;
        assert_error(&other, &r, StatusCode::FORBIDDEN, "forbidden", None);
        assert!(
            r.body["message"].as_str().unwrap().contains("1002"),
            "{}",
            r.body
        );
    }
    // Roles that have no desk.
    for token in [CHANNEL, DEPARTMENT] {
        for (method, path, body) in ROUTES
            .iter()
            .copied()
            .chain([("GET", "/api/v1/live", None)])
        {
            let r = send(&app, method, path, Some(token), body).await;
            assert_error(path, &r, StatusCode::FORBIDDEN, "forbidden", None);
        }
    }
    // The live view is for supervisors and admins.
    let r = send(&app, "GET", "/api/v1/live", Some(AGENT_1001), None).await;
    assert_error("live", &r, StatusCode::FORBIDDEN, "forbidden", None);
}

async fn bad_bodies_name_their_field(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let state = "/api/v1/agents/1001/state";
    let transfer = "/api/v1/agents/1001/transfer";
    let take = "/api/v1/callbacks/7/take";
    for (path, token, body, field) in [
        (state, AGENT_1001, r#"{"state": "asleep"}"#, "state"),
        (state, AGENT_1001, r#"{"state": "on-call"}"#, "state"),
        (state, SUPERVISOR, r#"{"reason": "lunch"}"#, "state"),
        (state, AGENT_1001, r#"{"state": "ready", "x": 1}"#, "x"),
        (state, AGENT_1001, r#"{"state": 1}"#, "state"),
        (state, AGENT_1001, "{", "body"),
        (transfer, AGENT_1001, r#"{"target": ""}"#, "target"),
        (transfer, AGENT_1001, r#"{"target": "  "}"#, "target"),
        (transfer, SUPERVISOR, "{}", "target"),
        (take, SUPERVISOR, "{}", "agent"),
        (take, ADMIN, r#"{"agent": 1001}"#, "agent"),
    ] {
        let r = send(&app, "POST", path, Some(token), Some(body)).await;
        assert_error(
            &format!("{path} {body}"),
            &r,
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some(field),
        );
    }
    // A supervisor taking a task without naming the agent, with no body at all.
    let r = send(&app, "POST", take, Some(SUPERVISOR), None).await;
    assert_error(
        take,
        &r,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("agent"),
    );
    // Not JSON at all.
    let req = Request::builder()
        .method(Method::POST)
        .uri(state)
        .header(header::AUTHORIZATION, format!("Bearer {AGENT_1001}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("ready"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A task id that is not a number is no task.
    let r = send(
        &app,
        "POST",
        "/api/v1/callbacks/seven/take",
        Some(AGENT_1001),
        None,
    )
    .await;
    assert_error("take seven", &r, StatusCode::NOT_FOUND, "not_found", None);
}

async fn without_a_call_layer_the_desk_answers_503(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let mut asked = Vec::new();
    for (method, path, body) in ROUTES {
        asked.push((
            *method,
            path.to_string(),
            AGENT_1001,
            body.map(str::to_string),
        ));
        let other = path.replace("/agents/1001/", "/agents/1002/");
        asked.push((
            *method,
            other,
            SUPERVISOR,
            body.map(|b| b.replace("1001", "1002")),
        ));
    }
    // The state is optional in what a not-ready may carry; the take body is optional.
    for state in ["ready", "not-ready", "break"] {
        asked.push((
            "POST",
            "/api/v1/agents/1001/state".into(),
            ADMIN,
            Some(format!(r#"{{"state": "{state}"}}"#)),
        ));
    }
    asked.push(("POST", "/api/v1/callbacks/7/take".into(), AGENT_1001, None));
    asked.push(("GET", "/api/v1/live".into(), SUPERVISOR, None));
    asked.push(("GET", "/api/v1/live".into(), ADMIN, None));
    for (method, path, token, body) in &asked {
        let r = send(&app, method, path, Some(token), body.as_deref()).await;
        assert_error(
            &format!("{method} {path} as {token}"),
            &r,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            None,
        );
        assert_eq!(r.headers.get(header::RETRY_AFTER).unwrap(), "5");
        assert_eq!(r.body["message"], "the call layer is not running");
    }
}

/// A raw WebSocket handshake to `addr` for `target`: the status code and the body.
async fn handshake(addr: std::net::SocketAddr, target: &str, token: Option<&str>) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{auth}\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the body (Content-Length) is complete.
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("the server answers")
            .unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len || n == 0 {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, serde_json::from_str(body).unwrap_or(Value::Null));
            }
        }
        assert!(n > 0, "connection closed mid-answer: {text}");
    }
}

async fn event_stream_checks_the_token_then_the_handshake(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    // In process: a request that is not a handshake, after the token is checked.
    let r = send(&app, "GET", "/api/v1/events", None, None).await;
    assert_error("events", &r, StatusCode::UNAUTHORIZED, "unauthorized", None);
    let r = send(&app, "GET", "/api/v1/events", Some(CHANNEL), None).await;
    assert_error("events", &r, StatusCode::FORBIDDEN, "forbidden", None);
    let r = send(&app, "GET", "/api/v1/events", Some(SUPERVISOR), None).await;
    assert_error(
        "events",
        &r,
        StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        None,
    );
    assert_eq!(r.headers.get(header::UPGRADE).unwrap(), "websocket");

    // On a real socket: a real handshake reaches the call layer's absence.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    for (target, token, status, error) in [
        ("/api/v1/events", None, 401, "unauthorized"),
        (
            "/api/v1/events?access_token=nope",
            None,
            401,
            "unauthorized",
        ),
        ("/api/v1/events", Some(DEPARTMENT), 403, "forbidden"),
        ("/api/v1/events", Some(SUPERVISOR), 503, "unavailable"),
        (
            "/api/v1/events?access_token=demo-agent-1001",
            None,
            503,
            "unavailable",
        ),
    ] {
        let (got, body) = handshake(addr, target, token).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{target} {body}"
        );
    }
    server.abort();
}
