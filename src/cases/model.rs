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
    pub id: String,
    pub trunk: Option<String>,
    pub from_number: String,
    pub to_number: String,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub offered_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// NULL while the call is in progress; then one of [`DISPOSITIONS`].
    pub disposition: Option<String>,
    pub disposition_detail: Option<String>,
    pub recording_path: Option<String>,
    pub work_order_id: Option<i64>,
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
