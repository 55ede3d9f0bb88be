//! Call records (CDR) as the call task sees them: one per call, made when the INVITE is
//! admitted — before the caller hears anything — and rewritten at every step (queued, rung,
//! answered, transferred, ended with its disposition), each step also appended to the call's
//! steps. Orders and callback tasks made from calls go through the same writer, after the
//! record they point at, so the call task never waits on the database and nothing refers to a
//! row not yet written.

use std::collections::HashMap;

use chrono::Utc;
use tokio::sync::mpsc;

use super::outcome::Disposition;
use crate::cases::model::{CallRecord, CallStep};
use crate::cases::store::Store;

/// A piece of work run by the writer.
pub(super) type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Work for the writer, in order.
pub(super) enum Job {
    Save(Box<CallRecord>),
    Step(CallStep),
    /// Runs after everything queued before it (orders, tasks).
    Then(Box<dyn FnOnce(Store) -> BoxFut + Send>),
}

/// See the module documentation.
pub struct CallRecords {
    open: HashMap<String, CallRecord>,
    writer: Option<mpsc::UnboundedSender<Job>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Attempts to write one record before giving up on it (logged).
const WRITE_ATTEMPTS: u32 = 5;

impl CallRecords {
    /// Records written to `store` (none when `None`: tests, a server without a case store).
    pub fn new(store: Option<Store>) -> CallRecords {
        let (writer, task) = match store {
            Some(store) => {
                let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
                let task = tokio::spawn(async move {
                    while let Some(job) = rx.recv().await {
                        match job {
                            Job::Save(rec) => write_with_retry(&store, &rec).await,
                            Job::Step(step) => {
                                if let Err(e) = store.add_call_step(&step).await {
                                    tracing::warn!(call_id = %step.call_id, error = %e, "call step not written");
                                }
                            }
                            Job::Then(f) => f(store.clone()).await,
                        }
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

    /// Queues work that runs with the store after the records written so far.
    pub(super) fn then(&self, f: impl FnOnce(Store) -> BoxFut + Send + 'static) {
        if let Some(w) = &self.writer {
            let _ = w.send(Job::Then(Box::new(f)));
        }
    }

    /// The record of a call in progress.
    pub(super) fn get(&self, id: &str) -> Option<&CallRecord> {
        self.open.get(id)
    }

    fn write(&self, id: &str) {
        if let (Some(w), Some(rec)) = (&self.writer, self.open.get(id)) {
            let _ = w.send(Job::Save(Box::new(rec.clone())));
        }
    }

    /// Appends a step to the call's history.
    pub fn step(&self, id: &str, step: &str, detail: Option<&str>) {
        self.step_with(id, step, None, detail);
    }

    /// [`CallRecords::step`] for a call that may be unknown.
    pub fn step_of(&self, id: Option<&str>, step: &str, detail: Option<&str>) {
        if let Some(id) = id {
            self.step(id, step, detail);
        }
    }

    fn step_with(&self, id: &str, step: &str, agent: Option<&str>, detail: Option<&str>) {
        if let Some(w) = &self.writer {
            let mut s = CallStep::new(id, Utc::now(), step);
            s.agent_id = agent.map(str::to_string);
            s.detail = detail.map(str::to_string);
            let _ = w.send(Job::Step(s));
        }
    }

    fn update(&mut self, id: &str, f: impl FnOnce(&mut CallRecord)) {
        if let Some(r) = self.open.get_mut(id) {
            f(r);
            self.write(id);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn offered(
        &mut self,
        id: &str,
        sip_call_id: &str,
        from: &str,
        to: &str,
        trunk: Option<String>,
        queue: Option<String>,
        direction: &str,
    ) {
        let mut rec = CallRecord::inbound(id, from, to, Utc::now());
        rec.sip_call_id = Some(sip_call_id.to_string());
        rec.trunk = trunk;
        rec.queue = queue;
        rec.direction = direction.to_string();
        self.open.insert(id.to_string(), rec);
        self.write(id);
        self.step(id, "offered", None);
    }

    pub fn language(&mut self, id: &str, lang: &str) {
        self.update(id, |r| r.language = Some(lang.to_string()));
    }

    pub fn queued(&mut self, id: &str, queue: &str, priority: u8) {
        self.update(id, |r| {
            r.queue = Some(queue.to_string());
            r.priority = i32::from(priority);
            r.queued_at.get_or_insert_with(Utc::now);
        });
        self.step(id, "queued", Some(queue));
    }

    pub fn ringing(&mut self, id: &str, agent: &str) {
        self.update(id, |r| {
            r.ringing_at.get_or_insert_with(Utc::now);
        });
        self.step_with(id, "ringing", Some(agent), None);
    }

    pub fn answered(&mut self, id: &str, agent: Option<&str>) {
        self.update(id, |r| {
            r.answered_at.get_or_insert_with(Utc::now);
            if let Some(a) = agent {
                r.agent_id = Some(a.to_string());
            }
        });
        self.step_with(id, "answered", agent, None);
    }

    pub fn transferred(&mut self, id: &str, agent: &str, target: &str) {
        self.update(id, |r| r.transferred_to = Some(target.to_string()));
        self.step_with(id, "transferred", Some(agent), Some(target));
    }

    pub fn recording(&mut self, id: &str, path: &std::path::Path) {
        self.update(id, |r| r.recording_path = Some(path.display().to_string()));
    }

    pub fn voicemail(&mut self, id: &str, offset_ms: Option<i64>) {
        self.update(id, |r| r.voicemail_offset_ms = offset_ms);
        self.step(id, "voicemail", Some("message recording"));
    }

    /// The caller's survey answer, on the call (a `survey` step) and on its order.
    pub fn survey(&mut self, id: &str, answer: u8) {
        if let Some(r) = self.open.get_mut(id) {
            r.survey = Some(i32::from(answer));
        }
        let id = id.to_string();
        self.then(move |store| {
            Box::pin(async move {
                if let Err(e) = store
                    .record_survey(&id, i32::from(answer), Utc::now())
                    .await
                {
                    tracing::warn!(call = %id, error = %e, "survey answer not stored");
                }
            })
        });
    }

    pub fn callback_task(&mut self, id: &str, task: i64) {
        self.update(id, |r| r.callback_task_id = Some(task));
    }

    /// The call is over with `d`; `needs_order` flags an answered call that has no order yet
    /// (the store keeps the flag off when an order was linked meanwhile).
    pub fn ended(&mut self, id: &str, d: &Disposition, needs_order: bool) {
        self.update(id, |r| {
            r.ended_at = Some(Utc::now());
            r.disposition = Some(d.as_str().to_string());
            r.disposition_detail = d.detail();
            r.needs_order = needs_order;
        });
        self.step(id, "ended", Some(d.as_str()));
        self.open.remove(id);
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
