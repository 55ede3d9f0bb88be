//! ACD engine unit tests, one rule at a time, on a fake clock.
use super::*;
use std::time::{Duration, Instant};

/// A queue "q" with `strategy`, 10 s wrap-up, 15 s ring, 300 s max wait, 30 s announcements,
/// 3 misses; the agents all in "q" at level 1.
fn cfg(strategy: Strategy, agents: &[&str]) -> AcdConfig {
    let mut q = QueueSettings::new("q");
    q.strategy = strategy;
    q.wrap_up_secs = 10;
    AcdConfig {
        queues: vec![q],
        agents: agents
            .iter()
            .map(|a| AgentSettings::new(a, &["q"]))
            .collect(),
    }
}

struct H {
    e: Engine,
    t: Instant,
}

impl H {
    fn new(cfg: AcdConfig) -> Self {
        H {
            e: Engine::new(cfg),
            t: Instant::now(),
        }
    }
    fn input(&mut self, i: Input) -> Result<(), AcdError> {
        self.e.handle(i, self.t)
    }
    fn ok(&mut self, i: Input) {
        self.input(i).unwrap();
    }
    /// Moves the clock on, running every timer due on the way.
    fn advance(&mut self, secs: u64) {
        let end = self.t + Duration::from_secs(secs);
        while let Some(at) = self.e.poll_timeout().filter(|at| *at <= end) {
            self.t = self.t.max(at);
            self.e.handle_timeout(at);
        }
        self.t = end;
    }
    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.e.poll_action()).collect()
    }
    fn offers(&mut self) -> Vec<(u64, String)> {
        self.actions()
            .into_iter()
            .filter_map(|a| match a {
                Action::Offer { call, agent } => Some((call.0, agent)),
                _ => None,
            })
            .collect()
    }
    fn login(&mut self, agent: &str) {
        self.ok(Input::AgentLogin {
            agent: agent.into(),
            contact_registered: true,
        });
    }
    fn call(&mut self, id: u64, priority: u8) {
        self.ok(Input::CallArrived {
            call: CallId(id),
            queue: "q".into(),
            priority,
            caller_number: format!("1380000{id:04}"),
        });
    }
    fn answer(&mut self, id: u64, agent: &str) {
        self.ok(Input::AgentAnswered {
            call: CallId(id),
            agent: agent.into(),
        });
    }
    fn end(&mut self, id: u64) {
        self.ok(Input::CallEnded { call: CallId(id) });
    }
    fn status(&self, agent: &str) -> AgentStatus {
        self.e.agent_state(agent).unwrap().0
    }
}

fn one(agent: &str, call: u64) -> Vec<(u64, String)> {
    vec![(call, agent.to_string())]
}

#[test]
fn longest_idle_picks_the_agent_idle_longest() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a", "b", "c"]));
    h.login("b");
    h.advance(1);
    h.login("a");
    h.advance(1);
    h.login("c");
    h.actions();
    h.call(1, 0);
    assert_eq!(h.offers(), one("b", 1));
    h.answer(1, "b");
    h.call(2, 0);
    assert_eq!(h.offers(), one("a", 2));
}

#[test]
fn round_robin_rotates_in_member_order() {
    let mut c = cfg(Strategy::RoundRobin, &["a", "b", "c"]);
    c.queues[0].wrap_up_secs = 0;
    let mut h = H::new(c);
    for a in ["c", "b", "a"] {
        h.login(a);
    }
    let mut got = Vec::new();
    for id in 1..=5 {
        h.call(id, 0);
        let o = h.offers();
        assert_eq!(o.len(), 1);
        h.answer(id, &o[0].1);
        h.end(id);
        got.push(o[0].1.clone());
    }
    assert_eq!(got, ["a", "b", "c", "a", "b"]);
}

#[test]
fn fewest_calls_and_least_talk_time() {
    for strategy in [Strategy::FewestCalls, Strategy::LeastTalkTime] {
        let mut c = cfg(strategy, &["a", "b"]);
        c.queues[0].wrap_up_secs = 0;
        let mut h = H::new(c);
        h.login("a");
        h.advance(1);
        h.login("b");
        h.actions();
        // a (idle longest) takes a 100 s call, then b a 10 s one.
        h.call(1, 0);
        assert_eq!(h.offers(), one("a", 1));
        h.answer(1, "a");
        h.advance(100);
        h.end(1);
        h.call(2, 0);
        assert_eq!(h.offers(), one("b", 2));
        h.answer(2, "b");
        h.advance(10);
        h.end(2);
        h.call(3, 0);
        let o = h.offers();
        h.answer(3, &o[0].1);
        h.advance(1);
        h.end(3);
        // fewest-calls: a 2 (tie 1-1 went to a, idle longer), b 1 → b.
        // least-talk-time: call 3 went to b (10 s < 100 s); a 100 s, b 11 s → b.
        h.actions();
        h.call(4, 0);
        assert_eq!(h.offers(), one("b", 4), "{strategy:?}");
    }
}

#[test]
fn ring_all_first_answer_wins_and_cancels_the_others() {
    let mut h = H::new(cfg(Strategy::RingAll, &["a", "b", "c"]));
    for a in ["a", "b", "c"] {
        h.login(a);
    }
    h.actions();
    h.call(1, 0);
    assert_eq!(h.offers().len(), 3);
    h.answer(1, "b");
    let acts = h.actions();
    assert!(acts.contains(&Action::CancelOffer {
        call: CallId(1),
        agent: "a".into()
    }));
    assert!(acts.contains(&Action::CancelOffer {
        call: CallId(1),
        agent: "c".into()
    }));
    assert!(acts.contains(&Action::Connected {
        call: CallId(1),
        agent: "b".into()
    }));
    assert_eq!(h.status("a"), AgentStatus::Ready);
    assert_eq!(h.status("b"), AgentStatus::OnCall);
    // A late answer from a cancelled agent is ignored.
    assert!(h
        .input(Input::AgentAnswered {
            call: CallId(1),
            agent: "c".into()
        })
        .is_err());
    assert_eq!(h.e.stats().answered, 1);
    // The next call rings only the two free agents.
    h.call(2, 0);
    let mut o = h.offers();
    o.sort();
    assert_eq!(o, vec![(2, "a".to_string()), (2, "c".to_string())]);
}

#[test]
fn skills_and_levels() {
    let mut c = cfg(Strategy::LongestIdle, &["novice", "expert", "senior"]);
    c.queues[0].required_skills = vec!["dialect".into()];
    c.agents[1].skills = vec!["dialect".into()];
    c.agents[2].skills = vec!["dialect".into()];
    c.agents[2].queues.insert("q".into(), 2);
    let mut h = H::new(c);
    h.login("novice");
    h.login("senior");
    h.advance(5);
    h.login("expert");
    h.actions();
    // senior idles longer but is level 2; novice lacks the skill.
    h.call(1, 0);
    assert_eq!(h.offers(), one("expert", 1));
    h.answer(1, "expert");
    h.call(2, 0);
    assert_eq!(h.offers(), one("senior", 2));
    h.call(3, 0);
    assert_eq!(h.offers(), vec![]);
}

#[test]
fn priority_first_then_fifo() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a"]));
    h.login("a");
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Break,
    });
    for (id, p) in [(1, 0), (2, 5), (3, 0), (4, 5)] {
        h.call(id, p);
        h.advance(1);
    }
    let mut order = Vec::new();
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Ready,
    });
    for _ in 0..4 {
        let o = h.offers();
        assert_eq!(o.len(), 1);
        order.push(o[0].0);
        h.answer(o[0].0, "a");
        h.end(o[0].0);
        h.ok(Input::EndWrapUp { agent: "a".into() });
    }
    assert_eq!(order, [2, 4, 1, 3]);
}

#[test]
fn no_answer_goes_to_the_next_agent_and_m_misses_make_not_ready() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a", "b"]));
    h.login("a");
    h.advance(1);
    h.login("b");
    h.actions();
    h.call(1, 0);
    assert_eq!(h.offers(), one("a", 1));
    h.advance(15);
    let acts = h.actions();
    assert!(acts.contains(&Action::CancelOffer {
        call: CallId(1),
        agent: "a".into()
    }));
    assert!(acts.contains(&Action::Offer {
        call: CallId(1),
        agent: "b".into()
    }));
    // b rejects: back to a (its second miss will be the next no-answer).
    h.ok(Input::AgentRejected {
        call: CallId(1),
        agent: "b".into(),
    });
    assert_eq!(h.offers(), one("a", 1));
    h.advance(15);
    assert_eq!(h.offers(), one("b", 1));
    h.advance(15);
    assert_eq!(h.offers(), one("a", 1));
    h.advance(15);
    // a: 3 misses → not ready "no answer"; b: 3 misses too.
    assert_eq!(
        h.e.agent_state("a"),
        Some((AgentStatus::NotReady, Some(NO_ANSWER_REASON.to_string())))
    );
    assert_eq!(h.status("b"), AgentStatus::Ringing);
    h.advance(15);
    assert_eq!(h.status("b"), AgentStatus::NotReady);
    // Ready again clears the count.
    h.actions();
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Ready,
    });
    assert_eq!(h.offers(), one("a", 1));
    h.answer(1, "a");
    assert_eq!(h.e.stats().answered, 1);
}

#[test]
fn wrap_up_counts_down_and_can_end_early() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a"]));
    h.login("a");
    h.call(1, 0);
    h.answer(1, "a");
    h.advance(20);
    h.end(1);
    assert_eq!(h.status("a"), AgentStatus::WrapUp);
    h.call(2, 0);
    h.actions();
    h.advance(9);
    assert_eq!(h.status("a"), AgentStatus::WrapUp);
    assert_eq!(h.offers(), vec![]);
    h.advance(1);
    assert_eq!(h.offers(), one("a", 2));
    h.answer(2, "a");
    h.end(2);
    h.advance(3);
    h.ok(Input::EndWrapUp { agent: "a".into() });
    assert_eq!(h.status("a"), AgentStatus::Ready);
    // A state asked for during the call applies after wrap-up.
    h.call(3, 0);
    h.answer(3, "a");
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::NotReady("lunch".into()),
    });
    h.end(3);
    h.advance(10);
    assert_eq!(
        h.e.agent_state("a"),
        Some((AgentStatus::NotReady, Some("lunch".into())))
    );
}

#[test]
fn lapsed_registration_is_never_offered() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a", "b"]));
    h.ok(Input::AgentLogin {
        agent: "a".into(),
        contact_registered: false,
    });
    h.advance(1);
    h.login("b");
    h.call(1, 0);
    assert_eq!(h.offers(), one("b", 1));
    // b's registration lapses while ringing: the offer is withdrawn, nobody else can take it.
    h.ok(Input::RegistrationChanged {
        agent: "b".into(),
        registered: false,
    });
    let acts = h.actions();
    assert!(acts.contains(&Action::CancelOffer {
        call: CallId(1),
        agent: "b".into()
    }));
    assert!(!acts.iter().any(|a| matches!(a, Action::Offer { .. })));
    h.ok(Input::RegistrationChanged {
        agent: "a".into(),
        registered: true,
    });
    assert_eq!(h.offers(), one("a", 1));
}

#[test]
fn ready_on_register_logs_in() {
    let mut c = cfg(Strategy::LongestIdle, &["desk"]);
    c.agents[0].ready_on_register = true;
    let mut h = H::new(c);
    h.ok(Input::RegistrationChanged {
        agent: "desk".into(),
        registered: true,
    });
    assert_eq!(h.status("desk"), AgentStatus::Ready);
}

#[test]
fn overflow_on_max_wait_and_on_no_agents() {
    let mut c = cfg(Strategy::LongestIdle, &["a"]);
    c.queues[0].max_wait_secs = 60;
    c.queues[0].overflow = OverflowTarget::Callback;
    let mut h = H::new(c);
    h.call(1, 0);
    assert!(h.actions().contains(&Action::Overflow {
        call: CallId(1),
        reason: OverflowReason::NoAgents,
        target: OverflowTarget::Callback,
    }));
    h.login("a");
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::NotReady("meeting".into()),
    });
    h.call(2, 0);
    h.advance(59);
    assert!(!h
        .actions()
        .iter()
        .any(|a| matches!(a, Action::Overflow { .. })));
    h.advance(1);
    assert!(h.actions().contains(&Action::Overflow {
        call: CallId(2),
        reason: OverflowReason::MaxWait,
        target: OverflowTarget::Callback,
    }));
    // The last agent logging out overflows the waiting callers.
    h.call(3, 0);
    h.ok(Input::AgentLogout { agent: "a".into() });
    assert!(h.actions().contains(&Action::Overflow {
        call: CallId(3),
        reason: OverflowReason::NoAgents,
        target: OverflowTarget::Callback,
    }));
    let s = h.e.stats();
    assert_eq!((s.offered, s.overflowed, s.outcomes()), (3, 3, 3));
}

#[test]
fn announcements_every_n_seconds() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a", "b"]));
    h.login("a");
    h.login("b");
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Break,
    });
    h.ok(Input::SetState {
        agent: "b".into(),
        state: Requested::NotReady("x".into()),
    });
    h.call(1, 0);
    h.call(2, 0);
    assert!(h
        .actions()
        .contains(&Action::MusicOnHold { call: CallId(2) }));
    h.advance(29);
    assert!(!h
        .actions()
        .iter()
        .any(|a| matches!(a, Action::Announce { .. })));
    h.advance(1);
    // Nobody serving → 1 agent assumed; default handle time 180 s.
    assert_eq!(
        h.actions(),
        vec![
            Action::Announce {
                call: CallId(1),
                position: 1,
                expected_wait_secs: 180
            },
            Action::Announce {
                call: CallId(2),
                position: 2,
                expected_wait_secs: 360
            },
        ]
    );
    h.ok(Input::CallerHungUp { call: CallId(1) });
    h.actions();
    h.advance(30);
    assert_eq!(
        h.actions(),
        vec![Action::Announce {
            call: CallId(2),
            position: 1,
            expected_wait_secs: 180
        }]
    );
}

#[test]
fn hang_ups_at_every_stage_and_bad_inputs() {
    let mut h = H::new(cfg(Strategy::RingAll, &["a", "b"]));
    assert_eq!(
        h.input(Input::SetState {
            agent: "zz".into(),
            state: Requested::Ready
        }),
        Err(AcdError::UnknownAgent("zz".into()))
    );
    assert_eq!(
        h.input(Input::CallerHungUp { call: CallId(9) }),
        Err(AcdError::UnknownCall(CallId(9)))
    );
    assert!(h.input(Input::EndWrapUp { agent: "a".into() }).is_err());
    h.login("a");
    h.login("b");
    h.call(1, 0);
    assert!(h
        .input(Input::CallArrived {
            call: CallId(1),
            queue: "q".into(),
            priority: 0,
            caller_number: String::new()
        })
        .is_err());
    assert!(h
        .input(Input::CallArrived {
            call: CallId(7),
            queue: "nope".into(),
            priority: 0,
            caller_number: String::new()
        })
        .is_err());
    h.ok(Input::CallerHungUp { call: CallId(1) });
    assert_eq!(h.status("a"), AgentStatus::Ready);
    assert_eq!(h.status("b"), AgentStatus::Ready);
    h.call(2, 0);
    h.answer(2, "a");
    h.ok(Input::CallerHungUp { call: CallId(2) });
    assert_eq!(h.status("a"), AgentStatus::WrapUp);
    let s = h.e.stats();
    assert_eq!(
        (s.offered, s.abandoned_ringing, s.answered, s.ignored),
        (2, 1, 1, 5)
    );
}

#[test]
fn config_from_the_hotline_config() {
    use crate::config::{AgentConfig, Config, Queue};
    let cfg = Config {
        queues: vec![Queue {
            name: "12345".into(),
            strategy: "ring-all".into(),
            wrap_up_secs: 20,
            ring_secs: 12,
            max_wait_secs: 240,
            service_level_secs: 15,
            announce_secs: 45,
            no_answer_limit: 2,
            overflow: "callback".into(),
            required_skills: vec!["english".into()],
            default_handle_secs: 200,
        }],
        agents: vec![AgentConfig {
            id: "1001".into(),
            name: "Zhang".into(),
            password: None,
            ha1_md5: None,
            ha1_sha256: None,
            queues: vec!["12345".into()],
            ready_on_register: true,
            skills: vec!["english".into()],
            levels: [("12345".to_string(), 2u8)].into_iter().collect(),
        }],
        ..Config::default()
    };
    let acd = AcdConfig::from_config(&cfg);
    let q = &acd.queues[0];
    assert_eq!(q.strategy, Strategy::RingAll);
    assert_eq!(
        (q.wrap_up_secs, q.ring_secs, q.max_wait_secs),
        (20, 12, 240)
    );
    assert_eq!(
        (q.announce_secs, q.no_answer_limit, q.overflow),
        (45, 2, OverflowTarget::Callback)
    );
    assert_eq!(q.required_skills, ["english"]);
    assert_eq!(q.default_handle_secs, 200);
    assert_eq!(acd.agents[0].queues.get("12345"), Some(&2));
    assert_eq!(acd.agents[0].skills, ["english"]);
    assert!(acd.agents[0].ready_on_register);
}

#[test]
fn an_agent_in_two_queues_takes_the_higher_priority_then_older_call() {
    let mut c = cfg(Strategy::LongestIdle, &["a"]);
    c.queues.push(QueueSettings::new("r"));
    c.agents[0].queues.insert("r".into(), 1);
    let mut h = H::new(c);
    h.login("a");
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Break,
    });
    h.call(1, 0);
    h.ok(Input::CallArrived {
        call: CallId(2),
        queue: "r".into(),
        priority: 0,
        caller_number: "1".into(),
    });
    h.ok(Input::CallArrived {
        call: CallId(3),
        queue: "r".into(),
        priority: 2,
        caller_number: "1".into(),
    });
    h.actions();
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Ready,
    });
    assert_eq!(h.offers(), one("a", 3));
    h.ok(Input::AgentRejected {
        call: CallId(3),
        agent: "a".into(),
    });
    // a missed 3 once; it is the only agent, so 3 comes back to it first.
    assert_eq!(h.offers(), one("a", 3));
    h.answer(3, "a");
    h.end(3);
    h.ok(Input::EndWrapUp { agent: "a".into() });
    assert_eq!(h.offers(), one("a", 1));
}

#[test]
fn time_in_state_restarts_with_each_state_and_reason() {
    let mut h = H::new(cfg(Strategy::LongestIdle, &["a", "b"]));
    let wall0 = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let t0 = h.t;
    let at = |h: &H, secs: u64| {
        let now = t0 + Duration::from_secs(secs);
        let wall = wall0 + chrono::Duration::seconds(secs as i64);
        let a = h.e.agent_snapshots(now, wall);
        (a[0].since, a[0].state_secs, a[0].state)
    };
    // Never seen: no time in state.
    assert_eq!(at(&h, 0), (None, None, "logged-out"));
    h.advance(10);
    h.login("a");
    let ready_at = wall0 + chrono::Duration::seconds(10);
    assert_eq!(at(&h, 70), (Some(ready_at), Some(60), "ready"));
    // Not-ready, then another reason: a new state each time.
    h.advance(90);
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::NotReady("meeting".into()),
    });
    assert_eq!(
        at(&h, 130),
        (
            Some(wall0 + chrono::Duration::seconds(100)),
            Some(30),
            "not-ready"
        )
    );
    h.advance(20);
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::NotReady("training".into()),
    });
    assert_eq!(at(&h, 120).1, Some(0));
    // The same state again does not restart the clock.
    h.advance(5);
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::NotReady("training".into()),
    });
    assert_eq!(
        at(&h, 125),
        (
            Some(wall0 + chrono::Duration::seconds(120)),
            Some(5),
            "not-ready"
        )
    );
    // Ready → ringing → on-call → wrap-up (10 s) → ready: each stamps its start.
    h.ok(Input::SetState {
        agent: "a".into(),
        state: Requested::Ready,
    });
    h.actions();
    h.call(1, 0);
    assert_eq!(one("a", 1), h.offers());
    assert_eq!(
        at(&h, 125),
        (
            Some(wall0 + chrono::Duration::seconds(125)),
            Some(0),
            "ringing"
        )
    );
    h.advance(3);
    h.answer(1, "a");
    assert_eq!(at(&h, 140).1, Some(12));
    assert_eq!(at(&h, 140).2, "on-call");
    h.advance(40);
    h.end(1);
    assert_eq!(at(&h, 172).2, "wrap-up");
    assert_eq!(at(&h, 172).1, Some(4));
    h.advance(10);
    assert_eq!(
        at(&h, 180),
        (
            Some(wall0 + chrono::Duration::seconds(178)),
            Some(2),
            "ready"
        )
    );
    // An instant before the state began (a stale `now`) gives 0, not a panic.
    assert_eq!(at(&h, 100).1, Some(0));
}
