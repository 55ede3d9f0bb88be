//! The caller's side of the IVR: the number's flow ([`crate::ivr::Flow`]) and, after the agent
//! hangs up, the satisfaction survey ([`crate::ivr::Survey`]), driven with the media engine's
//! events and their actions carried out (prompts, order lookups, the message, the queue).

use std::time::Instant;

use super::outcome::{Disposition, RejectReason, Stage};
use super::{Calls, Purpose};
use crate::ivr::{FlowAction, FlowEnd, FlowEvent, SurveyAction};

impl Calls {
    /// The caller's leg is answered and recorded: its number's flow starts.
    pub(super) async fn start_flow(&mut self, key: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let flow = self.rules.start(
            &call.number,
            &call.caller,
            chrono::Utc::now(),
            Instant::now(),
        );
        call.language = flow.language().to_string();
        call.flow = Some(flow);
        call.life.enter(Stage::Greeting);
        let id = call.record_id.clone();
        self.records.step(&id, "greeting", None);
        self.drive_flow(key).await;
    }

    pub(super) async fn flow_event(&mut self, key: u64, ev: FlowEvent) {
        let Some(f) = self.calls.get_mut(&key).and_then(|c| c.flow.as_mut()) else {
            return;
        };
        f.handle(ev, Instant::now());
        self.drive_flow(key).await;
    }

    pub(super) async fn flow_timeout(&mut self, key: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(f) = call.flow.as_mut() {
            f.handle_timeout(now);
            self.drive_flow(key).await;
        } else if let Some(s) = call.survey.as_mut() {
            s.handle_timeout(now);
            self.drive_survey(key).await;
        }
    }

    /// Carries out what the flow wants until it has nothing more to say.
    pub(super) async fn drive_flow(&mut self, key: u64) {
        loop {
            let Some(call) = self.calls.get_mut(&key) else {
                return;
            };
            let Some(action) = call.flow.as_mut().and_then(|f| f.poll_action()) else {
                break;
            };
            match action {
                FlowAction::Play {
                    token,
                    language,
                    playlist,
                } => {
                    self.play_in(key, playlist, Purpose::Flow(token), &language);
                }
                FlowAction::StopPlaying => {
                    call.playing = None;
                    if let Some(s) = self.caller_stream(key) {
                        self.engine.stop_playing(s);
                    }
                }
                FlowAction::SetLanguage(lang) => {
                    call.language = lang.clone();
                    let id = call.record_id.clone();
                    self.records.language(&id, &lang);
                }
                FlowAction::LookupOrder(number) => {
                    let id = call.record_id.clone();
                    self.records
                        .step(&id, "self-service", Some(&format!("order status {number}")));
                    self.lookup_order(key, number);
                }
                FlowAction::RecordMessage { .. } => {
                    call.life.enter(Stage::Message);
                    let offset = call
                        .recording_started
                        .map(|t| t.elapsed().as_millis() as i64);
                    let id = call.record_id.clone();
                    self.records.voicemail(&id, offset);
                }
                FlowAction::Finish(end) => {
                    call.flow = None;
                    self.flow_finished(key, end).await;
                }
            }
        }
        self.schedule(key);
    }

    fn caller_stream(&self, key: u64) -> Option<crate::media::engine::StreamId> {
        self.calls
            .get(&key)?
            .caller_leg
            .as_ref()
            .and_then(|l| self.legs.get(l))
            .and_then(|l| l.stream)
    }

    fn lookup_order(&mut self, key: u64, number: String) {
        let (store, tx) = (self.store.clone(), self.cmd.clone());
        tokio::spawn(async move {
            let info = match store {
                Some(s) => match s
                    .get_order(&crate::cases::store::OrderKey::Number(number.clone()))
                    .await
                {
                    Ok(Some(o)) => Some(crate::ivr::OrderStatusInfo {
                        number: o.number.clone(),
                        status: o.status.as_str().to_string(),
                    }),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "order status lookup failed");
                        None
                    }
                },
                None => None,
            };
            let _ = tx.send(super::Cmd::OrderStatus { call: key, info });
        });
    }

    async fn flow_finished(&mut self, key: u64, end: FlowEnd) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let id = call.record_id.clone();
        match end {
            FlowEnd::Queue { queue, priority } => self.enqueue(key, &queue, priority).await,
            FlowEnd::Voicemail { .. } => {
                call.life.decide(Disposition::Voicemail);
                self.records.step(&id, "voicemail", None);
                self.voicemail_left(key);
                self.hang_up_caller(key);
            }
            FlowEnd::CallbackRequested => {
                call.life.decide(Disposition::CallbackRequested);
                self.records.step(&id, "callback-requested", None);
                self.callback_requested(key, "requested");
                self.hang_up_caller(key);
            }
            FlowEnd::Rejected { reason } => {
                let d = match reason {
                    crate::ivr::RejectReason::Blacklist => {
                        Disposition::Rejected(RejectReason::Blacklist)
                    }
                    crate::ivr::RejectReason::Closed => Disposition::Rejected(RejectReason::Closed),
                    crate::ivr::RejectReason::UnknownNumber => {
                        Disposition::Failed("no flow for the number".into())
                    }
                };
                call.life.decide(d);
                self.hang_up_caller(key);
            }
            // The caller hung up in the flow: the stage decides (abandoned in the greeting).
            FlowEnd::Hangup { .. } => self.hang_up_caller(key),
        }
    }

    pub(super) fn hang_up_caller(&mut self, key: u64) {
        if let Some(l) = self.calls.get(&key).and_then(|c| c.caller_leg.clone()) {
            self.hangup(&l);
        }
    }

    /// The agent hung up on a caller who takes the survey.
    pub(super) async fn start_survey(&mut self, key: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.survey = Some(crate::ivr::Survey::new(&call.language, Instant::now()));
        call.life.enter(Stage::Survey);
        let id = call.record_id.clone();
        self.records.step(&id, "survey", None);
        if let Some(s) = self.caller_stream(key) {
            self.engine.unbridge(s);
        }
        self.drive_survey(key).await;
    }

    pub(super) async fn survey_digit(&mut self, key: u64, digit: char) {
        if let Some(s) = self.calls.get_mut(&key).and_then(|c| c.survey.as_mut()) {
            s.digit(digit, Instant::now());
            self.drive_survey(key).await;
        }
    }

    pub(super) async fn survey_play_done(&mut self, key: u64, token: u64) {
        if let Some(s) = self.calls.get_mut(&key).and_then(|c| c.survey.as_mut()) {
            s.play_done(token, Instant::now());
            self.drive_survey(key).await;
        }
    }

    pub(super) async fn drive_survey(&mut self, key: u64) {
        while let Some(action) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.survey.as_mut())
            .and_then(|s| s.poll_action())
        {
            match action {
                SurveyAction::Play {
                    token,
                    language,
                    playlist,
                } => {
                    self.play_in(key, playlist, Purpose::Survey(token), &language);
                }
                SurveyAction::StopPlaying => {
                    if let Some(c) = self.calls.get_mut(&key) {
                        c.playing = None;
                    }
                    if let Some(s) = self.caller_stream(key) {
                        self.engine.stop_playing(s);
                    }
                }
                SurveyAction::Done(answer) => {
                    let Some(call) = self.calls.get_mut(&key) else {
                        return;
                    };
                    call.survey = None;
                    let id = call.record_id.clone();
                    if let Some(a) = answer {
                        self.records.survey(&id, a);
                    }
                    self.hang_up_caller(key);
                }
            }
        }
        self.schedule(key);
    }
}
