//! The work-order lifecycle as a pure state machine: an order's facts, a command, who gives it
//! and the time go in; the change to make (new status, fields, the audit event) or the reason it
//! is refused comes out. No I/O: the store applies the change in one transaction.
//!
//! ```text
//! received ─register─▶ registered ─dispatch─▶ dispatched ─handle─▶ handled ─verify─▶ verified ─close─▶ closed
//!    │                    │  └─close (resolved at intake)──────────────────────────────────────────▶ closed
//!    └─reject─▶ rejected  │                 │    ▲   ▲                  │
//!                         │      return_order    │   └──────rework──────┘
//!                         │                 ▼    │
//!                         │             returned ─dispatch (改派)
//!  received/registered/dispatched/returned ─merge─▶ merged
//!  registered … verified: extend (deadline);  closed: follow_up (回访)
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::WorkingCalendar;
use crate::config::Role;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Registered,
    Rejected,
    Dispatched,
    Returned,
    Handled,
    Verified,
    Closed,
    Merged,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Received,
        Status::Registered,
        Status::Rejected,
        Status::Dispatched,
        Status::Returned,
        Status::Handled,
        Status::Verified,
        Status::Closed,
        Status::Merged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Registered => "registered",
            Status::Rejected => "rejected",
            Status::Dispatched => "dispatched",
            Status::Returned => "returned",
            Status::Handled => "handled",
            Status::Verified => "verified",
            Status::Closed => "closed",
            Status::Merged => "merged",
        }
    }

    /// Still being worked on (its deadline runs).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Rejected | Status::Closed | Status::Merged)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// A follow-up call's (回访) outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpResult {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
    /// The citizen could not be reached; another follow-up may be made.
    Unreachable,
}

impl FollowUpResult {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpResult::Satisfied => "satisfied",
            FollowUpResult::BasicallySatisfied => "basically_satisfied",
            FollowUpResult::Dissatisfied => "dissatisfied",
            FollowUpResult::Unreachable => "unreachable",
        }
    }
}

/// What someone asks to do with an order (the body of `POST …/transitions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// 立案: accept the order as a case; may correct its category.
    Register {
        category_id: Option<String>,
        note: Option<String>,
    },
    /// 不予立案.
    Reject { reason: String },
    /// 派遣, or re-dispatch (改派) after a return.
    Dispatch {
        department: String,
        note: Option<String>,
    },
    /// 退单: the department objects (wrong department, not its duty, …).
    #[serde(alias = "return")]
    ReturnOrder { reason: String },
    /// 处理反馈: the department reports what it did.
    Handle { result: String },
    /// Verification failed: back to the same department (返工).
    Rework { reason: String },
    /// 核查: the result is confirmed.
    Verify { note: Option<String> },
    /// 结案; from `registered` it means resolved at intake (一次办结).
    Close { note: Option<String> },
    /// Formal deadline extension (延期).
    Extend { working_days: u32, reason: String },
    /// 重复诉求并单: this order is a duplicate of `into` (id or number).
    Merge { into: String, note: Option<String> },
    /// 回访 result on a closed order.
    FollowUp {
        result: FollowUpResult,
        note: Option<String>,
    },
}

/// Every action name, in lifecycle order.
pub const ACTIONS: [&str; 11] = [
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

impl Command {
    pub fn action(&self) -> &'static str {
        match self {
            Command::Register { .. } => "register",
            Command::Reject { .. } => "reject",
            Command::Dispatch { .. } => "dispatch",
            Command::ReturnOrder { .. } => "return_order",
            Command::Handle { .. } => "handle",
            Command::Rework { .. } => "rework",
            Command::Verify { .. } => "verify",
            Command::Close { .. } => "close",
            Command::Extend { .. } => "extend",
            Command::Merge { .. } => "merge",
            Command::FollowUp { .. } => "follow_up",
        }
    }
}

/// The statuses an action may start from.
pub fn from_statuses(action: &str) -> &'static [Status] {
    use Status::*;
    match action {
        "register" | "reject" => &[Received],
        "dispatch" => &[Registered, Returned],
        "return_order" | "handle" => &[Dispatched],
        "rework" | "verify" => &[Handled],
        "close" => &[Registered, Verified],
        "extend" => &[Registered, Dispatched, Returned, Handled, Verified],
        "merge" => &[Received, Registered, Dispatched, Returned],
        "follow_up" => &[Closed],
        _ => &[],
    }
}

/// The roles that may give an action (a department only on orders dispatched to it).
pub fn roles_for(action: &str) -> &'static [Role] {
    use Role::*;
    match action {
        "register" | "reject" | "dispatch" | "merge" | "follow_up" | "close" => {
            &[Agent, Supervisor, Admin]
        }
        "return_order" | "handle" => &[Department, Supervisor, Admin],
        "rework" | "verify" | "extend" => &[Supervisor, Admin],
        _ => &[],
    }
}

/// The actions that may be taken on an order in `status` (by someone).
pub fn allowed_actions(status: Status) -> Vec<&'static str> {
    ACTIONS
        .into_iter()
        .filter(|a| from_statuses(a).contains(&status))
        .collect()
}

/// Who gives a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    /// For role department: which one.
    pub department: Option<String>,
}

/// What the state machine needs to know about an order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub id: i64,
    pub status: Status,
    pub department_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub follow_up_result: Option<FollowUpResult>,
}

/// The world around a command: the time, the calendar, and for a merge, the target's facts.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a WorkingCalendar,
    pub merge_target: Option<&'a OrderFacts>,
}

/// The change a command makes. `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Change {
    pub to: Option<Status>,
    pub department_id: Option<String>,
    pub category_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolved_at_intake: bool,
    pub merged_into: Option<i64>,
    pub follow_up_result: Option<FollowUpResult>,
    /// For the audit event.
    pub note: Option<String>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransitionError {
    #[error("role {role} may not {action} an order")]
    Forbidden {
        action: &'static str,
        role: &'static str,
    },
    #[error("cannot {action} an order that is {status}; allowed now: {}", if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") })]
    NotAllowed {
        action: &'static str,
        status: Status,
        allowed: Vec<&'static str>,
    },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

fn required(field: &'static str, v: &str) -> Result<String, TransitionError> {
    let v = v.trim();
    if v.is_empty() {
        Err(TransitionError::Invalid {
            field,
            reason: "must not be empty".into(),
        })
    } else {
        Ok(v.to_string())
    }
}

fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Whether `actor` may give `action` on `order` now: the role (403), a department's ownership
/// (403, before the status, so others' orders reveal nothing), then the status (409).
pub fn check_allowed(
    order: &OrderFacts,
    action: &'static str,
    actor: &Actor,
) -> Result<(), TransitionError> {
    if !roles_for(action).contains(&actor.role) {
        return Err(TransitionError::Forbidden {
            action,
            role: actor.role.as_str(),
        });
    }
    // Before the status check, so a department learns nothing about others' orders.
    if actor.role == Role::Department
        && (actor.department.is_none() || actor.department != order.department_id)
    {
        return Err(TransitionError::Forbidden {
            action,
            role: "department (the order is not dispatched to yours)",
        });
    }
    if !from_statuses(action).contains(&order.status) {
        return Err(TransitionError::NotAllowed {
            action,
            status: order.status,
            allowed: allowed_actions(order.status),
        });
    }
    Ok(())
}

/// Decides what `cmd` by `actor` does to `order`.
pub fn apply(
    order: &OrderFacts,
    cmd: &Command,
    actor: &Actor,
    ctx: &Context,
) -> Result<Change, TransitionError> {
    check_allowed(order, cmd.action(), actor)?;
    let mut ch = Change {
        data: serde_json::Value::Null,
        ..Change::default()
    };
    match cmd {
        Command::Register { category_id, note } => {
            ch.to = Some(Status::Registered);
            ch.category_id = optional(category_id);
            ch.note = optional(note);
        }
        Command::Reject { reason } => {
            ch.to = Some(Status::Rejected);
            ch.closed_at = Some(ctx.now);
            ch.note = Some(required("reason", reason)?);
        }
        Command::Dispatch { department, note } => {
            let department = required("department", department)?;
            ch.to = Some(Status::Dispatched);
            ch.data = serde_json::json!({
                "department": department,
                "previous_department": order.department_id,
                "redispatch": order.status == Status::Returned,
            });
            ch.department_id = Some(department);
            ch.note = optional(note);
        }
        Command::ReturnOrder { reason } => {
            ch.to = Some(Status::Returned);
            ch.note = Some(required("reason", reason)?);
        }
        Command::Handle { result } => {
            ch.to = Some(Status::Handled);
            ch.note = Some(required("result", result)?);
        }
        Command::Rework { reason } => {
            ch.to = Some(Status::Dispatched);
            ch.note = Some(required("reason", reason)?);
        }
        Command::Verify { note } => {
            ch.to = Some(Status::Verified);
            ch.note = optional(note);
        }
        Command::Close { note } => {
            ch.to = Some(Status::Closed);
            ch.closed_at = Some(ctx.now);
            ch.resolved_at_intake = order.status == Status::Registered;
            ch.note = optional(note);
            if ch.resolved_at_intake && ch.note.is_none() {
                return Err(TransitionError::Invalid {
                    field: "note",
                    reason: "closing at intake needs the answer given to the citizen".into(),
                });
            }
        }
        Command::Extend {
            working_days,
            reason,
        } => {
            if *working_days == 0 || *working_days > 365 {
                return Err(TransitionError::Invalid {
                    field: "working_days",
                    reason: "must be between 1 and 365".into(),
                });
            }
            ch.note = Some(required("reason", reason)?);
            let from = order.deadline.unwrap_or(ctx.now);
            let new = ctx.calendar.add_working_days(from, *working_days);
            ch.deadline = Some(new);
            ch.data = serde_json::json!({
                "previous_deadline": order.deadline,
                "deadline": new,
                "working_days": working_days,
            });
        }
        Command::Merge { note, .. } => {
            let target = ctx.merge_target.ok_or(TransitionError::Invalid {
                field: "into",
                reason: "no such order".into(),
            })?;
            if target.id == order.id {
                return Err(TransitionError::Invalid {
                    field: "into",
                    reason: "an order cannot be merged into itself".into(),
                });
            }
            if matches!(target.status, Status::Merged | Status::Rejected) {
                return Err(TransitionError::Invalid {
                    field: "into",
                    reason: format!(
                        "the target order is {}; merge into a live order",
                        target.status
                    ),
                });
            }
            ch.to = Some(Status::Merged);
            ch.closed_at = Some(ctx.now);
            ch.merged_into = Some(target.id);
            ch.note = optional(note);
            ch.data = serde_json::json!({ "merged_into": target.id });
        }
        Command::FollowUp { result, note } => {
            if let Some(prev) = order.follow_up_result {
                if prev != FollowUpResult::Unreachable {
                    return Err(TransitionError::Invalid {
                        field: "result",
                        reason: format!("a follow-up was already recorded ({})", prev.as_str()),
                    });
                }
            }
            ch.follow_up_result = Some(*result);
            ch.note = optional(note);
            ch.data = serde_json::json!({ "result": result });
        }
    }
    Ok(ch)
}
