//! The case store against SQLite and the real PostgreSQL: the whole lifecycle with its audit
//! trail, refused transitions, numbers, deadlines across a weekend and a holiday, concurrency,
//! call records, listing and validation.

mod audit;
mod calls;
#[path = "../common/mod.rs"]
mod common;
mod integrity;
mod lifecycle;
mod records;

use chrono::{DateTime, TimeZone, Utc};
use common::{Backend, TestStore};
use hotline::cases::lifecycle::{FollowUpResult, TransitionError};
use hotline::cases::store::{CallQuery, OrderKey};
use hotline::cases::{Actor, CallRecord, Command, NewWorkOrder, OrderQuery, Status, StoreError};
use hotline::config::Role;

use audit::*;
use calls::*;
use integrity::*;
use lifecycle::*;
use records::*;

both_backends!(
    full_lifecycle_with_audit_trail,
    reject_and_close_at_intake,
    refused_transitions_change_nothing,
    merge_duplicate,
    extend_deadline,
    numbers_count_per_local_day,
    deadlines_across_weekend_and_holiday,
    concurrent_creates_and_transitions,
    creates_fail_fast_when_the_database_is_gone,
    audit_trail_is_append_only,
    call_records,
    list_search_and_paging,
    invalid_new_orders_name_the_field,
    removed_departments_are_inactive,
    call_path_columns_round_trip,
    call_steps_are_append_only,
    call_list_filters,
    link_call_to_order_with_case_event,
    orders_made_by_calls,
    orders_for_caller_open_first,
    callback_task_lifecycle,
    concurrent_takes_one_winner,
    missed_call_tasks_cancelled_by_an_answered_call,
    survey_on_call_and_order,
    audit_log_append_only_and_filtered,
    calls_without_order_oldest_end_first,
);

pub(crate) fn actor(role: Role) -> Actor {
    Actor {
        name: format!("test-{}", role.as_str()),
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

/// Asserts that `cmd` by `who` on order `id` is refused as invalid, naming `field`.
pub(crate) async fn refused(
    ts: &TestStore,
    id: i64,
    cmd: &Command,
    who: &Actor,
    now: DateTime<Utc>,
    field: &str,
) {
    match ts.store.transition(&OrderKey::Id(id), cmd, who, now).await {
        Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field, "{cmd:?}"),
        other => panic!("{cmd:?}: expected Invalid {field}, got {other:?}"),
    }
}

/// Register (立案) without changing anything.
pub(crate) fn register() -> Command {
    Command::Register {
        category_id: None,
        note: None,
        criteria_met: None,
    }
}

pub(crate) fn complaint(text: &str) -> NewWorkOrder {
    NewWorkOrder {
        request_type: "complaint".into(),
        description: text.into(),
        caller_number: Some("13800000000".into()),
        ..Default::default()
    }
}

pub(crate) async fn create(ts: &TestStore, new: NewWorkOrder, now: DateTime<Utc>) -> i64 {
    ts.store
        .create_order(new, &actor(Role::Agent), None, now)
        .await
        .expect("create")
        .id
}

pub(crate) async fn step(
    ts: &TestStore,
    id: i64,
    cmd: Command,
    who: &Actor,
    now: DateTime<Utc>,
) -> Status {
    ts.store
        .transition(&OrderKey::Id(id), &cmd, who, now)
        .await
        .unwrap_or_else(|e| panic!("{cmd:?} by {who:?}: {e}"))
        .status
}
