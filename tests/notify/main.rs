//! Notifications and the deadline sweeper: the sweeper's pure decisions on a fake clock; the
//! notifiers (log, webhook against a local receiver with its bearer token); the delivery task's
//! retries with doubling pauses and its give-up, across a restart; the sweep applied in the
//! store (levels, events, notices, version conflicts); and `GET /api/v1/notifications` — the
//! store and API parts on SQLite and on the real PostgreSQL.

#[path = "../common/mod.rs"]
mod common;
mod delivery;
mod listing;
mod receiver;
mod store_sweep;
mod sweep_pure;

use chrono::{DateTime, Utc};
use common::TestStore;
use delivery::*;
use listing::*;
use store_sweep::*;

both_backends!(
    webhook_delivers_with_bearer_token,
    retried_with_doubling_pauses_then_delivered,
    unreachable_receiver_fails_after_max_attempts,
    task_delivers_after_a_wake_and_after_a_restart,
    delivered_rows_marked_before_the_round_ends,
    sweep_near_deadline_once_per_deadline,
    sweep_escalates_with_events_and_notices,
    sweep_skips_paused_orders_and_stale_versions,
    sweep_candidates_never_starve_new_orders,
    sweeper_task_escalates_and_the_notice_is_delivered,
    notifications_listed_by_status_and_order,
    notifications_list_refuses_bad_input_and_other_roles,
);

/// Runs raw SQL on the test store's database (binds: text, or time for `$n` where given).
pub enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
    Time(Option<DateTime<Utc>>),
}

pub async fn sql(ts: &TestStore, query: &str, binds: Vec<Bind>) {
    use sqlx::Connection;
    macro_rules! run {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(&ts.url).await.unwrap();
            let mut q = sqlx::query(query);
            for b in binds {
                q = match b {
                    Bind::Text(v) => q.bind(v),
                    Bind::Int(v) => q.bind(v),
                    Bind::Time(v) => q.bind(v),
                };
            }
            q.execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{query}: {e}"));
            let _ = c.close().await;
        }};
    }
    if ts.url.starts_with("postgres") {
        run!(sqlx::PgConnection)
    } else {
        run!(sqlx::SqliteConnection)
    }
}

/// Enqueues a notification as the workflow does (INSERT_NOTIFICATION).
pub async fn enqueue(
    ts: &TestStore,
    kind: &str,
    recipient: &str,
    order: Option<i64>,
    payload: serde_json::Value,
    at: DateTime<Utc>,
) {
    use sqlx::types::Json;
    use sqlx::Connection;
    macro_rules! run {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(&ts.url).await.unwrap();
            sqlx::query(hotline::cases::store::INSERT_NOTIFICATION)
                .bind(at)
                .bind(kind)
                .bind(recipient)
                .bind(order)
                .bind(Json(&payload))
                .bind(at)
                .execute(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
        }};
    }
    if ts.url.starts_with("postgres") {
        run!(sqlx::PgConnection)
    } else {
        run!(sqlx::SqliteConnection)
    }
}
