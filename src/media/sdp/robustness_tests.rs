//! Parser robustness tests: tolerated deviations, malformed bodies, content types, and
//! property tests over random and mutated input.
use super::tests::{answer_ok, crlf, local, sa, simple, BARESIP, LINPHONE, SIPP_UAC_PCAP, TRUNK};
use super::*;
use proptest::prelude::*;

#[test]
fn connection_at_media_level() {
    let offer = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 192.0.2.77/127",
        "b=TIAS:64000",
    ]);
    assert_eq!(answer_ok(&offer).1.remote_rtp, sa("192.0.2.77:4000"));
    let both = simple("m=audio 4000 RTP/AVP 0", &["c=IN IP4 192.0.2.78"]);
    assert_eq!(answer_ok(&both).1.remote_rtp, sa("192.0.2.78:4000"));
    let none = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    assert_eq!(
        answer(none.as_bytes(), &local()).unwrap_err(),
        NegotiationError::Malformed(SdpError::MissingConnection { media: 1 })
    );
}

#[test]
fn tolerated_deviations() {
    // No o=, s= or t=, t= before c=, trailing and leading whitespace, blank lines, unknown
    // line types and attributes, lower-case rtpmap names, m= port count.
    let offer = "v=0 \n\
        \n\
        t=0 0\r\n\
        c=IN IP4 203.0.113.5\t\r\n\
        x=vendor-thing\r\n\
        a=X-nat:0\r\n\
        m=audio 4000/2 rtp/avp 8 101 \r\n\
        a=rtpmap:8 pcma/8000\r\n\
        a=rtpmap:101 TELEPHONE-EVENT/8000/1\r\n\
        a=rtpmap:garbage\r\n\
        a=silenceSupp:off - - - -\r\n";
    let (_, p) = answer_ok(offer);
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(p.dtmf_pt, Some(101));
    assert_eq!(p.remote_rtp, sa("203.0.113.5:4000"));
    // s= in a legacy charset is fine: only the lines we read must be UTF-8.
    let mut latin1 = simple("m=audio 4000 RTP/AVP 0", &[]).into_bytes();
    let pos = latin1.windows(3).position(|w| w == b"s=-").unwrap();
    latin1[pos + 2] = 0xE9;
    assert!(answer(&latin1, &local()).is_ok());
}

#[test]
fn malformed_bodies_name_the_line() {
    let cases: [(&[u8], SdpError); 8] = [
        (b"", SdpError::Empty),
        (b"\r\n  \r\n", SdpError::Empty),
        (b"hello world", SdpError::BadVersion { line: 1 }),
        (b"v=1\r\n", SdpError::BadVersion { line: 1 }),
        (b"v=0\r\nthis is not sdp\r\n", SdpError::BadLine { line: 2 }),
        (
            b"v=0\r\nc=IN IP4 not-an-ip\r\n",
            SdpError::BadConnection { line: 2 },
        ),
        (
            b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio abc RTP/AVP 0\r\n",
            SdpError::BadMedia { line: 3 },
        ),
        (
            b"v=0\r\nm=audio 4000 RTP/AVP \xff\r\n",
            SdpError::NotUtf8 { line: 2 },
        ),
    ];
    for (body, want) in cases {
        let err = answer(body, &local()).unwrap_err();
        assert_eq!(err, NegotiationError::Malformed(want.clone()), "{body:?}");
        assert_eq!(err.warning_code(), 399);
        assert_eq!(
            accept_answer(body, &local()).unwrap_err(),
            NegotiationError::Malformed(want)
        );
    }
    assert!(SdpError::BadMedia { line: 3 }
        .to_string()
        .contains("line 3"));
    assert!(NegotiationError::Malformed(SdpError::BadMedia { line: 3 })
        .reason()
        .contains("m="));
    let huge = vec![b'a'; parse::MAX_SDP_LEN + 1];
    assert_eq!(
        answer(&huge, &local()).unwrap_err(),
        NegotiationError::Malformed(SdpError::TooLarge(huge.len()))
    );
}

#[test]
fn content_type_detection() {
    assert!(is_sdp("application/sdp"));
    assert!(is_sdp("Application/SDP"));
    assert!(is_sdp(" application/sdp ; charset=utf-8"));
    assert!(!is_sdp("application/sdpx"));
    assert!(!is_sdp("multipart/mixed;boundary=unique-boundary-1"));
    assert!(!is_sdp("text/plain"));
    assert!(!is_sdp(""));
}

#[test]
fn rtcp_attribute_with_and_without_address() {
    let p = answer_ok(&simple("m=audio 4000 RTP/AVP 0", &["a=rtcp:4005"])).1;
    assert_eq!(p.remote_rtcp, sa("203.0.113.5:4005"));
    let p = answer_ok(&simple(
        "m=audio 4000 RTP/AVP 0",
        &["a=rtcp:53020 IN IP4 192.0.2.99"],
    ))
    .1;
    assert_eq!(p.remote_rtcp, sa("192.0.2.99:53020"));
    let p = answer_ok(&simple("m=audio 4000 RTP/AVP 0", &["a=rtcp:bogus"])).1;
    assert_eq!(p.remote_rtcp, sa("203.0.113.5:4001"));
}

/// One of the real offers with a few random byte edits.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![
        Just(BARESIP),
        Just(LINPHONE),
        Just(TRUNK),
        Just(SIPP_UAC_PCAP)
    ];
    (
        base,
        proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(base, edits)| {
            let mut b = base.as_bytes().to_vec();
            for (pos, byte, op) in edits {
                let at = pos % (b.len() + 1);
                match op {
                    0 if at < b.len() => b[at] = byte,
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => b.insert(at, byte),
                }
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_are_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assume!(!bytes.trim_ascii_start().starts_with(b"v="));
        let is_malformed = matches!(answer(&bytes, &local()), Err(NegotiationError::Malformed(_)));
        prop_assert!(is_malformed);
        let is_malformed = matches!(accept_answer(&bytes, &local()), Err(NegotiationError::Malformed(_)));
        prop_assert!(is_malformed);
    }

    #[test]
    fn random_sdp_like_lines_never_panic(
        lines in proptest::collection::vec("[vocmtab]=[ -~]{0,40}", 0..20)
    ) {
        let body = format!("v=0\r\n{}", lines.join("\r\n"));
        let _ = answer(body.as_bytes(), &local());
        let _ = accept_answer(body.as_bytes(), &local());
    }

    #[test]
    fn mutated_offers_never_panic(body in mutated()) {
        if let Ok((answer_body, params)) = answer(&body, &local()) {
            // Whatever was accepted yields a parseable answer with the same m-line count.
            let ours = SessionDescription::parse(&answer_body).unwrap();
            let theirs = SessionDescription::parse(&body).unwrap();
            prop_assert_eq!(ours.media.len(), theirs.media.len());
            prop_assert_eq!(ours.media.iter().filter(|m| m.port != 0).count(), 1);
            prop_assert!(answer_body.iter().all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\r' || b == b'\n'));
            prop_assert!(params.remote_rtp.is_none_or(|a| a.port() != 0));
        }
        let _ = accept_answer(&body, &local());
    }
}
