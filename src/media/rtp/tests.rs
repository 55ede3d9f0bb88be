//! RTP header parsing/writing and reception statistics tests.
use super::*;
use proptest::prelude::*;

fn header() -> RtpHeader {
    RtpHeader {
        marker: true,
        payload_type: 8,
        seq: 0xBEEF,
        timestamp: 0x1234_5678,
        ssrc: 0xCAFE_F00D,
    }
}

/// A packet built from `header()` with the given first octet and trailing bytes.
fn packet(first: u8, rest: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; HEADER_LEN];
    header().write(&mut buf);
    buf[0] = first;
    buf.extend_from_slice(rest);
    buf
}

#[test]
fn write_then_parse_round_trips() {
    let mut buf = [0u8; HEADER_LEN + 3];
    let n = header().write(&mut buf);
    assert_eq!(n, HEADER_LEN);
    assert_eq!(buf[0], 0x80);
    assert_eq!(buf[1], 0x88);
    buf[n..].copy_from_slice(&[1, 2, 3]);
    let (h, payload) = RtpPacket::parse(&buf).unwrap();
    assert_eq!(h, header());
    assert_eq!(payload, &[1, 2, 3]);
}

#[test]
fn empty_payload_is_fine() {
    let buf = packet(0x80, &[]);
    let (h, payload) = RtpPacket::parse(&buf).unwrap();
    assert_eq!(h, header());
    assert!(payload.is_empty());
}

#[test]
fn csrcs_extension_and_padding_are_skipped() {
    // Two CSRCs, an extension of one word, payload [9, 9], three octets of padding.
    let rest = [
        0, 0, 0, 1, 0, 0, 0, 2, // CSRCs
        0xBE, 0xDE, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD, // extension
        9, 9, // payload
        0, 0, 3, // padding
    ];
    let buf = packet(0x80 | 0x20 | 0x10 | 2, &rest);
    let (h, payload) = RtpPacket::parse(&buf).unwrap();
    assert_eq!(h, header());
    assert_eq!(payload, &[9, 9]);
}

#[test]
fn padding_may_take_the_whole_payload() {
    let buf = packet(0xA0, &[0, 0, 3]);
    assert_eq!(RtpPacket::parse(&buf).unwrap().1, &[] as &[u8]);
}

#[test]
fn malformed_packets_are_errors() {
    assert_eq!(RtpPacket::parse(&[]), Err(RtpError::TooShort(0)));
    assert_eq!(
        RtpPacket::parse(&packet(0x80, &[])[..11]),
        Err(RtpError::TooShort(11))
    );
    assert_eq!(
        RtpPacket::parse(&packet(0x40, &[1])),
        Err(RtpError::Version(1))
    );
    assert_eq!(
        RtpPacket::parse(&packet(0xC0, &[1])),
        Err(RtpError::Version(3))
    );
    // Three CSRCs announced, two present.
    assert_eq!(
        RtpPacket::parse(&packet(0x83, &[0; 8])),
        Err(RtpError::Csrc(3))
    );
    // Extension bit without room for the preamble.
    assert_eq!(
        RtpPacket::parse(&packet(0x90, &[0, 0, 0])),
        Err(RtpError::Extension)
    );
    // Extension of two words with only one present.
    assert_eq!(
        RtpPacket::parse(&packet(0x90, &[0, 0, 0, 2, 1, 2, 3, 4])),
        Err(RtpError::Extension)
    );
    // Padding count of zero, and larger than what follows the header.
    assert_eq!(
        RtpPacket::parse(&packet(0xA0, &[1, 2, 0])),
        Err(RtpError::Padding(0))
    );
    assert_eq!(
        RtpPacket::parse(&packet(0xA0, &[1, 2, 4])),
        Err(RtpError::Padding(4))
    );
    // Padding bit on a header-only packet: the count would be read from the header itself.
    assert_eq!(
        RtpPacket::parse(&packet(0xA0, &[])),
        Err(RtpError::Padding(0x0D))
    );
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Ok((_, payload)) = RtpPacket::parse(&bytes) {
            prop_assert!(payload.len() + HEADER_LEN <= bytes.len());
        }
    }

    #[test]
    fn parse_never_panics_on_version_2(
        first in 0x80u8..0xC0,
        bytes in proptest::collection::vec(any::<u8>(), 11..96),
    ) {
        let mut buf = vec![first];
        buf.extend_from_slice(&bytes);
        let _ = RtpPacket::parse(&buf);
    }
}

/// Feeds sequence numbers with a constant transit of 1000 timestamp units.
fn feed(stats: &mut ReceiverStats, seqs: &[u16]) {
    for &seq in seqs {
        let ts = u32::from(seq) * 160;
        assert!(stats.on_packet(seq, ts, ts.wrapping_add(1000)));
    }
}

#[test]
fn first_packet_counts() {
    let mut s = ReceiverStats::new(7);
    feed(&mut s, &[7]);
    assert_eq!((s.expected(), s.received(), s.cumulative_lost()), (1, 1, 0));
    assert_eq!(s.extended_highest_seq(), 7);
}

#[test]
fn wrap_around_keeps_extended_seq_increasing() {
    let mut s = ReceiverStats::new(65533);
    let mut last = 0;
    for seq in [65533, 65534, 65535, 0, 1, 2] {
        feed(&mut s, &[seq]);
        assert!(s.extended_highest_seq() > last || last == 0);
        last = s.extended_highest_seq();
    }
    assert_eq!(last, 65536 + 2);
    assert_eq!((s.expected(), s.cumulative_lost()), (6, 0));
    assert_eq!(s.take_report().extended_highest_seq, 0x0001_0002);
}

#[test]
fn reordering_across_the_wrap_does_not_add_a_cycle() {
    let mut s = ReceiverStats::new(65534);
    feed(&mut s, &[65534, 0, 65535, 1]);
    assert_eq!(s.extended_highest_seq(), 65536 + 1);
    assert_eq!(s.cumulative_lost(), 0);
}

#[test]
fn gap_is_counted_as_loss() {
    let mut s = ReceiverStats::new(100);
    feed(&mut s, &[100, 101, 105, 106]);
    assert_eq!((s.expected(), s.received(), s.cumulative_lost()), (7, 4, 3));
    assert_eq!(s.take_report().cumulative_lost, 3);
}

#[test]
fn late_packet_cancels_the_loss() {
    let mut s = ReceiverStats::new(0);
    feed(&mut s, &[0, 1, 3]);
    assert_eq!(s.cumulative_lost(), 1);
    feed(&mut s, &[2, 4]);
    assert_eq!(s.cumulative_lost(), 0);
    assert_eq!(s.take_report().fraction_lost, 0);
}

#[test]
fn duplicates_count_as_received() {
    let mut s = ReceiverStats::new(10);
    feed(&mut s, &[10, 11, 11, 12]);
    assert_eq!(
        (s.expected(), s.received(), s.cumulative_lost()),
        (3, 4, -1)
    );
    let report = s.take_report();
    assert_eq!(report.cumulative_lost, -1);
    assert_eq!(report.fraction_lost, 0);
}

#[test]
fn fraction_lost_is_per_interval_fixed_point() {
    let mut s = ReceiverStats::new(0);
    feed(&mut s, &[0, 1, 3]);
    let report = s.take_report();
    assert_eq!(report.fraction_lost, 64); // 1 of 4
    assert_eq!(report.cumulative_lost, 1);
    // Next interval: 4..=7 all arrive.
    feed(&mut s, &[4, 5, 6, 7]);
    let report = s.take_report();
    assert_eq!(report.fraction_lost, 0);
    assert_eq!(report.cumulative_lost, 1);
    // Next interval: 8..=11 with two missing, 128/256.
    feed(&mut s, &[8, 11]);
    assert_eq!(s.take_report().fraction_lost, 128);
    // Nothing new: nothing expected, nothing lost.
    assert_eq!(s.take_report().fraction_lost, 0);
}

#[test]
fn cumulative_lost_is_clamped_to_24_bits() {
    let mut s = ReceiverStats::new(0);
    // 2999-packet steps stay within the dropout limit; 3000 wraps lose about 2^23 + extra.
    let mut seq: u16 = 0;
    feed(&mut s, &[0]);
    for _ in 0..3000 {
        seq = seq.wrapping_add(2999);
        feed(&mut s, &[seq]);
    }
    assert!(s.cumulative_lost() > LOST_MAX);
    assert_eq!(s.take_report().cumulative_lost, (1 << 23) - 1);
}

#[test]
fn large_jump_is_held_back_then_restarts() {
    let mut s = ReceiverStats::new(0);
    feed(&mut s, &[0, 1, 2]);
    // A lone jump is dropped and does not move the statistics.
    assert!(!s.on_packet(20_000, 0, 0));
    assert_eq!(s.extended_highest_seq(), 2);
    feed(&mut s, &[3]);
    assert_eq!(s.cumulative_lost(), 0);
    // Two consecutive packets after a jump: the source restarted there.
    assert!(!s.on_packet(40_000, 0, 0));
    assert!(s.on_packet(40_001, 160, 160));
    assert_eq!(s.extended_highest_seq(), 40_001);
    assert_eq!((s.expected(), s.received()), (1, 1));
    feed(&mut s, &[40_002]);
    assert_eq!(s.cumulative_lost(), 0);
}

#[test]
fn constant_transit_gives_zero_jitter() {
    let mut s = ReceiverStats::new(0);
    for seq in 0..200u16 {
        let ts = u32::from(seq) * 160;
        s.on_packet(seq, ts, ts.wrapping_add(123_456));
    }
    assert_eq!(s.jitter(), 0.0);
    assert_eq!(s.take_report().jitter, 0);
}

#[test]
fn jitter_follows_the_a8_recurrence() {
    let mut s = ReceiverStats::new(0);
    let mut expected = 0.0f64;
    let mut prev_transit: Option<i64> = None;
    for seq in 0..500u16 {
        let ts = u32::from(seq) * 160;
        // Transit alternates between 1000 and 1160: every |D| is 160.
        let transit: i64 = 1000 + if seq % 2 == 1 { 160 } else { 0 };
        s.on_packet(seq, ts, ts + transit as u32);
        if let Some(prev) = prev_transit {
            let d = (transit - prev).abs() as f64;
            expected += (d - expected) / 16.0;
        }
        prev_transit = Some(transit);
        if seq == 10 {
            assert!((s.jitter() - expected).abs() < 1e-9);
            assert!(s.jitter() > 0.0 && s.jitter() < 160.0);
        }
    }
    assert!((s.jitter() - expected).abs() < 1e-9);
    assert!((s.jitter() - 160.0).abs() < 1e-6);
    assert_eq!(s.take_report().jitter, 160);
}

#[test]
fn jitter_handles_timestamp_and_arrival_wrap() {
    let mut s = ReceiverStats::new(0);
    let base = u32::MAX - 400;
    for seq in 0..10u16 {
        let ts = base.wrapping_add(u32::from(seq) * 160);
        s.on_packet(seq, ts, ts.wrapping_add(5));
    }
    assert_eq!(s.jitter(), 0.0);
}
