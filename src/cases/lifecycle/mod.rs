//! The work-order lifecycle as a pure state machine: an order's facts, a command, who gives it
//! and the time go in; the change to make (new status, fields, milestones, the deadline clock,
//! the audit event's data, the notifications to send) or the reason it is refused comes out.
//! No I/O: the store applies the change in one transaction. docs/workflow.md draws the states.
//!
//! ```text
//!            request_verification (核实)
//! received ◀──report_verification── verifying
//!  │ ├─reject─▶ rejected
//!  │ └─register (立案)─▶ registered ─dispatch (派遣)─▶ dispatched ─accept─▶ accepted
//!  │                    │   ▲                        │    ▲   │            │
//!  │                    │   └───────── close ◀───┐   │    │   └─handle◀────┤ (处理反馈)
//!  │                    │                        │   ▼    │                ▼
//!  │                    │                verified◀─verify─ handled ─rework─▶ dispatched
//!  │                    │                        │                  return_order (退单) from
//!  │                    ▼                        ▼                  dispatched/accepted ─▶ returned
//!  │                  closed ◀───────────── close                   returned ─dispatch (改派)
//!  received/registered/dispatched/returned ─merge─▶ merged
//!  registered/dispatched/accepted/returned ─park (挂账)─▶ parked ─unpark─▶ the status it left
//!  registered … verified: extend (deadline);  closed: follow_up (回访)
//! ```
//!
//! The deadline clock pauses while an order is verifying, returned or parked: entering one of
//! them records `paused_at`; leaving moves the deadline on by the working minutes paused.

mod status;
#[cfg(test)]
mod tests;

pub use status::Status;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::WorkingCalendar;
use super::store::NewNotification;
use crate::config::Role;

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
    /// 立案: accept the order as a case; may correct its category. When the category has
    /// registration criteria (立案标准), `criteria_met` must be true.
    Register {
        category_id: Option<String>,
        note: Option<String>,
        #[serde(default)]
        criteria_met: Option<bool>,
    },
    /// 不予立案.
    Reject { reason: String },
    /// 核实: send an inspector to check the report on site (the reporting inspector if omitted).
    RequestVerification {
        #[serde(default)]
        inspector: Option<String>,
        #[serde(default)]
        note: Option<String>,
    },
    /// The inspector's answer to a 核实 task.
    ReportVerification {
        confirmed: bool,
        #[serde(default)]
        note: Option<String>,
    },
    /// 派遣, or re-dispatch (改派) after a return; the routing table names the department if
    /// it is left out.
    Dispatch {
        #[serde(default)]
        department: Option<String>,
        note: Option<String>,
    },
    /// The department takes the order on.
    Accept {
        #[serde(default)]
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
    /// 挂账: set aside; the deadline clock stops.
    Park { reason: String },
    /// Back to the status the order was parked from.
    Unpark {
        #[serde(default)]
        note: Option<String>,
    },
    /// 回访 result on a closed order.
    FollowUp {
        result: FollowUpResult,
        note: Option<String>,
    },
}

/// Every action name, in lifecycle order.
pub const ACTIONS: [&str; 16] = [
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

impl Command {
    pub fn action(&self) -> &'static str {
        match self {
            Command::Register { .. } => "register",
            Command::Reject { .. } => "reject",
            Command::RequestVerification { .. } => "request_verification",
            Command::ReportVerification { .. } => "report_verification",
            Command::Dispatch { .. } => "dispatch",
            Command::Accept { .. } => "accept",
            Command::ReturnOrder { .. } => "return_order",
            Command::Handle { .. } => "handle",
            Command::Rework { .. } => "rework",
            Command::Verify { .. } => "verify",
            Command::Close { .. } => "close",
            Command::Extend { .. } => "extend",
            Command::Merge { .. } => "merge",
            Command::Park { .. } => "park",
            Command::Unpark { .. } => "unpark",
            Command::FollowUp { .. } => "follow_up",
        }
    }
}

/// The statuses an action may start from.
pub fn from_statuses(action: &str) -> &'static [Status] {
    use Status::*;
    match action {
        "register" | "reject" | "request_verification" => &[Received],
        "report_verification" => &[Verifying],
        "dispatch" => &[Registered, Returned],
        "accept" => &[Dispatched],
        "return_order" | "handle" => &[Dispatched, Accepted],
        "rework" | "verify" => &[Handled],
        "close" => &[Registered, Verified],
        "extend" => &[
            Registered, Dispatched, Accepted, Returned, Handled, Verified,
        ],
        "merge" => &[Received, Registered, Dispatched, Returned],
        "park" => &[Registered, Dispatched, Accepted, Returned],
        "unpark" => &[Parked],
        "follow_up" => &[Closed],
        _ => &[],
    }
}

/// The roles that may give an action. A department acts only on orders dispatched to it, an
/// inspector only on orders assigned to it, and an urban-management order is registered by
/// the shift lead (supervisor, admin) only.
pub fn roles_for(action: &str) -> &'static [Role] {
    use Role::*;
    match action {
        "register"
        | "reject"
        | "request_verification"
        | "dispatch"
        | "merge"
        | "follow_up"
        | "close" => &[Agent, Supervisor, Admin],
        "accept" | "return_order" | "handle" => &[Department, Supervisor, Admin],
        "report_verification" | "rework" | "verify" => &[Inspector, Supervisor, Admin],
        "extend" | "park" | "unpark" => &[Supervisor, Admin],
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
    pub request_type: String,
    pub category_id: Option<String>,
    pub department_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub follow_up_result: Option<FollowUpResult>,
    /// The inspector a verification task is assigned to.
    pub assignee: Option<String>,
    /// The inspector who reported the order (when it came from role inspector).
    pub reporting_inspector: Option<String>,
    /// Who is told the result: `reporter_id`, else the caller's number.
    pub reporter: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub parked_from: Option<Status>,
}

impl OrderFacts {
    /// An order with only an id and a status known (every other fact empty).
    pub fn new(id: i64, status: Status) -> Self {
        OrderFacts {
            id,
            status,
            request_type: String::new(),
            category_id: None,
            department_id: None,
            deadline: None,
            follow_up_result: None,
            assignee: None,
            reporting_inspector: None,
            reporter: None,
            paused_at: None,
            parked_from: None,
        }
    }
}

/// The world around a command: the time, the calendar, and what the store looked up for it.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a WorkingCalendar,
    /// For a merge: the target's facts.
    pub merge_target: Option<&'a OrderFacts>,
    /// For a register: the registration criteria of the category registered under (they bind
    /// urban-management orders).
    pub register_criteria: Option<&'a str>,
    /// For a dispatch: the department the routing table names for the order.
    pub routed_department: Option<&'a str>,
    /// For a close or a merge: the reporters of the orders merged into this one.
    pub merged_reporters: &'a [String],
}

impl<'a> Context<'a> {
    /// A context with nothing looked up.
    pub fn new(now: DateTime<Utc>, calendar: &'a WorkingCalendar) -> Self {
        Context {
            now,
            calendar,
            merge_target: None,
            register_criteria: None,
            routed_department: None,
            merged_reporters: &[],
        }
    }
}

/// The change a command makes. `None` fields stay as they are; for the `Option<Option<_>>`
/// ones, `Some(None)` clears the column.
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
    pub assignee: Option<Option<String>>,
    pub paused_at: Option<Option<DateTime<Utc>>>,
    pub parked_from: Option<Option<Status>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    /// Outbox rows to write in the same transaction.
    pub notifications: Vec<NewNotification>,
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

/// Longest accepted free text in a command (characters), as for an order's description.
pub const MAX_COMMAND_TEXT: usize = 10_000;

fn capped(field: &'static str, v: &str) -> Result<(), TransitionError> {
    if v.chars().count() > MAX_COMMAND_TEXT {
        Err(TransitionError::Invalid {
            field,
            reason: format!("longer than {MAX_COMMAND_TEXT} characters"),
        })
    } else {
        Ok(())
    }
}

fn required(field: &'static str, v: &str) -> Result<String, TransitionError> {
    let v = v.trim();
    if v.is_empty() {
        Err(TransitionError::Invalid {
            field,
            reason: "must not be empty".into(),
        })
    } else {
        capped(field, v)?;
        Ok(v.to_string())
    }
}

fn optional(field: &'static str, v: &Option<String>) -> Result<Option<String>, TransitionError> {
    let v = v
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(s) = &v {
        capped(field, s)?;
    }
    Ok(v)
}

/// Whether `actor` may give `action` on `order` now: the role (403), the shift-lead rule for
/// urban-management registration (403), a department's ownership and an inspector's assignment
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
    if action == "register"
        && order.request_type == "urban-management"
        && !matches!(actor.role, Role::Supervisor | Role::Admin)
    {
        return Err(TransitionError::Forbidden {
            action,
            role: "agent (urban-management cases are registered by the shift lead)",
        });
    }
    if actor.role == Role::Department
        && (actor.department.is_none() || actor.department != order.department_id)
    {
        return Err(TransitionError::Forbidden {
            action,
            role: "department (the order is not dispatched to yours)",
        });
    }
    if actor.role == Role::Inspector && order.assignee.as_deref() != Some(actor.name.as_str()) {
        return Err(TransitionError::Forbidden {
            action,
            role: "inspector (the order is not assigned to you)",
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

/// The data object of an audit event.
fn data(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
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
    let mut map = serde_json::Map::new();
    match cmd {
        Command::Register {
            category_id,
            note,
            criteria_met,
        } => {
            // 立案标准 are the urban-management standard; 12345 requests are registered on the
            // agent's judgement.
            let urban = order.request_type == "urban-management";
            if let Some(criteria) = ctx.register_criteria.filter(|_| urban) {
                if *criteria_met != Some(true) {
                    return Err(TransitionError::Invalid {
                        field: "criteria_met",
                        reason: format!(
                            "the category's registration criteria must be met (criteria_met: \
                             true): {criteria}"
                        ),
                    });
                }
            }
            ch.to = Some(Status::Registered);
            ch.category_id = optional("category_id", category_id)?;
            ch.note = optional("note", note)?;
            ch.registered_at = Some(ctx.now);
            map = data(serde_json::json!({
                "category_id": ch.category_id.clone().or(order.category_id.clone()),
                "criteria_met": criteria_met,
            }));
        }
        Command::Reject { reason } => {
            ch.to = Some(Status::Rejected);
            ch.closed_at = Some(ctx.now);
            ch.note = Some(required("reason", reason)?);
        }
        Command::RequestVerification { inspector, note } => {
            let inspector = optional("inspector", inspector)?
                .or(order.reporting_inspector.clone())
                .ok_or(TransitionError::Invalid {
                    field: "inspector",
                    reason: "no inspector reported this order; name the inspector to send".into(),
                })?;
            ch.to = Some(Status::Verifying);
            ch.note = optional("note", note)?;
            map = data(serde_json::json!({ "inspector": inspector }));
            ch.notifications.push(notice(
                order,
                "verification_task",
                format!("inspector:{inspector}"),
                "verifying",
            ));
            ch.assignee = Some(Some(inspector));
        }
        Command::ReportVerification { confirmed, note } => {
            ch.to = Some(Status::Received);
            ch.note = optional("note", note)?;
            map = data(serde_json::json!({ "confirmed": confirmed }));
        }
        Command::Dispatch { department, note } => {
            let department = optional("department", department)?
                .or(ctx.routed_department.map(str::to_string))
                .ok_or(TransitionError::Invalid {
                    field: "department",
                    reason: "the routing table has no department for this order's category and \
                             grid cell; name one"
                        .into(),
                })?;
            ch.to = Some(Status::Dispatched);
            ch.dispatched_at = Some(ctx.now);
            map = data(serde_json::json!({
                "department": department,
                "previous_department": order.department_id,
                "redispatch": order.status == Status::Returned,
            }));
            ch.notifications.push(notice(
                order,
                "dispatched",
                format!("department:{department}"),
                "dispatched",
            ));
            ch.department_id = Some(department);
            ch.note = optional("note", note)?;
        }
        Command::Accept { note } => {
            ch.to = Some(Status::Accepted);
            ch.note = optional("note", note)?;
            map = data(serde_json::json!({ "department": order.department_id }));
        }
        Command::ReturnOrder { reason } => {
            ch.to = Some(Status::Returned);
            ch.note = Some(required("reason", reason)?);
            map = data(serde_json::json!({ "department": order.department_id }));
            ch.notifications
                .push(notice(order, "returned", "centre".into(), "returned"));
        }
        Command::Handle { result } => {
            ch.to = Some(Status::Handled);
            ch.note = Some(required("result", result)?);
            ch.handled_at = Some(ctx.now);
            map = data(serde_json::json!({ "department": order.department_id }));
            if let Some(i) = &order.reporting_inspector {
                ch.assignee = Some(Some(i.clone()));
            }
            let assignee = order
                .reporting_inspector
                .as_ref()
                .or(order.assignee.as_ref());
            if let Some(i) = assignee {
                ch.notifications.push(notice(
                    order,
                    "verification_task",
                    format!("inspector:{i}"),
                    "handled",
                ));
            }
        }
        Command::Rework { reason } => {
            ch.to = Some(Status::Dispatched);
            ch.note = Some(required("reason", reason)?);
            map = data(serde_json::json!({ "department": order.department_id }));
        }
        Command::Verify { note } => {
            ch.to = Some(Status::Verified);
            ch.note = optional("note", note)?;
        }
        Command::Close { note } => {
            ch.to = Some(Status::Closed);
            ch.closed_at = Some(ctx.now);
            ch.resolved_at_intake = order.status == Status::Registered;
            ch.note = optional("note", note)?;
            if ch.resolved_at_intake && ch.note.is_none() {
                return Err(TransitionError::Invalid {
                    field: "note",
                    reason: "closing at intake needs the answer given to the citizen".into(),
                });
            }
            map = data(serde_json::json!({ "department": order.department_id }));
            let mut told: Vec<&String> = Vec::new();
            for r in order.reporter.iter().chain(ctx.merged_reporters) {
                if !told.contains(&r) {
                    told.push(r);
                    ch.notifications.push(notice(
                        order,
                        "closed",
                        format!("reporter:{r}"),
                        "closed",
                    ));
                }
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
            map = data(serde_json::json!({
                "previous_deadline": order.deadline,
                "deadline": new,
                "working_days": working_days,
            }));
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
            ch.note = optional("note", note)?;
            map = data(serde_json::json!({ "merged_into": target.id }));
            if let Some(r) = &order.reporter {
                ch.notifications
                    .push(notice(order, "merged", format!("reporter:{r}"), "merged"));
            }
            // Merged into an order already closed: the result is known, so everyone waiting
            // on this order (its reporter and those of orders merged into it) is told now.
            if target.status == Status::Closed {
                let mut told: Vec<&String> = Vec::new();
                for r in order.reporter.iter().chain(ctx.merged_reporters) {
                    if !told.contains(&r) {
                        told.push(r);
                        ch.notifications.push(notice(
                            order,
                            "closed",
                            format!("reporter:{r}"),
                            "closed",
                        ));
                    }
                }
            }
        }
        Command::Park { reason } => {
            ch.to = Some(Status::Parked);
            ch.note = Some(required("reason", reason)?);
            ch.parked_from = Some(Some(order.status));
            map = data(serde_json::json!({ "parked_from": order.status }));
        }
        Command::Unpark { note } => {
            let back = order.parked_from.ok_or(TransitionError::Invalid {
                field: "status",
                reason: "the order does not record the status it was parked from".into(),
            })?;
            ch.to = Some(back);
            ch.note = optional("note", note)?;
            ch.parked_from = Some(None);
            map = data(serde_json::json!({ "status": back }));
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
            ch.note = optional("note", note)?;
            map = data(serde_json::json!({ "result": result }));
        }
    }
    clock(order, &mut ch, &mut map, ctx);
    let deadline = ch.deadline.or(order.deadline);
    match cmd {
        Command::Dispatch { .. } => {
            map.insert("deadline".into(), serde_json::json!(deadline));
        }
        Command::Handle { .. } | Command::Close { .. } => {
            map.insert("deadline".into(), serde_json::json!(deadline));
            map.insert(
                "on_time".into(),
                serde_json::json!(deadline.is_none_or(|d| ctx.now <= d)),
            );
        }
        _ => {}
    }
    for n in &mut ch.notifications {
        if let serde_json::Value::Object(p) = &mut n.payload {
            p.insert("deadline".into(), serde_json::json!(deadline));
            p.insert(
                "department".into(),
                serde_json::json!(ch.department_id.as_ref().or(order.department_id.as_ref())),
            );
        }
    }
    if !map.is_empty() {
        ch.data = serde_json::Value::Object(map);
    }
    Ok(ch)
}

/// Pauses or resumes the deadline clock as the order enters or leaves a pausing status.
/// Resuming moves the deadline on by the working minutes paused and records them.
fn clock(
    order: &OrderFacts,
    ch: &mut Change,
    map: &mut serde_json::Map<String, serde_json::Value>,
    ctx: &Context,
) {
    let from = order.status;
    let to = ch.to.unwrap_or(from);
    if from.pauses_clock() && !to.pauses_clock() {
        let minutes = order
            .paused_at
            .map_or(0, |p| ctx.calendar.working_minutes_between(p, ctx.now));
        if let Some(d) = ch.deadline.or(order.deadline) {
            if minutes > 0 {
                let by = u32::try_from(minutes).unwrap_or(u32::MAX);
                ch.deadline = Some(ctx.calendar.add_working_minutes(d, by));
            }
        }
        ch.paused_at = Some(None);
        map.insert("paused_working_minutes".into(), minutes.into());
    } else if !from.pauses_clock() && to.pauses_clock() {
        ch.paused_at = Some(Some(ctx.now));
    }
}

/// A notification about `order`; the store adds the order's number and title.
fn notice(
    order: &OrderFacts,
    kind: &'static str,
    recipient: String,
    status: &str,
) -> NewNotification {
    NewNotification {
        kind,
        recipient,
        work_order_id: Some(order.id),
        payload: serde_json::json!({ "order_id": order.id, "status": status }),
    }
}
