//! Server transactions: the INVITE machine (RFC 3261 §17.2.1 with the RFC 6026 Accepted state)
//! and the non-INVITE machine (§17.2.2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::{Armed, Flow, Owner, Shared, Timed};
use super::{Key, Message, Method, Output, Peer, ServerKey, ServerState, TimerName, TxError};

#[derive(Debug)]
pub(super) struct ServerTx {
    key: ServerKey,
    invite: bool,
    pub(super) state: ServerState,
    /// Where the request came from, and so where responses go.
    pub(super) peer: Peer,
    /// The last response sent, re-sent for request retransmissions and by Timer G. Not kept
    /// in Accepted, where nothing is re-sent (the 2xx retransmission service has its copy):
    /// thousands of calls linger there for Timer L.
    last: Option<Arc<Message>>,
    /// The To tag of the final response, which an RFC 2543 ACK must carry to match.
    final_tag: Option<String>,
    /// Current Timer G interval.
    interval: Duration,
    pub(super) armed: Armed,
}

impl ServerTx {
    /// A new transaction for `req`. An INVITE starts in Proceeding and answers 100 Trying at
    /// once, which also stops the client's INVITE retransmissions.
    pub(super) fn start(key: ServerKey, req: &Message, peer: Peer, sh: &mut Shared) -> ServerTx {
        let invite = req.method() == Some(&Method::Invite);
        let mut tx = ServerTx {
            key,
            invite,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            peer,
            last: None,
            final_tag: None,
            interval: sh.cfg.t1,
            armed: Armed::default(),
        };
        if invite {
            let mut trying = Message::response_to(req, 100, None);
            if let Some(ts) = req.header("Timestamp") {
                trying.push_header("Timestamp", ts);
            }
            let trying = Arc::new(trying);
            sh.transmit(peer, trying.clone());
            tx.last = Some(trying);
        }
        tx
    }

    /// The To tag of the final response, which an RFC 2543 ACK must carry to match.
    pub(super) fn final_to_tag(&self) -> Option<String> {
        self.final_tag.clone()
    }

    /// The request arrived again (same key, not an ACK).
    pub(super) fn on_retransmission(&mut self, sh: &mut Shared) {
        use ServerState::*;
        match self.state {
            // Trying: nothing to send yet. Confirmed, Accepted: absorbed without an answer
            // (RFC 6026 §7.1: the 2xx is retransmitted by the UAS core, not on demand).
            Trying | Confirmed | Accepted => {}
            Proceeding | Completed => {
                if let Some(last) = &self.last {
                    sh.transmit(self.peer, last.clone());
                }
            }
        }
    }

    /// An ACK matching this INVITE transaction. `None` means it is not the transaction's to
    /// absorb (an RFC 2543 ACK for a 2xx while Accepted) and goes to the TU.
    pub(super) fn on_ack(&mut self, sh: &mut Shared, now: Instant) -> Option<Flow> {
        match self.state {
            ServerState::Completed => {
                sh.disarm_all(&mut self.armed);
                self.state = ServerState::Confirmed;
                Some(self.linger(sh, TimerName::I, sh.cfg.t4, now))
            }
            ServerState::Accepted => None,
            // Confirmed: ACK retransmissions absorbed. Proceeding: an ACK before any final
            // response acknowledges nothing and is dropped.
            _ => Some(Flow::Continue),
        }
    }

    pub(super) fn on_tu_response(
        &mut self,
        res: Arc<Message>,
        sh: &mut Shared,
        now: Instant,
    ) -> Result<Flow, TxError> {
        let code = res.status().ok_or(TxError::NotAResponse)?;
        use ServerState::*;
        let provisional = code < 200;
        let flow = if self.invite {
            match (self.state, code) {
                (Proceeding, 100..=199) => Flow::Continue,
                (Proceeding | Accepted, 200..=299) => {
                    if self.state == Proceeding {
                        self.state = Accepted;
                        self.arm(sh, TimerName::L, sh.cfg.t1x64(), now);
                    }
                    Flow::Continue
                }
                (Proceeding, _) => {
                    self.state = Completed;
                    if !self.peer.transport.is_reliable() {
                        self.arm(sh, TimerName::G, sh.cfg.t1, now);
                    }
                    self.arm(sh, TimerName::H, sh.cfg.t1x64(), now);
                    Flow::Continue
                }
                _ => return Err(TxError::AlreadyFinal),
            }
        } else {
            match self.state {
                Trying | Proceeding if provisional => {
                    self.state = Proceeding;
                    Flow::Continue
                }
                Trying | Proceeding => {
                    self.state = Completed;
                    self.final_tag = res.to().ok().and_then(|t| t.tag().map(str::to_string));
                    sh.transmit(self.peer, res.clone());
                    self.last = Some(res);
                    return Ok(self.linger(sh, TimerName::J, sh.cfg.t1x64(), now));
                }
                _ => return Err(TxError::AlreadyFinal),
            }
        };
        if code >= 200 {
            self.final_tag = res.to().ok().and_then(|t| t.tag().map(str::to_string));
        }
        sh.transmit(self.peer, res.clone());
        self.last = (self.state != Accepted).then_some(res);
        Ok(flow)
    }

    pub(super) fn on_timer(&mut self, name: TimerName, sh: &mut Shared, now: Instant) -> Flow {
        use ServerState::*;
        match (self.state, name) {
            (Completed, TimerName::G) => {
                if let Some(last) = &self.last {
                    sh.transmit(self.peer, last.clone());
                }
                self.interval = (self.interval * 2).min(sh.cfg.t2);
                self.arm(sh, TimerName::G, self.interval, now);
                Flow::Continue
            }
            (Completed, TimerName::H) => {
                sh.emit(Output::Timeout {
                    key: Key::Server(self.key.clone()),
                    timer: TimerName::H,
                });
                Flow::Terminate
            }
            (Confirmed, TimerName::I) | (Completed, TimerName::J) | (Accepted, TimerName::L) => {
                Flow::Terminate
            }
            // Cannot happen: leaving a state disarms its timers.
            _ => Flow::Continue,
        }
    }
}

impl Timed for ServerTx {
    fn timers(&mut self) -> (&mut Armed, Owner, bool) {
        let owner = Owner::Server(self.key.clone());
        (&mut self.armed, owner, self.peer.transport.is_reliable())
    }
}
