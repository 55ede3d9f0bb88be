//! Calls that leave work behind and calls we place: a left message or a callback request
//! becomes a work order (channel phone, type voicemail / callback, with the recording); an
//! abandoned call becomes a missed-call callback task (漏接回拨) unless the number was answered
//! since; a task is worked as an outbound call — the agent's softphone first, then the citizen
//! through the trunk with the hotline's number as caller ID — and every attempt is on the task.

use std::time::Instant;

use super::outcome::{Disposition, Stage};
use super::{Call, Calls, Kind, Role};
use crate::acd::{AgentStatus, Input, Requested};
use crate::cases::model::NewCallbackTask;
use crate::cases::store::{NewCallbackAttempt, OrderFromCall, RecordingRef};
use crate::sip::endpoint::{Dial, DialTarget};

impl Calls {
    fn channel_of(&self, number: &str) -> String {
        self.numbers
            .get(number)
            .map(|n| n.channel.clone())
            .unwrap_or_else(|| "phone-12345".into())
    }

    /// A caller left a message: a voicemail order with the recording.
    pub(super) fn voicemail_left(&mut self, key: u64) {
        self.order_from_call(key, OrderFromCall::Voicemail);
    }

    /// A voicemail or callback order tied to the call, written after the call's record.
    fn order_from_call(&mut self, key: u64, kind: OrderFromCall) {
        let Some(c) = self.calls.get(&key) else {
            return;
        };
        let Some(record) = self.records.get(&c.record_id).cloned() else {
            return;
        };
        let channel = self.channel_of(&c.number);
        let recording = record.recording_path.clone().map(|path| RecordingRef {
            path,
            offset_ms: record.voicemail_offset_ms,
        });
        self.records.then(move |store| {
            Box::pin(async move {
                let r = store
                    .create_order_from_call(kind, &record, &channel, recording.as_ref(), chrono::Utc::now())
                    .await;
                match r {
                    Ok(o) => tracing::info!(call = %record.id, order = %o.number, kind = kind.request_type(), "work order from a call"),
                    Err(e) => tracing::error!(call = %record.id, error = %e, "order from a call not created"),
                }
            })
        });
    }

    /// The caller asked to be called back (self-service, overflow, or while waiting): a task
    /// and a callback order.
    pub(super) fn callback_requested(&mut self, key: u64, kind: &'static str) {
        let Some(c) = self.calls.get(&key) else {
            return;
        };
        let task = NewCallbackTask {
            kind: kind.to_string(),
            number: c.caller.clone(),
            queue: c.queue.clone(),
            call_id: Some(c.record_id.clone()),
            max_attempts: self.cfg.config.callbacks.max_attempts as i32,
            work_order_id: None,
        };
        self.order_from_call(key, OrderFromCall::Callback);
        let tx = self.cmd.clone();
        self.records.then(move |store| {
            Box::pin(async move {
                match store.create_callback_task(&task, chrono::Utc::now()).await {
                    Ok(t) => {
                        note_task_on_call(&store, task.call_id.as_deref(), t.id).await;
                        let _ = tx.send(super::Cmd::CallbackTask {
                            call: key,
                            task: t.id,
                        });
                    }
                    Err(e) => tracing::error!(error = %e, "callback task not created"),
                }
            })
        });
    }

    /// After a call's disposition: a missed-call task for an abandoned call; an answered call
    /// closes the number's open missed-call tasks.
    pub(super) fn after_disposition(&mut self, call: &Call, d: &Disposition) {
        if call.kind != Kind::Inbound {
            return;
        }
        let number = call.caller.clone();
        match d {
            Disposition::Abandoned(_) if self.cfg.config.callbacks.missed_call_tasks => {
                let task = NewCallbackTask {
                    kind: "missed-call".into(),
                    number,
                    queue: call.queue.clone(),
                    call_id: Some(call.record_id.clone()),
                    max_attempts: self.cfg.config.callbacks.max_attempts as i32,
                    work_order_id: None,
                };
                let id = call.record_id.clone();
                self.records.then(move |store| {
                    Box::pin(async move {
                        match store.create_callback_task(&task, chrono::Utc::now()).await {
                            Ok(t) => {
                                // The record is finished already: the id goes on it here.
                                note_task_on_call(&store, task.call_id.as_deref(), t.id).await;
                                tracing::info!(call = %id, task = t.id, "missed-call callback task");
                            }
                            Err(e) => tracing::error!(error = %e, "missed-call task not created"),
                        }
                    })
                });
            }
            Disposition::Answered => {
                self.records.then(move |store| {
                    Box::pin(async move {
                        match store.cancel_missed_call_tasks(&number, chrono::Utc::now()).await {
                            Ok(n) if n > 0 => {
                                tracing::info!(%number, tasks = n, "missed-call tasks closed: the number got through")
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "missed-call tasks not closed"),
                        }
                    })
                });
            }
            _ => {}
        }
    }

    /// An agent takes a callback task: checked here, taken in the store off the call task
    /// (the answer comes back as [`super::Cmd::CallbackTaken`]).
    pub(super) fn begin_callback(
        &mut self,
        agent: String,
        task: i64,
        reply: tokio::sync::oneshot::Sender<Result<serde_json::Value, super::DeskError>>,
    ) {
        if let Err(e) = self.may_take_callback(&agent, task) {
            let _ = reply.send(Err(e));
            return;
        }
        let Some(store) = self.store.clone() else {
            let _ = reply.send(Err(super::DeskError::Unavailable));
            return;
        };
        let tx = self.cmd.clone();
        tokio::spawn(async move {
            let task = store
                .take_callback_task(task, &agent, chrono::Utc::now())
                .await
                .map_err(|e| match e {
                    crate::cases::StoreError::NotFound { what } => {
                        super::DeskError::NotFound(format!("no callback task {what}"))
                    }
                    crate::cases::StoreError::WrongState(m) => super::DeskError::Conflict(m),
                    e => {
                        tracing::error!(error = %e, "taking a callback task failed");
                        super::DeskError::Unavailable
                    }
                });
            let _ = tx.send(super::Cmd::CallbackTaken {
                agent,
                task: Box::new(task),
                reply,
            });
        });
    }

    /// An agent may take a task when free of calls, and a task whose caller keeps their place
    /// in a queue is offered from there, not taken by hand.
    fn may_take_callback(&self, agent: &str, task: i64) -> Result<(), super::DeskError> {
        use super::DeskError;
        match self.acd.agent_state(agent).map(|s| s.0) {
            Some(
                AgentStatus::Ready
                | AgentStatus::NotReady
                | AgentStatus::Break
                | AgentStatus::WrapUp,
            ) => {}
            Some(s) => {
                return Err(DeskError::Conflict(format!(
                    "agent {agent} is {} and cannot take a callback now",
                    s.as_str()
                )))
            }
            None => return Err(DeskError::UnknownAgent(agent.to_string())),
        }
        if self.agent_busy(agent) {
            return Err(DeskError::Conflict(format!(
                "agent {agent} is on a call and cannot take a callback now"
            )));
        }
        if self.calls.values().any(|c| c.keeps_place == Some(task)) {
            return Err(DeskError::Conflict(format!(
                "the caller of task {task} keeps their place in the queue; the task is offered to an agent when their turn comes"
            )));
        }
        Ok(())
    }

    /// The agent talks with, or is being rung for, one of the calls.
    pub(super) fn agent_busy(&self, agent: &str) -> bool {
        self.calls.values().any(|c| {
            c.agent.as_ref().is_some_and(|a| a.0 == agent)
                || c.offers.iter().any(|o| o.0 == agent)
                || matches!(&c.kind, Kind::Callback { agent: a, .. } if a == agent)
        })
    }

    /// The task is the agent's: their softphone rings first.
    pub(super) async fn start_callback(
        &mut self,
        agent: &str,
        t: crate::cases::model::CallbackTask,
    ) -> Result<serde_json::Value, super::DeskError> {
        use super::DeskError;
        let task = t.id;
        if self.agent_busy(agent) {
            // Busy since the check (a queue call came first): the task goes back.
            self.callback_attempt(task, agent, None, "agent-no-answer", "agent busy");
            return Err(DeskError::Conflict(format!(
                "agent {agent} got another call meanwhile; the task is open again"
            )));
        }
        // Busy for the ACD while the callback runs.
        let _ = self.acd.handle(
            Input::SetState {
                agent: agent.to_string(),
                state: Requested::NotReady("callback".into()),
            },
            Instant::now(),
        );
        self.drain_acd().await;
        let caller_id = self
            .cfg
            .config
            .numbers
            .iter()
            .find(|n| Some(&n.queue) == t.queue.as_ref())
            .or(self.cfg.config.numbers.first())
            .map(|n| n.number.clone())
            .unwrap_or_else(|| "12345".into());
        let key = self.key();
        let record_id = super::record_id(key);
        self.calls.insert(
            key,
            Call::new(
                Kind::Callback {
                    task,
                    number: t.number.clone(),
                    agent: agent.to_string(),
                },
                record_id.clone(),
                (caller_id.clone(), t.number.clone()),
                t.queue.clone(),
                self.cfg.language.clone(),
            ),
        );
        let dial = Dial {
            target: DialTarget::User {
                user: agent.to_string(),
            },
            from_user: Some(t.number.clone()),
            from_display: Some(format!("callback {}", t.number)),
            asserted: Some(t.number.clone()),
            link: None,
        };
        match self.sip.dial(dial).await {
            Ok(Ok(leg)) => {
                self.records.offered(
                    &record_id,
                    &leg,
                    &caller_id,
                    &t.number,
                    None,
                    t.queue.clone(),
                    "outbound",
                );
                self.records.callback_task(&record_id, task);
                self.add_leg(&leg, key, Role::Agent(agent.to_string()));
                if let Some(c) = self.calls.get_mut(&key) {
                    c.offers.push((agent.to_string(), leg.clone()));
                }
                // The agent's phone rings as long as an offer of the task's queue would.
                let ring = t
                    .queue
                    .as_ref()
                    .and_then(|q| self.acd.config().queues.iter().find(|s| &s.name == q))
                    .map(|s| s.ring_secs)
                    .unwrap_or(15);
                let tx = self.cmd.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_secs(ring.into())).await;
                    let _ = tx.send(super::Cmd::CallbackRingTimeout { leg });
                });
                Ok(serde_json::json!({ "task": task, "call_id": record_id, "number": t.number }))
            }
            Ok(Err(e)) => {
                self.calls.remove(&key);
                self.callback_attempt(task, agent, None, "agent-no-answer", &e.to_string());
                self.agent_back(agent).await;
                Err(DeskError::Conflict(format!(
                    "cannot ring agent {agent}: {e}"
                )))
            }
            Err(_) => {
                self.calls.remove(&key);
                Err(DeskError::Unavailable)
            }
        }
    }

    /// The agent is there for a callback (their leg answered): dial the citizen.
    pub(super) async fn callback_agent_ready(&mut self, key: u64) {
        let Some(c) = self.calls.get_mut(&key) else {
            return;
        };
        if c.kind == Kind::Inbound {
            // A caller who kept their place: this is now the callback of their task, with a
            // record and a life of its own.
            let task = c.keeps_place.unwrap_or(0);
            let agent = c.agent.as_ref().map(|a| a.0.clone()).unwrap_or_default();
            c.kind = Kind::Callback {
                task,
                number: c.caller.clone(),
                agent: agent.clone(),
            };
            c.keeps_place = None;
            c.life = Default::default();
            let old = std::mem::replace(&mut c.record_id, super::record_id(key));
            let (id, number, caller, queue) = (
                c.record_id.clone(),
                c.number.clone(),
                c.caller.clone(),
                c.queue.clone(),
            );
            let leg = c.agent.as_ref().map(|a| a.1.clone()).unwrap_or_default();
            // The task is the agent's now (ordered before the attempt that follows).
            if task != 0 {
                let who = agent.clone();
                self.records.then(move |store| {
                    Box::pin(async move {
                        if let Err(e) = store
                            .take_callback_task(task, &who, chrono::Utc::now())
                            .await
                        {
                            tracing::warn!(task, agent = %who, error = %e, "queued callback task not taken");
                        }
                    })
                });
            }
            self.records
                .offered(&id, &leg, &number, &caller, None, queue, "outbound");
            self.records.callback_task(&id, task);
            self.records
                .step(&id, "offered", Some(&format!("callback of call {old}")));
        }
        let Some(c) = self.calls.get(&key) else {
            return;
        };
        let Kind::Callback { number, .. } = c.kind.clone() else {
            return;
        };
        let Some(trunk) = self.out_trunk() else {
            tracing::error!("no trunk with an outbound_proxy: callbacks cannot be placed");
            if let Some(c) = self.calls.get_mut(&key) {
                c.life
                    .decide(Disposition::Failed("no trunk to call out".into()));
            }
            self.finish_call(key).await;
            return;
        };
        self.enter(key, Stage::Ringing);
        if let Some(c) = self.calls.get_mut(&key) {
            c.citizen_dialled = true;
        }
        self.dial_outside(key, &trunk, &number).await;
    }

    /// The citizen answered a callback.
    pub(super) fn callback_answered(&mut self, key: u64) {
        let Some(c) = self.calls.get_mut(&key) else {
            return;
        };
        let Kind::Callback { task, agent, .. } = c.kind.clone() else {
            return;
        };
        c.life.decide(Disposition::Answered);
        c.life.enter(Stage::Talking);
        c.answered_at.get_or_insert_with(Instant::now);
        c.answered_wall.get_or_insert_with(chrono::Utc::now);
        c.served_by = Some(agent.clone());
        c.attempt_recorded = true;
        let id = c.record_id.clone();
        self.records.answered(&id, Some(&agent));
        self.callback_attempt(task, &agent, Some(id), "answered", "");
        self.screen_pop(key, &agent);
    }

    /// The citizen did not answer (busy, no answer, failed).
    pub(super) async fn callback_unanswered(&mut self, key: u64, cause: &str) {
        let Some(c) = self.calls.get_mut(&key) else {
            return;
        };
        let outcome = callback_outcome(cause);
        c.life.decide(Disposition::Failed(cause.to_string()));
        c.attempt_recorded = true;
        let id = c.record_id.clone();
        if let Kind::Callback { task, agent, .. } = c.kind.clone() {
            self.callback_attempt(task, &agent, Some(id), outcome, cause);
        }
        self.finish_call(key).await;
    }

    /// Records an attempt on a task (after the writes queued before it).
    pub(super) fn callback_attempt(
        &mut self,
        task: i64,
        agent: &str,
        call_id: Option<String>,
        outcome: &str,
        detail: &str,
    ) {
        if task == 0 {
            return;
        }
        let attempt = NewCallbackAttempt {
            at: chrono::Utc::now(),
            agent_id: Some(agent.to_string()),
            call_id,
            outcome: outcome.to_string(),
            detail: (!detail.is_empty()).then(|| detail.to_string()),
        };
        let retry = self.cfg.config.callbacks.retry_interval();
        self.records.then(move |store| {
            Box::pin(async move {
                if let Err(e) = store.record_callback_attempt(task, &attempt, retry).await {
                    tracing::error!(task, error = %e, "callback attempt not recorded");
                }
            })
        });
    }

    /// A callback call is over: its record finished, the attempt on the task (if nothing was
    /// recorded yet: the agent or the citizen did not get through), the agent back to work.
    pub(super) async fn callback_finished(&mut self, key: u64) {
        let Some(mut c) = self.calls.remove(&key) else {
            return;
        };
        if let Some(m) = c.monitor.take() {
            self.hangup(&m.leg);
        }
        self.unschedule(key);
        let d = c.life.ended("agent hung up");
        let d = if matches!(d, Disposition::Abandoned(_)) {
            Disposition::Failed("not reached".into())
        } else {
            d
        };
        self.records
            .ended(&c.record_id, &d, d == Disposition::Answered);
        let Kind::Callback { task, agent, .. } = c.kind.clone() else {
            return;
        };
        if !c.attempt_recorded {
            let outcome = if c.citizen_dialled {
                "no-answer"
            } else {
                "agent-no-answer"
            };
            self.callback_attempt(task, &agent, Some(c.record_id.clone()), outcome, "");
        }
        if c.served_by.is_some() {
            self.desk_call_ended(&agent, &c);
        }
        if let Some(acd) = c.acd.take() {
            self.acd_calls.remove(&acd);
            let _ = self
                .acd
                .handle(Input::CallEnded { call: acd }, Instant::now());
            self.drain_acd().await;
        } else {
            self.agent_back(&agent).await;
        }
    }

    /// An agent who worked a callback outside the queue is ready again.
    async fn agent_back(&mut self, agent: &str) {
        if self
            .acd
            .agent_state(agent)
            .is_some_and(|s| s.1.as_deref() == Some("callback"))
        {
            let _ = self.acd.handle(
                Input::SetState {
                    agent: agent.to_string(),
                    state: Requested::Ready,
                },
                Instant::now(),
            );
            self.drain_acd().await;
        }
    }
}

/// Puts a new task's id on the call it came from (the call's record may be finished by now;
/// this runs in the writer, after every write of the record queued before it).
async fn note_task_on_call(store: &crate::cases::store::Store, call: Option<&str>, task: i64) {
    let Some(call) = call else { return };
    match store.get_call(call).await {
        Ok(Some(mut rec)) if rec.callback_task_id.is_none() => {
            rec.callback_task_id = Some(task);
            if let Err(e) = store.save_call(&rec).await {
                tracing::warn!(%call, task, error = %e, "task id not put on the call record");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(%call, task, error = %e, "task id not put on the call record"),
    }
}

/// The attempt outcome for the SIP cause an unanswered callback ended with (docs/sip.md).
fn callback_outcome(cause: &str) -> &'static str {
    match cause {
        "failed: 486" | "failed: 600" | "failed: 603" => "busy",
        "no answer" | "failed: 408" | "failed: 480" | "failed: 487" | "remote BYE"
        | "hung up by request" => "no-answer",
        _ => "failed",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn causes_map_to_attempt_outcomes() {
        for (cause, outcome) in [
            ("failed: 486", "busy"),
            ("failed: 603", "busy"),
            ("no answer", "no-answer"),
            ("failed: 408", "no-answer"),
            ("failed: 480", "no-answer"),
            ("failed: 404", "failed"),
            ("no common codec", "failed"),
        ] {
            assert_eq!(super::callback_outcome(cause), outcome, "{cause}");
        }
    }
}
