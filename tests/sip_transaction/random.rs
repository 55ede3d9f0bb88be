//! Random interleavings of messages, TU calls, transport failures and time, checked against
//! properties that hold whatever the order: a transaction reports `Terminated` once and only
//! after it existed, `len()` counts exactly the live ones, time never runs backwards in
//! `poll_timeout`, and once every timer has run only transactions waiting on the TU (or a
//! ringing INVITE, which has no timer) are left.

use std::collections::HashSet;

use proptest::prelude::*;

use hotline::sip::message::Message;
use hotline::sip::transaction::{
    ClientState, Key, Output, Peer, ServerKey, ServerState, TimerConfig, TransactionLayer,
    Transport,
};

use crate::harness::{response, tcp, udp, Req};

#[derive(Debug, Clone)]
enum Step {
    /// Client request in slot 0..3 (INVITE for even slots, OPTIONS for odd), over TCP or not.
    Send {
        slot: u8,
        reliable: bool,
    },
    /// A response to the client request in `slot`.
    Reply {
        slot: u8,
        status: u16,
        tag: u8,
    },
    /// A request from the far end: remote slot, method index, legacy Via or not.
    Receive {
        slot: u8,
        method: u8,
        legacy: bool,
    },
    /// The TU answers the `nth` request it was given.
    Answer {
        nth: u8,
        status: u16,
    },
    TransportError {
        nth: u8,
    },
    Wait {
        ms: u64,
    },
}

const STATUSES: [u16; 7] = [100, 180, 200, 302, 404, 486, 603];
const METHODS: [&str; 4] = ["INVITE", "ACK", "CANCEL", "BYE"];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..3, any::<bool>()).prop_map(|(slot, reliable)| Step::Send { slot, reliable }),
        (0u8..3, 0usize..7, 0u8..2).prop_map(|(slot, s, tag)| Step::Reply {
            slot,
            status: STATUSES[s],
            tag
        }),
        (0u8..2, 0u8..4, any::<bool>()).prop_map(|(slot, method, legacy)| Step::Receive {
            slot,
            method,
            legacy
        }),
        (0u8..4, 0usize..7).prop_map(|(nth, s)| Step::Answer {
            nth,
            status: STATUSES[s]
        }),
        (0u8..4).prop_map(|nth| Step::TransportError { nth }),
        prop_oneof![Just(1u64), Just(499), Just(500), Just(4000), Just(32_000)]
            .prop_map(|ms| Step::Wait { ms }),
    ]
}

struct World {
    layer: TransactionLayer,
    now: std::time::Instant,
    live: HashSet<Key>,
    sent: [Option<(Message, Peer)>; 3],
    given: Vec<(ServerKey, Message)>,
}

impl World {
    fn drain(&mut self) -> Result<(), TestCaseError> {
        while let Some(o) = self.layer.poll_output() {
            match o {
                Output::Request { key, msg, .. } => {
                    prop_assert!(self.live.insert(Key::Server(key.clone())), "new twice");
                    self.given.push((key, msg));
                }
                Output::Terminated { key } => {
                    prop_assert!(self.live.remove(&key), "terminated unknown {key:?}");
                }
                _ => {}
            }
        }
        prop_assert_eq!(self.layer.len(), self.live.len());
        // Ending a transaction takes its timers with it, at once.
        if self.layer.is_empty() && self.layer.pending_acks() == 0 {
            prop_assert_eq!(self.layer.pending_timers(), 0);
        }
        // Every call leaves the next deadline in the future: nothing is overdue.
        if let Some(t) = self.layer.poll_timeout() {
            prop_assert!(t >= self.now, "a deadline in the past");
        }
        Ok(())
    }

    fn wait(&mut self, ms: u64) -> Result<(), TestCaseError> {
        let target = self.now + std::time::Duration::from_millis(ms);
        while let Some(t) = self.layer.poll_timeout() {
            if t > target {
                break;
            }
            prop_assert!(t >= self.now, "a deadline in the past");
            self.now = t;
            self.layer.handle_timeout(t);
            self.drain()?;
        }
        self.now = target;
        Ok(())
    }

    fn apply(&mut self, s: &Step) -> Result<(), TestCaseError> {
        match *s {
            Step::Send { slot, reliable } => {
                let method = if slot % 2 == 0 { "INVITE" } else { "OPTIONS" };
                let (transport, peer) = if reliable {
                    (Transport::Tcp, tcp())
                } else {
                    (Transport::Udp, udp())
                };
                let req = Req::new(method, 100 + u32::from(slot)).outgoing(transport);
                if let Ok(k) = self.layer.send_request(req.clone(), peer, self.now) {
                    prop_assert!(self.live.insert(Key::Client(k)));
                    self.sent[slot as usize] = Some((req, peer));
                }
            }
            Step::Reply { slot, status, tag } => {
                if let Some((req, peer)) = &self.sent[slot as usize] {
                    let res = response(req, status, ["a", "b"][tag as usize]);
                    self.layer.handle_message(res, *peer, self.now);
                }
            }
            Step::Receive {
                slot,
                method,
                legacy,
            } => {
                let mut r = Req::invite(u32::from(slot)).method(METHODS[method as usize]);
                if METHODS[method as usize] == "ACK" {
                    r = r.to_tag("uas");
                }
                if legacy {
                    r = r.legacy();
                }
                self.layer.handle_message(r.build(), udp(), self.now);
            }
            Step::Answer { nth, status } => {
                if let Some((key, req)) = self.given.get(nth as usize).cloned() {
                    let _ = self
                        .layer
                        .send_response(&key, response(&req, status, "uas"), self.now);
                }
            }
            Step::TransportError { nth } => {
                if let Some((key, _)) = self.given.get(nth as usize).cloned() {
                    self.layer.handle_transport_error(&Key::Server(key));
                }
            }
            Step::Wait { ms } => self.wait(ms)?,
        }
        self.drain()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_interleaving_keeps_the_books_straight(steps in prop::collection::vec(step(), 1..40)) {
        let mut w = World {
            layer: TransactionLayer::new(TimerConfig::default()),
            now: std::time::Instant::now(),
            live: HashSet::new(),
            sent: [None, None, None],
            given: Vec::new(),
        };
        for s in &steps {
            w.apply(s)?;
        }
        // Run every timer out.
        w.wait(1_000_000)?;
        prop_assert_eq!(w.layer.poll_timeout(), None);
        prop_assert_eq!(w.layer.pending_acks(), 0);
        for key in &w.live {
            match key {
                Key::Client(k) => prop_assert_eq!(
                    w.layer.client_state(k),
                    Some(ClientState::Proceeding),
                    "only a ringing INVITE waits without a timer"
                ),
                Key::Server(k) => {
                    let st = w.layer.server_state(k);
                    prop_assert!(
                        matches!(st, Some(ServerState::Trying | ServerState::Proceeding)),
                        "only requests the TU has not answered finally remain: {:?}",
                        st
                    );
                }
            }
        }
    }
}
