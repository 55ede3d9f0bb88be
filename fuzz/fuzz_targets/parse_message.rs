//! Feeds arbitrary bytes to the SIP message parser: as a datagram, as a stream cut into
//! chunks chosen by the input's first byte, and, for whatever parses, through every typed
//! accessor and both validations. Whatever parses must write back to a message that parses
//! equal, and a stream must cut the same message a datagram holds.

#![no_main]

use hotline::sip::message::{
    parse_datagram, Contacts, Frame, Message, NameAddr, StreamFramer, Via,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let datagram = parse_datagram(bytes);
    if let Ok(m) = &datagram {
        exercise(m);
        round_trip(m);
    }
    let frames = stream(bytes, usize::from(chunk) + 1);
    for f in &frames {
        if let Frame::Message(m) = f {
            exercise(m);
        }
    }
    if let Ok(m) = &datagram {
        if m.header("Content-Length").is_some() && !bytes.starts_with(b"\r\n\r\n") {
            let first = frames.iter().find_map(|f| match f {
                Frame::Message(m) => Some(m),
                Frame::Ping => None,
            });
            assert!(
                first.is_some_and(|f| **f == *m),
                "stream differs from datagram"
            );
        }
    }
});

/// Frames `bytes` pushed `chunk` octets at a time, up to the first error.
fn stream(bytes: &[u8], chunk: usize) -> Vec<Frame> {
    let mut framer = StreamFramer::default();
    let mut frames = Vec::new();
    for piece in bytes.chunks(chunk) {
        framer.push(piece);
        loop {
            match framer.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_string();
                    return frames;
                }
            }
        }
    }
    frames
}

fn round_trip(m: &Message) {
    let bytes = m.to_bytes();
    let again = parse_datagram(&bytes).expect("a written message parses");
    let mut expected = m.clone();
    expected.set_header("Content-Length", m.body.len().to_string());
    assert_eq!(again, expected);
}

fn exercise(m: &Message) {
    let _ = (m.validate_request(), m.validate_response(), m.validate());
    let _ = (m.method(), m.status(), m.call_id(), m.cseq());
    let _ = (
        m.max_forwards(),
        m.expires(),
        m.date(),
        m.delta("Min-Expires"),
    );
    if let Some(uri) = m.request_uri() {
        let _ = uri.user_or_number();
        if let Some(sip) = uri.as_sip() {
            let _ = (sip.user_decoded(), sip.transport(), sip.host_port());
        }
    }
    if let Ok(vias) = m.vias() {
        for v in vias {
            let _ = (v.branch(), v.received(), v.rport(), v.sent_by());
            assert_eq!(Via::parse(&v.to_string()).as_ref(), Ok(&v));
        }
    }
    let mut addrs: Vec<NameAddr> = Vec::new();
    addrs.extend(m.from());
    addrs.extend(m.to());
    if let Ok(Contacts::List(l)) = m.contacts() {
        addrs.extend(l);
    }
    for name in ["Route", "Record-Route"] {
        addrs.extend(m.routes(name).into_iter().flatten());
    }
    for a in addrs {
        let _ = (a.tag(), a.uri.user_or_number());
        assert_eq!(NameAddr::parse(&a.to_string()).as_ref(), Ok(&a));
    }
    for h in &m.headers {
        let _ = m.header_values(&h.name);
    }
    let mut edited = m.clone();
    edited.ensure_to_tag("fuzz");
    let _ = Message::response_to(m, 400, None).validate_response();
    let _ = edited.to_string();
}
