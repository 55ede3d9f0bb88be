//! Client transactions: the INVITE machine (RFC 3261 §17.1.1 with the RFC 6026 Accepted state)
//! and the non-INVITE machine (§17.1.2).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::{Armed, Flow, Owner, Shared, Timed};
use super::{
    ack_for, ClientKey, ClientState, Key, Message, Method, Output, Peer, TimerName, TIMER_D,
};

/// How many distinct provisional responses a transaction remembers for deduplication.
const MAX_SEEN: usize = 16;

#[derive(Debug)]
pub(super) struct ClientTx {
    key: ClientKey,
    invite: bool,
    pub(super) state: ClientState,
    request: Arc<Message>,
    pub(super) peer: Peer,
    /// Current retransmission interval of Timer A or E.
    interval: Duration,
    pub(super) armed: Armed,
    /// The ACK sent for a non-2xx final, re-sent for each retransmission of that final.
    ack: Option<Arc<Message>>,
    /// Fingerprints of the provisional responses already given to the TU.
    seen: Vec<u64>,
}

impl ClientTx {
    /// Sends the request and arms the initial timers.
    pub(super) fn start(
        key: ClientKey,
        request: Message,
        peer: Peer,
        sh: &mut Shared,
        now: Instant,
    ) -> ClientTx {
        let invite = *key.method() == Method::Invite;
        let mut tx = ClientTx {
            key,
            invite,
            state: if invite {
                ClientState::Calling
            } else {
                ClientState::Trying
            },
            request: Arc::new(request),
            peer,
            interval: sh.cfg.t1,
            armed: Armed::default(),
            ack: None,
            seen: Vec::new(),
        };
        sh.transmit(peer, tx.request.clone());
        let (retransmit, give_up) = if invite {
            (TimerName::A, TimerName::B)
        } else {
            (TimerName::E, TimerName::F)
        };
        if !peer.transport.is_reliable() {
            tx.arm(sh, retransmit, sh.cfg.t1, now);
        }
        tx.arm(sh, give_up, sh.cfg.t1x64(), now);
        tx
    }

    fn to_tu(&self, sh: &mut Shared, msg: Message) {
        sh.emit(Output::Response {
            key: self.key.clone(),
            msg,
        });
    }

    /// A provisional goes to the TU unless it is a retransmission of one already given.
    fn provisional_to_tu(&mut self, sh: &mut Shared, msg: Message) {
        let fp = fingerprint(&msg);
        if self.seen.contains(&fp) {
            return;
        }
        if self.seen.len() == MAX_SEEN {
            self.seen.remove(0);
        }
        self.seen.push(fp);
        self.to_tu(sh, msg);
    }

    pub(super) fn on_response(&mut self, res: Message, sh: &mut Shared, now: Instant) -> Flow {
        let Some(code) = res.status().filter(|c| (100..700).contains(c)) else {
            return Flow::Continue;
        };
        if self.invite {
            self.invite_response(code, res, sh, now)
        } else {
            self.non_invite_response(code, res, sh, now)
        }
    }

    fn invite_response(&mut self, code: u16, res: Message, sh: &mut Shared, now: Instant) -> Flow {
        use ClientState::*;
        match (self.state, code) {
            (Calling | Proceeding, 100..=199) => {
                // Retransmissions stop, and so does Timer B: the callee may ring for longer
                // than 64·T1 (Figure 5 has no Timer B in Proceeding). The TU bounds ringing
                // with its own timer and a CANCEL.
                sh.disarm_all(&mut self.armed);
                self.state = Proceeding;
                self.provisional_to_tu(sh, res);
                Flow::Continue
            }
            (Calling | Proceeding, 200..=299) => {
                sh.disarm_all(&mut self.armed);
                self.state = Accepted;
                self.arm(sh, TimerName::M, sh.cfg.t1x64(), now);
                self.to_tu(sh, res);
                Flow::Continue
            }
            (Calling | Proceeding, _) => {
                sh.disarm_all(&mut self.armed);
                self.state = Completed;
                if let Some(ack) = ack_for(&self.request, &res) {
                    let ack = Arc::new(ack);
                    sh.transmit(self.peer, ack.clone());
                    self.ack = Some(ack);
                }
                self.to_tu(sh, res);
                self.linger(sh, TimerName::D, TIMER_D, now)
            }
            (Completed, 300..) => {
                if let Some(ack) = &self.ack {
                    sh.transmit(self.peer, ack.clone());
                }
                Flow::Continue
            }
            // A 2xx from another fork after a non-2xx from this one, or any 2xx while
            // Accepted (retransmissions and forks alike): the TU acknowledges each.
            (Completed | Accepted, 200..=299) => {
                self.to_tu(sh, res);
                Flow::Continue
            }
            // Late provisionals, and non-2xx finals while Accepted, are absorbed.
            _ => Flow::Continue,
        }
    }

    fn non_invite_response(
        &mut self,
        code: u16,
        res: Message,
        sh: &mut Shared,
        now: Instant,
    ) -> Flow {
        use ClientState::*;
        match (self.state, code) {
            (Trying | Proceeding, 100..=199) => {
                // Timer E keeps its current deadline; from its next firing it uses T2.
                self.state = Proceeding;
                self.provisional_to_tu(sh, res);
                Flow::Continue
            }
            (Trying | Proceeding, _) => {
                sh.disarm_all(&mut self.armed);
                self.state = Completed;
                self.to_tu(sh, res);
                self.linger(sh, TimerName::K, sh.cfg.t4, now)
            }
            // Completed: response retransmissions are absorbed.
            _ => Flow::Continue,
        }
    }

    pub(super) fn on_timer(&mut self, name: TimerName, sh: &mut Shared, now: Instant) -> Flow {
        use ClientState::*;
        match (self.state, name) {
            (Calling, TimerName::A) => {
                sh.transmit(self.peer, self.request.clone());
                self.interval *= 2;
                self.arm(sh, TimerName::A, self.interval, now);
                Flow::Continue
            }
            (Trying | Proceeding, TimerName::E) => {
                sh.transmit(self.peer, self.request.clone());
                self.interval = if self.state == Proceeding {
                    sh.cfg.t2
                } else {
                    (self.interval * 2).min(sh.cfg.t2)
                };
                self.arm(sh, TimerName::E, self.interval, now);
                Flow::Continue
            }
            (Calling, TimerName::B) | (Trying | Proceeding, TimerName::F) => {
                sh.emit(Output::Timeout {
                    key: Key::Client(self.key.clone()),
                    timer: name,
                });
                Flow::Terminate
            }
            (Completed, TimerName::D | TimerName::K) | (Accepted, TimerName::M) => Flow::Terminate,
            // Cannot happen: leaving a state disarms its timers.
            _ => Flow::Continue,
        }
    }
}

/// What makes two provisional responses the same one: status, To tag (the fork), RSeq (a
/// reliable provisional's number) and body.
fn fingerprint(res: &Message) -> u64 {
    let mut h = DefaultHasher::new();
    res.status().hash(&mut h);
    res.to()
        .ok()
        .and_then(|t| t.tag().map(str::to_string))
        .hash(&mut h);
    res.header("RSeq").map(str::trim).hash(&mut h);
    res.body.hash(&mut h);
    h.finish()
}

impl Timed for ClientTx {
    fn timers(&mut self) -> (&mut Armed, Owner, bool) {
        let owner = Owner::Client(self.key.clone());
        (&mut self.armed, owner, self.peer.transport.is_reliable())
    }
}
