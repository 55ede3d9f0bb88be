//! The queue side of a call: the [`crate::acd`] engine's actions carried out — offers ring
//! the agent's registered softphone (the caller's number as display name and
//! P-Asserted-Identity), the first answer is bridged, misses and cancels hang the agent's leg
//! up, announcements and music on hold play to waiting callers, overflow goes to voicemail or
//! a callback — and the legs' news fed back to the engine.

use std::time::Instant;

use super::outcome::{Disposition, Stage};
use super::{Calls, Kind, Purpose, Role};
use crate::acd::{Action, CallId, Input, Outcome, OverflowTarget};
use crate::media::prompt::{Item, Playlist};
use crate::sip::endpoint::{Dial, DialTarget};

impl Calls {
    /// The caller joins `queue`.
    pub(super) async fn enqueue(&mut self, key: u64, queue: &str, priority: u8) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let acd = CallId(self.next);
        self.next += 1;
        call.acd = Some(acd);
        call.queue = Some(queue.to_string());
        call.life.enter(Stage::Queue);
        call.queued_at.get_or_insert_with(Instant::now);
        let (id, caller) = (call.record_id.clone(), call.caller.clone());
        self.acd_calls.insert(acd, key);
        self.records.queued(&id, queue, priority);
        let r = self.acd.handle(
            Input::CallArrived {
                call: acd,
                queue: queue.to_string(),
                priority,
                caller_number: caller,
            },
            Instant::now(),
        );
        if let Err(e) = r {
            tracing::error!(call = %id, %queue, error = %e, "cannot queue the call");
            self.acd_calls.remove(&acd);
            if let Some(c) = self.calls.get_mut(&key) {
                c.acd = None;
                c.life.decide(Disposition::Failed(format!("queue: {e}")));
            }
            self.say_goodbye(key, vec![Item::Prompt("goodbye".into())]);
            return;
        }
        self.drain_acd().await;
    }

    /// Carries out the engine's actions until it has none (boxed: an action can lead back
    /// here, e.g. a callback whose citizen cannot be dialled ends and frees its agent).
    pub(super) fn drain_acd(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            while let Some(a) = self.acd.poll_action() {
                match a {
                    Action::Offer { call, agent } => self.offer(call, &agent).await,
                    Action::CancelOffer { call, agent } => self.cancel_offer(call, &agent),
                    Action::Connected { call, agent } => self.connected(call, &agent).await,
                    Action::MusicOnHold { call } => {
                        if let Some(&key) = self.acd_calls.get(&call) {
                            if self.calls.get(&key).is_some_and(|c| {
                                c.life.stage != Stage::Ringing && c.keeps_place.is_none()
                            }) {
                                self.play_to_caller(key, super::legs::hold_music(), Purpose::Hold);
                            }
                        }
                    }
                    Action::Announce {
                        call,
                        position,
                        expected_wait_secs,
                    } => {
                        if let Some(&key) = self.acd_calls.get(&call) {
                            if self
                                .calls
                                .get(&key)
                                .is_some_and(|c| c.keeps_place.is_none())
                            {
                                self.announce(key, position, expected_wait_secs);
                            }
                        }
                    }
                    Action::Overflow { call, target, .. } => self.overflow(call, target).await,
                    Action::AgentState {
                        agent,
                        state,
                        reason,
                    } => self.desk_agent_state(&agent, state, reason),
                    Action::Outcome { call, outcome } => self.outcome(call, outcome),
                }
            }
        })
    }

    async fn offer(&mut self, acd: CallId, agent: &str) {
        let Some(&key) = self.acd_calls.get(&acd) else {
            return;
        };
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (link, caller) = match &call.kind {
            Kind::Inbound => (call.caller_leg.clone(), call.caller.clone()),
            Kind::Callback { number, .. } => (None, number.clone()),
        };
        let display = match &call.kind {
            Kind::Callback { number, .. } => format!("callback {number}"),
            // A caller who kept their place: the agent will call them back.
            Kind::Inbound if call.keeps_place.is_some() => format!("callback {caller}"),
            Kind::Inbound => caller.clone(),
        };
        let dial = Dial {
            target: DialTarget::User {
                user: agent.to_string(),
            },
            from_user: Some(caller.clone()),
            from_display: Some(display),
            asserted: Some(caller),
            link,
        };
        match self.sip.dial(dial).await {
            Ok(Ok(leg)) => {
                self.add_leg(&leg, key, Role::Agent(agent.to_string()));
                if let Some(c) = self.calls.get_mut(&key) {
                    c.offers.push((agent.to_string(), leg));
                    if c.kind == Kind::Inbound && c.keeps_place.is_none() {
                        c.life.enter(Stage::Ringing);
                    }
                    if c.keeps_place.is_none() {
                        let id = c.record_id.clone();
                        self.records.ringing(&id, agent);
                    }
                    self.desk_offer(agent, key);
                }
            }
            Ok(Err(e)) => {
                tracing::info!(%agent, error = %e, "cannot ring the agent");
                let _ = self.acd.handle(
                    Input::AgentRejected {
                        call: acd,
                        agent: agent.to_string(),
                    },
                    Instant::now(),
                );
            }
            Err(_) => {}
        }
    }

    fn cancel_offer(&mut self, acd: CallId, agent: &str) {
        let Some(&key) = self.acd_calls.get(&acd) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(i) = call.offers.iter().position(|o| o.0 == agent) {
            let (_, leg) = call.offers.remove(i);
            if call.offers.is_empty() && call.life.stage == Stage::Ringing {
                call.life.enter(Stage::Queue);
            }
            let id = call.record_id.clone();
            self.records
                .step_with(&id, "no-answer", Some(agent), Some("offer withdrawn"));
            self.hangup(&leg);
        }
    }

    /// An agent's leg answered: the engine decides whether it wins the call.
    pub(super) async fn agent_answered(&mut self, key: u64, agent: &str, leg: &str) {
        let offered = self
            .calls
            .get(&key)
            .is_some_and(|c| c.offers.iter().any(|o| o.1 == leg));
        if !offered {
            // Cancelled meanwhile (no answer in time, another agent won, the caller left): a
            // late 200 OK must not take the place of a newer offer to the same agent.
            self.hangup(leg);
            return;
        }
        let acd = self.calls.get(&key).and_then(|c| c.acd);
        let won = match acd {
            Some(acd) => {
                let r = self.acd.handle(
                    Input::AgentAnswered {
                        call: acd,
                        agent: agent.to_string(),
                    },
                    Instant::now(),
                );
                // Connected (bridging the legs) comes out of the engine.
                self.drain_acd().await;
                r.is_ok()
                    && self
                        .calls
                        .get(&key)
                        .and_then(|c| c.agent.as_ref())
                        .is_some_and(|a| a.1 == leg)
            }
            None => {
                // A callback task the agent took: the citizen is dialled now.
                let Some(c) = self.calls.get_mut(&key) else {
                    self.hangup(leg);
                    return;
                };
                if let (Kind::Callback { .. }, Some(i)) =
                    (&c.kind, c.offers.iter().position(|o| o.1 == leg))
                {
                    let offer = c.offers.remove(i);
                    c.agent = Some(offer);
                    self.callback_agent_ready(key).await;
                    true
                } else {
                    false
                }
            }
        };
        if !won {
            self.hangup(leg);
        }
    }

    async fn connected(&mut self, acd: CallId, agent: &str) {
        let Some(&key) = self.acd_calls.get(&acd) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(i) = call.offers.iter().position(|o| o.0 == agent) else {
            return;
        };
        let (agent, leg) = call.offers.remove(i);
        call.agent = Some((agent.clone(), leg.clone()));
        call.answered_at.get_or_insert_with(Instant::now);
        call.answered_wall.get_or_insert_with(chrono::Utc::now);
        if call.keeps_place.is_some() || call.kind != Kind::Inbound {
            // The caller waits at home: call them now that an agent is here. A caller still
            // hearing the goodbye is let go first (their record is finished already).
            if let Some(caller) = call.caller_leg.take() {
                if let Some(l) = self.legs.remove(&caller) {
                    if let Some(s) = l.stream {
                        self.by_stream.remove(&s);
                    }
                }
                self.hangup(&caller);
            }
            self.callback_agent_ready(key).await;
            return;
        }
        call.served_by = Some(agent.clone());
        call.playing = None;
        let id = call.record_id.clone();
        self.records.answered(&id, Some(&agent));
        let agent_stream = self.legs.get(&leg).and_then(|l| l.stream);
        let caller_stream = call
            .caller_leg
            .as_ref()
            .and_then(|l| self.legs.get(l))
            .and_then(|l| l.stream);
        match (caller_stream, agent_stream) {
            (Some(a), Some(b)) => {
                if let Err(e) = self.engine.bridge(a, b) {
                    tracing::error!(error = %e, "cannot bridge caller and agent");
                }
            }
            _ => tracing::warn!(call = %id, "answered without media on a leg"),
        }
        self.screen_pop(key, &agent);
    }

    fn announce(&mut self, key: u64, position: usize, wait_secs: u64) {
        let minutes = wait_secs.div_ceil(60).max(1);
        let playlist = Playlist {
            items: vec![
                Item::Prompt("queue-position".into()),
                Item::Number(position as u64),
                Item::Prompt("expected-wait".into()),
                Item::Number(minutes),
                Item::Prompt("minutes".into()),
            ],
            looped: false,
            barge_in: false,
        };
        if !self.play_to_caller(key, playlist, Purpose::Announce) {
            self.play_to_caller(key, super::legs::hold_music(), Purpose::Hold);
        }
    }

    async fn overflow(&mut self, acd: CallId, target: OverflowTarget) {
        let Some(&key) = self.acd_calls.get(&acd) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.keeps_place.is_some() {
            // A caller waiting at home: the task stays open for agents to work (their record
            // is finished already).
            self.acd_calls.remove(&acd);
            if let Some(c) = self.calls.remove(&key) {
                if let Some(l) = c.caller_leg {
                    self.hangup(&l);
                }
            }
            self.unschedule(key);
            return;
        }
        let id = call.record_id.clone();
        self.records.step(&id, "overflow", None);
        match target {
            OverflowTarget::Voicemail => {
                let (lang, number) = (call.language.clone(), call.number.clone());
                call.flow = Some(self.rules.voicemail(&number, &lang, Instant::now()));
                call.life.enter(Stage::Overflow);
                self.drive_flow(key).await;
            }
            OverflowTarget::Callback => {
                call.life.decide(Disposition::CallbackRequested);
                self.records.step(&id, "callback-requested", None);
                self.callback_requested(key, "overflow");
                self.say_goodbye(
                    key,
                    vec![
                        Item::Prompt("callback-confirmed".into()),
                        Item::Prompt("goodbye".into()),
                    ],
                );
            }
        }
    }

    fn outcome(&mut self, acd: CallId, outcome: Outcome) {
        let Some(&key) = self.acd_calls.get(&acd) else {
            return;
        };
        if !matches!(outcome, Outcome::Answered { .. }) {
            self.acd_calls.remove(&acd);
            if let Some(c) = self.calls.get_mut(&key) {
                c.acd = None;
            }
        }
        if let Some(c) = self.calls.get_mut(&key) {
            if c.keeps_place.is_none() && c.kind == Kind::Inbound {
                c.life.queue_outcome(&outcome);
            }
        }
    }

    /// A digit from a waiting caller: the callback key keeps the caller's place.
    pub(super) async fn queue_digit(&mut self, key: u64, digit: char) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let wanted = self
            .rules
            .queue_callback_key(&call.number)
            .is_some_and(|k| k == digit);
        if !wanted || call.keeps_place.is_some() {
            return;
        }
        let id = call.record_id.clone();
        if let Some(c) = self.calls.get_mut(&key) {
            c.life.decide(Disposition::CallbackRequested);
            c.keeps_place = Some(0);
        }
        self.records
            .step(&id, "callback-requested", Some("keeps its place"));
        self.callback_requested(key, "requested");
        // The caller's record is finished now; the place in the queue lives on without them.
        self.records
            .ended(&id, &Disposition::CallbackRequested, false);
        self.say_goodbye(
            key,
            vec![
                Item::Prompt("callback-confirmed".into()),
                Item::Prompt("goodbye".into()),
            ],
        );
    }

    /// An agent's leg ended: a ring that failed, or the agent hung up on the caller.
    pub(super) async fn agent_leg_ended(
        &mut self,
        key: u64,
        agent: &str,
        leg: &str,
        cause: &str,
        ours: bool,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(i) = call.offers.iter().position(|o| o.1 == leg) {
            call.offers.remove(i);
            if call.acd.is_none() && matches!(call.kind, Kind::Callback { .. }) {
                // The agent did not take the callback they asked for (recorded as
                // agent-no-answer when the call finishes).
                self.callback_finished(key).await;
                return;
            }
            // Still an offer when it ended (declined, unreachable, not answered in time by
            // the phone itself): a miss for the queue, whoever hung it up.
            if call.offers.is_empty() && call.life.stage == Stage::Ringing {
                call.life.enter(Stage::Queue);
            }
            let (id, acd) = (call.record_id.clone(), call.acd);
            self.records
                .step_with(&id, "no-answer", Some(agent), Some(cause));
            if let Some(acd) = acd {
                tracing::info!(%agent, %cause, "the agent's softphone did not answer");
                let _ = self.acd.handle(
                    Input::AgentRejected {
                        call: acd,
                        agent: agent.to_string(),
                    },
                    Instant::now(),
                );
                self.drain_acd().await;
            }
            return;
        }
        if call.agent.as_ref().map(|a| a.1.as_str()) != Some(leg) {
            return;
        }
        // The agent is gone: a supervisor on the call goes too.
        self.drop_monitor(key, "the agent's leg ended");
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let acd = call.acd.take();
        let (id, kind) = (call.record_id.clone(), call.kind.clone());
        if let Some(acd) = acd {
            self.acd_calls.remove(&acd);
            let _ = self
                .acd
                .handle(Input::CallEnded { call: acd }, Instant::now());
            self.drain_acd().await;
        }
        self.records.step(&id, "agent-hung-up", Some(agent));
        if ours {
            // We hung the agent up (a transfer): the caller goes on.
            return;
        }
        if let Some(c) = self.calls.get(&key) {
            self.desk_call_ended(agent, c);
        }
        let survey = kind == Kind::Inbound
            && self
                .calls
                .get(&key)
                .is_some_and(|c| c.caller_leg.is_some() && self.rules.survey(&c.number));
        if let Some(c) = self.calls.get_mut(&key) {
            c.agent = None;
        }
        if survey {
            self.start_survey(key).await;
        } else {
            self.finish_call(key).await;
        }
    }

    /// A softphone registered or lapsed.
    pub(super) async fn registration(&mut self, user: &str, registered: bool) {
        if !self.acd.config().agents.iter().any(|a| a.id == user) {
            return;
        }
        let _ = self.acd.handle(
            Input::RegistrationChanged {
                agent: user.to_string(),
                registered,
            },
            Instant::now(),
        );
        self.drain_acd().await;
    }
}
