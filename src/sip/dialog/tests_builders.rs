//! Builders for the in-dialog requests of the call layer: each request is written out, parsed
//! back as the peer would, and read for the values put in.

use super::tests::{parse, reparse, t0, uas_dialog};
use super::*;
use crate::sip::message::{Message, Method, NameAddr};

/// A confirmed UAS dialog (the trunk's call, answered).
fn confirmed() -> Dialog {
    let (invite, mut d) = uas_dialog();
    let mut ok = Message::response_to(&invite, 200, None);
    d.decorate_response(&invite, &mut ok, t0());
    d
}

#[test]
fn refer_round_trip() {
    let mut d = confirmed();
    let target = NameAddr::parse("<sip:8002@hotline.example.cn>").unwrap();
    let by = NameAddr::parse("\"Agent 8001\" <sip:8001@hotline.example.cn>").unwrap();
    let refer = reparse(&d.refer(&target, Some(&by)));
    assert_eq!(refer.method(), Some(&Method::Refer));
    assert_eq!(refer.cseq().unwrap().method, Method::Refer);
    assert_eq!(parse_refer_to(&refer).unwrap(), target);
    let got_by = NameAddr::parse(refer.header("Referred-By").unwrap()).unwrap();
    assert_eq!(got_by, by);
    assert_eq!(got_by.display.as_deref(), Some("Agent 8001"));
    assert_eq!(
        refer.header("Contact"),
        Some("<sip:hotline@192.0.2.10:5060>")
    );
    assert_eq!(refer.to().unwrap().tag(), Some("ft1"));
}

#[test]
fn attended_transfer_refer_to_keeps_its_replaces() {
    let mut d = confirmed();
    let text = "<sip:8002@pbx.example.cn?Replaces=c2%40pbx%3Bto-tag%3Da%3Bfrom-tag%3Db>";
    let target = NameAddr::parse(text).unwrap();
    let refer = reparse(&d.refer(&target, None));
    let got = parse_refer_to(&refer).unwrap();
    assert_eq!(got, target);
    let sip = got.uri.as_sip().unwrap();
    assert_eq!(
        sip.headers.as_deref(),
        Some("Replaces=c2%40pbx%3Bto-tag%3Da%3Bfrom-tag%3Db")
    );
    assert!(refer.header("Referred-By").is_none());
}

#[test]
fn incoming_refer_to_in_compact_form() {
    let text = "REFER sip:hotline@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKref1
From: <sip:13800138000@trunk.example.cn>;tag=ft1
To: <sip:12345@hotline.example.cn>;tag=lt1
Call-ID: call-1@10.0.0.5
CSeq: 102 REFER
r: \"Desk\" <sip:8003@hotline.example.cn;user=phone>
Content-Length: 0

";
    let refer = parse(text);
    let to = parse_refer_to(&refer).unwrap();
    assert_eq!(to.display.as_deref(), Some("Desk"));
    assert_eq!(to.uri.to_string(), "sip:8003@hotline.example.cn;user=phone");
    let mut no_target = refer.clone();
    no_target.remove_header("Refer-To");
    assert_eq!(parse_refer_to(&no_target).unwrap_err().header, "Refer-To");
}

#[test]
fn notify_for_refer_progress() {
    let mut d = confirmed();
    let trying = reparse(&d.notify_refer(
        Some(104),
        &SubscriptionState::Active { expires: 60 },
        100,
        "Trying",
    ));
    assert_eq!(trying.method(), Some(&Method::Notify));
    assert_eq!(trying.header("Event"), Some("refer;id=104"));
    assert_eq!(
        trying.header("Subscription-State"),
        Some("active;expires=60")
    );
    assert_eq!(sipfrag_status(&trying.body), Some(100));
    let done = reparse(&d.notify_refer(
        None,
        &SubscriptionState::Terminated {
            reason: Some("noresource".into()),
        },
        200,
        "OK",
    ));
    assert_eq!(done.header("Event"), Some("refer"));
    assert_eq!(
        done.header("Subscription-State"),
        Some("terminated;reason=noresource")
    );
    assert_eq!(
        done.header("Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(done.body, b"SIP/2.0 200 OK\r\n");
    assert_eq!(sipfrag_status(&done.body), Some(200));
    assert_eq!(
        done.header("Contact"),
        Some("<sip:hotline@192.0.2.10:5060>")
    );
    assert_eq!(
        done.cseq().unwrap().seq,
        trying.cseq().unwrap().seq + 1,
        "each NOTIFY takes the next CSeq"
    );
}

#[test]
fn sipfrag_status_lines() {
    assert_eq!(sipfrag_status(b"SIP/2.0 180 Ringing\r\n"), Some(180));
    assert_eq!(sipfrag_status(b"SIP/2.0 603 Declined"), Some(603));
    assert_eq!(sipfrag_status(b"INVITE sip:x SIP/2.0\r\n"), None);
    assert_eq!(sipfrag_status(b"SIP/2.0 2000 OK\r\n"), None);
    assert_eq!(sipfrag_status(b""), None);
    assert_eq!(
        SubscriptionState::Pending { expires: 30 }.to_string(),
        "pending;expires=30"
    );
    assert_eq!(
        SubscriptionState::Terminated { reason: None }.to_string(),
        "terminated"
    );
}

#[test]
fn info_dtmf() {
    let mut d = confirmed();
    let info = reparse(&d.info_dtmf('5', 160));
    assert_eq!(info.method(), Some(&Method::Info));
    assert_eq!(info.header("Content-Type"), Some("application/dtmf-relay"));
    assert_eq!(info.body, b"Signal=5\r\nDuration=160\r\n");
    assert!(info.header("Contact").is_none());
    let star = reparse(&d.info_dtmf('*', 250));
    assert_eq!(star.body, b"Signal=*\r\nDuration=250\r\n");
    assert_eq!(star.cseq().unwrap().seq, info.cseq().unwrap().seq + 1);
}

#[test]
fn hold_and_resume_bodies() {
    let mut d = confirmed();
    let hold_sdp = "v=0\r\no=hotline 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=sendonly\r\n";
    let hold = reparse(&d.reinvite(hold_sdp));
    assert_eq!(hold.method(), Some(&Method::Invite));
    assert_eq!(hold.header("Content-Type"), Some("application/sdp"));
    assert_eq!(hold.body, hold_sdp.as_bytes());
    assert_eq!(
        hold.header("Contact"),
        Some("<sip:hotline@192.0.2.10:5060>")
    );
    let inactive = hold_sdp.replace("sendonly", "inactive").into_bytes();
    let upd = reparse(&d.update(Some(inactive.clone())));
    assert_eq!(upd.method(), Some(&Method::Update));
    assert_eq!(upd.body, inactive);
    let bare = reparse(&d.update(None));
    assert!(bare.body.is_empty());
    assert!(bare.header("Content-Type").is_none());
    let seqs: Vec<u32> = [&hold, &upd, &bare]
        .iter()
        .map(|m| m.cseq().unwrap().seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}
