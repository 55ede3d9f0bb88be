//! The INVITE handshake under stress: CANCEL while ringing, a late ACK (the 200 is
//! retransmitted until it comes), no ACK at all (the server gives up and sends BYE), and
//! overload (503 with Retry-After while established calls keep working).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::support::sipp::{Run, Sipp};
use crate::support::{wait_for, Config, Server};

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// 200 OKs for the INVITE that SIPp received.
fn invite_oks(run: &Run) -> usize {
    run.received()
        .filter(|m| m.is_response(200, "INVITE"))
        .count()
}

#[test]
fn cancel_while_ringing() {
    let cfg = Config::demo().number("12345", "answer_after_ms", 3000);
    let server = Server::start(cfg, LOCAL);
    let started = Instant::now();
    let run = Sipp::new(&server.sip_target(), "cancel.xml")
        .args(&["-s", "12345"])
        .run();
    run.assert_success(1);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "cancelled before the answer"
    );
    let got: Vec<&str> = run.received().map(|m| m.first_line()).collect();
    assert!(got.iter().any(|l| l.starts_with("SIP/2.0 180")), "{got:?}");
    assert!(run.received().any(|m| m.is_response(200, "CANCEL")));
    assert!(run.received().any(|m| m.is_response(487, "INVITE")));
    assert_eq!(invite_oks(&run), 0, "never answered");
    let ended = server.wait_log("call ended", 1);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["cause"], "cancelled");
    assert!(server.calls().is_empty());
}

/// The ACK is held back 2 s: the 200 comes again meanwhile (T1 = 500 ms: at 0, 0.5, 1.5 s),
/// stops once the ACK is in, and the call ends normally with BYE.
#[test]
fn late_ack_stops_the_200_retransmissions() {
    let server = Server::demo();
    let run = Sipp::new(&server.sip_target(), "late_ack.xml")
        .args(&["-s", "12345"])
        .run();
    run.assert_success(1);
    let ack_at = run
        .messages
        .iter()
        .position(|m| !m.received && m.is_request("ACK"))
        .expect("ACK sent");
    let before = run.messages[..ack_at]
        .iter()
        .filter(|m| m.received && m.is_response(200, "INVITE"))
        .count();
    let after = run.messages[ack_at..]
        .iter()
        .filter(|m| m.received && m.is_response(200, "INVITE"))
        .count();
    assert!(
        before >= 2,
        "the 200 was received {before} times before the ACK"
    );
    assert!(before <= 4, "retransmitted too often: {before}");
    assert_eq!(after, 0, "the 200 kept coming after the ACK");
    let retransmissions: Vec<&str> = run
        .messages
        .iter()
        .filter(|m| m.received && m.is_response(200, "INVITE"))
        .map(|m| m.text.as_str())
        .collect();
    assert!(
        retransmissions.windows(2).all(|w| w[0] == w[1]),
        "retransmissions are copies"
    );
    let ended = server.wait_log("call ended", 1);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["cause"], "remote BYE");
}

/// The 200 is never acknowledged: after 64·T1 = 32 s the server sends BYE (RFC 3261
/// §13.3.1.4). The hang-up timer is set longer so that it cannot be what sends the BYE.
#[test]
fn no_ack_makes_the_server_send_bye() {
    let cfg = Config::demo().number("12345", "max_call_secs", 120);
    let server = Server::start(cfg, LOCAL);
    let started = Instant::now();
    let run = Sipp::new(&server.sip_target(), "no_ack.xml")
        .args(&["-s", "12345"])
        .limit(Duration::from_secs(50))
        .run();
    let took = started.elapsed();
    run.assert_success(1);
    assert!(
        (Duration::from_secs(31)..Duration::from_secs(36)).contains(&took),
        "BYE after {took:?}"
    );
    let oks = invite_oks(&run);
    // 0, 0.5, 1.5, 3.5, 7.5, 11.5, … every T2 = 4 s up to 32 s: about 10.
    assert!((7..=12).contains(&oks), "the 200 was received {oks} times");
    let bye = run.received().find(|m| m.is_request("BYE")).expect("BYE");
    assert!(bye.header("CSeq").is_some());
    let ended = server.wait_log("call ended", 1);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0]["cause"], "no ACK");
    assert!(server.calls().is_empty());
}

/// `max_calls = 5`: five calls are up, the sixth INVITE gets 503 with Retry-After, and the
/// BYEs of the five (sent while the server is full) get 200.
#[test]
fn overload_refuses_new_calls_but_not_byes() {
    let cfg = Config::demo()
        .sip("max_calls", 5)
        .sip("retry_after_secs", 7)
        .number("12345", "max_call_secs", 120);
    let server = Server::start(cfg, LOCAL);
    let five = Sipp::new(&server.sip_target(), "uac")
        .args(&["-s", "12345", "-r", "50", "-l", "5", "-d", "4000"])
        .calls(5)
        .spawn();
    wait_for(Duration::from_secs(3), "five calls answered", || {
        let calls = server.calls();
        (calls.len() == 5 && calls.iter().all(|c| c["answered"] == true)).then_some(())
    });
    let sixth = Sipp::new(&server.sip_target(), "uac_503.xml")
        .args(&["-s", "12345"])
        .run();
    sixth.assert_success(1);
    let refused = sixth
        .received()
        .find(|m| m.is_response(503, "INVITE"))
        .expect("503");
    assert_eq!(refused.header("Retry-After").as_deref(), Some("7"));
    assert_eq!(
        server.calls().len(),
        5,
        "still full when the BYEs start coming"
    );
    let five = five.wait();
    five.assert_success(5);
    let bye_oks = five
        .received()
        .filter(|m| m.is_response(200, "BYE"))
        .count();
    assert_eq!(bye_oks, 5);
    let status = server.status();
    assert_eq!(status["calls_refused"], 1, "{status}");
    assert_eq!(status["calls"], 0, "{status}");
}
