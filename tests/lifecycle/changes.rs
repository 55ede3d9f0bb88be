//! The `Change` each successful action produces, field by field, and commands as the API
//! body spells them.

use hotline::cases::lifecycle::{Change, Command, Status};
use hotline::config::Role;

use crate::support::{actor, cmd, now, order, s, utc, World};

#[test]
fn register_sets_category_and_nothing_else() {
    let w = World::new();
    let ch = w.act(Status::Received, "register", Role::Agent).unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Registered),
            category_id: Some(s("E0101")),
            note: Some(s("registered")),
            registered_at: Some(now()),
            data: serde_json::json!({ "category_id": "E0101", "criteria_met": true }),
            ..Change::default()
        }
    );
    let ch = w
        .run(
            &order(Status::Received),
            &Command::Register {
                category_id: Some(s(" ")),
                note: None,
                criteria_met: None,
            },
            &actor(Role::Agent),
        )
        .unwrap();
    assert_eq!(ch.category_id, None);
    assert_eq!(
        ch.data,
        serde_json::json!({ "category_id": "E0402", "criteria_met": null })
    );
}

#[test]
fn dispatch_sets_department_and_records_the_previous_one() {
    let w = World::new();
    let agent = actor(Role::Agent);
    let mut o = order(Status::Registered);
    o.department_id = None;
    let ch = w.run(&o, &cmd("dispatch"), &agent).unwrap();
    assert_eq!(ch.to, Some(Status::Dispatched));
    assert_eq!(ch.department_id.as_deref(), Some("roads"));
    assert_eq!(ch.note.as_deref(), Some("please fix"));
    assert_eq!(ch.closed_at, None);
    assert_eq!(
        ch.data,
        serde_json::json!({
            "department": "roads",
            "previous_department": null,
            "redispatch": false,
            "deadline": "2026-03-06T09:30:00Z",
        })
    );
    // 改派 after a return.
    let o = order(Status::Returned);
    let ch = w
        .run(
            &o,
            &Command::Dispatch {
                department: Some(s("  housing ")),
                note: None,
            },
            &agent,
        )
        .unwrap();
    assert_eq!(ch.department_id.as_deref(), Some("housing"));
    assert_eq!(
        ch.data,
        serde_json::json!({
            "department": "housing",
            "previous_department": "sanitation",
            "redispatch": true,
            "deadline": "2026-03-06T09:30:00Z",
            "paused_working_minutes": 0,
        })
    );
}

#[test]
fn terminal_actions_set_closed_at_now() {
    let w = World::new();
    for (st, action, to) in [
        (Status::Received, "reject", Status::Rejected),
        (Status::Registered, "close", Status::Closed),
        (Status::Verified, "close", Status::Closed),
        (Status::Received, "merge", Status::Merged),
        (Status::Registered, "merge", Status::Merged),
        (Status::Dispatched, "merge", Status::Merged),
        (Status::Returned, "merge", Status::Merged),
    ] {
        let ch = w.act(st, action, Role::Admin).unwrap();
        assert_eq!(ch.to, Some(to));
        assert_eq!(ch.closed_at, Some(now()), "{action} from {st}");
    }
    // Nothing else closes an order.
    for (st, action) in [
        (Status::Received, "register"),
        (Status::Registered, "dispatch"),
        (Status::Dispatched, "return_order"),
        (Status::Dispatched, "handle"),
        (Status::Handled, "rework"),
        (Status::Handled, "verify"),
        (Status::Dispatched, "extend"),
        (Status::Closed, "follow_up"),
    ] {
        let ch = w.act(st, action, Role::Admin).unwrap();
        assert_eq!(ch.closed_at, None, "{action} from {st}");
        assert!(!ch.resolved_at_intake);
        assert_eq!(ch.merged_into, None);
    }
}

#[test]
fn close_from_registered_is_resolved_at_intake() {
    let w = World::new();
    let ch = w.act(Status::Registered, "close", Role::Agent).unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Closed),
            closed_at: Some(now()),
            resolved_at_intake: true,
            note: Some(s("answered the citizen")),
            data: serde_json::json!({
                "department": "sanitation",
                "deadline": "2026-03-06T09:30:00Z",
                "on_time": false,
            }),
            notifications: vec![hotline::cases::store::NewNotification {
                kind: "closed",
                recipient: s("reporter:test-inspector"),
                work_order_id: Some(1),
                payload: serde_json::json!({
                    "order_id": 1,
                    "status": "closed",
                    "deadline": "2026-03-06T09:30:00Z",
                    "department": "sanitation",
                }),
            }],
            ..Change::default()
        }
    );
    let ch = w.act(Status::Verified, "close", Role::Agent).unwrap();
    assert!(!ch.resolved_at_intake);
}

#[test]
fn rework_goes_back_to_dispatched_keeping_the_department() {
    let w = World::new();
    let ch = w.act(Status::Handled, "rework", Role::Supervisor).unwrap();
    assert_eq!(ch.to, Some(Status::Dispatched));
    assert_eq!(ch.department_id, None, "the department stays as it is");
    assert_eq!(ch.note.as_deref(), Some("still broken"));
}

#[test]
fn extend_moves_the_deadline_by_working_days() {
    let w = World::new();
    let sup = actor(Role::Supervisor);
    let ext = |working_days| Command::Extend {
        working_days,
        reason: s("waiting for parts"),
    };
    // Friday 2026-03-06 17:30 +08:00 + 3 working days → Wednesday 2026-03-11 17:30 +08:00.
    let o = order(Status::Dispatched);
    let ch = w.run(&o, &ext(3), &sup).unwrap();
    assert_eq!(ch.to, None);
    assert_eq!(ch.deadline, Some(utc("2026-03-11T09:30:00Z")));
    assert_eq!(ch.note.as_deref(), Some("waiting for parts"));
    assert_eq!(
        ch.data,
        serde_json::json!({
            "previous_deadline": "2026-03-06T09:30:00Z",
            "deadline": "2026-03-11T09:30:00Z",
            "working_days": 3,
        })
    );
    // + 1 → Monday 2026-03-09 17:30; + 5 → Friday 2026-03-13; + 6 → Monday 2026-03-16.
    for (days, due) in [
        (1, "2026-03-09T09:30:00Z"),
        (5, "2026-03-13T09:30:00Z"),
        (6, "2026-03-16T09:30:00Z"),
        (10, "2026-03-20T09:30:00Z"),
    ] {
        assert_eq!(
            w.run(&o, &ext(days), &sup).unwrap().deadline,
            Some(utc(due))
        );
    }
    // A deadline at Wednesday 10:00 +08:00, + 2 → Friday 17:30 of the same week.
    let mut mid = order(Status::Handled);
    mid.deadline = Some(utc("2026-03-11T02:00:00Z"));
    assert_eq!(
        w.run(&mid, &ext(2), &sup).unwrap().deadline,
        Some(utc("2026-03-13T09:30:00Z"))
    );
    // No deadline yet: counted from now (Tuesday 2026-03-10 10:00 +08:00) → Wednesday 17:30.
    let mut none = order(Status::Registered);
    none.deadline = None;
    let ch = w.run(&none, &ext(1), &sup).unwrap();
    assert_eq!(ch.deadline, Some(utc("2026-03-11T09:30:00Z")));
    assert_eq!(ch.data["previous_deadline"], serde_json::Value::Null);
}

#[test]
fn merge_records_the_target() {
    let w = World::new();
    let ch = w.act(Status::Dispatched, "merge", Role::Agent).unwrap();
    assert_eq!(
        ch,
        Change {
            to: Some(Status::Merged),
            closed_at: Some(now()),
            merged_into: Some(2),
            note: Some(s("same pothole")),
            data: serde_json::json!({ "merged_into": 2 }),
            notifications: vec![hotline::cases::store::NewNotification {
                kind: "merged",
                recipient: s("reporter:test-inspector"),
                work_order_id: Some(1),
                payload: serde_json::json!({
                    "order_id": 1,
                    "status": "merged",
                    "deadline": "2026-03-06T09:30:00Z",
                    "department": "sanitation",
                }),
            }],
            ..Change::default()
        }
    );
}

#[test]
fn commands_deserialize_from_the_api_body() {
    let c: Command = serde_json::from_str(r#"{"action":"return","reason":"not ours"}"#).unwrap();
    assert_eq!(
        c,
        Command::ReturnOrder {
            reason: s("not ours")
        }
    );
    let c: Command =
        serde_json::from_str(r#"{"action":"extend","working_days":2,"reason":"r"}"#).unwrap();
    assert_eq!(c.action(), "extend");
    assert!(serde_json::from_str::<Command>(r#"{"action":"teleport"}"#).is_err());
    assert!(
        serde_json::from_str::<Command>(r#"{"action":"handle","result":"x","extra":1}"#).is_err()
    );
}
