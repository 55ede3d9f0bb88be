//! The checks behind both the property tests (`tests/sip/fuzz.rs`) and the `cargo fuzz`
//! target (`fuzz/fuzz_targets/parse_message.rs`, which includes this file by path): read
//! everything a layer above might read, check that what is written reads again, and that a
//! stream cuts the same message as a datagram.

use hotline::sip::message::{parse_datagram, Contacts, Frame, Message, NameAddr, ParseError, Via};

/// Reads everything a layer above might read, and checks what is written back reads again.
pub fn exercise(m: &Message) {
    let _ = m.validate_request();
    let _ = m.validate_response();
    let _ = m.validate();
    let _ = (m.method(), m.status(), m.request_uri(), m.is_request());
    let _ = (
        m.call_id(),
        m.cseq(),
        m.max_forwards(),
        m.expires(),
        m.date(),
    );
    let _ = m.delta("Min-Expires");
    if let Some(uri) = m.request_uri() {
        let _ = uri.user_or_number();
        if let Some(sip) = uri.as_sip() {
            let _ = (sip.user_decoded(), sip.transport(), sip.host_port());
        }
    }
    if let Ok(vias) = m.vias() {
        for v in vias {
            let _ = (v.branch(), v.has_rfc3261_branch(), v.received(), v.rport());
            let again = Via::parse(&v.to_string()).expect("a written Via reads again");
            assert_eq!(again, v);
        }
    }
    let _ = m.top_via();
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
        let again = NameAddr::parse(&a.to_string()).expect("a written name-addr reads again");
        assert_eq!(again, a);
    }
    for h in &m.headers {
        let _ = m.header_values(&h.name);
    }
    let mut edited = m.clone();
    edited.ensure_to_tag("fuzz");
    let _ = Message::response_to(m, 400, None).validate_response();
    let _ = edited.to_string();
}

/// Whatever parses writes back to a message that parses equal (Content-Length normalised),
/// and writing that again gives the same bytes.
pub fn round_trip(m: &Message, what: &str) {
    let bytes = m.to_bytes();
    let again = parse_datagram(&bytes).unwrap_or_else(|e| {
        panic!(
            "{what}: written form does not parse ({e}):\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    let mut expected = m.clone();
    expected.set_header("Content-Length", m.body.len().to_string());
    assert_eq!(again, expected, "{what}: round trip changed the message");
    assert_eq!(again.to_bytes(), bytes, "{what}: second write differs");
}

/// Where the datagram parses and says how long its body is, the stream cut the same message
/// first (unless the bytes opened with a keep-alive, which a stream reports first).
pub fn stream_matches(
    bytes: &[u8],
    datagram: &Result<Message, ParseError>,
    frames: &[Frame],
    err: Option<&ParseError>,
) {
    for f in frames {
        if let Frame::Message(m) = f {
            exercise(m);
        }
    }
    if let Ok(m) = datagram {
        let leading_ping = bytes.starts_with(b"\r\n\r\n");
        if m.header("Content-Length").is_some() && !leading_ping {
            let first = frames.iter().find_map(|f| match f {
                Frame::Message(m) => Some(m),
                Frame::Ping => None,
            });
            assert!(
                first.is_some_and(|f| **f == *m),
                "stream differs from datagram: {err:?}"
            );
        }
    }
}
