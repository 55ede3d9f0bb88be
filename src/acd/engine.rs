//! The ACD rules; see the module documentation for what they are.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::state::{AcdStore, AgentRecord, CallRecord, CallStage, MemoryStore};
use super::{
    AbandonStage, AcdConfig, AcdError, Action, AgentId, AgentStatus, CallId, Input, Outcome,
    OverflowReason, Requested, NO_ANSWER_REASON,
};

/// Weight of the latest call in the average handle time.
const AHT_WEIGHT: f64 = 0.1;

/// A scheduled check; stale entries (the record changed since) are skipped when they fire.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Timer {
    Ring(CallId),
    Announce(CallId),
    MaxWait(CallId),
    WrapUp(AgentId),
}

/// Counters since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls accepted into a queue (each gets exactly one outcome).
    pub offered: u64,
    pub answered: u64,
    pub abandoned_queue: u64,
    pub abandoned_ringing: u64,
    pub overflowed: u64,
    /// Inputs ignored because they did not apply (unknown agent/call/queue, wrong state).
    pub ignored: u64,
}

impl Stats {
    /// The sum of all outcomes.
    pub fn outcomes(&self) -> u64 {
        self.answered + self.abandoned_queue + self.abandoned_ringing + self.overflowed
    }
}

/// The ACD engine. All state is in the [`AcdStore`] `S`, except the timer schedule, the
/// pending actions and the counters, which are node-local.
#[derive(Debug)]
pub struct Engine<S: AcdStore = MemoryStore> {
    pub(super) cfg: AcdConfig,
    pub(super) queue_index: HashMap<String, usize>,
    pub(super) agent_index: HashMap<AgentId, usize>,
    /// Per queue: the member agents' indices, in config order.
    pub(super) members: Vec<Vec<usize>>,
    pub(super) store: S,
    pub(super) timers: BTreeSet<(Instant, Timer)>,
    pub(super) actions: VecDeque<Action>,
    pub(super) stats: Stats,
}

impl Engine<MemoryStore> {
    /// An engine with the in-memory store.
    pub fn new(cfg: AcdConfig) -> Self {
        Self::with_store(cfg, MemoryStore::default())
    }
}

impl<S: AcdStore> Engine<S> {
    /// An engine working through `store`.
    pub fn with_store(cfg: AcdConfig, store: S) -> Self {
        let queue_index: HashMap<_, _> = cfg
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.clone(), i))
            .collect();
        let agent_index = cfg
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let members = cfg
            .queues
            .iter()
            .map(|q| {
                (0..cfg.agents.len())
                    .filter(|&a| cfg.agents[a].queues.contains_key(&q.name))
                    .collect()
            })
            .collect();
        Engine {
            cfg,
            queue_index,
            agent_index,
            members,
            store,
            timers: BTreeSet::new(),
            actions: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// Applies one input. An input that does not apply is ignored (counted in
    /// [`Stats::ignored`]) and reported as an error.
    pub fn handle(&mut self, input: Input, now: Instant) -> Result<(), AcdError> {
        let result = match input {
            Input::AgentLogin {
                agent,
                contact_registered,
            } => self.login(&agent, contact_registered, now),
            Input::AgentLogout { agent } => self.logout(&agent, now),
            Input::SetState { agent, state } => self.set_state(&agent, state, now),
            Input::RegistrationChanged { agent, registered } => {
                self.registration(&agent, registered, now)
            }
            Input::CallArrived {
                call,
                queue,
                priority,
                caller_number,
            } => self.arrived(call, &queue, priority, caller_number, now),
            Input::CallerHungUp { call } => self.hung_up(call, now),
            Input::AgentAnswered { call, agent } => self.answered(call, &agent, now),
            Input::AgentRejected { call, agent } => self.rejected(call, &agent, now),
            Input::CallEnded { call } => self.ended(call, now),
            Input::EndWrapUp { agent } => self.end_wrap_up(&agent, now),
        };
        if result.is_err() {
            self.stats.ignored += 1;
        }
        self.dispatch(now);
        result
    }

    /// Runs the timers due at `now` (ring time-outs, announcements, max wait, wrap-up).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((t, _)) = self.timers.first() {
            if *t > now {
                break;
            }
            let Some((t, timer)) = self.timers.pop_first() else {
                break;
            };
            self.fire(t, timer, now);
        }
        self.dispatch(now);
    }

    /// When [`Engine::handle_timeout`] should be called next (possibly early, harmlessly).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// The next action for the call layer.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &AcdConfig {
        &self.cfg
    }

    /// The state store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// An agent's state and not-ready reason; `None` for an unknown agent.
    pub fn agent_state(&self, agent: &str) -> Option<(AgentStatus, Option<String>)> {
        self.agent_index.get(agent)?;
        Some(match self.store.agent(agent) {
            Some(r) => (r.status, r.reason),
            None => (AgentStatus::LoggedOut, None),
        })
    }

    // ---- inputs -------------------------------------------------------------------------

    pub(super) fn known_agent(&self, agent: &str, now: Instant) -> Result<AgentRecord, AcdError> {
        if !self.agent_index.contains_key(agent) {
            return Err(AcdError::UnknownAgent(agent.to_string()));
        }
        Ok(self
            .store
            .agent(agent)
            .unwrap_or_else(|| AgentRecord::logged_out(now)))
    }

    pub(super) fn logged_in_agent(
        &self,
        agent: &str,
        now: Instant,
    ) -> Result<AgentRecord, AcdError> {
        let rec = self.known_agent(agent, now)?;
        if !rec.logged_in() {
            return Err(AcdError::LoggedOut(agent.to_string()));
        }
        Ok(rec)
    }

    pub(super) fn login(
        &mut self,
        agent: &str,
        registered: bool,
        now: Instant,
    ) -> Result<(), AcdError> {
        let mut rec = self.known_agent(agent, now)?;
        rec.registered = registered;
        if rec.logged_in() {
            self.store.put_agent(agent, rec);
            return Ok(());
        }
        rec.idle_since = now;
        rec.misses = 0;
        self.set_status(agent, &mut rec, AgentStatus::Ready, None, now);
        self.store.put_agent(agent, rec);
        Ok(())
    }

    pub(super) fn logout(&mut self, agent: &str, now: Instant) -> Result<(), AcdError> {
        let rec = self.logged_in_agent(agent, now)?;
        match rec.status {
            AgentStatus::OnCall => {
                let mut rec = rec;
                rec.logout_pending = true;
                self.store.put_agent(agent, rec);
                return Ok(());
            }
            AgentStatus::Ringing => self.withdraw_agent(agent, &rec, now),
            _ => {}
        }
        let mut rec = self.known_agent(agent, now)?;
        self.log_out(agent, &mut rec, now);
        Ok(())
    }

    pub(super) fn set_state(
        &mut self,
        agent: &str,
        req: Requested,
        now: Instant,
    ) -> Result<(), AcdError> {
        let mut rec = self.logged_in_agent(agent, now)?;
        match rec.status {
            AgentStatus::OnCall => {
                rec.pending = Some(req);
                self.store.put_agent(agent, rec);
                return Ok(());
            }
            AgentStatus::Ringing => {
                self.withdraw_agent(agent, &rec, now);
                rec = self.known_agent(agent, now)?;
            }
            _ => {}
        }
        rec.wrap_until = None;
        rec.pending = None;
        self.apply(agent, &mut rec, req, now);
        self.store.put_agent(agent, rec);
        Ok(())
    }

    pub(super) fn registration(
        &mut self,
        agent: &str,
        registered: bool,
        now: Instant,
    ) -> Result<(), AcdError> {
        let mut rec = self.known_agent(agent, now)?;
        if !registered && rec.status == AgentStatus::Ringing {
            self.withdraw_agent(agent, &rec, now);
            rec = self.known_agent(agent, now)?;
        }
        rec.registered = registered;
        let auto = self.cfg.agents[self.agent_index[agent]].ready_on_register;
        if registered && auto && !rec.logged_in() {
            rec.idle_since = now;
            rec.misses = 0;
            self.set_status(agent, &mut rec, AgentStatus::Ready, None, now);
        }
        self.store.put_agent(agent, rec);
        Ok(())
    }

    pub(super) fn arrived(
        &mut self,
        call: CallId,
        queue: &str,
        priority: u8,
        caller_number: String,
        now: Instant,
    ) -> Result<(), AcdError> {
        let qi = *self
            .queue_index
            .get(queue)
            .ok_or_else(|| AcdError::UnknownQueue(queue.to_string()))?;
        if self.store.call(call).is_some() {
            return Err(AcdError::DuplicateCall(call));
        }
        self.stats.offered += 1;
        let q = &self.cfg.queues[qi];
        let rec = CallRecord {
            queue: queue.to_string(),
            priority,
            caller_number,
            arrived: now,
            seq: self.store.next_seq(),
            deadline: now + secs(q.max_wait_secs),
            next_announce: None,
            stage: CallStage::Waiting,
            declined: Vec::new(),
        };
        if !self.staffed(qi) {
            self.overflow(call, &rec, OverflowReason::NoAgents);
            return Ok(());
        }
        self.timers.insert((rec.deadline, Timer::MaxWait(call)));
        self.wait(call, rec, now);
        Ok(())
    }

    pub(super) fn hung_up(&mut self, call: CallId, now: Instant) -> Result<(), AcdError> {
        let rec = self.store.call(call).ok_or(AcdError::UnknownCall(call))?;
        match &rec.stage {
            CallStage::Waiting => {
                self.store.dequeue(&rec.queue, rec.key(), call);
                self.store.remove_call(call);
                self.finish(
                    call,
                    Outcome::Abandoned {
                        stage: AbandonStage::Queue,
                    },
                );
            }
            CallStage::Ringing { agents, .. } => {
                self.store.remove_call(call);
                for agent in agents {
                    self.actions.push_back(Action::CancelOffer {
                        call,
                        agent: agent.clone(),
                    });
                    self.agent_released(agent, false, &rec.queue, now);
                }
                self.finish(
                    call,
                    Outcome::Abandoned {
                        stage: AbandonStage::Ringing,
                    },
                );
            }
            CallStage::Connected { .. } => self.end_call(call, rec, now),
        }
        Ok(())
    }

    pub(super) fn answered(
        &mut self,
        call: CallId,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        let mut rec = self.store.call(call).ok_or(AcdError::UnknownCall(call))?;
        let CallStage::Ringing { agents, .. } = &rec.stage else {
            return Err(AcdError::InvalidState(
                "answer for a call that is not ringing",
            ));
        };
        if !agents.iter().any(|a| a == agent) {
            return Err(AcdError::InvalidState(
                "answer from an agent not offered the call",
            ));
        }
        for other in agents.iter().filter(|a| *a != agent) {
            self.actions.push_back(Action::CancelOffer {
                call,
                agent: other.clone(),
            });
            self.agent_released(other, false, &rec.queue, now);
        }
        rec.stage = CallStage::Connected {
            agent: agent.to_string(),
            since: now,
        };
        self.store.put_call(call, rec);
        let mut arec = self.known_agent(agent, now)?;
        arec.misses = 0;
        arec.answered += 1;
        self.set_status(agent, &mut arec, AgentStatus::OnCall, None, now);
        self.store.put_agent(agent, arec);
        self.actions.push_back(Action::Connected {
            call,
            agent: agent.to_string(),
        });
        self.finish(
            call,
            Outcome::Answered {
                agent: agent.to_string(),
            },
        );
        Ok(())
    }

    pub(super) fn rejected(
        &mut self,
        call: CallId,
        agent: &str,
        now: Instant,
    ) -> Result<(), AcdError> {
        let rec = self.store.call(call).ok_or(AcdError::UnknownCall(call))?;
        match &rec.stage {
            CallStage::Ringing { agents, .. } if agents.iter().any(|a| a == agent) => {}
            _ => {
                return Err(AcdError::InvalidState(
                    "rejection from an agent not offered the call",
                ))
            }
        }
        self.release_offer(call, rec, agent, true, now);
        Ok(())
    }

    pub(super) fn ended(&mut self, call: CallId, now: Instant) -> Result<(), AcdError> {
        let rec = self.store.call(call).ok_or(AcdError::UnknownCall(call))?;
        if !matches!(rec.stage, CallStage::Connected { .. }) {
            return Err(AcdError::InvalidState("call end for a call not connected"));
        }
        self.end_call(call, rec, now);
        Ok(())
    }

    pub(super) fn end_wrap_up(&mut self, agent: &str, now: Instant) -> Result<(), AcdError> {
        let mut rec = self.logged_in_agent(agent, now)?;
        if rec.status != AgentStatus::WrapUp {
            return Err(AcdError::InvalidState("agent not in wrap-up"));
        }
        self.finish_wrap_up(agent, &mut rec, now);
        self.store.put_agent(agent, rec);
        Ok(())
    }

    // ---- helpers ------------------------------------------------------------------------

    /// Takes one agent off a ringing call (the caller stays); `miss` counts a no-answer.
    pub(super) fn release_offer(
        &mut self,
        call: CallId,
        mut rec: CallRecord,
        agent: &str,
        miss: bool,
        now: Instant,
    ) {
        if let CallStage::Ringing { agents, .. } = &mut rec.stage {
            agents.retain(|a| a != agent);
        }
        self.actions.push_back(Action::CancelOffer {
            call,
            agent: agent.to_string(),
        });
        self.agent_released(agent, miss, &rec.queue, now);
        if miss && !rec.declined.iter().any(|a| a == agent) {
            rec.declined.push(agent.to_string());
        }
        match &rec.stage {
            CallStage::Ringing { agents, .. } if agents.is_empty() => self.requeue(call, rec, now),
            _ => self.store.put_call(call, rec),
        }
    }

    /// Withdraws the offer a ringing agent has (not a miss).
    pub(super) fn withdraw_agent(&mut self, agent: &str, arec: &AgentRecord, now: Instant) {
        let Some(call) = arec.call else { return };
        match self.store.call(call) {
            Some(rec) => self.release_offer(call, rec, agent, false, now),
            None => self.agent_released(agent, false, "", now),
        }
    }

    /// A ringing agent is no longer offered its call: ready again, or not-ready after too
    /// many consecutive misses.
    pub(super) fn agent_released(&mut self, agent: &str, miss: bool, queue: &str, now: Instant) {
        let Some(mut rec) = self.store.agent(agent) else {
            return;
        };
        if rec.status != AgentStatus::Ringing {
            return;
        }
        rec.call = None;
        if miss {
            rec.misses += 1;
            rec.idle_since = now;
            let limit = self
                .queue_index
                .get(queue)
                .map_or(0, |&qi| self.cfg.queues[qi].no_answer_limit);
            if limit > 0 && rec.misses >= limit {
                self.set_status(
                    agent,
                    &mut rec,
                    AgentStatus::NotReady,
                    Some(NO_ANSWER_REASON.into()),
                    now,
                );
                self.store.put_agent(agent, rec);
                return;
            }
        }
        self.set_status(agent, &mut rec, AgentStatus::Ready, None, now);
        self.store.put_agent(agent, rec);
    }

    /// Puts a call whose offer failed back in its queue, or overflows it.
    pub(super) fn requeue(&mut self, call: CallId, rec: CallRecord, now: Instant) {
        let qi = self.queue_index[&rec.queue];
        if now >= rec.deadline {
            self.overflow(call, &rec, OverflowReason::MaxWait);
        } else if !self.staffed(qi) {
            self.overflow(call, &rec, OverflowReason::NoAgents);
        } else {
            self.wait(call, rec, now);
        }
    }

    /// Puts a call in its queue with music on hold and the announcement timer.
    pub(super) fn wait(&mut self, call: CallId, mut rec: CallRecord, now: Instant) {
        let q = &self.cfg.queues[self.queue_index[&rec.queue]];
        rec.stage = CallStage::Waiting;
        rec.next_announce = None;
        if q.announce_secs > 0 {
            let t = now + secs(q.announce_secs);
            rec.next_announce = Some(t);
            self.timers.insert((t, Timer::Announce(call)));
        }
        self.store.enqueue(&rec.queue, rec.key(), call);
        self.store.put_call(call, rec);
        self.actions.push_back(Action::MusicOnHold { call });
    }

    pub(super) fn overflow(&mut self, call: CallId, rec: &CallRecord, reason: OverflowReason) {
        self.store.remove_call(call);
        let target = self.cfg.queues[self.queue_index[&rec.queue]].overflow;
        self.actions.push_back(Action::Overflow {
            call,
            reason,
            target,
        });
        self.finish(call, Outcome::Overflowed);
    }

    pub(super) fn finish(&mut self, call: CallId, outcome: Outcome) {
        match outcome {
            Outcome::Answered { .. } => self.stats.answered += 1,
            Outcome::Abandoned {
                stage: AbandonStage::Queue,
            } => self.stats.abandoned_queue += 1,
            Outcome::Abandoned {
                stage: AbandonStage::Ringing,
            } => self.stats.abandoned_ringing += 1,
            Outcome::Overflowed => self.stats.overflowed += 1,
        }
        self.actions.push_back(Action::Outcome { call, outcome });
    }

    /// The conversation is over: the agent goes to wrap-up (or logs out if asked to).
    pub(super) fn end_call(&mut self, call: CallId, rec: CallRecord, now: Instant) {
        self.store.remove_call(call);
        let CallStage::Connected { agent, since } = rec.stage else {
            return;
        };
        let qi = self.queue_index[&rec.queue];
        let wrap = self.cfg.queues[qi].wrap_up_secs;
        let talk = now.saturating_duration_since(since);
        let handle = talk.as_secs_f64() + f64::from(wrap);
        let mut stats = self.store.queue_stats(&rec.queue);
        stats.aht_secs = Some(match stats.aht_secs {
            Some(a) => a * (1.0 - AHT_WEIGHT) + handle * AHT_WEIGHT,
            None => handle,
        });
        self.store.put_queue_stats(&rec.queue, stats);
        let Some(mut arec) = self.store.agent(&agent) else {
            return;
        };
        arec.talk += talk;
        arec.call = None;
        if arec.logout_pending {
            self.log_out(&agent, &mut arec, now);
            return;
        }
        if wrap > 0 {
            let until = now + secs(wrap);
            arec.wrap_until = Some(until);
            self.timers.insert((until, Timer::WrapUp(agent.clone())));
            self.set_status(&agent, &mut arec, AgentStatus::WrapUp, None, now);
        } else {
            self.finish_wrap_up(&agent, &mut arec, now);
        }
        self.store.put_agent(&agent, arec);
    }

    /// Wrap-up is over: the state asked for during the call, or ready.
    pub(super) fn finish_wrap_up(&mut self, agent: &str, rec: &mut AgentRecord, now: Instant) {
        rec.wrap_until = None;
        let req = rec.pending.take().unwrap_or(Requested::Ready);
        self.apply(agent, rec, req, now);
    }

    pub(super) fn apply(
        &mut self,
        agent: &str,
        rec: &mut AgentRecord,
        req: Requested,
        now: Instant,
    ) {
        match req {
            Requested::Ready => {
                rec.misses = 0;
                if rec.status != AgentStatus::Ready {
                    rec.idle_since = now;
                    self.set_status(agent, rec, AgentStatus::Ready, None, now);
                }
            }
            Requested::NotReady(reason) => {
                self.set_status(agent, rec, AgentStatus::NotReady, Some(reason), now)
            }
            Requested::Break => self.set_status(agent, rec, AgentStatus::Break, None, now),
        }
    }

    /// Logs the agent out (stores the record) and overflows the callers of queues left
    /// without any agent logged in.
    pub(super) fn log_out(&mut self, agent: &str, rec: &mut AgentRecord, now: Instant) {
        rec.wrap_until = None;
        rec.pending = None;
        rec.logout_pending = false;
        rec.call = None;
        self.set_status(agent, rec, AgentStatus::LoggedOut, None, now);
        self.store.put_agent(agent, rec.clone());
        let ai = self.agent_index[agent];
        for qi in 0..self.cfg.queues.len() {
            if !self.members[qi].contains(&ai) || self.staffed(qi) {
                continue;
            }
            for call in self.store.waiting(&self.cfg.queues[qi].name) {
                if let Some(crec) = self.store.call(call) {
                    self.store.dequeue(&crec.queue, crec.key(), call);
                    self.overflow(call, &crec, OverflowReason::NoAgents);
                }
            }
        }
    }

    /// Sets the agent's state; the time in state restarts when the state or its reason
    /// changes.
    pub(super) fn set_status(
        &mut self,
        agent: &str,
        rec: &mut AgentRecord,
        status: AgentStatus,
        reason: Option<String>,
        now: Instant,
    ) {
        if rec.status != status || rec.reason != reason {
            rec.since = now;
        }
        rec.status = status;
        rec.reason = reason.clone();
        self.actions.push_back(Action::AgentState {
            agent: agent.to_string(),
            state: status,
            reason,
        });
    }

    /// Whether any member of the queue is logged in.
    pub(super) fn staffed(&self, qi: usize) -> bool {
        self.members[qi].iter().any(|&ai| {
            self.store
                .agent(&self.cfg.agents[ai].id)
                .is_some_and(|r| r.logged_in())
        })
    }
}

pub(super) fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}
