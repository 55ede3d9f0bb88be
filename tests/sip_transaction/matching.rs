//! Matching (RFC 3261 §17.1.3, §17.2.3 and the RFC 2543 fallback) and CANCEL, which runs in a
//! transaction of its own and names the INVITE it cancels.

use hotline::sip::message::Method;
use hotline::sip::transaction::{ServerState, Transport, TxError};

use crate::harness::{response, udp, Req, Sim};

#[test]
fn responses_match_on_branch_and_cseq_method_only() {
    let mut sim = Sim::default();
    let inv = Req::invite(1).outgoing(Transport::Udp);
    sim.send(inv.clone(), udp());
    sim.take();
    // The INVITE's branch but CSeq CANCEL: there is no CANCEL transaction.
    let mut wrong_method = response(&inv, 200, "a");
    wrong_method.set_header("CSeq", "1 CANCEL");
    sim.recv(wrong_method, udp());
    // Another branch.
    let mut wrong_branch = response(&inv, 180, "a");
    wrong_branch.set_header("Via", "SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKother");
    sim.recv(wrong_branch, udp());
    // No Via at all.
    let mut no_via = response(&inv, 180, "a");
    no_via.remove_header("Via");
    sim.recv(no_via, udp());
    // The Call-ID is not part of the client key: the branch is.
    let mut other_call = response(&inv, 180, "a");
    other_call.set_header("Call-ID", "something-else");
    sim.recv(other_call, udp());
    assert_eq!(
        sim.lines(),
        ["0 stray 200", "0 stray 180", "0 stray 180", "0 rsp 180"]
    );
}

#[test]
fn server_keys_take_branch_sent_by_and_method() {
    let mut sim = Sim::default();
    let mut base = Req::invite(1);
    base.via = "SIP/2.0/UDP ua.example.com:5060;branch=z9hG4bKc1".into();
    sim.recv(base.build(), udp());
    // The sent-by host compares case-insensitively: a retransmission.
    let mut upper = base.clone();
    upper.via = "SIP/2.0/UDP UA.Example.COM:5060;branch=z9hG4bKc1".into();
    sim.recv(upper.build(), udp());
    // Same branch, another sent-by: another transaction.
    let mut other_host = base.clone();
    other_host.via = "SIP/2.0/UDP ua.example.com:5070;branch=z9hG4bKc1".into();
    sim.recv(other_host.build(), udp());
    // Same branch and sent-by, another method: another transaction.
    sim.recv(base.method("OPTIONS").build(), udp());
    assert_eq!(
        sim.lines(),
        [
            "0 tx 100",
            "0 req INVITE",
            "0 tx 100",
            "0 tx 100",
            "0 req INVITE",
            "0 req OPTIONS"
        ]
    );
    assert_eq!(sim.layer.len(), 3);
}

#[test]
fn a_request_without_a_usable_via_is_dropped() {
    let mut sim = Sim::default();
    let mut req = Req::new("OPTIONS", 1).build();
    req.remove_header("Via");
    sim.recv(req, udp());
    assert!(sim.lines().is_empty());
    assert!(sim.layer.is_empty());
}

#[test]
fn legacy_invite_matches_on_the_rfc_2543_tuple() {
    let mut sim = Sim::default();
    let legacy = Req::invite(1).legacy();
    sim.recv(legacy.build(), udp());
    let (key, _, _) = sim.request();
    assert!(key.is_legacy());
    // Same tuple: a retransmission, answered with the last provisional.
    sim.recv(legacy.build(), udp());
    // Another CSeq number, another From tag, another Call-ID, another Request-URI, another
    // Via: each a new transaction.
    let mut cseq = legacy.clone();
    cseq.cseq = 2;
    let mut from = legacy.clone();
    from.from_tag = "other".into();
    let mut call = legacy.clone();
    call.call_id = "another-call".into();
    let mut uri = legacy.clone();
    uri.uri = "sip:12319@hotline.example.org".into();
    let mut via = legacy.clone();
    via.via = "SIP/2.0/UDP 192.0.2.10:5070".into();
    for r in [cseq, from, call, uri, via] {
        sim.recv(r.build(), udp());
    }
    let lines = sim.lines();
    assert_eq!(lines[..3], ["0 tx 100", "0 req INVITE", "0 tx 100"]);
    assert_eq!(lines.iter().filter(|l| *l == "0 req INVITE").count(), 6);
    assert_eq!(sim.layer.len(), 6);
    // A magic-cookie-less branch parameter is legacy too.
    let mut s2 = Sim::default();
    s2.recv(Req::invite(1).branch("1a2b3c").build(), udp());
    assert!(s2.request().0.is_legacy());
}

#[test]
fn legacy_ack_matches_with_the_to_tag_of_the_response() {
    let mut sim = Sim::default();
    let legacy = Req::invite(1).legacy();
    sim.recv(legacy.build(), udp());
    let (key, inv, _) = sim.request();
    sim.respond(&key, response(&inv, 486, "uas")).unwrap();
    sim.take();
    // An ACK carrying another To tag acknowledges some other response: not ours.
    sim.recv(legacy.method("ACK").to_tag("nope").build(), udp());
    assert_eq!(sim.lines(), ["0 ack"]);
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Completed));
    sim.recv(legacy.method("ACK").to_tag("uas").build(), udp());
    assert!(sim.lines().is_empty());
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Confirmed));
}

#[test]
fn legacy_ack_for_a_2xx_reaches_the_tu_and_stops_the_retransmission() {
    let mut sim = Sim::default();
    let legacy = Req::invite(1).legacy();
    sim.recv(legacy.build(), udp());
    let (key, inv, _) = sim.request();
    sim.respond(&key, response(&inv, 200, "uas")).unwrap();
    sim.take();
    sim.recv(legacy.method("ACK").to_tag("uas").build(), udp());
    assert_eq!(sim.lines(), ["0 ack"]);
    assert_eq!(sim.layer.pending_acks(), 0);
    assert_eq!(sim.layer.server_state(&key), Some(ServerState::Accepted));
}

#[test]
fn legacy_non_invite_retransmissions_are_absorbed_and_answered() {
    let mut sim = Sim::default();
    let legacy = Req::new("OPTIONS", 4).legacy();
    sim.recv(legacy.build(), udp());
    sim.recv(legacy.build(), udp());
    let (key, req, _) = sim.request();
    sim.respond(&key, response(&req, 200, "u")).unwrap();
    sim.advance_to(100);
    sim.recv(legacy.build(), udp());
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        [
            "0 req OPTIONS",
            "0 tx 200",
            "100 tx 200",
            "32000 terminated"
        ]
    );
}

#[test]
fn cancel_before_the_answer_is_its_own_transaction_naming_the_invite() {
    let mut sim = Sim::default();
    sim.recv(Req::invite(1).build(), udp());
    let (ikey, inv, _) = sim.request();
    sim.advance_to(2000);
    sim.recv(Req::invite(1).method("CANCEL").build(), udp());
    let (ckey, cancel, cancels) = sim.request();
    assert_eq!(cancels, Some(ikey.clone()));
    assert_ne!(ckey, ikey);
    assert_eq!(ckey.method(), &Method::Cancel);
    assert_eq!(sim.layer.len(), 2);
    // A retransmitted CANCEL before the TU answers it is absorbed.
    sim.recv(Req::invite(1).method("CANCEL").build(), udp());
    // The TU answers the CANCEL 200 and the INVITE 487; the caller ACKs the 487.
    sim.respond(&ckey, response(&cancel, 200, "uas")).unwrap();
    sim.respond(&ikey, response(&inv, 487, "uas")).unwrap();
    sim.advance_to(2100);
    sim.recv(Req::invite(1).method("ACK").to_tag("uas").build(), udp());
    assert_eq!(sim.layer.server_state(&ikey), Some(ServerState::Confirmed));
    sim.advance_to(40_000);
    assert_eq!(
        sim.lines(),
        [
            "0 tx 100",
            "0 req INVITE",
            "2000 req CANCEL cancels",
            "2000 tx 200",
            "2000 tx 487",
            "7100 terminated",
            "34000 terminated"
        ]
    );
    assert!(sim.layer.is_empty());
}

#[test]
fn cancel_matching_no_invite_names_none() {
    let mut sim = Sim::default();
    sim.recv(Req::invite(9).method("CANCEL").build(), udp());
    let (ckey, cancel, cancels) = sim.request();
    assert_eq!(cancels, None, "the TU answers 481");
    sim.respond(&ckey, response(&cancel, 481, "uas")).unwrap();
    assert_eq!(sim.lines(), ["0 req CANCEL", "0 tx 481"]);
}

/// The documented race: a CANCEL that arrives after the INVITE's final response still names
/// the INVITE transaction (it exists, Accepted or Completed), and the TU decides. It answers
/// the CANCEL 200 and leaves the call alone; the INVITE transaction refuses a 487 anyway.
#[test]
fn cancel_racing_a_200_still_names_the_invite_and_the_tu_decides() {
    let mut sim = Sim::default();
    sim.recv(Req::invite(1).build(), udp());
    let (ikey, inv, _) = sim.request();
    sim.advance_to(1000);
    sim.respond(&ikey, response(&inv, 200, "uas")).unwrap();
    sim.advance_to(1100);
    sim.recv(Req::invite(1).method("CANCEL").build(), udp());
    let (ckey, cancel, cancels) = sim.request();
    assert_eq!(cancels, Some(ikey.clone()));
    assert_eq!(sim.layer.server_state(&ikey), Some(ServerState::Accepted));
    assert_eq!(
        sim.respond(&ikey, response(&inv, 487, "uas")),
        Err(TxError::AlreadyFinal)
    );
    sim.respond(&ckey, response(&cancel, 200, "uas")).unwrap();
    assert_eq!(
        sim.lines(),
        [
            "0 tx 100",
            "0 req INVITE",
            "1000 tx 200",
            "1100 req CANCEL cancels",
            "1100 tx 200"
        ]
    );
    // The same after a non-2xx: the INVITE is Completed.
    let mut sim = Sim::default();
    sim.recv(Req::invite(1).build(), udp());
    let (ikey, inv, _) = sim.request();
    sim.respond(&ikey, response(&inv, 486, "uas")).unwrap();
    sim.recv(Req::invite(1).method("CANCEL").build(), udp());
    assert_eq!(sim.request().2, Some(ikey.clone()));
    assert_eq!(sim.layer.server_state(&ikey), Some(ServerState::Completed));
}

#[test]
fn legacy_cancel_names_the_legacy_invite() {
    let mut sim = Sim::default();
    let legacy = Req::invite(1).legacy();
    sim.recv(legacy.build(), udp());
    let (ikey, _, _) = sim.request();
    sim.recv(legacy.method("CANCEL").build(), udp());
    assert_eq!(sim.request().2, Some(ikey));
}

#[test]
fn an_ack_matching_nothing_goes_to_the_dialog_layer() {
    let mut sim = Sim::default();
    sim.recv(Req::invite(5).method("ACK").to_tag("x").build(), udp());
    sim.recv(
        Req::invite(6).method("ACK").to_tag("x").legacy().build(),
        udp(),
    );
    assert_eq!(sim.lines(), ["0 ack", "0 ack"]);
    assert!(sim.layer.is_empty());
}
