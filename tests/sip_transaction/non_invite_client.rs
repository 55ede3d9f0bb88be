//! Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): one test per arrow.

use hotline::sip::message::Message;
use hotline::sip::transaction::{ClientKey, ClientState, Key, Output, TimerName, Transport};

use crate::harness::{response, tcp, tx_at, udp, Req, Sim};

fn start(sim: &mut Sim, method: &'static str) -> (ClientKey, Message) {
    let req = Req::new(method, 7).outgoing(Transport::Udp);
    let key = sim.send(req.clone(), udp());
    (key, req)
}

#[test]
fn trying_timer_e_doubles_to_t2_then_timer_f_times_out_at_64_t1() {
    let mut sim = Sim::default();
    let (key, _) = start(&mut sim, "OPTIONS");
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Trying));
    sim.advance_to(31_999);
    assert_eq!(
        sim.lines(),
        tx_at(
            &[0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
            "OPTIONS"
        )
    );
    sim.advance_to(40_000);
    assert_eq!(
        sim.take(),
        [
            (
                32_000,
                Output::Timeout {
                    key: Key::Client(key.clone()),
                    timer: TimerName::F
                }
            ),
            (
                32_000,
                Output::Terminated {
                    key: Key::Client(key)
                }
            ),
        ]
    );
    assert!(sim.layer.is_empty());
}

#[test]
fn trying_1xx_goes_to_the_tu_and_proceeding_retransmits_at_t2() {
    let mut sim = Sim::default();
    let (key, req) = start(&mut sim, "REGISTER");
    sim.advance_to(600);
    sim.recv(response(&req, 100, ""), udp());
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Proceeding));
    // Timer E keeps the deadline it had (1500); each firing from Proceeding re-arms it at T2.
    sim.advance_to(31_999);
    let mut want = tx_at(&[0, 500], "REGISTER");
    want.push("600 rsp 100".into());
    want.extend(tx_at(
        &[1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500],
        "REGISTER",
    ));
    assert_eq!(sim.lines(), want);
}

#[test]
fn proceeding_timer_f_still_times_out() {
    let mut sim = Sim::default();
    let (_, req) = start(&mut sim, "REGISTER");
    sim.advance_to(100);
    sim.recv(response(&req, 100, ""), udp());
    sim.take();
    sim.advance_to(33_000);
    let lines = sim.lines();
    assert_eq!(
        lines[lines.len() - 2..],
        ["32000 timeout F", "32000 terminated"]
    );
}

#[test]
fn proceeding_1xx_go_to_the_tu_once_each() {
    let mut sim = Sim::default();
    let (_, req) = start(&mut sim, "BYE");
    sim.recv(response(&req, 100, ""), udp());
    sim.recv(response(&req, 100, ""), udp());
    sim.recv(response(&req, 180, "x"), udp());
    assert_eq!(sim.lines(), ["0 tx BYE", "0 rsp 100", "0 rsp 180"]);
}

#[test]
fn trying_final_goes_to_the_tu_and_completed_absorbs_retransmissions_until_timer_k() {
    let mut sim = Sim::default();
    let (key, req) = start(&mut sim, "BYE");
    sim.advance_to(300);
    sim.recv(response(&req, 200, "callee"), udp());
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Completed));
    assert_eq!(
        sim.layer.armed_timers(&Key::Client(key.clone())),
        [(TimerName::K, sim.at(5300))],
        "Timer K = T4, and Timers E and F are gone"
    );
    sim.advance_to(800);
    sim.recv(response(&req, 200, "callee"), udp());
    sim.recv(response(&req, 100, ""), udp());
    sim.advance_to(10_000);
    assert_eq!(sim.lines(), ["0 tx BYE", "300 rsp 200", "5300 terminated"]);
    assert_eq!(sim.layer.client_state(&key), None);
}

#[test]
fn proceeding_final_goes_to_the_tu_and_completed() {
    let mut sim = Sim::default();
    let (key, req) = start(&mut sim, "REGISTER");
    sim.recv(response(&req, 100, ""), udp());
    sim.advance_to(700);
    sim.recv(response(&req, 401, "r"), udp());
    assert_eq!(
        sim.lines(),
        [
            "0 tx REGISTER",
            "0 rsp 100",
            "500 tx REGISTER",
            "700 rsp 401"
        ]
    );
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Completed));
}

#[test]
fn reliable_transport_sets_no_timer_e_and_a_zero_timer_k() {
    let mut sim = Sim::default();
    let req = Req::new("OPTIONS", 1).outgoing(Transport::Tcp);
    let key = sim.send(req.clone(), tcp());
    assert_eq!(
        sim.layer.armed_timers(&Key::Client(key.clone())),
        [(TimerName::F, sim.at(32_000))]
    );
    sim.advance_to(2000);
    sim.recv(response(&req, 200, "x"), tcp());
    assert_eq!(
        sim.lines(),
        ["0 tx OPTIONS", "2000 rsp 200", "2000 terminated"]
    );
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn reliable_transport_times_out_with_timer_f() {
    let mut sim = Sim::default();
    sim.send(Req::new("OPTIONS", 1).outgoing(Transport::Tcp), tcp());
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        ["0 tx OPTIONS", "32000 timeout F", "32000 terminated"]
    );
}

#[test]
fn trying_and_proceeding_transport_errors_terminate() {
    for provisional in [false, true] {
        let mut sim = Sim::default();
        let (key, req) = start(&mut sim, "OPTIONS");
        if provisional {
            sim.recv(response(&req, 100, ""), udp());
        }
        sim.take();
        sim.advance_to(200);
        sim.transport_error(&Key::Client(key));
        sim.advance_to(60_000);
        assert_eq!(sim.lines(), ["200 transport-error", "200 terminated"]);
    }
}
