//! Field rejections: blank texts, out-of-range working days, a close at intake without a note,
//! a merge into a dead or the same order, a second follow-up.

use hotline::cases::calendar::WorkingCalendar;
use hotline::cases::lifecycle::{apply, Command, Context, FollowUpResult, OrderFacts, Status};
use hotline::config::Role;

use crate::support::{actor, cmd, invalid_field, now, order, s, target, World};

#[test]
fn empty_text_fields_are_invalid_and_name_the_field() {
    let w = World::new();
    let admin = actor(Role::Admin);
    for blank in ["", "   ", "\t\n"] {
        let cases = [
            (
                Status::Received,
                Command::Reject { reason: s(blank) },
                "reason",
            ),
            (
                Status::Registered,
                Command::Park { reason: s(blank) },
                "reason",
            ),
            (
                Status::Dispatched,
                Command::ReturnOrder { reason: s(blank) },
                "reason",
            ),
            (
                Status::Dispatched,
                Command::Handle { result: s(blank) },
                "result",
            ),
            (
                Status::Handled,
                Command::Rework { reason: s(blank) },
                "reason",
            ),
            (
                Status::Verified,
                Command::Extend {
                    working_days: 2,
                    reason: s(blank),
                },
                "reason",
            ),
        ];
        for (st, c, field) in cases {
            let r = w.run(&order(st), &c, &admin);
            assert_eq!(invalid_field(r.clone()), field, "{c:?}");
            assert_eq!(
                r.unwrap_err().to_string(),
                format!("{field}: must not be empty")
            );
        }
    }
    // Text is trimmed when kept.
    let ch = w
        .run(
            &order(Status::Received),
            &Command::Reject {
                reason: s("  duplicate call  "),
            },
            &admin,
        )
        .unwrap();
    assert_eq!(ch.note.as_deref(), Some("duplicate call"));
    // Optional notes that are blank are dropped.
    let ch = w
        .run(
            &order(Status::Handled),
            &Command::Verify {
                note: Some(s("  ")),
            },
            &admin,
        )
        .unwrap();
    assert_eq!(ch.note, None);
}

#[test]
fn extend_needs_between_1_and_365_working_days() {
    let w = World::new();
    let admin = actor(Role::Admin);
    let ext = |working_days| Command::Extend {
        working_days,
        reason: s("waiting for parts"),
    };
    for days in [0, 366, 1000, u32::MAX] {
        let r = w.run(&order(Status::Dispatched), &ext(days), &admin);
        assert_eq!(invalid_field(r), "working_days", "{days}");
    }
    for days in [1, 365] {
        assert!(w
            .run(&order(Status::Dispatched), &ext(days), &admin)
            .is_ok());
    }
}

#[test]
fn close_at_intake_needs_a_note_but_after_verification_does_not() {
    let w = World::new();
    let admin = actor(Role::Admin);
    for note in [None, Some(s("")), Some(s("  "))] {
        let r = w.run(
            &order(Status::Registered),
            &Command::Close { note: note.clone() },
            &admin,
        );
        assert_eq!(invalid_field(r), "note", "{note:?}");
        let ch = w
            .run(&order(Status::Verified), &Command::Close { note }, &admin)
            .unwrap();
        assert_eq!(ch.to, Some(Status::Closed));
        assert!(!ch.resolved_at_intake);
        assert_eq!(ch.note, None);
    }
}

#[test]
fn merge_needs_a_live_other_target() {
    let cal = WorkingCalendar::china_default();
    let admin = actor(Role::Admin);
    let o = order(Status::Registered);
    let merge = cmd("merge");
    let with = |t: Option<&OrderFacts>| {
        apply(
            &o,
            &merge,
            &admin,
            &Context {
                merge_target: t,
                ..Context::new(now(), &cal)
            },
        )
    };
    // No target.
    assert_eq!(invalid_field(with(None)), "into");
    // Itself.
    let me = order(Status::Registered);
    assert_eq!(invalid_field(with(Some(&me))), "into");
    // A merged or rejected target.
    for st in [Status::Merged, Status::Rejected] {
        let t = target(7, st);
        let r = with(Some(&t));
        assert_eq!(invalid_field(r.clone()), "into", "{st}");
        assert!(r.unwrap_err().to_string().contains(st.as_str()));
    }
    // Any other target is fine (a closed order collects later duplicates too).
    for st in [
        Status::Received,
        Status::Registered,
        Status::Dispatched,
        Status::Returned,
        Status::Handled,
        Status::Verified,
        Status::Closed,
    ] {
        let t = target(7, st);
        assert_eq!(with(Some(&t)).unwrap().merged_into, Some(7), "{st}");
    }
}

#[test]
fn follow_up_is_recorded_once_unless_the_citizen_was_unreachable() {
    let w = World::new();
    let admin = actor(Role::Admin);
    let results = [
        FollowUpResult::Satisfied,
        FollowUpResult::BasicallySatisfied,
        FollowUpResult::Dissatisfied,
        FollowUpResult::Unreachable,
    ];
    for first in results {
        let mut o = order(Status::Closed);
        let ch = w
            .run(
                &o,
                &Command::FollowUp {
                    result: first,
                    note: Some(s("called")),
                },
                &admin,
            )
            .unwrap();
        assert_eq!(ch.to, None);
        assert_eq!(ch.follow_up_result, Some(first));
        assert_eq!(ch.data, serde_json::json!({ "result": first.as_str() }));
        o.follow_up_result = ch.follow_up_result;
        for second in results {
            let r = w.run(
                &o,
                &Command::FollowUp {
                    result: second,
                    note: None,
                },
                &admin,
            );
            if first == FollowUpResult::Unreachable {
                assert_eq!(r.unwrap().follow_up_result, Some(second));
            } else {
                let r2 = r.clone();
                assert_eq!(invalid_field(r), "result", "{first:?} then {second:?}");
                assert!(r2.unwrap_err().to_string().contains(first.as_str()));
            }
        }
    }
}
