//! The HTTP API in-process (axum router + tower), on SQLite and on the real PostgreSQL: the
//! lifecycle over HTTP, visibility per role, and every error status with its JSON body.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Backend, TestStore};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

both_backends!(
    lifecycle_over_http,
    authentication_errors,
    bad_input_names_the_field,
    not_found_and_conflict,
    visibility_by_role,
    reference_data_and_calls,
    database_gone_answers_503,
);

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(
    app: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some((ct, b)) => req.header(header::CONTENT_TYPE, ct).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(app: &axum::Router, path: &str, token: &str) -> Resp {
    send(app, Method::GET, path, Some(token), None).await
}

async fn post(app: &axum::Router, path: &str, token: &str, body: Value) -> Resp {
    send(
        app,
        Method::POST,
        path,
        Some(token),
        Some(("application/json", body.to_string())),
    )
    .await
}

/// Asserts an error answer: status, kind, and (if given) the field it names.
fn assert_error(r: &Resp, status: StatusCode, kind: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"], kind, "{:?}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    if let Some(f) = field {
        assert_eq!(r.body["field"], f, "{:?}", r.body);
    }
}

async fn new_order(app: &axum::Router, token: &str) -> Value {
    let r = post(
        app,
        "/api/v1/work-orders",
        token,
        json!({"request_type": "complaint", "description": "垃圾未清运 rubbish not collected",
               "caller_number": "13800000000", "category_id": "E0101",
               "grid_cell": "510402001001001", "longitude": 101.72, "latitude": 26.58,
               "address": "炳草岗大街 1 号"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn lifecycle_over_http(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let health = send(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.body["database"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );

    let r = post(
        &app,
        "/api/v1/work-orders",
        "demo-agent-1001",
        json!({"request_type": "complaint", "description": "路灯不亮", "caller_number": "13800000000"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.headers[header::LOCATION].to_str().unwrap(),
        format!("/api/v1/work-orders/{id}")
    );
    assert_eq!(r.body["status"], "received");
    assert_eq!(r.body["channel"], "phone-12345");
    assert_eq!(r.body["created_by"], "agent-1001");
    assert!(r.body["deadline"].is_string());
    let number = r.body["number"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 13);

    let path = format!("/api/v1/work-orders/{number}/transitions");
    let walk: [(&str, Value, &str); 9] = [
        (
            "demo-agent-1001",
            json!({"action": "register", "category_id": "C0101"}),
            "registered",
        ),
        (
            "demo-supervisor",
            json!({"action": "dispatch", "department": "sanitation"}),
            "dispatched",
        ),
        (
            "demo-dept-sanitation",
            json!({"action": "return", "reason": "not ours"}),
            "returned",
        ),
        (
            "demo-supervisor",
            json!({"action": "dispatch", "department": "roads"}),
            "dispatched",
        ),
        (
            "demo-dept-roads",
            json!({"action": "handle", "result": "lamp replaced"}),
            "handled",
        ),
        ("demo-supervisor", json!({"action": "verify"}), "verified"),
        (
            "demo-supervisor",
            json!({"action": "extend", "working_days": 1, "reason": "x"}),
            "verified",
        ),
        (
            "demo-admin",
            json!({"action": "close", "note": "done"}),
            "closed",
        ),
        (
            "demo-agent-1001",
            json!({"action": "follow_up", "result": "satisfied"}),
            "closed",
        ),
    ];
    for (token, body, status) in walk {
        let r = post(&app, &path, token, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {:?}", r.body);
        assert_eq!(r.body["status"], status, "{body}");
    }
    let order = get(
        &app,
        &format!("/api/v1/work-orders/{id}"),
        "demo-supervisor",
    )
    .await;
    assert_eq!(order.body["follow_up_result"], "satisfied");
    assert_eq!(order.body["department_id"], "roads");
    let events = get(
        &app,
        &format!("/api/v1/work-orders/{number}/events"),
        "demo-supervisor",
    )
    .await;
    let events = events.body.as_array().unwrap().clone();
    assert_eq!(events.len(), 10);
    assert_eq!(events[0]["action"], "create");
    assert_eq!(events[3]["actor"], "dept-sanitation");
    assert_eq!(events[3]["action"], "return_order");
    assert_eq!(events[3]["from_status"], "dispatched");
    assert_eq!(events[3]["to_status"], "returned");
    assert_eq!(events[8]["actor_role"], "admin");
    assert_eq!(events[8]["action"], "close");
}

async fn authentication_errors(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (token_header, what) in [
        (None, "missing"),
        (Some("Bearer nope-not-a-token"), "unknown"),
        (Some("Basic ZGVtbzpkZW1v"), "Bearer"),
        (Some("Bearer "), "Bearer"),
    ] {
        let mut req = Request::builder().uri("/api/v1/work-orders");
        if let Some(h) = token_header {
            req = req.header(header::AUTHORIZATION, h);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{token_header:?}");
        assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
        let body: Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["error"], "unauthorized");
        assert!(body["message"].as_str().unwrap().contains(what), "{body}");
    }
    // The health check and the API description need no token.
    let r = send(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    // Wrong role → 403.
    let r = post(
        &app,
        "/api/v1/work-orders",
        "demo-dept-roads",
        json!({"request_type": "complaint", "description": "x"}),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
    let r = get(&app, "/api/v1/agents", "demo-channel").await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
    let order = new_order(&app, "demo-agent-1001").await;
    let path = format!("/api/v1/work-orders/{}/transitions", order["id"]);
    let r = post(
        &app,
        &path,
        "demo-agent-1001",
        json!({"action": "register"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = post(
        &app,
        &path,
        "demo-agent-1001",
        json!({"action": "extend", "working_days": 2, "reason": "r"}),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
}

async fn bad_input_names_the_field(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let create = |body: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                Method::POST,
                "/api/v1/work-orders",
                Some("demo-agent-1001"),
                Some(("application/json", body)),
            )
            .await
        }
    };
    let cases: [(&str, &str); 8] = [
        (r#"{"request_type": "complaint""#, "body"),
        (r#"not json"#, "body"),
        (r#"{"request_type": "complaint"}"#, "description"),
        (r#"{"description": "x"}"#, "request_type"),
        (
            r#"{"request_type": "complaint", "description": "x", "longitude": "east", "latitude": 1}"#,
            "longitude",
        ),
        (
            r#"{"request_type": "complaint", "description": "x", "colour": "red"}"#,
            "colour",
        ),
        (
            r#"{"request_type": "gossip", "description": "x"}"#,
            "request_type",
        ),
        (
            r#"{"request_type": "complaint", "description": "x", "grid_cell": "123"}"#,
            "grid_cell",
        ),
    ];
    for (body, field) in cases {
        let r = create(body.to_string()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some(field));
    }
    // Not JSON at all → 415.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/work-orders",
        Some("demo-agent-1001"),
        Some(("text/plain", "hello".into())),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    // Transitions: unknown action, missing field, empty reason, unknown department.
    let order = new_order(&app, "demo-agent-1001").await;
    let path = format!("/api/v1/work-orders/{}/transitions", order["id"]);
    let r = post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "teleport"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("action"));
    let r = post(&app, &path, "demo-supervisor", json!({"note": "no action"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("action"));
    let r = post(&app, &path, "demo-supervisor", json!({"action": "reject"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("reason"));
    let r = post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "reject", "reason": "  "}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("reason"));
    post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "register"}),
    )
    .await;
    let r = post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "dispatch", "department": "moon"}),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("department"),
    );
    // Query strings.
    for (q, field) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("status=lost", "status"),
        ("colour=red", "colour"),
        ("overdue=perhaps", "overdue"),
    ] {
        let r = get(&app, &format!("/api/v1/work-orders?{q}"), "demo-supervisor").await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some(field));
    }
    let r = get(&app, "/api/v1/categories?kind=animal", "demo-supervisor").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("kind"));
    for (q, field) in [
        ("channel=pigeon", "channel"),
        ("request_type=gossip", "request_type"),
        ("category_id=X1", "category_id"),
    ] {
        let r = get(&app, &format!("/api/v1/work-orders?{q}"), "demo-supervisor").await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some(field));
    }
    let r = get(&app, "/api/v1/calls?disposition=lost", "demo-supervisor").await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("disposition"),
    );
    // Who may do something is settled before the body is read.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/work-orders",
        Some("demo-dept-roads"),
        Some(("text/plain", "not even json".into())),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
    // A NUL character anywhere in text → 400 naming the field (PostgreSQL would refuse it).
    let r = create(r#"{"request_type": "complaint", "description": "a\u0000b"}"#.to_string()).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("description"),
    );
    let r = get(&app, "/api/v1/work-orders?q=a%00b", "demo-supervisor").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("q"));
    // A channel may not act on orders: refused before its body is even parsed.
    let field_order = post(
        &app,
        "/api/v1/work-orders",
        "demo-channel",
        json!({"request_type": "urban-management", "description": "井盖缺失"}),
    )
    .await;
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v1/work-orders/{}/transitions", field_order.body["id"]),
        Some("demo-channel"),
        Some(("application/json", "{not json".into())),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
    // Only staff tie a call to an order.
    let r = post(
        &app,
        "/api/v1/work-orders",
        "demo-channel",
        json!({"request_type": "help", "description": "x", "call_id": "c-1"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request", Some("call_id"));
    // A body over the limit → 413.
    let huge = format!(
        r#"{{"request_type": "complaint", "description": "{}"}}"#,
        "x".repeat(3 << 20)
    );
    let r = create(huge).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
    // % and _ typed into a search are literal.
    let r = get(&app, "/api/v1/work-orders?q=%25", "demo-supervisor").await;
    assert_eq!(r.body["total"], 0, "no order contains a literal %");
    let r = get(&app, "/api/v1/work-orders?q=_", "demo-supervisor").await;
    assert_eq!(r.body["total"], 0, "no order contains a literal _");
}

async fn not_found_and_conflict(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for path in [
        "/api/v1/work-orders/99999",
        "/api/v1/work-orders/2026010199999",
        "/api/v1/work-orders/abc",
        "/api/v1/work-orders/99999/events",
        "/api/v1/calls/no-such-call",
        "/api/v1/no-such-collection",
        "/nothing-here",
    ] {
        let r = get(&app, path, "demo-supervisor").await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found", None);
    }
    let r = post(
        &app,
        "/api/v1/work-orders/99999/transitions",
        "demo-supervisor",
        json!({"action": "verify"}),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found", None);
    let r = send(
        &app,
        Method::DELETE,
        "/api/v1/work-orders",
        Some("demo-admin"),
        None,
    )
    .await;
    assert_error(
        &r,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
    // Invalid transition → 409 naming what is allowed now.
    let order = new_order(&app, "demo-agent-1001").await;
    let path = format!("/api/v1/work-orders/{}/transitions", order["id"]);
    let r = post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "close", "note": "x"}),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "invalid_transition", None);
    assert_eq!(
        r.body["allowed"],
        json!(["register", "reject", "request_verification", "merge"])
    );
    post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "reject", "reason": "duplicate call"}),
    )
    .await;
    let r = post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "register"}),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "invalid_transition", None);
    assert_eq!(r.body["allowed"], json!([]));
}

async fn visibility_by_role(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let a = new_order(&app, "demo-agent-1001").await;
    let field = post(
        &app,
        "/api/v1/work-orders",
        "demo-channel",
        json!({"request_type": "urban-management", "description": "井盖缺失", "category_id": "C0101"}),
    )
    .await;
    assert_eq!(field.status, StatusCode::CREATED);
    assert_eq!(field.body["channel"], "field-inspector");
    // The channel user sees its own order only.
    let list = get(&app, "/api/v1/work-orders", "demo-channel").await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], field.body["id"]);
    let r = get(
        &app,
        &format!("/api/v1/work-orders/{}", a["id"]),
        "demo-channel",
    )
    .await;
    // Another channel's order is answered as if it did not exist.
    assert_error(&r, StatusCode::NOT_FOUND, "not_found", None);
    // A department sees nothing until an order is dispatched to it.
    let list = get(&app, "/api/v1/work-orders", "demo-dept-roads").await;
    assert_eq!(list.body["total"], 0);
    let path = format!("/api/v1/work-orders/{}/transitions", a["id"]);
    post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "register"}),
    )
    .await;
    post(
        &app,
        &path,
        "demo-supervisor",
        json!({"action": "dispatch", "department": "roads"}),
    )
    .await;
    let list = get(
        &app,
        "/api/v1/work-orders?department_id=sanitation",
        "demo-dept-roads",
    )
    .await;
    assert_eq!(list.body["total"], 1, "a department cannot widen its view");
    assert_eq!(list.body["items"][0]["department_id"], "roads");
    let r = post(
        &app,
        &path,
        "demo-dept-sanitation",
        json!({"action": "handle", "result": "x"}),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found", None);
    // Supervisors see everything, with paging.
    for _ in 0..3 {
        new_order(&app, "demo-supervisor").await;
    }
    let p = get(&app, "/api/v1/work-orders?limit=2", "demo-supervisor").await;
    assert_eq!(p.body["total"], 5);
    assert_eq!(p.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(p.body["next_offset"], 2);
    let last = get(
        &app,
        "/api/v1/work-orders?limit=2&offset=4",
        "demo-supervisor",
    )
    .await;
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["next_offset"], Value::Null);
    let search = get(
        &app,
        "/api/v1/work-orders?q=%E4%BA%95%E7%9B%96",
        "demo-supervisor",
    )
    .await;
    assert_eq!(search.body["total"], 1, "search 井盖");
}

async fn reference_data_and_calls(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let cats = get(&app, "/api/v1/categories?kind=component", "demo-channel").await;
    let cats = cats.body.as_array().unwrap();
    assert!(cats
        .iter()
        .any(|c| c["id"] == "C01" && c["name_zh"] == "公用设施"));
    assert!(cats.iter().all(|c| c["kind"] == "component"));
    let grid = get(&app, "/api/v1/grid-cells", "demo-agent-1001").await;
    assert_eq!(grid.body.as_array().unwrap().len(), 3);
    let depts = get(&app, "/api/v1/departments", "demo-agent-1001").await;
    assert!(depts
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == "roads"));
    let agents = get(&app, "/api/v1/agents", "demo-supervisor").await;
    let agents = agents.body.as_array().unwrap();
    assert_eq!(agents.len(), 5);
    assert!(
        agents.iter().all(|a| a.get("password").is_none()),
        "no passwords"
    );
    let queues = get(&app, "/api/v1/queues", "demo-supervisor").await;
    assert_eq!(queues.body[0]["service_level_secs"], 15);
    // Call records.
    let t = chrono::Utc::now();
    ts.store
        .save_call(&hotline::cases::CallRecord {
            trunk: Some("carrier".into()),
            queue: Some("12345".into()),
            ended_at: Some(t),
            disposition: Some("abandoned".into()),
            disposition_detail: Some("queue".into()),
            ..hotline::cases::CallRecord::inbound("c-1", "13800000000", "12345", t)
        })
        .await
        .unwrap();
    let calls = get(
        &app,
        "/api/v1/calls?disposition=abandoned",
        "demo-supervisor",
    )
    .await;
    assert_eq!(calls.body["total"], 1);
    let c = get(&app, "/api/v1/calls/c-1", "demo-agent-1001").await;
    assert_eq!(c.body["from_number"], "13800000000");
    let r = get(&app, "/api/v1/calls", "demo-channel").await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden", None);
}

/// With the database gone, the health check and writes answer 503 with Retry-After.
async fn database_gone_answers_503(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    ts.store.close().await;
    let health = send(&app, Method::GET, "/healthz", None, None).await;
    assert_error(
        &health,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        None,
    );
    assert!(health.headers.contains_key(header::RETRY_AFTER));
    let r = post(
        &app,
        "/api/v1/work-orders",
        "demo-agent-1001",
        json!({"request_type": "complaint", "description": "x"}),
    )
    .await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "unavailable", None);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    let r = get(&app, "/api/v1/work-orders", "demo-supervisor").await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "unavailable", None);
}
