//! The callers of the call-path benchmark (UAC, from 127.0.0.1, a trunk address): N calls to
//! the queue's number at a set rate, each with its own caller number (`137` + the index, so
//! the agent side knows whose call it is offered), INVITE retransmitted until a provisional
//! response, ACK for every 200; RTP from the answer on (stream id 2 × index); BYE either a
//! fixed time after the answer (`hangup_after`, the setup-rate runs) or at a set rate when
//! told (the concurrency runs). Every timer is bounded; what does not finish is a failure of
//! its stage. The INVITE → 200 time of every answered call is kept.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::sip::message::{parse_datagram, Contacts, Message, Method};

use crate::rtp::{NewStream, Shared};
use crate::sip::{nonblocking_udp, sdp, sdp_dest};

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const INVITE_LIMIT: Duration = Duration::from_secs(32);
const BYE_LIMIT: Duration = Duration::from_secs(16);

/// The caller number of call `i` (the agent side parses it back with [`caller_index`]).
pub fn caller_number(i: usize) -> String {
    format!("137{i:08}")
}

/// The call index in a caller number made by [`caller_number`].
pub fn caller_index(number: &str) -> Option<usize> {
    let rest = number.strip_prefix("137")?;
    if rest.len() != 8 {
        return None;
    }
    rest.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Waiting,
    Inviting,
    Up,
    Closing,
    Closed,
    Failed,
}

pub struct Call {
    pub state: State,
    since: Instant,
    retx_at: Instant,
    retx_every: Duration,
    provisional: bool,
    /// The INVITE, then the BYE: what a timer resends.
    request: Vec<u8>,
    ack: Vec<u8>,
    to: String,
    target: String,
    /// When the 200 for the INVITE came.
    pub answered: Option<Instant>,
    /// When the BYE is due (setup-rate runs).
    hangup_at: Option<Instant>,
    /// The server hung up first.
    pub server_hangup: bool,
    /// Our BYE got an error or no answer.
    pub bye_failed: bool,
}

/// Counters of the callers' side.
#[derive(Debug, Default)]
pub struct Counts {
    pub invites: u64,
    pub invite_retx: u64,
    pub answered: u64,
    pub re_acks: u64,
    /// Failed setups by reason ("invite 503", "invite timeout", …).
    pub failed: BTreeMap<String, u64>,
    /// Calls the server hung up before we did.
    pub server_byes: u64,
    pub byes: u64,
    pub bye_retx: u64,
    pub bye_ok: u64,
    pub bye_failed: u64,
    pub other_requests: u64,
    pub unparsable: u64,
}

impl Counts {
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
    fn fail(&mut self, why: String) {
        *self.failed.entry(why).or_default() += 1;
    }
}

pub struct Callers {
    sock: UdpSocket,
    server: SocketAddr,
    addr: SocketAddr,
    rtp_port: u16,
    number: String,
    run: u32,
    pub calls: Vec<Call>,
    launch: Option<(Instant, f64, usize)>,
    byes: Option<(Instant, f64, usize)>,
    closing: usize,
    hangup_after: Option<Duration>,
    /// INVITE → 200 of every answered call, in microseconds.
    pub setup_us: Vec<u64>,
    shared: Arc<Shared>,
    buf: Vec<u8>,
    pub c: Counts,
}

impl Callers {
    pub fn new(
        server: SocketAddr,
        number: &str,
        rtp_port: u16,
        calls: usize,
        hangup_after: Option<Duration>,
        shared: Arc<Shared>,
    ) -> std::io::Result<Callers> {
        let sock = nonblocking_udp("127.0.0.1:0")?;
        let now = Instant::now();
        Ok(Callers {
            addr: sock.local_addr()?,
            sock,
            server,
            rtp_port,
            number: number.to_string(),
            run: crate::rtp::now_ns() as u32 % 1_000_000,
            calls: (0..calls)
                .map(|_| Call {
                    state: State::Waiting,
                    since: now,
                    retx_at: now,
                    retx_every: T1,
                    provisional: false,
                    request: Vec::new(),
                    ack: Vec::new(),
                    to: String::new(),
                    target: String::new(),
                    answered: None,
                    hangup_at: None,
                    server_hangup: false,
                    bye_failed: false,
                })
                .collect(),
            launch: None,
            byes: None,
            closing: 0,
            hangup_after,
            setup_us: Vec::with_capacity(calls),
            shared,
            buf: vec![0; 65536],
            c: Counts::default(),
        })
    }

    pub fn socket(&self) -> &UdpSocket {
        &self.sock
    }

    /// Starts placing calls at `rate` per second.
    pub fn start(&mut self, rate: f64) {
        self.launch = Some((Instant::now(), rate, 0));
    }

    /// Starts hanging up every call that is up at `rate` per second.
    pub fn start_byes(&mut self, rate: f64) {
        self.byes = Some((Instant::now(), rate, 0));
    }

    pub fn launched(&self) -> bool {
        self.launch.is_some_and(|l| l.2 == self.calls.len())
    }

    /// Every call placed and answered or failed.
    pub fn setup_done(&self) -> bool {
        self.launched() && self.c.answered + self.c.failed_total() == self.calls.len() as u64
    }

    /// Every call placed and over (hung up, by either side, or failed).
    pub fn all_over(&self) -> bool {
        self.launched()
            && self
                .calls
                .iter()
                .all(|c| matches!(c.state, State::Closed | State::Failed))
    }

    /// Every BYE sent and answered (or given up).
    pub fn teardown_done(&self) -> bool {
        self.byes.is_some_and(|b| b.2 == self.calls.len()) && self.closing == 0
    }

    /// Sends what is due, reads what came, runs the timers (every 10 ms at most).
    pub fn step(&mut self, now: Instant, timers: bool) {
        if let Some((t0, rate, next)) = self.launch {
            let due = (((now - t0).as_secs_f64() * rate) as usize + 1).min(self.calls.len());
            for i in next..due {
                self.invite(i, now);
            }
            self.launch = Some((t0, rate, next.max(due)));
        }
        if let Some((t0, rate, next)) = self.byes {
            let due = (((now - t0).as_secs_f64() * rate) as usize + 1).min(self.calls.len());
            for i in next..due {
                self.bye(i, now);
            }
            self.byes = Some((t0, rate, next.max(due)));
        }
        for _ in 0..2000 {
            match self.sock.recv_from(&mut self.buf) {
                Ok((n, from)) => self.on_datagram(n, from, now),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => continue,
            }
        }
        if timers {
            self.timers(now);
        }
    }

    fn call_id(&self, i: usize) -> String {
        format!("cp{}-{i}@127.0.0.1", self.run)
    }

    fn index_of(&self, call_id: &str) -> Option<usize> {
        let rest = call_id.strip_prefix(&format!("cp{}-", self.run))?;
        let i: usize = rest.split('@').next()?.parse().ok()?;
        (i < self.calls.len()).then_some(i)
    }

    fn invite(&mut self, i: usize, now: Instant) {
        let body = sdp(self.rtp_port, i);
        let msg = format!(
            "INVITE sip:{num}@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-cp{run}-{i}-1;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{caller}@127.0.0.1>;tag=f{i}\r\nTo: <sip:{num}@{srv}>\r\n\
             Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@{me}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{body}",
            num = self.number,
            srv = self.server,
            me = self.addr,
            run = self.run,
            caller = caller_number(i),
            cid = self.call_id(i),
            len = body.len(),
        );
        let _ = self.sock.send_to(msg.as_bytes(), self.server);
        self.c.invites += 1;
        let c = &mut self.calls[i];
        c.state = State::Inviting;
        c.since = now;
        c.retx_at = now + T1;
        c.retx_every = T1;
        c.request = msg.into_bytes();
    }

    fn in_dialog(&self, i: usize, method: &str, cseq: u32, branch: &str) -> Vec<u8> {
        let c = &self.calls[i];
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-cp{run}-{i}-{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{caller}@127.0.0.1>;tag=f{i}\r\nTo: {to}\r\nCall-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            target = c.target,
            me = self.addr,
            run = self.run,
            caller = caller_number(i),
            to = c.to,
            cid = self.call_id(i),
        )
        .into_bytes()
    }

    fn bye(&mut self, i: usize, now: Instant) {
        if self.calls[i].state != State::Up {
            return;
        }
        let msg = self.in_dialog(i, "BYE", 2, "bye");
        let _ = self.sock.send_to(&msg, self.server);
        self.c.byes += 1;
        self.closing += 1;
        self.end_stream(i);
        let c = &mut self.calls[i];
        c.state = State::Closing;
        c.since = now;
        c.retx_at = now + T1;
        c.retx_every = T1;
        c.request = msg;
    }

    fn end_stream(&self, i: usize) {
        self.shared.ended_streams.lock().unwrap().push(2 * i as u32);
    }

    fn on_datagram(&mut self, n: usize, from: SocketAddr, now: Instant) {
        let Ok(msg) = parse_datagram(&self.buf[..n]) else {
            self.c.unparsable += 1;
            return;
        };
        let idx = msg.call_id().ok().and_then(|c| self.index_of(c));
        if msg.is_request() {
            let res = match msg.method() {
                Some(Method::Ack) => return,
                Some(Method::Bye) => {
                    if let Some(i) = idx.filter(|&i| self.calls[i].state == State::Up) {
                        self.calls[i].state = State::Closed;
                        self.calls[i].server_hangup = true;
                        self.c.server_byes += 1;
                        self.end_stream(i);
                    }
                    Message::response_to(&msg, 200, None)
                }
                _ => {
                    self.c.other_requests += 1;
                    Message::response_to(&msg, 200, None)
                }
            };
            let _ = self.sock.send_to(&res.to_bytes(), from);
            return;
        }
        let (Some(i), Some(code), Ok(cseq)) = (idx, msg.status(), msg.cseq()) else {
            return;
        };
        match cseq.method {
            Method::Invite if code < 200 => self.calls[i].provisional = true,
            Method::Invite if code < 300 => self.on_invite_ok(i, &msg, now),
            Method::Invite => {
                // ACK for a non-2xx final response: same branch as the INVITE.
                let to = msg.header("To").unwrap_or_default().to_string();
                let ack = format!(
                    "ACK sip:{num}@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-cp{run}-{i}-1;rport\r\n\
                     Max-Forwards: 70\r\nFrom: <sip:{caller}@127.0.0.1>;tag=f{i}\r\nTo: {to}\r\nCall-ID: {cid}\r\n\
                     CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                    num = self.number,
                    srv = self.server,
                    me = self.addr,
                    run = self.run,
                    caller = caller_number(i),
                    cid = self.call_id(i),
                );
                let _ = self.sock.send_to(ack.as_bytes(), self.server);
                if self.calls[i].state == State::Inviting {
                    self.calls[i].state = State::Failed;
                    self.c.fail(format!("invite {code}"));
                }
            }
            Method::Bye if code >= 200 && self.calls[i].state == State::Closing => {
                self.calls[i].state = State::Closed;
                self.calls[i].since = now;
                self.closing -= 1;
                if code < 300 {
                    self.c.bye_ok += 1;
                } else {
                    self.calls[i].bye_failed = true;
                    self.c.bye_failed += 1;
                }
            }
            _ => {}
        }
    }

    fn on_invite_ok(&mut self, i: usize, msg: &Message, now: Instant) {
        if self.calls[i].state != State::Inviting {
            let ack = self.calls[i].ack.clone();
            if !ack.is_empty() {
                let _ = self.sock.send_to(&ack, self.server);
                self.c.re_acks += 1;
            }
            return;
        }
        let to = msg.header("To").unwrap_or_default().to_string();
        let target = msg
            .contacts()
            .ok()
            .and_then(|c| match c {
                Contacts::List(l) => l.first().map(|n| n.uri.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| format!("sip:{}@{}", self.number, self.server));
        let dest = sdp_dest(&msg.body);
        {
            let c = &mut self.calls[i];
            c.to = to;
            c.target = target;
        }
        let ack = self.in_dialog(i, "ACK", 1, "ack");
        let _ = self.sock.send_to(&ack, self.server);
        let hangup_after = self.hangup_after;
        let c = &mut self.calls[i];
        c.ack = ack;
        let Some(dest) = dest else {
            c.state = State::Failed;
            self.c.fail("200 without usable SDP".into());
            return;
        };
        c.state = State::Up;
        c.answered = Some(now);
        c.hangup_at = hangup_after.map(|d| now + d);
        self.setup_us.push((now - c.since).as_micros() as u64);
        self.c.answered += 1;
        self.shared.new_streams.lock().unwrap().push(NewStream {
            id: 2 * i as u32,
            side: 0,
            dest,
        });
    }

    fn timers(&mut self, now: Instant) {
        for i in 0..self.calls.len() {
            let c = &mut self.calls[i];
            match c.state {
                State::Inviting if now - c.since > INVITE_LIMIT => {
                    c.state = State::Failed;
                    self.c.fail("invite timeout".into());
                }
                State::Inviting if !c.provisional && now >= c.retx_at => {
                    let _ = self.sock.send_to(&c.request, self.server);
                    c.retx_every = (c.retx_every * 2).min(T2);
                    c.retx_at = now + c.retx_every;
                    self.c.invite_retx += 1;
                }
                State::Up if c.hangup_at.is_some_and(|t| now >= t) => self.bye(i, now),
                State::Closing if now - c.since > BYE_LIMIT => {
                    c.state = State::Closed;
                    c.bye_failed = true;
                    self.closing -= 1;
                    self.c.bye_failed += 1;
                }
                State::Closing if now >= c.retx_at => {
                    let _ = self.sock.send_to(&c.request, self.server);
                    c.retx_every = (c.retx_every * 2).min(T2);
                    c.retx_at = now + c.retx_every;
                    self.c.bye_retx += 1;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_numbers_round_trip() {
        assert_eq!(caller_number(42), "13700000042");
        assert_eq!(caller_index(&caller_number(42)), Some(42));
        assert_eq!(caller_index("13800000042"), None);
        assert_eq!(caller_index("1370000004"), None);
    }
}
