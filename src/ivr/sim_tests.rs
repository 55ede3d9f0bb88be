//! Randomized flows (seeded RNG): 10,000 calls with random keys, stale and current PlayDone
//! events, lookup answers, timeouts and hang-ups at any point. Checks after every step that a
//! flow never acts after its Finish, that tokens grow, that the timer is set while the flow
//! runs, and that every flow driven to completion ends in exactly one FlowEnd that fits how it
//! was met (blacklisted callers are refused, closed calls never reach a queue).

use super::*;
use crate::config::{load, BlacklistEntry};
use chrono::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

const FLOWS: usize = 10_000;
const KEYS: [char; 12] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

fn rules() -> FlowRules {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = load(&root.join("sip-config/hotline.toml")).unwrap().config;
    cfg.numbers[1].hours = "working-hours".into();
    cfg.numbers[1].closed = "voicemail".into();
    cfg.callers.blacklist.push(BlacklistEntry {
        number: "100".into(),
        reason: "sim".into(),
    });
    FlowRules::from_config(&cfg)
}

#[test]
fn random_flows_end_once_and_stay_silent_after() {
    let rules = rules();
    let mut rng = StdRng::seed_from_u64(0x1234_5678);
    let tz = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let mut ends: std::collections::BTreeMap<String, usize> = Default::default();
    let mut completed = 0;
    for _ in 0..FLOWS {
        let number = ["12345", "12319", "99999"][rng.gen_range(0..3)];
        let caller = ["100", "13800000001", "13811112222"][rng.gen_range(0..3)];
        let at = tz
            .with_ymd_and_hms(2026, 10, rng.gen_range(1..=12), rng.gen_range(0..24), 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let mut now = Instant::now();
        let mut flow = rules.start(number, caller, at, now);
        let open = number != "12319" || rules.calendar.is_working_time(at);
        // Hang up at a random step, or never (driven to completion by timeouts then).
        let hang_up_at = rng.gen_bool(0.3).then(|| rng.gen_range(0..12));
        let mut token = 0u64;
        let mut finished: Vec<FlowEnd> = vec![];
        let mut recording = false;
        for step in 0..200 {
            // Drain and check.
            while let Some(a) = flow.poll_action() {
                assert!(finished.is_empty(), "{a:?} after {finished:?}");
                match a {
                    FlowAction::Play { token: t, .. } => {
                        assert!(t > token);
                        token = t;
                    }
                    FlowAction::RecordMessage { max_secs } => {
                        assert_eq!(max_secs, MESSAGE_MAX_SECS);
                        recording = true;
                    }
                    FlowAction::Finish(end) => finished.push(end),
                    _ => {}
                }
            }
            if !finished.is_empty() {
                assert_eq!(flow.stage(), FlowStage::Done);
                assert_eq!(flow.poll_timeout(), None);
                break;
            }
            assert!(
                flow.poll_timeout().is_some(),
                "a running flow always waits on a timer"
            );
            if hang_up_at == Some(step) {
                flow.handle(FlowEvent::HangUp, now);
                continue;
            }
            match rng.gen_range(0..10) {
                0..=2 => flow.handle(FlowEvent::Digit(KEYS[rng.gen_range(0..KEYS.len())]), now),
                3..=4 => flow.handle(FlowEvent::PlayDone { token }, now),
                5 => {
                    let stale = rng.gen_range(0..token.max(1));
                    flow.handle(FlowEvent::PlayDone { token: stale }, now);
                }
                6 => {
                    let info = rng.gen_bool(0.6).then(|| OrderStatusInfo {
                        number: "2026100100001".into(),
                        status: ["registered", "closed", "weird", "merged"][rng.gen_range(0..4)]
                            .into(),
                    });
                    flow.handle(FlowEvent::OrderStatus(info), now);
                }
                _ => {
                    if let Some(t) = flow.poll_timeout() {
                        now = t.max(now) + Duration::from_millis(rng.gen_range(0..3));
                        flow.handle_timeout(now);
                    }
                }
            }
        }
        assert_eq!(finished.len(), 1, "every flow is driven to its end");
        let end = &finished[0];
        // After the end, nothing.
        flow.handle(FlowEvent::Digit('1'), now);
        flow.handle(FlowEvent::HangUp, now);
        flow.handle_timeout(now + Duration::from_secs(3600));
        assert_eq!(flow.poll_action(), None);
        completed += 1;
        match end {
            FlowEnd::Rejected {
                reason: RejectReason::UnknownNumber,
            } => assert_eq!(number, "99999"),
            _ if number == "99999" => panic!("{end:?} for an unknown number"),
            FlowEnd::Rejected {
                reason: RejectReason::Blacklist,
            } => assert_eq!(caller, "100"),
            _ if caller == "100" => panic!("{end:?} for a blacklisted caller"),
            FlowEnd::Queue { queue, priority } => {
                assert!(open, "a closed number never queues");
                assert_eq!(queue, number);
                assert_eq!(*priority, rules.priority(caller));
            }
            FlowEnd::Voicemail { message_secs } => {
                assert!(recording);
                assert!(*message_secs <= MESSAGE_MAX_SECS);
            }
            FlowEnd::CallbackRequested => assert_eq!(number, "12345"),
            FlowEnd::Rejected {
                reason: RejectReason::Closed,
            } => assert!(!open),
            FlowEnd::Hangup { during } => {
                assert!(hang_up_at.is_some());
                assert_ne!(*during, FlowStage::Done);
            }
        }
        let kind = format!("{end:?}");
        let kind = kind
            .split([' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string();
        *ends.entry(kind).or_default() += 1;
    }
    assert_eq!(completed, FLOWS);
    // The run reached every kind of end.
    for kind in [
        "Queue",
        "Voicemail",
        "CallbackRequested",
        "Rejected",
        "Hangup",
    ] {
        assert!(ends.get(kind).copied().unwrap_or(0) > 0, "{kind}: {ends:?}");
    }
}
