//! Reading and settling the notification outbox: the rows due for delivery (oldest first), the
//! outcome of each attempt (delivered; retried later; given up), the list the API shows, and the
//! in-process signals the delivery task shares with the writers (a wake-up after a write, the
//! counters `/metrics` reads).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::calls::one_of;
use super::query::{paging, Arg, Where};
use super::{with_db, OrderKey, Store, StoreError};
use crate::cases::model::Page;

const COLUMNS: &str = "id, created_at, kind, recipient, work_order_id, payload, attempts, \
    next_attempt_at, delivered_at, failed_at, last_error";

/// Statuses a notification can be listed by.
pub const NOTIFICATION_STATUSES: &[&str] = &["pending", "delivered", "failed"];

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// One of [`super::NOTIFICATION_KINDS`].
    pub kind: String,
    /// `department:<id>`, `inspector:<id>`, `reporter:<name or number>`, `leaders`, `centre`.
    pub recipient: String,
    pub work_order_id: Option<i64>,
    pub payload: Json<serde_json::Value>,
    /// Delivery attempts that failed so far.
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Notification {
    /// pending, delivered or failed.
    pub fn status(&self) -> &'static str {
        match (self.delivered_at, self.failed_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "failed",
            (None, None) => "pending",
        }
    }
}

/// Filters and paging for listing notifications.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// pending, delivered or failed.
    pub status: Option<String>,
    /// An order id or number.
    pub order: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// What the delivery task and the writers of the outbox share in the process: a wake-up for
/// the task after a write, and the counts `/metrics` shows.
#[derive(Debug, Default)]
pub struct OutboxSignals {
    wake: tokio::sync::Notify,
    delivered: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    /// -1 until the delivery task has counted once.
    pending: AtomicI64,
}

impl OutboxSignals {
    pub(super) fn new() -> Self {
        OutboxSignals {
            pending: AtomicI64::new(-1),
            ..Default::default()
        }
    }

    /// Wakes the delivery task (call after committing outbox rows).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves at the next [`OutboxSignals::wake`] (or at once if one came since the last wait).
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// Notifications delivered since the process started.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Notifications given up (failed after the last attempt) since the process started.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Attempts that failed and were scheduled again since the process started.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Notifications waiting at the delivery task's last count (`None` before its first).
    pub fn pending(&self) -> Option<i64> {
        Some(self.pending.load(Ordering::Relaxed)).filter(|n| *n >= 0)
    }
}

impl Store {
    /// The outbox's in-process signals (wake-up, counters).
    pub fn outbox(&self) -> &OutboxSignals {
        &self.outbox
    }

    /// Up to `limit` notifications due at `now` (not delivered, not given up, next attempt
    /// reached), oldest first.
    pub async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, Notification>(&format!(
                "SELECT {COLUMNS} FROM notifications
                 WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                 ORDER BY id LIMIT $2"
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Counts the notifications not delivered and not given up (due or waiting for a retry),
    /// and keeps the figure for `/metrics`.
    pub async fn count_pending_notifications(&self) -> Result<i64, StoreError> {
        let n: i64 = with_db!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL AND failed_at IS NULL",
            )
            .fetch_one(pool)
            .await?
        });
        self.outbox.pending.store(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Marks a notification delivered; false if it was already settled (another process).
    pub async fn mark_notification_delivered(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = with_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE notifications SET delivered_at = $1
                 WHERE id = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done > 0 {
            self.outbox.delivered.fetch_add(1, Ordering::Relaxed);
        }
        Ok(done > 0)
    }

    /// Records a failed attempt: the attempt count goes up and the error is kept; the
    /// notification is due again at `retry_at`, or given up (failed_at = now) when `retry_at`
    /// is `None`. False if it was already settled.
    pub async fn mark_notification_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Errors from a remote server can be long: keep the start.
        let error: String = error.chars().take(1000).collect();
        let done = with_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE notifications SET attempts = attempts + 1, last_error = $1,
                   next_attempt_at = COALESCE($2, next_attempt_at),
                   failed_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END
                 WHERE id = $4 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(&error)
            .bind(retry_at)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done > 0 {
            let counter = match retry_at {
                Some(_) => &self.outbox.retried,
                None => &self.outbox.failed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(done > 0)
    }

    /// Notifications matching `q`, newest first.
    pub async fn list_notifications(
        &self,
        q: &NotificationQuery,
    ) -> Result<Page<Notification>, StoreError> {
        let (limit, offset) = paging(q.limit, q.offset)?;
        one_of("status", q.status.as_deref(), NOTIFICATION_STATUSES)?;
        let mut w = Where::default();
        match q.status.as_deref() {
            Some("pending") => w
                .clauses
                .push("delivered_at IS NULL AND failed_at IS NULL".into()),
            Some("delivered") => w.clauses.push("delivered_at IS NOT NULL".into()),
            Some("failed") => w
                .clauses
                .push("delivered_at IS NULL AND failed_at IS NOT NULL".into()),
            _ => {}
        }
        if let Some(order) = q.order.as_deref().map(str::trim) {
            match OrderKey::parse(order) {
                // A parsed integer: safe to write into the statement.
                Some(OrderKey::Id(id)) => w.clauses.push(format!("work_order_id = {id}")),
                Some(OrderKey::Number(number)) => {
                    let n = w.push(Arg::Text(number));
                    w.clauses.push(format!(
                        "work_order_id IN (SELECT id FROM work_orders WHERE number = ${n})"
                    ));
                }
                None => {
                    return Err(StoreError::invalid(
                        "order",
                        format!("{order:?} is not an order id or number"),
                    ))
                }
            }
        }
        self.fetch_page(&w, (COLUMNS, "notifications", "id DESC"), (limit, offset))
            .await
    }
}
