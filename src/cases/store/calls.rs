//! Call records (CDR): one row per call that reached the trunk, written when the INVITE arrives
//! and brought up to date as the call goes (the call module writes them; the API reads them),
//! each call's append-only trail of steps, and tying a call to a work order.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::query::{paging, Arg, Where};
use super::{with_db, Store, StoreError};
use crate::cases::lifecycle::Actor;
use crate::cases::model::{
    CallRecord, CallStep, Page, WorkOrder, CALL_STEPS, DIRECTIONS, DISPOSITIONS,
};

pub(super) const CALL_COLUMNS: &str = "id, sip_call_id, direction, trunk, from_number, \
    to_number, priority, language, queue, agent_id, offered_at, queued_at, ringing_at, \
    answered_at, ended_at, disposition, disposition_detail, transferred_to, survey, \
    recording_path, voicemail_offset_ms, work_order_id, needs_order, callback_task_id";

/// Filters and paging for listing calls.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub disposition: Option<String>,
    pub direction: Option<String>,
    /// Answered calls that ended without a work order (true), or the others (false).
    pub needs_order: Option<bool>,
    pub offered_from: Option<DateTime<Utc>>,
    pub offered_to: Option<DateTime<Utc>>,
    /// Offered in this hour of the local day (0–23, the city's `utc_offset`), as the hour
    /// rows of a report count them.
    pub offered_hour: Option<u32>,
    /// Reached a queue (true), or not (false).
    pub queued: Option<bool>,
    /// Answered by an agent (true), or not (false).
    pub answered: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// An answered call that ended without a work order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct CallWithoutOrder {
    pub id: String,
    pub agent_id: Option<String>,
    pub from_number: String,
    pub ended_at: DateTime<Utc>,
}

/// `Invalid` for `field` unless `v` is one of `list`.
pub(super) fn one_of(field: &str, v: Option<&str>, list: &[&str]) -> Result<(), StoreError> {
    match v {
        Some(v) if !list.contains(&v) => Err(StoreError::invalid(
            field,
            format!("{v:?} is not one of {}", list.join(", ")),
        )),
        _ => Ok(()),
    }
}

fn check_call(c: &CallRecord) -> Result<(), StoreError> {
    one_of("disposition", c.disposition.as_deref(), DISPOSITIONS)?;
    one_of("direction", Some(&c.direction), DIRECTIONS)?;
    if let Some(s) = c.survey.filter(|s| !(1..=3).contains(s)) {
        return Err(StoreError::invalid(
            "survey",
            format!("{s} is not 1 (satisfied), 2 (basically satisfied) or 3 (dissatisfied)"),
        ));
    }
    if c.voicemail_offset_ms.is_some_and(|o| o < 0) {
        return Err(StoreError::invalid(
            "voicemail_offset_ms",
            "must not be negative",
        ));
    }
    Ok(())
}

pub(super) const INSERT_STEP: &str =
    "INSERT INTO call_steps (call_id, at, step, agent_id, detail) VALUES ($1, $2, $3, $4, $5) \
     RETURNING id";

impl Store {
    /// Writes or rewrites a call record (by id). A call that has a work order keeps it (a
    /// record written without one does not untie it) and never needs one.
    pub async fn save_call(&self, c: &CallRecord) -> Result<(), StoreError> {
        check_call(c)?;
        let placeholders: Vec<String> = (1..=24).map(|n| format!("${n}")).collect();
        with_db!(self, write, |pool| {
            sqlx::query(&format!(
                "INSERT INTO calls ({CALL_COLUMNS}) VALUES ({})
                 ON CONFLICT (id) DO UPDATE SET sip_call_id = excluded.sip_call_id,
                   direction = excluded.direction, trunk = excluded.trunk,
                   from_number = excluded.from_number, to_number = excluded.to_number,
                   priority = excluded.priority, language = excluded.language,
                   queue = excluded.queue, agent_id = excluded.agent_id,
                   offered_at = excluded.offered_at, queued_at = excluded.queued_at,
                   ringing_at = excluded.ringing_at, answered_at = excluded.answered_at,
                   ended_at = excluded.ended_at, disposition = excluded.disposition,
                   disposition_detail = excluded.disposition_detail,
                   transferred_to = excluded.transferred_to,
                   survey = COALESCE(excluded.survey, calls.survey),
                   recording_path = excluded.recording_path,
                   voicemail_offset_ms = excluded.voicemail_offset_ms,
                   work_order_id = COALESCE(excluded.work_order_id, calls.work_order_id),
                   needs_order = (excluded.needs_order
                     AND COALESCE(excluded.work_order_id, calls.work_order_id) IS NULL),
                   callback_task_id = COALESCE(excluded.callback_task_id, calls.callback_task_id)",
                placeholders.join(", ")
            ))
            .bind(&c.id)
            .bind(&c.sip_call_id)
            .bind(&c.direction)
            .bind(&c.trunk)
            .bind(&c.from_number)
            .bind(&c.to_number)
            .bind(c.priority)
            .bind(&c.language)
            .bind(&c.queue)
            .bind(&c.agent_id)
            .bind(c.offered_at)
            .bind(c.queued_at)
            .bind(c.ringing_at)
            .bind(c.answered_at)
            .bind(c.ended_at)
            .bind(&c.disposition)
            .bind(&c.disposition_detail)
            .bind(&c.transferred_to)
            .bind(c.survey)
            .bind(&c.recording_path)
            .bind(c.voicemail_offset_ms)
            .bind(c.work_order_id)
            .bind(c.needs_order && c.work_order_id.is_none())
            .bind(c.callback_task_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn get_call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CallRecord>(&format!(
                "SELECT {CALL_COLUMNS} FROM calls WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Calls matching `q`, newest first.
    pub async fn list_calls(&self, q: &CallQuery) -> Result<Page<CallRecord>, StoreError> {
        let (limit, offset) = paging(q.limit, q.offset)?;
        one_of("disposition", q.disposition.as_deref(), DISPOSITIONS)?;
        one_of("direction", q.direction.as_deref(), DIRECTIONS)?;
        let mut w = Where::default();
        for (col, v) in [
            ("from_number", &q.from_number),
            ("to_number", &q.to_number),
            ("queue", &q.queue),
            ("agent_id", &q.agent_id),
            ("disposition", &q.disposition),
            ("direction", &q.direction),
        ] {
            if let Some(v) = v {
                w.eq(col, Arg::Text(v.clone()));
            }
        }
        if let Some(flag) = q.needs_order {
            w.clauses.push(format!(
                "needs_order = {}",
                if flag { "TRUE" } else { "FALSE" }
            ));
        }
        for (flag, cond) in [
            (q.queued, "queued_at IS NOT NULL"),
            (
                q.answered,
                "(answered_at IS NOT NULL AND agent_id IS NOT NULL)",
            ),
        ] {
            if let Some(flag) = flag {
                w.clauses.push(if flag {
                    cond.to_string()
                } else {
                    format!("NOT {cond}")
                });
            }
        }
        if let Some(h) = q.offered_hour {
            if h > 23 {
                return Err(StoreError::invalid(
                    "offered_hour",
                    "must be between 0 and 23",
                ));
            }
            // Both numbers are ours (checked hour, configured offset): written in the SQL.
            let shift = self.policy().calendar.utc_offset.local_minus_utc();
            w.clauses.push(match &self.db {
                super::Db::Sqlite { .. } => format!(
                    "CAST(strftime('%H', offered_at, '{shift:+} seconds') AS INTEGER) = {h}"
                ),
                super::Db::Postgres(_) => format!(
                    "EXTRACT(HOUR FROM (offered_at AT TIME ZONE 'UTC') \
                     + make_interval(secs => {shift})) = {h}"
                ),
            });
        }
        if let Some(t) = q.offered_from {
            w.time("offered_at", ">=", t);
        }
        if let Some(t) = q.offered_to {
            w.time("offered_at", "<", t);
        }
        self.fetch_page(
            &w,
            (CALL_COLUMNS, "calls", "offered_at DESC, id"),
            (limit, offset),
        )
        .await
    }

    /// Answered calls offered since `since` that ended without a work order (`needs_order`),
    /// oldest end first, at most `limit`: the wallboard's "calls without an order".
    pub async fn calls_without_order(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<CallWithoutOrder>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CallWithoutOrder>(
                "SELECT id, agent_id, from_number, ended_at FROM calls \
                 WHERE offered_at >= $1 AND needs_order = TRUE AND ended_at IS NOT NULL \
                 ORDER BY ended_at, id LIMIT $2",
            )
            .bind(since)
            .bind(limit.clamp(0, 1000))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Appends a step to a call's trail; returns its id. The call need not be written yet (the
    /// call layer writes records asynchronously).
    pub async fn add_call_step(&self, s: &CallStep) -> Result<i64, StoreError> {
        one_of("step", Some(&s.step), CALL_STEPS)?;
        if s.call_id.is_empty() {
            return Err(StoreError::invalid("call_id", "must not be empty"));
        }
        Ok(with_db!(self, write, |pool| {
            sqlx::query_scalar::<_, i64>(INSERT_STEP)
                .bind(&s.call_id)
                .bind(s.at)
                .bind(&s.step)
                .bind(&s.agent_id)
                .bind(&s.detail)
                .fetch_one(pool)
                .await?
        }))
    }

    /// A call's steps, oldest first.
    pub async fn call_steps(&self, call_id: &str) -> Result<Vec<CallStep>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CallStep>(
                "SELECT id, call_id, at, step, agent_id, detail FROM call_steps
                 WHERE call_id = $1 ORDER BY id",
            )
            .bind(call_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Ties a call to an existing work order (an agent attaching the call during the call or in
    /// wrap-up): the call gets the order and no longer needs one, the order's trail gets a
    /// `call-linked` event and the call's an `order-linked` step — all in one transaction.
    /// Linking again to the same order changes nothing; a call tied to another order is refused.
    pub async fn link_call_to_order(
        &self,
        call_id: &str,
        order_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        let select_call = format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1");
        let linked = with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let call = sqlx::query_as::<_, CallRecord>(&select_call)
                .bind(call_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("call {call_id}"),
                })?;
            match call.work_order_id {
                Some(id) if id == order_id => return Ok(call),
                Some(id) => {
                    return Err(StoreError::WrongState(format!(
                        "call {call_id} is already tied to work order {id}"
                    )))
                }
                None => {}
            }
            let bumped = sqlx::query(
                "UPDATE work_orders SET version = version + 1, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
            if bumped.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("work order {order_id}"),
                });
            }
            let call = sqlx::query_as::<_, CallRecord>(&format!(
                "UPDATE calls SET work_order_id = $1, needs_order = FALSE WHERE id = $2 \
                 RETURNING {CALL_COLUMNS}"
            ))
            .bind(order_id)
            .bind(call_id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, \
                 to_status, note, data) VALUES ($1, $2, $3, $4, 'call-linked', NULL, NULL, NULL, $5)",
            )
            .bind(order_id)
            .bind(now)
            .bind(&actor.name)
            .bind(actor.role.as_str())
            .bind(Json(serde_json::json!({
                "call_id": call_id,
                "from_number": call.from_number,
            })))
            .execute(&mut *tx)
            .await?;
            sqlx::query(INSERT_STEP)
                .bind(call_id)
                .bind(now)
                .bind("order-linked")
                .bind(call.agent_id.clone())
                .bind(Some(order_id.to_string()))
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            call
        });
        Ok(linked)
    }

    /// Stores the caller's satisfaction survey answer (1 satisfied, 2 basically satisfied,
    /// 3 dissatisfied) on the call, as a `survey` step, and — when the call has an order — as a
    /// `survey` event on the order; one transaction. Returns the call as it is afterwards.
    pub async fn record_survey(
        &self,
        call_id: &str,
        answer: i32,
        now: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        if !(1..=3).contains(&answer) {
            return Err(StoreError::invalid(
                "survey",
                format!(
                    "{answer} is not 1 (satisfied), 2 (basically satisfied) or 3 (dissatisfied)"
                ),
            ));
        }
        let update = format!("UPDATE calls SET survey = $1 WHERE id = $2 RETURNING {CALL_COLUMNS}");
        let actor = super::from_call::call_flow_actor();
        Ok(with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let call = sqlx::query_as::<_, CallRecord>(&update)
                .bind(answer)
                .bind(call_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("call {call_id}"),
                })?;
            sqlx::query(INSERT_STEP)
                .bind(call_id)
                .bind(now)
                .bind("survey")
                .bind(call.agent_id.clone())
                .bind(Some(answer.to_string()))
                .fetch_one(&mut *tx)
                .await?;
            if let Some(order_id) = call.work_order_id {
                sqlx::query(
                    "UPDATE work_orders SET version = version + 1, updated_at = $1 WHERE id = $2",
                )
                .bind(now)
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO case_events (order_id, at, actor, actor_role, action, \
                     from_status, to_status, note, data) \
                     VALUES ($1, $2, $3, $4, 'survey', NULL, NULL, NULL, $5)",
                )
                .bind(order_id)
                .bind(now)
                .bind(&actor.name)
                .bind(actor.role.as_str())
                .bind(Json(
                    serde_json::json!({ "call_id": call_id, "survey": answer }),
                ))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            call
        }))
    }

    /// The orders of a caller's number, open ones first, then newest first (the agent's screen
    /// pop). `limit` 1–500.
    pub async fn orders_for_caller(
        &self,
        number: &str,
        limit: i64,
    ) -> Result<Vec<WorkOrder>, StoreError> {
        let (limit, _) = paging(Some(limit), None)?;
        let sql = format!(
            "SELECT {} FROM work_orders WHERE caller_number = $1
             ORDER BY CASE WHEN status IN ('rejected', 'closed', 'merged') THEN 1 ELSE 0 END,
               id DESC LIMIT $2",
            super::orders::ORDER_COLUMNS
        );
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, WorkOrder>(&sql)
                .bind(number)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}
