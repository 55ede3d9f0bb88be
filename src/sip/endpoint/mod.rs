//! sip/endpoint: the SIP user-agent core, sans-IO. It owns the transaction layer, the dialogs,
//! the registrar, the trunks and the calls, and decides what every request gets: OPTIONS,
//! REGISTER, INVITE admission (trunk ACL or digest, number lookup, overload), CANCEL, BYE and the
//! other in-dialog requests, session timers, outbound REGISTER to carriers, OPTIONS pings and
//! outbound calls. Events and the current time go in; messages to send and [`Event`]s come out.
//! SDP is answered by a [`SessionMedia`] (the call layer's, or held media in tests). An
//! answered inbound call is hung up after the number's `max_call_secs` at the latest.

mod calls;
mod dial;
#[cfg(test)]
mod fuzz_tests;
mod inbound;
mod media;
mod outbound;
mod refer;
mod sdp;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dial;
#[cfg(test)]
mod tests_media;
#[cfg(test)]
mod tests_more;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dialog::{Dialogs, SessionTimerConfig};
use super::message::{Message, SipUri};
use super::registrar::{CredentialSource, Registrar, RegistrarConfig, RegistrarEvent};
use super::transaction::{self, ClientKey, Key, Output, TimerConfig, TransactionLayer};
use super::transport::{response_target, Inbound, Peer, Transport};
use super::trunk::{Health, Trunks};
use crate::config::{Number, SipConfig, Trunk};

pub use calls::CallInfo;
pub use dial::{Dial, DialTarget};
pub use media::{HeldMedia, Refusal, SessionMedia};

/// What the endpoint needs from the configuration.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    pub sip: SipConfig,
    /// The address the sockets are bound to.
    pub local: SocketAddr,
    pub numbers: Vec<Number>,
    pub trunks: Vec<Trunk>,
    pub timers: TimerConfig,
    /// Server/User-Agent header.
    pub user_agent: String,
}

impl EndpointConfig {
    pub fn new(
        sip: SipConfig,
        local: SocketAddr,
        numbers: Vec<Number>,
        trunks: Vec<Trunk>,
    ) -> Self {
        EndpointConfig {
            sip,
            local,
            numbers,
            trunks,
            timers: TimerConfig::default(),
            user_agent: format!("hotline/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// `host:port` for our Via and Contact headers.
    pub fn contact_host(&self) -> String {
        let host = if !self.sip.public_host.is_empty() {
            self.sip.public_host.clone()
        } else if self.local.ip().is_unspecified() {
            if self.local.is_ipv4() {
                "127.0.0.1".into()
            } else {
                "[::1]".into()
            }
        } else {
            match self.local.ip() {
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                v4 => v4.to_string(),
            }
        };
        format!("{host}:{}", self.local.port())
    }
}

/// What happened, for the layers above (agent presence, call records, logs, metrics).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Registrar(RegistrarEvent),
    /// A new inbound call was admitted for `number`.
    CallOffered {
        call_id: String,
        number: String,
        caller: String,
        /// The trunk it came through, or `None` for an authenticated user.
        trunk: Option<String>,
        user: Option<String>,
    },
    /// The first 18x (ringing or session progress) for an outbound INVITE of ours.
    CallRinging {
        call_id: String,
    },
    CallAnswered {
        call_id: String,
    },
    /// The peer of an answered call asked for a blind transfer with REFER (RFC 3515) and got
    /// 202: `target` is the user part of the Refer-To URI (an agent, a department or queue
    /// number, a phone number). The peer usually hangs up next.
    TransferRequested {
        call_id: String,
        target: String,
    },
    /// A key pressed, signalled in the dialog with SIP INFO (`application/dtmf-relay` or
    /// `application/dtmf`): '0'–'9', '*', '#', 'A'–'D'.
    Dtmf {
        call_id: String,
        digit: char,
    },
    /// A call ended; `cause` says why (`"remote BYE"`, `"cancelled"`, `"failed: 486"`, …; the
    /// full list is in docs/sip.md).
    CallEnded {
        call_id: String,
        cause: String,
    },
    /// An INVITE was refused with this status (503 overload, 403, 404, 488, …).
    CallRefused {
        code: u16,
        number: Option<String>,
    },
    TrunkHealth {
        trunk: String,
        health: Health,
    },
    TrunkRegistration {
        trunk: String,
        registered: bool,
        detail: String,
    },
}

/// Counters for `/metrics` and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub calls: usize,
    pub dialogs: usize,
    pub transactions: usize,
    pub contacts: usize,
    pub calls_offered: u64,
    pub calls_refused: u64,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("no trunk named {0:?}")]
    NoSuchTrunk(String),
    #[error("trunk {0:?} has no outbound_proxy")]
    NoProxy(String),
    #[error("{0:?} is not a number that can be dialled")]
    BadNumber(String),
    #[error("too many calls in progress")]
    Overloaded,
    #[error("no call {0:?}")]
    NoSuchCall(String),
    #[error("user {0:?} has no registered contact")]
    NotRegistered(String),
    #[error("{0:?} cannot be used in a From, P-Asserted-Identity or display name")]
    BadIdentity(String),
}

/// See the module documentation.
pub struct Endpoint {
    cfg: EndpointConfig,
    contact_host: String,
    tx: TransactionLayer,
    dialogs: Dialogs,
    timer_cfg: SessionTimerConfig,
    registrar: Registrar,
    trunks: Trunks,
    calls: calls::Calls,
    outbound: outbound::Outbound,
    numbers: HashMap<String, Number>,
    transmit: VecDeque<(Peer, Arc<Message>)>,
    events: VecDeque<Event>,
    stats: EndpointStats,
    /// Shutting down: no new calls.
    closing: bool,
    media: Box<dyn SessionMedia>,
}

impl Endpoint {
    /// `resolve` turns a configured "host:port" (trunk proxies, registrars) into an address.
    pub fn new(
        cfg: EndpointConfig,
        credentials: Box<dyn CredentialSource + Send>,
        resolve: impl Fn(&str) -> Option<SocketAddr>,
        now: Instant,
    ) -> Endpoint {
        let s = &cfg.sip;
        let reg_cfg = RegistrarConfig {
            min_expires: s.register_min_expires,
            max_expires: s.register_max_expires,
            default_expires: s.register_max_expires.min(3600),
            max_contacts: s.max_contacts_per_user,
            nonce_lifetime: Duration::from_secs(s.nonce_lifetime_secs.into()),
            max_failures: s.auth_failure_limit,
            failure_window: Duration::from_secs(s.auth_failure_window_secs.into()),
            algorithms: s
                .digest_algorithms
                .iter()
                .filter_map(|a| crate::sip::auth::Algorithm::parse(a).ok())
                .collect(),
            ..RegistrarConfig::new(s.realm.clone())
        };
        let timer_cfg = SessionTimerConfig {
            session_expires: s.session_expires_secs,
            min_se: s.min_se_secs,
            ..SessionTimerConfig::default()
        };
        let trunks = Trunks::new(&cfg.trunks, &resolve, now);
        let outbound = outbound::Outbound::new(&cfg.trunks, &resolve, now);
        Endpoint {
            contact_host: cfg.contact_host(),
            tx: TransactionLayer::new(cfg.timers),
            dialogs: Dialogs::new(timer_cfg),
            timer_cfg,
            registrar: Registrar::new(reg_cfg, credentials, now),
            trunks,
            calls: calls::Calls::default(),
            outbound,
            numbers: cfg
                .numbers
                .iter()
                .map(|n| (n.number.clone(), n.clone()))
                .collect(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: EndpointStats::default(),
            closing: false,
            media: Box::new(HeldMedia {
                host: cfg.contact_host(),
            }),
            cfg,
        }
    }

    /// A message from the network.
    pub fn handle_inbound(&mut self, inbound: Inbound, now: Instant) {
        let Inbound { msg, from } = inbound;
        if msg.is_request() {
            // A request whose top Via does not parse cannot be answered through a transaction.
            if let Err(e) = msg.top_via() {
                tracing::debug!(%e, from = %from.addr, "request without a usable Via dropped");
                return;
            }
        } else if msg.validate_response().is_err() {
            return;
        }
        self.tx.handle_message(msg, from, now);
        self.pump(now);
    }

    /// Fires everything due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        self.registrar.handle_timeout(now);
        for (id, action) in self.dialogs.handle_timeout(now) {
            self.on_dialog_action(id, action, now);
        }
        self.calls_timeout(now);
        self.outbound_timeout(now);
        self.pump(now);
    }

    /// The earliest instant [`Endpoint::handle_timeout`] has work.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        [
            self.tx.poll_timeout(),
            self.registrar.poll_timeout(),
            self.dialogs.poll_timeout(),
            self.calls.poll_timeout(),
            self.trunks.poll_timeout(),
            self.outbound.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<(Peer, Arc<Message>)> {
        self.transmit.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn stats(&self) -> EndpointStats {
        EndpointStats {
            calls: self.calls.len(),
            dialogs: self.dialogs.len(),
            transactions: self.tx.len(),
            contacts: self.registrar.contact_count(),
            ..self.stats
        }
    }

    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    pub fn trunk_health(&self, trunk: &str) -> Health {
        self.trunks.health(trunk)
    }

    /// Sets the media side that answers SDP (the default holds every call's media inactive).
    pub fn set_media(&mut self, media: Box<dyn SessionMedia>) {
        self.media = media;
    }

    /// Replaces the credentials (agents reloaded).
    pub fn set_credentials(&mut self, credentials: Box<dyn CredentialSource + Send>) {
        self.registrar.set_credential_source(credentials);
    }

    /// Drains the transaction layer's outputs (and the registrar's events) until quiet.
    fn pump(&mut self, now: Instant) {
        while let Some(out) = self.tx.poll_output() {
            match out {
                Output::Transmit { to, msg } => self.send(to, msg),
                Output::Request {
                    key,
                    msg,
                    from,
                    cancels,
                } => self.on_request(key, msg, from, cancels, now),
                Output::Response { key, msg } => self.on_response(key, msg, now),
                Output::Ack { msg, from } => self.on_ack(msg, from, now),
                Output::StrayResponse { msg } => self.on_stray_response(msg),
                Output::Timeout { key, timer } => self.on_timeout(key, timer, now),
                Output::TransportError { key } => self.on_client_failure(key, now),
                Output::Terminated { .. } => {}
            }
        }
        while let Some(ev) = self.registrar.poll_event() {
            self.events.push_back(Event::Registrar(ev));
        }
    }

    /// Queues a message; responses over UDP follow the top Via (`received`/`rport`).
    fn send(&mut self, to: Peer, msg: Arc<Message>) {
        let to = if !msg.is_request() && to.transport == Transport::Udp {
            msg.top_via().map(|v| response_target(&v, to)).unwrap_or(to)
        } else {
            to
        };
        self.transmit.push_back((to, msg));
    }

    /// Sends a new request through a client transaction (adding our Via).
    fn send_request(&mut self, mut req: Message, to: Peer, now: Instant) -> Option<ClientKey> {
        transaction::add_top_via(&mut req, to.transport, &self.contact_host);
        if req.header("Max-Forwards").is_none() {
            req.push_header("Max-Forwards", "70");
        }
        if req.header("User-Agent").is_none() {
            req.push_header("User-Agent", self.cfg.user_agent.clone());
        }
        match self.tx.send_request(req, to, now) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::warn!(error = %e, "could not start a client transaction");
                None
            }
        }
    }

    fn on_timeout(&mut self, key: Key, timer: transaction::TimerName, now: Instant) {
        match (key, timer) {
            (Key::Server(k), transaction::TimerName::AckWait) => self.on_ack_timeout(&k, now),
            (Key::Client(k), _) => self.on_client_failure(Key::Client(k), now),
            _ => {}
        }
    }

    fn on_client_failure(&mut self, key: Key, now: Instant) {
        if let Key::Client(k) = key {
            if !self.outbound_failure(&k, now) {
                self.calls_client_failure(&k, now);
            }
        }
    }

    fn our_uri(&self, user: &str) -> SipUri {
        let (host, port) = match self.contact_host.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()),
            None => (self.contact_host.clone(), None),
        };
        SipUri::new(Some(user), &host, port)
    }
}
