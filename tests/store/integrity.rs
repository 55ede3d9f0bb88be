//! What must hold whatever happens: numbers per local day, deadlines in working time, one
//! winner among concurrent changes, an audit trail nobody can rewrite.

use super::*;

pub(crate) async fn numbers_count_per_local_day(b: Backend) {
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

pub(crate) async fn deadlines_across_weekend_and_holiday(b: Backend) {
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
                criteria_met: None,
            },
            // Urban-management cases are registered by the shift lead.
            &actor(Role::Supervisor),
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
    // The audit trail records both what changed and what it was before.
    let events = ts.store.order_events(o.id).await.unwrap();
    let e = &events.last().unwrap().data.0;
    assert_eq!(e["previous_category_id"], "E0101");
    assert_eq!(e["category_id"], "E0401");
    assert_eq!(e["previous_deadline"], serde_json::json!(o.deadline));
    assert_eq!(e["deadline"], serde_json::json!(reg.deadline));
}

pub(crate) async fn concurrent_creates_and_transitions(b: Backend) {
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

    // Creates written together in one transaction: one bad order (a call that does not exist)
    // fails alone, every other one is written, and numbers stay gap-free.
    let mut tasks = vec![];
    for i in 0..30 {
        let store = ts.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut new = complaint(&format!("batch {i}"));
            if i == 17 {
                new.call_id = Some("no-such-call".into());
            }
            store
                .create_order(new, &actor(Role::Agent), None, now)
                .await
        }));
    }
    let mut numbers = vec![];
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(o) => numbers.push(o.number),
            Err(StoreError::Invalid { field, .. }) if i == 17 => assert_eq!(field, "call_id"),
            Err(e) => panic!("order {i}: {e:?}"),
        }
    }
    numbers.sort();
    let expected: Vec<String> = (41..=69).map(|i| format!("20261123{i:05}")).collect();
    assert_eq!(numbers, expected);

    // Two orders merged into each other at the same moment: one merge wins, one order lives.
    for _ in 0..10 {
        let a = create(&ts, complaint("dup a"), now).await;
        let b = create(&ts, complaint("dup b"), now).await;
        let merge = |from: i64, into: i64| {
            let store = ts.store.clone();
            tokio::spawn(async move {
                store
                    .transition(
                        &OrderKey::Id(from),
                        &Command::Merge {
                            into: into.to_string(),
                            note: None,
                        },
                        &actor(Role::Agent),
                        now,
                    )
                    .await
            })
        };
        let (x, y) = (merge(a, b), merge(b, a));
        let results = [x.await.unwrap(), y.await.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        let live = [a, b]
            .into_iter()
            .filter(|id| results.iter().flatten().all(|merged| merged.id != *id));
        assert_eq!(live.count(), 1);
    }

    // Two supervisors dispatch the same order at once: exactly one wins.
    let id = create(&ts, complaint("race"), now).await;
    step(&ts, id, register(), &actor(Role::Supervisor), now).await;
    let mut racers = vec![];
    for d in ["roads", "sanitation", "market", "housing"] {
        let store = ts.store.clone();
        racers.push(tokio::spawn(async move {
            store
                .transition(
                    &OrderKey::Id(id),
                    &Command::Dispatch {
                        department: Some(d.into()),
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

pub(crate) async fn audit_trail_is_append_only(b: Backend) {
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

/// With the database gone, every waiting create is answered "unavailable" at once (503), not
/// retried one by one into the same failure.
pub(crate) async fn creates_fail_fast_when_the_database_is_gone(b: Backend) {
    let ts = TestStore::new(b).await;
    ts.store.close().await;
    let mut tasks = vec![];
    for i in 0..10 {
        let store = ts.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_order(
                    complaint(&format!("c{i}")),
                    &actor(Role::Agent),
                    None,
                    at(2026, 11, 23, 2, 0),
                )
                .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r, Err(StoreError::Unavailable)), "{r:?}");
    }
}
