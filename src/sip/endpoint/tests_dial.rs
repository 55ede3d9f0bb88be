//! Fake-clock tests of the agent-leg features: dialling a registered user (binding choice,
//! NAT-safe destination, identity headers, ringing / answer / failure events), blind transfer
//! by REFER, and the numbers' `max_call_secs`.

use super::tests::{find, in_dialog, Harness, PHONE, TRUNK};
use super::*;
use crate::sip::auth::respond;
use crate::sip::message::{parse_datagram, Method};
use crate::sip::registrar::RegistrarEvent;

fn deliver_via(h: &mut Harness, msg: Message, from: Peer) {
    h.ep.handle_inbound(Inbound { msg, from }, h.now);
    h.drain();
}

fn udp(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

/// Registers 1001 with `contacts` (the text of one Contact header) from `from`, answering the
/// digest challenge.
fn register(h: &mut Harness, from: Peer, contacts: &str, call_id: &str) {
    let via = from.transport.via_token();
    let reg = |auth: &str, cseq: u32| {
        format!(
            "REGISTER sip:203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/{via} 10.0.0.5:5062;rport;branch=z9hG4bK{call_id}{cseq}\r\n\
             From: <sip:1001@203.0.113.1>;tag=r\r\nTo: <sip:1001@203.0.113.1>\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\nContact: {contacts}\r\nExpires: 120\r\n{auth}Content-Length: 0\r\n\r\n"
        )
    };
    let first = parse_datagram(reg("", 1).as_bytes()).unwrap();
    deliver_via(h, first, from);
    let challenge = find(&h.take(), 401);
    let w = challenge.header("WWW-Authenticate").unwrap().to_string();
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
    let second = parse_datagram(reg(&format!("Authorization: {a}\r\n"), 2).as_bytes()).unwrap();
    deliver_via(h, second, from);
    find(&h.take(), 200);
}

fn agent_dial() -> Dial {
    Dial {
        target: DialTarget::User {
            user: "1001".into(),
        },
        from_user: Some("12345".into()),
        from_display: Some("13800138000".into()),
        asserted: Some("13800138000".into()),
        link: None,
    }
}

/// Dials and returns the Call-ID, where the INVITE went and the INVITE.
fn dial(h: &mut Harness, d: Dial) -> (String, Peer, Message) {
    let id = h.ep.dial(d, h.now).expect("dialled");
    h.drain();
    let sent = h.take();
    assert_eq!(sent.len(), 1, "one INVITE");
    (id, sent[0].0, sent[0].1.clone())
}

fn answer(invite: &Message, code: u16) -> Message {
    let mut r = Message::response_to(invite, code, None);
    r.ensure_to_tag("agent");
    r.push_header("Contact", "<sip:1001@10.0.0.5:5062>");
    r
}

fn methods(sent: &[(Peer, Message)]) -> Vec<String> {
    sent.iter()
        .filter_map(|(_, m)| m.method().map(|m| m.to_string()))
        .collect()
}

fn ended(h: &Harness, call_id: &str) -> Option<String> {
    h.events.iter().find_map(|e| match e {
        Event::CallEnded { call_id: c, cause } if c == call_id => Some(cause.clone()),
        _ => None,
    })
}

#[test]
fn dial_reaches_the_registered_softphone_where_it_registered_from() {
    let mut h = Harness::new(|_| {});
    // The phone sits behind NAT: its Contact names a private address, the REGISTER came from
    // PHONE.
    register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
    let (id, to, invite) = dial(&mut h, agent_dial());
    assert_eq!(to, udp(PHONE), "sent to the binding's source, over UDP");
    assert_eq!(
        invite.request_uri().unwrap().to_string(),
        "sip:1001@10.0.0.5:5062"
    );
    let from = invite.header("From").unwrap();
    assert!(
        from.starts_with("\"13800138000\" <sip:12345@203.0.113.1:5060>;tag="),
        "{from}"
    );
    assert_eq!(
        invite.header("P-Asserted-Identity"),
        Some("<sip:13800138000@203.0.113.1:5060>")
    );
    assert_eq!(invite.header("To"), Some("<sip:1001@203.0.113.1:5060>"));
    assert_eq!(invite.header("Content-Type"), Some("application/sdp"));
    assert_eq!(h.ep.calls(h.now)[0].number, "1001");

    // 180 twice (a retransmission, or a fork): one CallRinging.
    deliver_via(&mut h, answer(&invite, 180), udp(PHONE));
    deliver_via(&mut h, answer(&invite, 180), udp(PHONE));
    let ringing = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::CallRinging { call_id } if *call_id == id))
        .count();
    assert_eq!(ringing, 1);
    deliver_via(&mut h, answer(&invite, 200), udp(PHONE));
    let sent = h.take();
    assert!(
        matches!(&sent[..], [(p, m)] if m.method() == Some(&Method::Ack) && *p == udp(PHONE)),
        "ACK to the phone: {sent:?}"
    );
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CallAnswered { call_id } if *call_id == id)));
    // Answered: the ring limit no longer applies.
    h.run_to(600_000);
    assert!(ended(&h, &id).is_none(), "still up after 10 minutes");
    h.ep.hangup(&id, h.now).unwrap();
    h.drain();
    assert!(methods(&h.take()).contains(&"BYE".to_string()));
    assert_eq!(ended(&h, &id).as_deref(), Some("hung up by request"));
}

#[test]
fn failed_attempts_end_with_their_cause() {
    for code in [486u16, 603, 480] {
        let mut h = Harness::new(|_| {});
        register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
        let (id, _, invite) = dial(&mut h, agent_dial());
        deliver_via(&mut h, answer(&invite, 180), udp(PHONE));
        deliver_via(&mut h, answer(&invite, code), udp(PHONE));
        assert_eq!(ended(&h, &id), Some(format!("failed: {code}")));
        assert_eq!(methods(&h.take()), ["ACK"], "the failure is acknowledged");
        assert_eq!(h.ep.stats().calls, 0);
    }
    // A phone that never answers: Timer B is a 408.
    let mut h = Harness::new(|_| {});
    register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
    let (id, _, _) = dial(&mut h, agent_dial());
    h.run_to(40_000);
    assert_eq!(ended(&h, &id).as_deref(), Some("failed: 408"));
    // One that rings forever: cancelled at the ring limit.
    let mut h = Harness::new(|_| {});
    register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
    let (id, _, invite) = dial(&mut h, agent_dial());
    deliver_via(&mut h, answer(&invite, 180), udp(PHONE));
    h.run_to(60_000);
    assert_eq!(ended(&h, &id).as_deref(), Some("no answer"));
    assert!(methods(&h.take()).contains(&"CANCEL".to_string()));
    // Hung up by the call layer while it rings: CANCEL.
    let (id, _, invite) = dial(&mut h, agent_dial());
    deliver_via(&mut h, answer(&invite, 180), udp(PHONE));
    h.take();
    h.ep.hangup(&id, h.now).unwrap();
    h.drain();
    assert_eq!(methods(&h.take()), ["CANCEL"]);
    assert_eq!(ended(&h, &id).as_deref(), Some("hung up by request"));
}

#[test]
fn unregistered_users_and_bad_identities_are_refused() {
    let mut h = Harness::new(|_| {});
    assert_eq!(
        h.ep.dial(agent_dial(), h.now),
        Err(EndpointError::NotRegistered("1001".into()))
    );
    register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
    let bad_display = Dial {
        from_display: Some("x\r\nBYE sip:x".into()),
        ..agent_dial()
    };
    assert!(matches!(
        h.ep.dial(bad_display, h.now),
        Err(EndpointError::BadIdentity(_))
    ));
    let bad_user = Dial {
        from_user: Some("12345>;x".into()),
        ..agent_dial()
    };
    assert!(matches!(
        h.ep.dial(bad_user, h.now),
        Err(EndpointError::BadIdentity(_))
    ));
    assert!(h.take().is_empty(), "nothing sent");
    assert_eq!(h.ep.stats().calls, 0);
    // Quotes in a display name are escaped; no PAI when none is asked for.
    let quoted = Dial {
        from_display: Some("Zhang \"San\"".into()),
        asserted: None,
        ..agent_dial()
    };
    let (_, _, invite) = dial(&mut h, quoted);
    assert!(invite
        .header("From")
        .unwrap()
        .starts_with("\"Zhang \\\"San\\\"\" <sip:12345@"));
    assert!(invite.header("P-Asserted-Identity").is_none());
}

#[test]
fn the_highest_q_binding_is_dialled_and_tcp_stays_on_its_connection() {
    let mut h = Harness::new(|c| c.sip.max_contacts_per_user = 4);
    register(
        &mut h,
        udp(PHONE),
        "<sip:1001@10.0.0.5:5062>;q=0.5, <sip:1001@10.0.0.6:5064>;q=0.9",
        "r1",
    );
    let (_, to, invite) = dial(&mut h, agent_dial());
    assert_eq!(
        invite.request_uri().unwrap().to_string(),
        "sip:1001@10.0.0.6:5064"
    );
    assert_eq!(to, udp(PHONE));
    // A desk phone on TCP with the same q as the best one, registered later: it wins (most
    // recently refreshed), and is reached over TCP at the connection's address.
    h.run_to(1_000);
    let tcp = Peer {
        transport: Transport::Tcp,
        addr: "198.51.100.9:40123".parse().unwrap(),
    };
    register(
        &mut h,
        tcp,
        "<sip:1001@10.0.0.9:5060;transport=tcp>;q=0.9",
        "r2",
    );
    let (_, to, invite) = dial(&mut h, agent_dial());
    assert_eq!(to, tcp);
    assert!(invite.header("Via").unwrap().starts_with("SIP/2.0/TCP"));
    assert!(invite.header("Contact").unwrap().contains("transport=tcp"));
}

/// An answered, acknowledged inbound call from the trunk; returns its 200.
fn answered_call(h: &mut Harness, call_id: &str) -> Message {
    let inv = h.invite("12345", call_id, "13800138000", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.deliver(&in_dialog("ACK", &ok, 1, "z9hG4bKack"), TRUNK);
    h.take();
    ok
}

fn refer(ok: &Message, cseq: u32, extra: &str) -> String {
    in_dialog("REFER", ok, cseq, &format!("z9hG4bKrefer{cseq}"))
        .replace("\r\n\r\n", &format!("\r\n{extra}Content-Length: 0\r\n\r\n"))
}

#[test]
fn refer_is_accepted_reported_and_notified() {
    let mut h = Harness::new(|_| {});
    let ok = answered_call(&mut h, "t1");
    h.deliver(
        &refer(&ok, 2, "Refer-To: <sip:12319@203.0.113.1>\r\n"),
        TRUNK,
    );
    let sent = h.take();
    let accepted = find(&sent, 202);
    assert_eq!(accepted.cseq().unwrap().method, Method::Refer);
    let notify = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Notify))
        .map(|(p, m)| (*p, m.clone()))
        .expect("a NOTIFY");
    assert_eq!(notify.0.addr, TRUNK.parse().unwrap());
    let n = notify.1;
    assert_eq!(n.header("Event"), Some("refer"));
    assert_eq!(
        n.header("Subscription-State"),
        Some("terminated;reason=noresource")
    );
    assert_eq!(
        n.header("Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(n.body, b"SIP/2.0 200 OK\r\n");
    assert_eq!(n.call_id().unwrap(), "t1");
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::TransferRequested { call_id, target } if call_id == "t1" && target == "12319"
    )));
    // The NOTIFY is answered. A second REFER's NOTIFY names it by its CSeq.
    let mut notify_ok = Message::response_to(&n, 200, None);
    notify_ok.ensure_to_tag("x");
    deliver_via(&mut h, notify_ok, udp(TRUNK));
    h.deliver(
        &refer(&ok, 3, "Refer-To: <sip:1002@203.0.113.1>\r\n"),
        TRUNK,
    );
    let sent = h.take();
    find(&sent, 202);
    let second = sent
        .iter()
        .find(|(_, m)| m.method() == Some(&Method::Notify))
        .map(|(_, m)| m.clone())
        .expect("a second NOTIFY");
    assert_eq!(second.header("Event"), Some("refer;id=3"));
    assert!(second.cseq().unwrap().seq > n.cseq().unwrap().seq);
    // Then the transferor hangs up.
    h.deliver(&in_dialog("BYE", &ok, 4, "z9hG4bKbye"), TRUNK);
    assert_eq!(find(&h.take(), 200).cseq().unwrap().method, Method::Bye);
    assert_eq!(ended(&h, "t1").as_deref(), Some("remote BYE"));
}

#[test]
fn refer_without_target_with_replaces_or_no_subscription() {
    let mut h = Harness::new(|_| {});
    let ok = answered_call(&mut h, "t2");
    h.deliver(&refer(&ok, 2, ""), TRUNK);
    assert_eq!(find(&h.take(), 400).cseq().unwrap().method, Method::Refer);
    h.deliver(&refer(&ok, 3, "Refer-To: <not a uri\r\n"), TRUNK);
    find(&h.take(), 400);
    h.deliver(
        &refer(
            &ok,
            4,
            "Refer-To: <sip:1002@203.0.113.1?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n",
        ),
        TRUNK,
    );
    let sent = h.take();
    find(&sent, 501);
    assert!(methods(&sent).is_empty(), "no NOTIFY");
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::TransferRequested { .. })));
    // RFC 4488: no implicit subscription, so no NOTIFY; a tel: target works too.
    h.deliver(
        &refer(
            &ok,
            5,
            "Refer-To: <tel:+8613800138000>\r\nRefer-Sub: false\r\n",
        ),
        TRUNK,
    );
    let sent = h.take();
    assert_eq!(find(&sent, 202).header("Refer-Sub"), Some("false"));
    assert!(methods(&sent).is_empty(), "no NOTIFY");
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::TransferRequested { target, .. } if target == "+8613800138000"
    )));
    assert_eq!(h.ep.stats().calls, 1, "the call goes on");
}

#[test]
fn max_call_secs_ends_answered_calls_and_zero_means_no_limit() {
    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 10);
    answered_call(&mut h, "m1");
    h.run_to(9_999);
    assert!(ended(&h, "m1").is_none());
    h.run_to(10_000);
    assert!(methods(&h.take()).contains(&"BYE".to_string()));
    assert_eq!(ended(&h, "m1").as_deref(), Some("max call duration"));

    let mut h = Harness::new(|c| c.numbers[0].max_call_secs = 0);
    answered_call(&mut h, "m2");
    h.run_to(200_000);
    assert!(ended(&h, "m2").is_none(), "no limit");
    assert!(!methods(&h.take()).contains(&"BYE".to_string()));
    assert_eq!(h.ep.stats().calls, 1);
}

#[test]
fn registrar_events_that_reach_the_call_layer() {
    let mut h = Harness::new(|_| {});
    register(&mut h, udp(PHONE), "<sip:1001@10.0.0.5:5062>", "r1");
    h.run_to(121_000);
    let for_calls: Vec<&Event> = h
        .events
        .iter()
        .filter(|e| crate::sip::server::for_call_layer(e))
        .collect();
    assert!(
        matches!(
            &for_calls[..],
            [
                Event::Registrar(RegistrarEvent::Registered { .. }),
                Event::Registrar(RegistrarEvent::Lapsed { remaining: 0, .. })
            ]
        ),
        "{for_calls:?}"
    );
    assert!(!crate::sip::server::for_call_layer(&Event::Registrar(
        RegistrarEvent::Refreshed {
            user: "1001".into(),
            contact: "sip:1001@10.0.0.5:5062".into()
        }
    )));
}
