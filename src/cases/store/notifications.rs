//! The notification outbox: rows written in the transaction of the change that causes them
//! (a dispatch, a verification task, a merge, a closure) or by the deadline sweeper, and
//! delivered afterwards by the notifier task with retries.

use serde::Serialize;

/// What a notification is about.
pub const NOTIFICATION_KINDS: &[&str] = &[
    "dispatched",
    "verification_task",
    "near_deadline",
    "overdue",
    "escalated",
    "returned",
    "merged",
    "closed",
];

/// A notification to enqueue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewNotification {
    /// One of [`NOTIFICATION_KINDS`].
    pub kind: &'static str,
    /// `department:<id>`, `inspector:<id>`, `reporter:<name or number>`, `leaders`.
    pub recipient: String,
    pub work_order_id: Option<i64>,
    /// What the recipient is told (order number, title, deadline, …).
    pub payload: serde_json::Value,
}

/// Inserts one outbox row: $1 created at, $2 kind, $3 recipient, $4 order id, $5 payload (JSON),
/// $6 next attempt at (= created at).
pub const INSERT_NOTIFICATION: &str = "INSERT INTO notifications \
    (created_at, kind, recipient, work_order_id, payload, next_attempt_at) \
    VALUES ($1, $2, $3, $4, $5, $6)";
