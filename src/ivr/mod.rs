//! The IVR call-flow interpreter, sans-IO (DESIGN.md `ivr/`): what a caller hears between the
//! answer and the queue — greeting, recording notice, the optional language and self-service
//! offers (order status, leave a message, ask for a callback), the blacklist and closed-hours
//! refusals — and, after the agent hangs up, the satisfaction survey. docs/ivr.md describes
//! the flows as callers hear them.
//!
//! It never touches sockets, the database or a clock: the call layer feeds a [`Flow`]
//! [`FlowEvent`]s with the current [`Instant`], calls [`Flow::handle_timeout`] when
//! [`Flow::poll_timeout`] says so, and drains [`FlowAction`]s with [`Flow::poll_action`]. Every
//! flow ends with exactly one [`FlowAction::Finish`], after which it emits nothing more.
//!
//! * [`FlowRules`] — built once from the configuration: each number's flow, the blacklist,
//!   caller priorities and the working calendar (`mod.rs`).
//! * [`Flow`] — one call's flow (`flow.rs`).
//! * [`Survey`] — the satisfaction survey (`survey.rs`).

mod flow;
mod survey;

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::cases::calendar::WorkingCalendar;
use crate::config::Config;
use crate::media::prompt::Playlist;

pub use flow::Flow;
pub use survey::{Survey, SurveyAction};

/// Longest voicemail message.
pub const MESSAGE_MAX_SECS: u32 = 120;
/// Longest order number a caller is asked for (the case store's numbers have 13 digits).
pub const ORDER_NUMBER_DIGITS: usize = 13;
/// Wait for the first digit of an order number after the prompt ends.
pub const FIRST_DIGIT_TIMEOUT: Duration = Duration::from_secs(15);
/// Wait for each further digit of an order number.
pub const INTER_DIGIT_TIMEOUT: Duration = Duration::from_secs(8);
/// Wait for the case store's answer to [`FlowAction::LookupOrder`]; then the caller goes to
/// the queue unanswered.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Wait for [`FlowEvent::PlayDone`] beyond which a playlist counts as played (a lost event
/// must not hold a caller for ever).
pub const PLAY_GUARD: Duration = Duration::from_secs(120);
/// Wait for a survey key after the survey prompt ends.
pub const SURVEY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the call layer tells a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEvent {
    /// A key the caller pressed (`0`–`9`, `*`, `#`).
    Digit(char),
    /// The playlist of [`FlowAction::Play`] with this token finished (not sent when a digit
    /// barged in). A token other than the latest one is ignored.
    PlayDone { token: u64 },
    /// The answer to [`FlowAction::LookupOrder`]: the order, or `None` when there is none.
    OrderStatus(Option<OrderStatusInfo>),
    /// The caller hung up; the flow finishes with what that means at this point.
    HangUp,
}

/// An order as the case store found it for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatusInfo {
    pub number: String,
    /// `cases::lifecycle::Status::as_str`: received, registered, dispatched, returned, …
    pub status: String,
}

/// What a flow asks the call layer to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowAction {
    /// Play `playlist` in `language` (replacing whatever plays); answer with
    /// [`FlowEvent::PlayDone`] carrying `token` when it ends. The language is given per
    /// playlist because the language offer is spoken in the language it offers.
    Play {
        token: u64,
        language: String,
        playlist: Playlist,
    },
    /// Stop what is playing (a digit moved the flow on).
    StopPlaying,
    /// The caller chose this language: later prompts, the call record and routing use it.
    SetLanguage(String),
    /// Look the order number up; answer with [`FlowEvent::OrderStatus`].
    LookupOrder(String),
    /// Voicemail: the caller's message starts now (mark it in the recording); it ends with the
    /// next action (at most `max_secs` later).
    RecordMessage { max_secs: u32 },
    /// The flow is over; nothing follows.
    Finish(FlowEnd),
}

/// How a flow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEnd {
    /// Join this queue with this caller priority (0 = normal, 1–9 ahead).
    Queue { queue: String, priority: u8 },
    /// A message was left; it lasted `message_secs` (from [`FlowAction::RecordMessage`]).
    Voicemail { message_secs: u32 },
    /// The caller asked to be called back.
    CallbackRequested,
    /// The call was refused.
    Rejected { reason: RejectReason },
    /// The caller hung up before the flow decided anything, in this stage.
    Hangup { during: FlowStage },
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The caller's number is on `[callers].blacklist`.
    Blacklist,
    /// Outside the number's hours with `closed = "reject"` (or a hang-up before the message).
    Closed,
    /// The dialled number has no `[[numbers]]` entry.
    UnknownNumber,
}

/// Where a flow is, for the call record ("abandoned in greeting" and the like).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowStage {
    /// Greeting, notices and offers; also the blacklist and closed-hours notices.
    Greeting,
    /// A self-service the caller chose (order status, the voicemail prompt, callback).
    SelfService,
    /// Recording the caller's message.
    Voicemail,
    /// Finished.
    Done,
}

/// A self-service offered during the greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    OrderStatus,
    Voicemail,
    Callback,
}

impl Service {
    /// The configuration's name of a service (`self_service` values).
    pub fn parse(s: &str) -> Option<Service> {
        match s {
            "order-status" => Some(Service::OrderStatus),
            "voicemail" => Some(Service::Voicemail),
            "callback" => Some(Service::Callback),
            _ => None,
        }
    }
}

/// One number's flow, from its `[[numbers]]` entry.
#[derive(Debug, Clone)]
pub struct NumberFlow {
    pub number: String,
    pub queue: String,
    pub greeting: String,
    pub recording_notice: bool,
    pub language_key: Option<char>,
    pub self_service: BTreeMap<char, Service>,
    /// Open only in working time (`hours = "working-hours"`).
    pub working_hours_only: bool,
    /// `closed = "voicemail"`.
    pub closed_voicemail: bool,
    pub survey: bool,
    pub queue_callback_key: Option<char>,
}

/// Every number's flow and the caller lists, built once from the configuration.
#[derive(Debug, Clone)]
pub struct FlowRules {
    numbers: HashMap<String, NumberFlow>,
    /// `[media].language`: the language calls start in.
    language: String,
    blacklist: HashMap<String, String>,
    priority: HashMap<String, u8>,
    calendar: WorkingCalendar,
}

/// The one key of a checked key setting.
fn key_of(s: &Option<String>) -> Option<char> {
    s.as_deref().and_then(|k| k.chars().next())
}

impl FlowRules {
    /// The rules of a loaded (checked) configuration. Settings the checker would refuse are
    /// skipped rather than trusted: an unknown service or a key that is not one character.
    pub fn from_config(cfg: &Config) -> FlowRules {
        let numbers = cfg
            .numbers
            .iter()
            .map(|n| {
                let self_service = n
                    .self_service
                    .iter()
                    .filter(|(k, _)| k.chars().count() == 1)
                    .filter_map(|(k, s)| Some((k.chars().next()?, Service::parse(s)?)))
                    .collect();
                let flow = NumberFlow {
                    number: n.number.clone(),
                    queue: n.queue.clone(),
                    greeting: n.greeting_prompt(),
                    recording_notice: n.recording_notice,
                    language_key: key_of(&n.language_key),
                    self_service,
                    working_hours_only: n.hours == "working-hours",
                    closed_voicemail: n.closed == "voicemail",
                    survey: n.survey,
                    queue_callback_key: key_of(&n.queue_callback_key),
                };
                (n.number.clone(), flow)
            })
            .collect();
        FlowRules {
            numbers,
            language: cfg.media.language.clone(),
            blacklist: cfg
                .callers
                .blacklist
                .iter()
                .map(|b| (b.number.clone(), b.reason.clone()))
                .collect(),
            priority: cfg
                .callers
                .priority
                .iter()
                .map(|p| (p.number.clone(), p.priority.min(9)))
                .collect(),
            calendar: cfg
                .working_calendar()
                .unwrap_or_else(|_| WorkingCalendar::china_default()),
        }
    }

    /// The flow of a call from `caller` to `number` at wall-clock time `at` (for the hours),
    /// started at `now`. Its first actions are ready at once.
    pub fn start(&self, number: &str, caller: &str, at: DateTime<Utc>, now: Instant) -> Flow {
        let Some(rules) = self.numbers.get(number) else {
            return Flow::refused(&self.language, RejectReason::UnknownNumber);
        };
        let opening = if self.blacklist.contains_key(caller) {
            flow::Opening::Blacklisted
        } else if rules.working_hours_only && !self.calendar.is_working_time(at) {
            flow::Opening::Closed
        } else {
            flow::Opening::Open
        };
        Flow::new(
            rules.clone(),
            &self.language,
            self.priority(caller),
            opening,
            now,
        )
    }

    /// The flow of a caller whose queue overflowed to voicemail: "all agents are busy, leave
    /// a message after the tone", the message, then goodbye (in the caller's `language`).
    pub fn voicemail(&self, number: &str, language: &str, now: Instant) -> Flow {
        let Some(rules) = self.numbers.get(number) else {
            return Flow::refused(language, RejectReason::UnknownNumber);
        };
        Flow::new(rules.clone(), language, 0, flow::Opening::Overflow, now)
    }

    /// The working calendar that `hours = "working-hours"` numbers follow.
    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    /// A number's flow settings.
    pub fn number(&self, number: &str) -> Option<&NumberFlow> {
        self.numbers.get(number)
    }

    /// Does `number` play the satisfaction survey after the agent hangs up?
    pub fn survey(&self, number: &str) -> bool {
        self.numbers.get(number).is_some_and(|n| n.survey)
    }

    /// The key a caller waiting in `number`'s queue presses for a callback.
    pub fn queue_callback_key(&self, number: &str) -> Option<char> {
        self.numbers.get(number).and_then(|n| n.queue_callback_key)
    }

    /// Why `caller` is blacklisted, if it is.
    pub fn blacklisted(&self, caller: &str) -> Option<&str> {
        self.blacklist.get(caller).map(String::as_str)
    }

    /// The queue priority of `caller` (0 unless listed).
    pub fn priority(&self, caller: &str) -> u8 {
        self.priority.get(caller).copied().unwrap_or(0)
    }

    /// The language calls start in.
    pub fn language(&self) -> &str {
        &self.language
    }
}

/// The language a language key switches to from `lang`: Mandarin ↔ English.
pub fn other_language(lang: &str) -> &'static str {
    if lang == "en" {
        "zh"
    } else {
        "en"
    }
}

/// The prompt that reads an order status (`cases::lifecycle::Status` names), or `None` for a
/// status the prompts do not know.
pub fn status_prompt(status: &str) -> Option<&'static str> {
    Some(match status {
        "received" | "registered" => "status-registered",
        "dispatched" | "accepted" => "status-dispatched",
        "returned" => "status-returned",
        // Merged into another order: that order is being handled.
        "handling" | "merged" | "parked" => "status-handling",
        "handled" | "verifying" | "verified" => "status-verifying",
        // Rejected orders are finished too.
        "closed" | "rejected" => "status-closed",
        _ => return None,
    })
}
