//! The 2xx retransmission service (RFC 3261 §13.3.1.4): a 2xx to an INVITE is re-sent at T1,
//! 2·T1, … capped at T2 until its ACK (new branch; same Call-ID, CSeq number and To tag)
//! arrives, or 64·T1 passes and the TU hears `AckWait`.

use hotline::sip::message::Message;
use hotline::sip::transaction::{Key, Output, Peer, ServerKey, ServerState, TimerName};

use crate::harness::{response, tcp, tx_at, udp, Req, Sim};

/// An INVITE at 0 ms, answered 200 by the TU at `answer_ms`.
fn answered(sim: &mut Sim, peer: Peer, answer_ms: u64) -> (ServerKey, Message) {
    let mut inv = Req::invite(1).build();
    if peer.transport.is_reliable() {
        inv.set_header("Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKc1");
    }
    sim.recv(inv, peer);
    let (key, inv, _) = sim.request();
    sim.take();
    sim.advance_to(answer_ms);
    sim.respond(&key, response(&inv, 200, "uas")).unwrap();
    (key, inv)
}

fn ack_2xx(tag: &str, branch: &str) -> Message {
    Req::invite(1)
        .method("ACK")
        .to_tag(tag)
        .branch(branch)
        .build()
}

#[test]
fn the_2xx_is_retransmitted_until_its_ack_then_stops() {
    let mut sim = Sim::default();
    let (key, _) = answered(&mut sim, udp(), 1000);
    sim.advance_to(5000);
    let ack = ack_2xx("uas", "z9hG4bKack");
    sim.recv(ack.clone(), udp());
    assert_eq!(sim.layer.pending_acks(), 0);
    sim.advance_to(60_000);
    let mut want = tx_at(&[1000, 1500, 2500, 4500], "200");
    want.extend(["5000 ack".into(), "33000 terminated".into()]);
    assert_eq!(sim.lines(), want);
    // The ACK itself goes to the dialog layer as it came.
    let mut sim = Sim::default();
    answered(&mut sim, udp(), 0);
    sim.take();
    sim.recv(ack.clone(), udp());
    assert_eq!(
        sim.take(),
        [(
            0,
            Output::Ack {
                msg: ack,
                from: udp()
            }
        )]
    );
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Accepted));
}

#[test]
fn a_lost_ack_means_retransmissions_capped_at_t2_then_ack_wait_at_64_t1() {
    let mut sim = Sim::default();
    let (key, _) = answered(&mut sim, udp(), 1000);
    sim.advance_to(60_000);
    let mut want = tx_at(
        &[
            1000, 1500, 2500, 4500, 8500, 12500, 16500, 20500, 24500, 28500, 32500,
        ],
        "200",
    );
    want.extend(["33000 timeout AckWait".into(), "33000 terminated".into()]);
    assert_eq!(sim.lines(), want);
    assert_eq!(sim.layer.pending_acks(), 0);
    assert!(sim.layer.is_empty());

    // The timeout names the INVITE server transaction, so the TU can find the dialog to BYE.
    let mut sim = Sim::default();
    answered(&mut sim, udp(), 0);
    sim.advance_to(32_000);
    let out = sim.take();
    assert!(out.contains(&(
        32_000,
        Output::Timeout {
            key: Key::Server(key),
            timer: TimerName::AckWait
        }
    )));
}

#[test]
fn an_ack_for_another_dialog_or_cseq_does_not_stop_the_retransmissions() {
    let mut sim = Sim::default();
    answered(&mut sim, udp(), 0);
    sim.advance_to(100);
    // Wrong To tag (another UAS's 2xx), then wrong CSeq number.
    sim.recv(ack_2xx("other", "z9hG4bKa1"), udp());
    let mut req = Req::invite(1)
        .method("ACK")
        .to_tag("uas")
        .branch("z9hG4bKa2");
    req.cseq = 2;
    sim.recv(req.build(), udp());
    assert_eq!(sim.layer.pending_acks(), 1);
    sim.advance_to(1600);
    assert_eq!(
        sim.lines(),
        [
            "0 tx 200",
            "100 ack",
            "100 ack",
            "500 tx 200",
            "1500 tx 200"
        ]
    );
}

#[test]
fn reliable_transport_does_not_retransmit_but_still_waits_for_the_ack() {
    let mut sim = Sim::default();
    answered(&mut sim, tcp(), 0);
    sim.advance_to(60_000);
    assert_eq!(
        sim.lines(),
        ["0 tx 200", "32000 timeout AckWait", "32000 terminated"]
    );
    let mut sim = Sim::default();
    answered(&mut sim, tcp(), 0);
    sim.advance_to(700);
    sim.recv(ack_2xx("uas", "z9hG4bKack"), tcp());
    sim.advance_to(60_000);
    assert_eq!(sim.lines(), ["0 tx 200", "700 ack", "32000 terminated"]);
}

#[test]
fn a_2xx_the_tu_sends_again_is_the_one_retransmitted() {
    let mut sim = Sim::default();
    let (key, inv) = answered(&mut sim, udp(), 0);
    sim.advance_to(200);
    let mut again = response(&inv, 200, "uas");
    again.set_body("application/sdp", b"v=0\r\n".to_vec());
    sim.respond(&key, again.clone()).unwrap();
    sim.advance_to(500);
    let sent = sim.take_transmitted();
    assert_eq!(sent.len(), 3);
    assert!(sent[0].body.is_empty());
    assert_eq!(sent[1], again);
    assert_eq!(sent[2], again, "the 500 ms retransmission is the new 2xx");
    assert_eq!(sim.layer.pending_acks(), 1);
}

#[test]
fn an_ack_after_everything_is_gone_still_reaches_the_dialog_layer() {
    let mut sim = Sim::default();
    answered(&mut sim, udp(), 0);
    sim.advance_to(40_000);
    sim.take();
    sim.recv(ack_2xx("uas", "z9hG4bKlate"), udp());
    assert_eq!(sim.lines(), ["40000 ack"]);
}

#[test]
fn a_transport_error_on_the_invite_stops_the_2xx_retransmission() {
    let mut sim = Sim::default();
    let (key, _) = answered(&mut sim, udp(), 0);
    sim.advance_to(600);
    sim.transport_error(&Key::Server(key));
    assert_eq!(
        sim.layer.pending_timers(),
        0,
        "Timer L and both 2xx timers are gone"
    );
    assert_eq!(sim.layer.poll_timeout(), None);
    sim.advance_to(60_000);
    assert_eq!(
        sim.lines(),
        [
            "0 tx 200",
            "500 tx 200",
            "600 transport-error",
            "600 terminated"
        ]
    );
    assert_eq!(sim.layer.pending_acks(), 0);
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn an_ack_for_the_2xx_reusing_the_invite_branch_still_reaches_the_tu() {
    // Some UAs put the INVITE's branch on the ACK for a 2xx. It then matches the INVITE
    // transaction, which is Accepted and hands it on (RFC 6026) instead of absorbing it.
    let mut sim = Sim::default();
    let (key, _) = answered(&mut sim, udp(), 0);
    sim.advance_to(100);
    sim.recv(ack_2xx("uas", "z9hG4bKc1"), udp());
    sim.advance_to(60_000);
    assert_eq!(sim.lines(), ["0 tx 200", "100 ack", "32000 terminated"]);
    assert_eq!(sim.layer.server_state(&key), None);
}
