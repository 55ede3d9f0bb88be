//! The work waiting for a department (处置通: orders dispatched to it or accepted by it) or an
//! inspector (verification tasks, 核实 and 核查, assigned to it), soonest deadline first.

use super::orders::ORDER_COLUMNS;
use super::{with_db, Store, StoreError};
use crate::cases::model::WorkOrder;

/// Whose inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxOwner {
    Department(String),
    Inspector(String),
}

/// Most orders an inbox lists.
pub const INBOX_LIMIT: i64 = 1000;

impl Store {
    /// The open work of `owner`, soonest deadline first (orders without a deadline last).
    pub async fn inbox(&self, owner: &InboxOwner) -> Result<Vec<WorkOrder>, StoreError> {
        let (column, who, statuses) = match owner {
            InboxOwner::Department(d) => ("department_id", d, ["dispatched", "accepted"]),
            InboxOwner::Inspector(i) => ("assignee", i, ["verifying", "handled"]),
        };
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM work_orders WHERE {column} = $1 AND status IN ($2, $3)
             ORDER BY deadline IS NULL, deadline, id LIMIT $4"
        );
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, WorkOrder>(&sql)
                .bind(who)
                .bind(statuses[0])
                .bind(statuses[1])
                .bind(INBOX_LIMIT)
                .fetch_all(pool)
                .await?
        }))
    }
}
