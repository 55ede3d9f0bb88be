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
pub const COLUMNS: [&str; 16] = [
    "register",
    "reject",
    "request_verification",
    "report_verification",
    "dispatch",
    "accept",
    "return_order",
    "handle",
    "rework",
    "verify",
    "close",
    "extend",
    "merge",
    "park",
    "unpark",
    "follow_up",
];

/// For each status and action: "-" = not allowed from this status, "=" = allowed and the status
/// stays, otherwise the status the order moves to. Written by hand from the contracts' table
/// (the parked fixture was parked from dispatched, so unpark goes back there).
#[rustfmt::skip]
pub const STATUS_TABLE: [(Status, [&str; 16]); 12] = [
    //                   register      reject      req_verif    rep_verif   dispatch      accept      return_order handle     rework        verify      close     extend merge     park      unpark        follow_up
    (Status::Received,   ["registered", "rejected", "verifying", "-",        "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "merged", "-",      "-",          "-"]),
    (Status::Verifying,  ["-",          "-",        "-",         "received", "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-",      "-",          "-"]),
    (Status::Registered, ["-",          "-",        "-",         "-",        "dispatched", "-",        "-",         "-",       "-",          "-",        "closed", "=",   "merged", "parked", "-",          "-"]),
    (Status::Rejected,   ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-",      "-",          "-"]),
    (Status::Dispatched, ["-",          "-",        "-",         "-",        "-",          "accepted", "returned",  "handled", "-",          "-",        "-",      "=",   "merged", "parked", "-",          "-"]),
    (Status::Accepted,   ["-",          "-",        "-",         "-",        "-",          "-",        "returned",  "handled", "-",          "-",        "-",      "=",   "-",      "parked", "-",          "-"]),
    (Status::Returned,   ["-",          "-",        "-",         "-",        "dispatched", "-",        "-",         "-",       "-",          "-",        "-",      "=",   "merged", "parked", "-",          "-"]),
    (Status::Handled,    ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "dispatched", "verified", "-",      "=",   "-",      "-",      "-",          "-"]),
    (Status::Verified,   ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "-",          "-",        "closed", "=",   "-",      "-",      "-",          "-"]),
    (Status::Closed,     ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-",      "-",          "="]),
    (Status::Merged,     ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-",      "-",          "-"]),
    (Status::Parked,     ["-",          "-",        "-",         "-",        "-",          "-",        "-",         "-",       "-",          "-",        "-",      "-",   "-",      "-",      "dispatched", "-"]),
];

/// Who may give each action (a department only on orders dispatched to it, an inspector only
/// on orders assigned to it).
#[rustfmt::skip]
pub const ROLE_TABLE: [(&str, &[Role]); 16] = [
    ("register",             &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("reject",               &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("request_verification", &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("report_verification",  &[Role::Inspector, Role::Supervisor, Role::Admin]),
    ("dispatch",             &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("accept",               &[Role::Department, Role::Supervisor, Role::Admin]),
    ("return_order",         &[Role::Department, Role::Supervisor, Role::Admin]),
    ("handle",               &[Role::Department, Role::Supervisor, Role::Admin]),
    ("rework",               &[Role::Inspector, Role::Supervisor, Role::Admin]),
    ("verify",               &[Role::Inspector, Role::Supervisor, Role::Admin]),
    ("close",                &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("extend",               &[Role::Supervisor, Role::Admin]),
    ("merge",                &[Role::Agent, Role::Supervisor, Role::Admin]),
    ("park",                 &[Role::Supervisor, Role::Admin]),
    ("unpark",               &[Role::Supervisor, Role::Admin]),
    ("follow_up",            &[Role::Agent, Role::Supervisor, Role::Admin]),
];

pub const ROLES: [Role; 7] = [
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Department,
    Role::Channel,
    Role::Inspector,
    Role::Leader,
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

/// The inspector the fixture orders are assigned to (the name [`actor`] gives an inspector).
pub const INSPECTOR: &str = "test-inspector";

/// A complaint in `status`, dispatched (if at all) to sanitation, reported by and assigned to
/// [`INSPECTOR`]; a parked one was parked from dispatched.
pub fn order(status: Status) -> OrderFacts {
    OrderFacts {
        request_type: "complaint".into(),
        category_id: Some("E0402".into()),
        department_id: Some("sanitation".into()),
        deadline: Some(friday_deadline()),
        assignee: Some(INSPECTOR.into()),
        reporting_inspector: Some(INSPECTOR.into()),
        reporter: Some(INSPECTOR.into()),
        parked_from: (status == Status::Parked).then_some(Status::Dispatched),
        ..OrderFacts::new(1, status)
    }
}

pub fn target(id: i64, status: Status) -> OrderFacts {
    OrderFacts::new(id, status)
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
            criteria_met: Some(true),
        },
        "request_verification" => Command::RequestVerification {
            inspector: Some(s("inspector-02")),
            note: Some(s("please check on site")),
        },
        "report_verification" => Command::ReportVerification {
            confirmed: true,
            note: Some(s("seen on site")),
        },
        "accept" => Command::Accept {
            note: Some(s("on our way")),
        },
        "park" => Command::Park {
            reason: s("needs next year's budget"),
        },
        "unpark" => Command::Unpark {
            note: Some(s("budget approved")),
        },
        "reject" => Command::Reject {
            reason: s("not a government matter"),
        },
        "dispatch" => Command::Dispatch {
            department: Some(s("roads")),
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
            merge_target: Some(&self.target),
            ..Context::new(now(), &self.calendar)
        }
    }

    /// Runs with a context the store would have filled in: registration criteria, a routed
    /// department, reporters of merged orders.
    pub fn run_with<'a>(
        &'a self,
        o: &OrderFacts,
        c: &Command,
        a: &Actor,
        fill: impl FnOnce(&mut Context<'a>),
    ) -> Result<Change, TransitionError> {
        let mut ctx = self.ctx();
        fill(&mut ctx);
        apply(o, c, a, &ctx)
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
