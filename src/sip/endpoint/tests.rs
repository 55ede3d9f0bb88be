//! Endpoint tests on a fake clock: whole calls, registrations and failures driven through the
//! sans-IO endpoint with no sockets. A base `Instant` plus offsets is the clock; every message
//! the endpoint wants to send is collected and inspected.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::config::{Number, SipConfig, Trunk, TrunkRegister};
use crate::sip::auth::{respond, Ha1};
use crate::sip::message::{parse_datagram, Method};

pub(super) const TRUNK: &str = "192.0.2.1:5060";
pub(super) const PHONE: &str = "198.51.100.7:5062";
const CARRIER: &str = "192.0.2.50:5060";

fn number(n: &str, answer_after_ms: u32, max_call_secs: u32) -> Number {
    Number {
        number: n.into(),
        name: n.into(),
        channel: format!("phone-{n}"),
        queue: n.into(),
        hours: "24x7".into(),
        answer_after_ms,
        max_call_secs,
        forward: None,
        greeting: None,
        recording_notice: true,
        language_key: None,
        self_service: Default::default(),
        closed: "reject".into(),
        survey: false,
        queue_callback_key: None,
    }
}

pub(super) struct Harness {
    pub(super) ep: Endpoint,
    t0: Instant,
    pub(super) now: Instant,
    sent: Vec<(Peer, Message)>,
    pub(super) events: Vec<Event>,
    seq: u32,
}

pub(super) fn peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

impl Harness {
    pub(super) fn new(tweak: impl FnOnce(&mut EndpointConfig)) -> Harness {
        let mut cfg = EndpointConfig::new(
            SipConfig::default(),
            "203.0.113.1:5060".parse().unwrap(),
            vec![number("12345", 0, 30), number("12319", 2000, 30)],
            vec![Trunk {
                name: "carrier".into(),
                addresses: vec!["192.0.2.0/28".into()],
                outbound_proxy: Some(CARRIER.into()),
                options_ping_secs: 0,
                register: None,
            }],
        );
        tweak(&mut cfg);
        let mut creds: HashMap<String, Ha1> = HashMap::new();
        creds.insert(
            "1001".into(),
            Ha1::from_password("1001", "hotline", "demo-1001"),
        );
        creds.insert(
            "agent.007".into(),
            Ha1::from_password("agent.007", "hotline", "secret-007"),
        );
        let t0 = Instant::now();
        let ep = Endpoint::new(cfg, Box::new(creds), |s| s.parse::<SocketAddr>().ok(), t0);
        let mut h = Harness {
            ep,
            t0,
            now: t0,
            sent: Vec::new(),
            events: Vec::new(),
            seq: 0,
        };
        h.drain();
        h
    }

    pub(super) fn drain(&mut self) {
        while let Some((to, msg)) = self.ep.poll_transmit() {
            self.sent.push((to, (*msg).clone()));
        }
        while let Some(e) = self.ep.poll_event() {
            self.events.push(e);
        }
    }

    pub(super) fn deliver(&mut self, text: &str, from: &str) {
        let msg = parse_datagram(text.as_bytes()).expect("test message parses");
        self.ep.handle_inbound(
            Inbound {
                msg,
                from: peer(from),
            },
            self.now,
        );
        self.drain();
    }

    /// Advances the fake clock to `ms` after the start, firing every timer on the way.
    pub(super) fn run_to(&mut self, ms: u64) {
        let end = self.t0 + Duration::from_millis(ms);
        while let Some(at) = self.ep.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.ep.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    fn ms(&self) -> u64 {
        (self.now - self.t0).as_millis() as u64
    }

    pub(super) fn take(&mut self) -> Vec<(Peer, Message)> {
        std::mem::take(&mut self.sent)
    }

    fn statuses(&mut self) -> Vec<u16> {
        self.take().iter().filter_map(|(_, m)| m.status()).collect()
    }

    pub(super) fn invite(
        &mut self,
        to_number: &str,
        call_id: &str,
        from_user: &str,
        extra: &str,
    ) -> String {
        self.seq += 1;
        let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n";
        format!(
            "INVITE sip:{to_number}@203.0.113.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv{call_id}{seq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{from_user}@192.0.2.1>;tag=caller{call_id}\r\n\
             To: <sip:{to_number}@203.0.113.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:{from_user}@192.0.2.1:5060>\r\n{extra}Content-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            seq = self.seq
        )
    }
}

/// The ACK/BYE a caller sends in the dialog the 200 set up.
pub(super) fn in_dialog(method: &str, ok: &Message, cseq: u32, branch: &str) -> String {
    format!(
        "{method} sip:12345@203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\r\n",
        ok.header("From").unwrap(),
        ok.header("To").unwrap(),
        ok.call_id().unwrap()
    )
}

pub(super) fn find(sent: &[(Peer, Message)], code: u16) -> Message {
    sent.iter()
        .find(|(_, m)| m.status() == Some(code))
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| {
            panic!(
                "no {code} among {:?}",
                sent.iter().map(|(_, m)| m.status()).collect::<Vec<_>>()
            )
        })
}

#[test]
fn trunk_call_is_answered_acked_and_ended_by_bye() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12345", "c1", "13800138000", "");
    h.deliver(&inv, TRUNK);
    let sent = h.take();
    assert_eq!(
        sent.iter()
            .filter_map(|(_, m)| m.status())
            .collect::<Vec<_>>(),
        [100, 200]
    );
    let ok = find(&sent, 200);
    assert!(ok.to().unwrap().tag().is_some(), "200 carries our To tag");
    assert!(ok
        .header("Contact")
        .unwrap()
        .contains("sip:12345@203.0.113.1:5060"));
    let sdp = String::from_utf8(ok.body.clone()).unwrap();
    assert!(
        sdp.contains("m=audio 9 RTP/AVP 8 101") && sdp.contains("a=inactive"),
        "{sdp}"
    );
    assert!(
        ok.header("Session-Expires").is_some(),
        "session timer offered"
    );
    assert_eq!(sent[1].0.addr, TRUNK.parse().unwrap());
    assert!(
        matches!(&h.events[..], [Event::CallOffered { number, trunk: Some(t), .. }, Event::CallAnswered { .. }] if number == "12345" && t == "carrier")
    );
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKack1"), TRUNK);
    h.run_to(2_000);
    assert!(h.take().is_empty(), "no 200 retransmission after the ACK");
    h.deliver(&in_dialog("BYE", &ok, 2, "z9hG4bKbye1"), TRUNK);
    assert_eq!(h.statuses(), [200]);
    assert!(
        matches!(h.events.last(), Some(Event::CallEnded { cause, .. }) if cause == "remote BYE")
    );
    assert_eq!(h.ep.stats().calls, 0);
    assert_eq!(h.ep.stats().dialogs, 0);
}

#[test]
fn lost_ack_retransmits_the_200_then_gives_up_with_bye() {
    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 3600);
    let inv = h.invite("12345", "c2", "caller", "");
    h.deliver(&inv, TRUNK);
    h.take();
    let mut times = Vec::new();
    for _ in 0..40 {
        let Some(at) = h.ep.poll_timeout() else { break };
        if at > h.t0 + Duration::from_secs(40) {
            break;
        }
        h.now = at;
        h.ep.handle_timeout(at);
        h.drain();
        for (_, m) in h.take() {
            match (m.status(), m.method()) {
                (Some(200), _) => times.push((h.ms(), "200")),
                (_, Some(Method::Bye)) => times.push((h.ms(), "BYE")),
                _ => {}
            }
        }
    }
    let expected: Vec<(u64, &str)> = [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .into_iter()
    .map(|t| (t, "200"))
    .chain([32_000, 32_500, 33_500, 35_500, 39_500].map(|t| (t, "BYE")))
    .collect();
    assert_eq!(
        times, expected,
        "200 at T1 doubling capped at T2; BYE at 64·T1, itself retransmitted (Timer E)"
    );
    assert!(matches!(h.events.last(), Some(Event::CallEnded { cause, .. }) if cause == "no ACK"));
}

#[test]
fn retransmitted_invite_is_absorbed() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12345", "c3", "caller", "");
    h.deliver(&inv, TRUNK);
    let first = h.statuses();
    h.deliver(&inv, TRUNK);
    assert_eq!(first, [100, 200]);
    assert_eq!(
        h.statuses(),
        Vec::<u16>::new(),
        "a retransmitted INVITE after the 2xx is absorbed (RFC 6026)"
    );
    assert_eq!(h.ep.stats().calls, 1);
    assert_eq!(h.ep.stats().calls_offered, 1);
}

#[test]
fn non_trunk_caller_must_authenticate_and_failures_look_alike() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12345", "a1", "1001", "");
    h.deliver(&inv, PHONE);
    let sent = h.take();
    let challenge = find(&sent, 401);
    let www: Vec<&str> = challenge.header_lines("WWW-Authenticate").collect();
    assert_eq!(www.len(), 2);
    assert!(www[0].contains("SHA-256") && www[1].contains("MD5"));
    let answer = |user: &str, pass: &str, algo_first: bool| {
        let c = if algo_first { www[0] } else { www[1] };
        respond(
            c,
            "INVITE",
            "sip:12345@203.0.113.1",
            user,
            pass,
            "cn0nce",
            1,
        )
        .unwrap()
    };
    // Right password (SHA-256): answered.
    let ok = h.invite(
        "12345",
        "a2",
        "1001",
        &format!("Authorization: {}\r\n", answer("1001", "demo-1001", true)),
    );
    h.deliver(&ok, PHONE);
    assert_eq!(h.statuses(), [100, 200]);
    assert!(h.events.iter().any(
        |e| matches!(e, Event::CallOffered { user: Some(u), trunk: None, .. } if u == "1001")
    ));
    // Wrong password and unknown user (MD5): the same 403.
    let wrong = h.invite(
        "12345",
        "a3",
        "1001",
        &format!("Authorization: {}\r\n", answer("1001", "guess", false)),
    );
    h.deliver(&wrong, PHONE);
    let r1 = find(&h.take(), 403);
    let unknown = h.invite(
        "12345",
        "a4",
        "9999",
        &format!("Authorization: {}\r\n", answer("9999", "guess", false)),
    );
    h.deliver(&unknown, PHONE);
    let r2 = find(&h.take(), 403);
    let shape = |m: &Message| {
        (
            m.status(),
            m.headers.iter().map(|h| h.name.clone()).collect::<Vec<_>>(),
            m.body.clone(),
        )
    };
    assert_eq!(shape(&r1), shape(&r2));
    // A dotted user name authenticates too.
    let dotted = h.invite("12319", "a5", "agent.007", "");
    h.deliver(&dotted, PHONE);
    let c = find(&h.take(), 401);
    let w = c
        .header_lines("WWW-Authenticate")
        .next()
        .unwrap()
        .to_string();
    let auth = respond(
        &w,
        "INVITE",
        "sip:12319@203.0.113.1",
        "agent.007",
        "secret-007",
        "x",
        1,
    )
    .unwrap();
    let inv = h.invite(
        "12319",
        "a6",
        "agent.007",
        &format!("Authorization: {auth}\r\n"),
    );
    h.deliver(&inv, PHONE);
    assert_eq!(
        h.statuses(),
        [100, 180],
        "12319 rings for 2 s before answering"
    );
}

#[test]
fn unknown_number_overload_and_bad_sdp_are_refused() {
    let mut h = Harness::new(|c| c.sip.max_calls = 2);
    let inv = h.invite("110", "r1", "caller", "");
    h.deliver(&inv, TRUNK);
    assert_eq!(h.statuses(), [100, 404]);
    for id in ["r2", "r3"] {
        let inv = h.invite("12345", id, "caller", "");
        h.deliver(&inv, TRUNK);
        assert_eq!(h.statuses(), [100, 200]);
    }
    let inv = h.invite("12345", "r4", "caller", "");
    h.deliver(&inv, TRUNK);
    let sent = h.take();
    let busy = find(&sent, 503);
    assert_eq!(busy.header("Retry-After"), Some("5"));
    // No common codec.
    let mut h = Harness::new(|_| {});
    let inv = h
        .invite("12345", "r5", "caller", "")
        .replace("RTP/AVP 8 0 101", "RTP/AVP 18 119 101");
    h.deliver(&inv, TRUNK);
    assert_eq!(h.statuses(), [100, 488]);
    assert_eq!(h.ep.stats().calls_refused, 1);
}

#[test]
fn cancel_while_ringing_gets_200_and_487() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12319", "k1", "caller", "");
    h.deliver(&inv, TRUNK);
    assert_eq!(h.statuses(), [100, 180]);
    h.run_to(1_000);
    let cancel = inv
        .lines()
        .take(6)
        .collect::<Vec<_>>()
        .join("\r\n")
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    h.deliver(
        &format!("{cancel}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"),
        TRUNK,
    );
    let mut codes = h.statuses();
    codes.sort();
    assert_eq!(codes, [200, 487]);
    assert!(
        matches!(h.events.last(), Some(Event::CallEnded { cause, .. }) if cause == "cancelled")
    );
    h.run_to(3_000);
    assert!(
        h.take()
            .iter()
            .all(|(_, m)| m.status() != Some(200) || m.cseq().unwrap().method != Method::Invite),
        "never answered after the CANCEL"
    );
}

#[test]
fn max_call_duration_sends_bye_and_session_timer_expires_a_dead_peer() {
    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 10);
    let inv = h.invite("12345", "h1", "caller", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKa"), TRUNK);
    h.run_to(9_999);
    assert!(h.take().is_empty());
    h.run_to(10_000);
    let bye: Vec<Message> = h
        .take()
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.method() == Some(&Method::Bye))
        .collect();
    assert_eq!(bye.len(), 1);
    assert_eq!(
        bye[0].header("To"),
        ok.header("From"),
        "BYE goes to the caller's side of the dialog"
    );

    // A peer that asked to refresh every 90 s and then went silent: the dialog expires at
    // 90 − min(32, 90/3) = 60 s and the call is hung up.
    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 3600);
    let inv = h.invite(
        "12345",
        "h2",
        "caller",
        "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n",
    );
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    assert!(ok.header("Session-Expires").unwrap().starts_with("90"));
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKa2"), TRUNK);
    h.run_to(59_999);
    assert!(h.take().is_empty());
    h.run_to(60_000);
    assert!(h
        .take()
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Bye)));
    assert!(
        matches!(h.events.last(), Some(Event::CallEnded { cause, .. }) if cause == "session expired")
    );
}

#[test]
fn options_unknown_methods_and_require() {
    let mut h = Harness::new(|_| {});
    let base = "sip:12345@203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo1\r\n\
                From: <sip:x@192.0.2.1>;tag=1\r\nTo: <sip:12345@203.0.113.1>\r\nCall-ID: o1\r\n";
    h.deliver(&format!("OPTIONS {base}CSeq: 1 OPTIONS\r\n\r\n"), TRUNK);
    let ok = find(&h.take(), 200);
    assert!(ok.header("Allow").unwrap().contains("INVITE"));
    let base2 = base.replace("z9hG4bKo1", "z9hG4bKo2");
    h.deliver(&format!("FOO {base2}CSeq: 1 FOO\r\n\r\n"), TRUNK);
    assert_eq!(h.statuses(), [501]);
    let base3 = base.replace("z9hG4bKo1", "z9hG4bKo3");
    h.deliver(
        &format!("OPTIONS {base3}CSeq: 1 OPTIONS\r\nRequire: 100rel, timer\r\n\r\n"),
        TRUNK,
    );
    let r = find(&h.take(), 420);
    assert_eq!(r.header("Unsupported"), Some("100rel"));
    let base4 = base.replace("z9hG4bKo1", "z9hG4bKo4");
    h.deliver(&format!("BYE {base4}CSeq: 1 BYE\r\n\r\n"), TRUNK);
    assert_eq!(h.statuses(), [481], "BYE outside a dialog");
}

#[test]
fn register_with_digest_then_lapse() {
    let mut h = Harness::new(|_| {});
    let reg = |auth: &str, cseq: u32| {
        format!(
            "REGISTER sip:203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5062;rport;branch=z9hG4bKr{cseq}\r\n\
             From: <sip:1001@203.0.113.1>;tag=r\r\nTo: <sip:1001@203.0.113.1>\r\nCall-ID: reg1\r\n\
             CSeq: {cseq} REGISTER\r\nContact: <sip:1001@198.51.100.7:5062>\r\nExpires: 120\r\n{auth}\r\n"
        )
    };
    h.deliver(&reg("", 1), PHONE);
    let challenge = find(&h.take(), 401);
    let w = challenge
        .header_lines("WWW-Authenticate")
        .nth(1)
        .unwrap()
        .to_string();
    let a = respond(
        &w,
        "REGISTER",
        "sip:203.0.113.1",
        "1001",
        "demo-1001",
        "c",
        1,
    )
    .unwrap();
    h.deliver(&reg(&format!("Authorization: {a}\r\n"), 2), PHONE);
    let ok = find(&h.take(), 200);
    assert!(ok.header("Contact").unwrap().contains("expires=120"));
    assert_eq!(h.ep.registrar().lookup("1001", h.now).len(), 1);
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Registrar(RegistrarEvent::Registered { user, .. }) if user == "1001")
    ));
    h.run_to(121_000);
    assert!(h.events.iter().any(|e| matches!(e, Event::Registrar(RegistrarEvent::Lapsed { user, remaining: 0, .. }) if user == "1001")));
    assert_eq!(h.ep.stats().contacts, 0);
}

#[test]
fn outbound_call_through_the_trunk() {
    let mut h = Harness::new(|_| {});
    let id = h.ep.place_call("carrier", "13900139000", h.now).unwrap();
    h.drain();
    let sent = h.take();
    assert_eq!(sent.len(), 1);
    let (to, invite) = &sent[0];
    assert_eq!(to.addr, CARRIER.parse().unwrap());
    assert_eq!(
        invite.request_uri().unwrap().to_string(),
        "sip:13900139000@192.0.2.50:5060"
    );
    assert!(matches!(
        h.ep.place_call("nope", "1", h.now),
        Err(EndpointError::NoSuchTrunk(_))
    ));
    assert!(matches!(
        h.ep.place_call("carrier", "12a", h.now),
        Err(EndpointError::BadNumber(_))
    ));
    // The carrier answers.
    let mut ok = Message::response_to(invite, 200, None);
    ok.ensure_to_tag("callee");
    ok.push_header("Contact", "<sip:13900139000@192.0.2.50:5060>");
    h.ep.handle_inbound(
        Inbound {
            msg: ok.clone(),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    let ack = h.take();
    assert!(
        matches!(&ack[..], [(p, m)] if m.method() == Some(&Method::Ack) && p.addr == CARRIER.parse().unwrap())
    );
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CallAnswered { call_id } if *call_id == id)));
    // A retransmitted 200 is acknowledged again.
    h.ep.handle_inbound(
        Inbound {
            msg: ok,
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert!(h
        .take()
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Ack)));
    h.ep.hangup(&id, h.now).unwrap();
    h.drain();
    assert!(h
        .take()
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Bye)));
    assert_eq!(h.ep.calls(h.now).len(), 0);
}

#[test]
fn outbound_registration_answers_the_challenge_and_refreshes() {
    let mut h = Harness::new(|c| {
        c.trunks[0].register = Some(TrunkRegister {
            registrar: CARRIER.into(),
            domain: Some("carrier.example".into()),
            username: "0571000".into(),
            password: "carrier-pass".into(),
            expires_secs: 600,
        });
    });
    h.run_to(0);
    let sent = h.take();
    let (_, first) = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Register))
        .unwrap();
    assert_eq!(
        first.request_uri().unwrap().to_string(),
        "sip:carrier.example"
    );
    let mut challenge = Message::response_to(first, 401, None);
    for c in crate::sip::auth::challenges("carrier.example", "n0nce", "op", false) {
        challenge.push_header("WWW-Authenticate", c.to_string());
    }
    h.ep.handle_inbound(
        Inbound {
            msg: challenge,
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    let sent = h.take();
    let (_, second) = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Register))
        .unwrap();
    let auth = second.header("Authorization").unwrap();
    assert!(
        auth.contains("username=\"0571000\"") && auth.contains("SHA-256"),
        "{auth}"
    );
    assert_eq!(second.cseq().unwrap().seq, 2);
    let mut ok = Message::response_to(second, 200, None);
    ok.push_header(
        "Contact",
        format!("{};expires=300", second.header("Contact").unwrap()),
    );
    h.ep.handle_inbound(
        Inbound {
            msg: ok,
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert_eq!(h.ep.trunk_registered("carrier"), Some(true));
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::TrunkRegistration {
            registered: true,
            ..
        }
    )));
    // Refreshed at 80 % of the 300 s granted.
    h.take();
    h.run_to(239_999);
    assert!(!h
        .take()
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Register)));
    h.run_to(240_000);
    assert!(h
        .take()
        .iter()
        .any(|(_, m)| m.method() == Some(&Method::Register)));
}

#[test]
fn trunk_pings_mark_a_silent_carrier_down() {
    let mut h = Harness::new(|c| c.trunks[0].options_ping_secs = 30);
    h.run_to(0);
    assert!(h
        .take()
        .iter()
        .any(|(p, m)| m.method() == Some(&Method::Options) && p.addr == CARRIER.parse().unwrap()));
    // No answer: Timer F (32 s) fails the first ping, the second ping (due at 30 s but sent
    // when the first is over) fails at 64 s: down.
    h.run_to(100_000);
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::TrunkHealth {
            health: Health::Down { .. },
            ..
        }
    )));
    assert!(matches!(h.ep.trunk_health("carrier"), Health::Down { .. }));
}

#[test]
fn five_thousand_calls_on_a_fake_clock() {
    let mut h = Harness::new(|c| {
        c.numbers[0].max_call_secs = 20;
        c.sip.max_calls = 10_000;
    });
    let n = 5_000;
    let mut oks = Vec::with_capacity(n);
    for i in 0..n {
        let inv = h.invite("12345", &format!("bulk{i}"), "caller", "");
        h.deliver(&inv, TRUNK);
        oks.push(find(&h.take(), 200));
    }
    assert_eq!(h.ep.stats().calls, n);
    // Half the callers ACK and hang up; the other half ACK and wait for the max call duration.
    for (i, ok) in oks.iter().enumerate() {
        h.deliver(&in_dialog("ACK", ok, 1, &format!("z9hG4bKack{i}")), TRUNK);
        if i % 2 == 0 {
            h.deliver(&in_dialog("BYE", ok, 2, &format!("z9hG4bKbye{i}")), TRUNK);
        }
    }
    assert_eq!(h.ep.stats().calls, n / 2);
    h.run_to(25_000);
    let byes: std::collections::HashSet<String> = h
        .take()
        .iter()
        .filter(|(_, m)| m.method() == Some(&Method::Bye))
        .map(|(_, m)| m.call_id().unwrap().to_string())
        .collect();
    assert_eq!(byes.len(), n / 2, "the max call duration ended the rest");
    assert_eq!(h.ep.stats().calls, 0);
    let ended = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::CallEnded { .. }))
        .count();
    assert_eq!(ended, n);
    // Unanswered BYEs time out (Timer F) and every transaction is gone afterwards.
    h.run_to(120_000);
    assert_eq!(h.ep.stats().transactions, 0);
    assert_eq!(h.ep.stats().dialogs, 0);
}

#[test]
fn bye_waits_for_the_ack_of_the_2xx() {
    // RFC 3261 §15: no BYE on a confirmed dialog before the ACK (or the 2xx gives up).
    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 1);
    let inv = h.invite("12345", "w1", "caller", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.run_to(1_200);
    assert!(
        !h.take()
            .iter()
            .any(|(_, m)| m.method() == Some(&Method::Bye)),
        "no BYE before the ACK"
    );
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKw1"), TRUNK);
    assert!(
        h.take()
            .iter()
            .any(|(_, m)| m.method() == Some(&Method::Bye)),
        "BYE as soon as the ACK came"
    );
}

#[test]
fn offered_digest_algorithms_follow_the_configuration() {
    let mut h = Harness::new(|c| c.sip.digest_algorithms = vec!["MD5".into()]);
    let inv = h.invite("12345", "md5", "1001", "");
    h.deliver(&inv, PHONE);
    let challenge = find(&h.take(), 401);
    let www: Vec<&str> = challenge.header_lines("WWW-Authenticate").collect();
    assert_eq!(www.len(), 1);
    assert!(www[0].contains("algorithm=MD5"), "{}", www[0]);
}
