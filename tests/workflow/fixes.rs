//! Review fixes: the escalation ladder starts again after a re-dispatch or an extension, a
//! register under the same category keeps the verification pause, chained merges tell every
//! reporter, and the caps on command text and on a plain JSON transition body.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use hotline::cases::lifecycle::TransitionError;
use hotline::cases::sweep::SweepConfig;
use hotline::cases::Status;
use serde_json::json;

use super::*;

const SWEEP: SweepConfig = SweepConfig {
    near_deadline_working_minutes: 60,
    escalate_leaders_after_working_hours: 1000,
};

fn has(rows: &[(String, String)], kind: &str, recipient: &str) -> usize {
    rows.iter()
        .filter(|(k, r)| k == kind && r == recipient)
        .count()
}

async fn order(ts: &TestStore, id: i64) -> WorkOrder {
    ts.store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap()
}

pub(crate) async fn escalation_starts_again_after_redispatch_and_extend(b: Backend) {
    let ts = TestStore::new(b).await;
    let cal = ts.store.policy().calendar.clone();
    let lead = who("supervisor", Role::Supervisor);
    let t0 = at(2026, 11, 23, 2, 0);
    let id = dispatched_report(&ts, "inspector-01", t0).await;
    let d0 = order(&ts, id).await.deadline.expect("deadline");

    // Overdue at roads: level 1, `overdue` to roads.
    let late = cal.add_working_minutes(d0, 30);
    ts.store.sweep_deadlines(late, &SWEEP).await.unwrap();
    assert_eq!(order(&ts, id).await.escalation_level, 1);
    assert_eq!(
        has(&outbox(&ts, id).await, "overdue", "department:roads"),
        1
    );

    // Returned, then re-dispatched to sanitation: the pause moves the deadline on (still
    // past), and sanitation is told it is overdue.
    run(
        &ts,
        id,
        Command::ReturnOrder {
            reason: "not ours".into(),
        },
        &dept("roads"),
        late,
    )
    .await;
    let redispatch = cal.add_working_minutes(late, 120);
    let o = run(
        &ts,
        id,
        Command::Dispatch {
            department: Some("sanitation".into()),
            note: None,
        },
        &lead,
        redispatch,
    )
    .await;
    assert_eq!(o.escalation_level, 0);
    assert!(o.deadline.unwrap() > d0 && o.deadline.unwrap() < redispatch);
    let now = cal.add_working_minutes(redispatch, 5);
    ts.store.sweep_deadlines(now, &SWEEP).await.unwrap();
    assert_eq!(order(&ts, id).await.escalation_level, 1);
    assert_eq!(
        has(&outbox(&ts, id).await, "overdue", "department:sanitation"),
        1
    );

    // Extended: the ladder starts again from the new deadline.
    let o = run(
        &ts,
        id,
        Command::Extend {
            working_days: 1,
            reason: "parts on order".into(),
        },
        &lead,
        now,
    )
    .await;
    assert_eq!(o.escalation_level, 0);
    let d2 = o.deadline.unwrap();
    ts.store
        .sweep_deadlines(cal.add_working_minutes(d2, 10), &SWEEP)
        .await
        .unwrap();
    assert_eq!(order(&ts, id).await.escalation_level, 1);
    assert_eq!(
        has(&outbox(&ts, id).await, "overdue", "department:sanitation"),
        2
    );
    // A change that moves nothing (accept) keeps the level: no third notice.
    run(
        &ts,
        id,
        Command::Accept { note: None },
        &dept("sanitation"),
        now,
    )
    .await;
    ts.store
        .sweep_deadlines(cal.add_working_minutes(d2, 20), &SWEEP)
        .await
        .unwrap();
    assert_eq!(
        has(&outbox(&ts, id).await, "overdue", "department:sanitation"),
        2
    );
}

pub(crate) async fn register_keeps_the_verification_pause(b: Backend) {
    let ts = TestStore::new(b).await;
    let cal = ts.store.policy().calendar.clone();
    let agent = who("agent-1001", Role::Agent);
    let lead = who("supervisor", Role::Supervisor);
    let i1 = who("inspector-01", Role::Inspector);
    let t0 = at(2026, 11, 23, 2, 0); // Monday 10:00 +08:00
    let mut paused = Vec::new();
    for _ in 0..2 {
        let id = inspector_report(&ts, "inspector-01", "E0402", "510402001001001", t0).await;
        let d0 = order(&ts, id).await.deadline.unwrap();
        let cmd = Command::RequestVerification {
            inspector: None,
            note: None,
        };
        run(&ts, id, cmd, &agent, t0).await;
        // Answered two working days later.
        let t1 = cal.add_working_days(t0, 2);
        let o = run(
            &ts,
            id,
            Command::ReportVerification {
                confirmed: true,
                note: None,
            },
            &i1,
            t1,
        )
        .await;
        let minutes = cal.working_minutes_between(t0, t1);
        assert!(minutes > 0);
        assert_eq!(
            o.deadline,
            Some(cal.add_working_minutes(d0, u32::try_from(minutes).unwrap()))
        );
        paused.push((id, o.deadline.unwrap(), minutes, t1));
    }

    // The same category: the deadline keeps the pause.
    let (id, kept, _, t1) = paused[0];
    let o = run(
        &ts,
        id,
        Command::Register {
            category_id: Some("E0402".into()),
            note: None,
            criteria_met: Some(true),
        },
        &lead,
        t1,
    )
    .await;
    assert_eq!(o.status, Status::Registered);
    assert_eq!(o.deadline, Some(kept));

    // Another category: its rule from the creation time, plus the pause so far.
    let (id, _, minutes, t1) = paused[1];
    // An order of that category created at the same time shows the rule's deadline.
    let fresh = inspector_report(&ts, "inspector-02", "E0401", "510402001001001", t0).await;
    let rule = order(&ts, fresh).await.deadline;
    let o = run(
        &ts,
        id,
        Command::Register {
            category_id: Some("E0401".into()),
            note: None,
            criteria_met: Some(true),
        },
        &lead,
        t1,
    )
    .await;
    let expected = rule.map(|d| cal.add_working_minutes(d, u32::try_from(minutes).unwrap()));
    assert_eq!(o.category_id.as_deref(), Some("E0401"));
    assert_eq!(o.deadline, expected);
}

pub(crate) async fn chained_merges_tell_every_reporter(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = who("agent-1001", Role::Agent);
    let t0 = at(2026, 11, 23, 2, 0);
    let a = complaint(&ts, "13800000001", t0).await;
    let bb = complaint(&ts, "13800000002", t0).await;
    let c = complaint(&ts, "13800000003", t0).await;
    let merge = |into: i64| Command::Merge {
        into: into.to_string(),
        note: None,
    };
    run(&ts, a, merge(bb), &agent, t0).await;
    run(&ts, bb, merge(c), &agent, t0).await;
    // A now points at the final target, with an event on it.
    assert_eq!(order(&ts, a).await.merged_into, Some(c));
    let repointed = ts.store.order_events(c).await.unwrap();
    assert!(repointed.iter().any(|e| e.action == "merged_duplicate"
        && e.data.0["duplicate"] == json!(a)
        && e.data.0["via"] == json!(bb)));
    let reg = Command::Register {
        category_id: None,
        note: None,
        criteria_met: None,
    };
    run(&ts, c, reg, &agent, t0).await;
    let close = Command::Close {
        note: Some("answered on the phone".into()),
    };
    run(&ts, c, close, &agent, t0).await;
    let rows = outbox(&ts, c).await;
    for caller in ["13800000001", "13800000002", "13800000003"] {
        assert_eq!(
            has(&rows, "closed", &format!("reporter:{caller}")),
            1,
            "{rows:?}"
        );
    }

    // Merged into an order already closed: told at once, with those merged into it.
    let d = complaint(&ts, "13800000004", t0).await;
    let e = complaint(&ts, "13800000005", t0).await;
    run(&ts, e, merge(d), &agent, t0).await;
    run(&ts, d, merge(c), &agent, t0).await;
    let rows = outbox(&ts, d).await;
    assert_eq!(has(&rows, "merged", "reporter:13800000004"), 1, "{rows:?}");
    assert_eq!(has(&rows, "closed", "reporter:13800000004"), 1, "{rows:?}");
    assert_eq!(has(&rows, "closed", "reporter:13800000005"), 1, "{rows:?}");
    assert_eq!(order(&ts, e).await.merged_into, Some(c));
}

pub(crate) async fn command_text_and_json_body_caps(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = who("agent-1001", Role::Agent);
    let t0 = at(2026, 11, 23, 2, 0);
    let id = complaint(&ts, "13800000006", t0).await;
    let long = "长".repeat(10_001);
    let e = refused(
        &ts,
        id,
        Command::Reject {
            reason: long.clone(),
        },
        &agent,
        t0,
    )
    .await;
    assert!(matches!(
        e,
        StoreError::Transition(TransitionError::Invalid {
            field: "reason",
            ..
        })
    ));
    let e = refused(
        &ts,
        id,
        Command::Register {
            category_id: None,
            note: Some(long.clone()),
            criteria_met: None,
        },
        &agent,
        t0,
    )
    .await;
    assert!(matches!(
        e,
        StoreError::Transition(TransitionError::Invalid { field: "note", .. })
    ));
    // Exactly at the cap is fine.
    let o = run(
        &ts,
        id,
        Command::Reject {
            reason: "长".repeat(10_000),
        },
        &agent,
        t0,
    )
    .await;
    assert_eq!(o.status, Status::Rejected);

    // Over HTTP: a long `result` is 400 naming it; a JSON body over 1 MiB is 413, while a
    // multipart body of that size (a photo) is still accepted.
    let data = tempfile::tempdir().unwrap();
    let mut cfg = common::demo_config();
    cfg.server.data_dir = data.path().to_path_buf();
    let ts = TestStore::with_config(b, cfg).await;
    let app = ts.router();
    let id = dispatched_report(&ts, "inspector-01", hotline::cases::now()).await;
    let post_json = |body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/work-orders/{id}/transitions"))
            .header(header::AUTHORIZATION, "Bearer demo-dept-roads")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let r = send(
        &app,
        post_json(
            serde_json::to_vec(&json!({"action": "handle", "result": "x".repeat(10_001)})).unwrap(),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["field"], "result");
    let big = json!({"action": "handle", "result": "ok", "pad": " ".repeat(1024 * 1024)});
    let r = send(&app, post_json(serde_json::to_vec(&big).unwrap())).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(order(&ts, id).await.status, Status::Dispatched);
    let handle = json!({"action": "handle", "result": "cover replaced"});
    let r = post_form(
        &app,
        id,
        "demo-dept-roads",
        form(Some(handle), &[jpeg(1024 * 1024 + 100, 7)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(order(&ts, id).await.status, Status::Handled);
}
