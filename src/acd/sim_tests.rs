//! Deterministic simulation (seeded RNG, ordered maps wherever the driver picks at random): ≥ 100,000 randomized calls through the engine on a fake clock,
//! with a shadow model built only from the inputs and the emitted actions that checks the
//! invariants after every step:
//!
//! * no agent is offered or connected to two calls at once, and only a ready, registered
//!   agent starts ringing;
//! * a caller is offered to one agent at a time, except in the ring-all queue;
//! * the call offered is always the first waiting call of its queue (priority, then FIFO);
//! * an agent leaves wrap-up only after its countdown or when it asked to;
//! * every accepted call gets exactly one outcome: accepted = Σ outcomes + calls still
//!   waiting or ringing, and the engine's counters agree.
use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

const CALLS: u64 = 101_000;
pub(crate) const AGENTS: usize = 16;
const WRAP: u64 = 5;
pub(crate) const QUEUES: [(&str, Strategy); 5] = [
    ("li", Strategy::LongestIdle),
    ("rr", Strategy::RoundRobin),
    ("all", Strategy::RingAll),
    ("few", Strategy::FewestCalls),
    ("ltt", Strategy::LeastTalkTime),
];

pub(crate) fn sim_config(rng: &mut StdRng) -> AcdConfig {
    let queues = QUEUES
        .iter()
        .enumerate()
        .map(|(i, (name, strategy))| {
            let mut q = QueueSettings::new(name);
            q.strategy = *strategy;
            q.wrap_up_secs = WRAP as u32;
            q.ring_secs = 6;
            q.max_wait_secs = 90;
            q.announce_secs = 20;
            q.no_answer_limit = 3;
            if i == 3 {
                q.required_skills = vec!["legal".into()];
                q.overflow = OverflowTarget::Callback;
            }
            q
        })
        .collect();
    let agents = (0..AGENTS)
        .map(|i| {
            let mut a = AgentSettings::new(&format!("a{i}"), &[]);
            for (name, _) in QUEUES {
                if rng.gen_bool(0.5) {
                    a.queues.insert(name.to_string(), rng.gen_range(1..=2));
                }
            }
            if rng.gen_bool(0.5) {
                a.skills.push("legal".into());
            }
            a
        })
        .collect();
    AcdConfig { queues, agents }
}

type Key = (Reverse<u8>, u64, CallId);

#[derive(Default)]
pub(crate) struct Shadow {
    queue_of: HashMap<CallId, usize>,
    key: HashMap<CallId, Key>,
    waiting: Vec<BTreeSet<Key>>,
    pub(crate) offered: BTreeMap<CallId, Vec<AgentId>>,
    pub(crate) connected: BTreeMap<CallId, AgentId>,
    busy: HashMap<AgentId, CallId>,
    state: HashMap<AgentId, AgentStatus>,
    registered: HashMap<AgentId, bool>,
    wrap_end: HashMap<AgentId, Instant>,
    outcomes: HashMap<&'static str, u64>,
    resolved: HashSet<CallId>,
    accepted: u64,
    unresolved: u64,
    offers: u64,
}

impl Shadow {
    /// A shadow for `queues` queues.
    pub(crate) fn new(queues: usize) -> Shadow {
        Shadow {
            waiting: vec![BTreeSet::new(); queues],
            ..Shadow::default()
        }
    }

    /// Told before the engine sees the arrival of `call` (ids in arrival order).
    pub(crate) fn arriving(&mut self, call: CallId, queue: usize, priority: u8) {
        self.queue_of.insert(call, queue);
        self.key.insert(call, (Reverse(priority), call.0, call));
    }

    /// The engine accepted the arrival of a call.
    pub(crate) fn accepted(&mut self) {
        self.accepted += 1;
        self.unresolved += 1;
    }

    /// The engine accepted the end of `call` (conversation over or caller gone).
    pub(crate) fn ended(&mut self, call: CallId) {
        if let Some(agent) = self.connected.remove(&call) {
            assert_eq!(self.busy.remove(&agent), Some(call));
        }
    }

    /// Notes a registration as the engine was told it.
    pub(crate) fn registered(&mut self, agent: &str, registered: bool) {
        self.registered.insert(agent.to_string(), registered);
    }

    pub(crate) fn check(&mut self, a: &Action, now: Instant, early_end: Option<&str>) {
        match a {
            Action::Offer { call, agent } => {
                self.offers += 1;
                assert_eq!(self.state.get(agent), Some(&AgentStatus::Ringing), "{a:?}");
                assert!(
                    self.busy.insert(agent.clone(), *call).is_none(),
                    "double-booked {a:?}"
                );
                let q = self.queue_of[call];
                let k = self.key[call];
                let offers = self.offered.entry(*call).or_default();
                if self.waiting[q].contains(&k) {
                    assert_eq!(self.waiting[q].first(), Some(&k), "not FIFO {a:?}");
                    self.waiting[q].remove(&k);
                    assert!(offers.is_empty());
                } else {
                    assert!(!offers.is_empty(), "offer of a call not waiting {a:?}");
                    assert_eq!(QUEUES[q].1, Strategy::RingAll, "offered twice {a:?}");
                }
                offers.push(agent.clone());
            }
            Action::CancelOffer { call, agent } => {
                let offers = self.offered.get_mut(call).expect("cancel of no offer");
                let before = offers.len();
                offers.retain(|x| x != agent);
                assert_eq!(offers.len() + 1, before, "{a:?}");
                if offers.is_empty() {
                    self.offered.remove(call);
                }
                assert_eq!(self.busy.remove(agent), Some(*call));
            }
            Action::Connected { call, agent } => {
                assert_eq!(
                    self.offered.remove(call),
                    Some(vec![agent.clone()]),
                    "{a:?}"
                );
                assert_eq!(self.busy.get(agent), Some(call));
                self.connected.insert(*call, agent.clone());
            }
            Action::MusicOnHold { call } => {
                assert!(!self.offered.contains_key(call));
                assert!(self.waiting[self.queue_of[call]].insert(self.key[call]));
            }
            Action::Announce { call, position, .. } => {
                let q = &self.waiting[self.queue_of[call]];
                let pos = q
                    .iter()
                    .position(|k| k.2 == *call)
                    .expect("announce, not waiting");
                assert_eq!(pos + 1, *position);
            }
            Action::Overflow { call, .. } => {
                assert!(!self.offered.contains_key(call) && !self.connected.contains_key(call));
                self.waiting[self.queue_of[call]].remove(&self.key[call]);
            }
            Action::AgentState { agent, state, .. } => {
                let prev = self.state.insert(agent.clone(), *state);
                if *state == AgentStatus::Ringing {
                    assert_eq!(prev, Some(AgentStatus::Ready), "{a:?}");
                    assert!(self.registered[agent], "unregistered agent offered {a:?}");
                }
                if prev == Some(AgentStatus::WrapUp) && *state != AgentStatus::LoggedOut {
                    let asked = early_end == Some(agent.as_str());
                    assert!(asked || now >= self.wrap_end[agent], "wrap-up cut {a:?}");
                }
                if *state == AgentStatus::WrapUp {
                    self.wrap_end
                        .insert(agent.clone(), now + Duration::from_secs(WRAP));
                }
            }
            Action::Outcome { call, outcome } => {
                assert!(self.resolved.insert(*call), "two outcomes {a:?}");
                self.unresolved -= 1;
                let name = match outcome {
                    Outcome::Answered { .. } => "answered",
                    Outcome::Abandoned {
                        stage: AbandonStage::Queue,
                    } => "abandoned in queue",
                    Outcome::Abandoned {
                        stage: AbandonStage::Ringing,
                    } => "abandoned ringing",
                    Outcome::Overflowed => "overflowed",
                };
                *self.outcomes.entry(name).or_default() += 1;
                if !matches!(outcome, Outcome::Answered { .. }) {
                    assert!(!self.offered.contains_key(call) && !self.connected.contains_key(call));
                    self.waiting[self.queue_of[call]].remove(&self.key[call]);
                }
            }
        }
    }

    /// Invariants that hold between steps.
    pub(crate) fn check_totals(&self, e: &Engine) {
        let waiting: usize = self.waiting.iter().map(BTreeSet::len).sum();
        assert_eq!(self.unresolved as usize, waiting + self.offered.len());
        let s = e.stats();
        assert_eq!(s.offered, self.accepted);
        assert_eq!(s.outcomes() + self.unresolved, s.offered);
        assert_eq!(s.outcomes() as usize, self.resolved.len());
    }
}

struct Sim {
    e: Engine,
    rng: StdRng,
    now: Instant,
    sh: Shadow,
    next_call: u64,
    /// Calls the engine still holds (waiting, ringing, connected).
    live: Vec<CallId>,
    agents: Vec<AgentId>,
}

impl Sim {
    fn feed(&mut self, input: Input) {
        let early = match &input {
            Input::EndWrapUp { agent } => Some(agent.clone()),
            Input::SetState {
                agent,
                state: Requested::Ready | Requested::NotReady(_) | Requested::Break,
            } => Some(agent.clone()),
            _ => None,
        };
        match &input {
            Input::AgentLogin {
                agent,
                contact_registered,
            } => {
                self.sh
                    .registered
                    .insert(agent.clone(), *contact_registered);
            }
            Input::RegistrationChanged { agent, registered } => {
                self.sh.registered.insert(agent.clone(), *registered);
            }
            _ => {}
        }
        let arrival = match &input {
            Input::CallArrived {
                call,
                queue,
                priority,
                ..
            } => Some((*call, queue.clone(), *priority)),
            _ => None,
        };
        let ended = match &input {
            Input::CallEnded { call } | Input::CallerHungUp { call } => Some(*call),
            _ => None,
        };
        // The shadow learns of a new call before its first action.
        if let Some((call, queue, priority)) = &arrival {
            if let Some(q) = QUEUES.iter().position(|(n, _)| n == queue) {
                self.sh.queue_of.insert(*call, q);
                self.sh
                    .key
                    .insert(*call, (Reverse(*priority), *call_seq(call), *call));
            }
        }
        let ok = self.e.handle(input, self.now).is_ok();
        if ok {
            if let Some((call, ..)) = arrival {
                self.sh.accepted += 1;
                self.sh.unresolved += 1;
                self.live.push(call);
            }
            if let Some(call) = ended {
                if let Some(agent) = self.sh.connected.remove(&call) {
                    assert_eq!(self.sh.busy.remove(&agent), Some(call));
                }
            }
        }
        self.drain(early.as_deref());
    }

    fn drain(&mut self, early: Option<&str>) {
        while let Some(a) = self.e.poll_action() {
            self.sh.check(&a, self.now, early);
        }
        let (sh, e) = (&self.sh, &self.e);
        self.live
            .retain(|c| !sh.resolved.contains(c) || sh.connected.contains_key(c));
        sh.check_totals(e);
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.e.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(at);
            self.e.handle_timeout(at);
            self.drain(None);
        }
        self.now = end;
    }

    fn agent(&mut self) -> AgentId {
        self.agents[self.rng.gen_range(0..self.agents.len())].clone()
    }

    fn step(&mut self, arrivals: bool) {
        let r = self.rng.gen_range(0..100);
        match r {
            0..=11 if arrivals => {
                self.next_call += 1;
                let queue = if self.rng.gen_ratio(1, 500) {
                    "unknown".to_string()
                } else {
                    QUEUES[self.rng.gen_range(0..QUEUES.len())].0.to_string()
                };
                let priority = self.rng.gen_range(0..3);
                self.feed(Input::CallArrived {
                    call: CallId(self.next_call),
                    queue,
                    priority,
                    caller_number: "12345".into(),
                });
            }
            12..=35 => {
                // An offered agent answers (or, sometimes, rejects).
                let offers: Vec<(CallId, AgentId)> = self
                    .sh
                    .offered
                    .iter()
                    .flat_map(|(c, ags)| ags.iter().map(|a| (*c, a.clone())))
                    .collect();
                if let Some(i) = (!offers.is_empty()).then(|| self.rng.gen_range(0..offers.len())) {
                    let (call, agent) = offers[i].clone();
                    if self.rng.gen_ratio(1, 10) {
                        self.feed(Input::AgentRejected { call, agent });
                    } else {
                        self.feed(Input::AgentAnswered { call, agent });
                    }
                }
            }
            36..=49 => {
                let conn: Vec<CallId> = self.sh.connected.keys().copied().collect();
                if !conn.is_empty() {
                    let call = conn[self.rng.gen_range(0..conn.len())];
                    self.feed(Input::CallEnded { call });
                }
            }
            50..=55 => {
                // A hang-up at any stage, or of a call already gone.
                let call = if self.live.is_empty() || self.rng.gen_ratio(1, 20) {
                    CallId(self.rng.gen_range(1..=self.next_call + 1))
                } else {
                    self.live[self.rng.gen_range(0..self.live.len())]
                };
                self.feed(Input::CallerHungUp { call });
            }
            56..=63 => {
                let agent = self.agent();
                let roll = self.rng.gen_range(0..20);
                let input = match roll {
                    0..=17 => agent_change(&mut self.rng, agent, roll),
                    _ => Input::AgentAnswered {
                        call: CallId(self.rng.gen_range(1..=self.next_call + 1)),
                        agent,
                    },
                };
                self.feed(input);
            }
            _ => {
                let ms = self.rng.gen_range(0..2_000);
                self.advance(Duration::from_millis(ms));
            }
        }
    }
}

/// A random change of an agent's state for roll 0–17: log out, log in (mostly registered),
/// not-ready, break, ready, end wrap-up, registration lost or back. Shared by the call path's
/// simulation.
pub(crate) fn agent_change(rng: &mut StdRng, agent: AgentId, roll: u32) -> Input {
    match roll {
        0 => Input::AgentLogout { agent },
        1..=4 => Input::AgentLogin {
            agent,
            contact_registered: rng.gen_ratio(9, 10),
        },
        5 => Input::SetState {
            agent,
            state: Requested::NotReady("meeting".into()),
        },
        6 => Input::SetState {
            agent,
            state: Requested::Break,
        },
        7..=11 => Input::SetState {
            agent,
            state: Requested::Ready,
        },
        12..=13 => Input::EndWrapUp { agent },
        14 => Input::RegistrationChanged {
            agent,
            registered: false,
        },
        _ => Input::RegistrationChanged {
            agent,
            registered: true,
        },
    }
}

/// The call id's arrival order (ids are handed out in arrival order).
fn call_seq(call: &CallId) -> &u64 {
    &call.0
}

#[test]
fn randomized_simulation_keeps_the_invariants() {
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(12345);
    let cfg = sim_config(&mut rng);
    let agents = cfg.agents.iter().map(|a| a.id.clone()).collect();
    let mut sim = Sim {
        e: Engine::new(cfg),
        rng,
        now: Instant::now(),
        sh: Shadow {
            waiting: vec![BTreeSet::new(); QUEUES.len()],
            ..Shadow::default()
        },
        next_call: 0,
        live: Vec::new(),
        agents,
    };
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
    // Drain: no more arrivals; everything still open finishes.
    for _ in 0..200_000 {
        if sim.live.is_empty() {
            break;
        }
        sim.step(false);
        steps += 1;
    }
    for call in sim.live.clone() {
        sim.feed(Input::CallerHungUp { call });
    }
    sim.advance(Duration::from_secs(600));
    let s = sim.e.stats();
    assert_eq!(sim.sh.unresolved, 0);
    assert_eq!(s.offered, s.outcomes());
    assert!(s.offered >= 100_000, "{s:?}");
    let elapsed = started.elapsed();
    println!(
        "acd simulation: {} call ids, {} accepted, {} offers, {} steps in {:.1?}; ignored inputs {}",
        sim.next_call, s.offered, sim.sh.offers, steps, elapsed, s.ignored
    );
    let mut outcomes: Vec<_> = sim.sh.outcomes.iter().collect();
    outcomes.sort();
    for (name, n) in outcomes {
        println!("  {name}: {n}");
    }
    assert!(s.answered > 0 && s.abandoned_queue > 0 && s.abandoned_ringing > 0 && s.overflowed > 0);
}
