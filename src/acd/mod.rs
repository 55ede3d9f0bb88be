//! The ACD (automatic call distribution) engine, sans-IO.
//!
//! It owns the queues (callers waiting, in priority order and FIFO within a priority), the
//! agents (坐席) and their states, the routing strategies, the no-answer rotation, wrap-up
//! (话后整理), position / expected-wait announcements and overflow. It never touches sockets,
//! the database or the wall clock: the call layer feeds it [`Input`]s with the current
//! [`Instant`](std::time::Instant), calls [`Engine::handle_timeout`] when [`Engine::poll_timeout`] says so, and
//! drains [`Action`]s with [`Engine::poll_action`].
//!
//! * [`Engine`] — the API and the rules for each input (`engine.rs`).
//! * routing — timers and offering waiting calls to eligible agents (`routing.rs`).
//! * [`Strategy`] — picking among eligible agents (`strategy.rs`).
//! * snapshots of queues and agents for supervisors (`view.rs`), and the wallboard's
//!   [`alerts`] computed from them (`alerts.rs`).
//! * [`AcdStore`] — the narrow state interface (agents, calls, queues, queue statistics) the
//!   engine works through, with the in-memory [`MemoryStore`] (`state.rs`). A later cluster mode
//!   can put the same records in Redis; timers are a node-local schedule derived from them.
//!
//! # Agent states
//! [`AgentStatus`]: logged-out 签出, ready 示闲, not-ready 示忙 (with a reason), break 小休,
//! ringing, on-call, wrap-up. Only a `Ready` agent whose softphone is registered is offered a
//! call, and at most one call at a time.
//!
//! # Rules and defaults (see [`QueueSettings`])
//! * An offer rings for `ring_secs`; then [`Action::CancelOffer`] and the call goes back to the
//!   head of its priority class and to the next agent (agents that already missed this call
//!   are skipped while others are available). A rejection ([`Input::AgentRejected`]) counts as
//!   a miss too. After `no_answer_limit` (default 3) consecutive misses the agent goes
//!   not-ready with reason [`NO_ANSWER_REASON`]. A missed agent also goes to the back of the
//!   longest-idle order.
//! * Ring-all offers the call to every eligible agent at once; the first answer wins and the
//!   other offers are cancelled (not counted as misses).
//! * Levels: among eligible agents only those with the lowest level (1 = first) are
//!   considered. Skills: an agent must have every skill the queue requires.
//! * After [`Input::CallEnded`] the agent is in wrap-up for `wrap_up_secs`, then ready again;
//!   [`Input::EndWrapUp`] (or `SetState Ready`) ends it early.
//! * A waiting caller is told its position and expected wait every `announce_secs` (default
//!   30 s, first one `announce_secs` after joining; 0 disables); between announcements the call
//!   layer plays music on hold ([`Action::MusicOnHold`] is emitted whenever a caller starts or
//!   resumes waiting).
//! * Expected wait = position × average handle time ÷ agents serving the queue (logged in,
//!   registered and not on break / not-ready; at least 1). The average handle time is an
//!   exponential moving average (weight 0.1) of talk + wrap-up time, starting at
//!   `default_handle_secs` (default 180 s).
//! * Overflow: a caller still waiting after `max_wait_secs` (checked again when an offer to it
//!   fails), or arriving at / waiting in a queue with no agent logged in, is overflowed to the
//!   queue's `overflow` target (default voicemail).

pub mod alerts;
mod engine;
mod routing;
mod state;
mod strategy;
mod view;

pub use engine::{Engine, Stats};
pub use state::{AcdStore, AgentRecord, CallRecord, CallStage, MemoryStore, QueueStats};
pub use strategy::Strategy;
pub use view::{AgentSnapshot, QueueSnapshot};

use std::collections::HashMap;

/// The reason an agent is set not-ready after too many consecutive misses.
pub const NO_ANSWER_REASON: &str = "no answer";

/// A call, as numbered by the call layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// An agent id (the softphone's SIP user name, as in `[[agents]] id`).
pub type AgentId = String;

/// A state an agent asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Ready,
    NotReady(String),
    Break,
}

/// Agent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    /// 签出.
    LoggedOut,
    /// 示闲.
    Ready,
    /// 示忙 (with a reason).
    NotReady,
    /// 小休.
    Break,
    /// A call is being offered.
    Ringing,
    OnCall,
    /// 话后整理.
    WrapUp,
}

/// Something that happened, fed to [`Engine::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The agent logs in (签入) and becomes ready.
    AgentLogin {
        agent: AgentId,
        contact_registered: bool,
    },
    /// The agent logs out; deferred to the end of a call in progress.
    AgentLogout { agent: AgentId },
    /// Ready / not-ready / break; while on a call it is applied when the call ends.
    SetState { agent: AgentId, state: Requested },
    /// The agent's softphone registration appeared or lapsed.
    RegistrationChanged { agent: AgentId, registered: bool },
    /// A caller joins a queue. Higher `priority` is served first.
    CallArrived {
        call: CallId,
        queue: String,
        priority: u8,
        caller_number: String,
    },
    /// The caller hung up (while waiting, ringing or talking).
    CallerHungUp { call: CallId },
    /// An offered agent answered.
    AgentAnswered { call: CallId, agent: AgentId },
    /// An offered agent declined or was busy.
    AgentRejected { call: CallId, agent: AgentId },
    /// The conversation is over (either side); the agent goes to wrap-up.
    CallEnded { call: CallId },
    /// The agent ends wrap-up early.
    EndWrapUp { agent: AgentId },
}

/// Why a caller was overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverflowReason {
    MaxWait,
    NoAgents,
}

/// Where overflowed callers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OverflowTarget {
    #[default]
    Voicemail,
    Callback,
}

/// Where a caller hung up before being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbandonStage {
    Queue,
    Ringing,
}

/// The final outcome of a queued call (exactly one per accepted [`Input::CallArrived`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    Answered { agent: AgentId },
    Abandoned { stage: AbandonStage },
    Overflowed,
}

/// What the call layer should do, drained with [`Engine::poll_action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring the agent with this call.
    Offer { call: CallId, agent: AgentId },
    /// Stop ringing the agent (no answer, another agent answered, caller gone…).
    CancelOffer { call: CallId, agent: AgentId },
    /// Bridge the caller to the agent.
    Connected { call: CallId, agent: AgentId },
    /// Play music on hold to the caller (joined or back in the queue).
    MusicOnHold { call: CallId },
    /// Tell the caller its position (1 = next) and expected wait, then music on hold again.
    Announce {
        call: CallId,
        position: usize,
        expected_wait_secs: u64,
    },
    /// Send the caller to the overflow target.
    Overflow {
        call: CallId,
        reason: OverflowReason,
        target: OverflowTarget,
    },
    /// An agent's state changed.
    AgentState {
        agent: AgentId,
        state: AgentStatus,
        reason: Option<String>,
    },
    /// The call's final outcome.
    Outcome { call: CallId, outcome: Outcome },
}

/// An input the engine could not apply (it is ignored and counted in [`Stats::ignored`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown agent {0:?}")]
    UnknownAgent(AgentId),
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    #[error("unknown call {0:?}")]
    UnknownCall(CallId),
    #[error("call {0:?} already exists")]
    DuplicateCall(CallId),
    #[error("agent {0:?} is logged out")]
    LoggedOut(AgentId),
    #[error("{0}")]
    InvalidState(&'static str),
}

/// Per-queue settings.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSettings {
    pub name: String,
    pub strategy: Strategy,
    pub wrap_up_secs: u32,
    pub ring_secs: u32,
    pub max_wait_secs: u32,
    /// Seconds between position announcements; 0 = none. Default 30.
    pub announce_secs: u32,
    /// Consecutive misses before an agent goes not-ready ("no answer"). Default 3; 0 = never.
    pub no_answer_limit: u32,
    /// Overflow target. Default voicemail.
    pub overflow: OverflowTarget,
    /// Skills an agent needs for this queue. Default none.
    pub required_skills: Vec<String>,
    /// Starting average handle time for the expected-wait estimate. Default 180.
    pub default_handle_secs: u32,
}

impl QueueSettings {
    /// Settings with the config's defaults (longest-idle, 30 s wrap-up, 15 s ring, 300 s max
    /// wait) and this module's (30 s announcements, 3 misses, voicemail, no skills, 180 s).
    pub fn new(name: &str) -> Self {
        QueueSettings {
            name: name.to_string(),
            strategy: Strategy::LongestIdle,
            wrap_up_secs: 30,
            ring_secs: 15,
            max_wait_secs: 300,
            announce_secs: 30,
            no_answer_limit: 3,
            overflow: OverflowTarget::Voicemail,
            required_skills: Vec::new(),
            default_handle_secs: 180,
        }
    }
}

/// Per-agent settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    pub id: AgentId,
    /// Queue name → level (1 = offered first). Default level 1.
    pub queues: HashMap<String, u8>,
    /// Skills. Default none.
    pub skills: Vec<String>,
    /// Become ready as soon as the softphone registers.
    pub ready_on_register: bool,
}

impl AgentSettings {
    /// An agent in `queues`, all at level 1, without skills.
    pub fn new(id: &str, queues: &[&str]) -> Self {
        AgentSettings {
            id: id.to_string(),
            queues: queues.iter().map(|q| (q.to_string(), 1)).collect(),
            skills: Vec::new(),
            ready_on_register: false,
        }
    }
}

/// The engine's configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AcdConfig {
    pub queues: Vec<QueueSettings>,
    pub agents: Vec<AgentSettings>,
}

impl AcdConfig {
    /// From `[[queues]]` and `[[agents]]` (strategy, times, announcements, no-answer limit,
    /// overflow target, skills, levels). An unknown strategy or overflow name (the config
    /// check refuses them) falls back to longest-idle / voicemail.
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        let queues = cfg
            .queues
            .iter()
            .map(|q| QueueSettings {
                strategy: Strategy::parse(&q.strategy).unwrap_or(Strategy::LongestIdle),
                wrap_up_secs: q.wrap_up_secs,
                ring_secs: q.ring_secs,
                max_wait_secs: q.max_wait_secs,
                announce_secs: q.announce_secs,
                no_answer_limit: q.no_answer_limit,
                overflow: if q.overflow == "callback" {
                    OverflowTarget::Callback
                } else {
                    OverflowTarget::Voicemail
                },
                required_skills: q.required_skills.clone(),
                default_handle_secs: q.default_handle_secs,
                ..QueueSettings::new(&q.name)
            })
            .collect();
        let agents = cfg
            .agents
            .iter()
            .map(|a| {
                let mut settings = AgentSettings {
                    ready_on_register: a.ready_on_register,
                    skills: a.skills.clone(),
                    ..AgentSettings::new(
                        &a.id,
                        &a.queues.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                };
                for (queue, level) in &a.levels {
                    if let Some(l) = settings.queues.get_mut(queue) {
                        *l = (*level).max(1);
                    }
                }
                settings
            })
            .collect();
        AcdConfig { queues, agents }
    }
}

#[cfg(test)]
pub(crate) mod sim_tests;
#[cfg(test)]
mod tests;
