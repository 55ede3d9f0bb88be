//! The hand-written expectations (status and role tables, written out from the lifecycle
//! diagram) and the fixtures every lifecycle test uses: a fixed `now`, orders, actors, a valid
//! command for each action, and a world to run them in.

use chrono::{DateTime, Utc};
use hotline::cases::calendar::WorkingCalendar;
use hotline::cases::lifecycle::{
    apply, Actor, Change, Command, Context, FollowUpResult, OrderFacts, Status, TransitionError,
};
use hotline::config::Role;

// ----- hand-written expectations ---------------------------------------------------------------

/// The action columns of [`STATUS_TABLE`], in order.
pub const COLUMNS: [&str; 11] = [
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
pub const STATUS_TABLE: [(Status, [&str; 11]); 9] = [
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
pub const ROLE_TABLE: [(&str, &[Role]); 11] = [
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

pub const ROLES: [Role; 5] = [
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Department,
    Role::Channel,
];

/// What the hand-written table says about `action` from `status`: None = not allowed,
/// Some(None) = allowed, status unchanged, Some(Some(s)) = allowed, moves to s.
pub fn expected(status: Status, action: &str) -> Option<Option<Status>> {
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
pub fn expected_allowed(status: Status) -> Vec<&'static str> {
    COLUMNS
        .into_iter()
        .filter(|a| expected(status, a).is_some())
        .collect()
}

pub fn role_may(role: Role, action: &str) -> bool {
    ROLE_TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .expect("known action")
        .1
        .contains(&role)
}

// ----- fixtures ---------------------------------------------------------------------------------

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Tuesday 2026-03-10 10:00 +08:00.
pub fn now() -> DateTime<Utc> {
    utc("2026-03-10T02:00:00Z")
}

/// Friday 2026-03-06 17:30 +08:00.
pub fn friday_deadline() -> DateTime<Utc> {
    utc("2026-03-06T09:30:00Z")
}

pub fn order(status: Status) -> OrderFacts {
    OrderFacts {
        id: 1,
        status,
        department_id: Some("sanitation".into()),
        deadline: Some(friday_deadline()),
        follow_up_result: None,
    }
}

pub fn target(id: i64, status: Status) -> OrderFacts {
    OrderFacts {
        id,
        status,
        department_id: None,
        deadline: None,
        follow_up_result: None,
    }
}

pub fn actor(role: Role) -> Actor {
    Actor {
        name: format!("test-{}", role.as_str()),
        role,
        department: (role == Role::Department).then(|| "sanitation".to_string()),
    }
}

pub fn dept_actor(department: Option<&str>) -> Actor {
    Actor {
        name: "dept".into(),
        role: Role::Department,
        department: department.map(str::to_string),
    }
}

pub fn s(v: &str) -> String {
    v.to_string()
}

/// A valid command for `action` (every field filled in).
pub fn cmd(action: &str) -> Command {
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

pub struct World {
    calendar: WorkingCalendar,
    target: OrderFacts,
}

impl World {
    pub fn new() -> Self {
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

    pub fn run(&self, o: &OrderFacts, c: &Command, a: &Actor) -> Result<Change, TransitionError> {
        apply(o, c, a, &self.ctx())
    }

    /// The valid command for `action` ([`cmd`]), given by an actor of `role` ([`actor`]), on
    /// an order in `status` ([`order`]).
    pub fn act(&self, status: Status, action: &str, role: Role) -> Result<Change, TransitionError> {
        self.run(&order(status), &cmd(action), &actor(role))
    }
}

pub fn invalid_field(r: Result<Change, TransitionError>) -> &'static str {
    match r {
        Err(TransitionError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}
