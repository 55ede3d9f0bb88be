//! The audit trail of actions outside the order lifecycle (supervisors listening to, whispering
//! into, barging into or hanging up calls; forced agent states; desk logins): append-only, one
//! row per action with who did it. Order changes keep their own trail in `case_events`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{with_db, Store, StoreError};

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// Assigned by the store (ignored when adding).
    #[serde(default)]
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The API user's name (or `system`).
    pub actor: String,
    pub role: String,
    /// e.g. `listen`, `whisper`, `barge`, `force-hangup`, `force-state`, `force-logout`.
    pub action: String,
    /// `call:<id>`, `agent:<id>` or `order:<number>`.
    pub target: String,
    pub detail: Option<String>,
}

/// Which entries to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub target: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

impl Store {
    /// Appends an entry; returns its id.
    pub async fn audit(&self, e: &AuditEntry) -> Result<i64, StoreError> {
        for (field, v) in [
            ("actor", &e.actor),
            ("action", &e.action),
            ("target", &e.target),
        ] {
            if v.trim().is_empty() {
                return Err(StoreError::invalid(field, "must not be empty"));
            }
        }
        Ok(with_db!(self, write, |pool| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO audit_log (at, actor, role, action, target, detail)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.role)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.detail)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Entries matching `q`, newest first (at most `q.limit`, 1–1000).
    pub async fn audit_entries(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = q.limit.clamp(1, 1000);
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, AuditEntry>(
                "SELECT id, at, actor, role, action, target, detail FROM audit_log
                 WHERE ($1 IS NULL OR target = $1) AND ($2 IS NULL OR actor = $2)
                   AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR at >= $4)
                   AND ($5 IS NULL OR at < $5)
                 ORDER BY id DESC LIMIT $6",
            )
            .bind(&q.target)
            .bind(&q.actor)
            .bind(&q.action)
            .bind(q.since)
            .bind(q.until)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}
