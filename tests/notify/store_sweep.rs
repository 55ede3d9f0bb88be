//! The deadline sweep applied in the store: the candidates it reads, the near-deadline notice
//! once per deadline (a moved deadline arms it again), escalation levels with their `escalate`
//! events by `system` and their notices, paused orders left alone, and a stale version skipped.

use chrono::{DateTime, TimeDelta, Utc};
use hotline::cases::store::{NotificationQuery, OrderKey};
use hotline::cases::sweep::{sweep, CandidateWindow, SweepConfig};
use hotline::cases::{Actor, NewWorkOrder, WorkOrder};
use hotline::config::Role;

use super::common::{Backend, TestStore};
use super::sweep_pure::local;
use super::{sql, Bind};

const CFG: SweepConfig = SweepConfig {
    near_deadline_working_minutes: 60,
    escalate_leaders_after_working_hours: 8,
};

/// An order created at `created`, then put in `status` with `department` and `deadline` as the
/// workflow would have left it.
async fn seed(
    ts: &TestStore,
    status: &str,
    department: Option<&str>,
    deadline: DateTime<Utc>,
) -> WorkOrder {
    let created = deadline - TimeDelta::days(3);
    let actor = Actor {
        name: "test-agent".into(),
        role: Role::Agent,
        department: None,
    };
    let new = NewWorkOrder {
        request_type: "urban-management".into(),
        description: "垃圾满溢 overflowing bin".into(),
        category_id: Some("E0106".into()),
        ..Default::default()
    };
    let o = ts
        .store
        .create_order(new, &actor, None, created)
        .await
        .unwrap();
    sql(
        ts,
        "UPDATE work_orders SET status = $1, department_id = $2, deadline = $3 WHERE id = $4",
        vec![
            Bind::Text(Some(status.into())),
            Bind::Text(department.map(str::to_string)),
            Bind::Time(Some(deadline)),
            Bind::Int(Some(o.id)),
        ],
    )
    .await;
    // As created (id, number, version): the statuses of the workflow to come may not be
    // readable as a WorkOrder by this build.
    o
}

async fn order(ts: &TestStore, id: i64) -> WorkOrder {
    ts.store
        .get_order(&OrderKey::Id(id))
        .await
        .unwrap()
        .unwrap()
}

/// (kind, recipient, order) of every notification, oldest first.
async fn notices(ts: &TestStore) -> Vec<(String, String, Option<i64>)> {
    let mut items = ts
        .store
        .list_notifications(&NotificationQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    items.reverse();
    items
        .into_iter()
        .map(|n| (n.kind, n.recipient, n.work_order_id))
        .collect()
}

pub(crate) async fn sweep_near_deadline_once_per_deadline(b: Backend) {
    let ts = TestStore::new(b).await;
    // Due Monday 09:30: the last working hour starts Friday 17:00.
    let deadline = local(2026, 11, 30, 9, 30);
    let o = seed(&ts, "dispatched", Some("sanitation"), deadline).await;
    let far = seed(&ts, "dispatched", Some("roads"), local(2026, 12, 3, 9, 30)).await;
    let friday = local(2026, 11, 27, 16, 59);
    let out = ts.store.sweep_deadlines(friday, &CFG).await.unwrap();
    assert_eq!((out.applied, out.notifications), (0, 0));
    assert_eq!(out.candidates, 0, "{out:?}");
    let at = local(2026, 11, 27, 17, 0);
    let out = ts.store.sweep_deadlines(at, &CFG).await.unwrap();
    assert_eq!((out.candidates, out.applied, out.notifications), (1, 1, 1));
    assert_eq!(
        notices(&ts).await,
        vec![(
            "near_deadline".into(),
            "department:sanitation".into(),
            Some(o.id)
        )]
    );
    let after = order(&ts, o.id).await;
    assert_eq!(after.near_deadline_notified_at, Some(at));
    assert_eq!(after.version, o.version + 1);
    assert_eq!(after.updated_at, at);
    assert_eq!(after.escalation_level, 0);
    // The payload says which order and how long is left.
    let n = &ts
        .store
        .list_notifications(&Default::default())
        .await
        .unwrap()
        .items[0];
    assert_eq!(n.payload.0["number"], o.number);
    assert_eq!(n.payload.0["remaining_working_minutes"], 60);
    assert_eq!(n.status(), "pending");
    // Swept again over the weekend: nothing new.
    for now in [local(2026, 11, 28, 10, 0), local(2026, 11, 30, 9, 0)] {
        let out = ts.store.sweep_deadlines(now, &CFG).await.unwrap();
        assert_eq!(out.applied, 0);
    }
    assert_eq!(notices(&ts).await.len(), 1);
    // Extended by two working days: the notice goes out again before the new deadline.
    sql(
        &ts,
        "UPDATE work_orders SET deadline = $1, version = version + 1 WHERE id = $2",
        vec![
            Bind::Time(Some(local(2026, 12, 2, 9, 30))),
            Bind::Int(Some(o.id)),
        ],
    )
    .await;
    ts.store
        .sweep_deadlines(local(2026, 12, 1, 12, 0), &CFG)
        .await
        .unwrap();
    assert_eq!(notices(&ts).await.len(), 1);
    ts.store
        .sweep_deadlines(local(2026, 12, 1, 17, 0), &CFG)
        .await
        .unwrap();
    assert_eq!(notices(&ts).await.len(), 2);
    assert_eq!(order(&ts, far.id).await.version, far.version);
}

pub(crate) async fn sweep_escalates_with_events_and_notices(b: Backend) {
    let ts = TestStore::new(b).await;
    let deadline = local(2026, 11, 25, 10, 0); // Wednesday
    let o = seed(&ts, "dispatched", Some("roads"), deadline).await;
    let centre = seed(&ts, "registered", None, deadline).await;
    let t1 = local(2026, 11, 25, 10, 1);
    let out = ts.store.sweep_deadlines(t1, &CFG).await.unwrap();
    assert_eq!((out.applied, out.notifications, out.conflicts), (2, 2, 0));
    let mut n = notices(&ts).await;
    n.sort();
    assert_eq!(
        n,
        vec![
            ("overdue".into(), "centre".into(), Some(centre.id)),
            ("overdue".into(), "department:roads".into(), Some(o.id)),
        ]
    );
    let after = order(&ts, o.id).await;
    assert_eq!(after.escalation_level, 1);
    let events = ts.store.order_events(o.id).await.unwrap();
    let esc: Vec<_> = events.iter().filter(|e| e.action == "escalate").collect();
    assert_eq!(esc.len(), 1);
    assert_eq!(
        (esc[0].actor.as_str(), esc[0].actor_role.as_str()),
        ("system", "system")
    );
    assert_eq!(esc[0].data.0["level"], 1);
    let d: DateTime<Utc> = serde_json::from_value(esc[0].data.0["deadline"].clone()).unwrap();
    assert_eq!(d, deadline);
    assert_eq!(esc[0].at, t1);
    assert_eq!(esc[0].from_status.as_deref(), Some("dispatched"));
    assert_eq!(esc[0].to_status.as_deref(), Some("dispatched"));
    // Until 8 working hours past the deadline (Wednesday 6 h, Thursday 09:00-11:00): nothing.
    let out = ts
        .store
        .sweep_deadlines(local(2026, 11, 26, 10, 59), &CFG)
        .await
        .unwrap();
    assert_eq!(out.applied, 0);
    let t2 = local(2026, 11, 26, 11, 0);
    ts.store.sweep_deadlines(t2, &CFG).await.unwrap();
    let after = order(&ts, o.id).await;
    assert_eq!(after.escalation_level, 2);
    let levels: Vec<_> = ts
        .store
        .order_events(o.id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "escalate")
        .map(|e| e.data.0["level"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [1, 2]);
    let escalated: Vec<_> = notices(&ts)
        .await
        .into_iter()
        .filter(|n| n.0 == "escalated")
        .collect();
    assert_eq!(escalated.len(), 2);
    assert!(escalated.iter().all(|n| n.1 == "leaders"));
    // Level 2 reached: later sweeps never repeat a level, and no longer read the order.
    let before = notices(&ts).await.len();
    let later = local(2026, 12, 10, 10, 0);
    let out = ts.store.sweep_deadlines(later, &CFG).await.unwrap();
    assert_eq!((out.candidates, out.applied), (0, 0));
    assert_eq!(notices(&ts).await.len(), before);
    // An order found long overdue gets both levels in one transaction.
    let old = seed(
        &ts,
        "dispatched",
        Some("sanitation"),
        local(2026, 12, 1, 9, 0),
    )
    .await;
    ts.store.sweep_deadlines(later, &CFG).await.unwrap();
    let after = order(&ts, old.id).await;
    assert_eq!(
        (after.escalation_level, after.version),
        (2, old.version + 1)
    );
    let events = ts.store.order_events(old.id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "escalate").count(), 2);
}

pub(crate) async fn sweep_skips_paused_orders_and_stale_versions(b: Backend) {
    let ts = TestStore::new(b).await;
    let deadline = local(2026, 11, 23, 10, 0);
    let now = local(2026, 11, 27, 10, 0);
    let returned = seed(&ts, "returned", Some("roads"), deadline).await;
    for status in ["parked", "verifying", "closed", "rejected", "merged"] {
        seed(&ts, status, Some("roads"), deadline).await;
    }
    let paused = seed(&ts, "dispatched", Some("roads"), deadline).await;
    sql(
        &ts,
        "UPDATE work_orders SET paused_at = $1 WHERE id = $2",
        vec![Bind::Time(Some(deadline)), Bind::Int(Some(paused.id))],
    )
    .await;
    let out = ts.store.sweep_deadlines(now, &CFG).await.unwrap();
    assert_eq!((out.candidates, out.applied), (0, 0));
    assert!(notices(&ts).await.is_empty());
    assert_eq!(order(&ts, returned.id).await.version, returned.version);
    // A decision made on a version that changed meanwhile writes nothing.
    let live = seed(&ts, "dispatched", Some("roads"), deadline).await;
    let calendar = &ts.store.policy().calendar;
    let window = CandidateWindow::at(now, calendar, &CFG);
    let facts = ts.store.sweep_candidates(&window, 100).await.unwrap();
    assert_eq!(facts.iter().map(|f| f.id).collect::<Vec<_>>(), [live.id]);
    let actions = sweep(&facts, now, calendar, &CFG);
    assert_eq!(actions.len(), 2);
    sql(
        &ts,
        "UPDATE work_orders SET version = version + 1 WHERE id = $1",
        vec![Bind::Int(Some(live.id))],
    )
    .await;
    assert!(!ts.store.apply_sweep_actions(&actions, now).await.unwrap());
    let after = order(&ts, live.id).await;
    assert_eq!(
        (after.escalation_level, after.version),
        (0, live.version + 1)
    );
    assert!(ts
        .store
        .order_events(live.id)
        .await
        .unwrap()
        .iter()
        .all(|e| e.action != "escalate"));
    assert!(notices(&ts).await.is_empty());
    // The next sweep decides again on fresh facts.
    let out = ts.store.sweep_deadlines(now, &CFG).await.unwrap();
    assert_eq!((out.applied, out.notifications), (1, 2));
}

/// Escalated orders that stay candidates (level 1, waiting for level 2) are read apart from
/// the new ones: however many there are, a newly overdue order is read in the same sweep.
pub(crate) async fn sweep_candidates_never_starve_new_orders(b: Backend) {
    let ts = TestStore::new(b).await;
    let now = local(2026, 11, 27, 10, 0);
    let mut old = Vec::new();
    for day in 16..19 {
        let o = seed(
            &ts,
            "dispatched",
            Some("roads"),
            local(2026, 11, day, 10, 0),
        )
        .await;
        sql(
            &ts,
            "UPDATE work_orders SET escalation_level = 1 WHERE id = $1",
            vec![Bind::Int(Some(o.id))],
        )
        .await;
        old.push(o.id);
    }
    let new = seed(&ts, "dispatched", Some("roads"), local(2026, 11, 26, 10, 0)).await;
    let window = CandidateWindow::at(now, &ts.store.policy().calendar, &CFG);
    let facts = ts.store.sweep_candidates(&window, 2).await.unwrap();
    let ids: Vec<i64> = facts.iter().map(|f| f.id).collect();
    assert_eq!(ids, [old[0], old[1], new.id], "earliest deadline first");
    let facts = ts.store.sweep_candidates(&window, 1).await.unwrap();
    let ids: Vec<i64> = facts.iter().map(|f| f.id).collect();
    assert_eq!(ids, [old[0], new.id]);
}

/// The running sweeper task (every 50 ms here) escalates an overdue order, and the delivery
/// task sends the notice it wrote.
pub(crate) async fn sweeper_task_escalates_and_the_notice_is_delivered(b: Backend) {
    use hotline::cases::notify::{start_with, DeliveryConfig, LogNotifier};
    use std::time::Duration;
    let ts = TestStore::new(b).await;
    let now = hotline::cases::now();
    let o = seed(&ts, "dispatched", Some("roads"), now - TimeDelta::days(30)).await;
    let delivery = DeliveryConfig {
        max_attempts: 3,
        retry: Duration::from_secs(1),
        poll: Duration::from_secs(30),
    };
    let bg = start_with(
        ts.store.clone(),
        LogNotifier,
        delivery,
        CFG,
        Duration::from_millis(50),
    );
    let mut delivered = vec![];
    for _ in 0..200 {
        delivered = ts
            .store
            .list_notifications(&NotificationQuery {
                status: Some("delivered".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .items;
        if delivered.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bg.stop().await;
    let mut kinds: Vec<_> = delivered.iter().map(|n| n.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["escalated", "overdue"]);
    assert_eq!(order(&ts, o.id).await.escalation_level, 2);
}

/// A year of orders (150,000; one in ten still open, deadlines spread over the year): the first
/// sweeps escalate the open ones 2,000 at a time; afterwards a sweep reads only what can still
/// change. Timed; run with `cargo test --release --test notify -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn sweep_timing_on_a_year_of_orders_sqlite() {
    use std::time::Instant;
    let ts = TestStore::new(Backend::Sqlite).await;
    let now = local(2026, 11, 27, 10, 0);
    let t = Instant::now();
    sql(
        &ts,
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 150000)
         INSERT INTO work_orders (number, channel, request_type, status, priority, description,
           created_by, created_at, updated_at, deadline, department_id)
         SELECT printf('2025%09d', i), 'field-inspector', 'urban-management',
           CASE WHEN i % 10 = 0 THEN 'dispatched' ELSE 'closed' END, 'normal', 'seeded', 'bench',
           strftime('%Y-%m-%dT%H:%M:%S+00:00', $1, printf('-%d minutes', i * 3 + 600)),
           strftime('%Y-%m-%dT%H:%M:%S+00:00', $1, printf('-%d minutes', i * 3 + 600)),
           strftime('%Y-%m-%dT%H:%M:%S+00:00', $1, printf('-%d minutes', i * 3 - 120)),
           'roads'
         FROM c",
        vec![Bind::Time(Some(now))],
    )
    .await;
    eprintln!("seeded 150,000 orders in {:?}", t.elapsed());
    let mut sweeps = 0;
    loop {
        let t = Instant::now();
        let out = ts.store.sweep_deadlines(now, &CFG).await.unwrap();
        sweeps += 1;
        eprintln!("sweep {sweeps}: {out:?} in {:?}", t.elapsed());
        if out.applied == 0 {
            // Left to read: level-1 orders that may reach level 2 within the next 8 hours.
            assert!(out.candidates < 100, "{out:?}");
            break;
        }
        assert!(sweeps < 20);
    }
    // 15,000 open orders, all past their deadline but the newest: levels 1 and 2 each.
    let total = ts
        .store
        .list_notifications(&NotificationQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    assert!(total > 29_000, "{total}");
    let t = Instant::now();
    let out = ts.store.sweep_deadlines(now, &CFG).await.unwrap();
    let steady = t.elapsed();
    eprintln!("steady sweep: {out:?} in {steady:?}");
    assert_eq!(out.applied, 0);
    assert!(steady.as_millis() < 1000, "{steady:?}");
}
