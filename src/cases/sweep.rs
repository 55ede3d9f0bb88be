//! The deadline sweeper's decisions (pure: facts and now in, actions out). For each open order
//! whose deadline clock runs, it decides whether the order is near its deadline (a
//! `near_deadline` notice, once per deadline), just overdue (escalation level 1: an `escalate`
//! event and an `overdue` notice) or overdue for long (level 2: an event and an `escalated`
//! notice to the leaders). The store selects the candidates ([`CandidateWindow`]) and applies
//! the actions; the task that runs it every `sweep_secs` lives in `cases::notify`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::calendar::WorkingCalendar;
use super::store::NewNotification;
use crate::config::UrbanConfig;

/// Statuses whose deadline clock runs. Closed, rejected and merged orders are over; verifying,
/// returned and parked orders have their clock paused (so are never swept).
pub const SWEPT_STATUSES: &[&str] = &[
    "received",
    "registered",
    "dispatched",
    "accepted",
    "handled",
    "verified",
];

/// Statuses in which the order is with its department (the department is told); otherwise the
/// command centre is (a handled order waits for the centre's verification and closure).
const WITH_DEPARTMENT: &[&str] = &["dispatched", "accepted"];

/// What the sweeper knows of an order.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderDeadlineFacts {
    pub id: i64,
    pub number: String,
    /// The order's version when read: the action is applied only if it is unchanged.
    pub version: i64,
    /// As stored (snake_case).
    pub status: String,
    pub title: Option<String>,
    pub category_id: Option<String>,
    pub department_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    /// 0 none, 1 overdue (department warned), 2 overdue long (leaders warned).
    pub escalation_level: i32,
    pub near_deadline_notified_at: Option<DateTime<Utc>>,
}

/// The sweeper's settings (from `[urban]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// Near deadline: the deadline is at most this much working time away.
    pub near_deadline_working_minutes: u32,
    /// Level 2: overdue by at least this much working time.
    pub escalate_leaders_after_working_hours: u32,
}

impl SweepConfig {
    pub fn from_urban(u: &UrbanConfig) -> Self {
        SweepConfig {
            near_deadline_working_minutes: u.near_deadline_working_minutes,
            escalate_leaders_after_working_hours: u.escalate_leaders_after_working_hours,
        }
    }

    fn leaders_after_minutes(&self) -> i64 {
        i64::from(self.escalate_leaders_after_working_hours) * 60
    }
}

/// What to do to one order.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepKind {
    /// Set `near_deadline_notified_at` to now.
    NearDeadline,
    /// Raise `escalation_level` to `level` and record an `escalate` event {level, deadline}.
    Escalate { level: i32 },
}

/// One decision of the sweeper; an order can get two (levels 1 and 2 at once, after a stop).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAction {
    pub order_id: i64,
    /// The version the decision was made on.
    pub version: i64,
    /// The status the decision was made in.
    pub status: String,
    /// The deadline the decision is about.
    pub deadline: DateTime<Utc>,
    pub kind: SweepKind,
    pub notification: NewNotification,
}

/// The deadlines worth reading at `now`: orders due at or before `upper` (near or past their
/// deadline), except those at level 1 due after `leaders_cutoff` (they cannot reach level 2 yet:
/// working time never runs faster than the clock) and those at level 2 already past due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateWindow {
    pub now: DateTime<Utc>,
    pub upper: DateTime<Utc>,
    pub leaders_cutoff: DateTime<Utc>,
}

impl CandidateWindow {
    pub fn at(now: DateTime<Utc>, calendar: &WorkingCalendar, cfg: &SweepConfig) -> Self {
        CandidateWindow {
            now,
            upper: calendar.add_working_minutes(now, cfg.near_deadline_working_minutes),
            leaders_cutoff: now
                .checked_sub_signed(TimeDelta::minutes(cfg.leaders_after_minutes()))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// Decides what to do to `orders` at `now`. Orders not swept (closed, paused, without a
/// deadline) get nothing; a level is never given twice and never goes down; a near-deadline
/// notice goes out once per deadline (a deadline moved later than the notice's window arms it
/// again).
pub fn sweep(
    orders: &[OrderDeadlineFacts],
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
    cfg: &SweepConfig,
) -> Vec<SweepAction> {
    let window = CandidateWindow::at(now, calendar, cfg);
    let mut actions = Vec::new();
    for o in orders {
        decide(o, &window, calendar, cfg, &mut actions);
    }
    actions
}

fn decide(
    o: &OrderDeadlineFacts,
    window: &CandidateWindow,
    calendar: &WorkingCalendar,
    cfg: &SweepConfig,
    out: &mut Vec<SweepAction>,
) {
    let Some(deadline) = o.deadline else { return };
    if o.paused_at.is_some() || !SWEPT_STATUSES.contains(&o.status.as_str()) {
        return;
    }
    let now = window.now;
    let action = |kind: SweepKind, notice: &'static str, recipient: String, extra| SweepAction {
        order_id: o.id,
        version: o.version,
        status: o.status.clone(),
        deadline,
        kind,
        notification: NewNotification {
            kind: notice,
            recipient,
            work_order_id: Some(o.id),
            payload: payload(o, deadline, extra),
        },
    };
    // Late only once the deadline is past (at the deadline itself, the order is still on time).
    if deadline >= now {
        if deadline <= window.upper && !notified_for(o, deadline, calendar, cfg) {
            let remaining = calendar.working_minutes_between(now, deadline);
            out.push(action(
                SweepKind::NearDeadline,
                "near_deadline",
                responsible(o),
                json!({ "remaining_working_minutes": remaining }),
            ));
        }
        return;
    }
    if o.escalation_level >= 2 {
        return;
    }
    let overdue = calendar.working_minutes_between(deadline, now);
    if o.escalation_level < 1 {
        out.push(action(
            SweepKind::Escalate { level: 1 },
            "overdue",
            responsible(o),
            json!({ "level": 1, "overdue_working_minutes": overdue }),
        ));
    }
    if overdue >= cfg.leaders_after_minutes() {
        out.push(action(
            SweepKind::Escalate { level: 2 },
            "escalated",
            "leaders".into(),
            json!({
                "level": 2,
                "overdue_working_minutes": overdue,
                "department_id": o.department_id,
            }),
        ));
    }
}

/// Whether the near-deadline notice already went out for this deadline: it did if, when it
/// went out, this deadline was within the near window.
fn notified_for(
    o: &OrderDeadlineFacts,
    deadline: DateTime<Utc>,
    calendar: &WorkingCalendar,
    cfg: &SweepConfig,
) -> bool {
    o.near_deadline_notified_at.is_some_and(|at| {
        deadline <= calendar.add_working_minutes(at, cfg.near_deadline_working_minutes)
    })
}

/// Who answers for the order now: its department while it is with the department, else the
/// command centre.
fn responsible(o: &OrderDeadlineFacts) -> String {
    match &o.department_id {
        Some(d) if WITH_DEPARTMENT.contains(&o.status.as_str()) => format!("department:{d}"),
        _ => "centre".into(),
    }
}

fn payload(
    o: &OrderDeadlineFacts,
    deadline: DateTime<Utc>,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut p = json!({
        "number": o.number,
        "title": o.title,
        "category_id": o.category_id,
        "status": o.status,
        "deadline": deadline,
    });
    if let (Some(p), serde_json::Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}
