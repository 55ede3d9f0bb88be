//! `GET /api/v1/notifications`: newest first, by status and by order (id or number), paged;
//! 403 to other roles, 400 naming a bad status, order or limit, or an unknown parameter.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::TimeDelta;
use hotline::cases::notify::{deliver_due, DeliveryConfig, LogNotifier};
use hotline::cases::{Actor, NewWorkOrder};
use hotline::config::Role;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::common::{Backend, TestStore};
use super::enqueue;
use super::sweep_pure::local;

async fn get(app: &axum::Router, path: &str, token: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect()
}

pub(crate) async fn notifications_listed_by_status_and_order(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = Actor {
        name: "test-agent".into(),
        role: Role::Agent,
        department: None,
    };
    let t0 = local(2026, 11, 27, 10, 0);
    let new = NewWorkOrder {
        request_type: "complaint".into(),
        description: "噪音扰民 noise at night".into(),
        caller_number: Some("13800000000".into()),
        ..Default::default()
    };
    let order = ts.store.create_order(new, &agent, None, t0).await.unwrap();
    enqueue(
        &ts,
        "dispatched",
        "department:roads",
        Some(order.id),
        json!({"n": 1}),
        t0,
    )
    .await;
    enqueue(
        &ts,
        "closed",
        "reporter:13800000000",
        Some(order.id),
        json!({"n": 2}),
        t0,
    )
    .await;
    enqueue(&ts, "near_deadline", "centre", None, json!({"n": 3}), t0).await;
    // The first two delivered; the third waits.
    let cfg = DeliveryConfig {
        max_attempts: 3,
        retry: std::time::Duration::from_secs(1),
        poll: std::time::Duration::from_secs(1),
    };
    let later = t0 + TimeDelta::hours(1);
    enqueue(
        &ts,
        "merged",
        "reporter:13800000000",
        Some(order.id),
        json!({"n": 4}),
        later,
    )
    .await;
    deliver_due(&ts.store, &LogNotifier, &cfg, t0)
        .await
        .unwrap();
    let app = ts.router();
    let (s, all) = get(&app, "/api/v1/notifications", "demo-supervisor").await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 4);
    let every = ids(&all);
    let mut sorted = every.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(every, sorted, "newest first");
    let first = &all["items"][0];
    assert_eq!(first["kind"], "merged");
    assert_eq!(first["status"], "pending");
    assert_eq!(first["payload"]["n"], 4);
    assert_eq!(first["attempts"], 0);
    assert_eq!(first["work_order_id"], order.id);
    let last = &all["items"][3];
    assert_eq!(
        (&last["kind"], &last["status"]),
        (&json!("dispatched"), &json!("delivered"))
    );
    assert!(last["delivered_at"].is_string());
    let (_, pending) = get(&app, "/api/v1/notifications?status=pending", "demo-admin").await;
    assert_eq!(pending["total"], 1);
    let (_, delivered) = get(&app, "/api/v1/notifications?status=delivered", "demo-admin").await;
    assert_eq!(delivered["total"], 3);
    let (_, failed) = get(&app, "/api/v1/notifications?status=failed", "demo-admin").await;
    assert_eq!(failed["total"], 0);
    let by_id = format!("/api/v1/notifications?order={}", order.id);
    let (_, of_order) = get(&app, &by_id, "demo-supervisor").await;
    assert_eq!(of_order["total"], 3);
    let by_number = format!(
        "/api/v1/notifications?order={}&status=delivered",
        order.number
    );
    let (_, of_number) = get(&app, &by_number, "demo-supervisor").await;
    assert_eq!(of_number["total"], 2);
    let (_, none) = get(
        &app,
        "/api/v1/notifications?order=999999",
        "demo-supervisor",
    )
    .await;
    assert_eq!(none["total"], 0);
    // The counts in /metrics (the pending gauge once counted).
    assert_eq!(ts.store.count_pending_notifications().await.unwrap(), 1);
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for line in [
        "hotline_notifications_delivered_total 3",
        "hotline_notifications_failed_total 0",
        "hotline_notifications_retried_total 0",
        "hotline_notifications_pending 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in {text}");
    }
    let (_, page) = get(
        &app,
        "/api/v1/notifications?limit=2&offset=1",
        "demo-supervisor",
    )
    .await;
    assert_eq!(ids(&page), every[1..3].to_vec());
    assert_eq!(page["next_offset"], 3);
}

pub(crate) async fn notifications_list_refuses_bad_input_and_other_roles(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for token in [
        "demo-agent-1001",
        "demo-dept-roads",
        "demo-channel",
        "demo-leader",
        "demo-inspector-01",
    ] {
        let (s, body) = get(&app, "/api/v1/notifications", token).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{token}: {body}");
    }
    let (s, _) = get(&app, "/api/v1/notifications", "no-such-token").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = get(&app, "/api/v1/notifications?status=sent", "demo-supervisor").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "status");
    let (s, body) = get(&app, "/api/v1/notifications?order=abc", "demo-supervisor").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "order");
    let (s, body) = get(&app, "/api/v1/notifications?limit=0", "demo-supervisor").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "limit");
    let (s, body) = get(&app, "/api/v1/notifications?recipient=x", "demo-supervisor").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
}
