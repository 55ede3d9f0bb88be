//! INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with RFC 6026's Accepted state):
//! one test per arrow, timings to the millisecond.

use hotline::sip::message::{Message, Method};
use hotline::sip::transaction::{cancel_for, ClientState, Key, Output, TimerName, Transport};

use crate::harness::{response, tcp, tx_at, udp, Req, Sim};

fn start(sim: &mut Sim) -> (hotline::sip::transaction::ClientKey, Message) {
    let mut req = Req::invite(1);
    req.routes = vec![
        "<sip:edge.example.net;lr>".into(),
        "<sip:core.example.net;lr>".into(),
    ];
    let inv = req.outgoing(Transport::Udp);
    let key = sim.send(inv.clone(), udp());
    (key, inv)
}

#[test]
fn calling_timer_a_doubles_from_t1_then_timer_b_times_out_at_64_t1() {
    let mut sim = Sim::default();
    let (key, _) = start(&mut sim);
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Calling));
    sim.advance_to(31_999);
    assert_eq!(
        sim.lines(),
        tx_at(&[0, 500, 1500, 3500, 7500, 15500, 31500], "INVITE")
    );
    sim.advance_to(40_000);
    let out = sim.take();
    assert_eq!(
        out,
        vec![
            (
                32_000,
                Output::Timeout {
                    key: Key::Client(key.clone()),
                    timer: TimerName::B
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
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn calling_1xx_goes_to_the_tu_and_stops_timers_a_and_b() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(700);
    sim.recv(response(&inv, 180, "callee"), udp());
    assert_eq!(sim.lines(), ["0 tx INVITE", "500 tx INVITE", "700 rsp 180"]);
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Proceeding));
    assert!(sim.layer.armed_timers(&Key::Client(key.clone())).is_empty());
    // Ringing may outlast 64·T1: only the TU's CANCEL ends it.
    sim.advance_to(300_000);
    assert!(sim.lines().is_empty());
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Proceeding));
}

#[test]
fn proceeding_1xx_go_to_the_tu_once_each() {
    let mut sim = Sim::default();
    let (_, inv) = start(&mut sim);
    sim.advance_to(100);
    sim.recv(response(&inv, 100, ""), udp());
    sim.advance_to(200);
    sim.recv(response(&inv, 180, "a"), udp());
    // A retransmission (our INVITE crossed the 180, so the far end re-sent it).
    sim.recv(response(&inv, 180, "a"), udp());
    sim.recv(response(&inv, 100, ""), udp());
    sim.advance_to(300);
    let mut early = response(&inv, 183, "a");
    early.set_body("application/sdp", b"v=0\r\n".to_vec());
    sim.recv(early.clone(), udp());
    sim.recv(early, udp());
    // Another fork ringing is news for the TU.
    sim.recv(response(&inv, 180, "b"), udp());
    assert_eq!(
        sim.lines(),
        [
            "0 tx INVITE",
            "100 rsp 100",
            "200 rsp 180",
            "300 rsp 183",
            "300 rsp 180"
        ]
    );
}

#[test]
fn calling_non_2xx_is_acked_by_the_transaction_and_completed() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(1000);
    sim.take();
    let busy = response(&inv, 486, "callee");
    sim.recv(busy.clone(), udp());
    let out = sim.take();
    assert_eq!(out.len(), 2);
    let Output::Transmit { to, msg: ack } = &out[0].1 else {
        panic!("the ACK goes out first: {out:?}")
    };
    assert_eq!(*to, udp());
    // §17.1.1.3: Request-URI, Call-ID, From, CSeq number and top Via of the INVITE, To of
    // the response, the INVITE's Route set, method ACK.
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.request_uri(), inv.request_uri());
    assert_eq!(
        ack.header_values("Via"),
        [inv.header_values("Via")[0]],
        "the INVITE's top Via, same branch"
    );
    assert_eq!(ack.header("From"), inv.header("From"));
    assert_eq!(ack.header("To"), busy.header("To"));
    assert_eq!(ack.to().unwrap().tag(), Some("callee"));
    assert_eq!(ack.header("Call-ID"), inv.header("Call-ID"));
    assert_eq!(ack.header("CSeq"), Some("1 ACK"));
    assert_eq!(
        ack.header_lines("Route").collect::<Vec<_>>(),
        inv.header_lines("Route").collect::<Vec<_>>()
    );
    assert_eq!(ack.header("Max-Forwards"), Some("70"));
    assert!(ack.body.is_empty());
    assert_eq!(
        out[1].1,
        Output::Response {
            key: key.clone(),
            msg: busy
        }
    );
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Completed));
    assert_eq!(
        sim.layer.armed_timers(&Key::Client(key)),
        [(TimerName::D, sim.at(33_000))]
    );
}

#[test]
fn proceeding_non_2xx_is_acked_and_completed() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(100);
    sim.recv(response(&inv, 180, "callee"), udp());
    sim.advance_to(5000);
    sim.recv(response(&inv, 603, "callee"), udp());
    assert_eq!(
        sim.lines(),
        ["0 tx INVITE", "100 rsp 180", "5000 tx ACK", "5000 rsp 603"]
    );
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Completed));
}

#[test]
fn completed_re_acks_each_final_retransmission_and_timer_d_ends_it_after_32_s() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(1000);
    sim.recv(response(&inv, 486, "callee"), udp());
    sim.take();
    sim.advance_to(2000);
    sim.recv(response(&inv, 486, "callee"), udp());
    sim.advance_to(6000);
    sim.recv(response(&inv, 486, "callee"), udp());
    // Late provisionals are absorbed too.
    sim.recv(response(&inv, 180, "callee"), udp());
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        ["2000 tx ACK", "6000 tx ACK", "33000 terminated"]
    );
    assert_eq!(sim.layer.client_state(&key), None);
    // After Timer D the final response finds nobody.
    sim.recv(response(&inv, 486, "callee"), udp());
    assert_eq!(sim.lines(), ["40000 stray 486"]);
}

#[test]
fn completed_passes_a_2xx_from_another_fork_to_the_tu() {
    let mut sim = Sim::default();
    let (_, inv) = start(&mut sim);
    sim.recv(response(&inv, 486, "a"), udp());
    sim.advance_to(50);
    sim.recv(response(&inv, 200, "b"), udp());
    assert_eq!(
        sim.lines(),
        ["0 tx INVITE", "0 tx ACK", "0 rsp 486", "50 rsp 200"]
    );
}

#[test]
fn calling_2xx_goes_to_the_tu_unacknowledged_and_accepted_waits_timer_m() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(800);
    sim.recv(response(&inv, 200, "a"), udp());
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Accepted));
    assert_eq!(
        sim.layer.armed_timers(&Key::Client(key.clone())),
        [(TimerName::M, sim.at(32_800))]
    );
    sim.advance_to(40_000);
    // No ACK from the transaction: the 2xx's ACK is the TU's (dialog's) to send.
    assert_eq!(
        sim.lines(),
        [
            "0 tx INVITE",
            "500 tx INVITE",
            "800 rsp 200",
            "32800 terminated"
        ]
    );
}

#[test]
fn proceeding_2xx_goes_to_the_tu_and_accepted() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.recv(response(&inv, 180, "a"), udp());
    sim.advance_to(9000);
    sim.recv(response(&inv, 200, "a"), udp());
    assert_eq!(sim.lines(), ["0 tx INVITE", "0 rsp 180", "9000 rsp 200"]);
    assert_eq!(sim.layer.client_state(&key), Some(ClientState::Accepted));
}

#[test]
fn accepted_passes_every_2xx_retransmissions_and_forks_alike() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.advance_to(100);
    sim.recv(response(&inv, 200, "a"), udp());
    sim.advance_to(600);
    sim.recv(response(&inv, 200, "a"), udp());
    sim.advance_to(700);
    sim.recv(response(&inv, 200, "b"), udp());
    // Provisionals and non-2xx finals are absorbed while Accepted.
    sim.recv(response(&inv, 180, "c"), udp());
    sim.recv(response(&inv, 486, "c"), udp());
    let tags: Vec<_> = sim
        .take()
        .into_iter()
        .filter_map(|(t, o)| match o {
            Output::Response { key: k, msg } => {
                assert_eq!(k, key);
                Some((t, msg.to().unwrap().tag().unwrap().to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        tags,
        [(100, "a".into()), (600, "a".into()), (700, "b".to_string())]
    );
    sim.advance_to(32_100);
    assert_eq!(sim.lines(), ["32100 terminated"]);
    // After Timer M a 2xx is stray: the TU may still re-ACK it from its dialog.
    sim.recv(response(&inv, 200, "a"), udp());
    assert_eq!(sim.lines(), ["32100 stray 200"]);
}

#[test]
fn reliable_transport_sets_no_timer_a_and_a_zero_timer_d() {
    let mut sim = Sim::default();
    let inv = Req::invite(1).outgoing(Transport::Tcp);
    let key = sim.send(inv.clone(), tcp());
    assert_eq!(
        sim.layer.armed_timers(&Key::Client(key.clone())),
        [(TimerName::B, sim.at(32_000))]
    );
    sim.advance_to(1000);
    sim.recv(response(&inv, 486, "callee"), tcp());
    assert_eq!(
        sim.lines(),
        [
            "0 tx INVITE",
            "1000 tx ACK",
            "1000 rsp 486",
            "1000 terminated"
        ]
    );
    assert_eq!(sim.layer.client_state(&key), None);
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn reliable_transport_still_times_out_with_timer_b() {
    let mut sim = Sim::default();
    sim.send(Req::invite(1).outgoing(Transport::Tcp), tcp());
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        ["0 tx INVITE", "32000 timeout B", "32000 terminated"]
    );
}

#[test]
fn calling_transport_error_tells_the_tu_and_terminates() {
    let mut sim = Sim::default();
    let (key, _) = start(&mut sim);
    sim.advance_to(600);
    sim.transport_error(&Key::Client(key));
    assert_eq!(
        sim.layer.poll_timeout(),
        None,
        "Timers A and B went with it"
    );
    sim.advance_to(100_000);
    assert_eq!(
        sim.lines(),
        [
            "0 tx INVITE",
            "500 tx INVITE",
            "600 transport-error",
            "600 terminated"
        ]
    );
}

#[test]
fn completed_transport_error_terminates() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.recv(response(&inv, 486, "a"), udp());
    sim.take();
    sim.advance_to(10);
    sim.transport_error(&Key::Client(key));
    sim.advance_to(100_000);
    assert_eq!(sim.lines(), ["10 transport-error", "10 terminated"]);
}

#[test]
fn cancel_shares_the_invite_branch_but_runs_its_own_transaction() {
    let mut sim = Sim::default();
    let (key, inv) = start(&mut sim);
    sim.recv(response(&inv, 180, "callee"), udp());
    sim.advance_to(3000);
    let cancel = cancel_for(&inv).unwrap();
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(cancel.request_uri(), inv.request_uri());
    assert_eq!(cancel.header_values("Via"), [inv.header_values("Via")[0]]);
    assert_eq!(
        cancel.header("To"),
        inv.header("To"),
        "the INVITE's To, no tag"
    );
    assert_eq!(cancel.header("CSeq"), Some("1 CANCEL"));
    assert_eq!(
        cancel.header_lines("Route").collect::<Vec<_>>(),
        inv.header_lines("Route").collect::<Vec<_>>()
    );
    let ckey = sim.send(cancel.clone(), udp());
    assert_ne!(ckey, key);
    assert_eq!(ckey.branch(), key.branch());
    assert_eq!(ckey.method(), &Method::Cancel);
    assert_eq!(sim.layer.len(), 2);
    assert_eq!(sim.lines(), ["0 tx INVITE", "0 rsp 180", "3000 tx CANCEL"]);
    sim.advance_to(3100);
    sim.recv(response(&cancel, 200, "callee"), udp());
    sim.recv(response(&inv, 487, "callee"), udp());
    let out: Vec<_> = sim
        .take()
        .into_iter()
        .map(|(t, o)| match o {
            Output::Response { key: k, msg } => (t, Some(k), msg.status().unwrap().to_string()),
            Output::Transmit { msg, .. } => (t, None, msg.method().unwrap().to_string()),
            o => panic!("unexpected {o:?}"),
        })
        .collect();
    assert_eq!(
        out,
        [
            (3100, Some(ckey), "200".to_string()),
            (3100, None, "ACK".to_string()),
            (3100, Some(key), "487".to_string()),
        ]
    );
}
