//! The whole call path without I/O: ≥ 100,000 randomized citizens' calls through the IVR flows
//! ([`crate::ivr`]), the ACD ([`crate::acd`]) and the disposition rule ([`super::outcome`]) on a
//! fake clock, seeded. Callers are blacklisted, prioritised, closed out of hours, press keys,
//! leave messages, ask for callbacks, hang up at every stage; agents answer, miss, reject, log
//! in and out, take breaks, lose their registration. After every step:
//!
//! * the ACD shadow model's invariants (no agent double-booked, no caller offered to two agents
//!   except ring-all, FIFO within priority, wrap-up respected, one outcome per queued call);
//! * every call ends exactly once, and offered = Σ dispositions + calls in progress;
//! * dispositions agree with what happened: answered iff the queue connected it (or it was
//!   answered before), abandoned at the stage the queue saw, blacklisted callers rejected,
//!   closed-hours calls never queued, left messages counted as voicemail.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::outcome::{AbandonAt, Disposition, Lifecycle, RejectReason, Stage};
use crate::acd::sim_tests::{agent_change, sim_config, Shadow, AGENTS, QUEUES};
use crate::acd::{AbandonStage, Action, AgentId, CallId, Engine, Input, Outcome, OverflowTarget};
use crate::ivr::{Flow, FlowAction, FlowEnd, FlowEvent, FlowRules, OrderStatusInfo};

const CALLS: u64 = 100_500;

/// One simulated citizen's call.
struct SimCall {
    flow: Option<Flow>,
    /// The flow's playlist awaiting its PlayDone.
    token: Option<u64>,
    life: Lifecycle,
    acd: Option<CallId>,
    blacklisted: bool,
    closed: bool,
    /// What the queue said, to check the disposition against.
    queue_outcome: Option<Outcome>,
    queued: bool,
}

struct Sim {
    rules: FlowRules,
    e: Engine,
    sh: Shadow,
    rng: StdRng,
    now: Instant,
    calls: BTreeMap<u64, SimCall>,
    by_acd: HashMap<CallId, u64>,
    next_call: u64,
    next_acd: u64,
    offered: u64,
    dispositions: BTreeMap<String, u64>,
    agents: Vec<AgentId>,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = StdRng::seed_from_u64(seed);
        let cfg = sim_config(&mut rng);
        let agents = cfg.agents.iter().map(|a| a.id.clone()).collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut c = crate::config::load(&root.join("sip-config/hotline.toml"))
            .unwrap()
            .config;
        c.numbers[1].hours = "working-hours".into();
        c.callers.blacklist.push(crate::config::BlacklistEntry {
            number: "100".into(),
            reason: "simulation".into(),
        });
        Sim {
            rules: FlowRules::from_config(&c),
            e: Engine::new(cfg),
            sh: Shadow::new(QUEUES.len()),
            rng,
            now: Instant::now(),
            calls: BTreeMap::new(),
            by_acd: HashMap::new(),
            next_call: 0,
            next_acd: 0,
            offered: 0,
            dispositions: BTreeMap::new(),
            agents,
        }
    }

    // ---- the ACD side --------------------------------------------------------------------

    fn feed(&mut self, input: Input) -> bool {
        let early = match &input {
            Input::EndWrapUp { agent } | Input::SetState { agent, .. } => Some(agent.clone()),
            _ => None,
        };
        match &input {
            Input::AgentLogin {
                agent,
                contact_registered,
            } => self.sh.registered(agent, *contact_registered),
            Input::RegistrationChanged { agent, registered } => {
                self.sh.registered(agent, *registered)
            }
            _ => {}
        }
        let ended = match &input {
            Input::CallEnded { call } | Input::CallerHungUp { call } => Some(*call),
            _ => None,
        };
        let ok = self.e.handle(input, self.now).is_ok();
        if let (true, Some(call)) = (ok, ended) {
            self.sh.ended(call);
        }
        self.drain_acd(early.as_deref());
        ok
    }

    fn drain_acd(&mut self, early: Option<&str>) {
        while let Some(a) = self.e.poll_action() {
            self.sh.check(&a, self.now, early);
            match a {
                Action::Overflow { call, target, .. } => {
                    let Some(&key) = self.by_acd.get(&call) else {
                        continue;
                    };
                    let c = self.calls.get_mut(&key).unwrap();
                    c.acd = None;
                    match target {
                        OverflowTarget::Voicemail => {
                            c.flow = Some(self.rules.voicemail("12345", "zh", self.now));
                            c.life.enter(Stage::Overflow);
                            self.drive_flow(key);
                        }
                        OverflowTarget::Callback => {
                            c.life.decide(Disposition::CallbackRequested);
                            self.finish(key, "local BYE");
                        }
                    }
                }
                Action::Outcome { call, outcome } => {
                    let Some(&key) = self.by_acd.get(&call) else {
                        continue;
                    };
                    if !matches!(outcome, Outcome::Answered { .. }) {
                        self.by_acd.remove(&call);
                    }
                    if let Some(c) = self.calls.get_mut(&key) {
                        if !matches!(outcome, Outcome::Answered { .. }) {
                            c.acd = None;
                        }
                        c.life.queue_outcome(&outcome);
                        assert!(c.queue_outcome.is_none(), "two queue outcomes");
                        c.queue_outcome = Some(outcome);
                    }
                }
                Action::Offer { call, .. } => {
                    if let Some(c) = self.by_acd.get(&call).and_then(|k| self.calls.get_mut(k)) {
                        c.life.enter(Stage::Ringing);
                    }
                }
                Action::CancelOffer { call, .. } => {
                    let ringing = self.sh.offered.contains_key(&call);
                    if let Some(c) = self.by_acd.get(&call).and_then(|k| self.calls.get_mut(k)) {
                        if !ringing && c.life.stage == Stage::Ringing {
                            c.life.enter(Stage::Queue);
                        }
                    }
                }
                _ => {}
            }
        }
        self.sh.check_totals(&self.e);
    }

    // ---- the flow side -------------------------------------------------------------------

    fn arrive(&mut self) {
        self.next_call += 1;
        self.offered += 1;
        let key = self.next_call;
        let number = if self.rng.gen_bool(0.7) {
            "12345"
        } else {
            "12319"
        };
        let caller = match self.rng.gen_range(0..100) {
            0 => "100",             // blacklisted
            1..=3 => "13800000001", // priority 5 in the sample config
            _ => "13811112222",
        };
        let tz = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let at = tz
            .with_ymd_and_hms(
                2026,
                10,
                self.rng.gen_range(1..=14),
                self.rng.gen_range(0..24),
                0,
                0,
            )
            .unwrap()
            .with_timezone(&chrono::Utc);
        let closed = number == "12319" && !self.rules.calendar().is_working_time(at);
        let mut life = Lifecycle::default();
        life.enter(Stage::Greeting);
        let flow = self.rules.start(number, caller, at, self.now);
        self.calls.insert(
            key,
            SimCall {
                flow: Some(flow),
                token: None,
                life,
                acd: None,
                blacklisted: caller == "100",
                closed,
                queue_outcome: None,
                queued: false,
            },
        );
        self.drive_flow(key);
    }

    fn drive_flow(&mut self, key: u64) {
        loop {
            let Some(c) = self.calls.get_mut(&key) else {
                return;
            };
            let Some(a) = c.flow.as_mut().and_then(|f| f.poll_action()) else {
                return;
            };
            match a {
                FlowAction::Play { token, .. } => c.token = Some(token),
                FlowAction::StopPlaying => c.token = None,
                FlowAction::SetLanguage(_) => {}
                FlowAction::LookupOrder(number) => {
                    let info = self.rng.gen_bool(0.5).then(|| OrderStatusInfo {
                        number,
                        status: "dispatched".into(),
                    });
                    c.flow
                        .as_mut()
                        .unwrap()
                        .handle(FlowEvent::OrderStatus(info), self.now);
                }
                FlowAction::RecordMessage { .. } => c.life.enter(Stage::Message),
                FlowAction::Finish(end) => {
                    c.flow = None;
                    c.token = None;
                    self.flow_end(key, end);
                }
            }
        }
    }

    fn flow_end(&mut self, key: u64, end: FlowEnd) {
        let c = self.calls.get_mut(&key).unwrap();
        match end {
            FlowEnd::Queue { priority, .. } => {
                assert!(
                    !c.closed && !c.blacklisted,
                    "queued a closed or blacklisted call"
                );
                self.next_acd += 1;
                let call = CallId(self.next_acd);
                let q = self.rng.gen_range(0..QUEUES.len());
                c.acd = Some(call);
                c.queued = true;
                c.life.enter(Stage::Queue);
                self.by_acd.insert(call, key);
                self.sh.arriving(call, q, priority);
                let ok = self.e.handle(
                    Input::CallArrived {
                        call,
                        queue: QUEUES[q].0.to_string(),
                        priority,
                        caller_number: "13811112222".into(),
                    },
                    self.now,
                );
                assert!(ok.is_ok());
                self.sh.accepted();
                self.drain_acd(None);
            }
            FlowEnd::Voicemail { .. } => {
                c.life.decide(Disposition::Voicemail);
                self.finish(key, "local BYE");
            }
            FlowEnd::CallbackRequested => {
                c.life.decide(Disposition::CallbackRequested);
                self.finish(key, "local BYE");
            }
            FlowEnd::Rejected { reason } => {
                c.life.decide(match reason {
                    crate::ivr::RejectReason::Blacklist => {
                        Disposition::Rejected(RejectReason::Blacklist)
                    }
                    crate::ivr::RejectReason::Closed => Disposition::Rejected(RejectReason::Closed),
                    crate::ivr::RejectReason::UnknownNumber => {
                        Disposition::Failed("unknown".into())
                    }
                });
                self.finish(key, "local BYE");
            }
            // The caller hung up during the flow (the hang-up step finishes the call).
            FlowEnd::Hangup { .. } => {}
        }
    }

    /// The caller's leg ends with `cause`: the disposition is counted once and checked.
    fn finish(&mut self, key: u64, cause: &str) {
        let mut c = self.calls.remove(&key).expect("a call ends once");
        let d = c.life.ended(cause);
        if c.blacklisted {
            assert_eq!(d, Disposition::Rejected(RejectReason::Blacklist));
        }
        if c.closed {
            assert!(!c.queued);
        }
        match &c.queue_outcome {
            Some(Outcome::Answered { .. }) => assert_eq!(d, Disposition::Answered),
            Some(Outcome::Abandoned { stage }) => {
                let at = match stage {
                    AbandonStage::Queue => AbandonAt::Queue,
                    AbandonStage::Ringing => AbandonAt::Ringing,
                };
                assert!(
                    d == Disposition::Abandoned(at) || matches!(d, Disposition::Failed(_)),
                    "{d:?} after the queue saw an abandon"
                );
            }
            Some(Outcome::Overflowed) => assert!(
                matches!(
                    d,
                    Disposition::Voicemail
                        | Disposition::CallbackRequested
                        | Disposition::Abandoned(AbandonAt::Queue)
                        | Disposition::Failed(_)
                ),
                "{d:?} after overflow"
            ),
            None => assert_ne!(d, Disposition::Answered, "answered without an agent"),
        }
        if let Some(call) = c.acd {
            self.by_acd.remove(&call);
        }
        let name = match &d {
            Disposition::Abandoned(at) => format!("abandoned ({at:?})"),
            Disposition::Rejected(r) => format!("rejected ({r:?})"),
            Disposition::Failed(_) => "failed".into(),
            other => other.as_str().into(),
        };
        *self.dispositions.entry(name).or_default() += 1;
    }

    /// The caller hangs up (or the line drops) wherever the call is.
    fn hang_up(&mut self, key: u64) {
        let cause = if self.rng.gen_ratio(1, 50) {
            "rtp timeout"
        } else {
            "remote BYE"
        };
        let c = self.calls.get_mut(&key).unwrap();
        if let Some(f) = c.flow.as_mut() {
            f.handle(FlowEvent::HangUp, self.now);
            self.drive_flow(key);
        }
        let Some(c) = self.calls.get_mut(&key) else {
            return;
        };
        c.life.leaving(cause);
        if let Some(call) = self.calls[&key].acd {
            self.feed(Input::CallerHungUp { call });
        }
        if self.calls.contains_key(&key) {
            self.finish(key, cause);
        }
    }

    fn check_totals(&self) {
        let ended: u64 = self.dispositions.values().sum();
        assert_eq!(self.offered, ended + self.calls.len() as u64);
    }

    // ---- the clock and the random step ---------------------------------------------------

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        loop {
            let flow_due = self
                .calls
                .iter()
                .filter_map(|(k, c)| {
                    c.flow
                        .as_ref()
                        .and_then(|f| f.poll_timeout())
                        .map(|t| (t, *k))
                })
                .min();
            let acd_due = self.e.poll_timeout();
            let next = match (flow_due.map(|f| f.0), acd_due) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            if acd_due.is_some_and(|t| t <= self.now) {
                self.e.handle_timeout(self.now);
                self.drain_acd(None);
            }
            if let Some((_, key)) = flow_due.filter(|f| f.0 <= self.now) {
                if let Some(f) = self.calls.get_mut(&key).and_then(|c| c.flow.as_mut()) {
                    f.handle_timeout(self.now);
                }
                self.drive_flow(key);
            }
        }
        self.now = end;
    }

    fn random_call(&mut self, pred: impl Fn(&SimCall) -> bool) -> Option<u64> {
        let keys: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| pred(c))
            .map(|(k, _)| *k)
            .collect();
        (!keys.is_empty()).then(|| keys[self.rng.gen_range(0..keys.len())])
    }

    fn step(&mut self, arrivals: bool) {
        match self.rng.gen_range(0..100) {
            0..=9 if arrivals => self.arrive(),
            10..=22 => {
                // The prompt playing to a caller in a flow ends.
                if let Some(key) = self.random_call(|c| c.token.is_some()) {
                    let c = self.calls.get_mut(&key).unwrap();
                    let token = c.token.take().unwrap();
                    c.flow
                        .as_mut()
                        .unwrap()
                        .handle(FlowEvent::PlayDone { token }, self.now);
                    self.drive_flow(key);
                }
            }
            23..=24 => {
                if let Some(key) = self.random_call(|c| c.flow.is_some()) {
                    let keys = ['1', '2', '3', '9', '#', '5', '0'];
                    let d = keys[self.rng.gen_range(0..keys.len())];
                    let c = self.calls.get_mut(&key).unwrap();
                    c.flow
                        .as_mut()
                        .unwrap()
                        .handle(FlowEvent::Digit(d), self.now);
                    self.drive_flow(key);
                }
            }
            25..=44 => {
                let offers: Vec<(CallId, AgentId)> = self
                    .sh
                    .offered
                    .iter()
                    .flat_map(|(c, ags)| ags.iter().map(|a| (*c, a.clone())))
                    .collect();
                if !offers.is_empty() {
                    let (call, agent) = offers[self.rng.gen_range(0..offers.len())].clone();
                    if self.rng.gen_ratio(1, 10) {
                        self.feed(Input::AgentRejected { call, agent });
                    } else {
                        self.feed(Input::AgentAnswered { call, agent });
                    }
                }
            }
            45..=56 => {
                // A conversation ends (either side): the caller's leg ends too.
                let conn: Vec<CallId> = self.sh.connected.keys().copied().collect();
                if !conn.is_empty() {
                    let call = conn[self.rng.gen_range(0..conn.len())];
                    self.feed(Input::CallEnded { call });
                    if let Some(key) = self.by_acd.remove(&call) {
                        if let Some(c) = self.calls.get_mut(&key) {
                            c.acd = None;
                        }
                        self.finish(key, "remote BYE");
                    }
                }
            }
            57..=62 => {
                if let Some(key) = self.random_call(|_| true) {
                    self.hang_up(key);
                }
            }
            63..=70 => {
                let agent = self.agents[self.rng.gen_range(0..self.agents.len())].clone();
                let roll = self.rng.gen_range(0..18);
                let input = agent_change(&mut self.rng, agent, roll);
                self.feed(input);
            }
            _ => {
                let ms = self.rng.gen_range(0..3_000);
                self.advance(Duration::from_millis(ms));
            }
        }
        self.check_totals();
    }
}

#[test]
fn hundred_thousand_calls_through_flows_and_queues_are_all_accounted_for() {
    let started = Instant::now();
    let mut sim = Sim::new(20261127);
    for i in 0..AGENTS {
        sim.feed(Input::AgentLogin {
            agent: format!("a{i}"),
            contact_registered: true,
        });
    }
    let mut steps = 0u64;
    while sim.next_call < CALLS {
        sim.step(true);
        steps += 1;
    }
    // No more arrivals: what is open finishes, then whoever is left hangs up.
    for _ in 0..300_000 {
        if sim.calls.is_empty() {
            break;
        }
        sim.step(false);
        steps += 1;
    }
    let left: Vec<u64> = sim.calls.keys().copied().collect();
    for key in left {
        if sim.calls.contains_key(&key) {
            sim.hang_up(key);
        }
    }
    sim.advance(Duration::from_secs(600));
    assert!(sim.calls.is_empty());
    let total: u64 = sim.dispositions.values().sum();
    assert_eq!(sim.offered, total, "offered = Σ dispositions");
    assert!(sim.offered >= 100_000);
    println!(
        "call path simulation: {} calls, {} queued, {steps} steps in {:.1?}",
        sim.offered,
        sim.e.stats().offered,
        started.elapsed()
    );
    for (name, n) in &sim.dispositions {
        println!("  {name}: {n}");
    }
    // Every kind of ending happened.
    for name in [
        "answered",
        "abandoned (Greeting)",
        "abandoned (Queue)",
        "abandoned (Ringing)",
        "voicemail",
        "callback-requested",
        "rejected (Blacklist)",
        "rejected (Closed)",
        "failed",
    ] {
        assert!(
            sim.dispositions.get(name).copied().unwrap_or(0) > 0,
            "no {name}"
        );
    }
}
