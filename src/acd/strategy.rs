//! Routing strategies: which of the eligible agents get the offer.

use std::time::{Duration, Instant};

/// A routing strategy (`[[queues]] strategy`, see `crate::config::QUEUE_STRATEGIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The agent idle the longest (ties: member order).
    LongestIdle,
    /// The next member after the one last offered a call, in member order.
    RoundRobin,
    /// Every eligible agent at once; the first answer wins.
    RingAll,
    /// The agent with the fewest answered calls (ties: longest idle).
    FewestCalls,
    /// The agent with the least total talk time (ties: longest idle).
    LeastTalkTime,
}

impl Strategy {
    /// Parses a config name (`longest-idle`, `round-robin`, `ring-all`, `fewest-calls`,
    /// `least-talk-time`).
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name {
            "longest-idle" => Strategy::LongestIdle,
            "round-robin" => Strategy::RoundRobin,
            "ring-all" => Strategy::RingAll,
            "fewest-calls" => Strategy::FewestCalls,
            "least-talk-time" => Strategy::LeastTalkTime,
            _ => return None,
        })
    }

    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest-idle",
            Strategy::RoundRobin => "round-robin",
            Strategy::RingAll => "ring-all",
            Strategy::FewestCalls => "fewest-calls",
            Strategy::LeastTalkTime => "least-talk-time",
        }
    }
}

/// An eligible agent as the strategies see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Index in the queue's member list (config order).
    pub member: usize,
    pub idle_since: Instant,
    pub answered: u64,
    pub talk: Duration,
}

/// The candidates (indices into `cands`) to offer the call to: all of them for ring-all,
/// otherwise one. `rr_last` is the member index last offered (round-robin). Empty only when
/// `cands` is.
pub fn pick(strategy: Strategy, cands: &[Candidate], rr_last: Option<usize>) -> Vec<usize> {
    if cands.is_empty() {
        return Vec::new();
    }
    let idle = |c: &Candidate| (c.idle_since, c.member);
    let best = match strategy {
        Strategy::RingAll => return (0..cands.len()).collect(),
        Strategy::LongestIdle => min_by_key(cands, idle),
        Strategy::FewestCalls => min_by_key(cands, |c| (c.answered, idle(c))),
        Strategy::LeastTalkTime => min_by_key(cands, |c| (c.talk, idle(c))),
        Strategy::RoundRobin => {
            let after = |c: &Candidate| match rr_last {
                Some(last) if c.member <= last => (1, c.member),
                _ => (0, c.member),
            };
            min_by_key(cands, after)
        }
    };
    vec![best]
}

fn min_by_key<K: Ord>(cands: &[Candidate], key: impl Fn(&Candidate) -> K) -> usize {
    let mut best = 0;
    for i in 1..cands.len() {
        if key(&cands[i]) < key(&cands[best]) {
            best = i;
        }
    }
    best
}
