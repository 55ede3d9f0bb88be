//! The lifecycle through the store: the whole walk with its audit trail, rejection, close at
//! intake, refused transitions, merge and extension.

use super::*;

pub(crate) async fn full_lifecycle_with_audit_trail(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = at(2026, 11, 23, 2, 0); // Monday 10:00 +08:00
    let id = create(&ts, complaint("路灯不亮 street light out"), t0).await;
    let sup = actor(Role::Supervisor);
    let steps: Vec<(Command, Actor, Status)> = vec![
        (
            Command::Register {
                category_id: Some("C0101".into()),
                note: None,
                criteria_met: None,
            },
            actor(Role::Agent),
            Status::Registered,
        ),
        (
            Command::Dispatch {
                department: Some("sanitation".into()),
                note: None,
            },
            sup.clone(),
            Status::Dispatched,
        ),
        (
            Command::ReturnOrder {
                reason: "street lights are the roads office's".into(),
            },
            dept("sanitation"),
            Status::Returned,
        ),
        (
            Command::Dispatch {
                department: Some("roads".into()),
                note: Some("改派".into()),
            },
            sup.clone(),
            Status::Dispatched,
        ),
        (
            Command::Handle {
                result: "lamp replaced".into(),
            },
            dept("roads"),
            Status::Handled,
        ),
        (
            Command::Rework {
                reason: "still dark at night".into(),
            },
            sup.clone(),
            Status::Dispatched,
        ),
        (
            Command::Handle {
                result: "cable repaired".into(),
            },
            dept("roads"),
            Status::Handled,
        ),
        (
            Command::Verify { note: None },
            sup.clone(),
            Status::Verified,
        ),
        (Command::Close { note: None }, sup.clone(), Status::Closed),
        (
            Command::FollowUp {
                result: FollowUpResult::Satisfied,
                note: None,
            },
            actor(Role::Agent),
            Status::Closed,
        ),
    ];
    let mut now = t0;
    for (cmd, who, expect) in &steps {
        now += chrono::Duration::minutes(5);
        assert_eq!(
            step(&ts, id, cmd.clone(), who, now).await,
            *expect,
            "{cmd:?}"
        );
    }
    let order = ts
        .store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.department_id.as_deref(), Some("roads"));
    assert_eq!(order.category_id.as_deref(), Some("C0101"));
    assert_eq!(order.closed_at, Some(t0 + chrono::Duration::minutes(45)));
    assert_eq!(order.follow_up_result.as_deref(), Some("satisfied"));
    assert!(!order.resolved_at_intake);
    assert_eq!(order.version, 1 + steps.len() as i64);

    let events = ts.store.order_events(id).await.unwrap();
    assert_eq!(events.len(), 1 + steps.len());
    assert_eq!(events[0].action, "create");
    assert_eq!(events[0].to_status.as_deref(), Some("received"));
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "register",
            "dispatch",
            "return_order",
            "dispatch",
            "handle",
            "rework",
            "handle",
            "verify",
            "close",
            "follow_up"
        ]
    );
    // The trail is a chain: each event starts where the previous one ended.
    for w in events.windows(2) {
        assert_eq!(w[1].from_status, w[0].to_status, "{:?}", w[1]);
    }
    assert_eq!(events[3].actor, "dept-sanitation");
    assert_eq!(
        events[3].note.as_deref(),
        Some("street lights are the roads office's")
    );
    assert_eq!(events[4].data.0["previous_department"], "sanitation");
    assert_eq!(events[4].data.0["redispatch"], true);
    assert_eq!(events[10].data.0["result"], "satisfied");
}

pub(crate) async fn reject_and_close_at_intake(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let a = create(&ts, complaint("not a government matter"), now).await;
    let agent = actor(Role::Agent);
    assert_eq!(
        step(
            &ts,
            a,
            Command::Reject {
                reason: "civil dispute: court".into()
            },
            &agent,
            now
        )
        .await,
        Status::Rejected
    );
    let mut q = complaint("when does the tax office open?");
    q.request_type = "consultation".into();
    let c = create(&ts, q, now).await;
    step(&ts, c, register(), &agent, now).await;
    let closed = ts
        .store
        .transition(
            &OrderKey::Id(c),
            &Command::Close {
                note: Some("answered: 9:00-17:00 on working days".into()),
            },
            &agent,
            now,
        )
        .await
        .unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert!(closed.resolved_at_intake);
    assert_eq!(closed.closed_at, Some(now));
}

pub(crate) async fn refused_transitions_change_nothing(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let id = create(&ts, complaint("x"), now).await;
    let sup = actor(Role::Supervisor);
    let err = ts
        .store
        .transition(
            &OrderKey::Id(id),
            &Command::Handle {
                result: "done".into(),
            },
            &sup,
            now,
        )
        .await
        .unwrap_err();
    match err {
        StoreError::Transition(TransitionError::NotAllowed {
            action,
            status,
            allowed,
        }) => {
            assert_eq!(action, "handle");
            assert_eq!(status, Status::Received);
            assert_eq!(
                allowed,
                ["register", "reject", "request_verification", "merge"]
            );
        }
        other => panic!("expected NotAllowed, got {other:?}"),
    }
    // Forbidden: an agent may not verify; a department may not act on another's order.
    step(&ts, id, register(), &sup, now).await;
    step(
        &ts,
        id,
        Command::Dispatch {
            department: Some("roads".into()),
            note: None,
        },
        &sup,
        now,
    )
    .await;
    let err = ts
        .store
        .transition(
            &OrderKey::Id(id),
            &Command::Handle {
                result: "done".into(),
            },
            &dept("sanitation"),
            now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Transition(TransitionError::Forbidden { .. })
        ),
        "{err:?}"
    );
    // Unknown department, unknown category: refused naming the field.
    let mut fresh = create(&ts, complaint("y"), now).await;
    refused(
        &ts,
        fresh,
        &Command::Register {
            category_id: Some("E9999".into()),
            note: None,
            criteria_met: None,
        },
        &sup,
        now,
        "category_id",
    )
    .await;
    step(&ts, fresh, register(), &sup, now).await;
    refused(
        &ts,
        fresh,
        &Command::Dispatch {
            department: Some("nowhere".into()),
            note: None,
        },
        &sup,
        now,
        "department",
    )
    .await;
    // None of the refusals wrote anything.
    let order = ts
        .store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.version, 3);
    assert_eq!(ts.store.order_events(id).await.unwrap().len(), 3);
    assert_eq!(ts.store.order_events(fresh).await.unwrap().len(), 2);
    // Unknown order.
    fresh += 1000;
    let err = ts
        .store
        .transition(
            &OrderKey::Id(fresh),
            &Command::Verify { note: None },
            &sup,
            now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

pub(crate) async fn merge_duplicate(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let first = ts
        .store
        .create_order(
            complaint("noise from the building site"),
            &actor(Role::Agent),
            None,
            now,
        )
        .await
        .unwrap();
    let dup = create(&ts, complaint("building site noisy at night"), now).await;
    let merged = ts
        .store
        .transition(
            &OrderKey::Id(dup),
            &Command::Merge {
                into: first.number.clone(),
                note: Some("same site".into()),
            },
            &actor(Role::Agent),
            now,
        )
        .await
        .unwrap();
    assert_eq!(merged.status, Status::Merged);
    assert_eq!(merged.merged_into, Some(first.id));
    let target_events = ts.store.order_events(first.id).await.unwrap();
    let last = target_events.last().unwrap();
    assert_eq!(last.action, "merged_duplicate");
    assert_eq!(last.data.0["duplicate"], dup);
    // Into an order that does not exist / into a merged order.
    let other = create(&ts, complaint("z"), now).await;
    for (into, why) in [("999999", "no order"), (dup.to_string().as_str(), "merged")] {
        let err = ts
            .store
            .transition(
                &OrderKey::Id(other),
                &Command::Merge {
                    into: into.into(),
                    note: None,
                },
                &actor(Role::Agent),
                now,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { field, reason } if field == "into" && reason.contains(why))
                || matches!(
                    &err,
                    StoreError::Transition(TransitionError::Invalid { field: "into", .. })
                ),
            "{into}: {err:?}"
        );
    }
}

pub(crate) async fn extend_deadline(b: Backend) {
    let ts = TestStore::new(b).await;
    // Monday 2026-11-23 10:00 +08:00; consultation: 3 working days → Thu 2026-11-26 17:30.
    let now = at(2026, 11, 23, 2, 0);
    let mut q = complaint("how do I renew a residence permit?");
    q.request_type = "consultation".into();
    let order = ts
        .store
        .create_order(q, &actor(Role::Agent), None, now)
        .await
        .unwrap();
    assert_eq!(order.deadline, Some(at(2026, 11, 26, 9, 30)));
    let sup = actor(Role::Supervisor);
    step(&ts, order.id, register(), &sup, now).await;
    let extended = ts
        .store
        .transition(
            &OrderKey::Id(order.id),
            &Command::Extend {
                working_days: 2,
                reason: "needs the bureau's reply".into(),
            },
            &sup,
            now,
        )
        .await
        .unwrap();
    // Thu 26th + 2 working days → Mon 30th 17:30 +08:00.
    assert_eq!(extended.deadline, Some(at(2026, 11, 30, 9, 30)));
    assert_eq!(extended.status, Status::Registered);
    let events = ts.store.order_events(order.id).await.unwrap();
    let e = events.last().unwrap();
    assert_eq!(e.action, "extend");
    assert_eq!(e.note.as_deref(), Some("needs the bureau's reply"));
    assert_eq!(e.data.0["working_days"], 2);
    assert!(e.data.0["previous_deadline"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-26T09:30:00"));
}
