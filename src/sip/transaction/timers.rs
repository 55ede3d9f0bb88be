//! The timer queue and the context the state machines act through.
//!
//! One ordered map holds every armed timer of every transaction, keyed by deadline and an
//! insertion sequence number (so timers due at the same instant fire in the order they were
//! armed and keys never collide). Each transaction remembers the ids of its own armed timers;
//! disarming removes the entry from the map, so `poll_timeout` is the first key and never a
//! timer that no longer matters. A timer popped for a transaction that is gone or no longer
//! holds that id does nothing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ack_wait::AckKey;
use super::{ClientKey, Message, Output, Peer, ServerKey, TimerConfig, TimerName};

/// Deadline plus insertion sequence.
pub(super) type TimerId = (Instant, u64);

/// Whose timer it is.
#[derive(Debug, Clone)]
pub(super) enum Owner {
    Client(ClientKey),
    Server(ServerKey),
    Ack(AckKey),
}

/// The timers one transaction has armed, at most one per name.
#[derive(Debug, Default)]
pub(super) struct Armed(Vec<(TimerName, TimerId)>);

impl Armed {
    /// Forgets `id` if it is the armed timer called `name`; false for a stale timer.
    pub(super) fn fired(&mut self, name: TimerName, id: TimerId) -> bool {
        match self.0.iter().position(|&(n, i)| n == name && i == id) {
            Some(pos) => {
                self.0.swap_remove(pos);
                true
            }
            None => false,
        }
    }

    /// Every armed timer with its id.
    pub(super) fn list(&self) -> impl Iterator<Item = (TimerName, TimerId)> + '_ {
        self.0.iter().copied()
    }
}

/// What every state machine needs besides itself: the configuration, the timer queue and the
/// output queue.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) cfg: TimerConfig,
    wheel: BTreeMap<TimerId, (Owner, TimerName)>,
    seq: u64,
    pub(super) out: VecDeque<Output>,
}

impl Shared {
    pub(super) fn new(cfg: TimerConfig) -> Shared {
        Shared {
            cfg,
            wheel: BTreeMap::new(),
            seq: 0,
            out: VecDeque::new(),
        }
    }

    /// Arms (or re-arms) the timer `name` of a transaction to fire `after` from `now`.
    pub(super) fn arm(
        &mut self,
        armed: &mut Armed,
        owner: Owner,
        name: TimerName,
        after: Duration,
        now: Instant,
    ) {
        self.disarm(armed, name);
        let id = (now + after, self.seq);
        self.seq += 1;
        self.wheel.insert(id, (owner, name));
        armed.0.push((name, id));
    }

    pub(super) fn disarm(&mut self, armed: &mut Armed, name: TimerName) {
        if let Some(pos) = armed.0.iter().position(|&(n, _)| n == name) {
            let (_, id) = armed.0.swap_remove(pos);
            self.wheel.remove(&id);
        }
    }

    pub(super) fn disarm_all(&mut self, armed: &mut Armed) {
        for (_, id) in armed.0.drain(..) {
            self.wheel.remove(&id);
        }
    }

    /// The earliest armed deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.wheel.first_key_value().map(|(&(at, _), _)| at)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(TimerId, Owner, TimerName)> {
        let entry = self.wheel.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let id = *entry.key();
        let (owner, name) = entry.remove();
        Some((id, owner, name))
    }

    pub(super) fn transmit(&mut self, to: Peer, msg: Arc<Message>) {
        self.out.push_back(Output::Transmit { to, msg });
    }

    pub(super) fn emit(&mut self, o: Output) {
        self.out.push_back(o);
    }

    pub(super) fn pending_timers(&self) -> usize {
        self.wheel.len()
    }
}

/// Whether a state machine lives on after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(super) enum Flow {
    Continue,
    Terminate,
}

/// What the two transaction machines share about their timers: arming one under their owner,
/// and the absorption timers that end a transaction at once on reliable transports.
pub(super) trait Timed {
    /// The transaction's armed timers, its owner key and whether its transport is reliable.
    fn timers(&mut self) -> (&mut Armed, Owner, bool);

    fn arm(&mut self, sh: &mut Shared, name: TimerName, after: Duration, now: Instant) {
        let (armed, owner, _) = self.timers();
        sh.arm(armed, owner, name, after, now);
    }

    /// The absorption timers (D, I, J, K): zero on reliable transports, which ends the
    /// transaction at once.
    fn linger(&mut self, sh: &mut Shared, name: TimerName, after: Duration, now: Instant) -> Flow {
        let (armed, owner, reliable) = self.timers();
        if reliable || after.is_zero() {
            return Flow::Terminate;
        }
        sh.arm(armed, owner, name, after, now);
        Flow::Continue
    }
}
