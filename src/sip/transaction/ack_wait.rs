//! The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4), run by the layer as a service.
//!
//! A 2xx to an INVITE ends the server transaction's part in reliability (RFC 6026): the ACK
//! for it is a request of its own, with a new branch, so it is matched on the dialog's terms
//! instead: Call-ID, CSeq number and To tag. Until that ACK arrives the 2xx is re-sent at T1,
//! 2·T1, … capped at T2 on unreliable transports; after 64·T1 without it the TU hears
//! [`TimerName::AckWait`] and should send BYE.
//!
//! RFC 3261 asks for these retransmissions whatever the transport, since the 2xx may cross an
//! unreliable hop further on. Here they run on unreliable transports only (every hop of this
//! server's trunks is direct); the 64·T1 wait for the ACK applies on every transport.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::{Armed, Flow, Owner, Shared};
use super::{Key, Message, Output, Peer, ServerKey, TimerName};

/// The dialog-side identity of a 2xx and the ACK that acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct AckKey {
    call_id: String,
    cseq: u32,
    to_tag: Option<String>,
}

impl AckKey {
    /// From a 2xx response or from an ACK: both carry the same three values.
    pub(super) fn of(msg: &Message) -> Option<AckKey> {
        Some(AckKey {
            call_id: msg.call_id().ok()?.to_string(),
            cseq: msg.cseq().ok()?.seq,
            to_tag: msg.to().ok()?.tag().map(str::to_string),
        })
    }
}

#[derive(Debug)]
pub(super) struct AckWaiter {
    key: AckKey,
    /// The INVITE server transaction that sent the 2xx; named in the timeout.
    pub(super) server: ServerKey,
    pub(super) peer: Peer,
    response: Arc<Message>,
    interval: Duration,
    pub(super) armed: Armed,
}

impl AckWaiter {
    /// Starts waiting for the ACK of a 2xx that has just been transmitted.
    pub(super) fn start(
        key: AckKey,
        server: ServerKey,
        peer: Peer,
        response: Arc<Message>,
        sh: &mut Shared,
        now: Instant,
    ) -> AckWaiter {
        let mut w = AckWaiter {
            key,
            server,
            peer,
            response,
            interval: sh.cfg.t1,
            armed: Armed::default(),
        };
        let deadline = sh.cfg.t1x64();
        w.arm(sh, TimerName::AckWait, deadline, now);
        if !peer.transport.is_reliable() {
            w.arm(sh, TimerName::Resend2xx, sh.cfg.t1, now);
        }
        w
    }

    fn arm(&mut self, sh: &mut Shared, name: TimerName, after: Duration, now: Instant) {
        let owner = Owner::Ack(self.key.clone());
        sh.arm(&mut self.armed, owner, name, after, now);
    }

    /// The TU sent the 2xx again (perhaps changed): retransmit that one from now on.
    pub(super) fn replace(&mut self, response: Arc<Message>) {
        self.response = response;
    }

    pub(super) fn on_timer(&mut self, name: TimerName, sh: &mut Shared, now: Instant) -> Flow {
        match name {
            TimerName::Resend2xx => {
                sh.transmit(self.peer, self.response.clone());
                self.interval = (self.interval * 2).min(sh.cfg.t2);
                self.arm(sh, TimerName::Resend2xx, self.interval, now);
                Flow::Continue
            }
            TimerName::AckWait => {
                sh.emit(Output::Timeout {
                    key: Key::Server(self.server.clone()),
                    timer: TimerName::AckWait,
                });
                Flow::Terminate
            }
            _ => Flow::Continue,
        }
    }
}
