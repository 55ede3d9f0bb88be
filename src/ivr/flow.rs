//! One call's flow: the state machine from the answer to the queue (or a refusal, a message or
//! a callback request). See the module doc of [`crate::ivr`] and docs/ivr.md.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use super::{
    other_language, status_prompt, FlowAction, FlowEnd, FlowEvent, FlowStage, NumberFlow,
    RejectReason, Service, FIRST_DIGIT_TIMEOUT, INTER_DIGIT_TIMEOUT, LOOKUP_TIMEOUT,
    MESSAGE_MAX_SECS, ORDER_NUMBER_DIGITS, PLAY_GUARD,
};
use crate::media::prompt::{Item, Playlist};

/// How a call is met, decided by [`super::FlowRules::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opening {
    Open,
    Closed,
    Blacklisted,
    /// The queue overflowed to voicemail: straight to the message.
    Overflow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Playing part `part` of the greeting (greeting + notice, language offer, menu).
    Greeting {
        part: usize,
    },
    /// `invalid-input` after a key nobody offered; then the queue.
    InvalidKey,
    /// Asking for and collecting an order number; `second` on the retry.
    OrderEntry {
        digits: String,
        second: bool,
    },
    /// Waiting for [`FlowEvent::OrderStatus`].
    AwaitLookup,
    /// Reading the order's status; then the queue.
    ReadingStatus,
    /// `recording-notice` that a key cut off in the greeting, before the queue.
    NoticeBeforeQueue,
    /// `leave-message` and the beep (after `closed-hours` when the number is closed).
    MessagePrompt,
    /// Recording the message since `since`.
    Recording {
        since: Instant,
    },
    /// `message-saved`, `goodbye`.
    MessageSaved {
        secs: u32,
    },
    /// `callback-confirmed`, `goodbye`.
    CallbackConfirm,
    /// A refusal notice, then `goodbye`.
    Refusing(RejectReason),
    Done,
}

/// One call's IVR flow (sans-IO). Built by [`super::FlowRules::start`].
#[derive(Debug, Clone)]
pub struct Flow {
    rules: NumberFlow,
    language: String,
    /// The language key was pressed (the offer is not made again).
    switched: bool,
    priority: u8,
    /// The call came outside the number's hours.
    closed: bool,
    /// The recording notice has not been heard to its end yet (it is played before the queue).
    notice_pending: bool,
    state: State,
    /// Token of the playlist whose [`FlowEvent::PlayDone`] is awaited.
    playing: Option<u64>,
    last_token: u64,
    timer: Option<Instant>,
    actions: VecDeque<FlowAction>,
}

fn prompts(names: &[&str]) -> Vec<Item> {
    names.iter().map(|n| Item::Prompt(n.to_string())).collect()
}

impl Flow {
    pub(super) fn new(
        rules: NumberFlow,
        language: &str,
        priority: u8,
        opening: Opening,
        now: Instant,
    ) -> Flow {
        let mut flow = Flow::idle(rules, language);
        flow.priority = priority;
        flow.closed = opening == Opening::Closed;
        match opening {
            Opening::Blacklisted => {
                flow.state = State::Refusing(RejectReason::Blacklist);
                flow.play_here(prompts(&["blacklisted", "goodbye"]), false, now);
            }
            Opening::Closed if flow.rules.closed_voicemail => {
                flow.state = State::MessagePrompt;
                let items = prompts(&["closed-hours", "leave-message", "beep"]);
                flow.play_here(items, false, now);
            }
            Opening::Overflow => {
                flow.state = State::MessagePrompt;
                let items = prompts(&["all-agents-busy", "leave-message", "beep"]);
                flow.play_here(items, false, now);
            }
            Opening::Closed => {
                flow.state = State::Refusing(RejectReason::Closed);
                flow.play_here(prompts(&["closed-hours", "goodbye"]), false, now);
            }
            Opening::Open => {
                flow.notice_pending = flow.rules.recording_notice;
                flow.state = State::Greeting { part: 0 };
                flow.play_greeting_part(0, now);
            }
        }
        flow
    }

    /// A flow with nothing started yet.
    fn idle(rules: NumberFlow, language: &str) -> Flow {
        Flow {
            rules,
            language: language.to_string(),
            switched: false,
            priority: 0,
            closed: false,
            notice_pending: false,
            state: State::Done,
            playing: None,
            last_token: 0,
            timer: None,
            actions: VecDeque::new(),
        }
    }

    /// A flow that is over before it starts (the dialled number has no flow).
    pub(super) fn refused(language: &str, reason: RejectReason) -> Flow {
        let rules = NumberFlow {
            number: String::new(),
            queue: String::new(),
            greeting: String::new(),
            recording_notice: false,
            language_key: None,
            self_service: BTreeMap::new(),
            working_hours_only: false,
            closed_voicemail: false,
            survey: false,
            queue_callback_key: None,
        };
        let mut flow = Flow::idle(rules, language);
        flow.actions
            .push_back(FlowAction::Finish(FlowEnd::Rejected { reason }));
        flow
    }

    /// The language prompts are played in now.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The caller's queue priority (0 unless listed in `[callers].priority`).
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// The number this flow answers.
    pub fn number(&self) -> &str {
        &self.rules.number
    }

    pub fn stage(&self) -> FlowStage {
        match &self.state {
            State::Greeting { .. }
            | State::InvalidKey
            | State::NoticeBeforeQueue
            | State::Refusing(_) => FlowStage::Greeting,
            State::MessagePrompt if self.closed => FlowStage::Greeting,
            State::MessagePrompt
            | State::OrderEntry { .. }
            | State::AwaitLookup
            | State::ReadingStatus
            | State::CallbackConfirm => FlowStage::SelfService,
            State::Recording { .. } | State::MessageSaved { .. } => FlowStage::Voicemail,
            State::Done => FlowStage::Done,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due; `None` once finished.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    pub fn poll_action(&mut self) -> Option<FlowAction> {
        self.actions.pop_front()
    }

    pub fn handle(&mut self, ev: FlowEvent, now: Instant) {
        if self.state == State::Done {
            return;
        }
        match ev {
            FlowEvent::HangUp => self.hang_up(now),
            FlowEvent::PlayDone { token } => {
                if self.playing == Some(token) {
                    self.playing = None;
                    self.timer = None;
                    self.play_done(now);
                }
            }
            FlowEvent::Digit(d) => self.digit(d, now),
            FlowEvent::OrderStatus(info) => {
                if self.state != State::AwaitLookup {
                    return;
                }
                self.timer = None;
                let mut items = Vec::new();
                match info
                    .as_ref()
                    .and_then(|i| Some((i, status_prompt(&i.status)?)))
                {
                    Some((info, status)) => {
                        items.push(Item::Prompt("order-status".into()));
                        if !info.number.is_empty()
                            && info.number.chars().all(|c| c.is_ascii_digit())
                        {
                            items.push(Item::Digits(info.number.clone()));
                        }
                        items.push(Item::Prompt(status.into()));
                    }
                    None => items.push(Item::Prompt("order-not-found".into())),
                }
                self.state = State::ReadingStatus;
                self.play_here(items, false, now);
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timer.is_none_or(|t| t > now) || self.state == State::Done {
            return;
        }
        self.timer = None;
        if self.playing.take().is_some() {
            // PlayDone never came: go on as if it had.
            self.play_done(now);
            return;
        }
        match self.state {
            State::OrderEntry { .. } => self.end_entry(now),
            State::AwaitLookup => self.enter_queue(now),
            State::Recording { .. } => self.end_recording(now),
            _ => {}
        }
    }

    // ----- internals ----------------------------------------------------------------------

    fn play(&mut self, language: String, items: Vec<Item>, barge_in: bool, now: Instant) {
        self.last_token += 1;
        self.playing = Some(self.last_token);
        self.timer = Some(now + PLAY_GUARD);
        self.actions.push_back(FlowAction::Play {
            token: self.last_token,
            language,
            playlist: Playlist {
                items,
                looped: false,
                barge_in,
            },
        });
    }

    /// Plays in the call's language.
    fn play_here(&mut self, items: Vec<Item>, barge_in: bool, now: Instant) {
        self.play(self.language.clone(), items, barge_in, now);
    }

    /// Does the greeting offer any key?
    fn offers_keys(&self) -> bool {
        (self.rules.language_key.is_some() && !self.switched) || !self.rules.self_service.is_empty()
    }

    /// The greeting's parts, each played in its language: the greeting with the recording
    /// notice; the language offer (in the language it offers, with its key); the menu.
    fn greeting_parts(&self) -> Vec<(String, Vec<Item>)> {
        let mut first = vec![Item::Prompt(self.rules.greeting.clone())];
        if self.rules.recording_notice {
            first.push(Item::Prompt("recording-notice".into()));
        }
        let mut parts = vec![(self.language.clone(), first)];
        if let (Some(key), false) = (self.rules.language_key, self.switched) {
            parts.push((
                other_language(&self.language).to_string(),
                vec![
                    Item::Prompt("language-menu".into()),
                    Item::Digits(key.to_string()),
                ],
            ));
        }
        if !self.rules.self_service.is_empty() {
            parts.push((
                self.language.clone(),
                vec![Item::Prompt("self-service-menu".into())],
            ));
        }
        parts
    }

    fn play_greeting_part(&mut self, part: usize, now: Instant) {
        let barge_in = self.offers_keys();
        match self.greeting_parts().into_iter().nth(part) {
            Some((language, items)) => {
                self.state = State::Greeting { part };
                self.play(language, items, barge_in, now);
            }
            // Pressing nothing goes straight to the queue (GB/T 33358: no IVR maze).
            None => self.enter_queue(now),
        }
    }

    fn play_done(&mut self, now: Instant) {
        match self.state.clone() {
            State::Greeting { part } => {
                if part == 0 {
                    self.notice_pending = false;
                }
                self.play_greeting_part(part + 1, now)
            }
            State::InvalidKey | State::ReadingStatus => self.enter_queue(now),
            State::NoticeBeforeQueue => {
                self.notice_pending = false;
                self.enter_queue(now)
            }
            State::OrderEntry { digits, .. } => {
                let wait = if digits.is_empty() {
                    FIRST_DIGIT_TIMEOUT
                } else {
                    INTER_DIGIT_TIMEOUT
                };
                self.timer = Some(now + wait);
            }
            State::MessagePrompt => {
                self.state = State::Recording { since: now };
                self.actions.push_back(FlowAction::RecordMessage {
                    max_secs: MESSAGE_MAX_SECS,
                });
                self.timer = Some(now + std::time::Duration::from_secs(MESSAGE_MAX_SECS.into()));
            }
            State::MessageSaved { secs } => self.finish(FlowEnd::Voicemail { message_secs: secs }),
            State::CallbackConfirm => self.finish(FlowEnd::CallbackRequested),
            State::Refusing(reason) => self.finish(FlowEnd::Rejected { reason }),
            State::AwaitLookup | State::Recording { .. } | State::Done => {}
        }
    }

    /// Stops a barge-in playlist that a digit interrupted.
    fn barge(&mut self) {
        if self.playing.take().is_some() {
            self.timer = None;
            self.actions.push_back(FlowAction::StopPlaying);
        }
    }

    fn digit(&mut self, d: char, now: Instant) {
        match self.state.clone() {
            State::Greeting { .. } => {
                if !self.offers_keys() {
                    // Nothing was offered: keys are not an answer to anything.
                    return;
                }
                self.barge();
                if self.rules.language_key == Some(d) && !self.switched {
                    self.switched = true;
                    self.notice_pending = self.rules.recording_notice;
                    self.language = other_language(&self.language).to_string();
                    self.actions
                        .push_back(FlowAction::SetLanguage(self.language.clone()));
                    self.play_greeting_part(0, now);
                } else if let Some(service) = self.rules.self_service.get(&d).copied() {
                    self.start_service(service, now);
                } else {
                    self.state = State::InvalidKey;
                    self.play_here(prompts(&["invalid-input"]), false, now);
                }
            }
            State::OrderEntry { mut digits, second } => match d {
                '#' => {
                    self.barge();
                    self.state = State::OrderEntry { digits, second };
                    self.end_entry(now);
                }
                '0'..='9' => {
                    self.barge();
                    digits.push(d);
                    let full = digits.len() >= ORDER_NUMBER_DIGITS;
                    self.state = State::OrderEntry { digits, second };
                    if full {
                        self.end_entry(now);
                    } else {
                        self.timer = Some(now + INTER_DIGIT_TIMEOUT);
                    }
                }
                _ => {}
            },
            State::Recording { .. } if d == '#' => self.end_recording(now),
            _ => {}
        }
    }

    fn start_service(&mut self, service: Service, now: Instant) {
        match service {
            Service::OrderStatus => {
                self.state = State::OrderEntry {
                    digits: String::new(),
                    second: false,
                };
                self.play_here(prompts(&["enter-order-number"]), true, now);
            }
            Service::Voicemail => {
                self.state = State::MessagePrompt;
                self.play_here(prompts(&["leave-message", "beep"]), false, now);
            }
            Service::Callback => {
                self.state = State::CallbackConfirm;
                self.play_here(prompts(&["callback-confirmed", "goodbye"]), false, now);
            }
        }
    }

    /// The order number is complete (`#`, full length or a timeout).
    fn end_entry(&mut self, now: Instant) {
        let State::OrderEntry { digits, second } = self.state.clone() else {
            return;
        };
        if !digits.is_empty() {
            self.state = State::AwaitLookup;
            self.timer = Some(now + LOOKUP_TIMEOUT);
            self.actions.push_back(FlowAction::LookupOrder(digits));
        } else if !second {
            self.state = State::OrderEntry {
                digits,
                second: true,
            };
            let items = prompts(&["invalid-input", "enter-order-number"]);
            self.play_here(items, true, now);
        } else {
            self.enter_queue(now);
        }
    }

    fn end_recording(&mut self, now: Instant) {
        let State::Recording { since } = self.state else {
            return;
        };
        let secs = message_secs(since, now);
        self.state = State::MessageSaved { secs };
        self.play_here(prompts(&["message-saved", "goodbye"]), false, now);
    }

    fn hang_up(&mut self, now: Instant) {
        let end = match self.state {
            State::Refusing(reason) => FlowEnd::Rejected { reason },
            State::MessagePrompt if self.closed => FlowEnd::Rejected {
                reason: RejectReason::Closed,
            },
            State::Recording { since } => FlowEnd::Voicemail {
                message_secs: message_secs(since, now),
            },
            State::MessageSaved { secs } => FlowEnd::Voicemail { message_secs: secs },
            State::CallbackConfirm => FlowEnd::CallbackRequested,
            _ => FlowEnd::Hangup {
                during: self.stage(),
            },
        };
        self.finish(end);
    }

    /// To the queue; first the recording notice if a key cut it off (every caller who may
    /// reach an agent hears it).
    fn enter_queue(&mut self, now: Instant) {
        if self.notice_pending {
            self.state = State::NoticeBeforeQueue;
            self.play_here(prompts(&["recording-notice"]), false, now);
            return;
        }
        let end = FlowEnd::Queue {
            queue: self.rules.queue.clone(),
            priority: self.priority,
        };
        self.finish(end);
    }

    fn finish(&mut self, end: FlowEnd) {
        self.state = State::Done;
        self.timer = None;
        self.playing = None;
        self.actions.push_back(FlowAction::Finish(end));
    }
}

fn message_secs(since: Instant, now: Instant) -> u32 {
    let secs = now.saturating_duration_since(since).as_secs();
    secs.min(MESSAGE_MAX_SECS.into()) as u32
}
