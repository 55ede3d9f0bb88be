//! Creating work orders with group commit. Every new order needs the next serial of its day, and
//! that counter row is a point of serialisation: one transaction per order would hold its lock
//! through every commit, so creates could go no faster than one disk flush each. Instead one
//! writer task takes whatever creates are waiting (up to [`MAX_BATCH`]) and writes them in one
//! transaction: the counter moves by the batch size once, the orders and their `create` audit
//! events go in with one multi-row INSERT each, and one commit makes them all durable. Numbers
//! stay gap-free. If a batch is refused because of one order (say, it names a call that does not
//! exist), each of its orders is retried alone, so one bad request never fails another; if the
//! database itself fails, every order of the batch is answered at once (503), never retried into
//! the same failure nor written twice.
//!
//! An intake report ([`Extras`]) adds its columns, its photos' attachment rows (tied to the
//! create event), its idempotency key and its duplicate-merge proposals to the same transaction;
//! a key already taken refuses that one order, like any other one-order fault.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tokio::sync::{mpsc, oneshot};

use super::attachments::{Attachment, ATTACHMENT_COLUMNS};
use super::proposals::{self, MergeProposal, MergeRule};
use super::{with_db, Db, StoreError};
use crate::cases::lifecycle::{Actor, Status};
use crate::cases::model::{NewWorkOrder, WorkOrder};
use crate::cases::photos::{NewAttachment, INSERT_ATTACHMENT};

/// Most orders written in one transaction (PostgreSQL allows 65,535 parameters a statement; a
/// batch of 64 uses 64 × 25 + 64 × 6 = 1,984).
pub(super) const MAX_BATCH: usize = 64;

/// Creates waiting for the writer (beyond this, callers wait to enqueue).
const QUEUE: usize = 4096;

/// A checked order, ready to be written.
pub(super) struct Prepared {
    pub new: NewWorkOrder,
    pub deadline: Option<DateTime<Utc>>,
    /// Local date, `YYYYMMDD`: the number's prefix and the counter's key.
    pub day: String,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// [`crate::cases::search_fold`] of the order's searchable text.
    pub search_text: String,
    /// What an intake report adds (all empty for an order created by an agent).
    pub extra: Extras,
}

/// The columns, files and key an intake report (`POST /api/v1/reports`) writes with its order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    pub component_code: Option<String>,
    pub transfer_centre: Option<String>,
    pub reporter_id: Option<String>,
    pub district: Option<String>,
    /// Photos already kept on disk, tied to the order and its create event.
    pub attachments: Vec<NewAttachment>,
    /// The idempotency key, stored with the order.
    pub key: Option<IntakeKey>,
    /// Look for duplicates to propose merging (needs a category and coordinates).
    pub merge: Option<MergeRule>,
}

/// An idempotency key and the hash of the request that first used it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IntakeKey {
    pub user_name: String,
    pub key: String,
    pub request_sha256: String,
}

/// What one create wrote.
#[derive(Debug, Clone)]
pub(crate) struct Created {
    pub order: WorkOrder,
    pub attachments: Vec<Attachment>,
    pub merge_proposals: Vec<MergeProposal>,
}

/// The field an idempotency key taken by an earlier request is reported on (the API then
/// answers that request's result).
pub(crate) const KEY_FIELD: &str = "Idempotency-Key";

struct Job {
    order: Prepared,
    reply: oneshot::Sender<Result<Created, StoreError>>,
}

/// The handle to the writer task; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(super) struct Creator(mpsc::Sender<Job>);

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("create job")
    }
}

impl Creator {
    /// Starts the writer task on the current runtime.
    pub(super) fn spawn(
        db: Db,
        query_seconds: prometheus_client::metrics::histogram::Histogram,
    ) -> Creator {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, query_seconds, rx));
        Creator(tx)
    }

    /// True once the writer task has ended (it never should while the store is in use).
    pub(super) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    pub(super) async fn create(&self, order: Prepared) -> Result<WorkOrder, StoreError> {
        Ok(self.create_full(order).await?.order)
    }

    /// Writes an order with everything its [`Extras`] carry.
    pub(super) async fn create_full(&self, order: Prepared) -> Result<Created, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Job { order, reply })
            .await
            .map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }
}

/// What the writer task owns: the pools (never a `Store`, which holds the task's sender).
struct Writer {
    db: Db,
    query_seconds: prometheus_client::metrics::histogram::Histogram,
    /// The INSERT texts per batch size, built once (and so prepared once per connection).
    sql: Vec<Option<(String, String)>>,
}

async fn run(
    db: Db,
    query_seconds: prometheus_client::metrics::histogram::Histogram,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut w = Writer {
        db,
        query_seconds,
        sql: vec![None; MAX_BATCH + 1],
    };
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let orders: Vec<&Prepared> = batch.iter().map(|j| &j.order).collect();
        tracing::trace!(orders = orders.len(), "writing a batch of new work orders");
        match w.write_batch(&orders).await {
            Ok(written) => {
                for (job, order) in batch.drain(..).zip(written) {
                    let _ = job.reply.send(Ok(order));
                }
            }
            Err(e) if !is_about_one_order(&e) => {
                // The database itself failed (unreachable, timed out, connection lost, or an
                // unknown outcome of COMMIT): answer every waiting create at once rather than
                // retrying each into the same failure, and never write a batch twice.
                tracing::warn!(error = %e, orders = batch.len(), "writing new work orders failed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(shared_failure(&e)));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, orders = batch.len(), "batch refused; writing its orders one by one");
                for job in batch.drain(..) {
                    let result = w.write_batch(&[&job.order]).await;
                    let _ = job.reply.send(match result {
                        Ok(mut v) => Ok(v.remove(0)),
                        Err(e) if is_about_one_order(&e) => Err(e),
                        Err(e) => Err(shared_failure(&e)),
                    });
                }
            }
        }
    }
}

/// Whether a batch's failure may be down to one of its orders (a refused value or constraint),
/// so that writing the orders one by one lets the others through.
fn is_about_one_order(e: &StoreError) -> bool {
    use sqlx::error::ErrorKind;
    match e {
        StoreError::Invalid { .. } => true,
        // A violated constraint, or (PostgreSQL class 22) a value the database refuses.
        StoreError::Db(sqlx::Error::Database(db)) => {
            !matches!(db.kind(), ErrorKind::Other) || db.code().is_some_and(|c| c.starts_with("22"))
        }
        _ => false,
    }
}

/// What every order of a batch is told when the batch failed for no fault of its own: the
/// database is unavailable (503), or something is wrong on our side (500, logged above).
fn shared_failure(e: &StoreError) -> StoreError {
    match e {
        StoreError::Db(
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed,
        )
        | StoreError::Unavailable => StoreError::Unavailable,
        other => StoreError::Internal(other.to_string()),
    }
}

const INSERT_ORDER_COLUMNS: &str = "number, channel, request_type, status, priority, title, \
    description, caller_number, caller_name, reporter, category_id, address, longitude, latitude, \
    grid_cell, deadline, external_ref, call_id, created_by, created_at, updated_at, search_text, \
    component_code, transfer_centre, reporter_id, district";
/// Parameters per order row (`updated_at` reuses `created_at`'s).
const ORDER_PARAMS: usize = 25;
const EVENT_PARAMS: usize = 6;

/// `rows` tuples of `per_row` parameters each: `template` names a row's parameters `{1}` …
/// `{per_row}`, e.g. `values(2, 2, "{1}, 'x', {2}")` is `($1, 'x', $2), ($3, 'x', $4)`.
fn values(rows: usize, per_row: usize, template: &str) -> String {
    (0..rows)
        .map(|r| {
            let mut row = template.to_string();
            for k in 1..=per_row {
                row = row.replace(&format!("{{{k}}}"), &format!("${}", r * per_row + k));
            }
            format!("({row})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two INSERTs for a batch of `rows` orders, from `cache` or built there.
fn statements(cache: &mut [Option<(String, String)>], rows: usize) -> (&str, &str) {
    let (orders, events) = cache[rows].get_or_insert_with(|| {
        let order_row: Vec<String> = (1..=20).map(|k| format!("{{{k}}}")).collect();
        let orders = format!(
            "INSERT INTO work_orders ({INSERT_ORDER_COLUMNS}) VALUES {} RETURNING {}",
            // updated_at = created_at, then search_text
            values(
                rows,
                ORDER_PARAMS,
                &format!(
                    "{}, {{20}}, {{21}}, {{22}}, {{23}}, {{24}}, {{25}}",
                    order_row.join(", ")
                )
            ),
            super::orders::ORDER_COLUMNS
        );
        let events = format!(
            "INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, \
             to_status, note, data) VALUES {}",
            values(
                rows,
                EVENT_PARAMS,
                "{1}, {2}, {3}, {4}, 'create', NULL, {5}, NULL, {6}"
            ) + " RETURNING id, order_id"
        );
        (orders, events)
    });
    (orders, events)
}

impl Writer {
    /// Writes `orders` (all or none) and returns them as stored, in the same order.
    async fn write_batch(&mut self, orders: &[&Prepared]) -> Result<Vec<Created>, StoreError> {
        // Serials are per day: each day's block comes from its counter row.
        let mut days: Vec<(&str, i64, i64)> = Vec::new(); // (day, orders, next serial)
        for o in orders {
            match days.iter_mut().find(|(d, _, _)| *d == o.day) {
                Some((_, n, _)) => *n += 1,
                None => days.push((&o.day, 1, 0)),
            }
        }
        let (insert_orders, insert_events) = statements(&mut self.sql, orders.len());
        let written = with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for (day, n, next) in days.iter_mut() {
                let last: i64 = sqlx::query_scalar(
                    "INSERT INTO order_counters (day, last_serial) VALUES ($1, $2)
                 ON CONFLICT (day) DO UPDATE SET last_serial = order_counters.last_serial + $2
                 RETURNING last_serial",
                )
                .bind(*day)
                .bind(*n)
                .fetch_one(&mut *tx)
                .await?;
                *next = last - *n + 1;
            }
            let numbers: Vec<(&Prepared, String)> = orders
                .iter()
                .map(|o| {
                    let (day, _, next) = days
                        .iter_mut()
                        .find(|(d, _, _)| *d == o.day)
                        .expect("every day has its block");
                    *next += 1;
                    (*o, format!("{day}{:05}", *next - 1))
                })
                .collect();
            let mut q = sqlx::query_as::<_, WorkOrder>(insert_orders);
            for (o, number) in &numbers {
                let n = &o.new;
                q = q
                    .bind(number.clone())
                    .bind(n.channel.clone())
                    .bind(n.request_type.clone())
                    .bind(Status::Received.as_str())
                    .bind(n.priority.clone())
                    .bind(n.title.clone())
                    .bind(n.description.trim().to_string())
                    .bind(n.caller_number.clone())
                    .bind(n.caller_name.clone())
                    .bind(n.reporter.clone())
                    .bind(n.category_id.clone())
                    .bind(n.address.clone())
                    .bind(n.longitude)
                    .bind(n.latitude)
                    .bind(n.grid_cell.clone())
                    .bind(o.deadline)
                    .bind(n.external_ref.clone())
                    .bind(n.call_id.clone())
                    .bind(o.actor.name.clone())
                    .bind(o.now)
                    .bind(o.search_text.clone())
                    .bind(o.extra.component_code.clone())
                    .bind(o.extra.transfer_centre.clone())
                    .bind(o.extra.reporter_id.clone())
                    .bind(o.extra.district.clone());
            }
            let mut rows = q.fetch_all(&mut *tx).await?;
            // RETURNING rows need not come back in VALUES order: match them by number.
            let mut written = Vec::with_capacity(rows.len());
            for (_, number) in &numbers {
                let i = rows
                    .iter()
                    .position(|r| &r.number == number)
                    .ok_or_else(|| StoreError::Db(sqlx::Error::RowNotFound))?;
                written.push(rows.swap_remove(i));
            }
            for ((o, _), order) in numbers.iter().zip(&written) {
                if let Some(call_id) = &o.new.call_id {
                    let tied = sqlx::query(
                        "UPDATE calls SET work_order_id = $1, needs_order = FALSE \
                         WHERE id = $2 AND work_order_id IS NULL",
                    )
                    .bind(order.id)
                    .bind(call_id)
                    .execute(&mut *tx)
                    .await?;
                    if tied.rows_affected() == 0 {
                        return Err(StoreError::invalid(
                            "call_id",
                            format!(
                                "no call {call_id:?} without an order (a call ties to one order)"
                            ),
                        ));
                    }
                    // The call's history shows the tie, as when a call is attached later.
                    sqlx::query(
                        "INSERT INTO call_steps (call_id, at, step, agent_id, detail) \
                         SELECT id, $2, 'order-linked', agent_id, $3 FROM calls WHERE id = $1",
                    )
                    .bind(call_id)
                    .bind(o.now)
                    .bind(order.id.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut q = sqlx::query_as::<_, (i64, i64)>(insert_events);
            for ((o, _), order) in numbers.iter().zip(&written) {
                q = q
                    .bind(order.id)
                    .bind(o.now)
                    .bind(o.actor.name.clone())
                    .bind(o.actor.role.as_str())
                    .bind(Status::Received.as_str())
                    .bind(Json(serde_json::json!({
                        "channel": o.new.channel,
                        "deadline": o.deadline,
                    })));
            }
            let event_ids = q.fetch_all(&mut *tx).await?;
            let mut created = Vec::with_capacity(written.len());
            for ((o, _), order) in numbers.iter().zip(written) {
                let event_id = event_ids
                    .iter()
                    .find(|(_, order_id)| *order_id == order.id)
                    .map(|(id, _)| *id);
                let mut attachments = Vec::with_capacity(o.extra.attachments.len());
                for a in &o.extra.attachments {
                    let row = sqlx::query_as::<_, Attachment>(&format!(
                        "{INSERT_ATTACHMENT} RETURNING {ATTACHMENT_COLUMNS}"
                    ))
                    .bind(order.id)
                    .bind(event_id)
                    .bind(&a.kind)
                    .bind(&a.path)
                    .bind(&a.content_type)
                    .bind(a.bytes)
                    .bind(&a.sha256)
                    .bind(&o.actor.name)
                    .bind(o.now)
                    .fetch_one(&mut *tx)
                    .await?;
                    attachments.push(row.with_url());
                }
                if let Some(k) = &o.extra.key {
                    // A key taken meanwhile (a concurrent retry) refuses this order: the API
                    // answers with the order that took it.
                    let stored = sqlx::query(
                        "INSERT INTO intake_keys (user_name, key, request_sha256, work_order_id, \
                         created_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (user_name, key) DO NOTHING",
                    )
                    .bind(&k.user_name)
                    .bind(&k.key)
                    .bind(&k.request_sha256)
                    .bind(order.id)
                    .bind(o.now)
                    .execute(&mut *tx)
                    .await?;
                    if stored.rows_affected() == 0 {
                        return Err(StoreError::invalid(
                            KEY_FIELD,
                            "already used by another request",
                        ));
                    }
                }
                let mut merge_proposals = Vec::new();
                if let (Some(rule), Some(cat), Some(lon), Some(lat)) = (
                    o.extra.merge,
                    order.category_id.as_deref(),
                    order.longitude,
                    order.latitude,
                ) {
                    let (x0, x1, y0, y1) =
                        crate::cases::geo::bounding_box(lon, lat, rule.distance_m);
                    let since = o.now - chrono::Duration::hours(i64::from(rule.window_hours));
                    let found: Vec<proposals::Candidate> =
                        sqlx::query_as(proposals::CANDIDATES_SQL)
                            .bind(cat)
                            .bind(since)
                            .bind(order.id)
                            .bind(x0)
                            .bind(x1)
                            .bind(y0)
                            .bind(y1)
                            .fetch_all(&mut *tx)
                            .await?;
                    for (candidate_id, candidate_number, distance_m) in
                        proposals::near(lon, lat, rule.distance_m, found)
                    {
                        let id: Option<i64> = sqlx::query_scalar(proposals::INSERT_PROPOSAL_SQL)
                            .bind(order.id)
                            .bind(candidate_id)
                            .bind(distance_m)
                            .bind(o.now)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if let Some(id) = id {
                            merge_proposals.push(MergeProposal {
                                id,
                                order_id: order.id,
                                order_number: order.number.clone(),
                                candidate_id,
                                candidate_number,
                                category_id: order.category_id.clone(),
                                distance_m,
                                status: "pending".into(),
                                created_at: o.now,
                                decided_by: None,
                                decided_at: None,
                                note: None,
                            });
                        }
                    }
                }
                created.push(Created {
                    order,
                    attachments,
                    merge_proposals,
                });
            }
            tx.commit().await?;
            created
        });
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::values;

    #[test]
    fn values_numbers_parameters_per_row() {
        assert_eq!(values(2, 3, "{1}, {2}, {3}"), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(
            values(2, 2, "{1}, NULL, {2}, {2}"),
            "($1, NULL, $2, $2), ($3, NULL, $4, $4)"
        );
        // {1} is not mistaken for the start of {12}.
        assert_eq!(values(1, 12, "{12}, {1}"), "($12, $1)");
    }
}
