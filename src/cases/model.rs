//! Rows of the case store as the API shows them, and the inputs that create them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use super::lifecycle::Status;

/// A work order (工单 / 案卷).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct WorkOrder {
    pub id: i64,
    /// Human-readable number: local date + daily serial, e.g. `2026112700042`.
    pub number: String,
    pub channel: String,
    pub request_type: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub priority: String,
    pub title: Option<String>,
    pub description: String,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    pub reporter: Option<String>,
    pub category_id: Option<String>,
    pub address: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub grid_cell: Option<String>,
    pub department_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub merged_into: Option<i64>,
    pub resolved_at_intake: bool,
    pub follow_up_result: Option<String>,
    pub external_ref: Option<String>,
    pub call_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Bumped by every change (optimistic concurrency).
    pub version: i64,
    /// 16-digit component code (GB/T 30428) of a component report.
    pub component_code: Option<String>,
    /// For a 110/119/120/122 transfer: the transferring centre.
    pub transfer_centre: Option<String>,
    /// Who reported: an inspector's id or a channel user's name.
    pub reporter_id: Option<String>,
    /// The grid cell's district at intake.
    pub district: Option<String>,
    /// The inspector a verification task (核实 / 核查) is assigned to.
    pub assignee: Option<String>,
    /// Since when the deadline clock is paused (verifying, returned, parked).
    pub paused_at: Option<DateTime<Utc>>,
    /// For a parked order (挂账): the status it returns to.
    pub parked_from: Option<String>,
    pub registered_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    /// 0 none, 1 overdue (department warned), 2 overdue long (leaders warned).
    pub escalation_level: i32,
    pub near_deadline_notified_at: Option<DateTime<Utc>>,
}

/// What a channel or an agent submits to create an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkOrder {
    /// Defaults to the channel of a channel user, else `phone-12345`.
    pub channel: Option<String>,
    /// consultation, help, suggestion, complaint, report, urban-management.
    pub request_type: String,
    pub priority: Option<String>,
    pub title: Option<String>,
    pub description: String,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    pub reporter: Option<String>,
    pub category_id: Option<String>,
    pub address: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub grid_cell: Option<String>,
    /// Reference in the sending system, e.g. a 110 incident number.
    pub external_ref: Option<String>,
    /// The call this order is created from (ties the call record to the order).
    pub call_id: Option<String>,
}

/// One entry of an order's append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseEvent {
    pub id: i64,
    pub order_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub data: Json<serde_json::Value>,
}

/// A call record (CDR).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CallRecord {
    /// Our own call id.
    pub id: String,
    /// The carrier's SIP Call-ID (of the inbound leg; of the trunk leg for a callback).
    pub sip_call_id: Option<String>,
    /// [`DIRECTIONS`]: a citizen's call in, or a callback out.
    pub direction: String,
    pub trunk: Option<String>,
    pub from_number: String,
    pub to_number: String,
    /// Caller priority (higher is served first; listed numbers).
    pub priority: i32,
    /// Language the caller chose, if the flow offered a choice.
    pub language: Option<String>,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub offered_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    /// First offer to an agent.
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// NULL while the call is in progress; then one of [`DISPOSITIONS`].
    pub disposition: Option<String>,
    /// abandoned: `greeting`, `queue` or `ringing`; rejected: `blacklist` or `closed`; failed:
    /// the SIP cause.
    pub disposition_detail: Option<String>,
    /// Department number or queue the call was transferred to.
    pub transferred_to: Option<String>,
    /// Satisfaction survey: 1 satisfied, 2 basically satisfied, 3 dissatisfied.
    pub survey: Option<i32>,
    /// Absolute, or relative to the data directory.
    pub recording_path: Option<String>,
    /// Where a voicemail message starts in the recording.
    pub voicemail_offset_ms: Option<i64>,
    pub work_order_id: Option<i64>,
    /// Answered but ended without a work order: flagged for supervisors until one is attached.
    pub needs_order: bool,
    /// The callback task this call serves (outbound) or created (inbound).
    pub callback_task_id: Option<i64>,
}

impl CallRecord {
    /// A new inbound call from `from` to `to`, offered at `offered_at`, nothing else known yet.
    pub fn inbound(id: &str, from: &str, to: &str, offered_at: DateTime<Utc>) -> CallRecord {
        CallRecord {
            id: id.to_string(),
            sip_call_id: None,
            direction: "inbound".into(),
            trunk: None,
            from_number: from.to_string(),
            to_number: to.to_string(),
            priority: 0,
            language: None,
            queue: None,
            agent_id: None,
            offered_at,
            queued_at: None,
            ringing_at: None,
            answered_at: None,
            ended_at: None,
            disposition: None,
            disposition_detail: None,
            transferred_to: None,
            survey: None,
            recording_path: None,
            voicemail_offset_ms: None,
            work_order_id: None,
            needs_order: false,
            callback_task_id: None,
        }
    }
}

/// Directions of a call.
pub const DIRECTIONS: &[&str] = &["inbound", "outbound"];

/// One step of a call's append-only trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CallStep {
    /// Assigned by the store (ignored when adding).
    #[serde(default)]
    pub id: i64,
    pub call_id: String,
    pub at: DateTime<Utc>,
    /// One of [`CALL_STEPS`].
    pub step: String,
    pub agent_id: Option<String>,
    pub detail: Option<String>,
}

impl CallStep {
    pub fn new(call_id: &str, at: DateTime<Utc>, step: &str) -> CallStep {
        CallStep {
            id: 0,
            call_id: call_id.to_string(),
            at,
            step: step.to_string(),
            agent_id: None,
            detail: None,
        }
    }
}

/// What can happen to a call, in the order a call usually meets them.
pub const CALL_STEPS: &[&str] = &[
    "offered",
    "greeting",
    "self-service",
    "queued",
    "ringing",
    "no-answer",
    "answered",
    "transferred",
    "hold",
    "resume",
    "voicemail",
    "callback-requested",
    "survey",
    "ended",
    "order-linked",
    "overflow",
    "agent-hung-up",
    "monitor",
    "monitor-stop",
    "force-hangup",
];

/// A number to call back: a missed call (漏接回拨), a caller's request, or a queue's overflow.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CallbackTask {
    pub id: i64,
    /// One of [`CALLBACK_KINDS`].
    pub kind: String,
    pub number: String,
    pub queue: Option<String>,
    /// The call the task comes from.
    pub call_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// One of [`CALLBACK_STATUSES`].
    pub status: String,
    /// The agent who took it last.
    pub agent_id: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not to be taken before this (after an unanswered attempt).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// How it ended (the last attempt's outcome, or why it was cancelled).
    pub result: Option<String>,
    pub work_order_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

pub const CALLBACK_KINDS: &[&str] = &["missed-call", "requested", "overflow"];
pub const CALLBACK_STATUSES: &[&str] = &["open", "taken", "done", "cancelled", "failed"];
pub const CALLBACK_OUTCOMES: &[&str] =
    &["answered", "no-answer", "busy", "failed", "agent-no-answer"];

/// What creates a callback task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallbackTask {
    pub kind: String,
    pub number: String,
    pub queue: Option<String>,
    pub call_id: Option<String>,
    /// From `[callbacks] max_attempts`.
    pub max_attempts: i32,
    pub work_order_id: Option<i64>,
}

/// One try to call a task's number back.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CallbackAttempt {
    pub id: i64,
    pub task_id: i64,
    pub at: DateTime<Utc>,
    pub agent_id: Option<String>,
    /// The outbound call of the attempt.
    pub call_id: Option<String>,
    /// One of [`CALLBACK_OUTCOMES`].
    pub outcome: String,
    pub detail: Option<String>,
}

/// How a call ended (DESIGN.md: offered = the sum of these).
pub const DISPOSITIONS: &[&str] = &[
    "answered",
    "abandoned",
    "voicemail",
    "callback-requested",
    "rejected",
    "failed",
];

/// A GB/T 30428 event/component class or a 12345 service category.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: String,
    pub kind: String,
    pub major_code: String,
    pub minor_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub parent_id: Option<String>,
    pub deadline_hours: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct GridCell {
    pub code: String,
    pub name: String,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Department {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
}

/// Filters and paging for listing orders.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub request_type: Option<String>,
    pub category_id: Option<String>,
    pub department_id: Option<String>,
    pub caller_number: Option<String>,
    pub grid_cell: Option<String>,
    /// Free text in the number, title, description, address or caller's number.
    pub q: Option<String>,
    /// Open orders past their deadline.
    pub overdue: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Set by the API for an inspector: only orders it reported or is assigned.
    #[serde(skip)]
    pub inspector: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub next_offset: Option<i64>,
}
