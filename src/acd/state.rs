//! The ACD's state behind a narrow interface.
//!
//! [`AcdStore`] holds plain records keyed by agent id, call id and queue name, read and written
//! whole (get / put), so that a later cluster mode can keep them in Redis (a hash per record, a
//! sorted set per queue) and share agents and queues across nodes. [`MemoryStore`] is the
//! single-node implementation.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::{AgentId, AgentStatus, CallId, Requested};

/// An agent's runtime state (its settings are in [`super::AgentSettings`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub status: AgentStatus,
    /// The not-ready reason.
    pub reason: Option<String>,
    /// Whether the softphone is registered; an unregistered agent is never offered a call.
    pub registered: bool,
    /// Since when the agent has been in its state (and reason).
    pub since: Instant,
    /// Since when the agent has been idle (for longest-idle).
    pub idle_since: Instant,
    /// Calls answered since the engine started (for fewest-calls).
    pub answered: u64,
    /// Total talk time (for least-talk-time).
    pub talk: Duration,
    /// Consecutive misses (no answer / rejection).
    pub misses: u32,
    /// The call offered to or connected with the agent.
    pub call: Option<CallId>,
    /// End of the wrap-up countdown.
    pub wrap_until: Option<Instant>,
    /// A state asked for while on a call, applied after it.
    pub pending: Option<Requested>,
    /// Logout asked for while on a call.
    pub logout_pending: bool,
}

impl AgentRecord {
    /// A logged-out, unregistered agent.
    pub fn logged_out(now: Instant) -> Self {
        AgentRecord {
            status: AgentStatus::LoggedOut,
            reason: None,
            registered: false,
            since: now,
            idle_since: now,
            answered: 0,
            talk: Duration::ZERO,
            misses: 0,
            call: None,
            wrap_until: None,
            pending: None,
            logout_pending: false,
        }
    }

    /// Logged in (any state but logged-out).
    pub fn logged_in(&self) -> bool {
        self.status != AgentStatus::LoggedOut
    }
}

/// Where a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallStage {
    /// In the queue.
    Waiting,
    /// Offered to these agents (more than one only with ring-all) until `until`.
    Ringing {
        agents: Vec<AgentId>,
        until: Instant,
    },
    /// Talking with the agent.
    Connected { agent: AgentId, since: Instant },
}

/// A queued call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub queue: String,
    pub priority: u8,
    pub caller_number: String,
    pub arrived: Instant,
    /// Arrival order (FIFO within a priority).
    pub seq: u64,
    /// Overflow deadline (arrival + max wait).
    pub deadline: Instant,
    /// Next announcement while waiting.
    pub next_announce: Option<Instant>,
    pub stage: CallStage,
    /// Agents that missed or rejected this call.
    pub declined: Vec<AgentId>,
}

impl CallRecord {
    /// The queue-order key: higher priority first, then arrival order.
    pub fn key(&self) -> (Reverse<u8>, u64) {
        (Reverse(self.priority), self.seq)
    }
}

/// Per-queue statistics and strategy state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QueueStats {
    /// Average handle time (talk + wrap-up), seconds; `None` until the first call ends.
    pub aht_secs: Option<f64>,
    /// Member index of the agent last offered a call (round-robin).
    pub rr_last: Option<usize>,
}

/// The narrow state interface the engine works through.
pub trait AcdStore {
    /// An agent's record; `None` = never seen (logged out).
    fn agent(&self, id: &str) -> Option<AgentRecord>;
    fn put_agent(&mut self, id: &str, record: AgentRecord);

    fn call(&self, id: CallId) -> Option<CallRecord>;
    fn put_call(&mut self, id: CallId, record: CallRecord);
    fn remove_call(&mut self, id: CallId) -> Option<CallRecord>;
    /// Number of calls held (waiting, ringing or connected).
    fn call_count(&self) -> usize;

    /// Next arrival sequence number.
    fn next_seq(&mut self) -> u64;

    /// Puts a waiting call in its queue.
    fn enqueue(&mut self, queue: &str, key: (Reverse<u8>, u64), call: CallId);
    /// Takes a call out of its queue (offered, gone).
    fn dequeue(&mut self, queue: &str, key: (Reverse<u8>, u64), call: CallId);
    /// The first waiting call.
    fn head(&self, queue: &str) -> Option<CallId>;
    /// 1-based position of a waiting call.
    fn position(&self, queue: &str, key: (Reverse<u8>, u64)) -> Option<usize>;
    /// All waiting calls, in order.
    fn waiting(&self, queue: &str) -> Vec<CallId>;

    fn queue_stats(&self, queue: &str) -> QueueStats;
    fn put_queue_stats(&mut self, queue: &str, stats: QueueStats);
}

type Key = (Reverse<u8>, u64, CallId);

/// The in-memory [`AcdStore`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    agents: HashMap<AgentId, AgentRecord>,
    calls: HashMap<CallId, CallRecord>,
    queues: HashMap<String, BTreeSet<Key>>,
    stats: HashMap<String, QueueStats>,
    seq: u64,
}

impl AcdStore for MemoryStore {
    fn agent(&self, id: &str) -> Option<AgentRecord> {
        self.agents.get(id).cloned()
    }
    fn put_agent(&mut self, id: &str, record: AgentRecord) {
        match self.agents.get_mut(id) {
            Some(r) => *r = record,
            None => {
                self.agents.insert(id.to_string(), record);
            }
        }
    }
    fn call(&self, id: CallId) -> Option<CallRecord> {
        self.calls.get(&id).cloned()
    }
    fn put_call(&mut self, id: CallId, record: CallRecord) {
        self.calls.insert(id, record);
    }
    fn remove_call(&mut self, id: CallId) -> Option<CallRecord> {
        self.calls.remove(&id)
    }
    fn call_count(&self) -> usize {
        self.calls.len()
    }
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
    fn enqueue(&mut self, queue: &str, key: (Reverse<u8>, u64), call: CallId) {
        self.queues
            .entry(queue.to_string())
            .or_default()
            .insert((key.0, key.1, call));
    }
    fn dequeue(&mut self, queue: &str, key: (Reverse<u8>, u64), call: CallId) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.remove(&(key.0, key.1, call));
        }
    }
    fn head(&self, queue: &str) -> Option<CallId> {
        self.queues.get(queue)?.first().map(|k| k.2)
    }
    fn position(&self, queue: &str, key: (Reverse<u8>, u64)) -> Option<usize> {
        let q = self.queues.get(queue)?;
        let before = q.range(..(key.0, key.1, CallId(0))).count();
        let here = q.range((key.0, key.1, CallId(0))..).next()?;
        ((here.0, here.1) == key).then_some(before + 1)
    }
    fn waiting(&self, queue: &str) -> Vec<CallId> {
        self.queues
            .get(queue)
            .map(|q| q.iter().map(|k| k.2).collect())
            .unwrap_or_default()
    }
    fn queue_stats(&self, queue: &str) -> QueueStats {
        self.stats.get(queue).copied().unwrap_or_default()
    }
    fn put_queue_stats(&mut self, queue: &str, stats: QueueStats) {
        self.stats.insert(queue.to_string(), stats);
    }
}
