//! The workflow over HTTP: a transition with photos (multipart) and its refusals, and the inbox.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use super::*;

pub(crate) struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

pub(crate) async fn send(app: &axum::Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp { status, body }
}

async fn get(app: &axum::Router, path: &str, token: &str) -> Resp {
    let req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

const BOUNDARY: &str = "xYzZY-workflow-test";

/// A multipart body: the `command` part (if any), then one `photo` part per file.
pub(crate) fn form(command: Option<Value>, photos: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    if let Some(c) = command {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"command\"\r\n\
                 Content-Type: application/json\r\n\r\n{c}\r\n"
            )
            .as_bytes(),
        );
    }
    for (i, p) in photos.iter().enumerate() {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; \
                 filename=\"p{i}.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(p);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

pub(crate) async fn post_form(app: &axum::Router, id: i64, token: &str, body: Vec<u8>) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/work-orders/{id}/transitions"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    send(app, req).await
}

pub(crate) fn jpeg(len: usize, seed: u8) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len.saturating_sub(4)).map(|i| (i as u8).wrapping_mul(seed)));
    b
}

/// Registered (criteria met) and dispatched by the routing table to roads.
pub(crate) async fn dispatched_report(ts: &TestStore, inspector: &str, now: DateTime<Utc>) -> i64 {
    let id = inspector_report(ts, inspector, "E0402", "510402001001001", now).await;
    let lead = who("supervisor", Role::Supervisor);
    run(
        ts,
        id,
        Command::Register {
            category_id: None,
            note: None,
            criteria_met: Some(true),
        },
        &lead,
        now,
    )
    .await;
    run(
        ts,
        id,
        Command::Dispatch {
            department: None,
            note: None,
        },
        &lead,
        now,
    )
    .await;
    id
}

pub(crate) async fn transition_with_photos_and_its_refusals(b: Backend) {
    let data = tempfile::tempdir().unwrap();
    let mut cfg = common::demo_config();
    cfg.server.data_dir = data.path().to_path_buf();
    cfg.urban.photo_max_bytes = 2000;
    cfg.urban.photo_max_count = 2;
    let ts = TestStore::with_config(b, cfg).await;
    let app = ts.router();
    let id = dispatched_report(&ts, "inspector-01", hotline::cases::now()).await;
    let handle = json!({"action": "handle", "result": "cover replaced"});
    let events_before = ts.store.order_events(id).await.unwrap().len();
    let attachments = format!("SELECT COUNT(*) FROM attachments WHERE work_order_id = {id}");
    let outbox_sql = format!("SELECT COUNT(*) FROM notifications WHERE work_order_id = {id}");
    let outbox_before = count(&ts, &outbox_sql).await;

    let refusals: Vec<(&str, Vec<u8>, StatusCode, Option<&str>)> = vec![
        // Too large.
        (
            "demo-dept-roads",
            form(Some(handle.clone()), &[jpeg(100, 3), jpeg(2001, 5)]),
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("photo"),
        ),
        // Not an image (checked by its bytes, whatever it is called).
        (
            "demo-dept-roads",
            form(
                Some(handle.clone()),
                &[jpeg(100, 3), b"GIF89a-not-a-jpeg".to_vec()],
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("photo"),
        ),
        // Too many.
        (
            "demo-dept-roads",
            form(
                Some(handle.clone()),
                &[jpeg(10, 1), jpeg(10, 2), jpeg(10, 3)],
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("photo"),
        ),
        // The reporting inspector sees the order but is not assigned to it.
        (
            "demo-inspector-01",
            form(Some(json!({"action": "verify"})), &[jpeg(100, 3)]),
            StatusCode::FORBIDDEN,
            None,
        ),
        // Channels read but give no action.
        (
            "demo-leader",
            form(Some(handle.clone()), &[jpeg(100, 3)]),
            StatusCode::FORBIDDEN,
            None,
        ),
        // The status does not allow it.
        (
            "demo-supervisor",
            form(Some(json!({"action": "verify"})), &[jpeg(100, 3)]),
            StatusCode::CONFLICT,
            None,
        ),
        // An invalid field.
        (
            "demo-dept-roads",
            form(
                Some(json!({"action": "handle", "result": "  "})),
                &[jpeg(100, 3)],
            ),
            StatusCode::BAD_REQUEST,
            Some("result"),
        ),
        // No command.
        (
            "demo-dept-roads",
            form(None, &[jpeg(100, 3)]),
            StatusCode::BAD_REQUEST,
            Some("command"),
        ),
    ];
    for (i, (token, body, status, field)) in refusals.into_iter().enumerate() {
        let r = post_form(&app, id, token, body).await;
        // 422 is what the contracts name for an invalid field; this API answers 400.
        let ok = r.status == status
            || (status == StatusCode::BAD_REQUEST && r.status == StatusCode::UNPROCESSABLE_ENTITY);
        assert!(ok, "refusal {i}: {} {:?}", r.status, r.body);
        if let Some(f) = field {
            assert_eq!(r.body["field"], f, "refusal {i}: {:?}", r.body);
        }
        // Nothing written: no event, no attachment row, no notification, no file.
        assert_eq!(
            ts.store.order_events(id).await.unwrap().len(),
            events_before
        );
        assert_eq!(count(&ts, &attachments).await, 0, "refusal {i}");
        assert_eq!(count(&ts, &outbox_sql).await, outbox_before, "refusal {i}");
        assert!(
            !data.path().join("photos").exists(),
            "refusal {i} saved a file"
        );
    }
    let o = ts
        .store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.status, hotline::cases::Status::Dispatched);

    // Accepted: the handler's feedback with two photos.
    let photos = [jpeg(1500, 7), jpeg(2000, 11)];
    let r = post_form(&app, id, "demo-dept-roads", form(Some(handle), &photos)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "handled");
    assert_eq!(r.body["assignee"], "inspector-01");
    let events = ts.store.order_events(id).await.unwrap();
    let handle_event = events.iter().find(|e| e.action == "handle").unwrap().id;
    assert_eq!(
        count(
            &ts,
            &format!(
                "SELECT COUNT(*) FROM attachments WHERE work_order_id = {id} AND kind = 'feedback' \
                 AND case_event_id = {handle_event} AND uploaded_by = 'dept-roads' AND bytes > 0"
            )
        )
        .await,
        2
    );
    let day = hotline::cases::now().format("%Y/%m/%d").to_string();
    let dir = data.path().join("photos").join(&day);
    let mut saved: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| std::fs::read(f.unwrap().path()).unwrap())
        .collect();
    saved.sort_by_key(Vec::len);
    assert_eq!(saved, photos);

    // The inspector, now assigned, verifies with a photo of the site.
    let r = post_form(
        &app,
        id,
        "demo-inspector-01",
        form(Some(json!({"action": "verify"})), &[jpeg(300, 13)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "verified");
    assert_eq!(
        count(
            &ts,
            &format!(
                "SELECT COUNT(*) FROM attachments WHERE work_order_id = {id} \
                 AND kind = 'verification' AND uploaded_by = 'inspector-01'"
            )
        )
        .await,
        1
    );
}

pub(crate) async fn inbox_of_departments_and_inspectors(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let now = hotline::cases::now();
    let sup = who("supervisor", Role::Supervisor);
    let dispatch = |d: &str| Command::Dispatch {
        department: Some(d.into()),
        note: None,
    };
    let register = Command::Register {
        category_id: None,
        note: None,
        criteria_met: Some(true),
    };
    // A: roads, due in 15 working days; B: roads, accepted, long overdue; C: roads, returned;
    // D: sanitation.
    let old = now - chrono::TimeDelta::days(60);
    let mut ids = Vec::new();
    for (created, department) in [
        (now, "roads"),
        (old, "roads"),
        (now, "roads"),
        (now, "sanitation"),
    ] {
        let id = complaint(&ts, "13800000009", created).await;
        run(&ts, id, register.clone(), &sup, created).await;
        run(&ts, id, dispatch(department), &sup, created).await;
        ids.push(id);
    }
    let (a, bb, c) = (ids[0], ids[1], ids[2]);
    run(&ts, bb, Command::Accept { note: None }, &dept("roads"), now).await;
    run(
        &ts,
        c,
        Command::ReturnOrder {
            reason: "not ours".into(),
        },
        &dept("roads"),
        now,
    )
    .await;

    let r = get(&app, "/api/v1/inbox", "demo-dept-roads").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let listed: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(
        listed,
        [bb, a],
        "soonest deadline first; returned and others' not listed"
    );
    assert_eq!(r.body["total"], 2);
    assert_eq!(items[0]["status"], "accepted");
    assert_eq!(items[0]["overdue"], true);
    assert!(items[0]["remaining_working_minutes"].as_i64().unwrap() < 0);
    assert_eq!(items[1]["overdue"], false);
    assert!(items[1]["remaining_working_minutes"].as_i64().unwrap() > 0);
    assert!(items[1]["number"].is_string() && items[1]["deadline"].is_string());
    let r = get(&app, "/api/v1/inbox", "demo-dept-sanitation").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    // An inspector's verification tasks.
    let e = inspector_report(&ts, "inspector-01", "E0402", "510402001001001", now).await;
    run(
        &ts,
        e,
        Command::RequestVerification {
            inspector: None,
            note: None,
        },
        &who("agent-1001", Role::Agent),
        now,
    )
    .await;
    let r = get(&app, "/api/v1/inbox", "demo-inspector-01").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], e);
    assert_eq!(items[0]["status"], "verifying");
    assert_eq!(items[0]["assignee"], "inspector-01");
    let r = get(&app, "/api/v1/inbox", "demo-inspector-02").await;
    assert_eq!(r.body["items"], json!([]));
    // Only the assigned or reporting inspector sees the order.
    assert_eq!(
        get(
            &app,
            &format!("/api/v1/work-orders/{e}"),
            "demo-inspector-01"
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        get(
            &app,
            &format!("/api/v1/work-orders/{e}"),
            "demo-inspector-02"
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The inbox is for handlers and inspectors.
    for token in ["demo-agent-1001", "demo-supervisor", "demo-channel"] {
        assert_eq!(
            get(&app, "/api/v1/inbox", token).await.status,
            StatusCode::FORBIDDEN,
            "{token}"
        );
    }
}
