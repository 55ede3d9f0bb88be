//! Duplicate-merge proposals (合并建议): when a report with a category and coordinates comes
//! in, open orders of the same category near it in space and time are proposed for merging
//! (written in the creating transaction, `create.rs`); a person lists them and merges (through
//! the `merge` transition) or dismisses each.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::orders::OrderKey;
use super::{with_db, Store, StoreError};
use crate::cases::geo;
use crate::cases::lifecycle::{Actor, Command, Status};
use crate::cases::model::WorkOrder;

/// Statuses of a proposal.
pub const PROPOSAL_STATUSES: &[&str] = &["pending", "merged", "dismissed"];

/// A proposal to merge `order_id` (the later report) into `candidate_id`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MergeProposal {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub candidate_id: i64,
    pub candidate_number: String,
    pub category_id: Option<String>,
    pub distance_m: f64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// How near is a duplicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeRule {
    pub distance_m: f64,
    pub window_hours: u32,
}

/// A stored order that may be a duplicate: (id, number, longitude, latitude).
pub(super) type Candidate = (i64, String, Option<f64>, Option<f64>);

/// The SELECT of candidates: $1 category, $2 earliest created_at, $3 the new order's id (only
/// earlier orders are candidates, so the reports of one batch never propose each other both ways),
/// $4..$7 the bounding box (min lon, max lon, min lat, max lat). At most the 50 latest.
pub(super) const CANDIDATES_SQL: &str = "SELECT id, number, longitude, latitude FROM work_orders \
    WHERE category_id = $1 AND created_at >= $2 AND id < $3 \
    AND status NOT IN ('rejected', 'closed', 'merged') \
    AND longitude BETWEEN $4 AND $5 AND latitude BETWEEN $6 AND $7 \
    ORDER BY id DESC LIMIT 50";

/// The INSERT of one proposal: $1 order, $2 candidate, $3 distance, $4 created_at.
pub(super) const INSERT_PROPOSAL_SQL: &str = "INSERT INTO merge_proposals \
    (order_id, candidate_id, distance_m, status, created_at) VALUES ($1, $2, $3, 'pending', $4) \
    ON CONFLICT (order_id, candidate_id) DO NOTHING RETURNING id";

/// Of the candidates found in the bounding box, those within `distance_m` of `(lon, lat)`,
/// nearest first, with their distance.
pub(super) fn near(
    lon: f64,
    lat: f64,
    distance_m: f64,
    found: Vec<Candidate>,
) -> Vec<(i64, String, f64)> {
    let mut v: Vec<(i64, String, f64)> = found
        .into_iter()
        .filter_map(|(id, number, clon, clat)| {
            let d = geo::haversine_m(lon, lat, clon?, clat?);
            (d <= distance_m).then_some((id, number, (d * 10.0).round() / 10.0))
        })
        .collect();
    v.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    v
}

const PROPOSAL_SELECT: &str = "SELECT p.id, p.order_id, o.number AS order_number, p.candidate_id, \
    c.number AS candidate_number, o.category_id, p.distance_m, p.status, p.created_at, \
    p.decided_by, p.decided_at, p.note \
    FROM merge_proposals p JOIN work_orders o ON o.id = p.order_id \
    JOIN work_orders c ON c.id = p.candidate_id";

impl Store {
    /// Proposals with `status` (all when None), newest first, at most 500.
    pub async fn merge_proposals(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<MergeProposal>, StoreError> {
        if let Some(s) = status.filter(|s| !PROPOSAL_STATUSES.contains(s)) {
            return Err(StoreError::invalid(
                "status",
                format!("{s:?} is not one of {}", PROPOSAL_STATUSES.join(", ")),
            ));
        }
        let sql = match status {
            Some(_) => {
                format!("{PROPOSAL_SELECT} WHERE p.status = $1 ORDER BY p.id DESC LIMIT 500")
            }
            None => format!("{PROPOSAL_SELECT} ORDER BY p.id DESC LIMIT 500"),
        };
        Ok(with_db!(self, read, |pool| {
            let mut q = sqlx::query_as::<_, MergeProposal>(&sql);
            if let Some(s) = status {
                q = q.bind(s);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// The proposals made for a new order.
    pub async fn proposals_of(&self, order_id: i64) -> Result<Vec<MergeProposal>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, MergeProposal>(&format!(
                "{PROPOSAL_SELECT} WHERE p.order_id = $1 ORDER BY p.distance_m, p.id"
            ))
            .bind(order_id)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn merge_proposal(&self, id: i64) -> Result<Option<MergeProposal>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, MergeProposal>(&format!("{PROPOSAL_SELECT} WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    async fn pending_proposal(&self, id: i64) -> Result<MergeProposal, StoreError> {
        let p = self
            .merge_proposal(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("merge proposal {id}"),
            })?;
        if p.status != "pending" {
            return Err(StoreError::WrongState(format!(
                "merge proposal {id} is already {}",
                p.status
            )));
        }
        Ok(p)
    }

    /// Merges the proposal's order into its candidate through the `merge` transition, then
    /// marks the proposal merged (only while still pending) and settles the other pending
    /// proposals the merge makes moot. Idempotent: when the order is already merged into that
    /// same candidate (a retry after the transition went through), the proposal is still marked
    /// merged.
    pub async fn accept_merge_proposal(
        &self,
        id: i64,
        note: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(MergeProposal, WorkOrder), StoreError> {
        let p = self.pending_proposal(id).await?;
        let cmd = Command::Merge {
            into: p.candidate_id.to_string(),
            note: note.clone(),
        };
        let order = match self
            .transition(&OrderKey::Id(p.order_id), &cmd, actor, now)
            .await
        {
            Ok(order) => order,
            Err(e) => match self.get_order(&OrderKey::Id(p.order_id)).await? {
                Some(o) if o.status == Status::Merged && o.merged_into == Some(p.candidate_id) => o,
                _ => return Err(e),
            },
        };
        let done = with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE merge_proposals SET status = 'merged', decided_by = $2, decided_at = $3, \
                 note = $4 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(&actor.name)
            .bind(now)
            .bind(&note)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // The order is merged now: its other proposals are moot, and those naming it as
            // the candidate are dismissed with a note naming the order it went into (merge
            // into that one instead).
            sqlx::query(
                "UPDATE merge_proposals SET status = 'dismissed', decided_by = $2, decided_at = $3, \
                 note = 'merged by proposal ' || $4 \
                 WHERE status = 'pending' AND id <> $1 AND order_id = $5",
            )
            .bind(id)
            .bind(&actor.name)
            .bind(now)
            .bind(id.to_string())
            .bind(p.order_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE merge_proposals SET status = 'dismissed', decided_by = $2, decided_at = $3, \
                 note = $4 WHERE status = 'pending' AND id <> $1 AND candidate_id = $5",
            )
            .bind(id)
            .bind(&actor.name)
            .bind(now)
            .bind(format!(
                "{} was merged into {} (proposal {id}): merge into {} instead",
                p.order_number, p.candidate_number, p.candidate_number
            ))
            .bind(p.order_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done
        });
        let p = self.pending_or_decided(id).await?;
        if done == 0 && p.status != "merged" {
            return Err(StoreError::WrongState(format!(
                "merge proposal {id} was decided by someone else"
            )));
        }
        Ok((p, order))
    }

    async fn pending_or_decided(&self, id: i64) -> Result<MergeProposal, StoreError> {
        self.merge_proposal(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("merge proposal {id}"),
            })
    }

    /// Dismisses a pending proposal (the orders are not duplicates).
    pub async fn dismiss_merge_proposal(
        &self,
        id: i64,
        note: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MergeProposal, StoreError> {
        self.pending_proposal(id).await?;
        let done = with_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE merge_proposals SET status = 'dismissed', decided_by = $2, decided_at = $3, \
                 note = $4 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(&actor.name)
            .bind(now)
            .bind(&note)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::WrongState(format!(
                "merge proposal {id} was decided by someone else"
            )));
        }
        self.pending_or_decided(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_keeps_those_within_the_distance_nearest_first() {
        let found = vec![
            (1, "a".to_string(), Some(101.7050), Some(26.5850)),
            (2, "b".to_string(), Some(101.7053), Some(26.5850)), // ~30 m east
            (3, "c".to_string(), Some(101.7060), Some(26.5850)), // ~100 m east
            (4, "d".to_string(), None, None),
        ];
        let v = near(101.7050, 26.5850, 50.0, found);
        assert_eq!(
            v.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![1, 2],
            "{v:?}"
        );
        assert_eq!(v[0].2, 0.0);
        assert!((v[1].2 - 29.8).abs() < 0.2, "{v:?}");
    }
}
