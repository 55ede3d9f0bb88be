//! Dialog creation, routing, sequence numbers, ACK/CANCEL and termination, on message texts
//! shaped like what a trunk and its proxies send.

use std::time::{Duration, Instant};

use super::*;
use crate::sip::message::{parse_datagram, Message, Method, Uri};

/// Parses a message written with `\n` line ends.
pub(super) fn parse(text: &str) -> Message {
    let wire = text.replace("\r\n", "\n").replace('\n', "\r\n");
    parse_datagram(wire.as_bytes()).expect("fixture parses")
}

/// Writes a built message and parses it back, as the peer would see it.
pub(super) fn reparse(msg: &Message) -> Message {
    parse_datagram(&msg.to_bytes()).expect("built message parses")
}

/// An INVITE from the trunk that reached us through two record-routing proxies: p1 (next to
/// the caller) and p2 (next to us), so Record-Route reads p2, p1.
pub(super) const TRUNK_INVITE: &str = "INVITE sip:12345@hotline.example.cn SIP/2.0
Via: SIP/2.0/UDP p2.example.cn:5060;branch=z9hG4bKp2aaa
Via: SIP/2.0/UDP p1.example.cn:5060;branch=z9hG4bKp1aaa
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKuac111;received=10.0.0.5
Max-Forwards: 68
Record-Route: <sip:p2.example.cn;lr>
Record-Route: <sip:p1.example.cn;lr>
From: \"Caller\" <sip:13800138000@trunk.example.cn>;tag=ft1
To: <sip:12345@hotline.example.cn>
Call-ID: call-1@10.0.0.5
CSeq: 101 INVITE
Contact: <sip:13800138000@10.0.0.5:5060>
Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO, REFER, NOTIFY
Supported: timer, replaces
Session-Expires: 1800
Min-SE: 90
Content-Type: application/sdp
Content-Length: 0

";

pub(super) fn our_contact() -> Uri {
    Uri::parse("sip:hotline@192.0.2.10:5060").unwrap()
}

/// The UAS dialog for [`TRUNK_INVITE`] with local tag `lt1`.
pub(super) fn uas_dialog() -> (Message, Dialog) {
    let invite = parse(TRUNK_INVITE);
    let d = Dialog::uas_from_invite(&invite, "lt1", &our_contact()).unwrap();
    (invite, d)
}

/// An INVITE we send to an agent's phone, and the phone's answers through proxies q1 (next to
/// us) and q2 (next to the phone).
pub(super) const OUR_INVITE: &str = "INVITE sip:8001@pbx.example.cn SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKours1
Max-Forwards: 70
Route: <sip:q1.example.cn;lr>
From: \"Hotline\" <sip:hotline@hotline.example.cn>;tag=ours
To: <sip:8001@pbx.example.cn>
Call-ID: out-1@192.0.2.10
CSeq: 1 INVITE
Contact: <sip:hotline@192.0.2.10:5060>
Supported: timer
Session-Expires: 1800
Min-SE: 90
Content-Length: 0

";

pub(super) fn phone_response(code: u16, reason: &str, to_tag: &str, extra: &str) -> Message {
    parse(&format!(
        "SIP/2.0 {code} {reason}
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKours1
Record-Route: <sip:q2.example.cn;lr>
Record-Route: <sip:q1.example.cn;lr>
From: \"Hotline\" <sip:hotline@hotline.example.cn>;tag=ours
To: <sip:8001@pbx.example.cn>;tag={to_tag}
Call-ID: out-1@192.0.2.10
CSeq: 1 INVITE
Contact: <sip:8001@10.1.1.20:5062>
{extra}Content-Length: 0

"
    ))
}

/// A request from the trunk side in the UAS dialog of [`TRUNK_INVITE`].
pub(super) fn trunk_request(method: &str, seq: u32, extra: &str) -> Message {
    parse(&format!(
        "{method} sip:hotline@192.0.2.10:5060 SIP/2.0
Via: SIP/2.0/UDP p2.example.cn:5060;branch=z9hG4bKr{seq}
Max-Forwards: 69
From: \"Caller\" <sip:13800138000@trunk.example.cn>;tag=ft1
To: <sip:12345@hotline.example.cn>;tag=lt1
Call-ID: call-1@10.0.0.5
CSeq: {seq} {method}
{extra}Content-Length: 0

"
    ))
}

pub(super) fn t0() -> Instant {
    Instant::now()
}

#[allow(dead_code)]
pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn uri(s: &str) -> Uri {
    Uri::parse(s).unwrap()
}

fn route_uris(d: &Dialog) -> Vec<String> {
    d.route_set().iter().map(|r| r.uri.to_string()).collect()
}

#[test]
fn uas_dialog_from_invite() {
    let (_, d) = uas_dialog();
    assert_eq!(
        d.id(),
        &DialogId {
            call_id: "call-1@10.0.0.5".into(),
            local_tag: "lt1".into(),
            remote_tag: "ft1".into(),
        }
    );
    assert_eq!(d.role(), Role::Uas);
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.local_uri(), &uri("sip:12345@hotline.example.cn"));
    assert_eq!(d.remote_uri(), &uri("sip:13800138000@trunk.example.cn"));
    assert_eq!(d.remote_party().display.as_deref(), Some("Caller"));
    assert_eq!(d.remote_seq(), Some(101));
    assert_eq!(d.local_seq(), None);
    assert_eq!(d.remote_target(), &uri("sip:13800138000@10.0.0.5:5060"));
    // UAS: Record-Route in the order received.
    assert_eq!(
        route_uris(&d),
        ["sip:p2.example.cn;lr", "sip:p1.example.cn;lr"]
    );
    assert!(!d.is_secure());
    assert!(d.peer_allows_update());
}

#[test]
fn uas_requires_an_invite_with_contact() {
    let invite = parse(&TRUNK_INVITE.replace("Contact: <sip:13800138000@10.0.0.5:5060>\n", ""));
    let err = Dialog::uas_from_invite(&invite, "lt1", &our_contact()).unwrap_err();
    assert_eq!(err, DialogError::BadContact);
    let bye = trunk_request("BYE", 102, "");
    assert_eq!(
        Dialog::uas_from_invite(&bye, "lt1", &our_contact()).unwrap_err(),
        DialogError::NotInvite
    );
    let sips = parse(&TRUNK_INVITE.replace(
        "INVITE sip:12345@hotline.example.cn",
        "INVITE sips:12345@hotline.example.cn",
    ));
    assert!(Dialog::uas_from_invite(&sips, "lt1", &our_contact())
        .unwrap()
        .is_secure());
}

#[test]
fn uas_decorates_180_and_200_and_confirms() {
    let (invite, mut d) = uas_dialog();
    let now = t0();
    let mut ringing = Message::response_to(&invite, 180, None);
    d.decorate_response(&invite, &mut ringing, now);
    let ringing = reparse(&ringing);
    assert_eq!(ringing.to().unwrap().tag(), Some("lt1"));
    let rr: Vec<_> = ringing.header_lines("Record-Route").collect();
    assert_eq!(rr, ["<sip:p2.example.cn;lr>", "<sip:p1.example.cn;lr>"]);
    assert_eq!(
        ringing.header("Contact"),
        Some("<sip:hotline@192.0.2.10:5060>")
    );
    assert_eq!(d.state(), DialogState::Early);
    assert!(ringing.header("Session-Expires").is_none());

    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, now);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.ack_pending(), Some(101));
    assert_eq!(ok.to().unwrap().tag(), Some("lt1"));
    assert_eq!(ok.header_lines("Record-Route").count(), 2);

    // The ACK for the 2xx carries the INVITE's CSeq number and clears the pending ACK.
    let ack = trunk_request("ACK", 101, "");
    assert_eq!(d.check_request(&ack), Ok(()));
    assert_eq!(d.ack_pending(), None);
    assert_eq!(d.remote_seq(), Some(101));
}

#[test]
fn uas_failure_ends_the_early_dialog() {
    let (invite, mut d) = uas_dialog();
    let mut busy = Message::response_to(&invite, 486, None);
    d.decorate_response(&invite, &mut busy, t0());
    assert_eq!(busy.to().unwrap().tag(), Some("lt1"));
    assert!(d.is_terminated());
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn uac_early_on_180_then_confirmed_on_200() {
    let invite = parse(OUR_INVITE);
    let ringing = phone_response(180, "Ringing", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ringing).unwrap();
    assert_eq!(d.role(), Role::Uac);
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.id().local_tag, "ours");
    assert_eq!(d.id().remote_tag, "ph1");
    assert_eq!(d.local_seq(), Some(1));
    assert_eq!(d.remote_seq(), None);
    assert_eq!(d.local_uri(), &uri("sip:hotline@hotline.example.cn"));
    assert_eq!(d.remote_uri(), &uri("sip:8001@pbx.example.cn"));
    assert_eq!(d.remote_target(), &uri("sip:8001@10.1.1.20:5062"));
    // UAC: Record-Route reversed, so the first hop is the proxy next to us.
    assert_eq!(
        route_uris(&d),
        ["sip:q1.example.cn;lr", "sip:q2.example.cn;lr"]
    );

    let ok = phone_response(200, "OK", "ph1", "").to_string();
    let ok = parse(&ok.replace("10.1.1.20:5062", "10.1.1.21:5070"));
    d.handle_response(&invite, &ok, t0()).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_target(), &uri("sip:8001@10.1.1.21:5070"));
}

#[test]
fn uac_from_200_is_confirmed() {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let d = Dialog::uac_from_response(&invite, &ok).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
}

#[test]
fn uac_creation_errors() {
    let invite = parse(OUR_INVITE);
    let trying = phone_response(100, "Trying", "x", "");
    assert_eq!(
        Dialog::uac_from_response(&invite, &trying).unwrap_err(),
        DialogError::NotDialogCreating(100)
    );
    let untagged = parse(
        &phone_response(180, "Ringing", "x", "")
            .to_string()
            .replace(";tag=x", ""),
    );
    assert_eq!(
        Dialog::uac_from_response(&invite, &untagged).unwrap_err(),
        DialogError::NoToTag
    );
    let no_contact = phone_response(180, "Ringing", "x", "").to_string();
    let no_contact = parse(&no_contact.replace("Contact: <sip:8001@10.1.1.20:5062>\r\n", ""));
    let d = Dialog::uac_from_response(&invite, &no_contact).unwrap();
    assert_eq!(d.remote_target(), &uri("sip:8001@pbx.example.cn"));
    let ok_no_contact = parse(
        &phone_response(200, "OK", "x", "")
            .to_string()
            .replace("Contact: <sip:8001@10.1.1.20:5062>\r\n", ""),
    );
    assert_eq!(
        Dialog::uac_from_response(&invite, &ok_no_contact).unwrap_err(),
        DialogError::BadContact
    );
}

#[test]
fn uac_failure_terminates_the_early_dialog() {
    let invite = parse(OUR_INVITE);
    let ringing = phone_response(180, "Ringing", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ringing).unwrap();
    let busy = phone_response(486, "Busy Here", "ph1", "");
    d.handle_response(&invite, &busy, t0()).unwrap();
    assert!(d.is_terminated());
    let other = phone_response(486, "Busy Here", "ph2", "");
    assert_eq!(
        d.handle_response(&invite, &other, t0()),
        Err(DialogError::Mismatch)
    );
}

#[test]
fn uas_request_addressing() {
    let (invite, mut d) = uas_dialog();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    let info = reparse(&d.new_request(Method::Info));
    assert_eq!(
        info.request_uri(),
        Some(&uri("sip:13800138000@10.0.0.5:5060"))
    );
    let routes: Vec<_> = info.header_lines("Route").collect();
    assert_eq!(routes, ["<sip:p2.example.cn;lr>", "<sip:p1.example.cn;lr>"]);
    let from = info.from().unwrap();
    assert_eq!(from.uri, uri("sip:12345@hotline.example.cn"));
    assert_eq!(from.tag(), Some("lt1"));
    let to = info.to().unwrap();
    assert_eq!(to.uri, uri("sip:13800138000@trunk.example.cn"));
    assert_eq!(to.tag(), Some("ft1"));
    assert_eq!(to.display.as_deref(), Some("Caller"));
    assert_eq!(info.call_id().unwrap(), "call-1@10.0.0.5");
    assert_eq!(info.cseq().unwrap().seq, 1);
    assert_eq!(info.max_forwards().unwrap(), Some(70));
    assert!(
        info.header("Contact").is_none(),
        "INFO is no target refresh"
    );
    assert!(info.header("Via").is_none(), "the transport adds the Via");
    let update = reparse(&d.new_request(Method::Update));
    assert_eq!(update.cseq().unwrap().seq, 2);
    assert_eq!(update.cseq().unwrap().method, Method::Update);
    assert_eq!(
        update.header("Contact"),
        Some("<sip:hotline@192.0.2.10:5060>")
    );
    assert_eq!(d.local_seq(), Some(2));
}

#[test]
fn uac_requests_continue_the_invite_cseq() {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    let bye = reparse(&d.bye());
    assert_eq!(bye.cseq().unwrap().seq, 2);
    assert_eq!(bye.request_uri(), Some(&uri("sip:8001@10.1.1.20:5062")));
    let routes: Vec<_> = bye.header_lines("Route").collect();
    assert_eq!(routes, ["<sip:q1.example.cn;lr>", "<sip:q2.example.cn;lr>"]);
    assert_eq!(bye.from().unwrap().tag(), Some("ours"));
    assert_eq!(bye.to().unwrap().tag(), Some("ph1"));
    assert!(d.is_terminated(), "sending BYE ends the dialog");
}

#[test]
fn strict_route_goes_into_the_request_uri() {
    let invite = parse(&TRUNK_INVITE.replace(
        "Record-Route: <sip:p2.example.cn;lr>",
        "Record-Route: <sip:p2.example.cn;method=INVITE>",
    ));
    let mut d = Dialog::uas_from_invite(&invite, "lt1", &our_contact()).unwrap();
    let req = reparse(&d.new_request(Method::Info));
    assert_eq!(req.request_uri(), Some(&uri("sip:p2.example.cn")));
    let routes: Vec<_> = req.header_lines("Route").collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.cn;lr>", "<sip:13800138000@10.0.0.5:5060>"]
    );
}

#[test]
fn target_refresh_updates_the_remote_target() {
    let (invite, mut d) = uas_dialog();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    let reinvite = trunk_request("INVITE", 102, "Contact: <sip:13800138000@10.0.0.6:5080>\n");
    assert_eq!(d.check_request(&reinvite), Ok(()));
    assert_eq!(d.remote_target(), &uri("sip:13800138000@10.0.0.6:5080"));
    let mut ok = Message::response_to(&reinvite, 200, None);
    d.decorate_response(&reinvite, &mut ok, t0());
    assert_eq!(ok.to().unwrap().tag(), Some("lt1"));
    assert_eq!(ok.header_lines("Record-Route").count(), 0);
    assert_eq!(ok.header("Contact"), Some("<sip:hotline@192.0.2.10:5060>"));
    let update = trunk_request("UPDATE", 103, "Contact: <sip:13800138000@10.0.0.7>\n");
    assert_eq!(d.check_request(&update), Ok(()));
    assert_eq!(d.remote_target(), &uri("sip:13800138000@10.0.0.7"));
    let info = trunk_request("INFO", 104, "Contact: <sip:elsewhere@10.9.9.9>\n");
    assert_eq!(d.check_request(&info), Ok(()));
    assert_eq!(d.remote_target(), &uri("sip:13800138000@10.0.0.7"));
    let next = reparse(&d.new_request(Method::Info));
    assert_eq!(next.request_uri(), Some(&uri("sip:13800138000@10.0.0.7")));
}

#[test]
fn uac_target_refresh_from_a_reinvite_2xx() {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    d.handle_response(&invite, &ok, t0()).unwrap();
    let reinvite = d.reinvite("v=0\r\n");
    let ok2 = phone_response(200, "OK", "ph1", "")
        .to_string()
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
        .replace("10.1.1.20:5062", "10.1.1.30");
    d.handle_response(&reinvite, &parse(&ok2), t0()).unwrap();
    assert_eq!(d.remote_target(), &uri("sip:8001@10.1.1.30"));
    // A late retransmission of the first 2xx does not bring the old target back.
    d.handle_response(&invite, &ok, t0()).unwrap();
    assert_eq!(d.remote_target(), &uri("sip:8001@10.1.1.30"));
    // The route set is fixed once confirmed.
    assert_eq!(d.route_set().len(), 2);
}

#[test]
fn cseq_must_increase() {
    let (_, mut d) = uas_dialog();
    assert_eq!(d.check_request(&trunk_request("INFO", 105, "")), Ok(()));
    assert_eq!(d.remote_seq(), Some(105));
    assert_eq!(d.check_request(&trunk_request("INFO", 104, "")), Err(500));
    assert_eq!(d.check_request(&trunk_request("INFO", 105, "")), Err(500));
    assert_eq!(d.remote_seq(), Some(105));
    assert_eq!(d.check_request(&trunk_request("INFO", 200, "")), Ok(()));
    // Gaps are fine; the response to a rejected request still carries our tag.
    let low = trunk_request("INFO", 150, "");
    assert_eq!(d.check_request(&low), Err(500));
    let res = d.reject(&low, 500);
    assert_eq!(res.status(), Some(500));
    assert_eq!(res.to().unwrap().tag(), Some("lt1"));
}

#[test]
fn uac_takes_the_first_remote_cseq() {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    let text = "INFO sip:hotline@192.0.2.10:5060 SIP/2.0
Via: SIP/2.0/UDP 10.1.1.20:5062;branch=z9hG4bKph9
From: <sip:8001@pbx.example.cn>;tag=ph1
To: \"Hotline\" <sip:hotline@hotline.example.cn>;tag=ours
Call-ID: out-1@192.0.2.10
CSeq: 7 INFO
Content-Length: 0

";
    assert_eq!(d.check_request(&parse(text)), Ok(()));
    assert_eq!(d.remote_seq(), Some(7));
}

#[test]
fn bye_terminates_and_later_requests_get_481() {
    let (invite, mut d) = uas_dialog();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    assert!(d.poll_timeout().is_some());
    assert_eq!(d.check_request(&trunk_request("BYE", 102, "")), Ok(()));
    assert!(d.is_terminated());
    assert_eq!(d.poll_timeout(), None, "no session timer after BYE");
    assert_eq!(d.check_request(&trunk_request("INFO", 103, "")), Err(481));
    assert_eq!(d.check_request(&trunk_request("ACK", 101, "")), Err(481));
}

#[test]
fn foreign_requests_get_481() {
    let (_, mut d) = uas_dialog();
    let other = trunk_request("INFO", 102, "")
        .to_string()
        .replace("tag=lt1", "tag=zz");
    assert_eq!(d.check_request(&parse(&other)), Err(481));
    assert_eq!(d.remote_seq(), Some(101));
}

#[test]
fn ack_for_2xx_uses_the_invite_cseq() {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    let ack = reparse(&d.ack_for_2xx(1));
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.cseq().unwrap().seq, 1);
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(ack.request_uri(), Some(&uri("sip:8001@10.1.1.20:5062")));
    let routes: Vec<_> = ack.header_lines("Route").collect();
    assert_eq!(routes, ["<sip:q1.example.cn;lr>", "<sip:q2.example.cn;lr>"]);
    assert_eq!(ack.to().unwrap().tag(), Some("ph1"));
    assert_eq!(ack.from().unwrap().tag(), Some("ours"));
    assert_eq!(ack.call_id().unwrap(), "out-1@192.0.2.10");
    assert!(ack.header("Via").is_none());
    assert_eq!(d.local_seq(), Some(1), "ACK takes no new CSeq number");
    // An ACK for a re-INVITE follows that INVITE's number.
    let re = d.reinvite("v=0\r\n");
    let seq = re.cseq().unwrap().seq;
    assert_eq!(seq, 2);
    assert_eq!(d.ack_for_2xx(seq).cseq().unwrap().seq, 2);
}

#[test]
fn cancel_matches_the_invite() {
    let invite = parse(OUR_INVITE);
    let cancel = reparse(&cancel_for(&invite).unwrap());
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(cancel.request_uri(), invite.request_uri());
    let vias = cancel.vias().unwrap();
    assert_eq!(vias.len(), 1);
    assert_eq!(vias[0], invite.top_via().unwrap());
    assert_eq!(vias[0].branch(), Some("z9hG4bKours1"));
    assert_eq!(cancel.header("From"), invite.header("From"));
    assert_eq!(cancel.header("To"), invite.header("To"));
    assert_eq!(cancel.to().unwrap().tag(), None);
    assert_eq!(cancel.call_id().unwrap(), invite.call_id().unwrap());
    assert_eq!(cancel.cseq().unwrap().seq, 1);
    assert_eq!(cancel.cseq().unwrap().method, Method::Cancel);
    let routes: Vec<_> = cancel.header_lines("Route").collect();
    assert_eq!(routes, ["<sip:q1.example.cn;lr>"]);
    assert!(cancel.body.is_empty());
    let bye = trunk_request("BYE", 3, "");
    assert_eq!(cancel_for(&bye).unwrap_err(), DialogError::NotInvite);
}

#[test]
fn glare_and_overlapping_invites() {
    let (invite, mut d) = uas_dialog();
    // Before we answer its INVITE, the trunk sends another: 500 (RFC 3261 §14.2).
    let early = trunk_request("INVITE", 102, "");
    assert_eq!(d.check_request(&early), Err(500), "first INVITE unanswered");
    let res = d.reject(&early, 500);
    assert_eq!(res.status(), Some(500));
    assert_eq!(
        d.check_request(&trunk_request("INVITE", 103, "")),
        Err(500),
        "rejecting the second INVITE leaves the first pending"
    );
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    let _ours = d.reinvite("v=0\r\n");
    assert_eq!(d.check_request(&trunk_request("INVITE", 104, "")), Err(491));
    // An UPDATE is not blocked by a pending INVITE.
    assert_eq!(d.check_request(&trunk_request("UPDATE", 105, "")), Ok(()));
}

#[test]
fn in_dialog_481_or_408_ends_the_dialog() {
    for code in [481, 408] {
        let invite = parse(OUR_INVITE);
        let ok = phone_response(200, "OK", "ph1", "");
        let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
        let info = d.info("text/plain", "x");
        let res = phone_response(code, "x", "ph1", "")
            .to_string()
            .replace("CSeq: 1 INVITE", "CSeq: 2 INFO");
        d.handle_response(&info, &parse(&res), t0()).unwrap();
        assert!(d.is_terminated(), "{code}");
    }
    let invite = parse(OUR_INVITE);
    let ok = phone_response(200, "OK", "ph1", "");
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    d.request_timed_out();
    assert!(d.is_terminated());
}
