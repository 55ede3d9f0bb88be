//! SDP parsing and offer/answer tests: real-world offers, codec and DTMF choice, hold, ptime,
//! round trips, IPv6 and malformed input.
use super::*;

pub(super) fn local() -> LocalMedia {
    LocalMedia {
        addr: "198.51.100.7".parse().unwrap(),
        port: 30000,
        session_id: 4242,
        version: 1,
        codecs: vec![G711::Pcmu, G711::Pcma],
        dtmf_pt: 101,
        direction: Direction::SendRecv,
    }
}

pub(super) fn sa(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

/// Joins lines with CRLF (and a final CRLF).
pub(super) fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

/// A minimal offer whose audio m-line and attributes are given.
pub(super) fn simple(m_line: &str, attrs: &[&str]) -> String {
    let mut lines = vec![
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        m_line,
    ];
    lines.extend_from_slice(attrs);
    crlf(&lines)
}

pub(super) fn answer_ok(offer: &str) -> (String, MediaParams) {
    let (body, params) = answer(offer.as_bytes(), &local()).expect("offer accepted");
    (String::from_utf8(body).unwrap(), params)
}

fn m_lines(sdp: &str) -> Vec<&str> {
    sdp.lines().filter(|l| l.starts_with("m=")).collect()
}

pub(super) const BARESIP: &str = "v=0\r\n\
o=- 1397497937 2567133378 IN IP4 192.0.2.20\r\n\
s=-\r\n\
c=IN IP4 192.0.2.20\r\n\
t=0 0\r\n\
m=audio 10004 RTP/AVP 96 9 0 8 101\r\n\
b=AS:128\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendrecv\r\n\
a=label:1\r\n\
a=ssrc:1430398386 cname:9c5e3d0f-1b7e-4f0c\r\n\
a=rtcp-rsize\r\n\
a=mid:0\r\n";

/// Linphone style: LF only, static PTs without rtpmap, several telephone-event rates,
/// a=rtcp, session-level ICE attributes and a video stream.
pub(super) const LINPHONE: &str = "v=0\n\
o=alice 3259 1876 IN IP4 192.0.2.33\n\
s=Talk\n\
c=IN IP4 192.0.2.33\n\
t=0 0\n\
a=ice-pwd:3f2a1b0c9d8e7f6a5b4c3d2e\n\
a=ice-ufrag:7c1d2e3f\n\
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n\
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\n\
a=rtpmap:96 opus/48000/2\n\
a=fmtp:96 useinbandfec=1\n\
a=rtpmap:97 speex/16000\n\
a=fmtp:97 vbr=on\n\
a=rtpmap:98 speex/8000\n\
a=fmtp:98 vbr=on\n\
a=fmtp:18 annexb=yes\n\
a=rtpmap:101 telephone-event/48000\n\
a=rtpmap:99 telephone-event/16000\n\
a=rtpmap:100 telephone-event/8000\n\
a=rtcp:7079\n\
a=candidate:1 1 UDP 2130706431 192.0.2.33 7078 typ host\n\
a=rtcp-fb:* trr-int 1000\n\
m=video 9078 RTP/AVP 96\n\
a=rtpmap:96 VP8/90000\n\
a=rtcp-fb:* nack pli\n";

/// A carrier trunk through Asterisk/FreeSWITCH: PCMA first, ptime 20, maxptime.
pub(super) const TRUNK: &str = "v=0\r\n\
o=- 1614611385 1614611385 IN IP4 203.0.113.10\r\n\
s=Asterisk\r\n\
c=IN IP4 203.0.113.10\r\n\
b=CT:384\r\n\
t=0 0\r\n\
m=audio 17712 RTP/AVP 8 0 3 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:3 GSM/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:150\r\n\
a=sendrecv\r\n";

/// SIPp's uac_pcap scenario offer, with [local_ip]/[media_ip]/[media_port] filled in.
pub(super) const SIPP_UAC_PCAP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 8 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-11,16\r\n";

#[test]
fn baresip_offer_gets_pcmu_and_the_exact_answer() {
    let (body, p) = answer_ok(BARESIP);
    assert_eq!(p.codec, G711::Pcmu);
    assert_eq!(p.dtmf_pt, Some(101));
    assert_eq!(p.remote_rtp, sa("192.0.2.20:10004"));
    assert_eq!(p.remote_rtcp, sa("192.0.2.20:10005"));
    assert_eq!(p.ptime_ms, 20);
    assert_eq!(p.direction, Direction::SendRecv);
    let expected = crlf(&[
        "v=0",
        "o=hotline 4242 1 IN IP4 198.51.100.7",
        "s=hotline",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 30000 RTP/AVP 0 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    ]);
    assert_eq!(body, expected);
}

#[test]
fn linphone_offer_lf_only_with_video() {
    let (body, p) = answer_ok(LINPHONE);
    assert_eq!(p.codec, G711::Pcmu, "PT 0 without rtpmap is PCMU");
    assert_eq!(
        p.dtmf_pt,
        Some(100),
        "only the 8000 Hz telephone-event counts"
    );
    assert_eq!(p.remote_rtp, sa("192.0.2.33:7078"));
    assert_eq!(p.remote_rtcp, sa("192.0.2.33:7079"));
    let m = m_lines(&body);
    assert_eq!(m, ["m=audio 30000 RTP/AVP 0 100", "m=video 0 RTP/AVP 96"]);
    assert!(body.contains("a=rtpmap:100 telephone-event/8000\r\n"));
    assert!(!body.contains("VP8"));
    assert_eq!(
        body.matches('\n').count(),
        body.matches("\r\n").count(),
        "CRLF only"
    );
}

#[test]
fn trunk_offer_with_pcma_first_keeps_offerer_preference() {
    let (body, p) = answer_ok(TRUNK);
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(p.dtmf_pt, Some(101));
    assert_eq!(p.remote_rtp, sa("203.0.113.10:17712"));
    assert_eq!(m_lines(&body), ["m=audio 30000 RTP/AVP 8 101"]);
    assert!(body.contains("a=rtpmap:8 PCMA/8000\r\n"));
}

#[test]
fn sipp_uac_pcap_offer() {
    let (body, p) = answer_ok(SIPP_UAC_PCAP);
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(p.dtmf_pt, Some(101));
    assert_eq!(p.remote_rtp, sa("127.0.0.1:6000"));
    assert_eq!(p.remote_rtcp, sa("127.0.0.1:6001"));
    assert_eq!(m_lines(&body), ["m=audio 30000 RTP/AVP 8 101"]);
    assert!(body.contains("a=fmtp:101 0-15\r\n"));
}

#[test]
fn local_codecs_filter_but_offer_order_wins() {
    let offer = simple("m=audio 4000 RTP/AVP 0 8", &[]);
    let mut l = local();
    l.codecs = vec![G711::Pcma, G711::Pcmu];
    assert_eq!(answer(offer.as_bytes(), &l).unwrap().1.codec, G711::Pcmu);
    l.codecs = vec![G711::Pcma];
    let (body, p) = answer(offer.as_bytes(), &l).unwrap();
    assert_eq!(p.codec, G711::Pcma);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("m=audio 30000 RTP/AVP 8\r\n"));
    let pcmu_only = simple("m=audio 4000 RTP/AVP 0", &[]);
    assert_eq!(
        answer(pcmu_only.as_bytes(), &l).unwrap_err(),
        NegotiationError::NoCommonCodec
    );
}

#[test]
fn telephone_event_with_other_pt_and_any_case() {
    let offer = simple(
        "m=audio 4000 RTP/AVP 0 96",
        &["a=rtpmap:96 Telephone-Event/8000", "a=fmtp:96 0-15"],
    );
    let (body, p) = answer_ok(&offer);
    assert_eq!(p.dtmf_pt, Some(96));
    assert_eq!(m_lines(&body), ["m=audio 30000 RTP/AVP 0 96"]);
    assert!(body.contains("a=rtpmap:96 telephone-event/8000\r\n"));
    assert!(!body.contains(" 101"));
}

#[test]
fn no_telephone_event_means_no_dtmf_pt() {
    let (body, p) = answer_ok(&simple("m=audio 4000 RTP/AVP 8 0", &[]));
    assert_eq!(p.dtmf_pt, None);
    assert!(!body.contains("telephone-event"));
    // Only a 16 kHz telephone-event: ignored.
    let offer = simple(
        "m=audio 4000 RTP/AVP 0 97",
        &["a=rtpmap:97 telephone-event/16000"],
    );
    let (body, p) = answer_ok(&offer);
    assert_eq!(p.dtmf_pt, None);
    assert_eq!(m_lines(&body), ["m=audio 30000 RTP/AVP 0"]);
    // Listed in rtpmap but not in the m= format list: not offered.
    let offer = simple(
        "m=audio 4000 RTP/AVP 0",
        &["a=rtpmap:101 telephone-event/8000"],
    );
    assert_eq!(answer_ok(&offer).1.dtmf_pt, None);
}

#[test]
fn no_common_codec() {
    let g729 = simple(
        "m=audio 4000 RTP/AVP 18 101",
        &["a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000"],
    );
    let opus = simple("m=audio 4000 RTP/AVP 111", &["a=rtpmap:111 opus/48000/2"]);
    // PCMU on a dynamic payload type is not used (we send G.711 with 0/8 only).
    let dynamic_pcmu = simple("m=audio 4000 RTP/AVP 96", &["a=rtpmap:96 PCMU/8000"]);
    for offer in [g729, opus, dynamic_pcmu] {
        let err = answer(offer.as_bytes(), &local()).unwrap_err();
        assert_eq!(err, NegotiationError::NoCommonCodec, "{offer}");
        assert_eq!(err.warning_code(), 305);
        assert!(err.reason().contains("PCMU"), "{}", err.reason());
    }
}

#[test]
fn video_and_audio_keep_line_count_and_order() {
    let offer = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=video 5000 RTP/AVP 96 97",
        "a=rtpmap:96 H264/90000",
        "a=rtpmap:97 VP8/90000",
        "m=audio 4000 RTP/AVP 8",
        "m=application 5002 UDP/BFCP *",
    ]);
    let (body, p) = answer_ok(&offer);
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(
        m_lines(&body),
        [
            "m=video 0 RTP/AVP 96 97",
            "m=audio 30000 RTP/AVP 8",
            "m=application 0 UDP/BFCP *",
        ]
    );
}

#[test]
fn encrypted_or_missing_audio_is_refused() {
    let savp = simple(
        "m=audio 4000 RTP/SAVP 0 8",
        &["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"],
    );
    let err = answer(savp.as_bytes(), &local()).unwrap_err();
    assert_eq!(err, NegotiationError::Unsupported("RTP/SAVP".into()));
    assert_eq!(err.warning_code(), 302);
    assert!(err.reason().contains("RTP/SAVP"));
    let dtls = simple("m=audio 9 UDP/TLS/RTP/SAVPF 111 0", &[]);
    assert_eq!(
        answer(dtls.as_bytes(), &local()).unwrap_err(),
        NegotiationError::Unsupported("UDP/TLS/RTP/SAVPF".into())
    );
    let video_only = simple("m=video 5000 RTP/AVP 96", &[]);
    assert_eq!(
        answer(video_only.as_bytes(), &local()).unwrap_err(),
        NegotiationError::NoAudio
    );
    let no_media = crlf(&["v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "t=0 0"]);
    assert_eq!(
        answer(no_media.as_bytes(), &local()).unwrap_err(),
        NegotiationError::NoAudio
    );
    let disabled = simple("m=audio 0 RTP/AVP 0", &[]);
    assert_eq!(
        answer(disabled.as_bytes(), &local()).unwrap_err(),
        NegotiationError::NoAudio
    );
}

#[test]
fn best_effort_srtp_pair_accepts_the_plain_stream() {
    let offer = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=audio 4000 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc",
        "m=audio 0 RTP/AVP 0",
        "m=audio 4002 RTP/AVPF 8 0",
    ]);
    let (body, p) = answer_ok(&offer);
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(p.remote_rtp, sa("203.0.113.5:4002"));
    assert_eq!(
        m_lines(&body),
        [
            "m=audio 0 RTP/SAVP 0",
            "m=audio 0 RTP/AVP 0",
            "m=audio 30000 RTP/AVPF 8"
        ]
    );
    assert!(!body.contains("crypto"));
}

/// Offer with the given direction attribute (or none) and connection address.
fn hold_offer(dir: Option<&str>, addr: &str) -> String {
    let c = format!("c=IN IP4 {addr}");
    let mut attrs = vec!["a=rtpmap:101 telephone-event/8000"];
    let d;
    if let Some(x) = dir {
        d = format!("a={x}");
        attrs.push(&d);
    }
    let mut lines = vec!["v=0", "o=- 1 2 IN IP4 203.0.113.5", "s=-", &c, "t=0 0"];
    lines.push("m=audio 4000 RTP/AVP 0 101");
    lines.extend(attrs);
    crlf(&lines)
}

#[test]
fn hold_and_resume_offers() {
    let cases = [
        (Some("sendonly"), "203.0.113.5", Direction::RecvOnly, true),
        (Some("inactive"), "203.0.113.5", Direction::Inactive, true),
        (Some("recvonly"), "203.0.113.5", Direction::SendOnly, true),
        (None, "0.0.0.0", Direction::RecvOnly, false),
        (Some("sendrecv"), "0.0.0.0", Direction::RecvOnly, false),
        (Some("inactive"), "0.0.0.0", Direction::Inactive, false),
        (Some("sendrecv"), "203.0.113.5", Direction::SendRecv, true),
        (None, "203.0.113.5", Direction::SendRecv, true),
    ];
    for (dir, addr, ours, has_addr) in cases {
        let offer = hold_offer(dir, addr);
        let (body, p) = answer_ok(&offer);
        assert_eq!(p.direction, ours, "{dir:?} {addr}");
        assert!(
            body.ends_with(&format!("a={}\r\n", ours.attribute())),
            "{body}"
        );
        assert_eq!(p.remote_rtp.is_some(), has_addr, "{dir:?} {addr}");
        assert_eq!(p.remote_rtcp.is_some(), has_addr);
        // Our own address stays in the answer, even for c=0.0.0.0.
        assert!(body.contains("c=IN IP4 198.51.100.7\r\n"));
    }
}

#[test]
fn session_level_direction_and_media_override() {
    let offer = simple("m=audio 4000 RTP/AVP 0", &[]).replace("t=0 0", "t=0 0\r\na=sendonly");
    assert_eq!(answer_ok(&offer).1.direction, Direction::RecvOnly);
    let offer =
        simple("m=audio 4000 RTP/AVP 0", &["a=sendrecv"]).replace("t=0 0", "t=0 0\r\na=sendonly");
    assert_eq!(answer_ok(&offer).1.direction, Direction::SendRecv);
}

#[test]
fn our_hold_combines_with_the_offer() {
    let mut l = local();
    l.direction = Direction::SendOnly;
    let (_, p) = answer(hold_offer(None, "203.0.113.5").as_bytes(), &l).unwrap();
    assert_eq!(p.direction, Direction::SendOnly);
    let (_, p) = answer(hold_offer(Some("sendonly"), "203.0.113.5").as_bytes(), &l).unwrap();
    assert_eq!(p.direction, Direction::Inactive);
    l.direction = Direction::Inactive;
    let (_, p) = answer(hold_offer(None, "203.0.113.5").as_bytes(), &l).unwrap();
    assert_eq!(p.direction, Direction::Inactive);
}

#[test]
fn ptime_handling() {
    let cases: [(&[&str], u32); 8] = [
        (&[], 20),
        (&["a=ptime:10"], 10),
        (&["a=ptime:30"], 30),
        (&["a=ptime:60"], 60),
        (&["a=ptime:25"], 20),
        (&["a=ptime:5"], 20),
        (&["a=ptime:70"], 20),
        (&["a=ptime:abc"], 20),
    ];
    for (attrs, want) in cases {
        let (body, p) = answer_ok(&simple("m=audio 4000 RTP/AVP 0", attrs));
        assert_eq!(p.ptime_ms, want, "{attrs:?}");
        assert!(body.contains("a=ptime:20\r\n"), "we ask for 20 ms");
    }
    let session_level =
        simple("m=audio 4000 RTP/AVP 0", &[]).replace("t=0 0", "t=0 0\r\na=ptime:40");
    assert_eq!(answer_ok(&session_level).1.ptime_ms, 40);
}

#[test]
fn offer_text() {
    let body = String::from_utf8(offer(&local())).unwrap();
    let expected = crlf(&[
        "v=0",
        "o=hotline 4242 1 IN IP4 198.51.100.7",
        "s=hotline",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 30000 RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    ]);
    assert_eq!(body, expected);
    let mut hold = local();
    hold.version = 2;
    hold.direction = Direction::SendOnly;
    hold.codecs = vec![G711::Pcma, G711::Pcma];
    let body = String::from_utf8(offer(&hold)).unwrap();
    assert!(body.contains("o=hotline 4242 2 IN IP4 198.51.100.7\r\n"));
    assert!(body.contains("m=audio 30000 RTP/AVP 8 101\r\n"));
    assert!(body.ends_with("a=sendonly\r\n"));
    let mut none = local();
    none.codecs.clear();
    assert!(String::from_utf8(offer(&none))
        .unwrap()
        .contains("RTP/AVP 0 8 101\r\n"));
}

#[test]
fn offer_answer_round_trip() {
    let us = local();
    let mut peer = local();
    peer.addr = "192.0.2.50".parse().unwrap();
    peer.port = 40000;
    peer.codecs = vec![G711::Pcma, G711::Pcmu];
    let (their_answer, their_params) = answer(&offer(&us), &peer).unwrap();
    assert_eq!(their_params.codec, G711::Pcmu, "the offerer's order wins");
    assert_eq!(their_params.remote_rtp, sa("198.51.100.7:30000"));
    let p = accept_answer(&their_answer, &us).unwrap();
    assert_eq!(
        p,
        MediaParams {
            remote_rtp: sa("192.0.2.50:40000"),
            remote_rtcp: sa("192.0.2.50:40001"),
            codec: G711::Pcmu,
            dtmf_pt: Some(101),
            ptime_ms: 20,
            direction: Direction::SendRecv,
        }
    );
    // Hold: we offer sendonly, the peer answers recvonly.
    let mut hold = us.clone();
    hold.version += 1;
    hold.direction = Direction::SendOnly;
    let (their_answer, their_params) = answer(&offer(&hold), &peer).unwrap();
    assert_eq!(their_params.direction, Direction::RecvOnly);
    assert_eq!(
        accept_answer(&their_answer, &hold).unwrap().direction,
        Direction::SendOnly
    );
}

#[test]
fn accept_answer_checks_codec_port_and_direction() {
    let mut us = local();
    us.codecs = vec![G711::Pcmu];
    let pcma = simple("m=audio 4000 RTP/AVP 8", &[]);
    assert_eq!(
        accept_answer(pcma.as_bytes(), &us).unwrap_err(),
        NegotiationError::NoCommonCodec
    );
    let g729 = simple("m=audio 4000 RTP/AVP 18", &[]);
    assert_eq!(
        accept_answer(g729.as_bytes(), &us).unwrap_err(),
        NegotiationError::NoCommonCodec
    );
    let rejected = simple("m=audio 0 RTP/AVP 0", &[]);
    let err = accept_answer(rejected.as_bytes(), &us).unwrap_err();
    assert_eq!(err, NegotiationError::Rejected);
    assert_eq!(err.warning_code(), 304);
    let no_audio = simple("m=video 4000 RTP/AVP 96", &[]);
    assert_eq!(
        accept_answer(no_audio.as_bytes(), &us).unwrap_err(),
        NegotiationError::NoAudio
    );
    let savp = simple("m=audio 4000 RTP/SAVP 0", &[]);
    assert!(matches!(
        accept_answer(savp.as_bytes(), &us),
        Err(NegotiationError::Unsupported(_))
    ));
    // The first answered codec that we offered; the answer's telephone-event PT.
    let both = simple(
        "m=audio 4000 RTP/AVP 18 8 0 102",
        &[
            "a=rtpmap:102 telephone-event/8000",
            "a=recvonly",
            "a=ptime:30",
        ],
    );
    let p = accept_answer(both.as_bytes(), &local()).unwrap();
    assert_eq!(p.codec, G711::Pcma);
    assert_eq!(p.dtmf_pt, Some(102));
    assert_eq!(p.direction, Direction::SendOnly);
    assert_eq!(p.ptime_ms, 30);
}

#[test]
fn ipv6_offer_and_answer() {
    let offer6 = crlf(&[
        "v=0",
        "o=- 7 7 IN IP6 2001:db8::5",
        "s=-",
        "c=IN IP6 2001:db8::5",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let mut l = local();
    l.addr = "2001:db8::7".parse().unwrap();
    let (body, p) = answer(offer6.as_bytes(), &l).unwrap();
    let body = String::from_utf8(body).unwrap();
    assert_eq!(p.remote_rtp, sa("[2001:db8::5]:4000"));
    assert_eq!(p.remote_rtcp, sa("[2001:db8::5]:4001"));
    assert!(body.contains("o=hotline 4242 1 IN IP6 2001:db8::7\r\n"));
    assert!(body.contains("c=IN IP6 2001:db8::7\r\n"));
    assert!(String::from_utf8(offer(&l))
        .unwrap()
        .contains("c=IN IP6 2001:db8::7\r\n"));
    // IPv6 hold address.
    let held = offer6.replace("c=IN IP6 2001:db8::5", "c=IN IP6 ::");
    let (_, p) = answer(held.as_bytes(), &l).unwrap();
    assert_eq!(p.remote_rtp, None);
    assert_eq!(p.direction, Direction::RecvOnly);
}

#[test]
fn direction_and_codec_helpers() {
    use Direction::*;
    assert_eq!(Direction::default(), SendRecv);
    assert_eq!(SendOnly.reverse(), RecvOnly);
    assert_eq!(RecvOnly.reverse(), SendOnly);
    assert_eq!(SendRecv.reverse(), SendRecv);
    assert_eq!(Inactive.reverse(), Inactive);
    assert!(SendRecv.sends() && SendRecv.receives());
    assert!(SendOnly.sends() && !SendOnly.receives());
    assert!(!RecvOnly.sends() && RecvOnly.receives());
    assert!(!Inactive.sends() && !Inactive.receives());
    for d in [SendRecv, SendOnly, RecvOnly, Inactive] {
        assert_eq!(Direction::from_attribute(d.attribute()), Some(d));
    }
    assert_eq!(Direction::from_attribute("SENDONLY"), Some(SendOnly));
    assert_eq!(Direction::from_attribute("rtcp-mux"), None);
    assert_eq!((G711::Pcmu.payload_type(), G711::Pcmu.name()), (0, "PCMU"));
    assert_eq!((G711::Pcma.payload_type(), G711::Pcma.name()), (8, "PCMA"));
    assert_eq!(G711::from_payload_type(8), Some(G711::Pcma));
    assert_eq!(G711::from_payload_type(18), None);
}

#[test]
fn first_audio_stream_with_a_common_codec_is_taken() {
    let offer = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 203.0.113.5",
        "s=-",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=audio 4000 RTP/AVP 18",
        "m=audio 4002 RTP/AVP 0 8",
        "m=audio 4004 RTP/AVP 8",
    ]);
    let (body, p) = answer_ok(&offer);
    assert_eq!(
        (p.codec, p.remote_rtp),
        (G711::Pcmu, sa("203.0.113.5:4002"))
    );
    assert_eq!(
        m_lines(&body),
        [
            "m=audio 0 RTP/AVP 18",
            "m=audio 30000 RTP/AVP 0",
            "m=audio 0 RTP/AVP 8"
        ]
    );
}
