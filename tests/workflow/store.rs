//! The workflow through the store: each change with its audit data and outbox rows.

use super::*;
use hotline::cases::lifecycle::TransitionError;
use hotline::cases::Status;

pub(crate) async fn urban_case_from_inspector_to_closure(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = at(2026, 11, 23, 2, 0); // Monday 10:00 +08:00
    let id = inspector_report(&ts, "inspector-01", "E0402", "510402001001001", t0).await;
    let created = ts
        .store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap();
    let deadline0 = created.deadline.expect("E0402 has a handling time");
    let agent = who("agent-1001", Role::Agent);
    let lead = who("supervisor", Role::Supervisor);
    let i1 = who("inspector-01", Role::Inspector);

    // 核实 goes back to the reporting inspector; the clock stops.
    let t1 = at(2026, 11, 23, 2, 30);
    let o = run(
        &ts,
        id,
        Command::RequestVerification {
            inspector: None,
            note: None,
        },
        &agent,
        t1,
    )
    .await;
    assert_eq!(o.status, Status::Verifying);
    assert_eq!(o.assignee.as_deref(), Some("inspector-01"));
    assert_eq!(o.paused_at, Some(t1));
    // Another inspector may not answer it.
    let e = refused(
        &ts,
        id,
        Command::ReportVerification {
            confirmed: true,
            note: None,
        },
        &who("inspector-02", Role::Inspector),
        t1,
    )
    .await;
    assert!(matches!(
        e,
        StoreError::Transition(TransitionError::Forbidden { .. })
    ));
    let t2 = at(2026, 11, 23, 3, 0); // 30 working minutes later
    let o = run(
        &ts,
        id,
        Command::ReportVerification {
            confirmed: true,
            note: Some("seen on site".into()),
        },
        &i1,
        t2,
    )
    .await;
    assert_eq!(o.status, Status::Received);
    assert_eq!(o.paused_at, None);
    assert_eq!(
        o.deadline,
        Some(
            ts.store
                .policy()
                .calendar
                .add_working_minutes(deadline0, 30)
        )
    );
    assert_eq!(
        event_data(&ts, id, "report_verification").await["paused_working_minutes"],
        30
    );

    // 立案 by the shift lead, against the criteria.
    let reg = |met| Command::Register {
        category_id: None,
        note: None,
        criteria_met: met,
    };
    assert!(matches!(
        refused(&ts, id, reg(Some(true)), &agent, t2).await,
        StoreError::Transition(TransitionError::Forbidden { .. })
    ));
    match refused(&ts, id, reg(None), &lead, t2).await {
        StoreError::Transition(TransitionError::Invalid { field, reason }) => {
            assert_eq!(field, "criteria_met");
            assert!(reason.contains("manhole"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let o = run(&ts, id, reg(Some(true)), &lead, t2).await;
    assert_eq!(o.status, Status::Registered);
    assert_eq!(o.registered_at, Some(t2));
    assert_eq!(
        event_data(&ts, id, "register").await,
        serde_json::json!({"category_id": "E0402", "criteria_met": true})
    );

    // 派遣 by the routing table: E04 → roads.
    let t3 = at(2026, 11, 23, 3, 10);
    let o = run(
        &ts,
        id,
        Command::Dispatch {
            department: None,
            note: None,
        },
        &agent,
        t3,
    )
    .await;
    assert_eq!(o.department_id.as_deref(), Some("roads"));
    assert_eq!(o.dispatched_at, Some(t3));
    assert_eq!(
        event_data(&ts, id, "dispatch").await,
        serde_json::json!({"department": "roads", "previous_department": null,
                           "redispatch": false, "deadline": o.deadline})
    );
    // The handler: sanitation may not accept roads' order; roads accepts and handles.
    assert!(matches!(
        refused(
            &ts,
            id,
            Command::Accept { note: None },
            &dept("sanitation"),
            t3
        )
        .await,
        StoreError::Transition(TransitionError::Forbidden { .. })
    ));
    let o = run(&ts, id, Command::Accept { note: None }, &dept("roads"), t3).await;
    assert_eq!(o.status, Status::Accepted);
    let t4 = at(2026, 11, 23, 6, 0);
    let o = run(
        &ts,
        id,
        Command::Handle {
            result: "cover replaced".into(),
        },
        &dept("roads"),
        t4,
    )
    .await;
    assert_eq!(o.status, Status::Handled);
    assert_eq!(o.handled_at, Some(t4));
    assert_eq!(
        o.assignee.as_deref(),
        Some("inspector-01"),
        "核查 by the reporter"
    );
    assert_eq!(
        event_data(&ts, id, "handle").await,
        serde_json::json!({"department": "roads", "deadline": o.deadline,
                           "on_time": t4 <= o.deadline.unwrap()})
    );
    // 核查 and 结案.
    let o = run(&ts, id, Command::Verify { note: None }, &i1, t4).await;
    assert_eq!(o.status, Status::Verified);
    let o = run(&ts, id, Command::Close { note: None }, &agent, t4).await;
    assert_eq!(o.status, Status::Closed);
    assert_eq!(
        event_data(&ts, id, "close").await,
        serde_json::json!({"department": "roads", "deadline": o.deadline, "on_time": true})
    );
    assert_eq!(
        outbox(&ts, id).await,
        [
            ("verification_task".into(), "inspector:inspector-01".into()),
            ("dispatched".into(), "department:roads".into()),
            ("verification_task".into(), "inspector:inspector-01".into()),
            ("closed".into(), "reporter:inspector-01".into()),
        ]
    );
    let payload_ok = count(
        &ts,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE work_order_id = {id} AND delivered_at IS NULL \
             AND next_attempt_at = created_at AND attempts = 0"
        ),
    )
    .await;
    assert_eq!(payload_ok, 4);
    // The audit trail: every step, in order.
    let actions: Vec<String> = ts
        .store
        .order_events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "request_verification",
            "report_verification",
            "register",
            "dispatch",
            "accept",
            "handle",
            "verify",
            "close"
        ]
    );
}

pub(crate) async fn returned_and_parked_orders_pause_the_clock(b: Backend) {
    let ts = TestStore::new(b).await;
    let cal = ts.store.policy().calendar.clone();
    let sup = who("supervisor", Role::Supervisor);
    let t0 = at(2026, 9, 21, 2, 0); // Monday 2026-09-21 10:00 +08:00
    let id = complaint(&ts, "13800000001", t0).await;
    run(
        &ts,
        id,
        Command::Register {
            category_id: None,
            note: None,
            criteria_met: Some(true),
        },
        &sup,
        t0,
    )
    .await;
    let o = run(
        &ts,
        id,
        Command::Dispatch {
            department: Some("sanitation".into()),
            note: None,
        },
        &sup,
        t0,
    )
    .await;
    let due = o.deadline.expect("a complaint has a deadline");
    // Returned Thursday 2026-09-24 16:00; Friday 25 is a public holiday, then the weekend;
    // re-dispatched Monday 28 10:00: 90 + 60 = 150 working minutes paused.
    let returned_at = at(2026, 9, 24, 8, 0);
    let o = run(
        &ts,
        id,
        Command::ReturnOrder {
            reason: "not ours".into(),
        },
        &dept("sanitation"),
        returned_at,
    )
    .await;
    assert_eq!(o.status, Status::Returned);
    assert_eq!(o.paused_at, Some(returned_at));
    assert_eq!(o.deadline, Some(due));
    let back = at(2026, 9, 28, 2, 0);
    let o = run(
        &ts,
        id,
        Command::Dispatch {
            department: Some("roads".into()),
            note: Some("改派".into()),
        },
        &sup,
        back,
    )
    .await;
    assert_eq!(o.paused_at, None);
    assert_eq!(o.deadline, Some(cal.add_working_minutes(due, 150)));
    let d = event_data(&ts, id, "dispatch").await;
    assert_eq!(d["paused_working_minutes"], 150);
    assert_eq!(d["redispatch"], true);
    assert_eq!(d["previous_department"], "sanitation");
    let due = o.deadline.unwrap();
    // 挂账 from accepted for two working days, then back to accepted.
    run(
        &ts,
        id,
        Command::Accept { note: None },
        &dept("roads"),
        back,
    )
    .await;
    let o = run(
        &ts,
        id,
        Command::Park {
            reason: "waits for the budget".into(),
        },
        &sup,
        at(2026, 9, 28, 3, 0),
    )
    .await;
    assert_eq!(o.status, Status::Parked);
    assert_eq!(o.parked_from.as_deref(), Some("accepted"));
    let o = run(
        &ts,
        id,
        Command::Unpark { note: None },
        &sup,
        at(2026, 9, 30, 3, 0),
    )
    .await;
    assert_eq!(o.status, Status::Accepted);
    assert_eq!(o.parked_from, None);
    assert_eq!(o.paused_at, None);
    assert_eq!(o.deadline, Some(cal.add_working_minutes(due, 840)));
    assert_eq!(
        event_data(&ts, id, "unpark").await["paused_working_minutes"],
        840
    );
    assert_eq!(
        outbox(&ts, id).await,
        [
            ("dispatched".into(), "department:sanitation".into()),
            ("returned".into(), "centre".into()),
            ("dispatched".into(), "department:roads".into()),
        ]
    );
}

pub(crate) async fn merge_and_close_tell_every_reporter(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = at(2026, 11, 23, 2, 0);
    let agent = who("agent-1001", Role::Agent);
    let main = complaint(&ts, "13800000001", t0).await;
    let dup = complaint(&ts, "13800000002", t0).await;
    let by_inspector = inspector_report(&ts, "inspector-02", "E0101", "510402001001001", t0).await;
    for d in [dup, by_inspector] {
        run(
            &ts,
            d,
            Command::Merge {
                into: main.to_string(),
                note: None,
            },
            &agent,
            t0,
        )
        .await;
    }
    assert_eq!(
        outbox(&ts, dup).await,
        [("merged".into(), "reporter:13800000002".into())]
    );
    assert_eq!(
        outbox(&ts, by_inspector).await,
        [("merged".into(), "reporter:inspector-02".into())]
    );
    run(
        &ts,
        main,
        Command::Register {
            category_id: None,
            note: None,
            criteria_met: Some(true),
        },
        &agent,
        t0,
    )
    .await;
    run(
        &ts,
        main,
        Command::Close {
            note: Some("explained the collection times".into()),
        },
        &agent,
        t0,
    )
    .await;
    assert_eq!(
        outbox(&ts, main).await,
        [
            ("closed".into(), "reporter:13800000001".into()),
            ("closed".into(), "reporter:13800000002".into()),
            ("closed".into(), "reporter:inspector-02".into()),
        ]
    );
    // The payload names the order.
    let number = ts
        .store
        .get_order(&OrderKey::Id(main))
        .await
        .unwrap()
        .unwrap()
        .number;
    let n = count(
        &ts,
        &format!(
            "SELECT COUNT(*) FROM notifications WHERE work_order_id = {main} \
             AND payload LIKE '%{number}%'"
        )
        .replace(
            "payload LIKE",
            if ts.url.starts_with("postgres") {
                "payload::text LIKE"
            } else {
                "payload LIKE"
            },
        ),
    )
    .await;
    assert_eq!(n, 3);
}
