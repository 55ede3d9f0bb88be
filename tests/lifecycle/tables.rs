//! Every (status × action) and (role × action) pair against the hand-written tables, the
//! messages of refusals, and a department's reach (only orders dispatched to it).

use hotline::cases::lifecycle::{allowed_actions, Status, TransitionError, ACTIONS};
use hotline::config::Role;

use crate::support::{
    cmd, dept_actor, expected, expected_allowed, order, role_may, World, COLUMNS, ROLES,
    ROLE_TABLE, STATUS_TABLE,
};

#[test]
fn hand_written_tables_cover_every_status_and_action() {
    assert_eq!(
        COLUMNS, ACTIONS,
        "the table's columns are the actions, in order"
    );
    for (i, st) in Status::ALL.into_iter().enumerate() {
        assert_eq!(STATUS_TABLE[i].0, st);
    }
    for (i, a) in ACTIONS.into_iter().enumerate() {
        assert_eq!(ROLE_TABLE[i].0, a);
        assert_eq!(cmd(a).action(), a);
    }
}

#[test]
fn every_status_and_action_pair() {
    let w = World::new();
    let mut ok = 0;
    let mut refused = 0;
    for st in Status::ALL {
        for action in ACTIONS {
            for role in ROLES.into_iter().filter(|r| role_may(*r, action)) {
                let result = w.act(st, action, role);
                match expected(st, action) {
                    Some(to) => {
                        let ch = result.unwrap_or_else(|e| {
                            panic!("{action} from {st} by {role:?} refused: {e}")
                        });
                        assert_eq!(ch.to, to, "{action} from {st} by {role:?}");
                        ok += 1;
                    }
                    None => {
                        let e = result.expect_err(&format!("{action} from {st} by {role:?}"));
                        assert_eq!(
                            e,
                            TransitionError::NotAllowed {
                                action,
                                status: st,
                                allowed: allowed_actions(st),
                            },
                            "{action} from {st} by {role:?}"
                        );
                        assert_eq!(allowed_actions(st), expected_allowed(st), "{st}");
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(ok > 0 && refused > 0);
}

#[test]
fn not_allowed_message_lists_the_allowed_actions() {
    let w = World::new();
    let e = w.act(Status::Verified, "handle", Role::Admin).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot handle an order that is verified; allowed now: close, extend"
    );
    let e = w.act(Status::Merged, "extend", Role::Admin).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot extend an order that is merged; allowed now: nothing"
    );
}

#[test]
fn every_role_and_action_pair() {
    let w = World::new();
    for action in ACTIONS {
        for role in ROLES {
            for st in Status::ALL {
                // Dispatched (if at all) to the department's own "sanitation".
                let result = w.act(st, action, role);
                if !role_may(role, action) {
                    // Forbidden wins over the status: the role may never do this.
                    assert_eq!(
                        result,
                        Err(TransitionError::Forbidden {
                            action,
                            role: role.as_str()
                        }),
                        "{role:?} {action} from {st}"
                    );
                } else if expected(st, action).is_some() {
                    assert!(result.is_ok(), "{role:?} {action} from {st}: {result:?}");
                } else {
                    assert!(
                        matches!(result, Err(TransitionError::NotAllowed { .. })),
                        "{role:?} {action} from {st}: {result:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn channel_may_do_nothing_and_agent_may_not_rework_verify_or_extend() {
    let w = World::new();
    for action in ACTIONS {
        let st = Status::ALL
            .into_iter()
            .find(|st| expected(*st, action).is_some())
            .unwrap();
        let r = w.act(st, action, Role::Channel);
        assert_eq!(
            r,
            Err(TransitionError::Forbidden {
                action,
                role: "channel"
            })
        );
    }
    for (action, st) in [
        ("rework", Status::Handled),
        ("verify", Status::Handled),
        ("extend", Status::Dispatched),
    ] {
        let e = w.act(st, action, Role::Agent).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("role agent may not {action} an order")
        );
    }
}

#[test]
fn department_acts_only_on_orders_dispatched_to_it() {
    let w = World::new();
    let foreign = TransitionError::Forbidden {
        action: "handle",
        role: "department (the order is not dispatched to yours)",
    };
    let mut o = order(Status::Dispatched);
    // Its own department: fine.
    assert!(w
        .run(&o, &cmd("handle"), &dept_actor(Some("sanitation")))
        .is_ok());
    assert!(w
        .run(&o, &cmd("return_order"), &dept_actor(Some("sanitation")))
        .is_ok());
    // Another department's order.
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(Some("roads"))),
        Err(foreign.clone())
    );
    assert!(matches!(
        w.run(&o, &cmd("return_order"), &dept_actor(Some("roads"))),
        Err(TransitionError::Forbidden { action: "return_order", role }) if role.contains("not dispatched to yours")
    ));
    // A department user without a department.
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(None)),
        Err(foreign.clone())
    );
    // An order without a department (a department of None must not match a user without one).
    o.department_id = None;
    assert_eq!(
        w.run(&o, &cmd("handle"), &dept_actor(Some("sanitation"))),
        Err(foreign.clone())
    );
    assert_eq!(w.run(&o, &cmd("handle"), &dept_actor(None)), Err(foreign));
    // Another department's order in any status: forbidden, so its status is not revealed.
    assert!(matches!(
        w.run(
            &order(Status::Handled),
            &cmd("handle"),
            &dept_actor(Some("roads"))
        ),
        Err(TransitionError::Forbidden { .. })
    ));
    // Its own department but the wrong status: the status is the reason.
    assert!(matches!(
        w.run(
            &order(Status::Handled),
            &cmd("handle"),
            &dept_actor(Some("sanitation"))
        ),
        Err(TransitionError::NotAllowed { .. })
    ));
}
