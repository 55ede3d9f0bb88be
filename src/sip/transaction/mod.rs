//! The RFC 3261 §17 transaction layer, with the RFC 6026 corrections (the INVITE `Accepted`
//! states and Timers L and M), written sans-IO.
//!
//! [`TransactionLayer`] owns every client and server transaction. It never reads a clock,
//! touches a socket or spawns a task: the driver feeds it parsed messages, calls from the
//! transaction user (TU) and the current [`Instant`](std::time::Instant), and drains what it
//! wants done:
//!
//! ```text
//!   network ──handle_message──►┌──────────────────┐──poll_output──► Transmit / TU events
//!   TU ─send_request/response─►│ TransactionLayer │
//!   clock ──handle_timeout────►└──────────────────┘──poll_timeout─► next deadline
//! ```
//!
//! After every call the driver drains [`TransactionLayer::poll_output`] until it returns
//! `None`, then sleeps until [`TransactionLayer::poll_timeout`] (or the next message) and calls
//! [`TransactionLayer::handle_timeout`] with the time it woke up. Timers are re-armed relative to
//! the `now` they fire at, so a late wake-up delays the schedule rather than bunching
//! retransmissions.
//!
//! Besides the four §17 machines the layer runs one UAS-core service: retransmission of a 2xx
//! to an INVITE until its ACK arrives (RFC 3261 §13.3.1.4), because it is pure timer work and
//! the driver should not need a second timer source for it. See [`TimerName::Resend2xx`] and
//! [`TimerName::AckWait`].
//!
//! # The driver's part
//!
//! * Parse, then hand over with the [`Peer`] it came from. Validation beyond what matching
//!   needs (a top Via; Call-ID and CSeq for RFC 2543 senders) is the TU's: it answers a bad
//!   request 400 through the transaction. RFC 3261 §18.1.2/§18.2.1 checks (a response with
//!   several Vias, `received`/`rport` stamping) belong to the transport, before this layer.
//! * [`Output::Transmit`] to a [`Peer`]: for responses, the peer the request came from. When a
//!   send fails, call [`TransactionLayer::handle_transport_error`] if the driver knows the
//!   transaction, or [`TransactionLayer::handle_peer_error`] (a closed TCP connection).
//! * Timers: one sleep until [`TransactionLayer::poll_timeout`]; re-read it after every call,
//!   since any call may move it earlier or clear it.
//!
//! # The TU's part
//!
//! * Answer every [`Output::Request`]: §17.2.2 gives a non-INVITE server transaction in
//!   Trying no timer, so an unanswered one lives until [`TransactionLayer::abandon`].
//! * Send the ACK for a 2xx itself ([`TransactionLayer::send_stateless`]), for the first 2xx
//!   and again for every retransmission reported while the client transaction is Accepted or
//!   as [`Output::StrayResponse`]. The layer builds only the ACK for non-2xx finals.
//! * A ringing INVITE client transaction has no timeout after the first provisional (Timer B
//!   is stopped): bound ringing with a TU timer and [`cancel_for`].
//! * On [`Output::Timeout`] with [`TimerName::AckWait`], end the dialog with BYE.
//! * Loop detection and merged requests (RFC 3261 §8.2.2.2) are the TU's: two requests with
//!   different branches are different transactions here.

mod ack_wait;
mod client;
mod key;
mod layer;
mod server;
mod timers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::message::{new_branch, Message, Method};

pub use key::{ClientKey, Key, ServerKey};
pub use layer::TransactionLayer;

/// The RFC 3261 timer base values (Table 4). Every lettered timer derives from these, except
/// Timer D, which is a fixed 32 s on unreliable transports ([`TIMER_D`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip estimate: first retransmission interval (default 500 ms).
    pub t1: Duration,
    /// Cap on the retransmission interval of non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Longest time a message stays in the network (5 s): Timers I and K.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J (unreliable), L, M and the 2xx ACK wait.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// Timer D on unreliable transports (RFC 3261 Table 4: "> 32 s"); zero on reliable ones.
pub const TIMER_D: Duration = Duration::from_secs(32);

/// The transport a message travels on. Only reliability matters to the transaction layer;
/// TLS and WebSocket would join TCP on the reliable side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// Reliable transports take no retransmission timers and zero-length absorption timers.
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The transport token of a Via header.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// The other end of a hop: where a request came from or where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// Every timer the layer arms (RFC 3261 Table 4, RFC 6026 L and M, and the two §13.3.1.4
/// timers of the 2xx retransmission service).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerName {
    /// INVITE client: request retransmission (T1, doubling), unreliable only.
    A,
    /// INVITE client: give up in Calling (64·T1).
    B,
    /// INVITE client: wait for final-response retransmissions in Completed.
    D,
    /// Non-INVITE client: request retransmission (T1 doubling to T2; T2 in Proceeding).
    E,
    /// Non-INVITE client: give up (64·T1).
    F,
    /// INVITE server: non-2xx final retransmission (T1 doubling to T2), unreliable only.
    G,
    /// INVITE server: give up waiting for the ACK of a non-2xx (64·T1).
    H,
    /// INVITE server: absorb ACK retransmissions in Confirmed (T4).
    I,
    /// Non-INVITE server: absorb request retransmissions in Completed (64·T1).
    J,
    /// Non-INVITE client: absorb response retransmissions in Completed (T4).
    K,
    /// INVITE server (RFC 6026): absorb INVITE retransmissions in Accepted (64·T1).
    L,
    /// INVITE client (RFC 6026): accept further 2xx in Accepted (64·T1).
    M,
    /// UAS core: the next retransmission of a 2xx to an INVITE (T1 doubling to T2).
    Resend2xx,
    /// UAS core: no ACK for a 2xx within 64·T1. The TU should end the dialog with BYE.
    AckWait,
}

/// The states of a client transaction (`Terminated` is not a state here: the transaction is
/// gone and [`Output::Terminated`] says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE, waiting for the first response.
    Calling,
    /// Non-INVITE, waiting for the first response.
    Trying,
    Proceeding,
    Completed,
    /// INVITE after a 2xx (RFC 6026).
    Accepted,
}

/// The states of a server transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE, no response from the TU yet.
    Trying,
    Proceeding,
    Completed,
    /// INVITE, ACK for the non-2xx final received.
    Confirmed,
    /// INVITE after a 2xx (RFC 6026).
    Accepted,
}

/// What the layer wants done. Drain with [`TransactionLayer::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `msg` to `to`. Responses go back to the [`Peer`] the request came from; the driver
    /// may apply RFC 3261 §18.2.2 (`received`/`rport`, a new connection) on top. The message is
    /// shared with the transaction, so a retransmission is the same `Arc` again (a driver may
    /// cache its serialization by pointer).
    Transmit { to: Peer, msg: Arc<Message> },
    /// A new request for the TU, to be answered with [`TransactionLayer::send_response`] under
    /// `key`. For a CANCEL, `cancels` names the INVITE server transaction with the same branch
    /// if one still exists, whatever its state: a CANCEL that raced a final response finds the
    /// INVITE in Completed or Accepted, and the TU decides (answer the CANCEL 200 either way,
    /// answer the INVITE 487 only if it is still in Proceeding; see
    /// [`TransactionLayer::server_state`]). `None` for a CANCEL means answer it 481.
    Request {
        key: ServerKey,
        msg: Message,
        from: Peer,
        cancels: Option<ServerKey>,
    },
    /// A response for a client transaction the TU started: provisionals (retransmissions
    /// removed), the final response once, and for INVITE every 2xx received while Accepted,
    /// retransmissions and other forks included, so the TU re-sends or sends its ACK.
    Response { key: ClientKey, msg: Message },
    /// An ACK that belongs to no transaction: the ACK for a 2xx (RFC 3261 §13.3.1.4), or one
    /// matching nothing at all. For the dialog layer, which must tolerate strays.
    Ack { msg: Message, from: Peer },
    /// A response matching no client transaction, e.g. a 2xx retransmission after Timer M.
    /// The TU may re-send the ACK from its dialog state or drop it.
    StrayResponse { msg: Message },
    /// A timer ran out: B, F, H, or [`TimerName::AckWait`] (whose key is the INVITE server
    /// transaction that sent the 2xx, possibly already terminated).
    Timeout { key: Key, timer: TimerName },
    /// The driver reported a transport failure for this transaction.
    TransportError { key: Key },
    /// The transaction left the layer; its key no longer matches anything. Emitted exactly once
    /// per transaction, after any `Timeout` or `TransportError` for it.
    Terminated { key: Key },
}

/// Why the layer refused a call from the TU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("the request has no top Via with an RFC 3261 branch (use add_top_via)")]
    NoBranch,
    #[error("the message is not a request")]
    NotARequest,
    #[error("the message is not a response with a status code from 100 to 699")]
    NotAResponse,
    #[error("an ACK is not a transaction: send it with send_stateless")]
    AckIsNotATransaction,
    #[error("a client transaction with this branch and method already exists")]
    Duplicate,
    #[error("no such transaction")]
    NoSuchTransaction,
    #[error("the transaction already sent a final response")]
    AlreadyFinal,
}

/// Puts a new top Via (`SIP/2.0/<transport> <sent_by>;branch=z9hG4bK…`) on a request and
/// returns its branch. Call it once per new client transaction, never for an ACK of a non-2xx
/// (the layer builds that) or a CANCEL (see [`cancel_for`]).
pub fn add_top_via(req: &mut Message, transport: Transport, sent_by: &str) -> String {
    let branch = new_branch();
    req.insert_header_first(
        "Via",
        format!(
            "SIP/2.0/{} {sent_by};branch={branch}",
            transport.via_token()
        ),
    );
    branch
}

/// A CANCEL for a client INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, CSeq
/// number and Route set, and only the INVITE's top Via, so it shares the INVITE's branch but
/// runs in a transaction of its own. Send it with [`TransactionLayer::send_request`] once a
/// provisional response has arrived.
pub fn cancel_for(invite: &Message) -> Option<Message> {
    in_dialog_copy(invite, Method::Cancel, invite.header("To")?)
}

/// The request the INVITE client transaction builds to acknowledge a non-2xx final response
/// (RFC 3261 §17.1.1.3): the To header comes from the response.
fn ack_for(invite: &Message, response: &Message) -> Option<Message> {
    in_dialog_copy(invite, Method::Ack, response.header("To")?)
}

fn in_dialog_copy(invite: &Message, method: Method, to: &str) -> Option<Message> {
    let uri = invite.request_uri()?.clone();
    let via = invite.header_values("Via").into_iter().next()?.to_string();
    let cseq = invite.cseq().ok()?;
    let mut m = Message::new_request(method.clone(), uri);
    m.push_header("Via", via);
    for route in invite.header_lines("Route") {
        m.push_header("Route", route);
    }
    m.push_header(
        "Max-Forwards",
        invite.header("Max-Forwards").unwrap_or("70"),
    );
    m.push_header("From", invite.header("From")?);
    m.push_header("To", to);
    m.push_header("Call-ID", invite.header("Call-ID")?);
    m.push_header("CSeq", format!("{} {method}", cseq.seq));
    Some(m)
}
