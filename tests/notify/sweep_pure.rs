//! The deadline sweeper's pure decisions on a fake clock: near deadline across a weekend and a
//! holiday, escalation levels in working time, a moved deadline, paused and closed orders left
//! alone, levels never repeated, and ten thousand orders at once.

use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hotline::cases::calendar::WorkingCalendar;
use hotline::cases::sweep::{sweep, CandidateWindow, OrderDeadlineFacts, SweepConfig, SweepKind};

/// Local time (+08:00) as UTC.
pub fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

const CFG: SweepConfig = SweepConfig {
    near_deadline_working_minutes: 60,
    escalate_leaders_after_working_hours: 8,
};

fn order(id: i64, deadline: DateTime<Utc>) -> OrderDeadlineFacts {
    OrderDeadlineFacts {
        id,
        number: format!("20261127{id:05}"),
        version: 1,
        status: "dispatched".into(),
        title: Some("垃圾暴露 exposed rubbish".into()),
        category_id: Some("E0101".into()),
        department_id: Some("sanitation".into()),
        deadline: Some(deadline),
        paused_at: None,
        escalation_level: 0,
        near_deadline_notified_at: None,
    }
}

fn cal() -> WorkingCalendar {
    WorkingCalendar::china_default()
}

/// The same calendar with Monday 2026-11-30 a public holiday.
fn cal_with_holiday() -> WorkingCalendar {
    let mut c = cal();
    c.holidays
        .insert(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    c
}

fn kinds(actions: &[hotline::cases::sweep::SweepAction]) -> Vec<(&'static str, String)> {
    actions
        .iter()
        .map(|a| (a.notification.kind, a.notification.recipient.clone()))
        .collect()
}

/// The sweeper's actions applied to the facts, as the store would.
fn apply(
    o: &mut OrderDeadlineFacts,
    actions: &[hotline::cases::sweep::SweepAction],
    now: DateTime<Utc>,
) {
    for a in actions.iter().filter(|a| a.order_id == o.id) {
        match a.kind {
            SweepKind::NearDeadline => o.near_deadline_notified_at = Some(now),
            SweepKind::Escalate { level } => o.escalation_level = o.escalation_level.max(level),
        }
        o.version += 1;
    }
}

#[test]
fn near_deadline_across_a_weekend() {
    // Due Monday 09:30: Friday 17:00-17:30 and Monday 09:00-09:30 are the last working hour.
    let deadline = local(2026, 11, 30, 9, 30);
    let o = order(1, deadline);
    let c = cal();
    assert!(sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 27, 16, 59),
        &c,
        &CFG
    )
    .is_empty());
    let a = sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 27, 17, 0),
        &c,
        &CFG,
    );
    assert_eq!(
        kinds(&a),
        vec![("near_deadline", "department:sanitation".into())]
    );
    assert_eq!(a[0].kind, SweepKind::NearDeadline);
    assert_eq!(a[0].notification.payload["remaining_working_minutes"], 60);
    assert_eq!(a[0].notification.payload["number"], o.number);
    assert_eq!(
        a[0].notification.payload["deadline"],
        serde_json::json!(deadline)
    );
    assert_eq!(a[0].notification.work_order_id, Some(1));
    // On Saturday the same order is 30 working minutes from its deadline.
    let sat = sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 28, 11, 0),
        &c,
        &CFG,
    );
    assert_eq!(sat[0].notification.payload["remaining_working_minutes"], 30);
    // Notified on Friday: nothing more over the weekend nor on Monday morning.
    let mut notified = o.clone();
    apply(&mut notified, &a, local(2026, 11, 27, 17, 0));
    for now in [
        local(2026, 11, 28, 11, 0),
        local(2026, 11, 29, 23, 0),
        local(2026, 11, 30, 9, 15),
    ] {
        assert!(
            sweep(std::slice::from_ref(&notified), now, &c, &CFG).is_empty(),
            "{now}"
        );
    }
}

#[test]
fn near_deadline_across_a_holiday() {
    // Due Tuesday 10:00 after a holiday Monday: the last working hour is Tuesday 09:00-10:00,
    // so the notice is due from Friday 17:30 (with the Monday a working day: Monday 17:30).
    let o = order(1, local(2026, 12, 1, 10, 0));
    let (plain, holiday) = (cal(), cal_with_holiday());
    assert!(sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 27, 17, 29),
        &holiday,
        &CFG
    )
    .is_empty());
    let a = sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 27, 17, 30),
        &holiday,
        &CFG,
    );
    assert_eq!(
        kinds(&a),
        vec![("near_deadline", "department:sanitation".into())]
    );
    assert_eq!(a[0].notification.payload["remaining_working_minutes"], 60);
    // Any time on the holiday is already within the hour.
    let a = sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 30, 15, 0),
        &holiday,
        &CFG,
    );
    assert_eq!(a[0].notification.payload["remaining_working_minutes"], 60);
    // The plain calendar counts the Monday.
    for now in [local(2026, 11, 27, 17, 30), local(2026, 11, 30, 17, 29)] {
        assert!(
            sweep(std::slice::from_ref(&o), now, &plain, &CFG).is_empty(),
            "{now}"
        );
    }
    let a = sweep(&[o], local(2026, 11, 30, 17, 30), &plain, &CFG);
    assert_eq!(a[0].notification.payload["remaining_working_minutes"], 60);
}

#[test]
fn escalation_levels_in_working_time_across_a_holiday() {
    // Due Friday 17:00. 8 working hours later: Fri 17:00-17:30 (30), holiday Monday (0),
    // Tuesday (420), Wednesday 09:00-09:30 (30) = 480 → Wednesday 09:30.
    let deadline = local(2026, 11, 27, 17, 0);
    let c = cal_with_holiday();
    let mut o = order(1, deadline);
    // At the deadline itself the order is not late yet (a last notice, if none went out).
    let at = sweep(std::slice::from_ref(&o), deadline, &c, &CFG);
    assert_eq!(
        at.iter().map(|a| a.kind.clone()).collect::<Vec<_>>(),
        [SweepKind::NearDeadline]
    );
    assert_eq!(at[0].notification.payload["remaining_working_minutes"], 0);
    let late = local(2026, 11, 27, 17, 1);
    let a = sweep(std::slice::from_ref(&o), late, &c, &CFG);
    assert_eq!(kinds(&a), vec![("overdue", "department:sanitation".into())]);
    assert_eq!(a[0].kind, SweepKind::Escalate { level: 1 });
    assert_eq!(a[0].notification.payload["level"], 1);
    assert_eq!(a[0].deadline, deadline);
    apply(&mut o, &a, late);
    assert!(sweep(
        std::slice::from_ref(&o),
        local(2026, 12, 2, 9, 29),
        &c,
        &CFG
    )
    .is_empty());
    // Without the holiday, the leaders would have been told on Tuesday 09:30.
    let tue = sweep(
        std::slice::from_ref(&o),
        local(2026, 12, 1, 9, 30),
        &cal(),
        &CFG,
    );
    assert_eq!(kinds(&tue), vec![("escalated", "leaders".into())]);
    let wed = local(2026, 12, 2, 9, 30);
    let a = sweep(std::slice::from_ref(&o), wed, &c, &CFG);
    assert_eq!(kinds(&a), vec![("escalated", "leaders".into())]);
    assert_eq!(a[0].kind, SweepKind::Escalate { level: 2 });
    assert_eq!(a[0].notification.payload["overdue_working_minutes"], 480);
    assert_eq!(a[0].notification.payload["department_id"], "sanitation");
    apply(&mut o, &a, wed);
    assert!(sweep(&[o], local(2027, 1, 4, 10, 0), &c, &CFG).is_empty());
}

#[test]
fn an_order_found_long_overdue_gets_both_levels_at_once() {
    let o = order(7, local(2026, 11, 23, 10, 0));
    let a = sweep(&[o], local(2026, 11, 27, 10, 0), &cal(), &CFG);
    assert_eq!(
        a.iter().map(|a| a.kind.clone()).collect::<Vec<_>>(),
        vec![
            SweepKind::Escalate { level: 1 },
            SweepKind::Escalate { level: 2 }
        ]
    );
    assert!(a.iter().all(|a| a.version == 1 && a.order_id == 7));
}

#[test]
fn a_moved_deadline_arms_the_notice_again() {
    let first = local(2026, 11, 27, 17, 30);
    let c = cal();
    let mut o = order(1, first);
    let at = local(2026, 11, 27, 16, 45);
    let a = sweep(std::slice::from_ref(&o), at, &c, &CFG);
    assert_eq!(a.len(), 1);
    apply(&mut o, &a, at);
    assert!(sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 27, 17, 0),
        &c,
        &CFG
    )
    .is_empty());
    // Extended (or paused and resumed) to Monday 17:30: the notice goes out again then.
    o.deadline = Some(local(2026, 11, 30, 17, 30));
    o.version += 1;
    assert!(sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 30, 16, 0),
        &c,
        &CFG
    )
    .is_empty());
    let again = sweep(
        std::slice::from_ref(&o),
        local(2026, 11, 30, 16, 30),
        &c,
        &CFG,
    );
    assert_eq!(
        kinds(&again),
        vec![("near_deadline", "department:sanitation".into())]
    );
    // Moved a little (still inside the window the notice covered): no second notice.
    let mut nudged = order(2, first);
    nudged.near_deadline_notified_at = Some(at);
    nudged.deadline = Some(local(2026, 11, 30, 9, 10));
    assert!(sweep(&[nudged], local(2026, 11, 30, 9, 0), &c, &CFG).is_empty());
}

#[test]
fn paused_closed_and_undated_orders_are_left_alone() {
    let deadline = local(2026, 11, 23, 10, 0);
    let now = local(2026, 11, 27, 10, 0);
    let mut orders = vec![];
    for (i, status) in [
        "verifying",
        "returned",
        "parked",
        "closed",
        "rejected",
        "merged",
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = order(i as i64, deadline);
        o.status = status.into();
        orders.push(o);
    }
    let mut paused = order(10, deadline);
    paused.paused_at = Some(local(2026, 11, 23, 9, 0));
    orders.push(paused);
    let mut undated = order(11, deadline);
    undated.deadline = None;
    orders.push(undated);
    assert!(sweep(&orders, now, &cal(), &CFG).is_empty());
    // The same orders running: every one escalates.
    for o in &mut orders {
        o.status = "accepted".into();
        o.paused_at = None;
        o.deadline = Some(deadline);
    }
    assert_eq!(sweep(&orders, now, &cal(), &CFG).len(), 2 * orders.len());
}

#[test]
fn who_is_told() {
    let deadline = local(2026, 11, 27, 17, 0);
    let now = local(2026, 11, 27, 17, 5);
    let mut received = order(1, deadline);
    received.status = "received".into();
    received.department_id = None;
    let mut handled = order(2, deadline);
    handled.status = "handled".into();
    let accepted = OrderDeadlineFacts {
        status: "accepted".into(),
        ..order(3, deadline)
    };
    let a = sweep(&[received, handled, accepted], now, &cal(), &CFG);
    assert_eq!(
        kinds(&a),
        vec![
            ("overdue", "centre".into()),
            ("overdue", "centre".into()),
            ("overdue", "department:sanitation".into()),
        ]
    );
}

#[test]
fn a_week_minute_by_minute_gives_each_notice_once() {
    // Orders due at different times of one week; swept every minute for ten days with the
    // actions applied: one near-deadline notice, one overdue, one escalated each.
    let c = cal();
    let start = local(2026, 11, 23, 8, 0);
    let mut orders: Vec<_> = (0..12)
        .map(|i| order(i, start + chrono::Duration::minutes(37 + i * 311)))
        .collect();
    let mut counts = std::collections::BTreeMap::<(i64, &str), u32>::new();
    let mut now = start;
    while now < start + chrono::Duration::days(10) {
        let actions = sweep(&orders, now, &c, &CFG);
        for a in &actions {
            *counts.entry((a.order_id, a.notification.kind)).or_default() += 1;
        }
        for o in &mut orders {
            apply(o, &actions, now);
        }
        now += chrono::Duration::minutes(1);
    }
    for o in &orders {
        for kind in ["near_deadline", "overdue", "escalated"] {
            assert_eq!(counts.get(&(o.id, kind)), Some(&1), "order {} {kind}", o.id);
        }
        assert_eq!(o.escalation_level, 2);
    }
}

#[test]
fn ten_thousand_orders_in_milliseconds() {
    let c = cal_with_holiday();
    let now = local(2026, 11, 27, 16, 0);
    let orders: Vec<_> = (0..10_000)
        .map(|i| {
            let mut o = order(i, now + chrono::Duration::minutes(i % 4000 - 3000));
            o.escalation_level = (i % 3) as i32;
            o
        })
        .collect();
    let t = Instant::now();
    let actions = sweep(&orders, now, &c, &CFG);
    let took = t.elapsed();
    eprintln!(
        "sweep of {} orders: {} actions in {took:?}",
        orders.len(),
        actions.len()
    );
    assert!(!actions.is_empty());
    assert!(took.as_millis() < 1000, "took {took:?}");
}

#[test]
fn the_candidate_window_covers_every_decision() {
    // Whatever the sweeper acts on is inside the window the store reads.
    let c = cal_with_holiday();
    for now in [
        local(2026, 11, 27, 16, 0),
        local(2026, 11, 28, 12, 0),
        local(2026, 11, 30, 10, 0),
        local(2026, 12, 1, 8, 0),
    ] {
        let w = CandidateWindow::at(now, &c, &CFG);
        let orders: Vec<_> = (0..2000)
            .map(|i| {
                let mut o = order(i, now + chrono::Duration::minutes(i * 7 - 9000));
                o.escalation_level = (i % 2) as i32;
                o
            })
            .collect();
        for a in sweep(&orders, now, &c, &CFG) {
            let o = &orders[a.order_id as usize];
            let d = o.deadline.unwrap();
            assert!(d <= w.upper);
            assert!(d >= now || o.escalation_level == 0 || d <= w.leaders_cutoff);
        }
    }
}
