//! Call records (CDR): one row per call that reached the trunk, written when the INVITE arrives
//! and brought up to date as the call goes (the call module writes them; the API reads them).

use chrono::{DateTime, Utc};

use super::query::{paging, Arg, Where};
use super::{with_db, Store, StoreError};
use crate::cases::model::{CallRecord, Page, DISPOSITIONS};

const CALL_COLUMNS: &str = "id, trunk, from_number, to_number, queue, agent_id, offered_at, \
    answered_at, ended_at, disposition, disposition_detail, recording_path, work_order_id";

/// Filters and paging for listing calls.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    pub from_number: Option<String>,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub disposition: Option<String>,
    pub offered_from: Option<DateTime<Utc>>,
    pub offered_to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Store {
    /// Writes or rewrites a call record (by id).
    pub async fn save_call(&self, c: &CallRecord) -> Result<(), StoreError> {
        if let Some(d) = &c.disposition {
            if !DISPOSITIONS.contains(&d.as_str()) {
                return Err(StoreError::invalid(
                    "disposition",
                    format!("{d:?} is not one of {}", DISPOSITIONS.join(", ")),
                ));
            }
        }
        with_db!(self, write, |pool| {
            sqlx::query(&format!(
                "INSERT INTO calls ({CALL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (id) DO UPDATE SET trunk = excluded.trunk, from_number = excluded.from_number,
                   to_number = excluded.to_number, queue = excluded.queue, agent_id = excluded.agent_id,
                   offered_at = excluded.offered_at, answered_at = excluded.answered_at,
                   ended_at = excluded.ended_at, disposition = excluded.disposition,
                   disposition_detail = excluded.disposition_detail,
                   recording_path = excluded.recording_path,
                   work_order_id = COALESCE(excluded.work_order_id, calls.work_order_id)"
            ))
            .bind(&c.id)
            .bind(&c.trunk)
            .bind(&c.from_number)
            .bind(&c.to_number)
            .bind(&c.queue)
            .bind(&c.agent_id)
            .bind(c.offered_at)
            .bind(c.answered_at)
            .bind(c.ended_at)
            .bind(&c.disposition)
            .bind(&c.disposition_detail)
            .bind(&c.recording_path)
            .bind(c.work_order_id)
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
        if let Some(d) = q
            .disposition
            .as_deref()
            .filter(|d| !DISPOSITIONS.contains(d))
        {
            return Err(StoreError::invalid(
                "disposition",
                format!("{d:?} is not one of {}", DISPOSITIONS.join(", ")),
            ));
        }
        let mut w = Where::default();
        for (col, v) in [
            ("from_number", &q.from_number),
            ("queue", &q.queue),
            ("agent_id", &q.agent_id),
            ("disposition", &q.disposition),
        ] {
            if let Some(v) = v {
                w.eq(col, Arg::Text(v.clone()));
            }
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
}
