//! Session login for the web pages on SQLite and PostgreSQL: an agent's softphone password
//! (checked against the stored HA1) or an API token gives a session token that the desk routes
//! and the event stream accept; wrong credentials are 401; `DELETE /api/v1/session` ends it; a
//! session expires after its time; logins are audited. And the pages themselves are served with
//! their content types and ETags.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Backend, TestStore};
use hotline::api::session::Sessions;
use hotline::cases::store::AuditQuery;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

both_backends!(
    wrong_credentials_are_401,
    an_agent_session_acts_for_its_agent,
    a_token_session_has_the_token_users_role,
    deleting_the_session_ends_it,
    a_session_expires,
    repeated_failures_lock_the_agent,
    repeated_failures_lock_the_address,
);

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(
    app: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    extra: &[(header::HeaderName, &str)],
) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in extra {
        req = req.header(k, *v);
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
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

async fn login(app: &axum::Router, body: Value) -> Resp {
    send(app, Method::POST, "/api/v1/session", None, Some(body), &[]).await
}

/// `POST /api/v1/session` as if from `from` (the server's `ConnectInfo`).
async fn login_from(app: &axum::Router, body: Value, from: &str) -> Resp {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let addr: std::net::SocketAddr = from.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let resp = app.clone().oneshot(req).await.unwrap();
    Resp {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

fn retry_after(r: &Resp) -> u64 {
    r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn failed_logins(ts: &TestStore) -> Vec<hotline::cases::store::AuditEntry> {
    let q = AuditQuery {
        action: Some("login-failed".into()),
        limit: 100,
        ..Default::default()
    };
    let mut rows = ts.store.audit_entries(&q).await.unwrap();
    rows.sort_by_key(|e| e.id);
    rows
}

async fn repeated_failures_lock_the_agent(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    // Four failures: still 401, and the right password still opens a session, which forgets
    // them.
    for _ in 0..4 {
        let r = login(&app, json!({"agent": "1001", "password": "guess-1"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let ok = login(&app, json!({"agent": "1001", "password": "demo-1001"})).await;
    assert_eq!(ok.status, StatusCode::OK);
    // Five failures in a row lock the agent: the fifth is still a 401, then 429 even with the
    // right password, with Retry-After.
    for i in 0..5 {
        let r = login(
            &app,
            json!({"agent": "1001", "password": format!("guess-{i}")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let locked = login(&app, json!({"agent": "1001", "password": "demo-1001"})).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.json()["error"], "too_many_requests");
    let wait = retry_after(&locked);
    assert!((55..=60).contains(&wait), "Retry-After {wait}");
    // Another agent is not locked.
    let other = login(&app, json!({"agent": "1002", "password": "demo-1002"})).await;
    assert_eq!(other.status, StatusCode::OK);
    // An unknown agent is counted and locked the same way (no hint that it is unknown).
    for _ in 0..5 {
        let r = login(&app, json!({"agent": "9999", "password": "x"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = login(&app, json!({"agent": "9999", "password": "x"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Every failure is audited, without the password; locked attempts are not checked.
    let rows = failed_logins(&ts).await;
    assert_eq!(rows.len(), 4 + 5 + 5, "{rows:?}");
    for e in &rows[..9] {
        assert_eq!(e.actor, "1001");
        assert_eq!(e.role, "agent");
        assert_eq!(e.target, "agent:1001");
        let detail = e.detail.as_deref().unwrap();
        assert!(detail.starts_with("wrong password"), "{detail}");
        assert!(!detail.contains("guess"), "{detail}");
    }
    assert!(rows[8]
        .detail
        .as_deref()
        .unwrap()
        .contains("agent:1001 locked for 60 s"));
    assert!(!rows[7].detail.as_deref().unwrap().contains("locked"));
    for e in &rows[9..] {
        assert_eq!(e.actor, "unknown");
        assert_eq!(e.target, "agent:9999");
        assert!(e.detail.as_deref().unwrap().starts_with("unknown agent"));
    }
}

async fn repeated_failures_lock_the_address(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    // Failures spread over agents (and a wrong API token) from one address.
    for (i, body) in [
        json!({"agent": "1001", "password": "a"}),
        json!({"agent": "1002", "password": "b"}),
        json!({"agent": "1003", "password": "c"}),
        json!({"token": "not-a-token"}),
        json!({"agent": "8888", "password": "d"}),
    ]
    .into_iter()
    .enumerate()
    {
        let r = login_from(&app, body, "192.0.2.7:40000").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    // That address is locked, whoever it claims to be, on any port.
    let r = login_from(
        &app,
        json!({"agent": "1003", "password": "demo-1003"}),
        "192.0.2.7:40001",
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((55..=60).contains(&retry_after(&r)));
    let r = login_from(&app, json!({"token": "demo-supervisor"}), "192.0.2.7:40002").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not.
    let r = login_from(
        &app,
        json!({"agent": "1003", "password": "demo-1003"}),
        "192.0.2.8:40000",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = failed_logins(&ts).await;
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[3].target, "token");
    assert!(rows
        .iter()
        .all(|e| e.detail.as_deref().unwrap().contains("from 192.0.2.7")));
    assert!(rows[4]
        .detail
        .as_deref()
        .unwrap()
        .contains("address:192.0.2.7 locked for 60 s"));
}

async fn wrong_credentials_are_401(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for body in [
        json!({"agent": "1001", "password": "demo-1002"}),
        json!({"agent": "1001", "password": ""}),
        json!({"agent": "9999", "password": "demo-9999"}),
        json!({"agent": "1002", "password": "demo-1001"}),
        json!({"token": "not-a-token"}),
    ] {
        let r = login(&app, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(r.json()["error"], "unauthorized", "{body}");
    }
    // Incomplete bodies name the field.
    for (body, field) in [
        (json!({"agent": "1001"}), "password"),
        (json!({"password": "demo-1001"}), "agent"),
        (json!({}), "agent"),
        (json!({"agent": "1001", "password": "x", "pin": 1}), "pin"),
    ] {
        let r = login(&app, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json()["field"], field, "{body}");
    }
    // Nothing was audited as a login.
    let q = AuditQuery {
        action: Some("login".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(ts.store.audit_entries(&q).await.unwrap().is_empty());
}

async fn an_agent_session_acts_for_its_agent(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let r = login(&app, json!({"agent": "1001", "password": "demo-1001"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    let token = v["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    assert_eq!(
        v["user"],
        json!({"name": "agent-1001", "role": "agent", "agent": "1001"})
    );
    let expires: chrono::DateTime<chrono::Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::hours(11) && left <= chrono::Duration::hours(12));
    // Past authentication on its own desk (503: no call layer in this test), 403 on another's.
    let own = send(
        &app,
        Method::GET,
        "/api/v1/agents/1001/status",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(own.status, StatusCode::SERVICE_UNAVAILABLE);
    let other = send(
        &app,
        Method::GET,
        "/api/v1/agents/1002/status",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    // Reference data an agent reads on the desk.
    let cats = send(
        &app,
        Method::GET,
        "/api/v1/categories",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(cats.status, StatusCode::OK);
    // The event stream takes it as ?access_token= (503 past the check: no call layer).
    let ws = send(
        &app,
        Method::GET,
        &format!("/api/v1/events?access_token={token}"),
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(ws.status, StatusCode::UPGRADE_REQUIRED, "{}", ws.json());
    let ws = send(
        &app,
        Method::GET,
        "/api/v1/events?access_token=nope",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(ws.status, StatusCode::UNAUTHORIZED);
    // Audited.
    let q = AuditQuery {
        action: Some("login".into()),
        limit: 10,
        ..Default::default()
    };
    let entries = ts.store.audit_entries(&q).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "agent-1001");
    assert_eq!(entries[0].role, "agent");
    assert_eq!(entries[0].target, "agent:1001");
}

async fn a_token_session_has_the_token_users_role(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let r = login(&app, json!({"token": "demo-supervisor"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(
        v["user"],
        json!({"name": "supervisor", "role": "supervisor", "agent": null})
    );
    let token = v["token"].as_str().unwrap();
    assert_ne!(token, "demo-supervisor");
    let live = send(&app, Method::GET, "/api/v1/live", Some(token), None, &[]).await;
    assert_eq!(live.status, StatusCode::SERVICE_UNAVAILABLE);
    let any = send(
        &app,
        Method::GET,
        "/api/v1/agents/1002/status",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(any.status, StatusCode::SERVICE_UNAVAILABLE);
    // An agent's API token gives an agent session.
    let r = login(&app, json!({"token": "demo-agent-1001"})).await;
    assert_eq!(r.json()["user"]["agent"], "1001");
    let q = AuditQuery {
        action: Some("login".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(ts.store.audit_entries(&q).await.unwrap().len(), 2);
}

async fn deleting_the_session_ends_it(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let v = login(&app, json!({"agent": "1002", "password": "demo-1002"}))
        .await
        .json();
    let token = v["token"].as_str().unwrap();
    let ok = send(
        &app,
        Method::GET,
        "/api/v1/categories",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let del = send(
        &app,
        Method::DELETE,
        "/api/v1/session",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let after = send(
        &app,
        Method::GET,
        "/api/v1/categories",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let again = send(
        &app,
        Method::DELETE,
        "/api/v1/session",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // A configured API token is not a session and stays valid.
    let api = send(
        &app,
        Method::DELETE,
        "/api/v1/session",
        Some("demo-admin"),
        None,
        &[],
    )
    .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let none = send(&app, Method::DELETE, "/api/v1/session", None, None, &[]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

async fn a_session_expires(b: Backend) {
    let ts = TestStore::new(b).await;
    let mut state = hotline::api::AppState::new(ts.store.clone(), ts.config.clone());
    state.sessions = Arc::new(Sessions::with_ttl(chrono::Duration::milliseconds(1500)));
    let app = hotline::api::router(state);
    let v = login(&app, json!({"agent": "1001", "password": "demo-1001"}))
        .await
        .json();
    let token = v["token"].as_str().unwrap();
    let ok = send(
        &app,
        Method::GET,
        "/api/v1/categories",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let late = send(
        &app,
        Method::GET,
        "/api/v1/categories",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_and_assets_are_served_with_types_and_etags() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let app = ts.router();
    for (path, ty) in [
        ("/", "text/html; charset=utf-8"),
        ("/wallboard", "text/html; charset=utf-8"),
        ("/reports", "text/html; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/desk.js", "text/javascript; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let r = send(&app, Method::GET, path, None, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.headers[header::CONTENT_TYPE], ty, "{path}");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache", "{path}");
        assert!(!r.body.is_empty(), "{path}");
        let tag = r.headers[header::ETAG].to_str().unwrap().to_string();
        let again = send(
            &app,
            Method::GET,
            path,
            None,
            None,
            &[(header::IF_NONE_MATCH, &tag)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
    }
    let desk = send(&app, Method::GET, "/", None, None, &[]).await;
    let html = String::from_utf8(desk.body).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\""), "{html}");
    let missing = send(&app, Method::GET, "/assets/nope.js", None, None, &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"], "not_found");
    let up = send(
        &app,
        Method::GET,
        "/assets/..%2FCargo.toml",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(up.status, StatusCode::NOT_FOUND);
}
