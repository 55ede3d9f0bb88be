//! SIP of both ends over UDP, in the main thread: the UAC places N calls to the server's
//! forward number at a set rate (INVITE, retransmitted until a provisional response; ACK
//! for every 200, again for retransmitted ones) and hangs them up at a set rate; the UAS
//! answers every INVITE the server sends through the trunk with 200 + SDP (retransmitted
//! until the ACK), and 200s BYE and anything else. Every timer is bounded (RFC 3261 Timer B
//! style limits); whatever does not finish counts as a failure of its stage.

use std::collections::{BTreeMap, HashMap};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::sip::message::{parse_datagram, Message, Method};

use crate::rtp::{NewStream, Shared};

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const INVITE_LIMIT: Duration = Duration::from_secs(32);
const ACK_LIMIT: Duration = Duration::from_secs(32);
const BYE_LIMIT: Duration = Duration::from_secs(16);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Inviting,
    Up,
    Closing,
    Closed,
    Failed,
}

struct UacCall {
    state: State,
    since: Instant,
    retx_at: Instant,
    retx_every: Duration,
    provisional: bool,
    /// The INVITE, then the BYE: what a timer resends.
    request: Vec<u8>,
    ack: Vec<u8>,
    to: String,
    target: String,
}

struct UasCall {
    ok: Vec<u8>,
    peer: SocketAddr,
    answered: Instant,
    retx_at: Instant,
    retx_every: Duration,
    acked: bool,
    bye: bool,
}

/// Counters of every stage.
#[derive(Debug, Default)]
pub struct Counts {
    pub invites: u64,
    pub invite_retx: u64,
    pub answered: u64,
    pub re_acks: u64,
    /// Failed calls by reason ("invite 503", "invite timeout", …).
    pub failed: BTreeMap<String, u64>,
    pub server_byes: u64,
    pub byes: u64,
    pub bye_retx: u64,
    pub bye_ok: u64,
    pub bye_failed: u64,
    pub uas_invites: u64,
    pub uas_invite_retx: u64,
    pub uas_ok_retx: u64,
    pub uas_no_ack: u64,
    pub uas_byes: u64,
    pub uas_rejected: u64,
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

pub struct Sip {
    uac: UdpSocket,
    uas: UdpSocket,
    server: SocketAddr,
    uac_addr: SocketAddr,
    uas_addr: SocketAddr,
    caller_rtp: u16,
    callee_rtp: u16,
    number: String,
    run: u32,
    calls: Vec<UacCall>,
    uas_calls: Vec<UasCall>,
    uas_index: HashMap<String, usize>,
    launch: (Instant, f64, usize),
    byes: Option<(Instant, f64, usize)>,
    closing: usize,
    last_timers: Instant,
    shared: Arc<Shared>,
    buf: Vec<u8>,
    pub c: Counts,
}

pub fn nonblocking_udp(addr: &str) -> std::io::Result<UdpSocket> {
    let s = UdpSocket::bind(addr)?;
    s.set_nonblocking(true)?;
    crate::rtp::big_buffers(&s, 16 << 20);
    Ok(s)
}

/// The audio destination in an SDP body (c= and the first m=audio port).
pub fn sdp_dest(body: &[u8]) -> Option<SocketAddrV4> {
    let text = std::str::from_utf8(body).ok()?;
    let mut ip = None;
    let mut port = None;
    for line in text.lines() {
        if let Some(a) = line.strip_prefix("c=IN IP4 ") {
            ip = ip.or(a.trim().parse::<Ipv4Addr>().ok());
        } else if let Some(m) = line.strip_prefix("m=audio ") {
            port = port.or(m.split_whitespace().next()?.parse::<u16>().ok());
        }
    }
    Some(SocketAddrV4::new(ip?, port?))
}

pub fn sdp(port: u16, id: usize) -> String {
    format!(
        "v=0\r\no=- {id} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
    )
}

impl Sip {
    pub fn new(
        server: SocketAddr,
        uas_port: u16,
        number: &str,
        rtp_ports: (u16, u16),
        calls: usize,
        rate: f64,
        shared: Arc<Shared>,
    ) -> std::io::Result<Sip> {
        let uac = nonblocking_udp("127.0.0.1:0")?;
        let uas = nonblocking_udp(&format!("127.0.0.1:{uas_port}"))?;
        let now = Instant::now();
        Ok(Sip {
            uac_addr: uac.local_addr()?,
            uas_addr: uas.local_addr()?,
            uac,
            uas,
            server,
            caller_rtp: rtp_ports.0,
            callee_rtp: rtp_ports.1,
            number: number.to_string(),
            run: crate::rtp::now_ns() as u32 % 1_000_000,
            calls: (0..calls)
                .map(|_| UacCall {
                    state: State::Waiting,
                    since: now,
                    retx_at: now,
                    retx_every: T1,
                    provisional: false,
                    request: Vec::new(),
                    ack: Vec::new(),
                    to: String::new(),
                    target: String::new(),
                })
                .collect(),
            uas_calls: Vec::new(),
            uas_index: HashMap::new(),
            launch: (now, rate, 0),
            byes: None,
            closing: 0,
            last_timers: now,
            shared,
            buf: vec![0; 65536],
            c: Counts::default(),
        })
    }

    pub fn up(&self) -> u64 {
        self.calls.iter().filter(|c| c.state == State::Up).count() as u64
    }

    pub fn uas_up(&self) -> u64 {
        self.uas_calls.iter().filter(|c| !c.bye).count() as u64
    }

    /// Every call placed and answered or failed, and the server's outbound legs answered.
    pub fn setup_done(&self) -> bool {
        self.launch.2 == self.calls.len()
            && self.c.answered + self.c.failed_total() == self.calls.len() as u64
            && self.uas_calls.len() as u64 >= self.c.answered
    }

    /// Every BYE sent and answered (or given up), and the server's BYEs to the UAS in.
    pub fn teardown_done(&self) -> bool {
        self.byes.is_some_and(|b| b.2 == self.calls.len())
            && self.closing == 0
            && self.uas_calls.iter().all(|c| c.bye)
    }

    /// Calls the server hung up on the callee side that never got a BYE (so far).
    pub fn uas_without_bye(&self) -> u64 {
        self.uas_calls.iter().filter(|c| !c.bye).count() as u64
    }

    pub fn start_byes(&mut self, rate: f64) {
        self.byes = Some((Instant::now(), rate, 0));
    }

    /// Waits (at most `ms`) for a datagram on either socket.
    pub fn wait(&self, ms: i32) {
        let mut fds = [
            libc::pollfd {
                fd: self.uac.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.uas.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    }

    /// Sends what is due, reads what came, runs the timers.
    pub fn step(&mut self) {
        let now = Instant::now();
        let (t0, rate, next) = self.launch;
        let due = ((now - t0).as_secs_f64() * rate) as usize + 1;
        for i in next..due.min(self.calls.len()) {
            self.invite(i, now);
        }
        self.launch.2 = next.max(due.min(self.calls.len()));
        if let Some((t0, rate, next)) = self.byes {
            let due = (((now - t0).as_secs_f64() * rate) as usize + 1).min(self.calls.len());
            for i in next..due {
                self.bye(i, now);
            }
            self.byes = Some((t0, rate, next.max(due)));
        }
        for _ in 0..2000 {
            match self.uac.recv_from(&mut self.buf) {
                Ok((n, from)) => self.on_uac(n, from),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => continue,
            }
        }
        for _ in 0..2000 {
            match self.uas.recv_from(&mut self.buf) {
                Ok((n, from)) => self.on_uas(n, from),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => continue,
            }
        }
        if now - self.last_timers >= Duration::from_millis(10) {
            self.last_timers = now;
            self.timers(now);
        }
    }

    fn call_id(&self, i: usize) -> String {
        format!("ml{}-{i}@127.0.0.1", self.run)
    }

    fn index_of(&self, call_id: &str) -> Option<usize> {
        let rest = call_id.strip_prefix(&format!("ml{}-", self.run))?;
        let i: usize = rest.split('@').next()?.parse().ok()?;
        (i < self.calls.len()).then_some(i)
    }

    fn invite(&mut self, i: usize, now: Instant) {
        let body = sdp(self.caller_rtp, i);
        let msg = format!(
            "INVITE sip:{num}@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-ml{run}-{i}-1;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:load@127.0.0.1>;tag=f{i}\r\nTo: <sip:{num}@{srv}>\r\n\
             Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:load@{me}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{body}",
            num = self.number,
            srv = self.server,
            me = self.uac_addr,
            run = self.run,
            cid = self.call_id(i),
            len = body.len(),
        );
        let _ = self.uac.send_to(msg.as_bytes(), self.server);
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
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-ml{run}-{i}-{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:load@127.0.0.1>;tag=f{i}\r\nTo: {to}\r\nCall-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            target = c.target,
            me = self.uac_addr,
            run = self.run,
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
        let _ = self.uac.send_to(&msg, self.server);
        self.c.byes += 1;
        self.closing += 1;
        let c = &mut self.calls[i];
        c.state = State::Closing;
        c.since = now;
        c.retx_at = now + T1;
        c.retx_every = T1;
        c.request = msg;
    }

    fn reply(&mut self, uas: bool, req: &Message, code: u16, to: SocketAddr) {
        let res = Message::response_to(req, code, None).to_bytes();
        let sock = if uas { &self.uas } else { &self.uac };
        let _ = sock.send_to(&res, to);
    }

    fn on_uac(&mut self, n: usize, from: SocketAddr) {
        let Ok(msg) = parse_datagram(&self.buf[..n]) else {
            self.c.unparsable += 1;
            return;
        };
        let idx = msg.call_id().ok().and_then(|c| self.index_of(c));
        if msg.is_request() {
            match msg.method() {
                Some(Method::Ack) => {}
                Some(Method::Bye) => {
                    self.reply(false, &msg, 200, from);
                    if let Some(i) = idx.filter(|&i| self.calls[i].state == State::Up) {
                        self.calls[i].state = State::Closed;
                        self.c.server_byes += 1;
                    }
                }
                _ => {
                    self.c.other_requests += 1;
                    self.reply(false, &msg, 200, from);
                }
            }
            return;
        }
        let (Some(i), Some(code), Ok(cseq)) = (idx, msg.status(), msg.cseq()) else {
            return;
        };
        let now = Instant::now();
        match cseq.method {
            Method::Invite if code < 200 => self.calls[i].provisional = true,
            Method::Invite if code < 300 => self.on_invite_ok(i, &msg),
            Method::Invite => {
                // ACK for a non-2xx final response: same branch as the INVITE.
                let to = msg.header("To").unwrap_or_default().to_string();
                let ack = format!(
                    "ACK sip:{num}@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-ml{run}-{i}-1;rport\r\n\
                     Max-Forwards: 70\r\nFrom: <sip:load@127.0.0.1>;tag=f{i}\r\nTo: {to}\r\nCall-ID: {cid}\r\n\
                     CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                    num = self.number,
                    srv = self.server,
                    me = self.uac_addr,
                    run = self.run,
                    cid = self.call_id(i),
                );
                let _ = self.uac.send_to(ack.as_bytes(), self.server);
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
                    self.c.bye_failed += 1;
                }
            }
            _ => {}
        }
    }

    fn on_invite_ok(&mut self, i: usize, msg: &Message) {
        if self.calls[i].state != State::Inviting {
            let ack = self.calls[i].ack.clone();
            if !ack.is_empty() {
                let _ = self.uac.send_to(&ack, self.server);
                self.c.re_acks += 1;
            }
            return;
        }
        let to = msg.header("To").unwrap_or_default().to_string();
        let target = msg
            .contacts()
            .ok()
            .and_then(|c| match c {
                hotline::sip::message::Contacts::List(l) => l.first().map(|n| n.uri.to_string()),
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
        let _ = self.uac.send_to(&ack, self.server);
        let c = &mut self.calls[i];
        c.ack = ack;
        let Some(dest) = dest else {
            c.state = State::Failed;
            self.c.fail("200 without usable SDP".into());
            return;
        };
        c.state = State::Up;
        self.c.answered += 1;
        self.shared.new_streams.lock().unwrap().push(NewStream {
            id: 2 * i as u32,
            side: 0,
            dest,
        });
    }

    fn on_uas(&mut self, n: usize, from: SocketAddr) {
        let Ok(msg) = parse_datagram(&self.buf[..n]) else {
            self.c.unparsable += 1;
            return;
        };
        if !msg.is_request() {
            return;
        }
        let call_id = msg.call_id().unwrap_or_default().to_string();
        let known = self.uas_index.get(&call_id).copied();
        match (msg.method(), known) {
            (Some(Method::Invite), Some(j)) => {
                // A retransmission (the server did not get our 200 yet).
                let ok = self.uas_calls[j].ok.clone();
                let _ = self.uas.send_to(&ok, from);
                self.c.uas_invite_retx += 1;
            }
            (Some(Method::Invite), None) => self.on_uas_invite(&msg, call_id, from),
            (Some(Method::Ack), Some(j)) => self.uas_calls[j].acked = true,
            (Some(Method::Ack), None) => {}
            (Some(Method::Bye), j) => {
                self.reply(true, &msg, 200, from);
                if let Some(j) = j {
                    if !self.uas_calls[j].bye {
                        self.uas_calls[j].bye = true;
                        self.c.uas_byes += 1;
                    }
                }
            }
            _ => {
                self.c.other_requests += 1;
                self.reply(true, &msg, 200, from);
            }
        }
    }

    fn on_uas_invite(&mut self, msg: &Message, call_id: String, from: SocketAddr) {
        self.c.uas_invites += 1;
        let Some(dest) = sdp_dest(&msg.body) else {
            self.c.uas_rejected += 1;
            self.reply(true, msg, 488, from);
            return;
        };
        let j = self.uas_calls.len();
        let mut res = Message::response_to(msg, 200, None);
        res.ensure_to_tag(&format!("u{j}"));
        res.push_header("Contact", format!("<sip:callee@{}>", self.uas_addr));
        res.set_body(
            "application/sdp",
            sdp(self.callee_rtp, 1_000_000 + j).into_bytes(),
        );
        let ok = res.to_bytes();
        let _ = self.uas.send_to(&ok, from);
        let now = Instant::now();
        self.uas_calls.push(UasCall {
            ok,
            peer: from,
            answered: now,
            retx_at: now + T1,
            retx_every: T1,
            acked: false,
            bye: false,
        });
        self.uas_index.insert(call_id, j);
        self.shared.new_streams.lock().unwrap().push(NewStream {
            id: 2 * j as u32 + 1,
            side: 1,
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
                    let _ = self.uac.send_to(&c.request, self.server);
                    c.retx_every = (c.retx_every * 2).min(T2);
                    c.retx_at = now + c.retx_every;
                    self.c.invite_retx += 1;
                }
                State::Closing if now - c.since > BYE_LIMIT => {
                    c.state = State::Closed;
                    self.closing -= 1;
                    self.c.bye_failed += 1;
                }
                State::Closing if now >= c.retx_at => {
                    let _ = self.uac.send_to(&c.request, self.server);
                    c.retx_every = (c.retx_every * 2).min(T2);
                    c.retx_at = now + c.retx_every;
                    self.c.bye_retx += 1;
                }
                _ => {}
            }
        }
        for u in &mut self.uas_calls {
            if u.acked || u.bye {
                continue;
            }
            if now - u.answered > ACK_LIMIT {
                u.acked = true;
                self.c.uas_no_ack += 1;
            } else if now >= u.retx_at {
                let _ = self.uas.send_to(&u.ok, u.peer);
                u.retx_every = (u.retx_every * 2).min(T2);
                u.retx_at = now + u.retx_every;
                self.c.uas_ok_retx += 1;
            }
        }
    }

    pub fn uas_addr(&self) -> SocketAddr {
        self.uas_addr
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sdp_destination() {
        let body = super::sdp(4000, 1);
        assert_eq!(
            super::sdp_dest(body.as_bytes()),
            Some("127.0.0.1:4000".parse().unwrap())
        );
    }
}
