//! The work-order lifecycle (`hotline::cases::lifecycle`) as a pure state machine, tested
//! exhaustively: every (status × action) and (role × action) pair against tables written out
//! by hand from the lifecycle diagram, every field rejection, the contents of each `Change`,
//! and a long seeded random walk checking the invariants. No clock reads: `now` is fixed.

use chrono::{DateTime, TimeDelta, Utc};
use hotline::cases::calendar::WorkingCalendar;
use hotline::cases::lifecycle::{
    allowed_actions, apply, Actor, Change, Command, Context, FollowUpResult, OrderFacts, Status,
    TransitionError, ACTIONS,
};
use hotline::config::Role;

// ----- hand-written expectations ---------------------------------------------------------------

/// The action columns of [`STATUS_TABLE`], in order.
const COLUMNS: [&str; 11] = [
    "register",
    "reject",
    "dispatch",
    "return_order",
    "handle",
    "rework",
    "verify",
    "close",
    "extend",
    "merge",
    "follow_up",
];

/// For each status and action: "-" = not allowed from this status, "=" = allowed and the status
/// stays, otherwise the status the order moves to. Written by hand from the lifecycle diagram.
#[rustfmt::skip]
const STATUS_TABLE: [(Status, [&str; 11]); 9] = [
    //                   register      reject      dispatch      return_order handle     rework        verify      close     extend merge     follow_up
    (Status::Received,   ["registered", "rejected", "-",          "-",         "-",       "-",          "-",        "-",      "-",   "merged", "-"]),
    (Status::Registered, ["-",          "-",        "dispatched", "-",         "-",       "-",          "-",        "closed", "=",   "merged", "-"]),
    (Status::Rejected,   ["-",          "-",        "-",          "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-"]),
    (Status::Dispatched, ["-",          "-",        "-",          "returned",  "handled", "-",          "-",        "-",      "=",   "merged", "-"]),
    (Status::Returned,   ["-",          "-",        "dispatched", "-",         "-",       "-",          "-",        "-",      "=",   "merged", "-"]),
    (Status::Handled,    ["-",          "-",        "-",          "-",         "-",       "dispatched", "verified", "-",      "=",   "-",      "-"]),
    (Status::Verified,   ["-",          "-",        "-",          "-",         "-",       "-",          "-",        "closed", "=",   "-",      "-"]),
    (Status::Closed,     ["-",          "-",        "-",          "-",         "-",       "-",          "-",        "-",      "-",   "-",      "="]),
    (Status::Merged,     ["-",          "-",        "-",          "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-"]),
];

/// Who may give each action (a department only on orders dispatched to it).
#[rustfmt::skip]
const ROLE_TABLE: [(&str, &[Role]); 11] = [
    ("register",     &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("reject",       &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("dispatch",     &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("return_order", &[Role::Department, Role::Supervisor, Role::Admin]),
    ("handle",       &[Role::Department, Role::Supervisor, Role::Admin]),
    ("rework",       &[Role::Supervisor, Role::Admin]),
    ("verify",       &[Role::Supervisor, Role::Admin]),
    ("close",        &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("extend",       &[Role::Supervisor, Role::Admin]),
    ("merge",        &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("follow_up",    &[Role::Agent, Role::Supervisor, Role::Admin]),
];

const ROLES: [Role; 5] = [
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Department,
    Role::Channel,
];

/// Status edges an order may move along (extend and follow_up keep the status).
#[rustfmt::skip]
const EDGES: [(Status, Status); 14] = [
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

/// What the hand-written table says about `action` from `status`: None = not allowed,
/// Some(None) = allowed, status unchanged, Some(Some(s)) = allowed, moves to s.
fn expected(status: Status, action: &str) -> Option<Option<Status>> {
    let col = COLUMNS
        .iter()
        .position(|a| *a == action)
        .expect("known action");
    let row = STATUS_TABLE
        .iter()
        .find(|(s, _)| *s == status)
        .expect("every status has a row");
    match row.1[col] {
        "-" => None,
        "=" => Some(None),
        to => Some(Some(to.parse().expect("a status name"))),
    }
}

/// The actions the hand-written table allows from `status`, in lifecycle order.
fn expected_allowed(status: Status) -> Vec<&'static str> {
    COLUMNS
        .into_iter()
        .filter(|a| expected(status, a).is_some())
        .collect()
}

fn role_may(role: Role, action: &str) -> bool {
    ROLE_TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .expect("known action")
        .1
        .contains(&role)
}

// ----- fixtures ---------------------------------------------------------------------------------

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Tuesday 2026-03-10 10:00 +08:00.
fn now() -> DateTime<Utc> {
    utc("2026-03-10T02:00:00Z")
}

/// Friday 2026-03-06 17:30 +08:00.
fn friday_deadline() -> DateTime<Utc> {
    utc("2026-03-06T09:30:00Z")
}

fn order(status: Status) -> OrderFacts {
    OrderFacts {
        id: 1,
        status,
        department_id: Some("sanitation".into()),
        deadline: Some(friday_deadline()),
        follow_up_result: None,
    }
}

fn target(id: i64, status: Status) -> OrderFacts {
    OrderFacts {
        id,
        status,
        department_id: None,
        deadline: None,
        follow_up_result: None,
    }
}

fn actor(role: Role) -> Actor {
    Actor {
        name: format!("test-{}", role.as_str()),
        role,
        department: (role == Role::Department).then(|| "sanitation".to_string()),
    }
}

fn dept_actor(department: Option<&str>) -> Actor {
    Actor {
        name: "dept".into(),
        role: Role::Department,
        department: department.map(str::to_string),
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

/// A valid command for `action` (every field filled in).
fn cmd(action: &str) -> Command {
    match action {
        "register" => Command::Register {
            category_id: Some(s("E0101")),
            note: Some(s("registered")),
        },
        "reject" => Command::Reject {
            reason: s("not a government matter"),
        },
        "dispatch" => Command::Dispatch {
            department: s("roads"),
            note: Some(s("please fix")),
        },
        "return_order" => Command::ReturnOrder {
            reason: s("not our duty"),
        },
        "handle" => Command::Handle {
            result: s("fixed the manhole cover"),
        },
        "rework" => Command::Rework {
            reason: s("still broken"),
        },
        "verify" => Command::Verify {
            note: Some(s("checked on site")),
        },
        "close" => Command::Close {
            note: Some(s("answered the citizen")),
        },
        "extend" => Command::Extend {
            working_days: 3,
            reason: s("needs a contractor"),
        },
        "merge" => Command::Merge {
            into: s("2"),
            note: Some(s("same pothole")),
        },
        "follow_up" => Command::FollowUp {
            result: FollowUpResult::Satisfied,
            note: None,
        },
        other => panic!("unknown action {other}"),
    }
}

struct World {
    calendar: WorkingCalendar,
    target: OrderFacts,
}

impl World {
    fn new() -> Self {
        World {
            calendar: WorkingCalendar::china_default(),
            target: target(2, Status::Registered),
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            now: now(),
            calendar: &self.calendar,
            merge_target: Some(&self.target),
        }
    }

    fn run(&self, o: &OrderFacts, c: &Command, a: &Actor) -> Result<Change, TransitionError> {
        apply(o, c, a, &self.ctx())
    }
}

fn invalid_field(r: Result<Change, TransitionError>) -> &'static str {
    match r {
        Err(TransitionError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ----- the tables -------------------------------------------------------------------------------

#[test]
fn hand_written_tables_cover_every_status_and_action() {
    assert_eq!(
        COLUMNS, ACTIONS,
        "the table's columns are the actions, in order"
    );
    for (i, st) in Status::ALL.into_iter().enumerate() {
        assert_eq!(STATUS_TABLE[i].0, st);
    }
    for (i, a) in ACTIONS.into_iter().enumerate() {
        assert_eq!(ROLE_TABLE[i].0, a);
        assert_eq!(cmd(a).action(), a);
    }
}

#[test]
fn every_status_and_action_pair() {
    let w = World::new();
    let mut ok = 0;
    let mut refused = 0;
    for st in Status::ALL {
        for action in ACTIONS {
            for role in ROLES.into_iter().filter(|r| role_may(*r, action)) {
                let o = order(st);
                let result = w.run(&o, &cmd(action), &actor(role));
                match expected(st, action) {
                    Some(to) => {
                        let ch = result.unwrap_or_else(|e| {
                            panic!("{action} from {st} by {role:?} refused: {e}")
                        });
                        assert_eq!(ch.to, to, "{action} from {st} by {role:?}");
                        ok += 1;
                    }
                    None => {
                        let e = result.expect_err(&format!("{action} from {st} by {role:?}"));
                        assert_eq!(
                            e,
                            TransitionError::NotAllowed {
                                action,
                                status: st,
                                allowed: allowed_actions(st),
                            },
                            "{action} from {st} by {role:?}"
                        );
                        assert_eq!(allowed_actions(st), expected_allowed(st), "{st}");
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(ok > 0 && refused > 0);
}

#[test]
fn not_allowed_message_lists_the_allowed_actions() {
    let w = World::new();
    let e = w
        .run(
            &order(Status::Verified),
            &cmd("handle"),
            &actor(Role::Admin),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot handle an order that is verified; allowed now: close, extend"
    );
    let e = w
        .run(&order(Status::Merged), &cmd("extend"), &actor(Role::Admin))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot extend an order that is merged; allowed now: nothing"
    );
}

#[test]
fn every_role_and_action_pair() {
    let w = World::new();
    for action in ACTIONS {
        for role in ROLES {
            for st in Status::ALL {
                let o = order(st); // dispatched (if at all) to the department's own "sanitation"
                let result = w.run(&o, &cmd(action), &actor(role));
                if !role_may(role, action) {
                    // Forbidden wins over the status: the role may never do this.
                    assert_eq!(
                        result,
                        Err(TransitionError::Forbidden {
                            action,
                            role: role.as_str()
                        }),
                        "{role:?} {action} from {st}"
                    );
                } else if expected(st, action).is_some() {
                    assert!(result.is_ok(), "{role:?} {action} from {st}: {result:?}");
                } else {
                    assert!(
                        matches!(result, Err(TransitionError::NotAllowed { .. })),
                        "{role:?} {action} from {st}: {result:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn channel_may_do_nothing_and_agent_may_not_rework_verify_or_extend() {
    let w = World::new();
    for action in ACTIONS {
        let st = Status::ALL
            .into_iter()
            .find(|st| expected(*st, action).is_some())
            .unwrap();
        let r = w.run(&order(st), &cmd(action), &actor(Role::Channel));
        assert_eq!(
            r,
            Err(TransitionError::Forbidden {
                action,
                role: "channel"
            })
        );
    }
    for (action, st) in [
        ("rework", Status::Handled),
        ("verify", Status::Handled),
        ("extend", Status::Dispatched),
    ] {
        let e = w
            .run(&order(st), &cmd(action), &actor(Role::Agent))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("role agent may not {action} an order")
        );
    }
}

#[test]
fn department_acts_only_on_orders_dispatched_to_it() {
    let w = World::new();
    let foreign = TransitionError::Forbidden {
        action: "handle",
        role: "department (the order is not dispatched to yours)",
    };
    let mut o = order(Status::Dispatched);
    // Its own department: fine.
    assert!(w
        .run(&o, &cmd("handle"), &dept_actor(Some("sanitation")))
        .is_ok());
    assert!(w
        .run(&o, &cmd("return_order"), &dept_actor(Some("sanitation")))
        .is_ok());
    // Another department's order.
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(Some("roads"))),
        Err(foreign.clone())
    );
    assert!(matches!(
        w.run(&o, &cmd("return_order"), &dept_actor(Some("roads"))),
        Err(TransitionError::Forbidden { action: "return_order", role }) if role.contains("not dispatched to yours")
    ));
    // A department user without a department.
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(None)),
        Err(foreign.clone())
    );
    // An order without a department (a department of None must not match a user without one).
    o.department_id = None;
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(Some("sanitation"))),
        Err(foreign.clone())
    );
    assert_eq!(w.run(&o, &cmd("handle"), &dept_actor(None)), Err(foreign));
    // Another department's order in any status: forbidden, so its status is not revealed.
    assert!(matches!(
        w.run(
            &order(Status::Handled),
            &cmd("handle"),
            &dept_actor(Some("roads"))
        ),
        Err(TransitionError::Forbidden { .. })
    ));
    // Its own department but the wrong status: the status is the reason.
    assert!(matches!(
        w.run(
            &order(Status::Handled),
            &cmd("handle"),
            &dept_actor(Some("sanitation"))
        ),
        Err(TransitionError::NotAllowed { .. })
    ));
}

// ----- field rejections -------------------------------------------------------------------------

#[test]
fn empty_text_fields_are_invalid_and_name_the_field() {
    let w = World::new();
    let admin = actor(Role::Admin);
    for blank in ["", "   ", "\t\n"] {
        let cases = [
            (
                Status::Received,
                Command::Reject { reason: s(blank) },
                "reason",
            ),
            (
                Status::Registered,
                Command::Dispatch {
                    department: s(blank),
                    note: None,
                },
                "department",
            ),
            (
                Status::Dispatched,
                Command::ReturnOrder { reason: s(blank) },
                "reason",
            ),
            (
                Status::Dispatched,
                Command::Handle { result: s(blank) },
                "result",
            ),
            (
                Status::Handled,
                Command::Rework { reason: s(blank) },
                "reason",
            ),
            (
                Status::Verified,
                Command::Extend {
                    working_days: 2,
                    reason: s(blank),
                },
                "reason",
            ),
        ];
        for (st, c, field) in cases {
            let r = w.run(&order(st), &c, &admin);
            assert_eq!(invalid_field(r.clone()), field, "{c:?}");
            assert_eq!(
                r.unwrap_err().to_string(),
                format!("{field}: must not be empty")
            );
        }
    }
    // Text is trimmed when kept.
    let ch = w
        .run(
            &order(Status::Received),
            &Command::Reject {
                reason: s("  duplicate call  "),
            },
            &admin,
        )
        .unwrap();
    assert_eq!(ch.note.as_deref(), Some("duplicate call"));
    // Optional notes that are blank are dropped.
    let ch = w
        .run(
            &order(Status::Handled),
            &Command::Verify {
                note: Some(s("  ")),
            },
            &admin,
        )
        .unwrap();
    assert_eq!(ch.note, None);
}

#[test]
fn extend_needs_between_1_and_365_working_days() {
    let w = World::new();
    let admin = actor(Role::Admin);
    let ext = |working_days| Command::Extend {
        working_days,
        reason: s("waiting for parts"),
    };
    for days in [0, 366, 1000, u32::MAX] {
        let r = w.run(&order(Status::Dispatched), &ext(days), &admin);
        assert_eq!(invalid_field(r), "working_days", "{days}");
    }
    for days in [1, 365] {
        assert!(w
            .run(&order(Status::Dispatched), &ext(days), &admin)
            .is_ok());
    }
}

#[test]
fn close_at_intake_needs_a_note_but_after_verification_does_not() {
    let w = World::new();
    let admin = actor(Role::Admin);
    for note in [None, Some(s("")), Some(s("  "))] {
        let r = w.run(
            &order(Status::Registered),
            &Command::Close { note: note.clone() },
            &admin,
        );
        assert_eq!(invalid_field(r), "note", "{note:?}");
        let ch = w
            .run(&order(Status::Verified), &Command::Close { note }, &admin)
            .unwrap();
        assert_eq!(ch.to, Some(Status::Closed));
        assert!(!ch.resolved_at_intake);
        assert_eq!(ch.note, None);
    }
}

#[test]
fn merge_needs_a_live_other_target() {
    let cal = WorkingCalendar::china_default();
    let admin = actor(Role::Admin);
    let o = order(Status::Registered);
    let merge = cmd("merge");
    let with = |t: Option<&OrderFacts>| {
        apply(
            &o,
            &merge,
            &admin,
            &Context {
                now: now(),
                calendar: &cal,
                merge_target: t,
            },
        )
    };
    // No target.
    assert_eq!(invalid_field(with(None)), "into");
    // Itself.
    let me = order(Status::Registered);
    assert_eq!(invalid_field(with(Some(&me))), "into");
    // A merged or rejected target.
    for st in [Status::Merged, Status::Rejected] {
        let t = target(7, st);
        let r = with(Some(&t));
        assert_eq!(invalid_field(r.clone()), "into", "{st}");
        assert!(r.unwrap_err().to_string().contains(st.as_str()));
    }
    // Any other target is fine (a closed order collects later duplicates too).
    for st in [
        Status::Received,
        Status::Registered,
        Status::Dispatched,
        Status::Returned,
        Status::Handled,
        Status::Verified,
        Status::Closed,
    ] {
        let t = target(7, st);
        assert_eq!(with(Some(&t)).unwrap().merged_into, Some(7), "{st}");
    }
}

#[test]
fn follow_up_is_recorded_once_unless_the_citizen_was_unreachable() {
    let w = World::new();
    let admin = actor(Role::Admin);
    let results = [
        FollowUpResult::Satisfied,
        FollowUpResult::BasicallySatisfied,
        FollowUpResult::Dissatisfied,
        FollowUpResult::Unreachable,
    ];
    for first in results {
        let mut o = order(Status::Closed);
        let ch = w
            .run(
                &o,
                &Command::FollowUp {
                    result: first,
                    note: Some(s("called")),
                },
                &admin,
            )
            .unwrap();
        assert_eq!(ch.to, None);
        assert_eq!(ch.follow_up_result, Some(first));
        assert_eq!(ch.data, serde_json::json!({ "result": first.as_str() }));
        o.follow_up_result = ch.follow_up_result;
        for second in results {
            let r = w.run(
                &o,
                &Command::FollowUp {
                    result: second,
                    note: None,
                },
                &admin,
            );
            if first == FollowUpResult::Unreachable {
                assert_eq!(r.unwrap().follow_up_result, Some(second));
            } else {
                let r2 = r.clone();
                assert_eq!(invalid_field(r), "result", "{first:?} then {second:?}");
                assert!(r2.unwrap_err().to_string().contains(first.as_str()));
            }
        }
    }
}

// ----- the changes ------------------------------------------------------------------------------

#[test]
fn register_sets_category_and_nothing_else() {
    let w = World::new();
    let ch = w
        .run(
            &order(Status::Received),
            &cmd("register"),
            &actor(Role::Agent),
        )
        .unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Registered),
            category_id: Some(s("E0101")),
            note: Some(s("registered")),
            data: serde_json::Value::Null,
            ..Change::default()
        }
    );
    let ch = w
        .run(
            &order(Status::Received),
            &Command::Register {
                category_id: Some(s(" ")),
                note: None,
            },
            &actor(Role::Agent),
        )
        .unwrap();
    assert_eq!(ch.category_id, None);
}

#[test]
fn dispatch_sets_department_and_records_the_previous_one() {
    let w = World::new();
    let agent = actor(Role::Agent);
    let mut o = order(Status::Registered);
    o.department_id = None;
    let ch = w.run(&o, &cmd("dispatch"), &agent).unwrap();
    assert_eq!(ch.to, Some(Status::Dispatched));
    assert_eq!(ch.department_id.as_deref(), Some("roads"));
    assert_eq!(ch.note.as_deref(), Some("please fix"));
    assert_eq!(ch.closed_at, None);
    assert_eq!(
        ch.data,
        serde_json::json!({
            "department": "roads",
            "previous_department": null,
            "redispatch": false,
        })
    );
    // 改派 after a return.
    let o = order(Status::Returned);
    let ch = w
        .run(
            &o,
            &Command::Dispatch {
                department: s("  housing "),
                note: None,
            },
            &agent,
        )
        .unwrap();
    assert_eq!(ch.department_id.as_deref(), Some("housing"));
    assert_eq!(
        ch.data,
        serde_json::json!({
            "department": "housing",
            "previous_department": "sanitation",
            "redispatch": true,
        })
    );
}

#[test]
fn terminal_actions_set_closed_at_now() {
    let w = World::new();
    let admin = actor(Role::Admin);
    for (st, action, to) in [
        (Status::Received, "reject", Status::Rejected),
        (Status::Registered, "close", Status::Closed),
        (Status::Verified, "close", Status::Closed),
        (Status::Received, "merge", Status::Merged),
        (Status::Registered, "merge", Status::Merged),
        (Status::Dispatched, "merge", Status::Merged),
        (Status::Returned, "merge", Status::Merged),
    ] {
        let ch = w.run(&order(st), &cmd(action), &admin).unwrap();
        assert_eq!(ch.to, Some(to));
        assert_eq!(ch.closed_at, Some(now()), "{action} from {st}");
    }
    // Nothing else closes an order.
    for (st, action) in [
        (Status::Received, "register"),
        (Status::Registered, "dispatch"),
        (Status::Dispatched, "return_order"),
        (Status::Dispatched, "handle"),
        (Status::Handled, "rework"),
        (Status::Handled, "verify"),
        (Status::Dispatched, "extend"),
        (Status::Closed, "follow_up"),
    ] {
        let ch = w.run(&order(st), &cmd(action), &admin).unwrap();
        assert_eq!(ch.closed_at, None, "{action} from {st}");
        assert!(!ch.resolved_at_intake);
        assert_eq!(ch.merged_into, None);
    }
}

#[test]
fn close_from_registered_is_resolved_at_intake() {
    let w = World::new();
    let ch = w
        .run(
            &order(Status::Registered),
            &cmd("close"),
            &actor(Role::Agent),
        )
        .unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Closed),
            closed_at: Some(now()),
            resolved_at_intake: true,
            note: Some(s("answered the citizen")),
            data: serde_json::Value::Null,
            ..Change::default()
        }
    );
    let ch = w
        .run(&order(Status::Verified), &cmd("close"), &actor(Role::Agent))
        .unwrap();
    assert!(!ch.resolved_at_intake);
}

#[test]
fn rework_goes_back_to_dispatched_keeping_the_department() {
    let w = World::new();
    let ch = w
        .run(
            &order(Status::Handled),
            &cmd("rework"),
            &actor(Role::Supervisor),
        )
        .unwrap();
    assert_eq!(ch.to, Some(Status::Dispatched));
    assert_eq!(ch.department_id, None, "the department stays as it is");
    assert_eq!(ch.note.as_deref(), Some("still broken"));
}

#[test]
fn extend_moves_the_deadline_by_working_days() {
    let w = World::new();
    let sup = actor(Role::Supervisor);
    let ext = |working_days| Command::Extend {
        working_days,
        reason: s("waiting for parts"),
    };
    // Friday 2026-03-06 17:30 +08:00 + 3 working days → Wednesday 2026-03-11 17:30 +08:00.
    let o = order(Status::Dispatched);
    let ch = w.run(&o, &ext(3), &sup).unwrap();
    assert_eq!(ch.to, None);
    assert_eq!(ch.deadline, Some(utc("2026-03-11T09:30:00Z")));
    assert_eq!(ch.note.as_deref(), Some("waiting for parts"));
    assert_eq!(
        ch.data,
        serde_json::json!({
            "previous_deadline": "2026-03-06T09:30:00Z",
            "deadline": "2026-03-11T09:30:00Z",
            "working_days": 3,
        })
    );
    // + 1 → Monday 2026-03-09 17:30; + 5 → Friday 2026-03-13; + 6 → Monday 2026-03-16.
    for (days, due) in [
        (1, "2026-03-09T09:30:00Z"),
        (5, "2026-03-13T09:30:00Z"),
        (6, "2026-03-16T09:30:00Z"),
        (10, "2026-03-20T09:30:00Z"),
    ] {
        assert_eq!(
            w.run(&o, &ext(days), &sup).unwrap().deadline,
            Some(utc(due))
        );
    }
    // A deadline at Wednesday 10:00 +08:00, + 2 → Friday 17:30 of the same week.
    let mut mid = order(Status::Handled);
    mid.deadline = Some(utc("2026-03-11T02:00:00Z"));
    assert_eq!(
        w.run(&mid, &ext(2), &sup).unwrap().deadline,
        Some(utc("2026-03-13T09:30:00Z"))
    );
    // No deadline yet: counted from now (Tuesday 2026-03-10 10:00 +08:00) → Wednesday 17:30.
    let mut none = order(Status::Registered);
    none.deadline = None;
    let ch = w.run(&none, &ext(1), &sup).unwrap();
    assert_eq!(ch.deadline, Some(utc("2026-03-11T09:30:00Z")));
    assert_eq!(ch.data["previous_deadline"], serde_json::Value::Null);
}

#[test]
fn merge_records_the_target() {
    let w = World::new();
    let ch = w
        .run(
            &order(Status::Dispatched),
            &cmd("merge"),
            &actor(Role::Agent),
        )
        .unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Merged),
            closed_at: Some(now()),
            merged_into: Some(2),
            note: Some(s("same pothole")),
            data: serde_json::json!({ "merged_into": 2 }),
            ..Change::default()
        }
    );
}

#[test]
fn commands_deserialize_from_the_api_body() {
    let c: Command = serde_json::from_str(r#"{"action":"return","reason":"not ours"}"#).unwrap();
    assert_eq!(
        c,
        Command::ReturnOrder {
            reason: s("not ours")
        }
    );
    let c: Command =
        serde_json::from_str(r#"{"action":"extend","working_days":2,"reason":"r"}"#).unwrap();
    assert_eq!(c.action(), "extend");
    assert!(serde_json::from_str::<Command>(r#"{"action":"teleport"}"#).is_err());
    assert!(
        serde_json::from_str::<Command>(r#"{"action":"handle","result":"x","extra":1}"#).is_err()
    );
}

// ----- the random walk --------------------------------------------------------------------------

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
                id,
                status: Status::Received,
                department_id: None,
                deadline,
                follow_up_result: None,
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
        },
        "reject" => Command::Reject {
            reason: text(rng, "prank call"),
        },
        "dispatch" => Command::Dispatch {
            department: if rng.chance(10) {
                s(" ")
            } else {
                s(rng.pick(&DEPARTMENTS))
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
        Command::Register { .. } | Command::Verify { .. } => None,
        Command::Reject { reason }
        | Command::ReturnOrder { reason }
        | Command::Rework { reason } => blank(reason).then_some("reason"),
        Command::Dispatch { department, .. } => blank(department).then_some("department"),
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
        let who = Actor {
            name: s("walker"),
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
                now,
                calendar: &calendar,
                merge_target: target.as_ref(),
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
        assert_eq!(ch.to, to, "{ctx}");

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
            assert_eq!(action, "extend");
            assert!(new > o.deadline.unwrap_or(now), "{ctx}");
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
                assert_eq!(h, &[Status::Received, Status::Registered, Status::Closed]);
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
