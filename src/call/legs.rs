//! SIP and media events routed to the call each leg belongs to: a caller's leg offered,
//! answered, negotiated and gone; agents' and outside legs answered or failed; digits;
//! prompts finished; holds; forwarding and transfers (outside legs through a trunk).

use std::time::Instant;

use super::outcome::{Disposition, Stage};
use super::{Call, Calls, Kind, Leg, LegEvent, Purpose, Role};
use crate::media::dtmf::Digit;
use crate::media::engine::{MediaEvent, MediaEventKind, PlayEnd, StreamId};
use crate::media::prompt::{Item, Player, Playlist};
use crate::sip::endpoint::{Dial, DialTarget, Event as SipEvent};
use crate::sip::registrar::RegistrarEvent;

impl Calls {
    pub(super) async fn on_sip(&mut self, ev: SipEvent) {
        match ev {
            SipEvent::CallOffered {
                call_id,
                number,
                caller,
                trunk,
                ..
            } => self.offered(call_id, number, caller, trunk),
            SipEvent::CallAnswered { call_id } => self.answered(&call_id).await,
            SipEvent::CallEnded { call_id, cause } => self.leg_ended(&call_id, &cause).await,
            SipEvent::Dtmf { call_id, digit } => {
                if let Some(d) = Digit::from_char(digit) {
                    self.digit(&call_id, d).await;
                }
            }
            SipEvent::TransferRequested { call_id, target } => {
                let agent = match self.legs.get(&call_id).map(|l| &l.role) {
                    Some(Role::Agent(a)) => a.clone(),
                    _ => return,
                };
                if let Err(e) = self.transfer(&agent, &target).await {
                    // The softphone was told 202 and will hang up: rather than lose the
                    // caller, they go back to their queue.
                    tracing::warn!(%call_id, %target, error = %e, "transfer refused; the caller goes back to the queue");
                    let queue = self
                        .legs
                        .get(&call_id)
                        .and_then(|l| self.calls.get(&l.call))
                        .and_then(|c| c.queue.clone());
                    if let Some(q) = queue {
                        if let Err(e) = self.transfer(&agent, &q).await {
                            tracing::warn!(%call_id, error = %e, "the caller cannot be queued again");
                        }
                    }
                }
            }
            SipEvent::Registrar(r) => {
                let (user, registered) = match r {
                    RegistrarEvent::Registered { user, .. } => (user, true),
                    RegistrarEvent::Unregistered {
                        user, remaining, ..
                    }
                    | RegistrarEvent::Lapsed {
                        user, remaining, ..
                    } => (user, remaining > 0),
                    RegistrarEvent::Refreshed { .. } => return,
                };
                self.registration(&user, registered).await;
            }
            _ => {}
        }
    }

    fn offered(&mut self, call_id: String, number: String, caller: String, trunk: Option<String>) {
        self.offered.record(Instant::now());
        let key = self.key();
        let queue = self.numbers.get(&number).map(|n| n.queue.clone());
        let record_id = super::record_id(key);
        self.records.offered(
            &record_id,
            &call_id,
            &caller,
            &number,
            trunk,
            queue.clone(),
            "inbound",
        );
        self.add_leg(&call_id, key, Role::Caller);
        let mut call = Call::new(
            Kind::Inbound,
            record_id,
            (number, caller),
            queue,
            self.cfg.language.clone(),
        );
        call.caller_leg = Some(call_id);
        self.calls.insert(key, call);
    }

    /// A new leg of call `key` (with its media, if that was negotiated already).
    pub(super) fn add_leg(&mut self, id: &str, key: u64, role: Role) {
        let stream = self.early.remove(id);
        if let Some(s) = stream {
            self.by_stream.insert(s, id.to_string());
        }
        self.legs.insert(
            id.to_string(),
            Leg {
                call: key,
                role,
                stream,
                answered: false,
                started: false,
                held: false,
            },
        );
    }

    pub(super) async fn on_leg(&mut self, ev: LegEvent) {
        match ev {
            LegEvent::Ready {
                call_id,
                stream,
                params,
                ..
            } => {
                let Some(leg) = self.legs.get_mut(&call_id) else {
                    self.early.insert(call_id, stream);
                    return;
                };
                if leg.started {
                    self.renegotiated(&call_id, params.direction.sends());
                    return;
                }
                leg.stream = Some(stream);
                self.by_stream.insert(stream, call_id.clone());
                self.leg_progress(&call_id).await;
            }
            // Outbound legs are known from the dial's answer.
            LegEvent::Dialing { .. } => {}
            LegEvent::Gone { call_id, stream } => {
                self.by_stream.remove(&stream);
                self.early.remove(&call_id);
            }
        }
    }

    async fn answered(&mut self, call_id: &str) {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return;
        };
        leg.answered = true;
        self.leg_progress(call_id).await;
    }

    /// A leg is both answered and negotiated: what it is for starts.
    async fn leg_progress(&mut self, call_id: &str) {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return;
        };
        let Some(stream) = leg.stream else { return };
        if !leg.answered || leg.started {
            return;
        }
        leg.started = true;
        let (key, role) = (leg.call, leg.role.clone());
        match role {
            Role::Caller => self.caller_answered(key, stream).await,
            Role::Agent(agent) => self.agent_answered(key, &agent, call_id).await,
            Role::Outside => self.outside_answered(key, call_id, stream),
            Role::Supervisor => self.supervisor_answered(key, call_id),
        }
    }

    /// The caller's leg is up: record, then the number's flow (or its forward).
    async fn caller_answered(&mut self, key: u64, stream: StreamId) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.started = true;
        let number = call.number.clone();
        self.record(key, stream);
        if let Some(fwd) = self.numbers.get(&number).and_then(|n| n.forward.clone()) {
            self.enter(key, Stage::Queue);
            self.play_to_caller(key, hold_music(), Purpose::Hold);
            self.dial_outside(key, &fwd.trunk, &fwd.number).await;
            return;
        }
        self.start_flow(key).await;
    }

    pub(super) fn enter(&mut self, key: u64, stage: Stage) {
        if let Some(c) = self.calls.get_mut(&key) {
            c.life.enter(stage);
        }
    }

    /// Dials `number` through `trunk` for the call (forward, transfer, callback), linked to
    /// the caller's leg (or the agent's, for a callback) so the media can be bridged.
    pub(super) async fn dial_outside(&mut self, key: u64, trunk: &str, number: &str) -> bool {
        let Some(call) = self.calls.get(&key) else {
            return false;
        };
        let (link, from) = match &call.kind {
            Kind::Inbound => (call.caller_leg.clone(), Some(call.caller.clone())),
            Kind::Callback { .. } => (
                call.agent.as_ref().map(|a| a.1.clone()),
                Some(call.number.clone()),
            ),
        };
        let dial = Dial {
            target: DialTarget::Trunk {
                trunk: trunk.to_string(),
                number: number.to_string(),
            },
            from_user: from.clone(),
            from_display: None,
            asserted: from,
            link,
        };
        match self.sip.dial(dial).await {
            Ok(Ok(leg)) => {
                self.add_leg(&leg, key, Role::Outside);
                if let Some(c) = self.calls.get_mut(&key) {
                    c.outside = Some(leg);
                }
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(key, %number, error = %e, "cannot dial out");
                self.outside_failed(key, &format!("failed: {e}")).await;
                false
            }
            Err(_) => false,
        }
    }

    /// The outside leg answered: bridge it to the caller (or, for a callback, the agent).
    fn outside_answered(&mut self, key: u64, leg: &str, stream: StreamId) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let other = match &call.kind {
            Kind::Inbound => call.caller_leg.clone(),
            Kind::Callback { .. } => call.agent.as_ref().map(|a| a.1.clone()),
        };
        let Some(other_stream) = other
            .as_ref()
            .and_then(|l| self.legs.get(l))
            .and_then(|l| l.stream)
        else {
            self.hangup(leg);
            return;
        };
        if call.kind == Kind::Inbound && call.agent.is_none() {
            // A forwarded call counts as answered when the far end answers.
            call.life.decide(Disposition::Answered);
            call.life.enter(Stage::Talking);
            call.answered_at.get_or_insert_with(Instant::now);
            call.answered_wall.get_or_insert_with(chrono::Utc::now);
            let id = call.record_id.clone();
            self.records.answered(&id, None);
        }
        if let Err(e) = self.engine.bridge(other_stream, stream) {
            tracing::error!(error = %e, "cannot bridge an outside leg");
            self.hangup(leg);
            return;
        }
        if let Some(c) = self.calls.get_mut(&key) {
            c.playing = None;
        }
        if matches!(
            self.calls.get(&key).map(|c| &c.kind),
            Some(Kind::Callback { .. })
        ) {
            self.record(key, stream);
            self.callback_answered(key);
        }
    }

    /// A leg ended (BYE, CANCEL, failure).
    async fn leg_ended(&mut self, call_id: &str, cause: &str) {
        let ours = self.cancelled.remove(call_id);
        let Some(leg) = self.legs.remove(call_id) else {
            return;
        };
        if let Some(s) = leg.stream {
            self.by_stream.remove(&s);
        }
        let key = leg.call;
        match leg.role {
            Role::Caller => self.caller_gone(key, cause).await,
            Role::Agent(agent) => {
                self.agent_leg_ended(key, &agent, call_id, cause, ours)
                    .await
            }
            Role::Supervisor => self.supervisor_leg_ended(key, call_id, cause),
            Role::Outside => {
                let Some(call) = self.calls.get_mut(&key) else {
                    return;
                };
                if call.outside.as_deref() == Some(call_id) {
                    call.outside = None;
                }
                if ours {
                    return;
                }
                if leg.answered {
                    // The far end hung up: the call is over.
                    self.finish_call(key).await;
                } else {
                    self.outside_failed(key, cause).await;
                }
            }
        }
    }

    /// An outside leg could not be reached.
    async fn outside_failed(&mut self, key: u64, cause: &str) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if let Kind::Callback { .. } = call.kind {
            self.callback_unanswered(key, cause).await;
            return;
        }
        // A forward or transfer that failed: the caller hears an apology and is let go.
        if call.life.decided().is_none() {
            if let Some(c) = self.calls.get_mut(&key) {
                c.life.decide(Disposition::Failed(cause.to_string()));
            }
        }
        self.say_goodbye(key, vec![Item::Prompt("goodbye".into())]);
    }

    /// Ends everything of a call whose conversation is over (hangs up the legs still up; the
    /// caller's end finishes the record).
    pub(super) async fn finish_call(&mut self, key: u64) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let mut legs: Vec<String> = call.offers.iter().map(|o| o.1.clone()).collect();
        legs.extend(call.agent.as_ref().map(|a| a.1.clone()));
        legs.extend(call.outside.clone());
        legs.extend(call.caller_leg.clone());
        legs.extend(call.monitor.as_ref().map(|m| m.leg.clone()));
        let kind = call.kind.clone();
        if call.keeps_place.is_some() && kind == Kind::Inbound {
            // Only the caller goes: the call keeps its place in the queue.
            if let Some(l) = call.caller_leg.clone() {
                self.hangup(&l);
            }
            return;
        }
        if let Some(acd) = call.acd {
            // Over before an agent answered (a goodbye): the queue lets its agents go.
            let _ = self.acd.handle(
                crate::acd::Input::CallerHungUp { call: acd },
                Instant::now(),
            );
            self.drain_acd().await;
        }
        for l in legs {
            self.hangup(&l);
        }
        if let Kind::Callback { .. } = kind {
            self.callback_finished(key).await;
        }
    }

    /// The caller is gone: the queue is told, the other legs hung up, the record finished.
    pub(super) async fn caller_gone(&mut self, key: u64, cause: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.caller_leg = None;
        if let Some(f) = call.flow.as_mut() {
            // The flow decides what a hang-up in it means (a message kept, a refusal heard…).
            f.handle(crate::ivr::FlowEvent::HangUp, Instant::now());
            self.drive_flow(key).await;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(s) = call.survey.as_mut() {
            s.hang_up();
            self.drive_survey(key).await;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.keeps_place.is_some() {
            // Waits in the queue for its callback; its record was finished when it asked.
            self.unschedule(key);
            return;
        }
        call.life.leaving(cause);
        if let Some(acd) = call.acd {
            let _ = self.acd.handle(
                crate::acd::Input::CallerHungUp { call: acd },
                Instant::now(),
            );
            self.drain_acd().await;
        }
        let Some(call) = self.calls.remove(&key) else {
            return;
        };
        self.unschedule(key);
        if let Some(a) = call.acd {
            self.acd_calls.remove(&a);
        }
        for (_, leg) in call.offers.iter() {
            self.hangup(leg);
        }
        if let Some((agent, leg)) = &call.agent {
            self.hangup(leg);
            self.desk_call_ended(agent, &call);
        }
        if let Some(o) = &call.outside {
            self.hangup(o);
        }
        if let Some(m) = &call.monitor {
            self.hangup(&m.leg);
        }
        let mut life = call.life.clone();
        let d = life.ended(cause);
        let needs_order = d == Disposition::Answered && call.served_by.is_some();
        self.records.ended(&call.record_id, &d, needs_order);
        self.after_disposition(&call, &d);
    }

    pub(super) fn unschedule(&mut self, key: u64) {
        if let Some(at) = self.due.remove(&key) {
            self.timers.remove(&(at, key));
        }
    }

    /// A re-INVITE of a bridged leg that puts it on hold or takes it off: while either leg
    /// holds, the other hears music on hold; when neither does, they are bridged again.
    fn renegotiated(&mut self, call_id: &str, sends: bool) {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return;
        };
        if leg.held != sends {
            // Nothing changed (a session refresh, a codec change, a phone that moved): the
            // bridge, or a supervisor's mixes, stay as they are.
            return;
        }
        leg.held = !sends;
        if leg.role == Role::Supervisor {
            // What a supervisor's phone does with its own stream changes nobody's mix.
            return;
        }
        let (Some(stream), key) = (leg.stream, leg.call) else {
            return;
        };
        if !sends {
            // No mix may outlive the bridge it was made for.
            self.stop_monitoring(key, "the call was put on hold");
        }
        let Some(partner) = self.partner_of(key, call_id) else {
            return;
        };
        let Some((other, other_held)) = self
            .legs
            .get(&partner)
            .filter(|p| p.started)
            .and_then(|p| p.stream.map(|s| (s, p.held)))
        else {
            return;
        };
        self.records.step_of(
            self.calls.get(&key).map(|c| c.record_id.as_str()),
            if sends { "resume" } else { "hold" },
            None,
        );
        match (sends, other_held) {
            (true, false) => {
                if let Err(e) = self.engine.bridge(stream, other) {
                    tracing::error!(error = %e, "cannot bridge again after hold");
                }
            }
            (true, true) => self.play_stream(stream, hold_music()),
            (false, _) => {
                tracing::info!(%call_id, "leg on hold; music on hold for the other side");
                self.play_stream(other, hold_music());
            }
        }
    }

    /// The leg bridged with `leg` in its call.
    fn partner_of(&self, key: u64, leg: &str) -> Option<String> {
        let call = self.calls.get(&key)?;
        let talking = call
            .agent
            .as_ref()
            .map(|a| a.1.clone())
            .or_else(|| call.outside.clone());
        if call.caller_leg.as_deref() == Some(leg) {
            talking
        } else if call.kind != Kind::Inbound
            && call.agent.as_ref().map(|a| a.1.as_str()) == Some(leg)
        {
            call.outside.clone()
        } else if call.kind != Kind::Inbound {
            call.agent.as_ref().map(|a| a.1.clone())
        } else {
            call.caller_leg.clone()
        }
    }

    pub(super) async fn on_media(&mut self, ev: MediaEvent) {
        let Some(leg_id) = self.by_stream.get(&ev.stream).cloned() else {
            return;
        };
        let Some(leg) = self.legs.get(&leg_id) else {
            return;
        };
        let (key, role) = (leg.call, leg.role.clone());
        match ev.kind {
            MediaEventKind::Dtmf(d) => self.digit(&leg_id, d).await,
            MediaEventKind::PlayFinished { play, end } => {
                if role != Role::Caller {
                    return;
                }
                let Some(call) = self.calls.get_mut(&key) else {
                    return;
                };
                let Some((_, purpose)) = call.playing.filter(|p| p.0 == play) else {
                    return;
                };
                call.playing = None;
                if end != PlayEnd::Done {
                    return;
                }
                match purpose {
                    Purpose::Flow(t) => {
                        self.flow_event(key, crate::ivr::FlowEvent::PlayDone { token: t })
                            .await
                    }
                    Purpose::Survey(t) => self.survey_play_done(key, t).await,
                    Purpose::Announce => {
                        self.play_to_caller(key, hold_music(), Purpose::Hold);
                    }
                    Purpose::Hold => {}
                    Purpose::Goodbye => self.finish_call(key).await,
                }
            }
            MediaEventKind::RtpTimeout => {
                tracing::warn!(call_id = %leg_id, "no RTP on a leg; hanging up");
                self.hangup(&leg_id);
                // Our own hangup: its end is news all the same.
                self.cancelled.remove(&leg_id);
            }
        }
    }

    async fn digit(&mut self, leg_id: &str, digit: Digit) {
        let Some(leg) = self.legs.get(leg_id) else {
            return;
        };
        if leg.role != Role::Caller {
            return;
        }
        let key = leg.call;
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.digits.push(digit.as_char());
        tracing::info!(call = %call.record_id, digit = %digit, "caller pressed a key");
        if call.flow.is_some() {
            self.flow_event(key, crate::ivr::FlowEvent::Digit(digit.as_char()))
                .await;
        } else if call.survey.is_some() {
            self.survey_digit(key, digit.as_char()).await;
        } else if call.life.stage == Stage::Queue {
            self.queue_digit(key, digit.as_char()).await;
        }
    }

    /// Records the call (both channels) from the caller's stream, or for a callback from the
    /// citizen's.
    pub(super) fn record(&mut self, key: u64, stream: StreamId) {
        if !self.cfg.record {
            return;
        }
        let Some(rec) = &self.recorder else { return };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let sink = rec.open(&call.record_id, 2, chrono::Utc::now());
        call.recording = Some(sink.path().to_path_buf());
        call.recording_started = Some(Instant::now());
        let id = call.record_id.clone();
        self.records.recording(&id, sink.path());
        self.engine.record(stream, sink);
    }

    /// Plays to the caller in the call's language; false (logged) when a prompt of it is
    /// missing.
    pub(super) fn play_to_caller(
        &mut self,
        key: u64,
        playlist: Playlist,
        purpose: Purpose,
    ) -> bool {
        let Some(lang) = self.calls.get(&key).map(|c| c.language.clone()) else {
            return false;
        };
        self.play_in(key, playlist, purpose, &lang)
    }

    /// Plays to the caller in `lang`.
    pub(super) fn play_in(
        &mut self,
        key: u64,
        playlist: Playlist,
        purpose: Purpose,
        lang: &str,
    ) -> bool {
        let Some(call) = self.calls.get(&key) else {
            return false;
        };
        let Some(stream) = call
            .caller_leg
            .as_ref()
            .and_then(|l| self.legs.get(l))
            .and_then(|l| l.stream)
        else {
            return false;
        };
        match Player::new(&self.prompts, lang, &playlist) {
            Ok(p) => {
                let token = self.engine.play(stream, p);
                if let Some(c) = self.calls.get_mut(&key) {
                    c.playing = Some((token, purpose));
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot play a prompt to the caller");
                false
            }
        }
    }

    fn play_stream(&mut self, stream: StreamId, playlist: Playlist) {
        match Player::new(&self.prompts, &self.cfg.language, &playlist) {
            Ok(p) => {
                self.engine.play(stream, p);
            }
            Err(e) => tracing::warn!(error = %e, "cannot play music on hold"),
        }
    }

    /// Plays the last prompts, then hangs up.
    pub(super) fn say_goodbye(&mut self, key: u64, items: Vec<Item>) {
        let playlist = Playlist {
            items,
            looped: false,
            barge_in: false,
        };
        if !self.play_to_caller(key, playlist, Purpose::Goodbye) {
            if let Some(l) = self.calls.get(&key).and_then(|c| c.caller_leg.clone()) {
                self.hangup(&l);
                self.cancelled.remove(&l);
            }
        }
    }
}

pub(super) fn hold_music() -> Playlist {
    Playlist {
        items: vec![Item::Prompt("music-on-hold".into())],
        looped: true,
        barge_in: false,
    }
}
