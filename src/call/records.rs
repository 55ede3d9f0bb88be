//! Call records (CDR) as the call task sees them: one per inbound call, made when the INVITE is
//! admitted — before the caller hears anything — and rewritten at every step (answered, the
//! recording's path, ended with a disposition). Writes go, in order, through one writer task, so
//! the call task never waits on the database and a slow disk delays records, never calls.

use std::collections::HashMap;

use chrono::Utc;
use tokio::sync::mpsc;

use crate::cases::model::CallRecord;
use crate::cases::store::Store;

/// See the module documentation.
pub struct CallRecords {
    open: HashMap<String, CallRecord>,
    writer: Option<mpsc::UnboundedSender<CallRecord>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Attempts to write one record before giving up on it (logged).
const WRITE_ATTEMPTS: u32 = 5;

impl CallRecords {
    /// Records written to `store` (none when `None`: tests, a server without a case store).
    pub fn new(store: Option<Store>) -> CallRecords {
        let (writer, task) = match store {
            Some(store) => {
                let (tx, mut rx) = mpsc::unbounded_channel::<CallRecord>();
                let task = tokio::spawn(async move {
                    while let Some(rec) = rx.recv().await {
                        write_with_retry(&store, &rec).await;
                    }
                });
                (Some(tx), Some(task))
            }
            None => (None, None),
        };
        CallRecords {
            open: HashMap::new(),
            writer,
            task,
        }
    }

    /// Writes everything queued so far and stops the writer (at shutdown).
    pub async fn close(&mut self) {
        self.writer = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn write(&self, call_id: &str) {
        if let (Some(w), Some(rec)) = (&self.writer, self.open.get(call_id)) {
            let _ = w.send(rec.clone());
        }
    }

    pub fn offered(
        &mut self,
        call_id: &str,
        from: &str,
        to: &str,
        trunk: Option<String>,
        queue: Option<String>,
    ) {
        self.open.insert(
            call_id.to_string(),
            CallRecord {
                trunk,
                queue,
                ..CallRecord::inbound(call_id, from, to, Utc::now())
            },
        );
        self.write(call_id);
    }

    pub fn answered(&mut self, call_id: &str) {
        if let Some(r) = self.open.get_mut(call_id) {
            r.answered_at.get_or_insert_with(Utc::now);
            self.write(call_id);
        }
    }

    pub fn recording(&mut self, call_id: &str, path: &std::path::Path) {
        if let Some(r) = self.open.get_mut(call_id) {
            r.recording_path = Some(path.display().to_string());
            self.write(call_id);
        }
    }

    /// The call is over: answered if it was, else abandoned (the caller hung up or cancelled)
    /// or failed (anything else), with the cause as detail.
    pub fn ended(&mut self, call_id: &str, cause: &str) {
        let Some(r) = self.open.get_mut(call_id) else {
            return;
        };
        r.ended_at = Some(Utc::now());
        let disposition = if r.answered_at.is_some() {
            "answered"
        } else if matches!(cause, "cancelled" | "remote BYE") {
            "abandoned"
        } else {
            "failed"
        };
        r.disposition = Some(disposition.into());
        r.disposition_detail = Some(cause.into());
        self.write(call_id);
        self.open.remove(call_id);
    }
}

/// A record is written, or retried with growing pauses (a busy database, a dropped connection)
/// before the failure is logged.
async fn write_with_retry(store: &Store, rec: &CallRecord) {
    for attempt in 1..=WRITE_ATTEMPTS {
        match store.save_call(rec).await {
            Ok(()) => return,
            Err(e) if attempt == WRITE_ATTEMPTS => {
                tracing::error!(call_id = %rec.id, error = %e, "call record not written");
            }
            Err(e) => {
                tracing::warn!(call_id = %rec.id, error = %e, attempt, "call record write failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
        }
    }
}
