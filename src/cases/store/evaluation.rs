//! What the monthly evaluation (综合评价) reads: the workflow events of a time range with the
//! department they count for, the orders field inspectors reported then, and the 漏报/错报 marks
//! put then, grouped in SQL (one row per alike facts, with its count) and streamed into
//! [`crate::cases::evaluation::Accumulator`]. The event data (`department`, `on_time`) is read
//! in SQL with each database's JSON operator.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::{with_db, Db, Store, StoreError};
use crate::cases::evaluation::{Accumulator, Evaluation, EventFact, MarkFact, ReportFact};

/// The actions the evaluation counts.
pub(crate) const EVALUATED_ACTIONS: &str =
    "'register', 'dispatch', 'handle', 'return_order', 'rework', 'close'";

#[derive(sqlx::FromRow)]
struct EventRow {
    action: String,
    department: Option<String>,
    on_time: Option<String>,
    order_department: Option<String>,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    inspector: String,
    registered: bool,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct MarkRow {
    inspector: String,
    kind: String,
    n: i64,
}

impl Store {
    /// The SQL text reading `key` of the JSON column `col` as text (booleans as `true`/`false`).
    pub(crate) fn json_text(&self, col: &str, key: &str) -> String {
        match &self.db {
            Db::Sqlite { .. } => format!(
                "CASE json_type({col}, '$.{key}') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                 ELSE json_extract({col}, '$.{key}') END"
            ),
            Db::Postgres(_) => format!("({col} ->> '{key}')"),
        }
    }

    /// The evaluation of `[start, end)`: events, field-inspector reports created and marks put
    /// then (marks not withdrawn, with an inspector). `departments` (id, name) and `inspectors`
    /// get rows even when nothing happened to them.
    pub async fn evaluation(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        departments: &[(String, String)],
        inspectors: &[String],
    ) -> Result<Evaluation, StoreError> {
        let events_sql = format!(
            "SELECT e.action, {} AS department, {} AS on_time, o.department_id AS order_department, \
             COUNT(*) AS n FROM case_events e JOIN work_orders o ON o.id = e.order_id \
             WHERE e.action IN ({EVALUATED_ACTIONS}) AND e.at >= $1 AND e.at < $2 \
             GROUP BY 1, 2, 3, 4",
            self.json_text("e.data", "department"),
            self.json_text("e.data", "on_time"),
        );
        let reports_sql = "SELECT reporter_id AS inspector, \
            (registered_at IS NOT NULL) AS registered, COUNT(*) AS n FROM work_orders \
            WHERE channel = 'field-inspector' AND reporter_id IS NOT NULL \
            AND created_at >= $1 AND created_at < $2 GROUP BY 1, 2";
        let marks_sql = "SELECT inspector, kind, COUNT(*) AS n FROM order_marks \
            WHERE inspector IS NOT NULL AND withdrawn = FALSE AND marked_at >= $1 \
            AND marked_at < $2 GROUP BY 1, 2";
        let mut acc = Accumulator::new(departments, inspectors);
        with_db!(self, read, |pool| {
            let mut rows = sqlx::query_as::<_, EventRow>(&events_sql)
                .bind(start)
                .bind(end)
                .fetch(pool);
            while let Some(r) = rows.try_next().await? {
                acc.add_event(&EventFact {
                    action: r.action,
                    department: r.department,
                    on_time: r.on_time.map(|t| t == "true"),
                    order_department: r.order_department,
                    count: r.n.max(0) as u64,
                });
            }
            drop(rows);
            let mut rows = sqlx::query_as::<_, ReportRow>(reports_sql)
                .bind(start)
                .bind(end)
                .fetch(pool);
            while let Some(r) = rows.try_next().await? {
                acc.add_report(&ReportFact {
                    inspector: r.inspector,
                    registered: r.registered,
                    count: r.n.max(0) as u64,
                });
            }
            drop(rows);
            let mut rows = sqlx::query_as::<_, MarkRow>(marks_sql)
                .bind(start)
                .bind(end)
                .fetch(pool);
            while let Some(r) = rows.try_next().await? {
                acc.add_mark(&MarkFact {
                    inspector: r.inspector,
                    kind: r.kind,
                    count: r.n.max(0) as u64,
                });
            }
        });
        Ok(acc.finish())
    }
}
