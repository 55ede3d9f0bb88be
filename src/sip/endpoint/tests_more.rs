//! More endpoint tests on the fake clock: the corners a review found (early-dialog BYE,
//! merged INVITEs, outbound calls hung up while dialling, ringing limits, refresh ACKs,
//! carrier 423 without Min-Expires).

use super::tests::{find, in_dialog, peer, Harness, TRUNK};
use super::*;
use crate::config::TrunkRegister;
use crate::sip::message::Method;

const CARRIER: &str = "192.0.2.50:5060";

fn methods(sent: &[(Peer, Message)]) -> Vec<String> {
    sent.iter()
        .filter_map(|(_, m)| m.method().map(|m| m.to_string()))
        .collect()
}

#[test]
fn bye_in_the_early_dialog_answers_the_invite_487() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12319", "e1", "caller", "");
    h.deliver(&inv, TRUNK);
    let ringing = find(&h.take(), 180);
    h.deliver(&in_dialog("BYE", &ringing, 2, "z9hG4bKeb"), TRUNK);
    let mut codes: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
    codes.sort();
    assert_eq!(codes, [200, 487]);
    assert_eq!(h.ep.stats().calls, 0);
    h.run_to(40_000);
    assert_eq!(
        h.ep.stats().transactions,
        0,
        "the INVITE transaction finished too"
    );
}

#[test]
fn a_second_invite_for_a_held_call_id_is_a_merged_request() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12345", "m1", "caller", "");
    h.deliver(&inv, TRUNK);
    h.take();
    let again = h.invite("12345", "m1", "caller", ""); // same Call-ID, new branch
    h.deliver(&again, TRUNK);
    let codes: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
    assert_eq!(codes, [100, 482]);
    assert_eq!(h.ep.stats().calls, 1);
}

fn dial(h: &mut Harness) -> (String, Message) {
    let id = h.ep.place_call("carrier", "13900139000", h.now).unwrap();
    h.drain();
    let sent = h.take();
    (id, sent[0].1.clone())
}

fn answer(invite: &Message, code: u16) -> Message {
    let mut r = Message::response_to(invite, code, None);
    r.ensure_to_tag("callee");
    r.push_header("Contact", "<sip:13900139000@192.0.2.50:5060>");
    r
}

#[test]
fn outbound_call_hung_up_while_dialling_is_cancelled_once_it_rings_and_ended_if_answered() {
    let mut h = Harness::new(|_| {});
    let (id, invite) = dial(&mut h);
    h.ep.hangup(&id, h.now).unwrap();
    h.drain();
    assert!(
        methods(&h.take()).is_empty(),
        "no CANCEL before a provisional (RFC 3261 §9.1)"
    );
    assert_eq!(h.ep.stats().calls, 0);
    h.ep.handle_inbound(
        Inbound {
            msg: answer(&invite, 180),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert_eq!(methods(&h.take()), ["CANCEL"]);
    // The callee answered anyway (the 200 crossed the CANCEL): ACK, then BYE.
    h.ep.handle_inbound(
        Inbound {
            msg: answer(&invite, 200),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert_eq!(methods(&h.take()), ["ACK", "BYE"]);
    assert_eq!(h.ep.stats().dialogs, 0);
}

#[test]
fn outbound_ringing_is_bounded_and_early_dialogs_do_not_leak() {
    let mut h = Harness::new(|_| {});
    let (_, invite) = dial(&mut h);
    h.ep.handle_inbound(
        Inbound {
            msg: answer(&invite, 180),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert_eq!(h.ep.stats().dialogs, 1, "an early dialog");
    h.run_to(59_999);
    assert!(!methods(&h.take()).contains(&"CANCEL".to_string()));
    h.run_to(60_000);
    assert!(methods(&h.take()).contains(&"CANCEL".to_string()));
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CallEnded { cause, .. } if cause == "no answer")));
    assert_eq!(h.ep.stats().calls, 0);
    assert_eq!(
        h.ep.stats().dialogs,
        0,
        "the early dialog went with the call"
    );
    // A 487 for the INVITE finishes it.
    h.ep.handle_inbound(
        Inbound {
            msg: answer(&invite, 487),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    h.run_to(200_000);
    assert_eq!(h.ep.stats().transactions, 0);
}

#[test]
fn our_refresh_reinvite_is_acknowledged() {
    // The caller supports no timer and no UPDATE: we refresh with re-INVITE at SE/2.
    let mut h = Harness::new(|c| {
        c.numbers[0].max_call_secs = 3600;
        c.sip.session_expires_secs = 120;
    });
    let inv = h.invite("12345", "rf", "caller", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKrf"), TRUNK);
    h.run_to(60_000);
    let sent = h.take();
    let (_, reinvite) = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Invite))
        .expect("a refresh re-INVITE at SE/2");
    assert!(!reinvite.body.is_empty(), "a re-INVITE carries our SDP");
    let mut ok2 = Message::response_to(reinvite, 200, None);
    ok2.push_header("Contact", "<sip:caller@192.0.2.1:5060>");
    h.ep.handle_inbound(
        Inbound {
            msg: ok2,
            from: peer(TRUNK),
        },
        h.now,
    );
    h.drain();
    assert_eq!(
        methods(&h.take()),
        ["ACK"],
        "the refresh's 2xx is acknowledged at once"
    );
    assert_eq!(h.ep.stats().calls, 1);
}

#[test]
fn carrier_423_without_min_expires_waits_instead_of_spinning() {
    let mut h = Harness::new(|c| {
        c.trunks[0].register = Some(TrunkRegister {
            registrar: CARRIER.into(),
            domain: None,
            username: "0571000".into(),
            password: "pw".into(),
            expires_secs: 600,
        });
    });
    h.run_to(0);
    let sent = h.take();
    let (_, reg) = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Register))
        .unwrap();
    let res = Message::response_to(reg, 423, None);
    h.ep.handle_inbound(
        Inbound {
            msg: res,
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert!(methods(&h.take()).is_empty(), "no immediate retry");
    assert_eq!(h.ep.trunk_registered("carrier"), Some(false));
    h.run_to(60_000);
    assert_eq!(methods(&h.take()), ["REGISTER"], "retried after 60 s");
}

/// Every RFC 4475 torture message, sent to the endpoint from a trunk address: each one that
/// parses as a request is answered (an ACK never is), the invalid ones with 400 or 505, and
/// nothing panics; responses in the corpus are absorbed.
#[test]
fn torture_messages_are_answered_or_refused() {
    use crate::sip::message::parse_datagram;
    use sipx_testkit::rfc4475::{Expect, CASES};
    for case in CASES {
        let mut h = Harness::new(|_| {});
        let Ok(msg) = parse_datagram(case.bytes) else {
            assert!(
                matches!(case.expect, Expect::ParseErr(_) | Expect::Unreferenced),
                "{} should parse",
                case.name
            );
            continue;
        };
        let is_request = msg.is_request();
        let is_ack = msg.method() == Some(&Method::Ack);
        let has_via = msg.top_via().is_ok();
        h.ep.handle_inbound(
            Inbound {
                msg,
                from: peer(TRUNK),
            },
            h.now,
        );
        h.drain();
        let codes: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
        if !is_request || is_ack || !has_via {
            // Responses go to no transaction of ours; ACKs are never answered; a request
            // whose Via cannot be read cannot be answered either (badinv01).
            assert!(codes.iter().all(|c| *c == 100), "{}: {codes:?}", case.name);
            continue;
        }
        let last = codes.last().copied();
        match case.expect {
            Expect::ParseOk => assert!(
                last.is_some_and(|c| c >= 200),
                "{} (valid) got no final answer: {codes:?}",
                case.name
            ),
            Expect::HeaderErr(_) | Expect::ValidateErr(_) => assert!(
                matches!(last, Some(400 | 505)),
                "{} (invalid) got {codes:?}",
                case.name
            ),
            _ => {}
        }
    }
}

#[test]
fn a_carrier_challenging_our_invite_gets_it_again_with_credentials() {
    let mut h = Harness::new(|c| {
        c.trunks[0].register = Some(TrunkRegister {
            registrar: CARRIER.into(),
            domain: None,
            username: "0571000".into(),
            password: "carrier-pw".into(),
            expires_secs: 600,
        });
    });
    h.run_to(0);
    h.take(); // the REGISTER
    let (id, invite) = dial(&mut h);
    let mut challenge = Message::response_to(&invite, 407, None);
    challenge.ensure_to_tag("c");
    for c in crate::sip::auth::challenges("carrier", "n1", "op", false) {
        challenge.push_header("Proxy-Authenticate", c.to_string());
    }
    h.ep.handle_inbound(
        Inbound {
            msg: challenge.clone(),
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    let sent = h.take();
    assert_eq!(
        methods(&sent),
        ["ACK", "INVITE"],
        "ACK for the 407, then the INVITE again"
    );
    let again = &sent[1].1;
    assert_eq!(again.call_id().unwrap(), id);
    assert_eq!(again.cseq().unwrap().seq, invite.cseq().unwrap().seq + 1);
    let auth = again.header("Proxy-Authorization").unwrap();
    assert!(auth.contains("username=\"0571000\""), "{auth}");
    // A second challenge means the credentials are wrong: the call fails.
    let mut again_407 = Message::response_to(again, 407, None);
    again_407.ensure_to_tag("c2");
    for c in crate::sip::auth::challenges("carrier", "n2", "op", false) {
        again_407.push_header("Proxy-Authenticate", c.to_string());
    }
    h.ep.handle_inbound(
        Inbound {
            msg: again_407,
            from: peer(CARRIER),
        },
        h.now,
    );
    h.drain();
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CallEnded { cause, .. } if cause == "failed: 407")));
}

#[test]
fn shutdown_ends_every_call_and_refuses_new_ones() {
    let mut h = Harness::new(|_| {});
    let inv = h.invite("12345", "s1", "caller", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKs1"), TRUNK);
    let inv = h.invite("12319", "s2", "caller", ""); // ringing
    h.deliver(&inv, TRUNK);
    h.take();
    assert_eq!(h.ep.shutdown(h.now), 2);
    h.drain();
    let sent = h.take();
    assert_eq!(methods(&sent), ["BYE"]);
    assert!(sent.iter().any(|(_, m)| m.status() == Some(480)));
    assert_eq!(h.ep.stats().calls, 0);
    let inv = h.invite("12345", "s3", "caller", "");
    h.deliver(&inv, TRUNK);
    let codes: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
    assert_eq!(codes, [100, 503]);
}
