//! Every path of the flow and the survey on a fake clock, against the shipped configuration
//! (with edits) and its calendar.

use super::*;
use crate::config::{load, BlacklistEntry, PriorityEntry};
use crate::media::prompt::{Item, Player, PromptLibrary};
use chrono::TimeZone;
use std::path::Path;
use std::time::{Duration, Instant};

fn shipped() -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    load(&root.join("sip-config/hotline.toml"))
        .expect("the shipped configuration loads")
        .config
}

fn rules_with(edit: impl FnOnce(&mut Config)) -> FlowRules {
    let mut cfg = shipped();
    edit(&mut cfg);
    FlowRules::from_config(&cfg)
}

/// Wall-clock time in the city (+08:00).
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A Wednesday morning: working time.
fn workday() -> DateTime<Utc> {
    local(2026, 11, 25, 10, 0)
}

/// Drives one flow on a fake clock and keeps what it did.
struct Call {
    flow: Flow,
    now: Instant,
    /// Token of the latest Play.
    token: u64,
    done: Vec<FlowEnd>,
}

/// One Play seen: its language, prompt names (digits as "#123"), barge-in.
#[derive(Debug, Clone, PartialEq)]
struct Heard {
    language: String,
    items: Vec<String>,
    barge_in: bool,
}

impl Call {
    fn start(
        rules: &FlowRules,
        number: &str,
        caller: &str,
        at: DateTime<Utc>,
    ) -> (Call, Vec<FlowAction>) {
        let now = Instant::now();
        let mut call = Call {
            flow: rules.start(number, caller, at, now),
            now,
            token: 0,
            done: vec![],
        };
        let actions = call.drain();
        (call, actions)
    }

    fn drain(&mut self) -> Vec<FlowAction> {
        let mut out = vec![];
        while let Some(a) = self.flow.poll_action() {
            assert!(self.done.is_empty(), "{a:?} after Finish");
            match &a {
                FlowAction::Play { token, .. } => {
                    assert!(*token > self.token, "tokens grow");
                    self.token = *token;
                }
                FlowAction::Finish(end) => self.done.push(end.clone()),
                _ => {}
            }
            out.push(a);
        }
        out
    }

    fn send(&mut self, ev: FlowEvent) -> Vec<FlowAction> {
        self.flow.handle(ev, self.now);
        self.drain()
    }

    fn digit(&mut self, d: char) -> Vec<FlowAction> {
        self.send(FlowEvent::Digit(d))
    }

    fn played(&mut self) -> Vec<FlowAction> {
        let token = self.token;
        self.send(FlowEvent::PlayDone { token })
    }

    /// Moves the clock by `secs` and fires the timer if it is due.
    fn wait(&mut self, secs: u64) -> Vec<FlowAction> {
        self.now += Duration::from_secs(secs);
        if self.flow.poll_timeout().is_some_and(|t| t <= self.now) {
            self.flow.handle_timeout(self.now);
        }
        self.drain()
    }

    fn end(&self) -> &FlowEnd {
        assert_eq!(self.done.len(), 1, "one end: {:?}", self.done);
        &self.done[0]
    }
}

fn heard(actions: &[FlowAction]) -> Vec<Heard> {
    actions
        .iter()
        .filter_map(|a| match a {
            FlowAction::Play {
                language, playlist, ..
            } => Some(Heard {
                language: language.clone(),
                items: playlist
                    .items
                    .iter()
                    .map(|i| match i {
                        Item::Prompt(p) => p.clone(),
                        Item::Digits(d) => format!("#{d}"),
                        other => format!("{other:?}"),
                    })
                    .collect(),
                barge_in: playlist.barge_in,
            }),
            _ => None,
        })
        .collect()
}

fn names(actions: &[FlowAction]) -> Vec<String> {
    heard(actions).into_iter().flat_map(|h| h.items).collect()
}

fn queue(priority: u8) -> FlowEnd {
    FlowEnd::Queue {
        queue: "12345".into(),
        priority,
    }
}

// ----- greeting ---------------------------------------------------------------------------

#[test]
fn pressing_nothing_goes_to_the_queue_after_the_greeting() {
    let rules = rules_with(|_| {});
    let (mut c, first) = Call::start(&rules, "12345", "13811112222", workday());
    let h = heard(&first);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].items, ["greeting-12345", "recording-notice"]);
    assert_eq!(h[0].language, "zh");
    assert!(h[0].barge_in, "keys are offered, so a key barges in");
    assert_eq!(c.flow.stage(), FlowStage::Greeting);
    // The language offer is spoken in English, with its key read out.
    let h = heard(&c.played());
    assert_eq!(h[0].items, ["language-menu", "#9"]);
    assert_eq!(h[0].language, "en");
    let h = heard(&c.played());
    assert_eq!(h[0].items, ["self-service-menu"]);
    assert_eq!(h[0].language, "zh");
    c.played();
    assert_eq!(c.end(), &queue(0));
    assert_eq!(c.flow.stage(), FlowStage::Done);
    assert_eq!(c.flow.poll_timeout(), None);
}

#[test]
fn plain_number_plays_greeting_and_notice_and_ignores_keys() {
    let rules = rules_with(|_| {});
    let (mut c, first) = Call::start(&rules, "12319", "13811112222", workday());
    let h = heard(&first);
    assert_eq!(h[0].items, ["greeting-12319", "recording-notice"]);
    assert!(!h[0].barge_in, "nothing is offered");
    assert!(c.digit('1').is_empty(), "a key answers nothing");
    c.played();
    assert_eq!(
        c.end(),
        &FlowEnd::Queue {
            queue: "12319".into(),
            priority: 0
        }
    );
}

#[test]
fn greeting_and_notice_follow_config() {
    let rules = rules_with(|cfg| {
        cfg.numbers[1].greeting = Some("greeting-12345".into());
        cfg.numbers[1].recording_notice = false;
    });
    let (_, first) = Call::start(&rules, "12319", "1", workday());
    assert_eq!(names(&first), ["greeting-12345"]);
}

#[test]
fn language_key_switches_to_english_and_replays_the_menu() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "13811112222", workday());
    c.played(); // greeting + notice
    let after = c.digit('9');
    assert_eq!(after[0], FlowAction::StopPlaying);
    assert_eq!(after[1], FlowAction::SetLanguage("en".into()));
    assert_eq!(c.flow.language(), "en");
    let h = heard(&after);
    assert_eq!(h[0].items, ["greeting-12345", "recording-notice"]);
    assert_eq!(h[0].language, "en");
    // No language offer any more; the menu in English.
    let h = heard(&c.played());
    assert_eq!(h[0].items, ["self-service-menu"]);
    assert_eq!(h[0].language, "en");
    // The self-service keys still work, in English.
    let h = heard(&c.digit('1'));
    assert_eq!(h[0].items, ["enter-order-number"]);
    assert_eq!(h[0].language, "en");
}

#[test]
fn english_default_offers_mandarin() {
    let rules = rules_with(|cfg| cfg.media.language = "en".into());
    let (mut c, first) = Call::start(&rules, "12345", "1", workday());
    assert_eq!(heard(&first)[0].language, "en");
    let h = heard(&c.played());
    assert_eq!(
        (h[0].language.as_str(), h[0].items[0].as_str()),
        ("zh", "language-menu")
    );
    let a = c.digit('9');
    assert!(a.contains(&FlowAction::SetLanguage("zh".into())));
}

#[test]
fn other_key_hears_invalid_input_then_queues() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "13811112222", workday());
    let a = c.digit('7');
    assert_eq!(a[0], FlowAction::StopPlaying);
    let h = heard(&a);
    assert_eq!(h[0].items, ["invalid-input"]);
    assert!(!h[0].barge_in);
    assert!(c.digit('1').is_empty(), "no menu while the error plays");
    // The key cut the recording notice off: it is played before the queue.
    let h = heard(&c.played());
    assert_eq!(h[0].items, ["recording-notice"]);
    assert!(!h[0].barge_in);
    assert!(c.done.is_empty());
    c.played();
    assert_eq!(c.end(), &queue(0));
}

#[test]
fn notice_heard_once_is_not_repeated() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    c.played(); // greeting + notice heard to the end
    let h = heard(&c.digit('6'));
    assert_eq!(h[0].items, ["invalid-input"]);
    c.played();
    assert_eq!(c.end(), &queue(0));
    // Without a recording notice configured, none is added.
    let rules = rules_with(|cfg| cfg.numbers[0].recording_notice = false);
    let (mut c, first) = Call::start(&rules, "12345", "1", workday());
    assert_eq!(names(&first), ["greeting-12345"]);
    c.digit('6');
    c.played();
    assert_eq!(c.end(), &queue(0));
}

#[test]
fn stale_play_done_is_ignored() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "13811112222", workday());
    let old = c.token;
    c.digit('1'); // barge in: order status
    let newer = c.token;
    assert!(newer > old);
    assert!(c.send(FlowEvent::PlayDone { token: old }).is_empty());
    assert!(c.send(FlowEvent::PlayDone { token: newer + 5 }).is_empty());
    assert_eq!(c.flow.stage(), FlowStage::SelfService);
    // A lookup answer nobody asked for is ignored too.
    assert!(c.send(FlowEvent::OrderStatus(None)).is_empty());
}

#[test]
fn lost_play_done_does_not_hold_the_caller() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12319", "1", workday());
    assert!(c.wait(PLAY_GUARD.as_secs() - 1).is_empty());
    c.wait(1);
    assert!(matches!(c.end(), FlowEnd::Queue { .. }));
}

// ----- order status -------------------------------------------------------------------------

fn order_status_call() -> Call {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "13811112222", workday());
    c.played(); // greeting and notice heard; the key comes during the language offer
    let h = heard(&c.digit('1'));
    assert_eq!(h[0].items, ["enter-order-number"]);
    assert!(h[0].barge_in);
    assert_eq!(c.flow.stage(), FlowStage::SelfService);
    c
}

#[test]
fn order_status_read_back_then_queue() {
    let mut c = order_status_call();
    c.played();
    let mut looked = vec![];
    for d in "2026112700001".chars() {
        looked = c.digit(d);
    }
    // 13 digits end the entry without '#'.
    assert_eq!(looked, [FlowAction::LookupOrder("2026112700001".into())]);
    let info = OrderStatusInfo {
        number: "2026112700001".into(),
        status: "dispatched".into(),
    };
    let h = heard(&c.send(FlowEvent::OrderStatus(Some(info))));
    assert_eq!(
        h[0].items,
        ["order-status", "#2026112700001", "status-dispatched"]
    );
    assert!(!h[0].barge_in);
    c.played();
    assert_eq!(c.end(), &queue(0));
}

#[test]
fn order_number_ends_with_hash_and_digits_barge_in() {
    let mut c = order_status_call();
    // Typed while the prompt still plays.
    assert_eq!(c.digit('4'), [FlowAction::StopPlaying]);
    c.digit('2');
    assert_eq!(c.digit('#'), [FlowAction::LookupOrder("42".into())]);
    let h = heard(&c.send(FlowEvent::OrderStatus(None)));
    assert_eq!(h[0].items, ["order-not-found"]);
    c.played();
    assert_eq!(c.end(), &queue(0));
}

#[test]
fn order_number_inter_digit_and_first_digit_timeouts() {
    let mut c = order_status_call();
    c.played();
    c.digit('5');
    assert!(c.wait(7).is_empty());
    assert_eq!(c.wait(1), [FlowAction::LookupOrder("5".into())]);
    // No answer from the case store: the caller is not held.
    c.wait(LOOKUP_TIMEOUT.as_secs());
    assert_eq!(c.end(), &queue(0));

    let mut c = order_status_call();
    c.played();
    assert!(c.wait(14).is_empty(), "15 s for the first digit");
    let h = heard(&c.wait(1));
    assert_eq!(h[0].items, ["invalid-input", "enter-order-number"]);
    c.played();
    c.wait(15);
    assert_eq!(c.end(), &queue(0), "after the second empty entry");
}

#[test]
fn empty_order_number_gets_one_more_try() {
    let mut c = order_status_call();
    c.played();
    let h = heard(&c.digit('#'));
    assert_eq!(h[0].items, ["invalid-input", "enter-order-number"]);
    c.digit('7');
    assert_eq!(c.digit('#'), [FlowAction::LookupOrder("7".into())]);
}

#[test]
fn unknown_status_reads_as_not_found() {
    assert_eq!(status_prompt("handled"), Some("status-verifying"));
    assert_eq!(status_prompt("no-such"), None);
    let mut c = order_status_call();
    c.digit('1');
    c.digit('#');
    let info = OrderStatusInfo {
        number: "1".into(),
        status: "no-such".into(),
    };
    let h = heard(&c.send(FlowEvent::OrderStatus(Some(info))));
    assert_eq!(h[0].items, ["order-not-found"]);
}

// ----- voicemail and callback ---------------------------------------------------------------

#[test]
fn voicemail_ends_with_hash() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "13811112222", workday());
    let h = heard(&c.digit('2'));
    assert_eq!(h[0].items, ["leave-message", "beep"]);
    assert!(c.digit('#').is_empty(), "not recording yet");
    assert_eq!(c.played(), [FlowAction::RecordMessage { max_secs: 120 }]);
    assert_eq!(c.flow.stage(), FlowStage::Voicemail);
    c.wait(42);
    let h = heard(&c.digit('#'));
    assert_eq!(h[0].items, ["message-saved", "goodbye"]);
    c.played();
    assert_eq!(c.end(), &FlowEnd::Voicemail { message_secs: 42 });
}

#[test]
fn voicemail_stops_at_the_maximum() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    c.digit('2');
    c.played();
    assert!(c.wait(119).is_empty());
    assert_eq!(heard(&c.wait(1))[0].items, ["message-saved", "goodbye"]);
    c.played();
    assert_eq!(c.end(), &FlowEnd::Voicemail { message_secs: 120 });
}

#[test]
fn hang_up_while_recording_keeps_the_message() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    c.digit('2');
    c.played();
    c.wait(30);
    c.send(FlowEvent::HangUp);
    assert_eq!(c.end(), &FlowEnd::Voicemail { message_secs: 30 });
}

#[test]
fn callback_request() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    let h = heard(&c.digit('3'));
    assert_eq!(h[0].items, ["callback-confirmed", "goodbye"]);
    // Hanging up during the confirmation keeps the request.
    c.send(FlowEvent::HangUp);
    assert_eq!(c.end(), &FlowEnd::CallbackRequested);

    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    c.digit('3');
    c.played();
    assert_eq!(c.end(), &FlowEnd::CallbackRequested);
}

#[test]
fn hang_up_in_greeting_and_in_self_service() {
    let rules = rules_with(|_| {});
    let (mut c, _) = Call::start(&rules, "12345", "1", workday());
    c.send(FlowEvent::HangUp);
    assert_eq!(
        c.end(),
        &FlowEnd::Hangup {
            during: FlowStage::Greeting
        }
    );
    let mut c = order_status_call();
    c.send(FlowEvent::HangUp);
    assert_eq!(
        c.end(),
        &FlowEnd::Hangup {
            during: FlowStage::SelfService
        }
    );
    // Nothing after the end.
    assert!(c.digit('1').is_empty());
    assert!(c.wait(1000).is_empty());
}

// ----- refusals, hours, priority -----------------------------------------------------------

#[test]
fn blacklisted_caller_is_refused() {
    let rules = rules_with(|_| {});
    assert!(rules.blacklisted("13900000666").is_some());
    let (mut c, first) = Call::start(&rules, "12345", "13900000666", workday());
    let h = heard(&first);
    assert_eq!(h[0].items, ["blacklisted", "goodbye"]);
    assert!(!h[0].barge_in);
    assert!(c.digit('1').is_empty());
    c.played();
    assert_eq!(
        c.end(),
        &FlowEnd::Rejected {
            reason: RejectReason::Blacklist
        }
    );
    // Hanging up early is still a refusal.
    let (mut c, _) = Call::start(&rules, "12345", "13900000666", workday());
    c.send(FlowEvent::HangUp);
    assert_eq!(
        c.end(),
        &FlowEnd::Rejected {
            reason: RejectReason::Blacklist
        }
    );
}

fn working_hours(closed: &str) -> FlowRules {
    let closed = closed.to_string();
    rules_with(move |cfg| {
        cfg.numbers[1].hours = "working-hours".into();
        cfg.numbers[1].closed = closed;
    })
}

#[test]
fn closed_hours_across_a_holiday() {
    let rules = working_hours("reject");
    // 2026-10-01 (Thursday) is a National Day holiday in the shipped calendar.
    let (mut c, first) = Call::start(&rules, "12319", "1", local(2026, 10, 1, 10, 0));
    assert_eq!(names(&first), ["closed-hours", "goodbye"]);
    c.played();
    assert_eq!(
        c.end(),
        &FlowEnd::Rejected {
            reason: RejectReason::Closed
        }
    );
    // 2026-10-10 (Saturday) is a make-up working day: open at 10:00, closed at 12:30.
    let (_, first) = Call::start(&rules, "12319", "1", local(2026, 10, 10, 10, 0));
    assert_eq!(names(&first)[0], "greeting-12319");
    let (_, first) = Call::start(&rules, "12319", "1", local(2026, 10, 10, 12, 30));
    assert_eq!(names(&first)[0], "closed-hours");
    // The 24x7 number is open on the holiday.
    let (_, first) = Call::start(&rules, "12345", "1", local(2026, 10, 1, 3, 0));
    assert_eq!(names(&first)[0], "greeting-12345");
}

#[test]
fn closed_hours_voicemail() {
    let rules = working_hours("voicemail");
    let (mut c, first) = Call::start(&rules, "12319", "1", local(2026, 10, 1, 22, 0));
    assert_eq!(names(&first), ["closed-hours", "leave-message", "beep"]);
    assert_eq!(c.flow.stage(), FlowStage::Greeting);
    assert_eq!(c.played(), [FlowAction::RecordMessage { max_secs: 120 }]);
    c.wait(10);
    c.digit('#');
    c.played();
    assert_eq!(c.end(), &FlowEnd::Voicemail { message_secs: 10 });
    // Hanging up before the tone: a closed-hours refusal.
    let (mut c, _) = Call::start(&rules, "12319", "1", local(2026, 10, 1, 22, 0));
    c.send(FlowEvent::HangUp);
    assert_eq!(
        c.end(),
        &FlowEnd::Rejected {
            reason: RejectReason::Closed
        }
    );
}

#[test]
fn priority_from_config() {
    let rules = rules_with(|cfg| {
        cfg.callers.priority.push(PriorityEntry {
            number: "13700000009".into(),
            priority: 9,
        });
        cfg.callers.blacklist.push(BlacklistEntry {
            number: "13700000010".into(),
            reason: "test".into(),
        });
    });
    assert_eq!(rules.priority("13800000001"), 5, "the shipped demo entry");
    let (mut c, _) = Call::start(&rules, "12345", "13700000009", workday());
    assert_eq!(c.flow.priority(), 9);
    c.digit('5'); // invalid → (notice) → queue
    c.played();
    c.played();
    assert_eq!(c.end(), &queue(9));
    let (c, _) = Call::start(&rules, "12345", "13700000010", workday());
    assert_eq!(c.flow.stage(), FlowStage::Greeting);
}

#[test]
fn unknown_number_is_refused_at_once() {
    let rules = rules_with(|_| {});
    let (c, first) = Call::start(&rules, "99999", "1", workday());
    assert_eq!(
        first,
        [FlowAction::Finish(FlowEnd::Rejected {
            reason: RejectReason::UnknownNumber
        })]
    );
    assert_eq!(c.flow.stage(), FlowStage::Done);
}

#[test]
fn number_settings_for_the_call_layer() {
    let rules = rules_with(|_| {});
    assert!(rules.survey("12345"));
    assert!(!rules.survey("12319"));
    assert_eq!(rules.queue_callback_key("12345"), Some('3'));
    assert_eq!(rules.queue_callback_key("12319"), None);
    assert_eq!(rules.language(), "zh");
}

// ----- prompts exist ------------------------------------------------------------------------

/// Every playlist of every path resolves against the shipped prompts, in the language it is
/// played in (after a switch to English too).
#[test]
fn every_prompt_played_exists() {
    let lib = PromptLibrary::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts"))
        .expect("shipped prompts load");
    let check = |actions: &[FlowAction]| {
        for a in actions {
            if let FlowAction::Play {
                language, playlist, ..
            } = a
            {
                if let Err(e) = Player::new(&lib, language, playlist) {
                    panic!("{e}");
                }
            }
        }
    };
    let closed = working_hours("voicemail");
    let rules = rules_with(|_| {});
    let scripts: &[(&FlowRules, &str, &str, &[char])] = &[
        (&rules, "12345", "1", &['9', '1', '3', '#']),
        (&rules, "12345", "1", &['9', '2', '#']),
        (&rules, "12345", "1", &['9', '3']),
        (&rules, "12345", "1", &['9', '8']),
        (&rules, "12345", "1", &['1', '#', '#']),
        (&rules, "12345", "13900000666", &[]),
        (&closed, "12319", "1", &['#']),
    ];
    for (rules, number, caller, keys) in scripts {
        let (mut c, first) = Call::start(rules, number, caller, local(2026, 10, 1, 22, 0));
        check(&first);
        for k in keys.iter() {
            check(&c.played());
            check(&c.digit(*k));
            let info = OrderStatusInfo {
                number: "2026112700001".into(),
                status: "closed".into(),
            };
            check(&c.send(FlowEvent::OrderStatus(Some(info))));
        }
        for _ in 0..5 {
            check(&c.played());
            check(&c.wait(20));
        }
        assert_eq!(c.done.len(), 1, "{number} {keys:?}");
    }
    let mut s = Survey::new("en", Instant::now());
    while let Some(a) = s.poll_action() {
        if let SurveyAction::Play {
            language, playlist, ..
        } = a
        {
            Player::new(&lib, &language, &playlist).unwrap();
        }
    }
}

// ----- survey -------------------------------------------------------------------------------

fn survey_plays(s: &mut Survey) -> (Vec<SurveyAction>, u64) {
    let mut out = vec![];
    let mut token = 0;
    while let Some(a) = s.poll_action() {
        if let SurveyAction::Play { token: t, .. } = &a {
            token = *t;
        }
        out.push(a);
    }
    (out, token)
}

fn done_of(actions: &[SurveyAction]) -> Option<Option<u8>> {
    actions.iter().find_map(|a| match a {
        SurveyAction::Done(x) => Some(*x),
        _ => None,
    })
}

#[test]
fn survey_answer() {
    let now = Instant::now();
    let mut s = Survey::new("zh", now);
    let (a, t1) = survey_plays(&mut s);
    assert!(
        matches!(&a[0], SurveyAction::Play { playlist, .. } if playlist.barge_in && playlist.items == [Item::Prompt("survey".into())])
    );
    s.digit('2', now);
    let (a, t2) = survey_plays(&mut s);
    assert_eq!(a[0], SurveyAction::StopPlaying);
    assert!(
        matches!(&a[1], SurveyAction::Play { playlist, .. } if playlist.items == [Item::Prompt("survey-thanks".into())])
    );
    s.play_done(t1, now); // stale
    assert!(!s.is_done());
    s.digit('1', now); // ignored while thanking
    s.play_done(t2, now);
    let (a, _) = survey_plays(&mut s);
    assert_eq!(a, [SurveyAction::Done(Some(2))]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn survey_retry_then_timeout_and_invalid_twice() {
    let mut now = Instant::now();
    let mut s = Survey::new("zh", now);
    let (_, t) = survey_plays(&mut s);
    s.play_done(t, now);
    s.digit('7', now);
    let (a, t) = survey_plays(&mut s);
    assert!(
        matches!(&a[0], SurveyAction::Play { playlist, .. } if playlist.items[0] == Item::Prompt("invalid-input".into()))
    );
    s.play_done(t, now);
    now += Duration::from_secs(9);
    s.handle_timeout(now);
    assert!(!s.is_done());
    now += Duration::from_secs(1);
    s.handle_timeout(now);
    let (a, _) = survey_plays(&mut s);
    assert_eq!(done_of(&a), Some(None));

    let mut s = Survey::new("zh", now);
    s.digit('0', now);
    s.digit('#', now);
    let (a, _) = survey_plays(&mut s);
    assert_eq!(done_of(&a), Some(None));
    assert_eq!(
        a.iter()
            .filter(|a| matches!(a, SurveyAction::Done(_)))
            .count(),
        1
    );
}

#[test]
fn survey_hang_up_keeps_a_given_answer() {
    let now = Instant::now();
    let mut s = Survey::new("zh", now);
    s.digit('3', now);
    s.hang_up();
    let (a, _) = survey_plays(&mut s);
    assert_eq!(done_of(&a), Some(Some(3)));
    s.hang_up();
    assert!(s.poll_action().is_none());

    let mut s = Survey::new("zh", now);
    s.hang_up();
    let (a, _) = survey_plays(&mut s);
    assert_eq!(done_of(&a), Some(None));
}
