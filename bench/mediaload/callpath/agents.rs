//! The agents of the call-path benchmark: N softphones on one UDP socket that REGISTER as
//! `<prefix>0001…` (Digest, answering the server's 401 with `hotline::sip::auth::respond`,
//! refreshed at half the granted expiry) and auto-answer every INVITE the server sends them:
//! 180 at once, 200 with SDP after `answer_delay` (retransmitted until the ACK), then G.711
//! RTP to the server (stream id 2 × caller index + 1; the caller index is read from the
//! caller number the server puts in From). CANCEL → 200 + 487, BYE → 200, anything else 200.
//! When each caller was offered to an agent and when the agent's answer was ACKed is kept per
//! caller.

use std::collections::{BTreeMap, HashMap};
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::sip::auth::{pick_challenge, respond};
use hotline::sip::message::{parse_datagram, Message, Method};

use super::callers::caller_index;
use crate::rtp::{NewStream, Shared};
use crate::sip::{nonblocking_udp, sdp, sdp_dest};

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const REGISTER_LIMIT: Duration = Duration::from_secs(32);
const ACK_LIMIT: Duration = Duration::from_secs(32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    Idle,
    /// A REGISTER is out (retransmitted until answered).
    Sent,
    Registered,
    Failed,
}

struct Agent {
    user: String,
    password: String,
    reg: Reg,
    call_id: String,
    cseq: u32,
    request: Vec<u8>,
    sent_at: Instant,
    retx_at: Instant,
    retx_every: Duration,
    /// The challenge last answered, and the nonce count used with it.
    challenge: Option<String>,
    nc: u32,
    /// 401s in a row (a second one for the same credentials means they are wrong).
    challenges_in_row: u32,
    refresh_at: Option<Instant>,
}

/// One INVITE the server sent to an agent.
struct Leg {
    caller: Option<usize>,
    invite: Message,
    peer: SocketAddr,
    /// The last final or provisional response, resent on an INVITE retransmission.
    last: Vec<u8>,
    tag: String,
    dest: Option<std::net::SocketAddrV4>,
    answer_at: Option<Instant>,
    answered: Option<Instant>,
    retx_at: Instant,
    retx_every: Duration,
    acked: bool,
    over: bool,
}

/// Counters of the agents' side.
#[derive(Debug, Default)]
pub struct Counts {
    pub registers: u64,
    pub register_retx: u64,
    pub challenges: u64,
    pub registered: u64,
    pub refreshes: u64,
    /// Failed registrations by reason.
    pub register_failed: BTreeMap<String, u64>,
    pub invites: u64,
    pub invite_retx: u64,
    /// INVITEs for a caller we could not tell (no `137…` number in From).
    pub unknown_caller: u64,
    /// INVITEs for a caller that had been offered to an agent before (a re-offer).
    pub reoffers: u64,
    pub answered: u64,
    pub ok_retx: u64,
    pub no_ack: u64,
    pub cancels: u64,
    pub byes: u64,
    pub other_requests: u64,
    pub unparsable: u64,
}

pub struct Agents {
    sock: UdpSocket,
    server: SocketAddr,
    addr: SocketAddr,
    rtp_port: u16,
    expires: u32,
    answer_delay: Duration,
    agents: Vec<Agent>,
    by_call_id: HashMap<String, usize>,
    launch: Option<(Instant, f64, usize)>,
    legs: Vec<Leg>,
    legs_by_call_id: HashMap<String, usize>,
    /// Per caller index: when the first INVITE to an agent came, and when an agent's 200 was
    /// ACKed (the call is bridged).
    pub offered: Vec<Option<Instant>>,
    pub bridged: Vec<Option<Instant>>,
    /// Callers whose agent's 200 was never ACKed.
    pub no_ack: Vec<bool>,
    stream_on: Vec<bool>,
    shared: Arc<Shared>,
    buf: Vec<u8>,
    pub c: Counts,
}

/// The user part of a SIP URI or name-addr (`"x" <sip:user@host>` → `user`).
fn uri_user(s: &str) -> Option<&str> {
    let at = s.find("sip:")? + 4;
    let rest = &s[at..];
    let end = rest.find('@')?;
    Some(&rest[..end])
}

impl Agents {
    /// `count` agents `<prefix>0001…` with password `<password_prefix><user>`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        server: SocketAddr,
        rtp_port: u16,
        count: usize,
        prefix: &str,
        password_prefix: &str,
        expires: u32,
        answer_delay: Duration,
        calls: usize,
        shared: Arc<Shared>,
    ) -> std::io::Result<Agents> {
        let sock = nonblocking_udp("127.0.0.1:0")?;
        let now = Instant::now();
        let run = crate::rtp::now_ns() as u32 % 1_000_000;
        Ok(Agents {
            addr: sock.local_addr()?,
            sock,
            server,
            rtp_port,
            expires,
            answer_delay,
            agents: (0..count)
                .map(|k| {
                    let user = format!("{prefix}{:04}", k + 1);
                    Agent {
                        password: format!("{password_prefix}{user}"),
                        call_id: format!("reg{run}-{k}@127.0.0.1"),
                        user,
                        reg: Reg::Idle,
                        cseq: 0,
                        request: Vec::new(),
                        sent_at: now,
                        retx_at: now,
                        retx_every: T1,
                        challenge: None,
                        nc: 0,
                        challenges_in_row: 0,
                        refresh_at: None,
                    }
                })
                .collect(),
            by_call_id: HashMap::new(),
            launch: None,
            legs: Vec::new(),
            legs_by_call_id: HashMap::new(),
            offered: vec![None; calls],
            bridged: vec![None; calls],
            no_ack: vec![false; calls],
            stream_on: vec![false; calls],
            shared,
            buf: vec![0; 65536],
            c: Counts::default(),
        })
    }

    pub fn socket(&self) -> &UdpSocket {
        &self.sock
    }

    /// Starts registering every agent at `rate` per second.
    pub fn start(&mut self, rate: f64) {
        self.launch = Some((Instant::now(), rate, 0));
    }

    pub fn registered(&self) -> usize {
        self.agents
            .iter()
            .filter(|a| a.reg == Reg::Registered || a.refresh_at.is_some())
            .count()
    }

    /// Every agent registered or given up.
    pub fn registration_done(&self) -> bool {
        self.launch.is_some_and(|l| l.2 == self.agents.len())
            && self
                .agents
                .iter()
                .all(|a| matches!(a.reg, Reg::Registered | Reg::Failed))
    }

    /// Legs answered whose ACK never came, and legs still not over.
    pub fn open_legs(&self) -> usize {
        self.legs.iter().filter(|l| !l.over).count()
    }

    pub fn step(&mut self, now: Instant, timers: bool) {
        if let Some((t0, rate, next)) = self.launch {
            let due = (((now - t0).as_secs_f64() * rate) as usize + 1).min(self.agents.len());
            for k in next..due {
                self.register(k, now);
            }
            self.launch = Some((t0, rate, next.max(due)));
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

    fn register(&mut self, k: usize, now: Instant) {
        let server = self.server;
        let me = self.addr;
        let expires = self.expires;
        let a = &mut self.agents[k];
        a.cseq += 1;
        let uri = format!("sip:{server}");
        let auth = match &a.challenge {
            Some(ch) => {
                a.nc += 1;
                let cnonce = format!("{:08x}{:04x}", crate::rtp::now_ns() as u32, k);
                respond(ch, "REGISTER", &uri, &a.user, &a.password, &cnonce, a.nc)
                    .ok()
                    .map(|v| format!("Authorization: {v}\r\n"))
                    .unwrap_or_default()
            }
            None => String::new(),
        };
        let msg = format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-r{k}-{cseq};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@{server}>;tag=r{k}\r\nTo: <sip:{user}@{server}>\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{me}>\r\n\
             Expires: {expires}\r\nUser-Agent: mediaload-agent\r\n{auth}Content-Length: 0\r\n\r\n",
            cseq = a.cseq,
            user = a.user,
            cid = a.call_id,
        );
        let _ = self.sock.send_to(msg.as_bytes(), server);
        self.by_call_id.insert(a.call_id.clone(), k);
        if a.reg == Reg::Registered {
            self.c.refreshes += 1;
        }
        self.c.registers += 1;
        a.reg = Reg::Sent;
        a.request = msg.into_bytes();
        a.sent_at = now;
        a.retx_at = now + T1;
        a.retx_every = T1;
    }

    fn on_datagram(&mut self, n: usize, from: SocketAddr, now: Instant) {
        let Ok(msg) = parse_datagram(&self.buf[..n]) else {
            self.c.unparsable += 1;
            return;
        };
        if !msg.is_request() {
            self.on_response(&msg, now);
            return;
        }
        let call_id = msg.call_id().unwrap_or_default().to_string();
        let leg = self.legs_by_call_id.get(&call_id).copied();
        match (msg.method(), leg) {
            (Some(Method::Invite), Some(j)) => {
                let last = self.legs[j].last.clone();
                let _ = self.sock.send_to(&last, from);
                self.c.invite_retx += 1;
            }
            (Some(Method::Invite), None) => self.on_invite(msg, call_id, from, now),
            (Some(Method::Ack), Some(j)) => {
                let l = &mut self.legs[j];
                if l.answered.is_some() && !l.acked {
                    l.acked = true;
                    if let Some(i) = l.caller {
                        self.bridged[i].get_or_insert(now);
                    }
                }
            }
            (Some(Method::Ack), None) => {}
            (Some(Method::Cancel), j) => {
                self.reply(&msg, 200, from);
                self.c.cancels += 1;
                if let Some(j) = j.filter(|&j| self.legs[j].answered.is_none()) {
                    let l = &mut self.legs[j];
                    l.over = true;
                    l.answer_at = None;
                    let mut res = Message::response_to(&l.invite, 487, None);
                    res.ensure_to_tag(&l.tag);
                    l.last = res.to_bytes();
                    let _ = self.sock.send_to(&l.last, l.peer);
                }
            }
            (Some(Method::Bye), j) => {
                self.reply(&msg, 200, from);
                if let Some(j) = j.filter(|&j| !self.legs[j].over) {
                    self.c.byes += 1;
                    self.legs[j].over = true;
                    self.end_stream(j);
                }
            }
            _ => {
                self.c.other_requests += 1;
                self.reply(&msg, 200, from);
            }
        }
    }

    fn reply(&self, req: &Message, code: u16, to: SocketAddr) {
        let res = Message::response_to(req, code, None).to_bytes();
        let _ = self.sock.send_to(&res, to);
    }

    fn end_stream(&mut self, j: usize) {
        if let Some(i) = self.legs[j].caller {
            if self.stream_on[i] {
                self.stream_on[i] = false;
                self.shared
                    .ended_streams
                    .lock()
                    .unwrap()
                    .push(2 * i as u32 + 1);
            }
        }
    }

    fn on_invite(&mut self, msg: Message, call_id: String, from: SocketAddr, now: Instant) {
        self.c.invites += 1;
        let caller = msg
            .header("From")
            .and_then(uri_user)
            .and_then(caller_index)
            .filter(|&i| i < self.offered.len());
        match caller {
            Some(i) if self.offered[i].is_some() => self.c.reoffers += 1,
            Some(i) => self.offered[i] = Some(now),
            None => self.c.unknown_caller += 1,
        }
        let j = self.legs.len();
        let tag = format!("ag{j}");
        let mut ringing = Message::response_to(&msg, 180, None);
        ringing.ensure_to_tag(&tag);
        let last = ringing.to_bytes();
        let _ = self.sock.send_to(&last, from);
        self.legs.push(Leg {
            caller,
            dest: sdp_dest(&msg.body),
            invite: msg,
            peer: from,
            last,
            tag,
            answer_at: Some(now + self.answer_delay),
            answered: None,
            retx_at: now,
            retx_every: T1,
            acked: false,
            over: false,
        });
        self.legs_by_call_id.insert(call_id, j);
        if self.answer_delay.is_zero() {
            self.answer(j, now);
        }
    }

    fn answer(&mut self, j: usize, now: Instant) {
        let l = &mut self.legs[j];
        l.answer_at = None;
        let Some(dest) = l.dest else {
            let mut res = Message::response_to(&l.invite, 488, None);
            res.ensure_to_tag(&l.tag);
            l.last = res.to_bytes();
            l.over = true;
            let _ = self.sock.send_to(&l.last, l.peer);
            return;
        };
        let mut res = Message::response_to(&l.invite, 200, None);
        res.ensure_to_tag(&l.tag);
        let user = l
            .invite
            .request_uri()
            .map(|u| u.to_string())
            .and_then(|u| uri_user(&u).map(str::to_string))
            .unwrap_or_else(|| "agent".into());
        res.push_header("Contact", format!("<sip:{user}@{}>", self.addr));
        res.set_body(
            "application/sdp",
            sdp(self.rtp_port, 1_000_000 + j).into_bytes(),
        );
        l.last = res.to_bytes();
        l.answered = Some(now);
        l.retx_at = now + T1;
        l.retx_every = T1;
        let _ = self.sock.send_to(&l.last, l.peer);
        self.c.answered += 1;
        if let Some(i) = l.caller {
            if !self.stream_on[i] {
                self.stream_on[i] = true;
                self.shared.new_streams.lock().unwrap().push(NewStream {
                    id: 2 * i as u32 + 1,
                    side: 1,
                    dest,
                });
            }
        }
    }

    fn on_response(&mut self, msg: &Message, now: Instant) {
        let Some(k) = msg
            .call_id()
            .ok()
            .and_then(|c| self.by_call_id.get(c).copied())
        else {
            return;
        };
        let (Some(code), Ok(cseq)) = (msg.status(), msg.cseq()) else {
            return;
        };
        let a = &mut self.agents[k];
        if a.reg != Reg::Sent || cseq.seq != a.cseq || code < 200 {
            return;
        }
        match code {
            200..=299 => {
                a.reg = Reg::Registered;
                a.challenges_in_row = 0;
                let granted = msg
                    .header("Expires")
                    .and_then(|e| e.trim().parse::<u32>().ok())
                    .unwrap_or(self.expires);
                a.refresh_at = Some(now + Duration::from_secs(u64::from(granted / 2).max(1)));
                self.c.registered += 1;
            }
            401 | 407 => {
                self.c.challenges += 1;
                a.challenges_in_row += 1;
                let name = if code == 401 {
                    "WWW-Authenticate"
                } else {
                    "Proxy-Authenticate"
                };
                let picked = pick_challenge(msg.header_lines(name)).map(str::to_string);
                let stale = picked.as_deref().is_some_and(|c| c.contains("stale=true"));
                match picked {
                    Some(ch) if a.challenges_in_row < 2 || stale => {
                        a.challenge = Some(ch);
                        a.nc = 0;
                        self.register(k, now);
                    }
                    Some(_) => {
                        a.reg = Reg::Failed;
                        *self
                            .c
                            .register_failed
                            .entry("credentials refused".into())
                            .or_default() += 1;
                    }
                    None => {
                        a.reg = Reg::Failed;
                        *self
                            .c
                            .register_failed
                            .entry("no usable challenge".into())
                            .or_default() += 1;
                    }
                }
            }
            _ => {
                a.reg = Reg::Failed;
                *self
                    .c
                    .register_failed
                    .entry(format!("register {code}"))
                    .or_default() += 1;
            }
        }
    }

    fn timers(&mut self, now: Instant) {
        for k in 0..self.agents.len() {
            let a = &mut self.agents[k];
            match a.reg {
                Reg::Sent if now - a.sent_at > REGISTER_LIMIT => {
                    a.reg = Reg::Failed;
                    *self
                        .c
                        .register_failed
                        .entry("register timeout".into())
                        .or_default() += 1;
                }
                Reg::Sent if now >= a.retx_at => {
                    let _ = self.sock.send_to(&a.request, self.server);
                    a.retx_every = (a.retx_every * 2).min(T2);
                    a.retx_at = now + a.retx_every;
                    self.c.register_retx += 1;
                }
                Reg::Registered if a.refresh_at.is_some_and(|t| now >= t) => self.register(k, now),
                Reg::Idle | Reg::Sent | Reg::Registered | Reg::Failed => {}
            }
        }
        for j in 0..self.legs.len() {
            let l = &mut self.legs[j];
            if l.over || l.acked {
                continue;
            }
            if l.answer_at.is_some_and(|t| now >= t) {
                self.answer(j, now);
                continue;
            }
            let Some(at) = l.answered else { continue };
            if now - at > ACK_LIMIT {
                l.acked = true;
                self.c.no_ack += 1;
                if let Some(i) = l.caller {
                    self.no_ack[i] = true;
                }
            } else if now >= l.retx_at {
                let _ = self.sock.send_to(&l.last, l.peer);
                l.retx_every = (l.retx_every * 2).min(T2);
                l.retx_at = now + l.retx_every;
                self.c.ok_retx += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_of_uris() {
        assert_eq!(super::uri_user("sip:a0001@127.0.0.1:5080"), Some("a0001"));
        assert_eq!(
            super::uri_user("\"13700000001\" <sip:13700000001@127.0.0.1>;tag=x"),
            Some("13700000001")
        );
        assert_eq!(super::uri_user("<tel:123>"), None);
    }
}
