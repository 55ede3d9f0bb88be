//! The agent desk as the call task serves it: commands from the API (log in bound to the
//! registered softphone, states with reasons, end wrap-up, transfer, take a callback task,
//! the supervisors' picture of queues and agents) and the live event stream the desk and the
//! wallboard subscribe to (agent states, offers, screen pops with the caller's orders, ends).

use std::time::Instant;

use serde::Serialize;

use super::outcome::Stage;
use super::{Call, Calls, Kind, Purpose};
use crate::acd::{AgentSnapshot, AgentStatus, Input, QueueSnapshot, Requested};

/// A command from the agent desk or a supervisor.
#[derive(Debug, Clone, PartialEq)]
pub enum DeskCommand {
    /// 签入: the agent's softphone must be registered.
    Login {
        agent: String,
    },
    /// 签出 (deferred to the end of a call in progress).
    Logout {
        agent: String,
    },
    SetState {
        agent: String,
        state: Requested,
    },
    EndWrapUp {
        agent: String,
    },
    /// Blind transfer of the agent's call to a queue (by name or by its number) or a number
    /// dialled through the trunk (a department's line).
    Transfer {
        agent: String,
        target: String,
    },
    /// Work a callback task: the agent's softphone is rung first, then the citizen.
    TakeCallback {
        agent: String,
        task: i64,
    },
    /// One agent's state.
    Agent {
        agent: String,
    },
    /// A supervisor listens to, whispers into or barges into a call (by its record id): the
    /// softphone `extension` is called and mixed in; again with another mode switches it.
    Monitor {
        call: String,
        mode: super::monitor::Mode,
        extension: String,
        /// The API user who asked.
        supervisor: String,
    },
    /// Stops monitoring the call: its supervisor's leg is hung up, caller and agent bridged.
    StopMonitor {
        call: String,
    },
    /// 强拆: ends a call in progress (by its record id).
    HangUp {
        call: String,
        /// The API user who asked.
        by: String,
        reason: Option<String>,
    },
}

/// Why a desk command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    #[error("unknown agent {0:?}")]
    UnknownAgent(String),
    #[error("{0}")]
    NotFound(String),
    /// The command does not fit the agent's or the call's state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the call layer is not running")]
    Unavailable,
    /// A softphone to be called is not registered or cannot be dialled (HTTP 503).
    #[error("{0}")]
    Unreachable(String),
}

/// The supervisors' picture.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub queues: Vec<QueueView>,
    pub agents: Vec<AgentView>,
    /// Every call in progress, oldest first.
    pub calls: Vec<CallView>,
    pub calls_in_progress: usize,
}

/// A call in progress as the live picture shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallView {
    /// Our id (the call record's, as in `/api/v1/calls`).
    pub id: String,
    /// The citizen's number.
    pub caller: String,
    /// The hotline number dialled (for a callback: the one shown to the citizen).
    pub number: String,
    pub queue: Option<String>,
    /// The agent talking with the caller (or being rung for a callback).
    pub agent: Option<String>,
    /// `offered`, `greeting`, `queue`, `ringing`, `talking`, `message`, `overflow`, `survey`.
    pub stage: &'static str,
    /// When the call reached us.
    pub since: chrono::DateTime<chrono::Utc>,
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub monitor: Option<MonitorView>,
}

/// Who monitors a call, how.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonitorView {
    /// The API user who started it.
    pub supervisor: String,
    pub extension: String,
    /// `listen`, `whisper` or `barge`.
    pub mode: &'static str,
    /// `ringing` (the softphone is being called) or `connected`.
    pub state: &'static str,
}

pub type QueueView = QueueSnapshot;
pub type AgentView = AgentSnapshot;

/// A work order as the screen pop shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OrderBrief {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub request_type: String,
    pub title: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&crate::cases::WorkOrder> for OrderBrief {
    fn from(o: &crate::cases::WorkOrder) -> Self {
        OrderBrief {
            id: o.id,
            number: o.number.clone(),
            status: o.status.as_str().to_string(),
            request_type: o.request_type.clone(),
            title: o.title.clone(),
            created_at: o.created_at,
        }
    }
}

/// Something the desk or the wallboard shows, as JSON over the WebSocket
/// (`{"type": "screen-pop", …}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DeskEvent {
    AgentState {
        agent: String,
        state: &'static str,
        reason: Option<String>,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The agent's softphone rings with this call.
    Offer {
        agent: String,
        call_id: String,
        caller: String,
        queue: Option<String>,
    },
    /// The agent answered: who calls, how long they waited, and their orders.
    ScreenPop {
        agent: String,
        call_id: String,
        caller: String,
        number: String,
        queue: Option<String>,
        waited_secs: u64,
        previous_orders: Vec<OrderBrief>,
        open_orders: Vec<OrderBrief>,
    },
    /// The conversation ended; `needs_order` until an order is created or attached.
    CallEnded {
        agent: String,
        call_id: String,
        needs_order: bool,
    },
}

impl DeskEvent {
    /// The agent the event is about (a desk sees its own agent's events only).
    pub fn agent(&self) -> &str {
        match self {
            DeskEvent::AgentState { agent, .. }
            | DeskEvent::Offer { agent, .. }
            | DeskEvent::ScreenPop { agent, .. }
            | DeskEvent::CallEnded { agent, .. } => agent,
        }
    }
}

impl Calls {
    pub(super) async fn on_desk(&mut self, c: DeskCommand) -> Result<serde_json::Value, DeskError> {
        let now = Instant::now();
        let known = |calls: &Calls, a: &str| {
            if calls.acd.config().agents.iter().any(|x| x.id == a) {
                Ok(())
            } else {
                Err(DeskError::UnknownAgent(a.to_string()))
            }
        };
        match c {
            DeskCommand::Login { agent } => {
                known(self, &agent)?;
                let registered = self
                    .sip
                    .registered(&agent)
                    .await
                    .map(|c| !c.is_empty())
                    .unwrap_or(false);
                if !registered {
                    return Err(DeskError::Conflict(format!(
                        "agent {agent}'s softphone is not registered; register it, then log in"
                    )));
                }
                self.acd_input(Input::AgentLogin {
                    agent: agent.clone(),
                    contact_registered: true,
                })
                .await?;
                self.agent_json(&agent, now)
            }
            DeskCommand::Logout { agent } => {
                known(self, &agent)?;
                self.acd_input(Input::AgentLogout {
                    agent: agent.clone(),
                })
                .await?;
                self.agent_json(&agent, now)
            }
            DeskCommand::SetState { agent, state } => {
                known(self, &agent)?;
                let on_callback = self
                    .calls
                    .values()
                    .any(|c| matches!(&c.kind, Kind::Callback { agent: a, .. } if *a == agent));
                if on_callback {
                    return Err(DeskError::Conflict(format!(
                        "agent {agent} is on a callback call; the state changes when it ends"
                    )));
                }
                self.acd_input(Input::SetState {
                    agent: agent.clone(),
                    state,
                })
                .await?;
                self.agent_json(&agent, now)
            }
            DeskCommand::EndWrapUp { agent } => {
                known(self, &agent)?;
                if self.acd.agent_state(&agent).map(|s| s.0) != Some(AgentStatus::WrapUp) {
                    return Err(DeskError::Conflict(format!(
                        "agent {agent} is not in wrap-up"
                    )));
                }
                self.acd_input(Input::EndWrapUp {
                    agent: agent.clone(),
                })
                .await?;
                self.agent_json(&agent, now)
            }
            DeskCommand::Transfer { agent, target } => {
                known(self, &agent)?;
                self.transfer(&agent, &target).await?;
                Ok(serde_json::json!({ "transferred_to": target }))
            }
            // Served by `Calls::begin_callback` (the store is asked off the task).
            DeskCommand::TakeCallback { agent, .. } => Err(DeskError::Conflict(format!(
                "agent {agent}: take a callback through the call task's command"
            ))),
            DeskCommand::Agent { agent } => {
                known(self, &agent)?;
                self.agent_json(&agent, now)
            }
            DeskCommand::Monitor {
                call,
                mode,
                extension,
                supervisor,
            } => self.monitor(&call, mode, &extension, &supervisor).await,
            DeskCommand::StopMonitor { call } => self.stop_monitor_cmd(&call),
            DeskCommand::HangUp { call, by, reason } => {
                self.force_hangup(&call, &by, reason.as_deref()).await
            }
        }
    }

    /// Queues, agents and calls now.
    pub(super) fn snapshot(&self) -> Snapshot {
        let now = Instant::now();
        Snapshot {
            queues: self.acd.queue_snapshots(now),
            agents: self.acd.agent_snapshots(now, chrono::Utc::now()),
            calls: self.call_views(),
            calls_in_progress: self.calls.len(),
        }
    }

    /// Every call in progress, oldest first.
    fn call_views(&self) -> Vec<CallView> {
        let mut v: Vec<CallView> = self
            .calls
            .values()
            .map(|c| CallView {
                id: c.record_id.clone(),
                caller: c.caller.clone(),
                number: c.number.clone(),
                queue: c.queue.clone(),
                agent: c
                    .agent
                    .as_ref()
                    .map(|a| a.0.clone())
                    .or_else(|| match &c.kind {
                        Kind::Callback { agent, .. } => Some(agent.clone()),
                        Kind::Inbound => None,
                    }),
                stage: c.life.stage.as_str(),
                since: c.offered_wall,
                answered_at: c.answered_wall,
                monitor: c.monitor.as_ref().map(|m| m.view()),
            })
            .collect();
        v.sort_by(|a, b| (a.since, &a.id).cmp(&(b.since, &b.id)));
        v
    }

    fn agent_json(&self, agent: &str, now: Instant) -> Result<serde_json::Value, DeskError> {
        let a = self
            .acd
            .agent_snapshots(now, chrono::Utc::now())
            .into_iter()
            .find(|a| a.id == agent)
            .ok_or_else(|| DeskError::UnknownAgent(agent.to_string()))?;
        serde_json::to_value(a).map_err(|e| DeskError::Invalid(e.to_string()))
    }

    async fn acd_input(&mut self, input: Input) -> Result<(), DeskError> {
        let r = self.acd.handle(input, Instant::now());
        self.drain_acd().await;
        r.map_err(|e| DeskError::Conflict(e.to_string()))
    }

    pub(super) fn desk_agent_state(&self, agent: &str, state: AgentStatus, reason: Option<String>) {
        self.wrap_up_state(agent, state);
        let _ = self.desk.send(DeskEvent::AgentState {
            agent: agent.to_string(),
            state: state.as_str(),
            reason,
            at: chrono::Utc::now(),
        });
    }

    pub(super) fn desk_offer(&self, agent: &str, key: u64) {
        if let Some(c) = self.calls.get(&key) {
            let _ = self.desk.send(DeskEvent::Offer {
                agent: agent.to_string(),
                call_id: c.record_id.clone(),
                caller: c.caller.clone(),
                queue: c.queue.clone(),
            });
        }
    }

    pub(super) fn desk_call_ended(&self, agent: &str, call: &Call) {
        self.wrap_up_call_ended(agent, &call.record_id);
        let _ = self.desk.send(DeskEvent::CallEnded {
            agent: agent.to_string(),
            call_id: call.record_id.clone(),
            needs_order: call.served_by.is_some(),
        });
    }

    /// The agent answered: the desk gets the caller and their orders.
    pub(super) fn screen_pop(&mut self, key: u64, agent: &str) {
        let Some(c) = self.calls.get(&key) else {
            return;
        };
        let waited = c
            .queued_at
            .map(|t| t.elapsed().as_secs())
            .unwrap_or_default();
        let (desk, store) = (self.desk.clone(), self.store.clone());
        let mut ev = DeskEvent::ScreenPop {
            agent: agent.to_string(),
            call_id: c.record_id.clone(),
            caller: c.caller.clone(),
            number: c.number.clone(),
            queue: c.queue.clone(),
            waited_secs: waited,
            previous_orders: Vec::new(),
            open_orders: Vec::new(),
        };
        let caller = c.caller.clone();
        tokio::spawn(async move {
            if let Some(store) = store {
                match store.orders_for_caller(&caller, 20).await {
                    Ok(orders) => {
                        if let DeskEvent::ScreenPop {
                            previous_orders,
                            open_orders,
                            ..
                        } = &mut ev
                        {
                            for o in orders {
                                let brief = OrderBrief::from(&o);
                                if o.closed_at.is_none() {
                                    open_orders.push(brief);
                                } else {
                                    previous_orders.push(brief);
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "screen pop without the caller's orders"),
                }
            }
            let _ = desk.send(ev);
        });
    }

    /// Blind transfer of `agent`'s call to a queue (name or number) or a number via the trunk.
    pub(super) async fn transfer(&mut self, agent: &str, target: &str) -> Result<(), DeskError> {
        let key = self
            .calls
            .iter()
            .find(|(_, c)| {
                c.agent.as_ref().is_some_and(|a| a.0 == agent) && c.kind == Kind::Inbound
            })
            .map(|(k, _)| *k)
            .ok_or_else(|| DeskError::Conflict(format!("agent {agent} has no call to transfer")))?;
        let queue = if self.acd.config().queues.iter().any(|q| q.name == target) {
            Some(target.to_string())
        } else {
            self.numbers
                .get(target)
                .filter(|n| n.forward.is_none())
                .map(|n| n.queue.clone())
        };
        let trunk = self.out_trunk();
        if queue.is_none() && self.acd.config().agents.iter().any(|a| a.id == target) {
            return Err(DeskError::Invalid(format!(
                "{target:?} is an agent; transfer to a queue (by name or number) or an outside number"
            )));
        }
        let valid_number =
            (3..=32).contains(&target.len()) && target.bytes().all(|b| b.is_ascii_digit());
        if queue.is_none() && (trunk.is_none() || !valid_number) {
            return Err(DeskError::Invalid(format!(
                "transfer target {target:?} is neither a queue nor a number that can be dialled out"
            )));
        }
        // A supervisor on the call is let go before the agent is.
        self.stop_monitoring(key, "the call was transferred");
        let Some(call) = self.calls.get_mut(&key) else {
            return Err(DeskError::NotFound("the call ended".into()));
        };
        let (_, leg) = call.agent.take().expect("found above");
        let acd = call.acd.take();
        let id = call.record_id.clone();
        // The caller keeps their priority in the next queue.
        let priority = self.rules.priority(&call.caller);
        self.records.transferred(&id, agent, target);
        self.hangup(&leg);
        if let Some(acd) = acd {
            self.acd_calls.remove(&acd);
            let _ = self
                .acd
                .handle(Input::CallEnded { call: acd }, Instant::now());
        }
        if let Some(c) = self.calls.get(&key) {
            self.desk_call_ended(agent, c);
        }
        if let Some(s) = self
            .calls
            .get(&key)
            .and_then(|c| c.caller_leg.clone())
            .and_then(|l| self.legs.get(&l))
            .and_then(|l| l.stream)
        {
            self.engine.unbridge(s);
        }
        self.play_to_caller(key, super::legs::hold_music(), Purpose::Hold);
        match (queue, trunk) {
            (Some(q), _) => self.enqueue(key, &q, priority).await,
            (None, Some(t)) => {
                self.enter(key, Stage::Talking);
                self.dial_outside(key, &t, target).await;
            }
            (None, None) => {}
        }
        self.drain_acd().await;
        Ok(())
    }
}
