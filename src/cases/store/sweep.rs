//! The deadline sweeper's reads and writes: the candidate orders (a bounded query on the
//! status+deadline index) and each order's actions applied in one transaction guarded by the
//! order's version (a conflict skips the order; the next sweep decides again on fresh facts).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::notifications::INSERT_NOTIFICATION;
use super::orders::INSERT_EVENT;
use super::{with_db, Store, StoreError};
use crate::cases::sweep::{
    sweep, CandidateWindow, OrderDeadlineFacts, SweepAction, SweepConfig, SweepKind, SWEPT_STATUSES,
};

/// Most candidates of each kind (not yet escalated / escalated) read by one sweep, earliest
/// deadlines first; the rest wait for the next.
pub const SWEEP_BATCH: i64 = 2000;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepOutcome {
    /// Orders read.
    pub candidates: usize,
    /// Orders changed (each in its own transaction).
    pub applied: usize,
    /// Orders skipped because they changed between the read and the write.
    pub conflicts: usize,
    /// Notifications written.
    pub notifications: usize,
}

impl Store {
    /// The orders that may need a sweep action at `now` (see [`CandidateWindow`]), earliest
    /// deadline first: at most `limit` not yet escalated (near their deadline or newly overdue)
    /// and, read apart, at most `limit` already escalated (a level-2 candidate, or a deadline
    /// moved later). Two bounded reads, so escalated orders that stay candidates sweep after
    /// sweep never crowd out the new ones.
    pub async fn sweep_candidates(
        &self,
        window: &CandidateWindow,
        limit: i64,
    ) -> Result<Vec<OrderDeadlineFacts>, StoreError> {
        let statuses = SWEPT_STATUSES
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let base = format!(
            "SELECT id, number, version, status, title, category_id, department_id, deadline,
               paused_at, escalation_level, near_deadline_notified_at
             FROM work_orders
             WHERE status IN ({statuses}) AND deadline <= $1 AND paused_at IS NULL"
        );
        let fresh = format!("{base} AND escalation_level = 0 ORDER BY deadline LIMIT $4");
        let escalated = format!(
            "{base} AND escalation_level > 0
               AND (deadline >= $2 OR (escalation_level = 1 AND deadline <= $3))
             ORDER BY deadline LIMIT $4"
        );
        let mut all = Vec::new();
        for sql in [fresh, escalated] {
            let rows = with_db!(self, read, |pool| {
                sqlx::query_as::<_, OrderDeadlineFacts>(&sql)
                    .bind(window.upper)
                    .bind(window.now)
                    .bind(window.leaders_cutoff)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            });
            all.extend(rows);
        }
        all.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// One sweep at `now`: reads the candidates, decides, applies. Wakes the delivery task when
    /// it wrote notifications.
    pub async fn sweep_deadlines(
        &self,
        now: DateTime<Utc>,
        cfg: &SweepConfig,
    ) -> Result<SweepOutcome, StoreError> {
        let calendar = &self.policy().calendar;
        let window = CandidateWindow::at(now, calendar, cfg);
        let orders = self.sweep_candidates(&window, SWEEP_BATCH).await?;
        let actions = sweep(&orders, now, calendar, cfg);
        let mut by_order: BTreeMap<i64, Vec<SweepAction>> = BTreeMap::new();
        for a in actions {
            by_order.entry(a.order_id).or_default().push(a);
        }
        let mut outcome = SweepOutcome {
            candidates: orders.len(),
            ..Default::default()
        };
        for actions in by_order.values() {
            if self.apply_sweep_actions(actions, now).await? {
                outcome.applied += 1;
                outcome.notifications += actions.len();
            } else {
                outcome.conflicts += 1;
            }
        }
        if outcome.notifications > 0 {
            self.outbox().wake();
        }
        Ok(outcome)
    }

    /// Applies the actions of one order (all made on the same version) in one transaction: the
    /// order's new level or notice time (its version bumped), an `escalate` event per level, a
    /// notification per action. False (nothing written) if the order changed since it was read.
    pub async fn apply_sweep_actions(
        &self,
        actions: &[SweepAction],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(first) = actions.first() else {
            return Ok(true);
        };
        let level = actions
            .iter()
            .filter_map(|a| match a.kind {
                SweepKind::Escalate { level } => Some(level),
                SweepKind::NearDeadline => None,
            })
            .max();
        let near = actions.iter().any(|a| a.kind == SweepKind::NearDeadline);
        Ok(with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE work_orders SET
                   escalation_level = CASE WHEN $1 > escalation_level THEN $1 ELSE escalation_level END,
                   near_deadline_notified_at = CASE WHEN $2 THEN $3 ELSE near_deadline_notified_at END,
                   updated_at = $3, version = version + 1
                 WHERE id = $4 AND version = $5",
            )
            .bind(level.unwrap_or(0))
            .bind(near)
            .bind(now)
            .bind(first.order_id)
            .bind(first.version)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Ok(false);
            }
            for a in actions {
                if let SweepKind::Escalate { level } = a.kind {
                    sqlx::query(INSERT_EVENT)
                        .bind(a.order_id)
                        .bind(now)
                        .bind("system")
                        .bind("system")
                        .bind("escalate")
                        .bind(&a.status)
                        .bind(&a.status)
                        .bind(None::<String>)
                        .bind(Json(serde_json::json!({
                            "level": level,
                            "deadline": a.deadline,
                        })))
                        .execute(&mut *tx)
                        .await?;
                }
                let n = &a.notification;
                sqlx::query(INSERT_NOTIFICATION)
                    .bind(now)
                    .bind(n.kind)
                    .bind(&n.recipient)
                    .bind(n.work_order_id)
                    .bind(Json(&n.payload))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            true
        }))
    }
}
