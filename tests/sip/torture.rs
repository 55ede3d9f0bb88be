//! RFC 4475 torture messages, asserted per the corpus's own classification: which layer
//! must object to each message (parser, typed header accessor, or validation), and how.

use hotline::sip::message::{parse_datagram, Frame, Message, ParseError};
use sipx_testkit::rfc4475::{self, Case, Expect, Fault};

use crate::support::{assert_round_trip, frame_chunked, has, messages, typed, TYPED};

fn parse_ok(c: &Case) -> Message {
    parse_datagram(c.bytes)
        .unwrap_or_else(|e| panic!("{}: must parse, got {e}\n{}", c.name, c.lossy()))
}

fn variant_matches(e: &ParseError, fault: Fault) -> bool {
    matches!(
        (e, fault),
        (ParseError::StartLine(_), Fault::StartLine)
            | (ParseError::HeaderSyntax(_), Fault::HeaderSyntax)
            | (ParseError::Framing(_), Fault::Framing)
    )
}

#[test]
fn every_classified_case_fails_in_the_layer_the_rfc_names() {
    let mut seen = 0;
    for c in rfc4475::classified() {
        seen += 1;
        match c.expect {
            Expect::ParseOk => {
                let m = parse_ok(c);
                assert_eq!(m.validate(), Ok(()), "{}: must validate", c.name);
                for h in TYPED.iter().filter(|h| has(&m, h)) {
                    assert!(typed(&m, h).is_ok(), "{}: {h} must read", c.name);
                }
            }
            Expect::ParseErr(fault) => {
                let e = parse_datagram(c.bytes).expect_err(&format!("{}: must not parse", c.name));
                assert!(
                    variant_matches(&e, fault),
                    "{}: expected a {fault:?} error, got {e:?}",
                    c.name
                );
            }
            Expect::HeaderErr(h) => {
                let m = parse_ok(c);
                let e = typed(&m, h).expect_err(&format!("{}: reading {h} must fail", c.name));
                assert_eq!(e.header, h, "{}", c.name);
                let (code, reason) = m
                    .validate()
                    .expect_err(&format!("{}: must not validate", c.name));
                assert_eq!(code, 400, "{}: {reason}", c.name);
                assert!(
                    reason.starts_with(&format!("Bad {h}:")),
                    "{}: reason must name {h}: {reason}",
                    c.name
                );
            }
            Expect::ValidateErr(why) => {
                let m = parse_ok(c);
                for h in TYPED.iter().filter(|h| has(&m, h)) {
                    assert!(typed(&m, h).is_ok(), "{}: {h} must read", c.name);
                }
                let (code, reason) = m
                    .validate()
                    .expect_err(&format!("{}: must not validate ({why})", c.name));
                let want = if c.name == "badvers" { 505 } else { 400 };
                assert_eq!(code, want, "{}: {reason}", c.name);
            }
            other => panic!("{}: unknown classification {other:?}", c.name),
        }
    }
    assert_eq!(seen, 49);
}

/// The reasons validation gives name what is wrong, so a 400 tells the sender something.
#[test]
fn validation_reasons_name_the_fault() {
    let reason = |name: &str| {
        let c = rfc4475::case(name).unwrap();
        parse_datagram(c.bytes).unwrap().validate().unwrap_err().1
    };
    assert_eq!(reason("escruri"), "Bad Request-URI: headers not allowed");
    assert_eq!(reason("badvers"), "Version Not Supported");
    assert!(reason("mismatch01").starts_with("Bad CSeq: method"));
    assert!(reason("mismatch02").starts_with("Bad CSeq: method"));
    assert_eq!(reason("insuf"), "Bad From: missing");
    assert!(reason("multi01").ends_with("repeated"));
    assert_eq!(reason("baddate"), "Bad Date: time zone must be GMT");
}

#[test]
fn everything_that_parses_writes_back_and_parses_equal() {
    for c in rfc4475::CASES {
        if let Ok(m) = parse_datagram(c.bytes) {
            assert_round_trip(&m, c.name);
        }
    }
}

/// A stream cuts the same message a datagram holds, however the bytes are split, wherever
/// the message carries a Content-Length. Where the datagram is short of bytes (`clerr`'s
/// Content-Length overruns it, `baddn` never ends its header section) a stream waits for more
/// instead; any other parse error is the same error.
#[test]
fn stream_framing_agrees_with_datagrams_in_any_chunking() {
    for c in rfc4475::CASES {
        let datagram = parse_datagram(c.bytes);
        for seed in 0..24u64 {
            let max_chunk = [1, 2, 3, 7, 16, 64, 200, 4096][seed as usize % 8];
            let (frames, err, pending) = frame_chunked(c.bytes, seed, max_chunk);
            let what = format!("{} (seed {seed}, chunks up to {max_chunk})", c.name);
            match &datagram {
                Ok(m) if has(m, "Content-Length") => {
                    assert!(
                        matches!(frames.first(), Some(Frame::Message(f)) if **f == *m),
                        "{what}: first frame differs from the datagram"
                    );
                }
                Ok(m) => {
                    // No Content-Length: a stream takes the body to be empty.
                    let Some(Frame::Message(f)) = frames.first() else {
                        panic!("{what}: no frame");
                    };
                    assert!(f.body.is_empty(), "{what}");
                    assert_eq!(f.headers, m.headers, "{what}");
                }
                Err(ParseError::Framing(
                    "Content-Length larger than the message" | "header section not terminated",
                )) => {
                    assert!(frames.is_empty() && err.is_none(), "{what}: {err:?}");
                    assert_eq!(pending, c.bytes.len(), "{what}: bytes held");
                }
                Err(e) => {
                    assert!(frames.is_empty(), "{what}");
                    assert_eq!(err.as_ref(), Some(e), "{what}");
                }
            }
        }
    }
}

/// `dblreq`: a datagram ignores the octets after Content-Length (RFC 4475 §3.1.1.8). On a
/// stream they are the next message, an INVITE, whose own Content-Length (150) is five short of
/// its body; the five octets left over (`C` CRLF CRLF) cannot start a message, so the stream is
/// out of step and reported as such.
#[test]
fn dblreq_is_two_messages_on_a_stream() {
    let c = rfc4475::case("dblreq").unwrap();
    let m = parse_datagram(c.bytes).unwrap();
    assert_eq!(m.method().unwrap().as_str(), "REGISTER");
    assert!(m.body.is_empty());
    for seed in 0..8 {
        let (frames, err, pending) = frame_chunked(c.bytes, seed, 50);
        assert!(matches!(err, Some(ParseError::StartLine(_))), "{err:?}");
        assert_eq!(pending, 5);
        let got = messages(frames);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], m);
        assert_eq!(got[1].method().unwrap().as_str(), "INVITE");
        assert!(got[1].body.ends_with(b"a=rtpmap:31 LP"));
    }
}

/// `intmeth`: escaped BEL, NUL and DEL are legal in a quoted display name, and the unusual
/// method, URI and header survive intact.
#[test]
fn intmeth_keeps_its_unusual_characters() {
    let m = parse_datagram(rfc4475::case("intmeth").unwrap().bytes).unwrap();
    let method = m.method().unwrap();
    assert_eq!(
        method.as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    assert_eq!(m.cseq().unwrap().method, *method);
    let to = m.to().unwrap();
    assert_eq!(to.display.as_deref(), Some("BEL:\x07 NUL:\0 DEL:\x7f"));
    let uri = m.request_uri().unwrap().as_sip().unwrap();
    assert_eq!(
        uri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(
        m.call_id().unwrap(),
        "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    );
    assert_eq!(
        m.header("extensionHeader-!.%*+_`'~"),
        Some("\u{feff}大停電")
    );
    // The same characters unescaped are refused.
    let raw =
        String::from_utf8_lossy(rfc4475::case("intmeth").unwrap().bytes).replace("\\\x07", "\x07");
    assert!(matches!(
        parse_datagram(raw.as_bytes()),
        Err(ParseError::HeaderSyntax(_))
    ));
}

#[test]
fn wsinv_reads_through_its_white_space() {
    let m = parse_datagram(rfc4475::case("wsinv").unwrap().bytes).unwrap();
    let vias = m.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(
        (vias[0].transport.as_str(), vias[0].host.as_str()),
        ("UDP", "192.0.2.2")
    );
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    assert_eq!(
        m.from().unwrap().display.as_deref(),
        Some("J Rosenberg \\\"")
    );
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    assert_eq!(m.max_forwards().unwrap(), Some(68));
    assert_eq!(m.cseq().unwrap().seq, 9);
    assert_eq!(m.header("Subject"), Some(""));
    assert_eq!(
        m.header("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    let hotline::sip::message::Contacts::List(c) = m.contacts().unwrap() else {
        panic!("contact list");
    };
    assert_eq!(c[0].display.as_deref(), Some("Quoted string \"\""));
    assert_eq!(c[0].params.get("q"), Some(Some("0.33")));
    assert_eq!(m.body.len(), 150);
}

#[test]
fn scalar_overflows_are_header_faults() {
    let m = parse_datagram(rfc4475::case("scalar02").unwrap().bytes).unwrap();
    assert!(
        m.max_forwards().is_ok(),
        "300 is a large but legal Max-Forwards"
    );
    assert_eq!(m.expires().unwrap_err().header, "Expires");
    let r = parse_datagram(rfc4475::case("scalarlg").unwrap().bytes).unwrap();
    assert_eq!(r.status(), Some(503));
    assert_eq!(
        r.cseq().unwrap_err().reason,
        "sequence number must be below 2^31"
    );
    assert!(r.validate_request().is_err(), "a response is not a request");
}
