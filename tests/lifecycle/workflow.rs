//! The 数字城管 rules beyond the status table: inspectors act only on their own tasks, the
//! shift lead registers urban-management cases against the category's criteria, verification
//! tasks go to the reporting inspector, dispatch falls back to the routing table, the
//! milestones, and the notifications each action sends.

use hotline::cases::lifecycle::{Command, Status, TransitionError};
use hotline::config::Role;

use crate::support::{actor, cmd, invalid_field, now, order, s, World, INSPECTOR};

fn inspector(name: &str) -> hotline::cases::lifecycle::Actor {
    hotline::cases::lifecycle::Actor {
        name: s(name),
        role: Role::Inspector,
        department: None,
    }
}

/// (kind, recipient) of each notification.
fn sent(ch: &hotline::cases::lifecycle::Change) -> Vec<(&'static str, String)> {
    ch.notifications
        .iter()
        .map(|n| (n.kind, n.recipient.clone()))
        .collect()
}

#[test]
fn inspector_acts_only_on_orders_assigned_to_it() {
    let w = World::new();
    for (st, action) in [
        (Status::Verifying, "report_verification"),
        (Status::Handled, "verify"),
        (Status::Handled, "rework"),
    ] {
        assert!(w
            .run(&order(st), &cmd(action), &inspector(INSPECTOR))
            .is_ok());
        let other = w.run(&order(st), &cmd(action), &inspector("inspector-99"));
        assert_eq!(
            other,
            Err(TransitionError::Forbidden {
                action,
                role: "inspector (the order is not assigned to you)"
            }),
            "{action}"
        );
        // Unassigned: nobody's.
        let mut o = order(st);
        o.assignee = None;
        assert!(matches!(
            w.run(&o, &cmd(action), &inspector(INSPECTOR)),
            Err(TransitionError::Forbidden { .. })
        ));
    }
    // Another inspector's order in the wrong status: forbidden, the status is not revealed.
    assert!(matches!(
        w.run(
            &order(Status::Closed),
            &cmd("verify"),
            &inspector("inspector-99")
        ),
        Err(TransitionError::Forbidden { .. })
    ));
    // Its own order in the wrong status: the status is the reason.
    assert!(matches!(
        w.run(
            &order(Status::Closed),
            &cmd("verify"),
            &inspector(INSPECTOR)
        ),
        Err(TransitionError::NotAllowed { .. })
    ));
    // An inspector registers, dispatches and handles nothing.
    for action in ["register", "dispatch", "handle", "close", "park"] {
        let st = Status::ALL
            .into_iter()
            .find(|st| w.act(*st, action, Role::Admin).is_ok())
            .unwrap();
        assert_eq!(
            w.run(&order(st), &cmd(action), &inspector(INSPECTOR)),
            Err(TransitionError::Forbidden {
                action,
                role: "inspector"
            })
        );
    }
}

#[test]
fn leader_gives_no_command() {
    let w = World::new();
    for action in hotline::cases::lifecycle::ACTIONS {
        for st in Status::ALL {
            assert_eq!(
                w.act(st, action, Role::Leader),
                Err(TransitionError::Forbidden {
                    action,
                    role: "leader"
                })
            );
        }
    }
}

#[test]
fn urban_management_cases_are_registered_by_the_shift_lead() {
    let w = World::new();
    let mut o = order(Status::Received);
    o.request_type = s("urban-management");
    let r = w.run(&o, &cmd("register"), &actor(Role::Agent));
    assert!(
        matches!(r, Err(TransitionError::Forbidden { action: "register", role }) if role.contains("shift lead"))
    );
    for role in [Role::Supervisor, Role::Admin] {
        assert_eq!(
            w.run(&o, &cmd("register"), &actor(role)).unwrap().to,
            Some(Status::Registered)
        );
    }
    // Other urban-management actions stay with agents.
    assert!(w.run(&o, &cmd("reject"), &actor(Role::Agent)).is_ok());
    // A complaint is registered by an agent.
    assert!(w
        .run(
            &order(Status::Received),
            &cmd("register"),
            &actor(Role::Agent)
        )
        .is_ok());
}

#[test]
fn registration_criteria_must_be_met() {
    let w = World::new();
    let criteria = "A manhole has no cover.";
    let reg = |criteria_met| Command::Register {
        category_id: None,
        note: None,
        criteria_met,
    };
    let mut urban = order(Status::Received);
    urban.request_type = s("urban-management");
    for met in [None, Some(false)] {
        let r = w.run_with(&urban, &reg(met), &actor(Role::Supervisor), |c| {
            c.register_criteria = Some(criteria)
        });
        let e = r.clone().unwrap_err();
        assert_eq!(invalid_field(r), "criteria_met");
        assert!(e.to_string().contains(criteria), "{e}");
    }
    let ch = w
        .run_with(&urban, &reg(Some(true)), &actor(Role::Supervisor), |c| {
            c.register_criteria = Some(criteria)
        })
        .unwrap();
    assert_eq!(ch.registered_at, Some(now()));
    assert_eq!(ch.data["criteria_met"], true);
    // No criteria for the category: nothing to confirm.
    assert!(w
        .run(
            &order(Status::Received),
            &reg(None),
            &actor(Role::Supervisor)
        )
        .is_ok());
}

#[test]
fn verification_task_goes_to_the_reporting_inspector_unless_named() {
    let w = World::new();
    let agent = actor(Role::Agent);
    let ask = |inspector: Option<&str>| Command::RequestVerification {
        inspector: inspector.map(s),
        note: None,
    };
    let mut o = order(Status::Received);
    o.assignee = None;
    let ch = w.run(&o, &ask(None), &agent).unwrap();
    assert_eq!(ch.to, Some(Status::Verifying));
    assert_eq!(ch.assignee, Some(Some(s(INSPECTOR))));
    assert_eq!(ch.paused_at, Some(Some(now())));
    assert_eq!(
        sent(&ch),
        [("verification_task", format!("inspector:{INSPECTOR}"))]
    );
    let ch = w.run(&o, &ask(Some(" inspector-02 ")), &agent).unwrap();
    assert_eq!(ch.assignee, Some(Some(s("inspector-02"))));
    assert_eq!(ch.data["inspector"], "inspector-02");
    // A phone complaint has no reporting inspector: one must be named.
    o.reporting_inspector = None;
    assert_eq!(invalid_field(w.run(&o, &ask(None), &agent)), "inspector");
    assert_eq!(
        invalid_field(w.run(&o, &ask(Some("  ")), &agent)),
        "inspector"
    );
    // The inspector's answer brings it back to received, restarting the clock.
    let mut v = order(Status::Verifying);
    v.paused_at = Some(now() - chrono::TimeDelta::hours(1));
    let ch = w
        .run(
            &v,
            &Command::ReportVerification {
                confirmed: false,
                note: Some(s("nothing there")),
            },
            &inspector(INSPECTOR),
        )
        .unwrap();
    assert_eq!(ch.to, Some(Status::Received));
    assert_eq!(ch.data["confirmed"], false);
    assert_eq!(ch.data["paused_working_minutes"], 60);
    assert_eq!(ch.paused_at, Some(None));
}

#[test]
fn dispatch_falls_back_to_the_routing_table() {
    let w = World::new();
    let agent = actor(Role::Agent);
    let routed = |department: Option<&str>| Command::Dispatch {
        department: department.map(s),
        note: None,
    };
    let o = order(Status::Registered);
    let ch = w
        .run_with(&o, &routed(None), &agent, |c| {
            c.routed_department = Some("roads")
        })
        .unwrap();
    assert_eq!(ch.department_id.as_deref(), Some("roads"));
    assert_eq!(ch.dispatched_at, Some(now()));
    assert_eq!(sent(&ch), [("dispatched", s("department:roads"))]);
    assert_eq!(ch.notifications[0].payload["department"], "roads");
    // A named department wins over the table.
    let ch = w
        .run_with(&o, &routed(Some("housing")), &agent, |c| {
            c.routed_department = Some("roads")
        })
        .unwrap();
    assert_eq!(ch.department_id.as_deref(), Some("housing"));
    // Nothing routed and nothing named.
    let r = w.run(&o, &routed(None), &agent);
    let e = r.clone().unwrap_err();
    assert_eq!(invalid_field(r), "department");
    assert!(e.to_string().contains("routing table"), "{e}");
    assert_eq!(
        invalid_field(w.run(&o, &routed(Some(" ")), &agent)),
        "department"
    );
}

#[test]
fn department_accepts_handles_and_returns_from_dispatched_or_accepted() {
    let w = World::new();
    let dept = actor(Role::Department);
    let ch = w
        .run(&order(Status::Dispatched), &cmd("accept"), &dept)
        .unwrap();
    assert_eq!(ch.to, Some(Status::Accepted));
    assert_eq!(ch.data, serde_json::json!({ "department": "sanitation" }));
    assert!(ch.notifications.is_empty());
    for st in [Status::Dispatched, Status::Accepted] {
        let ch = w.run(&order(st), &cmd("handle"), &dept).unwrap();
        assert_eq!(ch.to, Some(Status::Handled));
        assert_eq!(ch.handled_at, Some(now()));
        // The 核查 task goes to the reporting inspector.
        assert_eq!(ch.assignee, Some(Some(s(INSPECTOR))));
        assert_eq!(
            sent(&ch),
            [("verification_task", format!("inspector:{INSPECTOR}"))]
        );
        // Handled at Tuesday 10:00, due the Friday before: late.
        assert_eq!(
            ch.data,
            serde_json::json!({
                "department": "sanitation",
                "deadline": "2026-03-06T09:30:00Z",
                "on_time": false,
            })
        );
        let ch = w.run(&order(st), &cmd("return_order"), &dept).unwrap();
        assert_eq!(ch.to, Some(Status::Returned));
        assert_eq!(ch.paused_at, Some(Some(now())));
        assert_eq!(sent(&ch), [("returned", s("centre"))]);
        assert_eq!(ch.data, serde_json::json!({ "department": "sanitation" }));
    }
    // On time, and no inspector to verify: no task.
    let mut o = order(Status::Accepted);
    o.deadline = Some(now());
    o.reporting_inspector = None;
    o.assignee = None;
    let ch = w.run(&o, &cmd("handle"), &dept).unwrap();
    assert_eq!(ch.data["on_time"], true);
    assert_eq!(ch.assignee, None);
    assert!(ch.notifications.is_empty());
}

#[test]
fn close_tells_every_reporter_once() {
    let w = World::new();
    let merged = [s("13800000001"), s(INSPECTOR), s("inspector-05")];
    let ch = w
        .run_with(
            &order(Status::Verified),
            &cmd("close"),
            &actor(Role::Agent),
            |c| c.merged_reporters = &merged,
        )
        .unwrap();
    assert_eq!(
        sent(&ch),
        [
            ("closed", format!("reporter:{INSPECTOR}")),
            ("closed", s("reporter:13800000001")),
            ("closed", s("reporter:inspector-05")),
        ]
    );
    // Nobody to tell.
    let mut o = order(Status::Verified);
    o.reporter = None;
    let ch = w.run(&o, &cmd("close"), &actor(Role::Agent)).unwrap();
    assert!(ch.notifications.is_empty());
    let mut dup = order(Status::Received);
    dup.reporter = None;
    let ch = w.run(&dup, &cmd("merge"), &actor(Role::Agent)).unwrap();
    assert!(ch.notifications.is_empty());
}

#[test]
fn park_and_unpark_remember_where_the_order_was() {
    let w = World::new();
    let sup = actor(Role::Supervisor);
    for st in [
        Status::Registered,
        Status::Dispatched,
        Status::Accepted,
        Status::Returned,
    ] {
        let ch = w.run(&order(st), &cmd("park"), &sup).unwrap();
        assert_eq!(ch.to, Some(Status::Parked));
        assert_eq!(ch.parked_from, Some(Some(st)));
        assert_eq!(ch.note.as_deref(), Some("needs next year's budget"));
        // Returned was already paused: the pause goes on from the return.
        let expect_pause = (st != Status::Returned).then_some(Some(now()));
        assert_eq!(ch.paused_at, expect_pause, "{st}");
        let mut parked = order(Status::Parked);
        parked.parked_from = Some(st);
        let ch = w.run(&parked, &cmd("unpark"), &sup).unwrap();
        assert_eq!(ch.to, Some(st));
        assert_eq!(ch.parked_from, Some(None));
    }
    // A parked order that lost where it came from cannot be unparked blindly.
    let mut lost = order(Status::Parked);
    lost.parked_from = None;
    assert_eq!(invalid_field(w.run(&lost, &cmd("unpark"), &sup)), "status");
    // Agents do not park.
    assert!(matches!(
        w.act(Status::Dispatched, "park", Role::Agent),
        Err(TransitionError::Forbidden { .. })
    ));
}

#[test]
fn new_commands_deserialize_from_the_api_body() {
    let c: Command =
        serde_json::from_str(r#"{"action":"dispatch"}"#).expect("department is optional");
    assert_eq!(
        c,
        Command::Dispatch {
            department: None,
            note: None
        }
    );
    let c: Command =
        serde_json::from_str(r#"{"action":"register","category_id":"E0101","criteria_met":true}"#)
            .unwrap();
    assert_eq!(c.action(), "register");
    let c: Command =
        serde_json::from_str(r#"{"action":"report_verification","confirmed":false}"#).unwrap();
    assert_eq!(c.action(), "report_verification");
    assert!(serde_json::from_str::<Command>(r#"{"action":"report_verification"}"#).is_err());
    for a in ["accept", "unpark", "request_verification"] {
        let c: Command = serde_json::from_str(&format!(r#"{{"action":"{a}"}}"#)).unwrap();
        assert_eq!(c.action(), a);
    }
    assert!(serde_json::from_str::<Command>(r#"{"action":"park"}"#).is_err());
}
