//! Attachments (photos) of orders as stored rows: reading them back for the API, and removing
//! the files a refused or failed request kept but no row came to reference. The rows are
//! written in the transaction that creates their order (`create.rs`) or records their event.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{with_db, Store, StoreError};
use crate::cases::photos::NewAttachment;

/// The columns of an attachment row, in [`Attachment`]'s order.
pub(super) const ATTACHMENT_COLUMNS: &str = "id, work_order_id, case_event_id, kind, path, \
    content_type, bytes, sha256, uploaded_by, uploaded_at";

/// A file attached to an order.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub work_order_id: i64,
    pub case_event_id: Option<i64>,
    /// report, feedback, verification or other.
    pub kind: String,
    /// Relative to the data directory; never shown.
    #[serde(skip)]
    pub path: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    /// Where the API serves the bytes.
    #[sqlx(skip)]
    pub url: String,
}

impl Attachment {
    /// Fills the derived `url`.
    pub(super) fn with_url(mut self) -> Attachment {
        self.url = format!("/api/v1/attachments/{}", self.id);
        self
    }
}

impl Store {
    /// The attachments of an order, oldest first.
    pub async fn order_attachments(&self, order_id: i64) -> Result<Vec<Attachment>, StoreError> {
        let rows = with_db!(self, read, |pool| {
            sqlx::query_as::<_, Attachment>(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE work_order_id = $1 ORDER BY id"
            ))
            .bind(order_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Attachment::with_url).collect())
    }

    /// One attachment by id.
    pub async fn attachment(&self, id: i64) -> Result<Option<Attachment>, StoreError> {
        let row = with_db!(self, read, |pool| {
            sqlx::query_as::<_, Attachment>(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(Attachment::with_url))
    }

    /// Removes the files of `saved` (kept under `data_dir` by a request that was then refused
    /// or failed) that no attachment row references. Files are content-addressed, so one that
    /// another order's row points at stays. Returns how many files were removed; a file that
    /// cannot be removed is logged and left.
    pub async fn discard_unreferenced(
        &self,
        saved: &[NewAttachment],
        data_dir: &Path,
    ) -> Result<usize, StoreError> {
        let mut paths: Vec<&str> = saved.iter().map(|a| a.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut removed = 0;
        for path in paths {
            let used: Option<i32> = with_db!(self, write, |pool| {
                sqlx::query_scalar("SELECT 1 FROM attachments WHERE path = $1 LIMIT 1")
                    .bind(path)
                    .fetch_optional(pool)
                    .await?
            });
            if used.is_some() {
                continue;
            }
            match tokio::fs::remove_file(data_dir.join(path)).await {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path, error = %e, "cannot remove an unreferenced photo"),
            }
        }
        Ok(removed)
    }
}
