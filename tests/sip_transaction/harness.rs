//! A fake clock around a `TransactionLayer`, request builders, and a one-line rendering of
//! every output stamped with the millisecond it appeared at, so tests compare whole timelines.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hotline::sip::message::{parse_datagram, Message};
use hotline::sip::transaction::{
    add_top_via, ClientKey, Key, Output, Peer, ServerKey, TimerConfig, TransactionLayer, Transport,
    TxError,
};

/// The far end on UDP and TCP.
pub fn udp() -> Peer {
    peer(Transport::Udp)
}

pub fn tcp() -> Peer {
    peer(Transport::Tcp)
}

fn peer(transport: Transport) -> Peer {
    Peer {
        transport,
        addr: "192.0.2.10:5060".parse::<SocketAddr>().unwrap(),
    }
}

/// The layer, a clock at `base + ms`, and every output so far with its time.
pub struct Sim {
    pub layer: TransactionLayer,
    base: Instant,
    now: Instant,
    log: Vec<(u64, Output)>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new(TimerConfig::default())
    }
}

impl Sim {
    pub fn new(cfg: TimerConfig) -> Sim {
        let base = Instant::now();
        Sim {
            layer: TransactionLayer::new(cfg),
            base,
            now: base,
            log: Vec::new(),
        }
    }

    pub fn ms(&self) -> u64 {
        (self.now - self.base).as_millis() as u64
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.base + Duration::from_millis(ms)
    }

    fn drain(&mut self) {
        let ms = self.ms();
        while let Some(o) = self.layer.poll_output() {
            self.log.push((ms, o));
        }
    }

    /// Runs every timer due up to `ms` at its own deadline (a punctual driver), then sets
    /// the clock to `ms`.
    pub fn advance_to(&mut self, ms: u64) {
        let target = self.at(ms);
        assert!(target >= self.now, "the clock runs forwards");
        while let Some(t) = self.layer.poll_timeout() {
            if t > target {
                break;
            }
            assert!(t >= self.now, "poll_timeout went back in time");
            self.now = t;
            self.layer.handle_timeout(t);
            self.drain();
        }
        self.now = target;
    }

    /// A message from the network at the current time.
    pub fn recv(&mut self, msg: Message, from: Peer) {
        self.layer.handle_message(msg, from, self.now);
        self.drain();
    }

    pub fn send(&mut self, req: Message, to: Peer) -> ClientKey {
        let k = self.layer.send_request(req, to, self.now).unwrap();
        self.drain();
        k
    }

    pub fn respond(&mut self, key: &ServerKey, res: Message) -> Result<(), TxError> {
        let r = self.layer.send_response(key, res, self.now);
        self.drain();
        r
    }

    pub fn transport_error(&mut self, key: &Key) {
        self.layer.handle_transport_error(key);
        self.drain();
    }

    pub fn peer_error(&mut self, peer: Peer) {
        self.layer.handle_peer_error(peer);
        self.drain();
    }

    /// Removes and returns the outputs logged so far.
    pub fn take(&mut self) -> Vec<(u64, Output)> {
        std::mem::take(&mut self.log)
    }

    /// Removes the outputs logged so far, rendered by [`line`].
    pub fn lines(&mut self) -> Vec<String> {
        self.take().iter().map(|(t, o)| line(*t, o)).collect()
    }

    /// The last request the TU was given (the log is kept): key, message, `cancels`.
    pub fn request(&self) -> (ServerKey, Message, Option<ServerKey>) {
        self.log
            .iter()
            .rev()
            .find_map(|(_, o)| match o {
                Output::Request {
                    key, msg, cancels, ..
                } => Some((key.clone(), msg.clone(), cancels.clone())),
                _ => None,
            })
            .expect("the TU was given a request")
    }

    /// The messages transmitted so far (removing the whole log).
    pub fn take_transmitted(&mut self) -> Vec<Message> {
        self.take()
            .into_iter()
            .filter_map(|(_, o)| match o {
                Output::Transmit { msg, .. } => Some(std::sync::Arc::unwrap_or_clone(msg)),
                _ => None,
            })
            .collect()
    }
}

/// `"<ms> <what>"`: `tx INVITE`, `tx 486`, `req INVITE`, `req CANCEL cancels`, `rsp 180`,
/// `ack`, `stray 200`, `timeout B`, `transport-error`, `terminated`.
pub fn line(ms: u64, o: &Output) -> String {
    let what = match o {
        Output::Transmit { msg, .. } => format!("tx {}", name(msg)),
        Output::Request { msg, cancels, .. } => match cancels {
            Some(_) => format!("req {} cancels", name(msg)),
            None => format!("req {}", name(msg)),
        },
        Output::Response { msg, .. } => format!("rsp {}", name(msg)),
        Output::Ack { .. } => "ack".to_string(),
        Output::StrayResponse { msg } => format!("stray {}", name(msg)),
        Output::Timeout { timer, .. } => format!("timeout {timer:?}"),
        Output::TransportError { .. } => "transport-error".to_string(),
        Output::Terminated { .. } => "terminated".to_string(),
    };
    format!("{ms} {what}")
}

fn name(m: &Message) -> String {
    match (m.method(), m.status()) {
        (Some(method), _) => method.to_string(),
        (_, Some(code)) => code.to_string(),
        _ => unreachable!(),
    }
}

/// `"<ms> tx <what>"` for each time.
pub fn tx_at(times: &[u64], what: &str) -> Vec<String> {
    times.iter().map(|t| format!("{t} tx {what}")).collect()
}

/// A request as a remote UA would send it; `build` parses the text, so it is also a check on
/// what the layer will meet on the wire.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: &'static str,
    pub uri: String,
    /// The whole top Via value.
    pub via: String,
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub cseq: u32,
    pub routes: Vec<String>,
}

impl Req {
    /// Request number `n` from the remote UA over UDP, RFC 3261 branch.
    pub fn new(method: &'static str, n: u32) -> Req {
        Req {
            method,
            uri: "sip:12345@hotline.example.org".into(),
            via: format!("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc{n}"),
            call_id: format!("call-{n}@192.0.2.10"),
            from_tag: format!("ft{n}"),
            to_tag: None,
            cseq: 1,
            routes: Vec::new(),
        }
    }

    pub fn invite(n: u32) -> Req {
        Req::new("INVITE", n)
    }

    /// An RFC 2543 sender: the Via has no branch at all.
    pub fn legacy(mut self) -> Req {
        self.via = "SIP/2.0/UDP 192.0.2.10:5060".into();
        self
    }

    pub fn method(&self, method: &'static str) -> Req {
        Req {
            method,
            ..self.clone()
        }
    }

    pub fn branch(&self, branch: &str) -> Req {
        Req {
            via: format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
            ..self.clone()
        }
    }

    pub fn to_tag(&self, tag: &str) -> Req {
        Req {
            to_tag: Some(tag.into()),
            ..self.clone()
        }
    }

    pub fn build(&self) -> Message {
        let to = match &self.to_tag {
            Some(t) => format!("<sip:12345@hotline.example.org>;tag={t}"),
            None => "<sip:12345@hotline.example.org>".into(),
        };
        let mut text = format!(
            "{m} {uri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n",
            m = self.method,
            uri = self.uri,
            via = self.via
        );
        for r in &self.routes {
            text.push_str(&format!("Route: {r}\r\n"));
        }
        text.push_str(&format!(
            "From: \"Caller\" <sip:13800000000@192.0.2.10>;tag={ft}\r\nTo: {to}\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} {m}\r\n\
             Contact: <sip:13800000000@192.0.2.10:5060>\r\nContent-Length: 0\r\n\r\n",
            ft = self.from_tag,
            cid = self.call_id,
            cseq = self.cseq,
            m = self.method,
        ));
        parse_datagram(text.as_bytes()).expect("the fixture parses")
    }

    /// The same request as this server would send it: no Via yet, then a fresh top Via.
    pub fn outgoing(&self, transport: Transport) -> Message {
        let mut m = self.build();
        m.remove_header("Via");
        add_top_via(&mut m, transport, "203.0.113.1:5060");
        m
    }
}

/// A response to `req` as its recipient would build it, with To tag `tag` on anything but 100.
pub fn response(req: &Message, code: u16, tag: &str) -> Message {
    let mut r = Message::response_to(req, code, None);
    if code > 100 {
        r.ensure_to_tag(tag);
    }
    r
}
