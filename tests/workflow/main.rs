//! The 数字城管 workflow through the store and the HTTP API, on SQLite and on the real
//! PostgreSQL: verification tasks, shift-lead registration against the criteria, routed
//! dispatch, acceptance, handling with photos, verification, closure; the clock paused while
//! returned or parked; the notification outbox written with each change; the inbox; and the
//! refusals of a transition with photos, each writing nothing.

#[path = "../common/mod.rs"]
mod common;
mod fixes;
mod http;
mod store;

use chrono::{DateTime, TimeZone, Utc};
use common::{Backend, TestStore};
use hotline::cases::store::OrderKey;
use hotline::cases::{Actor, Command, NewWorkOrder, StoreError, WorkOrder};
use hotline::config::Role;
use serde_json::Value;

use fixes::*;
use http::*;
use store::*;

both_backends!(
    urban_case_from_inspector_to_closure,
    returned_and_parked_orders_pause_the_clock,
    merge_and_close_tell_every_reporter,
    transition_with_photos_and_its_refusals,
    inbox_of_departments_and_inspectors,
    escalation_starts_again_after_redispatch_and_extend,
    register_keeps_the_verification_pause,
    chained_merges_tell_every_reporter,
    command_text_and_json_body_caps,
);

pub(crate) fn who(name: &str, role: Role) -> Actor {
    Actor {
        name: name.into(),
        role,
        department: None,
    }
}

pub(crate) fn dept(id: &str) -> Actor {
    Actor {
        name: format!("dept-{id}"),
        role: Role::Department,
        department: Some(id.into()),
    }
}

pub(crate) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Runs raw SQL against the test database (for facts only intake would set, and for counts).
pub(crate) async fn exec(ts: &TestStore, sql: &str) {
    if ts.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&ts.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&ts.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

pub(crate) async fn count(ts: &TestStore, sql: &str) -> i64 {
    if ts.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&ts.url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(&ts.url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// The notification outbox of an order: (kind, recipient) in order.
pub(crate) async fn outbox(ts: &TestStore, order: i64) -> Vec<(String, String)> {
    let sql = format!(
        "SELECT kind, recipient FROM notifications WHERE work_order_id = {order} ORDER BY id"
    );
    if ts.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&ts.url).await.unwrap();
        let rows = sqlx::query_as(&sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&ts.url).await.unwrap();
        let rows = sqlx::query_as(&sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

/// An urban-management report by inspector `inspector` (reporter_id set as intake sets it).
pub(crate) async fn inspector_report(
    ts: &TestStore,
    inspector: &str,
    category: &str,
    grid: &str,
    now: DateTime<Utc>,
) -> i64 {
    let new = NewWorkOrder {
        channel: Some("field-inspector".into()),
        request_type: "urban-management".into(),
        description: "井盖缺失 manhole cover missing".into(),
        category_id: Some(category.into()),
        grid_cell: Some(grid.into()),
        ..Default::default()
    };
    let o = ts
        .store
        .create_order(
            new,
            &who(inspector, Role::Inspector),
            Some("field-inspector"),
            now,
        )
        .await
        .expect("create");
    exec(
        ts,
        &format!(
            "UPDATE work_orders SET reporter_id = '{inspector}' WHERE id = {}",
            o.id
        ),
    )
    .await;
    o.id
}

pub(crate) async fn complaint(ts: &TestStore, caller: &str, now: DateTime<Utc>) -> i64 {
    let new = NewWorkOrder {
        request_type: "complaint".into(),
        description: "噪音扰民 noise at night".into(),
        caller_number: Some(caller.into()),
        category_id: Some("E0101".into()),
        ..Default::default()
    };
    ts.store
        .create_order(new, &who("agent-1001", Role::Agent), None, now)
        .await
        .expect("create")
        .id
}

pub(crate) async fn run(
    ts: &TestStore,
    id: i64,
    cmd: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> WorkOrder {
    ts.store
        .transition(&OrderKey::Id(id), &cmd, actor, now)
        .await
        .unwrap_or_else(|e| panic!("{cmd:?} by {actor:?}: {e}"))
}

pub(crate) async fn refused(
    ts: &TestStore,
    id: i64,
    cmd: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreError {
    ts.store
        .transition(&OrderKey::Id(id), &cmd, actor, now)
        .await
        .expect_err("refused")
}

/// The data of the order's latest event of `action`.
pub(crate) async fn event_data(ts: &TestStore, id: i64, action: &str) -> Value {
    let events = ts.store.order_events(id).await.unwrap();
    events
        .iter()
        .rev()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no {action} event"))
        .data
        .0
        .clone()
}
