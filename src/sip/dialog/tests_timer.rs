//! Session timers (RFC 4028): negotiation, 422, refresher choice, refresh and expiry deadlines
//! on a fake clock (a fixed `Instant` plus offsets).

use std::time::Instant;

use super::tests::{ms, our_contact, parse, phone_response, reparse, t0, trunk_request};
use super::tests::{OUR_INVITE, TRUNK_INVITE};
use super::timer::{add_to_request, negotiate_uac, negotiate_uas, response_422};
use super::*;
use crate::sip::message::{Message, Method};

/// The trunk's INVITE with another Session-Expires (None: absent), Supported and Min-SE.
fn invite_with(se: Option<&str>, supported: bool, min_se: Option<u32>) -> Message {
    let mut text = TRUNK_INVITE.to_string();
    text = match se {
        Some(v) => text.replace(
            "Session-Expires: 1800\n",
            &format!("Session-Expires: {v}\n"),
        ),
        None => text.replace("Session-Expires: 1800\n", ""),
    };
    if !supported {
        text = text.replace("Supported: timer, replaces\n", "Supported: replaces\n");
    }
    text = match min_se {
        Some(v) => text.replace("Min-SE: 90\n", &format!("Min-SE: {v}\n")),
        None => text.replace("Min-SE: 90\n", ""),
    };
    parse(&text)
}

/// A UAS dialog answered with 200 at `now`, and the 200.
fn answered(invite: &Message, config: SessionTimerConfig, now: Instant) -> (Dialog, Message) {
    let mut d = Dialog::uas_from_invite(invite, "lt1", &our_contact())
        .unwrap()
        .with_session_timer_config(config);
    let mut ok = Message::response_to(invite, 200, None);
    d.decorate_response(invite, &mut ok, now);
    (d, reparse(&ok))
}

fn config(session_expires: u32, min_se: u32, always: bool) -> SessionTimerConfig {
    SessionTimerConfig {
        session_expires,
        min_se,
        always,
    }
}

#[test]
fn too_small_an_interval_gets_422_with_min_se() {
    let cfg = config(1800, 300, true);
    let invite = invite_with(Some("120"), true, None);
    assert_eq!(negotiate_uas(&invite, &cfg), Err(300));
    let res = reparse(&response_422(&invite, &cfg));
    assert_eq!(res.status(), Some(422));
    assert_eq!(res.header("Min-SE"), Some("300"));
    assert!(res.to().unwrap().tag().is_some());
    // The UAC retries with the demanded minimum.
    let ours = config(120, 90, true).raised_by_422(&res);
    assert_eq!(ours, config(300, 300, true));

    // In a dialog: a re-INVITE asking for too little is refused the same way.
    let (mut d, _) = answered(&invite_with(None, true, None), cfg, t0());
    let ack = trunk_request("ACK", 101, "");
    d.check_request(&ack).unwrap();
    let re = trunk_request("INVITE", 102, "Supported: timer\nSession-Expires: 200\n");
    assert_eq!(d.check_request(&re), Err(422));
    let res = reparse(&d.reject(&re, 422));
    assert_eq!(res.header("Min-SE"), Some("300"));
    assert_eq!(res.to().unwrap().tag(), Some("lt1"));
}

#[test]
fn a_uac_without_timer_support_is_raised_not_refused() {
    let cfg = config(1800, 300, true);
    let invite = invite_with(Some("120"), false, None);
    assert_eq!(
        negotiate_uas(&invite, &cfg),
        Ok(Some(Negotiated {
            interval: 300,
            refresher: Refresher::Uas
        }))
    );
}

#[test]
fn refresher_choice_in_all_four_cases() {
    // (Session-Expires, Supported: timer, refresher chosen, who refreshes from our side)
    let cases = [
        ("1800;refresher=uac", true, "uac", TimerSide::Remote),
        ("1800;refresher=uas", true, "uas", TimerSide::Local),
        ("1800", true, "uac", TimerSide::Remote),
        ("1800", false, "uas", TimerSide::Local),
    ];
    for (se, supported, refresher, side) in cases {
        let invite = invite_with(Some(se), supported, Some(90));
        let (d, ok) = answered(&invite, SessionTimerConfig::default(), t0());
        let expected = format!("1800;refresher={refresher}");
        assert_eq!(
            ok.header("Session-Expires"),
            Some(expected.as_str()),
            "{se}"
        );
        assert_eq!(
            ok.header("Require") == Some("timer"),
            supported,
            "Require: timer iff the UAC supports it ({se}, {supported})"
        );
        let timer = d.session_timer().expect("timer runs");
        assert_eq!(timer.side(), side, "{se} {supported}");
        assert_eq!(timer.interval(), 1800);
    }
}

#[test]
fn interval_choice() {
    let cfg = config(1800, 90, true);
    let pick =
        |se: Option<&str>, supported: bool, min_se: Option<u32>, cfg: &SessionTimerConfig| {
            negotiate_uas(&invite_with(se, supported, min_se), cfg).unwrap()
        };
    let n = |interval, refresher| {
        Some(Negotiated {
            interval,
            refresher,
        })
    };
    assert_eq!(
        pick(Some("7200"), true, None, &cfg),
        n(1800, Refresher::Uac)
    );
    assert_eq!(
        pick(Some("7200"), true, Some(1900), &cfg),
        n(1900, Refresher::Uac),
        "never below the request's Min-SE"
    );
    assert_eq!(pick(Some("600"), true, None, &cfg), n(600, Refresher::Uac));
    assert_eq!(pick(None, true, None, &cfg), n(1800, Refresher::Uac));
    assert_eq!(pick(None, false, None, &cfg), n(1800, Refresher::Uas));
    assert_eq!(pick(None, true, None, &config(1800, 90, false)), None);
    // A UAS that asks for nothing writes nothing into its 2xx.
    let (d, ok) = answered(
        &invite_with(None, true, None),
        config(1800, 90, false),
        t0(),
    );
    assert!(ok.header("Session-Expires").is_none());
    assert!(d.session_timer().is_none());
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn uac_reads_the_refresher_from_the_2xx() {
    let invite = parse(OUR_INVITE);
    let cases = [
        (
            "Session-Expires: 900;refresher=uac\nRequire: timer\n",
            900,
            TimerSide::Local,
        ),
        (
            "Session-Expires: 900;refresher=uas\n",
            900,
            TimerSide::Remote,
        ),
        // No Session-Expires: the UAS lacks the extension; we refresh with what we asked.
        ("", 1800, TimerSide::Local),
    ];
    for (extra, interval, side) in cases {
        let ok = phone_response(200, "OK", "ph1", extra);
        let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
        d.handle_response(&invite, &ok, t0()).unwrap();
        let timer = d.session_timer().expect("timer runs");
        assert_eq!(
            (timer.interval(), timer.side()),
            (interval, side),
            "{extra}"
        );
    }
    let no_timer = parse(&OUR_INVITE.replace("Session-Expires: 1800\n", ""));
    let ok = phone_response(200, "OK", "ph1", "");
    assert_eq!(negotiate_uac(&no_timer, &ok), None);
}

#[test]
fn refresh_at_half_the_interval_to_the_ms() {
    let start = t0();
    let invite = invite_with(Some("1800;refresher=uas"), true, None);
    let (mut d, _) = answered(&invite, SessionTimerConfig::default(), start);
    assert_eq!(d.poll_timeout(), Some(start + ms(900_000)));
    assert_eq!(d.handle_timeout(start + ms(899_999)), None);
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(start + ms(900_000)) else {
        panic!("refresh due");
    };
    let req = reparse(&req);
    assert_eq!(
        req.method(),
        Some(&Method::Update),
        "the trunk allows UPDATE"
    );
    assert_eq!(req.cseq().unwrap().seq, 1);
    assert_eq!(req.header("Session-Expires"), Some("1800;refresher=uac"));
    assert_eq!(req.header("Min-SE"), Some("90"));
    assert_eq!(req.header("Supported"), Some("timer"));
    assert_eq!(req.header("Contact"), Some("<sip:hotline@192.0.2.10:5060>"));
    // Only one refresh per period; now the expiry deadline is next.
    assert_eq!(d.poll_timeout(), Some(start + ms(1_768_000)));
    assert_eq!(d.handle_timeout(start + ms(1_000_000)), None);

    // An odd interval: half of 91 s is 45.5 s.
    let invite = invite_with(Some("91;refresher=uas"), true, None);
    let (d, _) = answered(&invite, SessionTimerConfig::default(), start);
    assert_eq!(d.poll_timeout(), Some(start + ms(45_500)));
}

#[test]
fn refresh_uses_reinvite_without_update() {
    let start = t0();
    let text = TRUNK_INVITE.replace(", UPDATE", "");
    let invite = parse(&text.replace("Session-Expires: 1800", "Session-Expires: 90;refresher=uas"));
    let (mut d, _) = answered(&invite, SessionTimerConfig::default(), start);
    assert!(!d.peer_allows_update());
    // The 2xx is not yet ACKed, but the INVITE transaction itself is over: refresh goes out.
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(start + ms(45_000)) else {
        panic!("refresh due");
    };
    assert_eq!(req.method(), Some(&Method::Invite));
    assert_eq!(req.header("Session-Expires"), Some("90;refresher=uac"));
}

#[test]
fn refresh_waits_while_an_invite_is_in_progress() {
    let start = t0();
    let text = TRUNK_INVITE.replace(", UPDATE", "");
    let invite = parse(&text.replace("Session-Expires: 1800", "Session-Expires: 90;refresher=uas"));
    let (mut d, _) = answered(&invite, SessionTimerConfig::default(), start);
    let re = trunk_request("INVITE", 102, "");
    d.check_request(&re).unwrap();
    assert_eq!(d.handle_timeout(start + ms(45_000)), None);
    assert_eq!(d.poll_timeout(), Some(start + ms(46_000)));
}

#[test]
fn expiry_at_se_minus_the_lesser_of_32_s_and_a_third() {
    let start = t0();
    // (Session-Expires, expiry after the last refresh in ms)
    for (se, expiry) in [(1800, 1_768_000), (90, 60_000), (91, 60_667), (96, 64_000)] {
        let invite = invite_with(Some(&format!("{se};refresher=uac")), true, None);
        let (mut d, _) = answered(&invite, SessionTimerConfig::default(), start);
        assert_eq!(d.poll_timeout(), Some(start + ms(expiry)), "SE {se}");
        assert_eq!(d.handle_timeout(start + ms(expiry - 1)), None);
        assert_eq!(
            d.handle_timeout(start + ms(expiry)),
            Some(DialogAction::Expired)
        );
        assert_eq!(d.poll_timeout(), None);
        assert_eq!(d.handle_timeout(start + ms(expiry + 1)), None, "fires once");
        // The caller sends BYE.
        let bye = d.bye();
        assert_eq!(bye.method(), Some(&Method::Bye));
        assert!(d.is_terminated());
    }
}

#[test]
fn a_refresh_from_the_peer_restarts_the_timer() {
    let start = t0();
    let invite = invite_with(Some("1800;refresher=uac"), true, None);
    let (mut d, _) = answered(&invite, SessionTimerConfig::default(), start);
    d.check_request(&trunk_request("ACK", 101, "")).unwrap();
    let at = start + ms(800_000);
    let update = trunk_request(
        "UPDATE",
        102,
        "Supported: timer\nSession-Expires: 1800;refresher=uac\n",
    );
    d.check_request(&update).unwrap();
    let mut ok = Message::response_to(&update, 200, None);
    d.decorate_response(&update, &mut ok, at);
    assert_eq!(ok.header("Session-Expires"), Some("1800;refresher=uac"));
    assert_eq!(d.poll_timeout(), Some(at + ms(1_768_000)));
    assert_eq!(d.handle_timeout(start + ms(1_768_000)), None);
    // A failed refresh (our 4xx) does not restart it.
    let bad = trunk_request("UPDATE", 103, "Session-Expires: 1800;refresher=uac\n");
    d.check_request(&bad).unwrap();
    let mut refused = Message::response_to(&bad, 488, None);
    d.decorate_response(&bad, &mut refused, at + ms(5_000));
    assert_eq!(d.poll_timeout(), Some(at + ms(1_768_000)));
}

/// A UAC dialog with us as refresher for 1800 s, started at `start`.
fn uac_refresher(start: Instant) -> (Message, Dialog) {
    let invite = parse(OUR_INVITE);
    let ok = phone_response(
        200,
        "OK",
        "ph1",
        "Allow: INVITE, ACK, BYE, UPDATE\nSession-Expires: 1800;refresher=uac\n",
    );
    let mut d = Dialog::uac_from_response(&invite, &ok).unwrap();
    d.handle_response(&invite, &ok, start).unwrap();
    (invite, d)
}

fn update_answer(req: &Message, code: u16, extra: &str) -> Message {
    let seq = req.cseq().unwrap().seq;
    let text = phone_response(code, "x", "ph1", extra)
        .to_string()
        .replace("CSeq: 1 INVITE", &format!("CSeq: {seq} UPDATE"));
    parse(&text)
}

#[test]
fn our_successful_refresh_restarts_the_timer_once() {
    let start = t0();
    let (_, mut d) = uac_refresher(start);
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(start + ms(900_000)) else {
        panic!("refresh due");
    };
    assert_eq!(req.method(), Some(&Method::Update));
    assert_eq!(req.cseq().unwrap().seq, 2);
    let ok = update_answer(&req, 200, "Session-Expires: 1800;refresher=uac\n");
    let at = start + ms(900_250);
    d.handle_response(&req, &ok, at).unwrap();
    assert_eq!(d.poll_timeout(), Some(at + ms(900_000)));
    // A retransmission of that 2xx changes nothing.
    d.handle_response(&req, &ok, at + ms(4_000)).unwrap();
    assert_eq!(d.poll_timeout(), Some(at + ms(900_000)));
}

#[test]
fn failed_refreshes_retry_after_491_and_422() {
    let start = t0();
    let (_, mut d) = uac_refresher(start);
    let half = start + ms(900_000);
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(half) else {
        panic!("refresh due");
    };
    // Glare: we own the Call-ID (UAC), so we wait 3 s.
    d.handle_response(&req, &update_answer(&req, 491, ""), half + ms(100))
        .unwrap();
    assert_eq!(d.poll_timeout(), Some(half + ms(3_100)));
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(half + ms(3_100)) else {
        panic!("retry due");
    };
    // 422: raise to the peer's Min-SE and retry at once.
    let at = half + ms(3_200);
    d.handle_response(&req, &update_answer(&req, 422, "Min-SE: 2000\n"), at)
        .unwrap();
    assert_eq!(d.poll_timeout(), Some(at));
    let Some(DialogAction::SendRefresh(req)) = d.handle_timeout(at) else {
        panic!("retry due");
    };
    assert_eq!(req.header("Session-Expires"), Some("2000;refresher=uac"));
    assert_eq!(req.header("Min-SE"), Some("2000"));
    // Any other failure: no retry, the session runs into expiry.
    d.handle_response(&req, &update_answer(&req, 500, ""), at + ms(10))
        .unwrap();
    assert_eq!(d.poll_timeout(), Some(start + ms(1_768_000)));
    assert_eq!(
        d.handle_timeout(start + ms(1_768_000)),
        Some(DialogAction::Expired)
    );
}

#[test]
fn in_dialog_invites_carry_the_current_timer() {
    let start = t0();
    let (_, mut d) = uac_refresher(start);
    let hold = d.reinvite("v=0\r\na=sendonly\r\n");
    assert_eq!(hold.header("Session-Expires"), Some("1800;refresher=uac"));
    let invite = invite_with(Some("1800;refresher=uac"), true, None);
    let (mut uas, _) = answered(&invite, SessionTimerConfig::default(), start);
    uas.check_request(&trunk_request("ACK", 101, "")).unwrap();
    let hold = uas.reinvite("v=0\r\na=sendonly\r\n");
    assert_eq!(
        hold.header("Session-Expires"),
        Some("1800;refresher=uas"),
        "the peer stays refresher: it is the UAS of our re-INVITE"
    );
    let mut initial = Message::new_request(Method::Invite, our_contact());
    add_to_request(&mut initial, &config(600, 120, true), 600, None);
    assert_eq!(initial.header("Session-Expires"), Some("600"));
    assert_eq!(initial.header("Min-SE"), Some("120"));
    assert_eq!(initial.header("Supported"), Some("timer"));
}
