//! The case store against SQLite and the real PostgreSQL: the whole lifecycle with its audit
//! trail, refused transitions, numbers, deadlines across a weekend and a holiday, concurrency,
//! call records, listing and validation.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{Backend, TestStore};
use hotline::cases::lifecycle::{FollowUpResult, TransitionError};
use hotline::cases::store::{CallQuery, OrderKey};
use hotline::cases::{Actor, CallRecord, Command, NewWorkOrder, OrderQuery, Status, StoreError};
use hotline::config::Role;

both_backends!(
    full_lifecycle_with_audit_trail,
    reject_and_close_at_intake,
    refused_transitions_change_nothing,
    merge_duplicate,
    extend_deadline,
    numbers_count_per_local_day,
    deadlines_across_weekend_and_holiday,
    concurrent_creates_and_transitions,
    audit_trail_is_append_only,
    call_records,
    list_search_and_paging,
    invalid_new_orders_name_the_field,
);

fn actor(role: Role) -> Actor {
    Actor {
        name: format!("test-{}", role.as_str()),
        role,
        department: None,
    }
}

fn dept(id: &str) -> Actor {
    Actor {
        name: format!("dept-{id}"),
        role: Role::Department,
        department: Some(id.into()),
    }
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn complaint(text: &str) -> NewWorkOrder {
    NewWorkOrder {
        request_type: "complaint".into(),
        description: text.into(),
        caller_number: Some("13800000000".into()),
        ..Default::default()
    }
}

async fn create(ts: &TestStore, new: NewWorkOrder, now: DateTime<Utc>) -> i64 {
    ts.store
        .create_order(new, &actor(Role::Agent), None, now)
        .await
        .expect("create")
        .id
}

async fn step(ts: &TestStore, id: i64, cmd: Command, who: &Actor, now: DateTime<Utc>) -> Status {
    ts.store
        .transition(&OrderKey::Id(id), &cmd, who, now)
        .await
        .unwrap_or_else(|e| panic!("{cmd:?} by {who:?}: {e}"))
        .status
}

async fn full_lifecycle_with_audit_trail(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = at(2026, 11, 23, 2, 0); // Monday 10:00 +08:00
    let id = create(&ts, complaint("路灯不亮 street light out"), t0).await;
    let sup = actor(Role::Supervisor);
    let steps: Vec<(Command, Actor, Status)> = vec![
        (
            Command::Register {
                category_id: Some("C0101".into()),
                note: None,
            },
            actor(Role::Agent),
            Status::Registered,
        ),
        (
            Command::Dispatch {
                department: "sanitation".into(),
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
                department: "roads".into(),
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

async fn reject_and_close_at_intake(b: Backend) {
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
    step(
        &ts,
        c,
        Command::Register {
            category_id: None,
            note: None,
        },
        &agent,
        now,
    )
    .await;
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

async fn refused_transitions_change_nothing(b: Backend) {
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
            assert_eq!(allowed, ["register", "reject", "merge"]);
        }
        other => panic!("expected NotAllowed, got {other:?}"),
    }
    // Forbidden: an agent may not verify; a department may not act on another's order.
    step(
        &ts,
        id,
        Command::Register {
            category_id: None,
            note: None,
        },
        &sup,
        now,
    )
    .await;
    step(
        &ts,
        id,
        Command::Dispatch {
            department: "roads".into(),
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
    let err = ts
        .store
        .transition(
            &OrderKey::Id(fresh),
            &Command::Register {
                category_id: Some("E9999".into()),
                note: None,
            },
            &sup,
            now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "category_id"),
        "{err:?}"
    );
    step(
        &ts,
        fresh,
        Command::Register {
            category_id: None,
            note: None,
        },
        &sup,
        now,
    )
    .await;
    let err = ts
        .store
        .transition(
            &OrderKey::Id(fresh),
            &Command::Dispatch {
                department: "nowhere".into(),
                note: None,
            },
            &sup,
            now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "department"),
        "{err:?}"
    );
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

async fn merge_duplicate(b: Backend) {
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

async fn extend_deadline(b: Backend) {
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
    step(
        &ts,
        order.id,
        Command::Register {
            category_id: None,
            note: None,
        },
        &sup,
        now,
    )
    .await;
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

async fn numbers_count_per_local_day(b: Backend) {
    let ts = TestStore::new(b).await;
    let mut numbers = vec![];
    // 2026-11-27 15:59Z is 23:59 local; 16:00Z is the next local day.
    for now in [
        at(2026, 11, 27, 1, 0),
        at(2026, 11, 27, 15, 59),
        at(2026, 11, 27, 16, 0),
        at(2026, 11, 27, 16, 1),
    ] {
        let o = ts
            .store
            .create_order(complaint("n"), &actor(Role::Agent), None, now)
            .await
            .unwrap();
        numbers.push(o.number);
    }
    assert_eq!(
        numbers,
        [
            "2026112700001",
            "2026112700002",
            "2026112800001",
            "2026112800002"
        ]
    );
    let by_number = ts
        .store
        .get_order(&OrderKey::Number("2026112800002".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_number.number, "2026112800002");
}

async fn deadlines_across_weekend_and_holiday(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = actor(Role::Agent);
    // Thursday 2026-09-24 10:00 +08:00. Friday 25th is a holiday (Mid-Autumn), then a weekend:
    // consultation (3 working days) → Mon 28, Tue 29, Wed 30 → Wed 2026-09-30 17:30 +08:00.
    let mut q = complaint("c");
    q.request_type = "consultation".into();
    let o = ts
        .store
        .create_order(q, &agent, None, at(2026, 9, 24, 2, 0))
        .await
        .unwrap();
    assert_eq!(o.deadline, Some(at(2026, 9, 30, 9, 30)));
    // Monday 2026-09-28: complaint (15 working days) across National Day (Oct 1–7, make-up
    // Saturday Oct 10): 29, 30, Oct 8, 9, 10, 12–16, 19–23 → Fri 2026-10-23 17:30 +08:00.
    let o = ts
        .store
        .create_order(complaint("d"), &agent, None, at(2026, 9, 28, 2, 0))
        .await
        .unwrap();
    assert_eq!(o.deadline, Some(at(2026, 10, 23, 9, 30)));
    // Urban-management case in a category with a per-category rule (E0101: 8 working hours),
    // reported Friday 2026-11-27 16:00 +08:00: 1.5 h Friday, then 6.5 h on Monday (3 h before
    // lunch, 3.5 h from 13:30) → Mon 2026-11-30 17:00 +08:00.
    let um = NewWorkOrder {
        request_type: "urban-management".into(),
        description: "暴露垃圾 exposed rubbish".into(),
        category_id: Some("E0101".into()),
        ..Default::default()
    };
    let o = ts
        .store
        .create_order(um, &agent, None, at(2026, 11, 27, 8, 0))
        .await
        .unwrap();
    assert_eq!(o.deadline, Some(at(2026, 11, 30, 9, 0)));
    // Registering into another category recomputes the deadline from the receipt time.
    let reg = ts
        .store
        .transition(
            &OrderKey::Id(o.id),
            &Command::Register {
                category_id: Some("E0401".into()),
                note: None,
            },
            &agent,
            at(2026, 11, 27, 8, 30),
        )
        .await
        .unwrap();
    let hours = ts
        .store
        .categories(Some("event"))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == "E0401")
        .and_then(|c| c.deadline_hours)
        .expect("E0401 has a handling time");
    let expected = ts
        .store
        .policy()
        .calendar
        .add_working_minutes(at(2026, 11, 27, 8, 0), hours as u32 * 60);
    assert_eq!(reg.deadline, Some(expected));
    assert_ne!(reg.deadline, o.deadline);
}

async fn concurrent_creates_and_transitions(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let mut tasks = vec![];
    for i in 0..40 {
        let store = ts.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_order(complaint(&format!("c{i}")), &actor(Role::Agent), None, now)
                .await
                .unwrap()
                .number
        }));
    }
    let mut numbers = vec![];
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=40).map(|i| format!("20261123{i:05}")).collect();
    assert_eq!(numbers, expected);

    // Two supervisors dispatch the same order at once: exactly one wins.
    let id = create(&ts, complaint("race"), now).await;
    step(
        &ts,
        id,
        Command::Register {
            category_id: None,
            note: None,
        },
        &actor(Role::Supervisor),
        now,
    )
    .await;
    let mut racers = vec![];
    for d in ["roads", "sanitation", "market", "housing"] {
        let store = ts.store.clone();
        racers.push(tokio::spawn(async move {
            store
                .transition(
                    &OrderKey::Id(id),
                    &Command::Dispatch {
                        department: d.into(),
                        note: None,
                    },
                    &actor(Role::Supervisor),
                    now,
                )
                .await
        }));
    }
    let mut wins = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(o) => {
                wins += 1;
                assert_eq!(o.status, Status::Dispatched);
            }
            Err(StoreError::Transition(TransitionError::NotAllowed { .. }))
            | Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(wins, 1);
    let events = ts.store.order_events(id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "dispatch").count(), 1);
}

async fn audit_trail_is_append_only(b: Backend) {
    let ts = TestStore::new(b).await;
    let id = create(&ts, complaint("a"), at(2026, 11, 23, 2, 0)).await;
    let update = format!("UPDATE case_events SET note = 'forged' WHERE order_id = {id}");
    let delete = format!("DELETE FROM case_events WHERE order_id = {id}");
    match b {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&ts.url).await.unwrap();
            for sql in [&update, &delete] {
                let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
                assert!(err.to_string().contains("append-only"), "{err}");
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&ts.url).await.unwrap();
            for sql in [&update, &delete] {
                let err = sqlx::query(sql).execute(&mut c).await.unwrap_err();
                assert!(err.to_string().contains("append-only"), "{err}");
            }
        }
    }
    assert_eq!(ts.store.order_events(id).await.unwrap()[0].note, None);
}

fn call(id: &str, from: &str, offered: DateTime<Utc>) -> CallRecord {
    CallRecord {
        id: id.into(),
        trunk: Some("carrier".into()),
        from_number: from.into(),
        to_number: "12345".into(),
        queue: Some("12345".into()),
        agent_id: None,
        offered_at: offered,
        answered_at: None,
        ended_at: None,
        disposition: None,
        disposition_detail: None,
        recording_path: None,
        work_order_id: None,
    }
}

async fn call_records(b: Backend) {
    let ts = TestStore::new(b).await;
    let t = at(2026, 11, 23, 2, 0);
    let mut c1 = call("call-1", "13800000001", t);
    ts.store.save_call(&c1).await.unwrap();
    ts.store
        .save_call(&call(
            "call-2",
            "13800000002",
            t + chrono::Duration::seconds(30),
        ))
        .await
        .unwrap();
    // The call goes on: answered by 1001, then ended.
    c1.agent_id = Some("1001".into());
    c1.answered_at = Some(t + chrono::Duration::seconds(8));
    c1.ended_at = Some(t + chrono::Duration::seconds(200));
    c1.disposition = Some("answered".into());
    c1.recording_path = Some("recordings/2026/11/23/call-1.wav".into());
    ts.store.save_call(&c1).await.unwrap();
    // An order created on the call is tied to it.
    let mut new = complaint("from the call");
    new.call_id = Some("call-1".into());
    let order = ts
        .store
        .create_order(new, &actor(Role::Agent), None, t)
        .await
        .unwrap();
    let got = ts.store.get_call("call-1").await.unwrap().unwrap();
    assert_eq!(got.work_order_id, Some(order.id));
    assert_eq!(got.disposition.as_deref(), Some("answered"));
    assert_eq!(got.answered_at, c1.answered_at);
    assert_eq!(order.call_id.as_deref(), Some("call-1"));
    // Re-saving without the order keeps the tie.
    ts.store.save_call(&c1).await.unwrap();
    assert_eq!(
        ts.store
            .get_call("call-1")
            .await
            .unwrap()
            .unwrap()
            .work_order_id,
        Some(order.id)
    );
    // Unknown call id, bad disposition.
    let mut bad = complaint("x");
    bad.call_id = Some("nope".into());
    let err = ts
        .store
        .create_order(bad, &actor(Role::Agent), None, t)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "call_id"),
        "{err:?}"
    );
    let mut c3 = call("call-3", "1", t);
    c3.disposition = Some("lost".into());
    let err = ts.store.save_call(&c3).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "disposition"),
        "{err:?}"
    );
    // Listing with filters.
    let all = ts.store.list_calls(&CallQuery::default()).await.unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[0].id, "call-2", "newest first");
    let answered = ts
        .store
        .list_calls(&CallQuery {
            disposition: Some("answered".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answered.items.len(), 1);
    let since = ts
        .store
        .list_calls(&CallQuery {
            offered_from: Some(t + chrono::Duration::seconds(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        since
            .items
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        ["call-2"]
    );
}

async fn list_search_and_paging(b: Backend) {
    let ts = TestStore::new(b).await;
    let agent = actor(Role::Agent);
    let old = at(2026, 1, 5, 2, 0);
    let now = at(2026, 11, 23, 2, 0);
    // An old open order (overdue by now) and 6 fresh ones.
    create(&ts, complaint("井盖缺失 manhole cover missing"), old).await;
    for i in 0..6 {
        let mut n = complaint(&format!("fresh {i}"));
        n.caller_number = Some(format!("1390000000{i}"));
        create(&ts, n, now).await;
    }
    let page = |q: OrderQuery| {
        let store = ts.store.clone();
        async move { store.list_orders(&q, now).await.unwrap() }
    };
    let p1 = page(OrderQuery {
        limit: Some(4),
        ..Default::default()
    })
    .await;
    assert_eq!((p1.total, p1.items.len(), p1.next_offset), (7, 4, Some(4)));
    let p2 = page(OrderQuery {
        limit: Some(4),
        offset: Some(4),
        ..Default::default()
    })
    .await;
    assert_eq!((p2.items.len(), p2.next_offset), (3, None));
    assert!(p1.items[0].id > p1.items[3].id, "newest first");
    let overdue = page(OrderQuery {
        overdue: Some(true),
        ..Default::default()
    })
    .await;
    assert_eq!(overdue.total, 1);
    assert!(overdue.items[0].description.contains("井盖"));
    let not_overdue = page(OrderQuery {
        overdue: Some(false),
        ..Default::default()
    })
    .await;
    assert_eq!(not_overdue.total, 6);
    let text = page(OrderQuery {
        q: Some("MANHOLE".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(text.total, 1);
    let zh = page(OrderQuery {
        q: Some("井盖".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(zh.total, 1);
    let caller = page(OrderQuery {
        caller_number: Some("13900000003".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(caller.total, 1);
    let received = page(OrderQuery {
        status: Some("received".into()),
        created_from: Some(at(2026, 11, 1, 0, 0)),
        ..Default::default()
    })
    .await;
    assert_eq!(received.total, 6);
    for bad in [
        OrderQuery {
            limit: Some(0),
            ..Default::default()
        },
        OrderQuery {
            limit: Some(501),
            ..Default::default()
        },
        OrderQuery {
            offset: Some(-1),
            ..Default::default()
        },
        OrderQuery {
            status: Some("lost".into()),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            ts.store.list_orders(&bad, now).await,
            Err(StoreError::Invalid { .. })
        ));
    }
    let _ = agent;
}

async fn invalid_new_orders_name_the_field(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = at(2026, 11, 23, 2, 0);
    let base = complaint("ok");
    let cases: Vec<(&str, NewWorkOrder)> = vec![
        (
            "request_type",
            NewWorkOrder {
                request_type: "gossip".into(),
                ..base.clone()
            },
        ),
        (
            "description",
            NewWorkOrder {
                description: "   ".into(),
                ..base.clone()
            },
        ),
        (
            "description",
            NewWorkOrder {
                description: "x".repeat(10_001),
                ..base.clone()
            },
        ),
        (
            "channel",
            NewWorkOrder {
                channel: Some("pigeon".into()),
                ..base.clone()
            },
        ),
        (
            "priority",
            NewWorkOrder {
                priority: Some("asap".into()),
                ..base.clone()
            },
        ),
        (
            "caller_number",
            NewWorkOrder {
                caller_number: Some("call me".into()),
                ..base.clone()
            },
        ),
        (
            "category_id",
            NewWorkOrder {
                category_id: Some("C9999".into()),
                ..base.clone()
            },
        ),
        (
            "grid_cell",
            NewWorkOrder {
                grid_cell: Some("510402999999999".into()),
                ..base.clone()
            },
        ),
        (
            "longitude",
            NewWorkOrder {
                longitude: Some(181.0),
                latitude: Some(26.0),
                ..base.clone()
            },
        ),
        (
            "latitude",
            NewWorkOrder {
                longitude: Some(101.7),
                latitude: Some(-91.0),
                ..base.clone()
            },
        ),
        (
            "latitude",
            NewWorkOrder {
                longitude: Some(101.7),
                ..base.clone()
            },
        ),
        (
            "caller_number",
            NewWorkOrder {
                channel: Some("transfer-110".into()),
                caller_number: None,
                ..base.clone()
            },
        ),
    ];
    for (field, new) in cases {
        match ts
            .store
            .create_order(new.clone(), &actor(Role::Agent), None, now)
            .await
        {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field, "{new:?}"),
            other => panic!("{field}: expected Invalid, got {other:?}"),
        }
    }
    // A channel user reports through its own channel only, and it is the default.
    let ch = Actor {
        name: "field-app".into(),
        role: Role::Channel,
        department: None,
    };
    let o = ts
        .store
        .create_order(
            complaint("from the field"),
            &ch,
            Some("field-inspector"),
            now,
        )
        .await
        .unwrap();
    assert_eq!(o.channel, "field-inspector");
    let err = ts
        .store
        .create_order(
            NewWorkOrder {
                channel: Some("web".into()),
                ..complaint("x")
            },
            &ch,
            Some("field-inspector"),
            now,
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "channel"));
    // Nothing above was written but the one good order.
    assert_eq!(
        ts.store
            .list_orders(&OrderQuery::default(), now)
            .await
            .unwrap()
            .total,
        1
    );
}
