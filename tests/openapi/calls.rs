//! The call routes' real answers fit the document: a call with its steps, attaching it to an
//! order, its recording whole, in part and out of range, callback tasks — and their errors.

use axum::http::StatusCode;
use serde_json::json;

use crate::answers::assert_documented;
use crate::schemas::{enum_of, strings};
use crate::support::{app, served_doc, AGENT, CHANNEL, DEPT_ROADS, SUPERVISOR};
use hotline::cases::{CallRecord, CallStep, NewCallbackTask};

#[tokio::test]
async fn call_lists_are_the_codes_lists() {
    let app = app().await;
    let doc = served_doc(&app).await;
    use hotline::cases::model as m;
    assert_eq!(enum_of(&doc, "Direction"), strings(m::DIRECTIONS));
    assert_eq!(enum_of(&doc, "CallStepName"), strings(m::CALL_STEPS));
    assert_eq!(enum_of(&doc, "CallbackKind"), strings(m::CALLBACK_KINDS));
    assert_eq!(
        enum_of(&doc, "CallbackStatus"),
        strings(m::CALLBACK_STATUSES)
    );
    assert_eq!(
        enum_of(&doc, "CallbackOutcome"),
        strings(m::CALLBACK_OUTCOMES)
    );
    crate::schemas::check_request_schema::<hotline::api::calls::AttachOrder>(&doc, "AttachOrder");
}

#[tokio::test]
async fn call_answers_fit_the_documented_schemas() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let t = chrono::Utc::now();
    // An answered call of agent 1001 with a recording and two steps.
    let wav = app.dir.path().join("c-1.wav");
    let bytes: Vec<u8> = (0..200u8).collect();
    std::fs::write(&wav, &bytes).unwrap();
    let call = CallRecord {
        agent_id: Some("1001".into()),
        answered_at: Some(t),
        ended_at: Some(t),
        disposition: Some("answered".into()),
        survey: Some(1),
        needs_order: true,
        recording_path: Some(wav.display().to_string()),
        ..CallRecord::inbound("c-1", "13800000001", "12345", t)
    };
    app.store.save_call(&call).await.unwrap();
    app.store
        .save_call(&CallRecord::inbound("c-2", "13800000002", "12345", t))
        .await
        .unwrap();
    for step in ["offered", "answered"] {
        app.store
            .add_call_step(&CallStep::new("c-1", t, step))
            .await
            .unwrap();
    }
    let one = app.get("/api/v1/calls/c-1", Some(AGENT)).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_documented(&doc, "get", "/api/v1/calls/{id}", &one);
    let list = app
        .get(
            "/api/v1/calls?needs_order=true&direction=inbound",
            Some(SUPERVISOR),
        )
        .await;
    assert_documented(&doc, "get", "/api/v1/calls", &list);

    const REC: &str = "/api/v1/calls/{id}/recording";
    const RECS: &str = "/api/v1/recordings/{id}";
    let whole = app.get("/api/v1/calls/c-1/recording", Some(AGENT)).await;
    assert_eq!(
        (whole.status, whole.body.clone()),
        (StatusCode::OK, bytes.clone())
    );
    assert_documented(&doc, "get", REC, &whole);
    for (range, status) in [
        ("bytes=0-9", StatusCode::PARTIAL_CONTENT),
        ("bytes=-5", StatusCode::PARTIAL_CONTENT),
        ("bytes=200-", StatusCode::RANGE_NOT_SATISFIABLE),
    ] {
        let a = app
            .send_with(
                "GET",
                "/api/v1/recordings/c-1",
                Some(SUPERVISOR),
                Some(("range", range)),
                None,
            )
            .await;
        assert_eq!(a.status, status, "{range}");
        assert_documented(&doc, "get", RECS, &a);
    }

    // Attach the call to an order.
    let order = app
        .post(
            "/api/v1/work-orders",
            AGENT,
            json!({"request_type": "help", "description": "x"}),
        )
        .await
        .json();
    let attached = app
        .post(
            "/api/v1/calls/c-1/work-order",
            AGENT,
            json!({"order_id": order["id"]}),
        )
        .await;
    assert_eq!(attached.status, StatusCode::OK);
    assert_documented(&doc, "post", "/api/v1/calls/{id}/work-order", &attached);
    // The order's trail shows the link and, after the survey, the caller's answer.
    app.store
        .record_survey("c-1", 2, chrono::Utc::now())
        .await
        .unwrap();
    let events = app
        .get(
            &format!("/api/v1/work-orders/{}/events", order["id"]),
            Some(AGENT),
        )
        .await;
    let actions: Vec<String> = events
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["create", "call-linked", "survey"]);
    assert_documented(&doc, "get", "/api/v1/work-orders/{key}/events", &events);

    // Callback tasks.
    let task = app
        .store
        .create_callback_task(
            &NewCallbackTask {
                kind: "missed-call".into(),
                number: "13800000002".into(),
                queue: Some("12345".into()),
                call_id: Some("c-2".into()),
                max_attempts: 3,
                work_order_id: None,
            },
            t,
        )
        .await
        .unwrap();
    let tasks = app.get("/api/v1/callbacks?status=open", Some(AGENT)).await;
    assert_eq!(tasks.json()["total"], 1);
    assert_documented(&doc, "get", "/api/v1/callbacks", &tasks);
    let detail = app
        .get(&format!("/api/v1/callbacks/{}", task.id), Some(SUPERVISOR))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_documented(&doc, "get", "/api/v1/callbacks/{id}", &detail);

    // Errors.
    let other_order = app
        .post(
            "/api/v1/work-orders",
            AGENT,
            json!({"request_type": "help", "description": "y"}),
        )
        .await
        .json();
    #[rustfmt::skip]
    let errors = [
        ("get", REC, app.get("/api/v1/calls/c-1/recording", Some(CHANNEL)).await, StatusCode::FORBIDDEN),
        ("get", REC, app.get("/api/v1/calls/c-2/recording", Some(SUPERVISOR)).await, StatusCode::NOT_FOUND),
        ("get", RECS, app.get("/api/v1/recordings/c-2", Some(AGENT)).await, StatusCode::FORBIDDEN),
        ("get", RECS, app.get("/api/v1/recordings/none", Some(SUPERVISOR)).await, StatusCode::NOT_FOUND),
        ("get", RECS, app.get("/api/v1/recordings/c-1", None).await, StatusCode::UNAUTHORIZED),
        ("post", "/api/v1/calls/{id}/work-order", app.post("/api/v1/calls/c-2/work-order", AGENT, json!({"order_id": 1})).await, StatusCode::FORBIDDEN),
        ("post", "/api/v1/calls/{id}/work-order", app.post("/api/v1/calls/c-1/work-order", SUPERVISOR, json!({"order_id": other_order["id"]})).await, StatusCode::CONFLICT),
        ("post", "/api/v1/calls/{id}/work-order", app.post("/api/v1/calls/c-1/work-order", SUPERVISOR, json!({"order": 1})).await, StatusCode::BAD_REQUEST),
        ("post", "/api/v1/calls/{id}/work-order", app.send("POST", "/api/v1/calls/c-1/work-order", Some(SUPERVISOR), Some(("text/plain", "1".into()))).await, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("post", "/api/v1/calls/{id}/work-order", app.post("/api/v1/calls/none/work-order", SUPERVISOR, json!({"order_id": 1})).await, StatusCode::NOT_FOUND),
        ("get", "/api/v1/callbacks", app.get("/api/v1/callbacks?kind=spam", Some(AGENT)).await, StatusCode::BAD_REQUEST),
        ("get", "/api/v1/callbacks", app.get("/api/v1/callbacks", Some(DEPT_ROADS)).await, StatusCode::FORBIDDEN),
        ("get", "/api/v1/callbacks/{id}", app.get("/api/v1/callbacks/999999", Some(AGENT)).await, StatusCode::NOT_FOUND),
        ("get", "/api/v1/calls", app.get("/api/v1/calls?direction=up", Some(AGENT)).await, StatusCode::BAD_REQUEST),
    ];
    for (method, template, a, want) in &errors {
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
