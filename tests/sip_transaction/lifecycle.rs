//! What happens around the state machines: stale and late timers, transport failures by key
//! and by peer, abandoning a transaction, refused calls, and the timer configuration.

use std::time::Duration;

use hotline::sip::message::StartLine;

use hotline::sip::transaction::{
    add_top_via, Key, Output, Peer, ServerState, TimerConfig, Transport, TxError,
};

use crate::harness::{response, tx_at, udp, Req, Sim};

#[test]
fn stale_timers_after_termination_do_nothing() {
    let mut sim = Sim::default();
    let req = Req::new("OPTIONS", 1).outgoing(Transport::Udp);
    let key = sim.send(req.clone(), udp());
    sim.recv(response(&req, 200, "x"), udp());
    // Timer K is armed for 5000; the transport fails first.
    sim.advance_to(100);
    sim.transport_error(&Key::Client(key.clone()));
    sim.take();
    assert_eq!(sim.layer.poll_timeout(), None, "its timers left with it");
    // A driver whose own timer wheel still holds the old deadlines fires them anyway.
    for ms in [500, 5000, 32_000, 64_000] {
        sim.layer.handle_timeout(sim.at(ms));
    }
    assert_eq!(sim.layer.poll_output(), None);
    assert!(sim.layer.is_empty());
    // A second transport error for the same key is ignored too.
    sim.transport_error(&Key::Client(key));
    assert!(sim.lines().is_empty());
}

#[test]
fn old_deadlines_do_not_touch_a_new_transaction_with_the_same_key() {
    let mut sim = Sim::default();
    sim.recv(Req::new("BYE", 1).build(), udp());
    let (key, bye, _) = sim.request();
    sim.respond(&key, response(&bye, 200, "u")).unwrap();
    // Timer J is due at 32000; the transaction is dropped before, and the same request
    // arrives again and starts a new one under the same key.
    sim.advance_to(100);
    assert!(sim.layer.abandon(&Key::Server(key.clone())));
    sim.advance_to(200);
    sim.recv(Req::new("BYE", 1).build(), udp());
    sim.take();
    sim.layer.handle_timeout(sim.at(32_000));
    assert_eq!(sim.layer.poll_output(), None);
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Trying));
}

#[test]
fn a_late_driver_gets_one_retransmission_not_a_burst() {
    let mut sim = Sim::default();
    sim.send(Req::invite(1).outgoing(Transport::Udp), udp());
    sim.take();
    // The driver oversleeps Timer A (due at 500) until 4000.
    sim.layer.handle_timeout(sim.at(4000));
    let mut sent = 0;
    while let Some(o) = sim.layer.poll_output() {
        assert!(matches!(o, Output::Transmit { .. }));
        sent += 1;
    }
    assert_eq!(sent, 1);
    // The next interval (2·T1) counts from when it actually fired.
    assert_eq!(sim.layer.poll_timeout(), Some(sim.at(5000)));
    // Firing early does nothing.
    sim.layer.handle_timeout(sim.at(4999));
    assert_eq!(sim.layer.poll_output(), None);
}

#[test]
fn a_peer_failure_ends_everything_towards_that_peer_only() {
    let other = Peer {
        transport: Transport::Tcp,
        addr: "198.51.100.7:5060".parse().unwrap(),
    };
    let mut sim = Sim::default();
    // A client transaction and an answered INVITE (2xx retransmitting) towards udp(); a
    // client transaction towards another peer.
    let c1 = sim.send(Req::new("OPTIONS", 1).outgoing(Transport::Udp), udp());
    sim.recv(Req::invite(2).build(), udp());
    let (s1, inv, _) = sim.request();
    sim.respond(&s1, response(&inv, 200, "uas")).unwrap();
    let c2 = sim.send(Req::new("OPTIONS", 3).outgoing(Transport::Tcp), other);
    sim.take();
    sim.peer_error(udp());
    let out = sim.take();
    let mut failed: Vec<Key> = out
        .iter()
        .filter_map(|(_, o)| match o {
            Output::TransportError { key } => Some(key.clone()),
            _ => None,
        })
        .collect();
    let terminated = out
        .iter()
        .filter(|(_, o)| matches!(o, Output::Terminated { .. }))
        .count();
    failed.sort_by_key(|k| matches!(k, Key::Server(_)));
    assert_eq!(failed, [Key::Client(c1), Key::Server(s1)]);
    assert_eq!(terminated, 2);
    assert_eq!(sim.layer.pending_acks(), 0);
    assert_eq!(sim.layer.len(), 1);
    assert!(sim.layer.client_state(&c2).is_some());
}

#[test]
fn abandoning_a_transaction_the_tu_never_answers() {
    let mut sim = Sim::default();
    sim.recv(Req::new("REGISTER", 1).build(), udp());
    let (key, _, _) = sim.request();
    sim.take();
    assert!(sim.layer.abandon(&Key::Server(key.clone())));
    assert!(!sim.layer.abandon(&Key::Server(key.clone())));
    assert!(sim.layer.is_empty());
    assert!(sim.lines().is_empty(), "abandon is silent");
    assert_eq!(
        sim.layer
            .send_response(&key, Req::new("REGISTER", 1).build(), sim.at(0)),
        Err(TxError::NoSuchTransaction)
    );
}

#[test]
fn refused_calls() {
    let mut sim = Sim::default();
    let now = sim.at(0);
    let mut no_via = Req::new("OPTIONS", 1).build();
    no_via.remove_header("Via");
    assert_eq!(
        sim.layer.send_request(no_via.clone(), udp(), now),
        Err(TxError::NoBranch)
    );
    let mut legacy = no_via.clone();
    legacy.insert_header_first("Via", "SIP/2.0/UDP 203.0.113.1:5060;branch=abc");
    assert_eq!(
        sim.layer.send_request(legacy, udp(), now),
        Err(TxError::NoBranch)
    );
    let mut ack = Req::invite(1).method("ACK").build();
    ack.remove_header("Via");
    add_top_via(&mut ack, Transport::Udp, "203.0.113.1:5060");
    assert_eq!(
        sim.layer.send_request(ack, udp(), now),
        Err(TxError::AckIsNotATransaction)
    );
    let req = Req::new("OPTIONS", 1).outgoing(Transport::Udp);
    assert_eq!(
        sim.layer.send_request(response(&req, 200, "x"), udp(), now),
        Err(TxError::NotARequest)
    );
    sim.layer.send_request(req.clone(), udp(), now).unwrap();
    assert_eq!(
        sim.layer.send_request(req.clone(), udp(), now),
        Err(TxError::Duplicate)
    );
    sim.recv(Req::new("OPTIONS", 2).build(), udp());
    let (key, _, _) = sim.request();
    assert_eq!(
        sim.layer.send_response(&key, req.clone(), now),
        Err(TxError::NotAResponse)
    );
    let mut odd = response(&req, 200, "x");
    odd.start = StartLine::Response {
        version: "SIP/2.0".into(),
        code: 700,
        reason: "Odd".into(),
    };
    assert_eq!(
        sim.layer.send_response(&key, odd, now),
        Err(TxError::NotAResponse)
    );
    assert_eq!(sim.layer.len(), 2);
}

#[test]
fn add_top_via_puts_a_fresh_rfc_3261_branch_on_top() {
    let mut req = Req::new("OPTIONS", 1).build();
    let b1 = add_top_via(&mut req, Transport::Tcp, "203.0.113.1:5061");
    let via = req.top_via().unwrap();
    assert_eq!(via.transport, "TCP");
    assert_eq!(via.sent_by(), "203.0.113.1:5061");
    assert_eq!(via.branch(), Some(b1.as_str()));
    assert!(via.has_rfc3261_branch());
    assert_eq!(req.vias().unwrap().len(), 2);
    let b2 = add_top_via(&mut req, Transport::Udp, "203.0.113.1:5060");
    assert_ne!(b1, b2);
}

#[test]
fn stateless_messages_go_straight_out() {
    let mut sim = Sim::default();
    let ack = Req::invite(1).method("ACK").to_tag("x").build();
    sim.layer.send_stateless(ack.clone(), udp());
    assert_eq!(
        sim.layer.poll_output(),
        Some(Output::Transmit {
            to: udp(),
            msg: ack.into()
        })
    );
    assert!(sim.layer.is_empty());
}

#[test]
fn timers_follow_the_configured_t1_t2_t4() {
    let cfg = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(400),
        t4: Duration::from_millis(1000),
    };
    assert_eq!(cfg.t1x64(), Duration::from_millis(6400));
    let mut sim = Sim::new(cfg);
    let req = Req::new("OPTIONS", 1).outgoing(Transport::Udp);
    sim.send(req.clone(), udp());
    sim.advance_to(10_000);
    let mut want = tx_at(
        &[
            0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100,
            5500, 5900, 6300,
        ],
        "OPTIONS",
    );
    want.extend(["6400 timeout F".into(), "6400 terminated".into()]);
    assert_eq!(sim.lines(), want);
    // Timer K = T4.
    let req = Req::new("OPTIONS", 2).outgoing(Transport::Udp);
    sim.send(req.clone(), udp());
    sim.recv(response(&req, 200, "x"), udp());
    sim.take();
    sim.advance_to(20_000);
    assert_eq!(sim.lines(), ["11000 terminated"]);
    // Defaults are RFC 3261's.
    let d = TimerConfig::default();
    assert_eq!(
        (d.t1, d.t2, d.t4),
        (
            Duration::from_millis(500),
            Duration::from_secs(4),
            Duration::from_secs(5)
        )
    );
}
