//! [`CallMedia`] against a real engine: offers answered with our ports, hold and resume,
//! late offers, 488 without leaking a port, outbound legs on their caller's shard.

use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::media::{CallMedia, LegEvent};
use crate::media::engine::{MediaConfig, MediaEngine};
use crate::media::sdp::{Direction, G711};
use crate::sip::endpoint::{Refusal, SessionMedia};
use crate::sip::message::{parse_datagram, Message};

fn engine(first: u16) -> MediaEngine {
    let (tx, _rx) = unbounded_channel();
    MediaEngine::start(
        MediaConfig {
            bind_ip: [127, 0, 0, 1].into(),
            public_ip: [127, 0, 0, 1].into(),
            ports: (first, first + 19),
            shards: 2,
            rtp_timeout: Duration::from_secs(60),
            ..MediaConfig::default()
        },
        tx,
    )
    .unwrap()
}

fn request(method: &str, call_id: &str, body: &str) -> Message {
    let ct = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    let text = format!(
        "{method} sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{call_id}{method}\r\n\
         From: <sip:caller@127.0.0.1>;tag=a\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    parse_datagram(text.as_bytes()).unwrap()
}

const SIPP_OFFER: &str = "v=0\r\no=user1 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

fn ready(rx: &mut UnboundedReceiver<LegEvent>) -> LegEvent {
    rx.try_recv().expect("a leg event")
}

#[tokio::test]
async fn inbound_offer_hold_resume_and_end() {
    let e = engine(43000);
    let (tx, mut rx) = unbounded_channel();
    let mut m = CallMedia::new(e.clone(), [127, 0, 0, 1].into(), tx);
    let answer = m
        .inbound_offer("c1", "12345", &request("INVITE", "c1", SIPP_OFFER))
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let port: u16 = answer
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (43000..43020).contains(&port) && port.is_multiple_of(2),
        "{answer}"
    );
    assert!(
        answer.contains("RTP/AVP 8 101") && answer.contains("a=sendrecv"),
        "{answer}"
    );
    let LegEvent::Ready {
        params,
        number,
        outbound,
        ..
    } = ready(&mut rx)
    else {
        panic!("not ready")
    };
    assert_eq!(params.codec, G711::Pcma);
    assert_eq!(params.dtmf_pt, Some(101));
    assert_eq!(params.remote_rtp, Some("127.0.0.1:6000".parse().unwrap()));
    assert_eq!((number.as_deref(), outbound), (Some("12345"), false));

    // The caller puts us on hold, then resumes.
    let hold = SIPP_OFFER.replace(
        "a=fmtp:101 0-11,16\r\n",
        "a=fmtp:101 0-11,16\r\na=sendonly\r\n",
    );
    let a = String::from_utf8(m.reoffer("c1", &request("INVITE", "c1", &hold)).unwrap()).unwrap();
    assert!(
        a.contains("a=recvonly") && a.contains(" 2 IN IP4"),
        "version 2: {a}"
    );
    let LegEvent::Ready { params, .. } = ready(&mut rx) else {
        panic!()
    };
    assert_eq!(params.direction, Direction::RecvOnly);
    // A session refresh while held offers the held session as it is.
    let refresh = String::from_utf8(m.refresh_offer("c1")).unwrap();
    assert!(
        refresh.contains("RTP/AVP 8 101") && refresh.contains("a=recvonly"),
        "{refresh}"
    );
    let a = String::from_utf8(
        m.reoffer("c1", &request("INVITE", "c1", SIPP_OFFER))
            .unwrap(),
    )
    .unwrap();
    assert!(a.contains("a=sendrecv") && a.contains(" 3 IN IP4"), "{a}");
    ready(&mut rx);

    m.ended("c1");
    assert!(matches!(ready(&mut rx), LegEvent::Gone { .. }));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(e.stats().ports_in_use, 0);
    e.shutdown();
}

#[tokio::test]
async fn no_common_codec_is_refused_and_frees_the_port() {
    let e = engine(43020);
    let (tx, mut rx) = unbounded_channel();
    let mut m = CallMedia::new(e.clone(), [127, 0, 0, 1].into(), tx);
    let g729 = SIPP_OFFER
        .replace("RTP/AVP 8 101", "RTP/AVP 18 101")
        .replace("a=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:18 G729/8000\r\n");
    let err = m
        .inbound_offer("c2", "12345", &request("INVITE", "c2", &g729))
        .unwrap_err();
    assert!(
        matches!(&err, Refusal::NotAcceptable(r) if r.starts_with("Not Acceptable Here")),
        "{err}"
    );
    assert!(matches!(rx.try_recv(), Ok(LegEvent::Gone { .. })));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(e.stats().ports_in_use, 0);
    let err = m
        .inbound_offer("c3", "12345", &{
            let mut r = request("INVITE", "c3", SIPP_OFFER);
            r.set_header("Content-Type", "text/plain");
            r
        })
        .unwrap_err();
    assert!(err.to_string().contains("application/sdp"), "{err}");
    // Every port taken: 503 (Unavailable), not 488, so a carrier may try another route.
    tokio::time::sleep(Duration::from_millis(50)).await; // the refused ones are back
    let mut held = Vec::new();
    for i in 0..10 {
        let id = format!("fill{i}");
        held.push(m.inbound_offer(&id, "12345", &request("INVITE", &id, SIPP_OFFER)));
    }
    assert!(held.iter().all(Result::is_ok));
    let full = m
        .inbound_offer("c5", "12345", &request("INVITE", "c5", SIPP_OFFER))
        .unwrap_err();
    assert!(matches!(full, Refusal::Unavailable(_)), "{full}");
    e.shutdown();
}

#[tokio::test]
async fn late_offer_and_outbound_legs() {
    let e = engine(43040);
    let (tx, mut rx) = unbounded_channel();
    let mut m = CallMedia::new(e.clone(), [127, 0, 0, 1].into(), tx);
    // An INVITE without SDP: we offer, the answer comes in the ACK.
    let offer = String::from_utf8(
        m.inbound_offer("c4", "12319", &request("INVITE", "c4", ""))
            .unwrap(),
    )
    .unwrap();
    assert!(offer.contains("RTP/AVP 0 8 101"), "{offer}");
    assert!(rx.try_recv().is_err(), "not ready before the answer");
    let answer = SIPP_OFFER
        .replace("RTP/AVP 8 101", "RTP/AVP 0")
        .replace("a=rtpmap:8 PCMA/8000\r\n", "");
    m.answer("c4", &request("ACK", "c4", &answer)).unwrap();
    let LegEvent::Ready {
        stream: caller,
        params,
        ..
    } = ready(&mut rx)
    else {
        panic!()
    };
    assert_eq!(params.codec, G711::Pcmu);
    assert_eq!(params.dtmf_pt, None);
    // The forwarded leg goes on the caller's shard.
    for i in 0..4 {
        let id = format!("out{i}");
        m.outbound_offer(&id, Some("c4")).unwrap();
        assert_eq!(
            ready(&mut rx),
            LegEvent::Dialing {
                call_id: id.clone(),
                link: "c4".into()
            }
        );
        m.answer(&id, &request("ACK", &id, SIPP_OFFER)).unwrap();
        let LegEvent::Ready {
            stream,
            link,
            outbound,
            ..
        } = ready(&mut rx)
        else {
            panic!()
        };
        assert_eq!(stream.shard, caller.shard);
        assert_eq!((link.as_deref(), outbound), (Some("c4"), true));
    }
    // An answer with a codec we did not offer is refused.
    m.outbound_offer("bad", None).unwrap();
    let g722 = SIPP_OFFER.replace("RTP/AVP 8 101", "RTP/AVP 9");
    assert!(m.answer("bad", &request("ACK", "bad", &g722)).is_err());
    e.shutdown();
}
