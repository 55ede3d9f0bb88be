//! INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with RFC 6026's Accepted state):
//! one test per arrow. The 2xx retransmission service has its own file (`ack_2xx.rs`).

use hotline::sip::message::Message;
use hotline::sip::transaction::{Key, Output, Peer, ServerKey, ServerState, TimerName, TxError};

use crate::harness::{response, tcp, tx_at, udp, Req, Sim};

/// An INVITE arrives at `ms` 0 from `peer`; returns its key and the message.
fn incoming(sim: &mut Sim, peer: Peer) -> (ServerKey, Message) {
    let mut inv = Req::invite(1).build();
    if peer.transport.is_reliable() {
        inv.set_header("Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKc1");
    }
    sim.recv(inv, peer);
    let (key, msg, cancels) = sim.request();
    assert_eq!(cancels, None);
    (key, msg)
}

/// The ACK for a non-2xx: the INVITE's branch.
fn ack(tag: &str) -> Message {
    Req::invite(1).method("ACK").to_tag(tag).build()
}

/// The ACK for a 2xx: a transaction of its own, so a new branch.
fn ack_2xx(tag: &str) -> Message {
    Req::invite(1)
        .method("ACK")
        .to_tag(tag)
        .branch("z9hG4bKack1")
        .build()
}

#[test]
fn invite_is_answered_100_at_once_and_passed_to_the_tu() {
    let mut sim = Sim::default();
    let mut inv = Req::invite(1).build();
    inv.push_header("Timestamp", "54");
    sim.recv(inv.clone(), udp());
    let out = sim.take();
    assert_eq!(out.len(), 2);
    let (0, Output::Transmit { to, msg: trying }) = &out[0] else {
        panic!("100 Trying first: {out:?}")
    };
    assert_eq!(*to, udp(), "back to where the INVITE came from");
    assert_eq!(trying.status(), Some(100));
    assert_eq!(trying.to().unwrap().tag(), None, "a 100 carries no To tag");
    assert_eq!(trying.header_values("Via"), inv.header_values("Via"));
    assert_eq!(trying.header("CSeq"), Some("1 INVITE"));
    assert_eq!(trying.header("Timestamp"), Some("54"));
    let (
        0,
        Output::Request {
            key,
            msg,
            from,
            cancels: None,
        },
    ) = &out[1]
    else {
        panic!("then the request for the TU: {out:?}")
    };
    assert_eq!((msg, *from), (&inv, udp()));
    assert_eq!(sim.layer.server_state(key), Some(ServerState::Proceeding));
    assert_eq!(sim.layer.len(), 1);
    // Proceeding has no timers: the TU answers in its own time (and sends 487 on CANCEL).
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn proceeding_invite_retransmission_resends_the_last_provisional_and_tu_1xx_is_sent() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.advance_to(500);
    sim.recv(Req::invite(1).build(), udp());
    sim.advance_to(1000);
    sim.respond(&key, response(&inv, 180, "uas")).unwrap();
    sim.advance_to(1500);
    sim.recv(Req::invite(1).build(), udp());
    sim.advance_to(1600);
    sim.respond(&key, response(&inv, 183, "uas")).unwrap();
    assert_eq!(
        sim.lines(),
        [
            "0 tx 100",
            "0 req INVITE",
            "500 tx 100",
            "1000 tx 180",
            "1500 tx 180",
            "1600 tx 183"
        ]
    );
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Proceeding));
}

#[test]
fn proceeding_non_2xx_completes_with_timer_g_to_t2_and_timer_h_at_64_t1() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.take();
    sim.advance_to(2000);
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Completed));
    sim.advance_to(40_000);
    let mut want = tx_at(
        &[
            2000, 2500, 3500, 5500, 9500, 13500, 17500, 21500, 25500, 29500, 33500,
        ],
        "486",
    );
    want.extend(["34000 timeout H".into(), "34000 terminated".into()]);
    assert_eq!(sim.lines(), want);
    assert!(sim.layer.is_empty());
}

#[test]
fn completed_timer_h_names_the_transaction() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 500, "uas")).unwrap();
    sim.take();
    sim.advance_to(32_000);
    let out = sim.take();
    assert_eq!(
        out[out.len() - 2..],
        [
            (
                32_000,
                Output::Timeout {
                    key: Key::Server(key.clone()),
                    timer: TimerName::H
                }
            ),
            (
                32_000,
                Output::Terminated {
                    key: Key::Server(key)
                }
            )
        ]
    );
}

#[test]
fn completed_invite_retransmission_resends_the_final() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 404, "uas")).unwrap();
    sim.take();
    sim.advance_to(200);
    sim.recv(Req::invite(1).build(), udp());
    assert_eq!(sim.lines(), ["200 tx 404"]);
}

#[test]
fn completed_ack_confirms_stops_timer_g_and_timer_i_ends_it_after_t4() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    sim.advance_to(2000);
    sim.take();
    sim.recv(ack("uas"), udp());
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Confirmed));
    assert_eq!(
        sim.layer.armed_timers(&Key::Server(key.clone())),
        [(TimerName::I, sim.at(7000))]
    );
    sim.advance_to(10_000);
    // The ACK is absorbed: the TU hears nothing, and no more 486s go out.
    assert_eq!(sim.lines(), ["7000 terminated"]);
}

#[test]
fn confirmed_absorbs_ack_and_invite_retransmissions() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    sim.recv(ack("uas"), udp());
    sim.take();
    sim.advance_to(1000);
    sim.recv(ack("uas"), udp());
    sim.recv(Req::invite(1).build(), udp());
    assert!(sim.lines().is_empty());
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Confirmed));
}

#[test]
fn proceeding_ack_acknowledges_nothing_and_is_dropped() {
    let mut sim = Sim::default();
    let (key, _) = incoming(&mut sim, udp());
    sim.take();
    sim.recv(ack("uas"), udp());
    assert!(sim.lines().is_empty());
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Proceeding));
}

#[test]
fn proceeding_2xx_is_sent_and_accepted_waits_timer_l() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.take();
    sim.advance_to(3000);
    sim.respond(&key, response(&inv, 200, "uas")).unwrap();
    assert_eq!(sim.lines(), ["3000 tx 200"]);
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Accepted));
    assert_eq!(
        sim.layer.armed_timers(&Key::Server(key)),
        [
            (TimerName::Resend2xx, sim.at(3500)),
            (TimerName::AckWait, sim.at(35_000)),
            (TimerName::L, sim.at(35_000)),
        ]
    );
}

#[test]
fn accepted_absorbs_invite_retransmissions_and_timer_l_ends_it() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 200, "uas")).unwrap();
    sim.recv(ack_2xx("uas"), udp());
    sim.take();
    sim.advance_to(400);
    sim.recv(Req::invite(1).build(), udp());
    assert!(
        sim.lines().is_empty(),
        "not re-answered, not given to the TU"
    );
    sim.advance_to(40_000);
    assert_eq!(sim.lines(), ["32000 terminated"]);
    assert!(sim.layer.is_empty());
}

#[test]
fn accepted_2xx_from_the_tu_is_sent_anything_else_refused() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 200, "uas")).unwrap();
    sim.take();
    sim.advance_to(100);
    assert_eq!(sim.respond(&key, response(&inv, 200, "uas")), Ok(()));
    assert_eq!(
        sim.respond(&key, response(&inv, 180, "uas")),
        Err(TxError::AlreadyFinal)
    );
    assert_eq!(
        sim.respond(&key, response(&inv, 486, "uas")),
        Err(TxError::AlreadyFinal)
    );
    assert_eq!(sim.lines(), ["100 tx 200"]);
}

#[test]
fn completed_and_confirmed_refuse_further_responses() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, udp());
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    for code in [180, 200, 500] {
        assert_eq!(
            sim.respond(&key, response(&inv, code, "uas")),
            Err(TxError::AlreadyFinal)
        );
    }
    sim.recv(ack("uas"), udp());
    assert_eq!(
        sim.respond(&key, response(&inv, 200, "uas")),
        Err(TxError::AlreadyFinal)
    );
}

#[test]
fn reliable_transport_sets_no_timer_g_and_a_zero_timer_i() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, tcp());
    sim.take();
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    assert_eq!(
        sim.layer.armed_timers(&Key::Server(key.clone())),
        [(TimerName::H, sim.at(32_000))]
    );
    sim.advance_to(1000);
    let mut a = ack("uas");
    a.set_header("Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKc1");
    sim.recv(a, tcp());
    assert_eq!(sim.lines(), ["0 tx 486", "1000 terminated"]);
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn reliable_transport_times_out_with_timer_h() {
    let mut sim = Sim::default();
    let (key, inv) = incoming(&mut sim, tcp());
    sim.take();
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        ["0 tx 486", "32000 timeout H", "32000 terminated"]
    );
}

#[test]
fn proceeding_and_completed_transport_errors_terminate() {
    for answer in [false, true] {
        let mut sim = Sim::default();
        let (key, inv) = incoming(&mut sim, udp());
        if answer {
            sim.respond(&key, response(&inv, 486, "uas")).unwrap();
        }
        sim.take();
        sim.transport_error(&Key::Server(key.clone()));
        sim.advance_to(60_000);
        assert_eq!(sim.lines(), ["0 transport-error", "0 terminated"]);
        assert_eq!(
            sim.respond(&key, response(&inv, 500, "uas")),
            Err(TxError::NoSuchTransaction)
        );
    }
}
