//! A read-only picture of the queues and agents for supervisors (the API and, later, the
//! wallboard): who waits where and for how long, and each agent's state.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::state::{AcdStore, CallStage};
use super::{AgentStatus, Engine};

/// One queue at a moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueSnapshot {
    pub name: String,
    pub strategy: &'static str,
    /// Callers waiting (not being rung).
    pub waiting: usize,
    /// Callers being rung.
    pub ringing: usize,
    /// Seconds the longest-waiting caller has waited.
    pub longest_wait_secs: u64,
    /// Member agents by state.
    pub agents_ready: usize,
    pub agents_busy: usize,
    pub agents_logged_in: usize,
}

/// One agent at a moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentSnapshot {
    pub id: String,
    pub state: &'static str,
    pub reason: Option<String>,
    pub registered: bool,
    pub queues: Vec<String>,
    /// Calls answered since the server started.
    pub answered: u64,
    pub talk_secs: u64,
    /// Seconds left of wrap-up.
    pub wrap_up_left_secs: Option<u64>,
    /// When the agent entered its state (and reason); `None` for an agent not seen since the
    /// server started (logged out all along).
    pub since: Option<DateTime<Utc>>,
    /// Seconds in the state so far (`None` with `since`).
    pub state_secs: Option<u64>,
}

impl AgentStatus {
    /// Every state, in the order the API documents them.
    pub const ALL: [AgentStatus; 7] = [
        AgentStatus::LoggedOut,
        AgentStatus::Ready,
        AgentStatus::NotReady,
        AgentStatus::Break,
        AgentStatus::Ringing,
        AgentStatus::OnCall,
        AgentStatus::WrapUp,
    ];

    /// The API name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::LoggedOut => "logged-out",
            AgentStatus::Ready => "ready",
            AgentStatus::NotReady => "not-ready",
            AgentStatus::Break => "break",
            AgentStatus::Ringing => "ringing",
            AgentStatus::OnCall => "on-call",
            AgentStatus::WrapUp => "wrap-up",
        }
    }
}

impl<S: AcdStore> Engine<S> {
    /// Every queue, in configuration order.
    pub fn queue_snapshots(&self, now: Instant) -> Vec<QueueSnapshot> {
        self.cfg
            .queues
            .iter()
            .enumerate()
            .map(|(qi, q)| {
                let waiting = self.store.waiting(&q.name);
                let longest = waiting
                    .iter()
                    .filter_map(|c| self.store.call(*c))
                    .map(|c| now.saturating_duration_since(c.arrived).as_secs())
                    .max()
                    .unwrap_or(0);
                let mut s = QueueSnapshot {
                    name: q.name.clone(),
                    strategy: q.strategy.as_str(),
                    waiting: waiting.len(),
                    ringing: 0,
                    longest_wait_secs: longest,
                    agents_ready: 0,
                    agents_busy: 0,
                    agents_logged_in: 0,
                };
                for &a in &self.members[qi] {
                    let Some(rec) = self.store.agent(&self.cfg.agents[a].id) else {
                        continue;
                    };
                    if rec.logged_in() {
                        s.agents_logged_in += 1;
                    }
                    match rec.status {
                        AgentStatus::Ready if rec.registered => s.agents_ready += 1,
                        AgentStatus::Ringing | AgentStatus::OnCall | AgentStatus::WrapUp => {
                            s.agents_busy += 1
                        }
                        _ => {}
                    }
                    if rec.status == AgentStatus::Ringing {
                        if let Some(c) = rec.call.and_then(|c| self.store.call(c)) {
                            if c.queue == q.name && matches!(c.stage, CallStage::Ringing { .. }) {
                                s.ringing += 1;
                            }
                        }
                    }
                }
                s
            })
            .collect()
    }

    /// Every configured agent, in configuration order. `wall` is the UTC time at `now`: the
    /// engine keeps monotonic instants, the caller knows both clocks and the snapshot maps
    /// one onto the other (`since` = `wall` − time in state).
    pub fn agent_snapshots(&self, now: Instant, wall: DateTime<Utc>) -> Vec<AgentSnapshot> {
        self.cfg
            .agents
            .iter()
            .map(|a| {
                let rec = self.store.agent(&a.id);
                let in_state = rec.as_ref().map(|r| now.saturating_duration_since(r.since));
                let mut queues: Vec<String> = a.queues.keys().cloned().collect();
                queues.sort();
                AgentSnapshot {
                    id: a.id.clone(),
                    state: rec
                        .as_ref()
                        .map(|r| r.status)
                        .unwrap_or(AgentStatus::LoggedOut)
                        .as_str(),
                    reason: rec.as_ref().and_then(|r| r.reason.clone()),
                    registered: rec.as_ref().is_some_and(|r| r.registered),
                    queues,
                    answered: rec.as_ref().map(|r| r.answered).unwrap_or(0),
                    talk_secs: rec.as_ref().map(|r| r.talk.as_secs()).unwrap_or(0),
                    wrap_up_left_secs: rec
                        .as_ref()
                        .and_then(|r| r.wrap_until)
                        .map(|t| t.saturating_duration_since(now).as_secs()),
                    since: in_state
                        .and_then(|d| chrono::Duration::from_std(d).ok().map(|d| wall - d)),
                    state_secs: in_state.map(|d| d.as_secs()),
                }
            })
            .collect()
    }
}
