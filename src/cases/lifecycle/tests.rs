//! Order-level tests of the deadline clock with a real calendar (weekends and a public
//! holiday): pauses while verifying, returned or parked move the deadline by exactly the
//! working minutes paused; and a working-hours deadline across a holiday.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::cases::calendar::{DeadlineRule, WorkingCalendar};
use crate::cases::deadline::DeadlinePolicy;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// 09:00-12:00 and 13:30-17:30 (+08:00), Monday 2026-03-09 a public holiday.
fn calendar() -> WorkingCalendar {
    let mut c = WorkingCalendar::china_default();
    c.holidays
        .insert(NaiveDate::from_ymd_opt(2026, 3, 9).unwrap());
    c
}

fn supervisor() -> Actor {
    Actor {
        name: "lead".into(),
        role: Role::Supervisor,
        department: None,
    }
}

fn dispatched(deadline: DateTime<Utc>) -> OrderFacts {
    OrderFacts {
        department_id: Some("roads".into()),
        deadline: Some(deadline),
        request_type: "urban-management".into(),
        category_id: Some("E0402".into()),
        ..OrderFacts::new(7, Status::Dispatched)
    }
}

/// Runs `cmd` on `order` at `now`, and returns the change and the order as it leaves it.
fn step(
    order: &OrderFacts,
    cmd: Command,
    now: &str,
    cal: &WorkingCalendar,
) -> (Change, OrderFacts) {
    let ctx = Context {
        routed_department: Some("roads"),
        ..Context::new(utc(now), cal)
    };
    let ch = apply(order, &cmd, &supervisor(), &ctx).unwrap();
    let mut next = order.clone();
    next.status = ch.to.unwrap_or(order.status);
    next.deadline = ch.deadline.or(order.deadline);
    if let Some(p) = ch.paused_at {
        next.paused_at = p;
    }
    if let Some(p) = ch.parked_from {
        next.parked_from = p;
    }
    if let Some(a) = &ch.assignee {
        next.assignee = a.clone();
    }
    if let Some(d) = &ch.department_id {
        next.department_id = Some(d.clone());
    }
    (ch, next)
}

#[test]
fn returned_friday_and_redispatched_after_weekend_and_holiday() {
    let cal = calendar();
    // Due Wednesday 2026-03-11 17:30 +08:00.
    let o = dispatched(utc("2026-03-11T09:30:00Z"));
    // Returned Friday 2026-03-06 16:00 +08:00: the clock stops.
    let (ch, o) = step(
        &o,
        Command::ReturnOrder {
            reason: "not ours".into(),
        },
        "2026-03-06T08:00:00Z",
        &cal,
    );
    assert_eq!(ch.paused_at, Some(Some(utc("2026-03-06T08:00:00Z"))));
    assert_eq!(ch.deadline, None, "returning does not move the deadline");
    // Re-dispatched Tuesday 10:00 (Saturday, Sunday and the Monday holiday in between).
    let (ch, o) = step(
        &o,
        Command::Dispatch {
            department: Some("sanitation".into()),
            note: None,
        },
        "2026-03-10T02:00:00Z",
        &cal,
    );
    // Paused: Friday 16:00-17:30 (90) + Tuesday 09:00-10:00 (60) = 150 working minutes.
    assert_eq!(ch.data["paused_working_minutes"], 150);
    assert_eq!(
        cal.working_minutes_between(utc("2026-03-06T08:00:00Z"), utc("2026-03-10T02:00:00Z")),
        150
    );
    // Wednesday 17:30 + 150 working minutes = Thursday 11:30 +08:00.
    assert_eq!(o.deadline, Some(utc("2026-03-12T03:30:00Z")));
    assert_eq!(
        ch.data["deadline"],
        serde_json::json!(utc("2026-03-12T03:30:00Z"))
    );
    assert_eq!(ch.paused_at, Some(None));
    assert_eq!(o.paused_at, None);
}

#[test]
fn parked_order_resumes_where_it_was_with_the_deadline_moved() {
    let cal = calendar();
    let o = dispatched(utc("2026-03-16T09:30:00Z"));
    // Parked Thursday 2026-03-05 10:00, unparked Tuesday 2026-03-10 10:00:
    // Thu 10-12 + 13:30-17:30 (360) + Fri (420) + Tue 9-10 (60) = 840.
    let (ch, o) = step(
        &o,
        Command::Park {
            reason: "waits for the spring budget".into(),
        },
        "2026-03-05T02:00:00Z",
        &cal,
    );
    assert_eq!(ch.to, Some(Status::Parked));
    assert_eq!(ch.parked_from, Some(Some(Status::Dispatched)));
    assert_eq!(o.paused_at, Some(utc("2026-03-05T02:00:00Z")));
    let (ch, o) = step(
        &o,
        Command::Unpark { note: None },
        "2026-03-10T02:00:00Z",
        &cal,
    );
    assert_eq!(ch.to, Some(Status::Dispatched));
    assert_eq!(ch.parked_from, Some(None));
    assert_eq!(ch.data["paused_working_minutes"], 840);
    assert_eq!(
        o.deadline,
        Some(cal.add_working_minutes(utc("2026-03-16T09:30:00Z"), 840))
    );
    // Monday 16 17:30 + 840 min (two working days of 420) = Wednesday 18 17:30.
    assert_eq!(o.deadline, Some(utc("2026-03-18T09:30:00Z")));
}

#[test]
fn park_while_returned_keeps_the_first_pause() {
    let cal = calendar();
    let o = dispatched(utc("2026-03-16T09:30:00Z"));
    let (_, o) = step(
        &o,
        Command::ReturnOrder {
            reason: "wrong department".into(),
        },
        "2026-03-05T02:00:00Z",
        &cal,
    );
    let (ch, o) = step(
        &o,
        Command::Park {
            reason: "ownership disputed".into(),
        },
        "2026-03-06T02:00:00Z",
        &cal,
    );
    assert_eq!(ch.paused_at, None, "still paused since the return");
    assert_eq!(o.paused_at, Some(utc("2026-03-05T02:00:00Z")));
    let (ch, o) = step(
        &o,
        Command::Unpark { note: None },
        "2026-03-06T03:00:00Z",
        &cal,
    );
    assert_eq!(ch.to, Some(Status::Returned));
    assert_eq!(ch.paused_at, None, "returned still pauses");
    let (ch, _) = step(
        &o,
        Command::Dispatch {
            department: None,
            note: None,
        },
        "2026-03-10T01:00:00Z",
        &cal,
    );
    // Thu 10:00 → Tue 09:00: Thu 360 + Fri 420 + the holiday 0 = 780.
    assert_eq!(ch.data["paused_working_minutes"], 780);
    assert_eq!(
        ch.department_id.as_deref(),
        Some("roads"),
        "from the routing table"
    );
}

#[test]
fn verification_pauses_the_clock_of_a_received_order() {
    let cal = calendar();
    let o = OrderFacts {
        deadline: Some(utc("2026-03-06T09:30:00Z")),
        reporting_inspector: Some("inspector-01".into()),
        ..OrderFacts::new(3, Status::Received)
    };
    let (ch, o) = step(
        &o,
        Command::RequestVerification {
            inspector: None,
            note: None,
        },
        "2026-03-06T06:00:00Z", // Friday 14:00
        &cal,
    );
    assert_eq!(o.assignee.as_deref(), Some("inspector-01"));
    assert_eq!(ch.notifications.len(), 1);
    assert_eq!(ch.notifications[0].recipient, "inspector:inspector-01");
    let (ch, o) = step(
        &o,
        Command::ReportVerification {
            confirmed: true,
            note: None,
        },
        "2026-03-10T01:30:00Z", // Tuesday 09:30
        &cal,
    );
    // Friday 14:00-17:30 (210) + Tuesday 09:00-09:30 (30).
    assert_eq!(ch.data["paused_working_minutes"], 240);
    assert_eq!(ch.data["confirmed"], true);
    // Friday 17:30 + 240 min = Tuesday 13:30 + 60 → 14:30 (3 h before lunch, 1 h after).
    assert_eq!(o.deadline, Some(utc("2026-03-10T06:30:00Z")));
}

#[test]
fn working_hours_deadline_across_a_holiday() {
    let policy = DeadlinePolicy {
        calendar: calendar(),
        by_type: BTreeMap::new(),
        by_category: BTreeMap::new(),
    };
    // Exposed rubbish, 8 working hours, received Friday 2026-03-06 14:00 +08:00:
    // Friday 14:00-17:30 (3.5 h), Monday is a holiday, Tuesday 09:00-12:00 (3 h),
    // 13:30-15:00 (1.5 h) → Tuesday 15:00.
    let received = utc("2026-03-06T06:00:00Z");
    assert_eq!(
        policy.rule("urban-management", Some("E0101"), Some(8)),
        Some(DeadlineRule::WorkingHours(8))
    );
    assert_eq!(
        policy.deadline("urban-management", Some("E0101"), Some(8), received),
        Some(utc("2026-03-10T07:00:00Z"))
    );
    // Without the holiday, Monday 15:00.
    let plain = DeadlinePolicy {
        calendar: WorkingCalendar::china_default(),
        ..policy
    };
    assert_eq!(
        plain.deadline("urban-management", Some("E0101"), Some(8), received),
        Some(utc("2026-03-09T07:00:00Z"))
    );
}

#[test]
fn leaving_a_pause_without_a_deadline_moves_nothing() {
    let cal = calendar();
    let o = OrderFacts {
        status: Status::Returned,
        paused_at: Some(utc("2026-03-05T02:00:00Z")),
        department_id: Some("roads".into()),
        ..OrderFacts::new(9, Status::Returned)
    };
    let (ch, o) = step(
        &o,
        Command::Dispatch {
            department: Some("roads".into()),
            note: None,
        },
        "2026-03-05T03:00:00Z",
        &cal,
    );
    assert_eq!(ch.data["paused_working_minutes"], 60);
    assert_eq!(o.deadline, None);
    assert_eq!(o.paused_at, None);
}
