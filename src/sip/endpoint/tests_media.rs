//! The endpoint's calls into [`SessionMedia`] (offer, re-offer, end) and SIP INFO digits.

use std::sync::{Arc, Mutex};

use super::tests::{find, in_dialog, Harness, TRUNK};
use super::*;
use crate::sip::message::Message;

/// Records every call the endpoint makes; refuses offers of G.729 (payload type 18) only.
#[derive(Clone, Default)]
struct Spy(Arc<Mutex<Vec<String>>>);

impl SessionMedia for Spy {
    fn inbound_offer(
        &mut self,
        call_id: &str,
        number: &str,
        m: &Message,
    ) -> Result<Vec<u8>, Refusal> {
        self.0
            .lock()
            .unwrap()
            .push(format!("offer {call_id} {number}"));
        if !String::from_utf8_lossy(&m.body).contains("RTP/AVP 18 ") {
            Ok(b"v=0\r\nanswer".to_vec())
        } else {
            Err(Refusal::NotAcceptable(
                "Not Acceptable Here (no common codec)".into(),
            ))
        }
    }
    fn reoffer(&mut self, call_id: &str, m: &Message) -> Result<Vec<u8>, Refusal> {
        let hold = String::from_utf8_lossy(&m.body).contains("a=sendonly");
        self.0
            .lock()
            .unwrap()
            .push(format!("reoffer {call_id} hold={hold}"));
        Ok(b"v=0\r\nreanswer".to_vec())
    }
    fn outbound_offer(&mut self, call_id: &str, link: Option<&str>) -> Result<Vec<u8>, Refusal> {
        self.0
            .lock()
            .unwrap()
            .push(format!("outbound {call_id} {link:?}"));
        Ok(b"v=0\r\noffer".to_vec())
    }
    fn refresh_offer(&mut self, _: &str) -> Vec<u8> {
        b"v=0\r\nrefresh".to_vec()
    }
    fn answer(&mut self, call_id: &str, _: &Message) -> Result<(), Refusal> {
        self.0.lock().unwrap().push(format!("answer {call_id}"));
        Ok(())
    }
    fn ended(&mut self, call_id: &str) {
        self.0.lock().unwrap().push(format!("ended {call_id}"));
    }
}

fn with_body(req: String, content_type: &str, body: &str) -> String {
    let head = req.trim_end_matches("\r\n");
    format!(
        "{head}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn answered(h: &mut Harness, call_id: &str) -> Message {
    let inv = h.invite("12345", call_id, "13800138000", "");
    h.deliver(&inv, TRUNK);
    let ok = find(&h.take(), 200);
    h.deliver(
        &in_dialog("ACK", &ok, 1, &format!("z9hG4bKack{call_id}")),
        TRUNK,
    );
    ok
}

#[test]
fn media_side_answers_offers_reoffers_and_hears_the_end() {
    let spy = Spy::default();
    let mut h = Harness::new(|_| {});
    h.ep.set_media(Box::new(spy.clone()));
    // The harness offers PCMA, PCMU and telephone-event.
    let ok = answered(&mut h, "m1");
    assert_eq!(ok.body, b"v=0\r\nanswer");
    let hold = with_body(
        in_dialog("INVITE", &ok, 2, "z9hG4bKre1"),
        "application/sdp",
        "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
    );
    h.deliver(&hold, TRUNK);
    let re = find(&h.take(), 200);
    assert_eq!(re.body, b"v=0\r\nreanswer");
    h.deliver(&in_dialog("BYE", &ok, 3, "z9hG4bKbye"), TRUNK);
    assert_eq!(
        *spy.0.lock().unwrap(),
        ["offer m1 12345", "reoffer m1 hold=true", "ended m1"]
    );
}

#[test]
fn refused_offer_is_488_with_the_reason_and_no_call() {
    let spy = Spy::default();
    let mut h = Harness::new(|_| {});
    h.ep.set_media(Box::new(spy.clone()));
    let inv = h
        .invite("12345", "m2", "13800138000", "")
        .replace("RTP/AVP 8 0 101", "RTP/AVP 18 4 96");
    h.deliver(&inv, TRUNK);
    let res = find(&h.take(), 488);
    assert!(
        String::from_utf8_lossy(&res.to_bytes())
            .contains("488 Not Acceptable Here (no common codec)"),
        "{res:?}"
    );
    assert_eq!(h.ep.stats().calls, 0);
    assert!(matches!(
        h.events.last(),
        Some(Event::CallRefused { code: 488, .. })
    ));
}

#[test]
fn sip_info_digits_become_events() {
    let mut h = Harness::new(|_| {});
    let ok = answered(&mut h, "m3");
    let cases = [
        (
            "application/dtmf-relay",
            "Signal=5\r\nDuration=160\r\n",
            Some('5'),
            200,
        ),
        (
            "application/dtmf-relay",
            "signal= #\r\nDuration=100\r\n",
            Some('#'),
            200,
        ),
        ("application/dtmf-relay", "Signal=10\r\n", Some('*'), 200),
        ("application/dtmf", "7", Some('7'), 200),
        ("application/dtmf-relay", "Signal=X\r\n", None, 415),
        (
            "application/media_control+xml",
            "<media_control/>",
            None,
            200,
        ),
    ];
    for (i, (ct, body, digit, code)) in cases.into_iter().enumerate() {
        h.events.clear();
        let info = with_body(
            in_dialog("INFO", &ok, 10 + i as u32, &format!("z9hG4bKinfo{i}")),
            ct,
            body,
        );
        h.deliver(&info, TRUNK);
        let statuses: Vec<u16> = h.take().iter().filter_map(|(_, m)| m.status()).collect();
        assert_eq!(statuses, [code], "{ct} {body:?}");
        let got = h.events.iter().find_map(|e| match e {
            Event::Dtmf { call_id, digit } if call_id == "m3" => Some(*digit),
            _ => None,
        });
        assert_eq!(got, digit, "{ct} {body:?}");
    }
}
