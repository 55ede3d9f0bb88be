//! Callback tasks (漏接回拨 and callbacks callers asked for) and their attempts: created by the
//! call layer, taken by one agent at a time, retried after an unanswered attempt until the
//! task's `max_attempts`, cancelled when the number called again and was answered.

use chrono::{DateTime, Utc};

use super::calls::one_of;
use super::query::{paging, Arg, Where};
use super::{with_db, Store, StoreError};
use crate::cases::model::{
    CallbackAttempt, CallbackTask, NewCallbackTask, Page, CALLBACK_KINDS, CALLBACK_OUTCOMES,
    CALLBACK_STATUSES,
};

const TASK_COLUMNS: &str = "id, kind, number, queue, call_id, created_at, status, agent_id, \
    taken_at, attempts, max_attempts, next_attempt_at, result, work_order_id, updated_at";

/// Filters and paging for listing callback tasks.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackQuery {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub queue: Option<String>,
    pub number: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Only open tasks and this agent's own (what an agent may see); set by the API.
    #[serde(skip)]
    pub visible_to_agent: Option<String>,
}

/// One try to call a task's number back, as the call layer reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallbackAttempt {
    pub at: DateTime<Utc>,
    pub agent_id: Option<String>,
    /// The outbound call of the attempt.
    pub call_id: Option<String>,
    /// One of [`CALLBACK_OUTCOMES`].
    pub outcome: String,
    pub detail: Option<String>,
}

impl Store {
    /// Creates an open task, due at once.
    pub async fn create_callback_task(
        &self,
        t: &NewCallbackTask,
        now: DateTime<Utc>,
    ) -> Result<CallbackTask, StoreError> {
        one_of("kind", Some(&t.kind), CALLBACK_KINDS)?;
        if t.number.trim().is_empty() {
            return Err(StoreError::invalid("number", "must not be empty"));
        }
        if t.max_attempts < 1 {
            return Err(StoreError::invalid("max_attempts", "must be at least 1"));
        }
        Ok(with_db!(self, write, |pool| {
            sqlx::query_as::<_, CallbackTask>(&format!(
                "INSERT INTO callback_tasks (kind, number, queue, call_id, created_at, status, \
                 attempts, max_attempts, work_order_id, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'open', 0, $6, $7, $5) RETURNING {TASK_COLUMNS}"
            ))
            .bind(&t.kind)
            .bind(&t.number)
            .bind(&t.queue)
            .bind(&t.call_id)
            .bind(now)
            .bind(t.max_attempts)
            .bind(t.work_order_id)
            .fetch_one(pool)
            .await?
        }))
    }

    pub async fn get_callback_task(&self, id: i64) -> Result<Option<CallbackTask>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CallbackTask>(&format!(
                "SELECT {TASK_COLUMNS} FROM callback_tasks WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A task's attempts, oldest first.
    pub async fn callback_attempts(
        &self,
        task_id: i64,
    ) -> Result<Vec<CallbackAttempt>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CallbackAttempt>(
                "SELECT id, task_id, at, agent_id, call_id, outcome, detail
                 FROM callback_attempts WHERE task_id = $1 ORDER BY id",
            )
            .bind(task_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Tasks matching `q`, newest first.
    pub async fn list_callback_tasks(
        &self,
        q: &CallbackQuery,
    ) -> Result<Page<CallbackTask>, StoreError> {
        let (limit, offset) = paging(q.limit, q.offset)?;
        one_of("status", q.status.as_deref(), CALLBACK_STATUSES)?;
        one_of("kind", q.kind.as_deref(), CALLBACK_KINDS)?;
        let mut w = Where::default();
        for (col, v) in [
            ("status", &q.status),
            ("kind", &q.kind),
            ("queue", &q.queue),
            ("number", &q.number),
        ] {
            if let Some(v) = v {
                w.eq(col, Arg::Text(v.clone()));
            }
        }
        if let Some(agent) = &q.visible_to_agent {
            let n = w.push(Arg::Text(agent.clone()));
            w.clauses
                .push(format!("(status = 'open' OR agent_id = ${n})"));
        }
        self.fetch_page(
            &w,
            (TASK_COLUMNS, "callback_tasks", "id DESC"),
            (limit, offset),
        )
        .await
    }

    /// `agent` takes an open task that is due; anything else is refused with the task's state
    /// (taken by someone, not due yet, over).
    pub async fn take_callback_task(
        &self,
        id: i64,
        agent: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackTask, StoreError> {
        let taken = with_db!(self, write, |pool| {
            sqlx::query_as::<_, CallbackTask>(&format!(
                "UPDATE callback_tasks SET status = 'taken', agent_id = $1, taken_at = $2,
                   updated_at = $2
                 WHERE id = $3 AND status = 'open'
                   AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
                 RETURNING {TASK_COLUMNS}"
            ))
            .bind(agent)
            .bind(now)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        if let Some(t) = taken {
            return Ok(t);
        }
        let task = self
            .get_callback_task(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("callback task {id}"),
            })?;
        Err(StoreError::WrongState(match task.status.as_str() {
            "open" => format!(
                "callback task {id} is open but not due until {}",
                task.next_attempt_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            ),
            "taken" => format!(
                "callback task {id} is taken by agent {}",
                task.agent_id.as_deref().unwrap_or("?")
            ),
            other => format!("callback task {id} is {other}"),
        }))
    }

    /// Records an attempt on a taken task: answered → done; otherwise open again, due after
    /// `retry`, or failed once the attempts reach the task's maximum. Returns the task after.
    pub async fn record_callback_attempt(
        &self,
        task_id: i64,
        a: &NewCallbackAttempt,
        retry: chrono::Duration,
    ) -> Result<CallbackTask, StoreError> {
        one_of("outcome", Some(&a.outcome), CALLBACK_OUTCOMES)?;
        let task = self
            .get_callback_task(task_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("callback task {task_id}"),
            })?;
        if task.status != "taken" {
            return Err(StoreError::WrongState(format!(
                "callback task {task_id} is {}: only a taken task is called",
                task.status
            )));
        }
        let attempts = task.attempts + 1;
        let (status, next, agent) = if a.outcome == "answered" {
            ("done", None, task.agent_id.clone())
        } else if attempts >= task.max_attempts {
            ("failed", None, task.agent_id.clone())
        } else {
            ("open", Some(a.at + retry), None)
        };
        let updated = with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query_as::<_, CallbackTask>(&format!(
                "UPDATE callback_tasks SET attempts = $1, status = $2, next_attempt_at = $3,
                   agent_id = $4, result = $5, updated_at = $6
                 WHERE id = $7 AND status = 'taken' AND attempts = $8
                 RETURNING {TASK_COLUMNS}"
            ))
            .bind(attempts)
            .bind(status)
            .bind(next)
            .bind(agent)
            .bind(&a.outcome)
            .bind(a.at)
            .bind(task_id)
            .bind(task.attempts)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(updated) = updated else {
                return Err(StoreError::Conflict);
            };
            sqlx::query(
                "INSERT INTO callback_attempts (task_id, at, agent_id, call_id, outcome, detail)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(task_id)
            .bind(a.at)
            .bind(&a.agent_id)
            .bind(&a.call_id)
            .bind(&a.outcome)
            .bind(&a.detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            updated
        });
        Ok(updated)
    }

    /// The number called again and was answered at `answered_at`: its open missed-call tasks
    /// created before then are cancelled. Returns how many.
    pub async fn cancel_missed_call_tasks(
        &self,
        number: &str,
        answered_at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(with_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE callback_tasks SET status = 'cancelled',
                   result = 'called again and answered', updated_at = $2
                 WHERE number = $1 AND kind = 'missed-call' AND status = 'open'
                   AND created_at <= $2",
            )
            .bind(number)
            .bind(answered_at)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
