//! RTCP tests: byte-exact layouts (RFC 3550 §6.4–6.6), parsing and its errors, NTP helpers,
//! round-trip time, report timing and the flow of reception statistics into reports.
use super::*;
use proptest::prelude::*;

fn info() -> SenderInfo {
    SenderInfo {
        ntp: 0xE0E1_E2E3_1020_3040,
        rtp_ts: 0x0009_0000,
        packets: 4321,
        octets: 999_999,
    }
}

fn block() -> ReportBlock {
    ReportBlock {
        ssrc: 0xAAAA_AAAA,
        fraction_lost: 12,
        cumulative_lost: -3,
        highest_seq: 0x0001_2345,
        jitter: 500,
        lsr: 0xAABB_CCDD,
        dlsr: 0x0000_1000,
    }
}

/// SR with one block, then SDES CNAME "a@b", assembled by hand from §6.4.1 and §6.5.
#[rustfmt::skip]
const SR_BYTES: [u8; 68] = [
    // SR: V=2, RC=1, PT=200, length 12 (52 octets)
    0x81, 0xC8, 0x00, 0x0C,
    0x11, 0x22, 0x33, 0x44, // SSRC of sender
    0xE0, 0xE1, 0xE2, 0xE3, // NTP timestamp, most significant word
    0x10, 0x20, 0x30, 0x40, // NTP timestamp, least significant word
    0x00, 0x09, 0x00, 0x00, // RTP timestamp
    0x00, 0x00, 0x10, 0xE1, // sender's packet count 4321
    0x00, 0x0F, 0x42, 0x3F, // sender's octet count 999999
    0xAA, 0xAA, 0xAA, 0xAA, // SSRC_1
    0x0C, 0xFF, 0xFF, 0xFD, // fraction lost 12, cumulative lost -3
    0x00, 0x01, 0x23, 0x45, // extended highest sequence number
    0x00, 0x00, 0x01, 0xF4, // interarrival jitter 500
    0xAA, 0xBB, 0xCC, 0xDD, // LSR
    0x00, 0x00, 0x10, 0x00, // DLSR
    // SDES: V=2, SC=1, PT=202, length 3 (16 octets)
    0x81, 0xCA, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44, // SSRC/CSRC_1
    0x01, 0x03, b'a', b'@', // CNAME, length 3
    b'b', 0x00, 0x00, 0x00, // end of list, padding
];

#[test]
fn sr_layout_is_byte_exact() {
    let mut out = [0xEEu8; 100];
    let n = write_sr(&mut out, 0x1122_3344, &info(), Some(&block()), "a@b");
    assert_eq!(&out[..n], &SR_BYTES[..]);
    assert!(
        out[n..].iter().all(|&b| b == 0xEE),
        "nothing written past the end"
    );
}

#[test]
fn rr_layouts_are_byte_exact() {
    let mut out = [0u8; 64];
    let n = write_rr(&mut out, 0x0102_0304, None, "host");
    #[rustfmt::skip]
    let expected = [
        0x80, 0xC9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, // RR, RC=0, length 1
        0x81, 0xCA, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, // SDES, SC=1, length 3
        0x01, 0x04, b'h', b'o', b's', b't', 0x00, 0x00, // CNAME "host", null, pad
    ];
    assert_eq!(&out[..n], &expected[..]);

    // With a block: the block follows the reporter's SSRC, RC=1, length 7.
    let n = write_rr(&mut out, 0x0102_0304, Some(&block()), "ab");
    assert_eq!(n, 32 + 16);
    assert_eq!(&out[..8], &[0x81, 0xC9, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04]);
    assert_eq!(&out[8..32], &SR_BYTES[28..52]);
    // "ab" needs a whole null word: two octets of item header + two of text fill one word.
    assert_eq!(
        &out[32..n],
        &[0x81, 0xCA, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, b'a', b'b', 0, 0, 0, 0]
    );
}

#[test]
fn bye_compound_is_rr_sdes_bye() {
    let mut out = [0u8; 64];
    let n = write_bye(&mut out, 0x0102_0304, "host");
    assert_eq!(n, 8 + 16 + 8);
    assert_eq!(&out[..4], &[0x80, 0xC9, 0x00, 0x01]);
    assert_eq!(&out[8..12], &[0x81, 0xCA, 0x00, 0x03]);
    assert_eq!(
        &out[24..n],
        &[0x81, 0xCB, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04]
    );
    let parsed = parse(&out[..n]).unwrap();
    assert!(parsed.bye);
    assert_eq!(parsed.reporter, Some(0x0102_0304));
    assert_eq!(parsed.report_count, 0);
}

#[test]
fn too_small_buffers_get_nothing() {
    let mut out = [0u8; 67];
    assert_eq!(write_sr(&mut out, 1, &info(), Some(&block()), "a@b"), 0);
    assert_eq!(write_rr(&mut out[..23], 1, None, "host"), 0);
    assert_eq!(write_bye(&mut out[..31], 1, "host"), 0);
    assert_eq!(write_bye(&mut out[..32], 1, "host"), 32);
}

#[test]
fn sdes_is_padded_for_every_cname_length() {
    let long = "x".repeat(300);
    let mut out = [0u8; 400];
    for len in 0..=300 {
        let n = write_rr(&mut out, 7, None, &long[..len]);
        assert_eq!(n % 4, 0);
        let text = len.min(255);
        // At least one null octet after the item.
        assert!(n > 8 + 8 + 2 + text, "length {len}");
        assert_eq!(out[8 + 8 + 1], text as u8);
        assert_eq!(out[8 + 8 + 2 + text], 0);
        assert!(parse(&out[..n]).is_ok());
    }
}

#[test]
fn parse_round_trips_sr_and_block() {
    let parsed = parse(&SR_BYTES).unwrap();
    assert_eq!(parsed.reporter, Some(0x1122_3344));
    assert_eq!(parsed.sender, Some((0x1122_3344, info())));
    assert_eq!(parsed.reports[0], Some(block()));
    assert_eq!(parsed.reports[1], None);
    assert_eq!(parsed.report_count, 1);
    assert!(!parsed.bye);
}

#[test]
fn cumulative_loss_is_24_bit_signed_and_clamped() {
    let mut out = [0u8; 64];
    for (given, read) in [
        (-3, -3),
        (0, 0),
        (8_388_607, 8_388_607),
        (9_000_000, 8_388_607),
        (-8_388_608, -8_388_608),
        (-9_000_000, -8_388_608),
    ] {
        let b = ReportBlock {
            cumulative_lost: given,
            ..block()
        };
        let n = write_rr(&mut out, 1, Some(&b), "");
        assert_eq!(
            parse(&out[..n]).unwrap().reports[0]
                .unwrap()
                .cumulative_lost,
            read
        );
    }
}

#[test]
fn parse_keeps_the_first_blocks_and_skips_other_packets() {
    // An RR with five blocks, then an APP packet and a BYE.
    let mut buf = vec![0x85, 0xC9, 0x00, 1 + 5 * 6, 0, 0, 0, 9];
    for i in 0..5u8 {
        let mut b = [0u8; 24];
        b[3] = i;
        buf.extend_from_slice(&b);
    }
    buf.extend_from_slice(&[0x80, 204, 0x00, 0x02, 0, 0, 0, 9, b'n', b'a', b'm', b'e']);
    buf.extend_from_slice(&[0x81, 0xCB, 0x00, 0x01, 0, 0, 0, 9]);
    let parsed = parse(&buf).unwrap();
    assert_eq!(parsed.report_count, 5);
    for i in 0..MAX_REPORTS {
        assert_eq!(parsed.reports[i].unwrap().ssrc, i as u32);
    }
    assert!(parsed.bye);
    assert_eq!(parsed.sender, None);
}

#[test]
fn malformed_input_names_the_problem() {
    assert_eq!(parse(&[]), Err(RtcpError::TooShort(0)));
    assert_eq!(parse(&SR_BYTES[..3]), Err(RtcpError::TooShort(3)));
    let mut bad = SR_BYTES;
    bad[0] = 0x41;
    assert_eq!(parse(&bad), Err(RtcpError::Version(1)));
    assert_eq!(
        parse(&SR_BYTES[..60]),
        Err(RtcpError::Length {
            declared: 16,
            available: 8
        })
    );
    // Two trailing octets are not a packet.
    let mut trailing = SR_BYTES.to_vec();
    trailing.extend_from_slice(&[0x80, 0xC9]);
    assert_eq!(parse(&trailing), Err(RtcpError::TooShort(2)));
    // RC says 2 blocks, the length holds one.
    let mut short = SR_BYTES;
    short[0] = 0x82;
    assert_eq!(
        parse(&short),
        Err(RtcpError::Truncated {
            packet_type: PT_SR,
            count: 2
        })
    );
    // Padding on the first packet of a compound.
    let mut padded = SR_BYTES;
    padded[0] |= 0x20;
    assert_eq!(parse(&padded), Err(RtcpError::PaddingNotLast));
    // Padding on the last packet: a count of 0 or past the body is wrong, 4 is fine.
    let mut last = SR_BYTES;
    last[52] |= 0x20;
    for (count, ok) in [(0u8, false), (13, false), (4, true)] {
        last[67] = count;
        assert_eq!(parse(&last).is_ok(), ok, "padding {count}");
        if !ok {
            assert_eq!(parse(&last), Err(RtcpError::Padding(count)));
        }
    }
}

#[test]
fn ntp_helpers() {
    // The Unix epoch is 2208988800 s after the NTP epoch.
    assert_eq!(ntp_from_unix(Duration::ZERO), 2_208_988_800 << 32);
    let half = ntp_from_unix(Duration::from_millis(1500));
    assert_eq!(half >> 32, 2_208_988_801);
    assert_eq!(half as u32, 0x8000_0000);
    assert_eq!(ntp_middle(0x1122_3344_5566_7788), 0x3344_5566);
}

#[test]
fn round_trip_time_follows_the_rfc_example() {
    // RFC 3550 §6.4.1, figure 2: A = 0xb710:8000, LSR = 0xb705:2000, DLSR = 0x0005:4000
    // give a round trip of 0x0006:2000, 6.125 s.
    let t0 = Instant::now();
    let mut s = RtcpSession::new(0x5151_5151, "us", t0, 1);
    let mut rtcp = Rtcp {
        reporter: Some(0x0707_0707),
        ..Rtcp::default()
    };
    rtcp.reports[0] = Some(ReportBlock {
        ssrc: 0x9999_9999, // about someone else: ignored
        lsr: 1,
        ..ReportBlock::default()
    });
    rtcp.reports[1] = Some(ReportBlock {
        ssrc: 0x5151_5151,
        fraction_lost: 64,
        cumulative_lost: 17,
        jitter: 80,
        lsr: 0xB705_2000,
        dlsr: 0x0005_4000,
        ..ReportBlock::default()
    });
    let a = 0xB710_8000u64 << 16;
    s.on_rtcp(&rtcp, t0, a);
    let f = s.figures();
    assert_eq!(f.rtt_ms, Some(6125.0));
    assert_eq!(f.remote_fraction_lost, 0.25);
    assert_eq!(f.remote_cumulative_lost, 17);
    assert_eq!(f.remote_jitter_ms, 10.0);
    assert_eq!(f.reports_received, 1);
    // A block without LSR (no SR seen yet) leaves the last RTT alone; a BYE is noted.
    rtcp.reports[1].as_mut().unwrap().lsr = 0;
    rtcp.bye = true;
    s.on_rtcp(&rtcp, t0, a);
    assert_eq!(s.figures().rtt_ms, Some(6125.0));
    assert!(s.figures().remote_bye);
}

#[test]
fn reports_come_at_randomized_intervals() {
    let t0 = Instant::now();
    let mut s = RtcpSession::new(1, "us", t0, 42);
    let first = s.poll_timeout() - t0;
    assert!(first >= Duration::from_millis(1250) && first < Duration::from_millis(3750));
    let mut out = [0u8; 128];
    assert_eq!(s.poll_transmit(t0, 0, 0, None, &mut out), 0, "not due yet");
    let mut now = s.poll_timeout();
    assert_eq!(
        s.poll_transmit(now - Duration::from_millis(1), 0, 0, None, &mut out),
        0
    );
    let (mut min, mut max, mut total) = (Duration::MAX, Duration::ZERO, Duration::ZERO);
    for _ in 0..1000 {
        assert!(s.poll_transmit(now, 0, 0, None, &mut out) > 0);
        let interval = s.poll_timeout() - now;
        min = min.min(interval);
        max = max.max(interval);
        total += interval;
        now = s.poll_timeout();
    }
    assert!(min >= Duration::from_millis(2500), "{min:?}");
    assert!(max < Duration::from_millis(7500), "{max:?}");
    let mean = total.as_secs_f64() / 1000.0;
    assert!((4.8..5.2).contains(&mean), "{mean}");
    assert_eq!(s.figures().reports_sent, 1000);

    // The same seed gives the same schedule; another seed another one.
    let a = RtcpSession::new(1, "us", t0, 42);
    let b = RtcpSession::new(1, "us", t0, 43);
    assert_eq!(a.poll_timeout() - t0, first);
    assert_ne!(b.poll_timeout() - t0, first);
}

#[test]
fn sr_when_we_sent_rr_otherwise_and_small_buffers_wait() {
    let t0 = Instant::now();
    let mut s = RtcpSession::new(0xABCD, "agent-1001@hotline", t0, 7);
    for _ in 0..10 {
        s.on_rtp_sent(0, 160);
    }
    let now = s.poll_timeout();
    let mut out = [0u8; 128];
    assert_eq!(
        s.poll_transmit(now, 0, 0, None, &mut out[..40]),
        0,
        "too small"
    );
    let n = s.poll_transmit(now, 0x0102_0304_0506_0708, 8000, None, &mut out);
    let parsed = parse(&out[..n]).unwrap();
    let (ssrc, info) = parsed.sender.unwrap();
    assert_eq!(ssrc, 0xABCD);
    assert_eq!(
        info,
        SenderInfo {
            ntp: 0x0102_0304_0506_0708,
            rtp_ts: 8000,
            packets: 10,
            octets: 1600
        }
    );
    let f = s.figures();
    assert_eq!((f.packets_sent, f.octets_sent), (10, 1600));
    // Nothing sent since: an RR.
    let now = s.poll_timeout();
    let n = s.poll_transmit(now, 0, 0, None, &mut out);
    assert_eq!(out[1], PT_RR);
    assert_eq!(parse(&out[..n]).unwrap().sender, None);
}

#[test]
fn cname_is_cut_to_32_octets_at_a_character_boundary() {
    let t0 = Instant::now();
    let s = RtcpSession::new(1, &"é".repeat(20), t0, 0);
    assert_eq!(s.cname(), "é".repeat(16));
    let s = RtcpSession::new(1, "short", t0, 0);
    assert_eq!(s.cname(), "short");
}

#[test]
fn reception_statistics_and_lsr_flow_into_the_report_block() {
    let t0 = Instant::now();
    let remote = 0x0BAD_CAFE;
    let mut s = RtcpSession::new(0x600D, "us", t0, 3);
    // The remote's SR arrives 1.5 s before our report is built.
    let sr = Rtcp {
        sender: Some((
            remote,
            SenderInfo {
                ntp: 0x1234_5678_9ABC_DEF0,
                ..SenderInfo::default()
            },
        )),
        ..Rtcp::default()
    };
    let due = s.poll_timeout();
    s.on_rtcp(&sr, due - Duration::from_millis(1500), 0);
    // 100 packets from seq 65500 (wrapping), every fourth lost.
    let mut stats = ReceiverStats::new(65_500);
    for i in 0..100u16 {
        if i % 4 != 1 {
            let ts = u32::from(i) * 160;
            stats.on_packet(65_500u16.wrapping_add(i), ts, ts + 1000);
        }
    }
    let mut out = [0u8; 128];
    let n = s.poll_transmit(due, 0, 0, Some((remote, &mut stats)), &mut out);
    let parsed = parse(&out[..n]).unwrap();
    assert_eq!(parsed.sender, None, "we sent no RTP: an RR");
    let b = parsed.reports[0].unwrap();
    assert_eq!(b.ssrc, remote);
    assert_eq!(b.fraction_lost, 64); // 25 of 100
    assert_eq!(b.cumulative_lost, 25);
    assert_eq!(
        b.highest_seq,
        (1 << 16) | u32::from(65_500u16.wrapping_add(99))
    );
    assert_eq!(b.jitter, 0);
    assert_eq!(b.lsr, 0x5678_9ABC);
    assert_eq!(b.dlsr, 98_304); // 1.5 s × 65536
                                // The next interval starts afresh: no new loss.
    let next = s.poll_timeout();
    let n = s.poll_transmit(next, 0, 0, Some((remote, &mut stats)), &mut out);
    let b = parse(&out[..n]).unwrap().reports[0].unwrap();
    assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 25));
}

proptest! {
    #[test]
    fn parse_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_damaged_reports(
        cut in 0usize..=68,
        flips in proptest::collection::vec((0usize..68, any::<u8>()), 0..4),
    ) {
        let mut buf = SR_BYTES;
        for (at, value) in flips {
            buf[at] = value;
        }
        let result = parse(&buf[..cut]);
        if cut < 68 && cut > 0 && buf[0] >> 6 == 2 {
            // A cut SR never parses as a whole report.
            prop_assert!(result.map(|r| r.report_count < 2).unwrap_or(true));
        }
    }
}
