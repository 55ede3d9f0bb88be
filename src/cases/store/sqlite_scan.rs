//! A report's facts read from a SQLite file on one blocking thread (rusqlite), in batches.
//! sqlx's SQLite driver copies every value on its worker thread and hands rows one by one to
//! the task that frees them; for the ~140,000 rows of a month's report that hand-off, not
//! SQLite, was most of the time on free cores (bench/RESULTS.md "Reports"). Here the rows are
//! read, decoded and batched on one thread; the async side only receives whole batches.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::mpsc;

use super::StoreError;
use crate::cases::kpi::{CallFact, OrderFact};

/// Facts as they come, a batch at a time.
pub(super) enum Batch {
    Calls(Vec<CallFact>),
    Orders(Vec<OrderFact>),
}

const BATCH: usize = 2048;

/// The same text sqlx writes for a `DateTime<Utc>` (so comparisons in SQL agree).
fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn time(row: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(s) = row.get::<_, Option<String>>(i)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
}

fn required(row: &Row, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    time(row, i)?.ok_or(rusqlite::Error::InvalidColumnType(
        i,
        "timestamp".into(),
        rusqlite::types::Type::Null,
    ))
}

fn scan_error(e: rusqlite::Error) -> StoreError {
    tracing::error!(error = %e, "reading a report's facts from SQLite");
    StoreError::Internal(format!("reading report facts: {e}"))
}

/// Reads the calls (`calls_sql`, parameters start, end, queue, agent) and then the orders
/// (`orders_sql`, parameters start, end) of a report, sending them in batches; stops early if
/// the receiver is gone.
pub(super) fn scan(
    path: PathBuf,
    (calls_sql, orders_sql): (&str, &str),
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    (queue, agent): (Option<String>, Option<String>),
    tx: mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    let db = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(scan_error)?;
    db.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(scan_error)?;
    let (start, end) = (text(start), text(end));

    let mut stmt = db.prepare(calls_sql).map_err(scan_error)?;
    let mut rows = stmt
        .query(rusqlite::params![start, end, queue, agent])
        .map_err(scan_error)?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(r) = rows.next().map_err(scan_error)? {
        let task_status: Option<String> = r.get(9).map_err(scan_error)?;
        batch.push(CallFact {
            outbound: false,
            called_back: task_status.as_deref() == Some("done"),
            queue: r.get(0).map_err(scan_error)?,
            agent_id: r.get(1).map_err(scan_error)?,
            offered_at: required(r, 2).map_err(scan_error)?,
            queued_at: time(r, 3).map_err(scan_error)?,
            answered_at: time(r, 4).map_err(scan_error)?,
            ended_at: time(r, 5).map_err(scan_error)?,
            disposition: r.get(6).map_err(scan_error)?,
            survey: r.get(7).map_err(scan_error)?,
            wrap_up_ms: r.get(8).map_err(scan_error)?,
        });
        if batch.len() == BATCH
            && tx
                .blocking_send(Batch::Calls(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(BATCH),
                )))
                .is_err()
        {
            return Ok(());
        }
    }
    if !batch.is_empty() && tx.blocking_send(Batch::Calls(batch)).is_err() {
        return Ok(());
    }
    drop(rows);

    let mut stmt = db.prepare(orders_sql).map_err(scan_error)?;
    let mut rows = stmt
        .query(rusqlite::params![start, end])
        .map_err(scan_error)?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(r) = rows.next().map_err(scan_error)? {
        let status: String = r.get(1).map_err(scan_error)?;
        batch.push(OrderFact {
            id: r.get(0).map_err(scan_error)?,
            created_at: required(r, 2).map_err(scan_error)?,
            closed_at: time(r, 3)
                .map_err(scan_error)?
                .filter(|_| status == "closed"),
            deadline: time(r, 4).map_err(scan_error)?,
            resolved_at_intake: r.get(5).map_err(scan_error)?,
            queue: r.get(6).map_err(scan_error)?,
            agent_id: r.get(7).map_err(scan_error)?,
        });
        if batch.len() == BATCH
            && tx
                .blocking_send(Batch::Orders(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(BATCH),
                )))
                .is_err()
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Batch::Orders(batch));
    }
    Ok(())
}
