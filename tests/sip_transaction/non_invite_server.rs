//! Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): one test per arrow.

use hotline::sip::message::Message;
use hotline::sip::transaction::{Key, Peer, ServerKey, ServerState, TimerName, TxError};

use crate::harness::{response, tcp, udp, Req, Sim};

fn incoming(sim: &mut Sim, method: &'static str, peer: Peer) -> (ServerKey, Message) {
    let mut req = Req::new(method, 3).build();
    if peer.transport.is_reliable() {
        req.set_header("Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKc3");
    }
    sim.recv(req, peer);
    let (key, msg, _) = sim.request();
    (key, msg)
}

#[test]
fn request_goes_to_the_tu_in_trying_and_retransmissions_are_absorbed_silently() {
    let mut sim = Sim::default();
    let (key, _) = incoming(&mut sim, "REGISTER", udp());
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Trying));
    sim.advance_to(500);
    sim.recv(Req::new("REGISTER", 3).build(), udp());
    sim.advance_to(1500);
    sim.recv(Req::new("REGISTER", 3).build(), udp());
    // No 100 Trying for a non-INVITE, no second request for the TU, and no timer in Trying.
    assert_eq!(sim.lines(), ["0 req REGISTER"]);
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn trying_1xx_from_the_tu_is_sent_and_proceeding_resends_it_for_retransmissions() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "SUBSCRIBE", udp());
    sim.advance_to(100);
    sim.respond(&key, response(&req, 100, "")).unwrap();
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Proceeding));
    sim.advance_to(500);
    sim.recv(Req::new("SUBSCRIBE", 3).build(), udp());
    assert_eq!(sim.lines(), ["0 req SUBSCRIBE", "100 tx 100", "500 tx 100"]);
}

#[test]
fn proceeding_1xx_from_the_tu_is_sent() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "MESSAGE", udp());
    sim.respond(&key, response(&req, 100, "")).unwrap();
    sim.respond(&key, response(&req, 180, "u")).unwrap();
    sim.recv(Req::new("MESSAGE", 3).build(), udp());
    assert_eq!(
        sim.lines(),
        ["0 req MESSAGE", "0 tx 100", "0 tx 180", "0 tx 180"]
    );
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Proceeding));
}

#[test]
fn trying_final_is_sent_and_completed_resends_it_until_timer_j() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "BYE", udp());
    sim.advance_to(200);
    sim.respond(&key, response(&req, 200, "u")).unwrap();
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Completed));
    assert_eq!(
        sim.layer.armed_timers(&Key::Server(key.clone())),
        [(TimerName::J, sim.at(32_200))]
    );
    sim.advance_to(700);
    sim.recv(Req::new("BYE", 3).build(), udp());
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        ["0 req BYE", "200 tx 200", "700 tx 200", "32200 terminated"]
    );
    // After Timer J the same request is new again.
    sim.recv(Req::new("BYE", 3).build(), udp());
    assert_eq!(sim.lines(), ["40000 req BYE"]);
}

#[test]
fn proceeding_final_is_sent_and_completed() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "REFER", udp());
    sim.respond(&key, response(&req, 100, "")).unwrap();
    sim.advance_to(50);
    sim.respond(&key, response(&req, 202, "u")).unwrap();
    sim.recv(Req::new("REFER", 3).build(), udp());
    assert_eq!(
        sim.lines(),
        ["0 req REFER", "0 tx 100", "50 tx 202", "50 tx 202"]
    );
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Completed));
}

#[test]
fn completed_refuses_further_responses() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "OPTIONS", udp());
    sim.respond(&key, response(&req, 200, "u")).unwrap();
    for code in [100, 200, 500] {
        assert_eq!(
            sim.respond(&key, response(&req, code, "u")),
            Err(TxError::AlreadyFinal)
        );
    }
}

#[test]
fn reliable_transport_has_a_zero_timer_j() {
    let mut sim = Sim::default();
    let (key, req) = incoming(&mut sim, "OPTIONS", tcp());
    sim.advance_to(10);
    sim.respond(&key, response(&req, 200, "u")).unwrap();
    assert_eq!(sim.lines(), ["0 req OPTIONS", "10 tx 200", "10 terminated"]);
    assert!(sim.layer.is_empty());
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn proceeding_and_completed_transport_errors_terminate() {
    for code in [180, 200] {
        let mut sim = Sim::default();
        let (key, req) = incoming(&mut sim, "INFO", udp());
        sim.respond(&key, response(&req, code, "u")).unwrap();
        sim.take();
        sim.transport_error(&Key::Server(key));
        sim.advance_to(60_000);
        assert_eq!(sim.lines(), ["0 transport-error", "0 terminated"]);
    }
}
