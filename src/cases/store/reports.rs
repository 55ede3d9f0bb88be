//! What the reports read: the minimal facts of the inbound calls and work orders of a range of
//! local days (for [`crate::cases::kpi`]), an agent's own day, and the assessment marks
//! (漏报 missed, 错报 wrong) supervisors put on orders — added and withdrawn with an event in
//! the order's trail, in one transaction. The same SQL text runs on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::types::Json;

use super::orders::OrderKey;
use super::{with_db, Store, StoreError};
use crate::cases::kpi::{
    self, Accumulator, CallFact, DayRange, Group, OrderFact, Params, Report, Row,
};
use crate::cases::lifecycle::Actor;
use crate::config::Config;

/// Kinds of assessment marks.
pub const MARK_KINDS: &[&str] = &["missed", "wrong"];

/// An assessment mark on an order.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderMark {
    pub id: i64,
    pub work_order_id: i64,
    pub order_number: String,
    /// `missed` (漏报) or `wrong` (错报).
    pub kind: String,
    pub note: Option<String>,
    /// The inspector a 漏报/错报 counts against (none: the call-centre vendor).
    pub inspector: Option<String>,
    pub marked_by: String,
    pub marked_at: DateTime<Utc>,
    pub withdrawn: bool,
}

/// One of an agent's calls, as the desk's "my day" shows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AgentCall {
    pub id: String,
    pub direction: String,
    pub from_number: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub wrap_up_ms: Option<i64>,
    pub work_order_id: Option<i64>,
}

impl kpi::AgentCallFacts for AgentCall {
    fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.answered_at
    }
    fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.ended_at
    }
    fn wrap_up_ms(&self) -> Option<i64> {
        self.wrap_up_ms
    }
}

#[derive(sqlx::FromRow)]
struct CallRow {
    queue: Option<String>,
    agent_id: Option<String>,
    offered_at: DateTime<Utc>,
    queued_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    disposition: Option<String>,
    survey: Option<i32>,
    wrap_up_ms: Option<i64>,
    task_status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    status: String,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    resolved_at_intake: bool,
    queue: Option<String>,
    agent_id: Option<String>,
}

impl CallRow {
    fn into_fact(self) -> CallFact {
        CallFact {
            outbound: false,
            called_back: self.task_status.as_deref() == Some("done"),
            queue: self.queue,
            agent_id: self.agent_id,
            offered_at: self.offered_at,
            queued_at: self.queued_at,
            answered_at: self.answered_at,
            ended_at: self.ended_at,
            disposition: self.disposition,
            survey: self.survey,
            wrap_up_ms: self.wrap_up_ms,
        }
    }
}

impl OrderRow {
    fn into_fact(self) -> OrderFact {
        OrderFact {
            id: self.id,
            created_at: self.created_at,
            closed_at: self.closed_at.filter(|_| self.status == "closed"),
            deadline: self.deadline,
            resolved_at_intake: self.resolved_at_intake,
            queue: self.queue,
            agent_id: self.agent_id,
        }
    }
}

const CALL_FACTS: &str = "SELECT c.queue, c.agent_id, c.offered_at, c.queued_at, \
    c.answered_at, c.ended_at, c.disposition, c.survey, c.wrap_up_ms, t.status AS task_status \
    FROM calls c LEFT JOIN callback_tasks t ON t.id = c.callback_task_id AND t.kind = 'missed-call' \
    WHERE c.direction = 'inbound' AND c.offered_at >= $1 AND c.offered_at < $2 \
    AND ($3 IS NULL OR c.queue = $3) AND ($4 IS NULL OR c.agent_id = $4)";

const ORDER_FACTS: &str = "SELECT o.id, o.status, o.created_at, o.closed_at, o.deadline, \
    o.resolved_at_intake, c.queue, c.agent_id \
    FROM work_orders o LEFT JOIN calls c ON c.id = o.call_id \
    WHERE (o.created_at >= $1 AND o.created_at < $2) \
    OR (o.closed_at >= $1 AND o.closed_at < $2 AND o.status = 'closed')";

const MARK_COLUMNS: &str = "m.id, m.work_order_id, o.number AS order_number, m.kind, m.note, \
    m.inspector, m.marked_by, m.marked_at, m.withdrawn";

/// The parameters of a report from the configuration: the store's local offset, each queue's
/// service-level seconds, and the configured queues (agents) as the rows of a queue (agent)
/// grouping.
pub fn report_params(
    store: &Store,
    config: &Config,
    range: DayRange,
    group: Group,
    queue: Option<String>,
    agent: Option<String>,
) -> Params {
    Params {
        utc_offset: store.policy().calendar.utc_offset,
        range,
        group,
        service_level_secs: config
            .queues
            .iter()
            .map(|q| (q.name.clone(), q.service_level_secs))
            .collect(),
        queue,
        agent,
        keys: match group {
            Group::Queue => config.queues.iter().map(|q| q.name.clone()).collect(),
            Group::Agent => config.agents.iter().map(|a| a.id.clone()).collect(),
            Group::Day | Group::Hour => Vec::new(),
        },
    }
}

/// Today's row of every configured queue (the wallboard's "today"), local day of `now`.
pub async fn today_by_queue(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Row>, StoreError> {
    let day = kpi::local_day(now, store.policy().calendar.utc_offset);
    let range = DayRange { from: day, to: day };
    let p = report_params(store, config, range, Group::Queue, None, None);
    Ok(store.report(&p).await?.rows)
}

/// The order's trail gets the mark (and the order's version is bumped, as for any change);
/// a macro because the transaction's type differs per database.
macro_rules! mark_event {
    ($tx:expr, $order:expr, $action:expr, $actor:expr, $now:expr, $note:expr, $mark:expr, $kind:expr) => {{
        sqlx::query("UPDATE work_orders SET version = version + 1, updated_at = $1 WHERE id = $2")
            .bind($now)
            .bind($order)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_events (order_id, at, actor, actor_role, action, from_status, \
             to_status, note, data) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7)",
        )
        .bind($order)
        .bind($now)
        .bind(&$actor.name)
        .bind($actor.role.as_str())
        .bind($action)
        .bind($note.clone())
        .bind(Json(serde_json::json!({ "mark_id": $mark, "kind": $kind })))
        .execute(&mut *$tx)
        .await?;
    }};
}

impl Store {
    /// Streams the inbound calls offered and the orders created or closed in `p`'s range
    /// (calls narrowed to `p`'s queue and agent) into `on_call` and `on_order`, one row at a
    /// time: nothing of the range is held here, whatever its size. The two queries run at once
    /// on two connections, so each side gets its own sink.
    pub async fn stream_report_facts(
        &self,
        p: &Params,
        mut on_call: impl FnMut(&CallFact) + Send,
        mut on_order: impl FnMut(&OrderFact) + Send,
    ) -> Result<(), StoreError> {
        let (start, end) = p.range.utc_bounds(p.utc_offset);
        if let super::Db::Sqlite {
            file: Some(path), ..
        } = &self.db
        {
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            let (path, filter) = (path.clone(), (p.queue.clone(), p.agent.clone()));
            let scan = tokio::task::spawn_blocking(move || {
                super::sqlite_scan::scan(path, (CALL_FACTS, ORDER_FACTS), (start, end), filter, tx)
            });
            while let Some(batch) = rx.recv().await {
                match batch {
                    super::sqlite_scan::Batch::Calls(v) => v.iter().for_each(&mut on_call),
                    super::sqlite_scan::Batch::Orders(v) => v.iter().for_each(&mut on_order),
                }
            }
            return scan
                .await
                .map_err(|e| StoreError::Internal(format!("report reader: {e}")))?;
        }
        with_db!(self, read, |pool| {
            let calls = async {
                let mut rows = sqlx::query_as::<_, CallRow>(CALL_FACTS)
                    .bind(start)
                    .bind(end)
                    .bind(&p.queue)
                    .bind(&p.agent)
                    .fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    on_call(&r.into_fact());
                }
                Ok::<_, sqlx::Error>(())
            };
            let orders = async {
                let mut rows = sqlx::query_as::<_, OrderRow>(ORDER_FACTS)
                    .bind(start)
                    .bind(end)
                    .fetch(pool);
                while let Some(r) = rows.try_next().await? {
                    on_order(&r.into_fact());
                }
                Ok::<_, sqlx::Error>(())
            };
            tokio::try_join!(calls, orders)?;
        });
        Ok(())
    }

    /// The report of `p`, streamed from the store (see [`Store::stream_report_facts`]).
    pub async fn report(&self, p: &Params) -> Result<Report, StoreError> {
        let mut calls = Accumulator::new(p);
        let mut orders = Accumulator::new(p);
        self.stream_report_facts(p, |c| calls.add_call(c), |o| orders.add_order(o))
            .await?;
        calls.merge(orders);
        Ok(calls.finish())
    }

    /// An agent's calls (both directions) offered in `[start, end)`, newest first, and how many
    /// orders were created from that agent's calls then.
    pub async fn agent_day_facts(
        &self,
        agent: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(Vec<AgentCall>, i64), StoreError> {
        Ok(with_db!(self, read, |pool| {
            let calls = sqlx::query_as::<_, AgentCall>(
                "SELECT id, direction, from_number, answered_at, ended_at, wrap_up_ms, \
                 work_order_id FROM calls WHERE agent_id = $1 AND offered_at >= $2 \
                 AND offered_at < $3 ORDER BY offered_at DESC, id",
            )
            .bind(agent)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let orders: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM work_orders o JOIN calls c ON c.id = o.call_id \
                 WHERE c.agent_id = $1 AND o.created_at >= $2 AND o.created_at < $3",
            )
            .bind(agent)
            .bind(start)
            .bind(end)
            .fetch_one(pool)
            .await?;
            (calls, orders)
        }))
    }

    /// Adds the wrap-up an agent spent after `call_id` (a transferred call answered by two
    /// agents gets both wrap-ups). Unknown calls are ignored.
    pub async fn add_call_wrap_up(&self, call_id: &str, wrap_up_ms: i64) -> Result<(), StoreError> {
        if wrap_up_ms < 0 {
            return Err(StoreError::invalid("wrap_up_ms", "must not be negative"));
        }
        with_db!(self, write, |pool| {
            sqlx::query("UPDATE calls SET wrap_up_ms = COALESCE(wrap_up_ms, 0) + $1 WHERE id = $2")
                .bind(wrap_up_ms)
                .bind(call_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Puts an assessment mark on an order (counted against `inspector` when given), with a
    /// `marked` event in its trail.
    pub async fn add_order_mark(
        &self,
        key: &OrderKey,
        kind: &str,
        note: Option<String>,
        inspector: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<OrderMark, StoreError> {
        super::calls::one_of("kind", Some(kind), MARK_KINDS)?;
        let note = note.filter(|n| !n.trim().is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(StoreError::invalid("note", "longer than 2000 characters"));
        }
        if let Some(i) = &inspector {
            if i.trim().is_empty() || i.chars().count() > 100 {
                return Err(StoreError::invalid("inspector", "1 to 100 characters"));
            }
        }
        let order = self.mark_target(key).await?;
        let select = format!(
            "SELECT {MARK_COLUMNS} FROM order_marks m JOIN work_orders o ON o.id = m.work_order_id \
             WHERE m.id = $1"
        );
        Ok(with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO order_marks (work_order_id, kind, withdrawn, note, marked_by, marked_at, \
                 inspector) VALUES ($1, $2, FALSE, $3, $4, $5, $6) RETURNING id",
            )
            .bind(order)
            .bind(kind)
            .bind(&note)
            .bind(&actor.name)
            .bind(now)
            .bind(&inspector)
            .fetch_one(&mut *tx)
            .await?;
            mark_event!(tx, order, "marked", actor, now, note, id, kind);
            let mark = sqlx::query_as::<_, OrderMark>(&select)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            mark
        }))
    }

    /// Withdraws a mark (it stays, flagged withdrawn), with a `mark-withdrawn` event.
    pub async fn withdraw_order_mark(
        &self,
        key: &OrderKey,
        mark_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<OrderMark, StoreError> {
        let order = self.mark_target(key).await?;
        let select = format!(
            "SELECT {MARK_COLUMNS} FROM order_marks m JOIN work_orders o ON o.id = m.work_order_id \
             WHERE m.id = $1 AND m.work_order_id = $2"
        );
        Ok(with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let mark = sqlx::query_as::<_, OrderMark>(&select)
                .bind(mark_id)
                .bind(order)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("mark {mark_id} of work order {order}"),
                })?;
            if mark.withdrawn {
                return Err(StoreError::WrongState(format!(
                    "mark {mark_id} is withdrawn already"
                )));
            }
            sqlx::query("UPDATE order_marks SET withdrawn = TRUE WHERE id = $1")
                .bind(mark_id)
                .execute(&mut *tx)
                .await?;
            let note: Option<String> = None;
            mark_event!(
                tx,
                order,
                "mark-withdrawn",
                actor,
                now,
                note,
                mark_id,
                &mark.kind
            );
            tx.commit().await?;
            OrderMark {
                withdrawn: true,
                ..mark
            }
        }))
    }

    /// An order's marks, oldest first (withdrawn ones too).
    pub async fn order_marks(&self, key: &OrderKey) -> Result<Vec<OrderMark>, StoreError> {
        let order = self.mark_target(key).await?;
        let sql = format!(
            "SELECT {MARK_COLUMNS} FROM order_marks m JOIN work_orders o ON o.id = m.work_order_id \
             WHERE m.work_order_id = $1 ORDER BY m.id"
        );
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, OrderMark>(&sql)
                .bind(order)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The marks (not withdrawn) put in `[start, end)`, oldest first.
    pub async fn marks_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<OrderMark>, StoreError> {
        let sql = format!(
            "SELECT {MARK_COLUMNS} FROM order_marks m JOIN work_orders o ON o.id = m.work_order_id \
             WHERE m.marked_at >= $1 AND m.marked_at < $2 AND m.withdrawn = FALSE ORDER BY m.id"
        );
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, OrderMark>(&sql)
                .bind(start)
                .bind(end)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn mark_target(&self, key: &OrderKey) -> Result<i64, StoreError> {
        self.get_order(key)
            .await?
            .map(|o| o.id)
            .ok_or_else(|| StoreError::NotFound {
                what: match key {
                    OrderKey::Id(id) => format!("work order {id}"),
                    OrderKey::Number(n) => format!("work order {n}"),
                },
            })
    }
}
