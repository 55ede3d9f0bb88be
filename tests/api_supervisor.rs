//! The supervisors' routes over HTTP without a call layer, on SQLite and on the real
//! PostgreSQL: only supervisors and admins (401, 403), bad bodies and queries named by field
//! (400), past those checks a JSON 503 because no call layer runs — and nothing audited for an
//! action that did not happen — and the audit trail listed newest first with its filters.
//! The actions themselves run against real softphones in `tests/sip_live` (`call_path2::supervisor`).

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{Backend, TestStore};
use hotline::cases::store::AuditEntry;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

both_backends!(
    only_supervisors_and_admins,
    bad_bodies_and_queries_name_their_field,
    without_a_call_layer_nothing_happens_and_nothing_is_audited,
    audit_trail_is_listed_newest_first_with_filters,
);

const ADMIN: &str = "demo-admin";
const SUPERVISOR: &str = "demo-supervisor";
const AGENT_1001: &str = "demo-agent-1001";
const CHANNEL: &str = "demo-channel";

const MONITOR: &str = "/api/v1/calls/20261127090000000-000001/monitor";
const HANGUP: &str = "/api/v1/calls/20261127090000000-000001/hangup";

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
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
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn routes() -> [(&'static str, &'static str, Option<&'static str>); 4] {
    [
        ("POST", MONITOR, Some(r#"{"mode": "listen"}"#)),
        ("DELETE", MONITOR, None),
        ("POST", HANGUP, Some(r#"{"reason": "abusive caller"}"#)),
        ("GET", "/api/v1/audit", None),
    ]
}

async fn only_supervisors_and_admins(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (method, path, body) in routes() {
        let (code, _) = send(&app, method, path, None, body).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{method} {path}");
        for token in [AGENT_1001, CHANNEL] {
            let (code, reply) = send(&app, method, path, Some(token), body).await;
            assert_eq!(
                code,
                StatusCode::FORBIDDEN,
                "{method} {path} {token}: {reply}"
            );
            assert_eq!(reply["error"], "forbidden");
        }
    }
}

async fn bad_bodies_and_queries_name_their_field(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (method, path, token, body, field) in [
        (
            "POST",
            MONITOR,
            SUPERVISOR,
            r#"{"mode": "takeover"}"#,
            "mode",
        ),
        ("POST", MONITOR, SUPERVISOR, r#"{"mode": "Listen"}"#, "mode"),
        ("POST", MONITOR, SUPERVISOR, r#"{}"#, "mode"),
        (
            "POST",
            MONITOR,
            SUPERVISOR,
            r#"{"mode": "listen", "extension": " "}"#,
            "extension",
        ),
        (
            "POST",
            MONITOR,
            SUPERVISOR,
            r#"{"mode": "listen", "x": 1}"#,
            "x",
        ),
        // The demo admin has no softphone configured: it must name one.
        ("POST", MONITOR, ADMIN, r#"{"mode": "barge"}"#, "extension"),
        ("POST", HANGUP, SUPERVISOR, r#"{"reason": 7}"#, "reason"),
        ("POST", HANGUP, SUPERVISOR, "{", "body"),
    ] {
        let (code, reply) = send(&app, method, path, Some(token), Some(body)).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path} {body}: {reply}");
        assert_eq!(reply["field"], field, "{path} {body}: {reply}");
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=yesterday", "since"),
        (
            "until=2026-11-27T00:00:00Z&since=2026-11-28T00:00:00Z",
            "until",
        ),
        ("who=me", "who"),
    ] {
        let path = format!("/api/v1/audit?{query}");
        let (code, reply) = send(&app, "GET", &path, Some(SUPERVISOR), None).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path}: {reply}");
        assert_eq!(reply["field"], field, "{path}: {reply}");
    }
}

async fn without_a_call_layer_nothing_happens_and_nothing_is_audited(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (method, path, token, body) in [
        ("POST", MONITOR, SUPERVISOR, Some(r#"{"mode": "whisper"}"#)),
        (
            "POST",
            MONITOR,
            ADMIN,
            Some(r#"{"mode": "listen", "extension": "8001"}"#),
        ),
        ("DELETE", MONITOR, SUPERVISOR, None),
        ("POST", HANGUP, ADMIN, None),
        ("POST", HANGUP, SUPERVISOR, Some(r#"{"reason": "test"}"#)),
        (
            "POST",
            "/api/v1/agents/1001/state",
            SUPERVISOR,
            Some(r#"{"state": "ready"}"#),
        ),
        ("POST", "/api/v1/agents/1001/logout", SUPERVISOR, None),
    ] {
        let (code, reply) = send(&app, method, path, Some(token), body).await;
        assert_eq!(
            code,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {reply}"
        );
        assert_eq!(reply["error"], "unavailable", "{reply}");
    }
    let (code, reply) = send(&app, "GET", "/api/v1/audit", Some(SUPERVISOR), None).await;
    assert_eq!(code, StatusCode::OK, "{reply}");
    assert_eq!(reply["items"], serde_json::json!([]), "nothing happened");
}

async fn audit_trail_is_listed_newest_first_with_filters(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let t0 = Utc::now() - Duration::minutes(10);
    let rows = [
        ("supervisor", "listen", "call:c1", Some("extension 8001")),
        ("supervisor", "barge", "call:c1", Some("extension 8001")),
        (
            "admin",
            "force-state",
            "agent:1001",
            Some("not-ready (meeting)"),
        ),
        ("supervisor", "force-hangup", "call:c2", None),
    ];
    for (i, (actor, action, target, detail)) in rows.iter().enumerate() {
        ts.store
            .audit(&AuditEntry {
                id: 0,
                at: t0 + Duration::minutes(i as i64),
                actor: actor.to_string(),
                role: if *actor == "admin" {
                    "admin"
                } else {
                    "supervisor"
                }
                .into(),
                action: action.to_string(),
                target: target.to_string(),
                detail: detail.map(str::to_string),
            })
            .await
            .unwrap();
    }
    let list = |query: &str| {
        let app = app.clone();
        let path = format!("/api/v1/audit{query}");
        async move {
            let (code, reply) = send(&app, "GET", &path, Some(ADMIN), None).await;
            assert_eq!(code, StatusCode::OK, "{path}: {reply}");
            reply["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list("").await,
        ["force-hangup", "force-state", "barge", "listen"]
    );
    assert_eq!(list("?target=call:c1").await, ["barge", "listen"]);
    assert_eq!(list("?actor=admin").await, ["force-state"]);
    assert_eq!(list("?action=listen").await, ["listen"]);
    assert_eq!(list("?limit=1").await, ["force-hangup"]);
    let since = (t0 + Duration::seconds(90)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until = (t0 + Duration::seconds(150)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        list(&format!("?since={since}&until={until}")).await,
        ["force-state"]
    );
    let (_, reply) = send(&app, "GET", "/api/v1/audit?limit=1", Some(SUPERVISOR), None).await;
    let e = &reply["items"][0];
    assert_eq!(
        (
            e["actor"].as_str(),
            e["role"].as_str(),
            e["target"].as_str()
        ),
        (Some("supervisor"), Some("supervisor"), Some("call:c2"))
    );
    assert!(e["detail"].is_null() && e["id"].is_i64() && e["at"].is_string());
}
