//! Attachments (photos) of orders as stored rows: reading them back for the API. They are
//! written in the transaction that creates their order (`create.rs`) or records their event.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{with_db, Store, StoreError};

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
}
