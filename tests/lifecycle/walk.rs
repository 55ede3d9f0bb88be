//! A long seeded random walk over many orders, checking each outcome against the hand-written
//! tables and the invariants of every change and of every order's history.

use chrono::{DateTime, TimeDelta, Utc};
use hotline::cases::calendar::WorkingCalendar;
use hotline::cases::lifecycle::{
    apply, Actor, Command, Context, FollowUpResult, OrderFacts, Status, TransitionError, ACTIONS,
};
use hotline::config::Role;

use crate::support::{expected, expected_allowed, role_may, s, utc, ROLES, ROLE_TABLE};

/// Status edges an order may move along (extend and follow_up keep the status).
#[rustfmt::skip]
const EDGES: [(Status, Status); 27] = [
    (Status::Received,   Status::Verifying),
    (Status::Verifying,  Status::Received),
    (Status::Dispatched, Status::Accepted),
    (Status::Accepted,   Status::Returned),
    (Status::Accepted,   Status::Handled),
    (Status::Registered, Status::Parked),
    (Status::Dispatched, Status::Parked),
    (Status::Accepted,   Status::Parked),
    (Status::Returned,   Status::Parked),
    (Status::Parked,     Status::Registered),
    (Status::Parked,     Status::Dispatched),
    (Status::Parked,     Status::Accepted),
    (Status::Parked,     Status::Returned),
    (Status::Received,   Status::Registered),
    (Status::Received,   Status::Rejected),
    (Status::Received,   Status::Merged),
    (Status::Registered, Status::Dispatched),
    (Status::Registered, Status::Closed),
    (Status::Registered, Status::Merged),
    (Status::Dispatched, Status::Returned),
    (Status::Dispatched, Status::Handled),
    (Status::Dispatched, Status::Merged),
    (Status::Returned,   Status::Dispatched),
    (Status::Returned,   Status::Merged),
    (Status::Handled,    Status::Dispatched),
    (Status::Handled,    Status::Verified),
    (Status::Verified,   Status::Closed),
];

/// A tiny 64-bit LCG (Knuth's MMIX constants); fixed seed, reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The test's model of an order.
#[derive(Debug, Clone)]
struct Model {
    facts: OrderFacts,
    /// Every status the order has been in, in order.
    history: Vec<Status>,
    closed_at: Option<DateTime<Utc>>,
    resolved_at_intake: bool,
    merged_into: Option<i64>,
}

impl Model {
    fn new(id: i64, deadline: Option<DateTime<Utc>>) -> Self {
        Model {
            facts: OrderFacts {
                request_type: "complaint".into(),
                deadline,
                // Every other order comes from a field inspector.
                reporting_inspector: (id % 2 == 0).then(|| format!("inspector-{id}")),
                ..OrderFacts::new(id, Status::Received)
            },
            history: vec![Status::Received],
            closed_at: None,
            resolved_at_intake: false,
            merged_into: None,
        }
    }
}

const DEPARTMENTS: [&str; 3] = ["sanitation", "roads", "housing"];

fn text(rng: &mut Lcg, word: &str) -> String {
    match rng.below(10) {
        0 => s(""),
        1 => s("  "),
        _ => s(word),
    }
}

fn opt_text(rng: &mut Lcg, word: &str) -> Option<String> {
    match rng.below(4) {
        0 => None,
        1 => Some(s(" ")),
        _ => Some(s(word)),
    }
}

fn random_command(rng: &mut Lcg, action: &str, n_orders: usize) -> Command {
    match action {
        "register" => Command::Register {
            category_id: opt_text(rng, "E0101"),
            note: opt_text(rng, "ok"),
            criteria_met: rng.chance(50).then(|| rng.chance(50)),
        },
        "request_verification" => Command::RequestVerification {
            inspector: opt_text(rng, "inspector-07"),
            note: opt_text(rng, "check"),
        },
        "report_verification" => Command::ReportVerification {
            confirmed: rng.chance(70),
            note: opt_text(rng, "seen"),
        },
        "accept" => Command::Accept {
            note: opt_text(rng, "taken"),
        },
        "park" => Command::Park {
            reason: text(rng, "no budget"),
        },
        "unpark" => Command::Unpark {
            note: opt_text(rng, "budget"),
        },
        "reject" => Command::Reject {
            reason: text(rng, "prank call"),
        },
        "dispatch" => Command::Dispatch {
            department: match rng.below(10) {
                0 => Some(s(" ")),
                1 => None,
                _ => Some(s(rng.pick(&DEPARTMENTS))),
            },
            note: opt_text(rng, "go"),
        },
        "return_order" => Command::ReturnOrder {
            reason: text(rng, "not ours"),
        },
        "handle" => Command::Handle {
            result: text(rng, "done"),
        },
        "rework" => Command::Rework {
            reason: text(rng, "not done"),
        },
        "verify" => Command::Verify {
            note: opt_text(rng, "ok"),
        },
        "close" => Command::Close {
            note: opt_text(rng, "answered"),
        },
        "extend" => Command::Extend {
            working_days: match rng.below(10) {
                0 => 0,
                1 => 366 + rng.below(100) as u32,
                2 => 365,
                _ => 1 + rng.below(20) as u32,
            },
            reason: text(rng, "waiting"),
        },
        "merge" => Command::Merge {
            into: (1 + rng.below(n_orders)).to_string(),
            note: opt_text(rng, "duplicate"),
        },
        "follow_up" => Command::FollowUp {
            result: rng.pick(&[
                FollowUpResult::Satisfied,
                FollowUpResult::BasicallySatisfied,
                FollowUpResult::Dissatisfied,
                FollowUpResult::Unreachable,
                FollowUpResult::Unreachable,
            ]),
            note: opt_text(rng, "called"),
        },
        other => panic!("unknown action {other}"),
    }
}

/// The field the test expects a command to be refused for, once role and status are fine.
fn expected_invalid(
    o: &OrderFacts,
    c: &Command,
    target: Option<&OrderFacts>,
) -> Option<&'static str> {
    let blank = |v: &str| v.trim().is_empty();
    let blank_opt = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    match c {
        Command::Register { .. }
        | Command::Verify { .. }
        | Command::ReportVerification { .. }
        | Command::Accept { .. }
        | Command::Unpark { .. } => None,
        Command::RequestVerification { inspector, .. } => {
            (blank_opt(inspector) && o.reporting_inspector.is_none()).then_some("inspector")
        }
        Command::Park { reason } => blank(reason).then_some("reason"),
        Command::Reject { reason }
        | Command::ReturnOrder { reason }
        | Command::Rework { reason } => blank(reason).then_some("reason"),
        // The walk's context routes nothing: a department must be named.
        Command::Dispatch { department, .. } => blank_opt(department).then_some("department"),
        Command::Handle { result } => blank(result).then_some("result"),
        Command::Close { note } => {
            (o.status == Status::Registered && blank_opt(note)).then_some("note")
        }
        Command::Extend {
            working_days,
            reason,
        } => {
            if !(1..=365).contains(working_days) {
                Some("working_days")
            } else {
                blank(reason).then_some("reason")
            }
        }
        Command::Merge { .. } => match target {
            None => Some("into"),
            Some(t) if t.id == o.id => Some("into"),
            Some(t) if matches!(t.status, Status::Merged | Status::Rejected) => Some("into"),
            Some(_) => None,
        },
        Command::FollowUp { .. } => match o.follow_up_result {
            None | Some(FollowUpResult::Unreachable) => None,
            Some(_) => Some("result"),
        },
    }
}

#[test]
fn random_walk_keeps_the_invariants() {
    let calendar = WorkingCalendar::china_default();
    let mut rng = Lcg(0x1234_5678_9abc_def0);
    let start = utc("2026-03-02T01:00:00Z"); // Monday 09:00 +08:00
    let mut orders: Vec<Model> = (1..=12)
        .map(|id| Model::new(id, (id % 3 != 0).then(|| start + TimeDelta::days(id))))
        .collect();
    let edges: std::collections::HashSet<(Status, Status)> = EDGES.into_iter().collect();
    let mut ok_by_action = std::collections::BTreeMap::<&str, u32>::new();
    let mut outcomes = [0u32; 4]; // ok, forbidden, not allowed, invalid

    for step in 0..10_000u32 {
        let now = start + TimeDelta::minutes(17 * i64::from(step));
        // New orders keep arriving, so there is always something open to work on.
        if rng.chance(3) {
            let id = orders.len() as i64 + 1;
            let deadline = rng
                .chance(70)
                .then(|| now + TimeDelta::hours(rng.below(200) as i64));
            orders.push(Model::new(id, deadline));
        }
        let i = rng.below(orders.len());
        // Mostly an action the order's status allows, sometimes any action.
        let status = orders[i].facts.status;
        let allowed = expected_allowed(status);
        let action = if !allowed.is_empty() && rng.chance(75) {
            rng.pick(&allowed)
        } else {
            rng.pick(&ACTIONS)
        };
        let role = if rng.chance(60) {
            rng.pick(ROLE_TABLE.iter().find(|(a, _)| *a == action).unwrap().1)
        } else {
            rng.pick(&ROLES)
        };
        let department = match role {
            Role::Department => match rng.below(10) {
                0 => None,
                1..=6 => orders[i].facts.department_id.clone(),
                _ => Some(s(rng.pick(&DEPARTMENTS))),
            },
            _ => None,
        };
        // An inspector is mostly the one the order is assigned to.
        let name = match (&orders[i].facts.assignee, role) {
            (Some(a), Role::Inspector) if rng.chance(80) => a.clone(),
            _ => s("walker"),
        };
        let who = Actor {
            name,
            role,
            department,
        };
        let c = random_command(&mut rng, action, orders.len());
        let target = match &c {
            Command::Merge { into, .. } if !rng.chance(5) => {
                let id: i64 = into.parse().unwrap();
                Some(orders[(id - 1) as usize].facts.clone())
            }
            _ => None,
        };
        let before = orders[i].clone();
        let o = &before.facts;
        let result = apply(
            o,
            &c,
            &who,
            &Context {
                merge_target: target.as_ref(),
                ..Context::new(now, &calendar)
            },
        );

        // The outcome the hand-written tables predict.
        let ctx = format!("step {step}: {role:?} {c:?} on {o:?}");
        if !role_may(role, action) {
            assert_eq!(
                result,
                Err(TransitionError::Forbidden {
                    action,
                    role: role.as_str()
                }),
                "{ctx}"
            );
            outcomes[1] += 1;
            continue;
        }
        // Ownership before status: a department learns nothing about others' orders.
        if role == Role::Department
            && (who.department.is_none() || who.department != o.department_id)
        {
            assert!(
                matches!(result, Err(TransitionError::Forbidden { .. })),
                "{ctx}: {result:?}"
            );
            outcomes[1] += 1;
            continue;
        }
        // Assignment before status: an inspector acts only on its own tasks.
        if role == Role::Inspector && o.assignee.as_deref() != Some(who.name.as_str()) {
            assert!(
                matches!(result, Err(TransitionError::Forbidden { .. })),
                "{ctx}: {result:?}"
            );
            outcomes[1] += 1;
            continue;
        }
        let Some(to) = expected(o.status, action) else {
            assert_eq!(
                result,
                Err(TransitionError::NotAllowed {
                    action,
                    status: o.status,
                    allowed: expected_allowed(o.status),
                }),
                "{ctx}"
            );
            outcomes[2] += 1;
            continue;
        };
        if let Some(field) = expected_invalid(o, &c, target.as_ref()) {
            assert!(
                matches!(&result, Err(TransitionError::Invalid { field: f, .. }) if *f == field),
                "{ctx}: expected Invalid {field}, got {result:?}"
            );
            outcomes[3] += 1;
            continue;
        }
        let ch = result.unwrap_or_else(|e| panic!("{ctx}: refused: {e}"));
        outcomes[0] += 1;
        *ok_by_action.entry(action).or_default() += 1;
        if action == "unpark" {
            assert_eq!(ch.to, o.parked_from, "{ctx}: back where it was parked from");
        } else {
            assert_eq!(ch.to, to, "{ctx}");
        }

        // Invariants of the change itself.
        if let Some(new) = ch.to {
            assert!(
                edges.contains(&(o.status, new)),
                "{ctx}: edge {} → {new}",
                o.status
            );
        }
        assert!(
            o.status.is_open() || ch.to.is_none(),
            "{ctx}: a finished order was reopened"
        );
        let finishing = matches!(
            ch.to,
            Some(Status::Closed | Status::Rejected | Status::Merged)
        );
        assert_eq!(ch.closed_at, finishing.then_some(now), "{ctx}");
        if ch.to == Some(Status::Closed) {
            let via_verify = o.status == Status::Verified && !ch.resolved_at_intake;
            let at_intake = o.status == Status::Registered && ch.resolved_at_intake;
            assert!(
                via_verify || at_intake,
                "{ctx}: closed without verification"
            );
            if at_intake {
                assert!(ch.note.is_some(), "{ctx}");
            }
        } else {
            assert!(!ch.resolved_at_intake, "{ctx}");
        }
        if let (Some(old), Some(new)) = (o.deadline, ch.deadline) {
            assert!(new > old, "{ctx}: deadline moved from {old} to {new}");
        }
        if let Some(new) = ch.deadline {
            // Only an extension or the end of a pause moves the deadline.
            let resumed = o.status.pauses_clock() && !ch.to.unwrap_or(o.status).pauses_clock();
            assert!(action == "extend" || resumed, "{ctx}");
            if resumed && action != "extend" {
                assert!(
                    ch.data["paused_working_minutes"].as_i64().unwrap() > 0,
                    "{ctx}"
                );
            }
            assert!(new > o.deadline.unwrap_or(now), "{ctx}");
        }
        // The clock: paused exactly while verifying, returned or parked.
        let after = ch.to.unwrap_or(o.status);
        match (o.status.pauses_clock(), after.pauses_clock()) {
            (false, true) => assert_eq!(ch.paused_at, Some(Some(now)), "{ctx}"),
            (true, false) => assert_eq!(ch.paused_at, Some(None), "{ctx}"),
            _ => assert_eq!(ch.paused_at, None, "{ctx}"),
        }
        if let Some(into) = ch.merged_into {
            let t = target.as_ref().unwrap();
            assert_eq!(into, t.id);
            assert_ne!(into, o.id);
            assert!(!matches!(t.status, Status::Merged | Status::Rejected));
        }
        if ch.department_id.is_some() {
            assert_eq!(ch.to, Some(Status::Dispatched));
        }

        // Apply the change to the model.
        let m = &mut orders[i];
        if let Some(new) = ch.to {
            m.facts.status = new;
            m.history.push(new);
        }
        if let Some(d) = ch.department_id {
            m.facts.department_id = Some(d);
        }
        if let Some(d) = ch.deadline {
            m.facts.deadline = Some(d);
        }
        if let Some(a) = ch.assignee {
            m.facts.assignee = a;
        }
        if let Some(p) = ch.paused_at {
            m.facts.paused_at = p;
        }
        if let Some(p) = ch.parked_from {
            m.facts.parked_from = p;
        }
        if let Some(r) = ch.follow_up_result {
            m.facts.follow_up_result = Some(r);
        }
        if ch.closed_at.is_some() {
            assert_eq!(m.closed_at, None, "{ctx}: closed twice");
            m.closed_at = ch.closed_at;
        }
        m.resolved_at_intake |= ch.resolved_at_intake;
        if ch.merged_into.is_some() {
            m.merged_into = ch.merged_into;
        }
    }

    // Invariants of every order's history.
    let mut closed = [0u32; 2]; // via verification, at intake
    for m in &orders {
        let h = &m.history;
        for pair in h.windows(2) {
            assert!(edges.contains(&(pair[0], pair[1])), "{h:?}");
        }
        if let Some(pos) = h.iter().position(|s| !s.is_open()) {
            assert_eq!(pos, h.len() - 1, "a finished order moved on: {h:?}");
            assert!(m.closed_at.is_some());
        } else {
            assert!(m.closed_at.is_none());
        }
        if m.facts.status == Status::Closed {
            if m.resolved_at_intake {
                assert_eq!(h[h.len() - 2], Status::Registered, "{h:?}");
                assert!(!h.contains(&Status::Dispatched), "{h:?}");
                closed[1] += 1;
            } else {
                assert!(h.contains(&Status::Verified), "{h:?}");
                assert_eq!(h[h.len() - 2], Status::Verified);
                closed[0] += 1;
            }
        }
        if m.facts.status == Status::Merged {
            assert!(m.merged_into.is_some());
        } else {
            assert!(m.merged_into.is_none());
        }
        assert_eq!(
            m.facts.paused_at.is_some(),
            m.facts.status.pauses_clock(),
            "{h:?}"
        );
        assert_eq!(
            m.facts.parked_from.is_some(),
            m.facts.status == Status::Parked,
            "{h:?}"
        );
        if m.facts.follow_up_result.is_some() {
            assert_eq!(m.facts.status, Status::Closed);
        }
    }

    // The walk really explored the machine.
    for action in ACTIONS {
        assert!(
            ok_by_action.get(action).copied().unwrap_or(0) >= 10,
            "{action} succeeded only {:?} times: {ok_by_action:?}",
            ok_by_action.get(action)
        );
    }
    assert!(outcomes.iter().all(|n| *n >= 50), "{outcomes:?}");
    assert!(closed[0] >= 5 && closed[1] >= 5, "{closed:?}");
    for st in Status::ALL {
        assert!(
            orders.iter().any(|m| m.history.contains(&st)),
            "no order was ever {st}"
        );
    }
}
