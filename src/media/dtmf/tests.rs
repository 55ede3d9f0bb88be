//! RFC 4733 receiver and sender tests.
use super::*;

fn payload(digit: Digit, end: bool, duration: u16) -> [u8; 4] {
    let mut out = [0; 4];
    TelephoneEvent::from_digit(digit, end, 10, duration).write(&mut out);
    out
}

/// Feeds `(timestamp, seq, marker, digit, end, duration)` packets 20 ms apart and returns
/// the digits reported by `on_packet`.
fn feed(
    rx: &mut DtmfReceiver,
    t0: Instant,
    packets: &[(u32, u16, bool, Digit, bool, u16)],
) -> String {
    let mut out = String::new();
    for (i, &(ts, seq, m, d, end, dur)) in packets.iter().enumerate() {
        let now = t0 + Duration::from_millis(20 * i as u64);
        if let Some(d) = rx.on_packet(ts, seq, m, &payload(d, end, dur), now) {
            out.push(d.as_char());
        }
    }
    out
}

fn events(rx: &mut DtmfReceiver) -> Vec<DtmfEvent> {
    std::iter::from_fn(|| rx.poll_event()).collect()
}

/// A normal press: start, updates, three end packets.
fn press(ts: u32, seq: u16, d: Digit, updates: u16) -> Vec<(u32, u16, bool, Digit, bool, u16)> {
    let mut v = Vec::new();
    let mut s = seq;
    for k in 1..=updates {
        v.push((ts, s, k == 1, d, false, k * 160));
        s = s.wrapping_add(1);
    }
    for _ in 0..3 {
        v.push((ts, s, false, d, true, (updates + 1) * 160));
        s = s.wrapping_add(1);
    }
    v
}

#[test]
fn digit_codes_round_trip() {
    for (i, c) in "0123456789*#ABCD".chars().enumerate() {
        let d = Digit::from_char(c).unwrap();
        assert_eq!(usize::from(d.event()), i);
        assert_eq!(d.as_char(), c);
        assert_eq!(Digit::from_event(i as u8), Some(d));
    }
    assert_eq!(Digit::from_char('a'), Some(Digit::A));
    assert_eq!(Digit::from_char('E'), None);
    assert_eq!(Digit::from_event(16), None);
}

#[test]
fn payload_parse_and_write() {
    let ev = TelephoneEvent::parse(&[11, 0x80 | 0x40 | 0x0A, 0x03, 0x20]).unwrap();
    assert_eq!(
        ev,
        TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800
        }
    );
    assert_eq!(ev.digit(), Some(Digit::Hash));
    let mut out = [0; 4];
    ev.write(&mut out);
    assert_eq!(out, [11, 0x8A, 0x03, 0x20], "reserved bit written as zero");
    let ev = TelephoneEvent {
        event: 1,
        end: false,
        volume: 0xFF,
        duration: 0,
    };
    ev.write(&mut out);
    assert_eq!(TelephoneEvent::parse(&out).unwrap().volume, 63);
}

#[test]
fn malformed_payloads() {
    assert_eq!(TelephoneEvent::parse(&[]), Err(DtmfError::Length(0)));
    assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(DtmfError::Length(3)));
    assert_eq!(
        TelephoneEvent::parse(&[1, 2, 3, 4, 5]),
        Err(DtmfError::Length(5))
    );
    let ev = TelephoneEvent::parse(&[16, 0, 0, 160]).unwrap();
    assert_eq!(ev.digit(), None);

    let mut rx = DtmfReceiver::default();
    let now = Instant::now();
    assert_eq!(rx.on_packet(100, 1, true, &[5, 0, 0], now), None);
    assert_eq!(rx.on_packet(100, 2, true, &[16, 0, 0, 160], now), None);
    assert_eq!(rx.on_packet(100, 3, false, &[200, 0x80, 1, 0], now), None);
    assert!(events(&mut rx).is_empty());
    assert_eq!(rx.poll_timeout(), None);
    // A real digit afterwards, even at the same timestamp, is still reported.
    assert_eq!(
        rx.on_packet(100, 4, true, &payload(Digit::D5, false, 160), now),
        Some(Digit::D5)
    );
}

#[test]
fn normal_sequence_reports_once_with_duration() {
    let mut rx = DtmfReceiver::default();
    let t0 = Instant::now();
    let mut pkts = press(1000, 10, Digit::D1, 5);
    pkts.extend(press(5000, 18, Digit::Hash, 3));
    assert_eq!(feed(&mut rx, t0, &pkts), "1#");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::D1 },
            DtmfEvent::Ended {
                digit: Digit::D1,
                duration_ms: 120
            },
            DtmfEvent::Started { digit: Digit::Hash },
            DtmfEvent::Ended {
                digit: Digit::Hash,
                duration_ms: 80
            },
        ]
    );
    assert_eq!(rx.poll_timeout(), None);
    assert_eq!(rx.active_digit(), None);
}

#[test]
fn duplicates_are_ignored() {
    let mut rx = DtmfReceiver::default();
    let mut pkts = Vec::new();
    for p in press(1000, 10, Digit::D7, 3) {
        pkts.push(p);
        pkts.push(p);
    }
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "7");
    assert_eq!(events(&mut rx).len(), 2);
}

#[test]
fn lost_first_packet() {
    let mut rx = DtmfReceiver::default();
    let pkts = press(1000, 10, Digit::D3, 4);
    assert_eq!(feed(&mut rx, Instant::now(), &pkts[1..]), "3");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::D3 },
            DtmfEvent::Ended {
                digit: Digit::D3,
                duration_ms: 100
            },
        ]
    );
}

#[test]
fn only_end_packet_received() {
    let mut rx = DtmfReceiver::default();
    let pkts = press(1000, 10, Digit::D9, 4);
    assert_eq!(feed(&mut rx, Instant::now(), &pkts[5..]), "9");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::D9 },
            DtmfEvent::Ended {
                digit: Digit::D9,
                duration_ms: 100
            },
        ]
    );
}

#[test]
fn lost_end_packets_timeout() {
    let mut rx = DtmfReceiver::new(DtmfReceiverConfig {
        clock_rate: 8000,
        timeout: Duration::from_secs(2),
    });
    let t0 = Instant::now();
    let pkts = press(1000, 10, Digit::D4, 4);
    assert_eq!(feed(&mut rx, t0, &pkts[..4]), "4");
    let last = t0 + Duration::from_millis(60);
    assert_eq!(rx.poll_timeout(), Some(last + Duration::from_secs(2)));
    rx.handle_timeout(last + Duration::from_millis(1999));
    assert_eq!(
        events(&mut rx),
        vec![DtmfEvent::Started { digit: Digit::D4 }]
    );
    rx.handle_timeout(last + Duration::from_secs(2));
    assert_eq!(
        events(&mut rx),
        vec![DtmfEvent::Ended {
            digit: Digit::D4,
            duration_ms: 80
        }]
    );
    assert_eq!(rx.poll_timeout(), None);
    // Its end packets arriving very late change nothing.
    assert_eq!(feed(&mut rx, last, &pkts[4..]), "");
    assert!(events(&mut rx).is_empty());
}

#[test]
fn default_timeout_is_five_seconds() {
    let mut rx = DtmfReceiver::default();
    let t0 = Instant::now();
    rx.on_packet(0, 0, true, &payload(Digit::A, false, 160), t0);
    assert_eq!(rx.poll_timeout(), Some(t0 + Duration::from_secs(5)));
}

#[test]
fn lost_end_packets_next_event() {
    let mut rx = DtmfReceiver::default();
    let mut pkts = press(1000, 10, Digit::D2, 4);
    pkts.truncate(4);
    pkts.extend(press(3000, 17, Digit::D2, 2));
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "22");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::D2 },
            DtmfEvent::Ended {
                digit: Digit::D2,
                duration_ms: 80
            },
            DtmfEvent::Started { digit: Digit::D2 },
            DtmfEvent::Ended {
                digit: Digit::D2,
                duration_ms: 60
            },
        ]
    );
}

#[test]
fn same_digit_twice_with_lost_marker() {
    let mut rx = DtmfReceiver::default();
    let mut pkts = press(1000, 10, Digit::D0, 3);
    let second = press(2600, 16, Digit::D0, 3);
    pkts.extend_from_slice(&second[1..]);
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "00");
}

#[test]
fn reordering_end_before_update() {
    let mut rx = DtmfReceiver::default();
    let d = Digit::D6;
    let pkts = [
        (1000, 10, true, d, false, 160),
        (1000, 12, false, d, false, 480),
        (1000, 13, false, d, true, 640),
        (1000, 11, false, d, false, 320),
        (1000, 14, false, d, true, 640),
        (1000, 15, false, d, true, 640),
    ];
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "6");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: d },
            DtmfEvent::Ended {
                digit: d,
                duration_ms: 80
            },
        ]
    );
}

#[test]
fn late_packet_of_previous_event_is_stale() {
    let mut rx = DtmfReceiver::default();
    let mut pkts = press(1000, 10, Digit::B, 3);
    let last_end = pkts.pop().unwrap();
    pkts.extend(press(4000, 20, Digit::C, 2));
    pkts.push(last_end);
    pkts.push((1000, 11, false, Digit::B, false, 320));
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "BC");
    assert_eq!(events(&mut rx).len(), 4);
}

#[test]
fn timestamp_and_sequence_wrap_around() {
    let mut rx = DtmfReceiver::default();
    let mut pkts = press(u32::MAX - 100, u16::MAX - 2, Digit::D8, 4);
    pkts.extend(press(1500, 5, Digit::D8, 4));
    // A stale copy from before the wrap must not count as new.
    pkts.push((u32::MAX - 100, u16::MAX, false, Digit::D8, true, 800));
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "88");
}

#[test]
fn long_event_segments_are_one_press() {
    let mut rx = DtmfReceiver::default();
    let ts = u32::MAX - 1000;
    let pkts = [
        (ts, 1, true, Digit::Star, false, 160),
        (ts, 2, false, Digit::Star, false, 0xFF00),
        (ts, 3, false, Digit::Star, false, 0xFFFF),
        (ts.wrapping_add(0xFFFF), 4, false, Digit::Star, false, 160),
        (ts.wrapping_add(0xFFFF), 5, false, Digit::Star, true, 8000),
        (ts.wrapping_add(0xFFFF), 6, false, Digit::Star, true, 8000),
    ];
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "*");
    let total = (0xFFFF + 8000) * 1000 / 8000;
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::Star },
            DtmfEvent::Ended {
                digit: Digit::Star,
                duration_ms: total
            },
        ]
    );
}

#[test]
fn short_unended_event_then_same_digit_is_a_new_press() {
    let mut rx = DtmfReceiver::default();
    // 100 ms press with lost end, then the same key again 400 ms later without marker.
    let pkts = [
        (1000, 1, true, Digit::D1, false, 800),
        (4200, 5, false, Digit::D1, false, 320),
    ];
    assert_eq!(feed(&mut rx, Instant::now(), &pkts), "11");
}

#[test]
fn sender_packet_layout() {
    let cfg = DtmfSenderConfig::default();
    let pkts: Vec<_> =
        DtmfSender::new(Digit::D5, Duration::from_millis(100), 7000, 65534, &cfg).collect();
    assert_eq!(pkts.len(), 4 + 3);
    let evs: Vec<_> = pkts
        .iter()
        .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
        .collect();
    assert!(pkts[0].marker && pkts[1..].iter().all(|p| !p.marker));
    assert!(pkts.iter().all(|p| p.timestamp == 7000));
    let seqs: Vec<u16> = pkts.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [65534, 65535, 0, 1, 2, 3, 4]);
    let durs: Vec<u16> = evs.iter().map(|e| e.duration).collect();
    assert_eq!(durs, [160, 320, 480, 640, 800, 800, 800]);
    let ends: Vec<bool> = evs.iter().map(|e| e.end).collect();
    assert_eq!(ends, [false, false, false, false, true, true, true]);
    assert!(evs.iter().all(|e| e.event == 5 && e.volume == 10));
    let at: Vec<u64> = pkts.iter().map(|p| p.send_at.as_millis() as u64).collect();
    assert_eq!(at, [0, 20, 40, 60, 100, 100, 100]);
}

#[test]
fn sender_long_event_segments() {
    let cfg = DtmfSenderConfig::default();
    let pkts: Vec<_> = DtmfSender::new(Digit::D1, Duration::from_secs(10), 100, 0, &cfg).collect();
    let first_seg: Vec<_> = pkts.iter().filter(|p| p.timestamp == 100).collect();
    let last = TelephoneEvent::parse(&first_seg.last().unwrap().payload).unwrap();
    assert_eq!((last.duration, last.end), (0xFFFF, false));
    let second_seg: Vec<_> = pkts
        .iter()
        .filter(|p| p.timestamp == 100 + 0xFFFF)
        .collect();
    assert_eq!(first_seg.len() + second_seg.len(), pkts.len());
    let end = TelephoneEvent::parse(&second_seg.last().unwrap().payload).unwrap();
    assert_eq!((end.duration, end.end), ((80_000 - 0xFFFF) as u16, true));

    let mut rx = DtmfReceiver::default();
    let now = Instant::now();
    let got: String = pkts
        .iter()
        .filter_map(|p| rx.on_packet(p.timestamp, p.seq, p.marker, &p.payload, now))
        .map(Digit::as_char)
        .collect();
    assert_eq!(got, "1");
    assert_eq!(
        events(&mut rx),
        vec![
            DtmfEvent::Started { digit: Digit::D1 },
            DtmfEvent::Ended {
                digit: Digit::D1,
                duration_ms: 10_000
            },
        ]
    );
}

#[test]
fn sender_output_round_trips_through_receiver() {
    let cfg = DtmfSenderConfig::default();
    let mut rx = DtmfReceiver::default();
    let t0 = Instant::now();
    let sent = "0123456789*#ABCD55##";
    let mut ts = u32::MAX - 3000;
    let mut seq = u16::MAX - 10;
    let mut got = String::new();
    let mut ended = Vec::new();
    for c in sent.chars() {
        let digit = Digit::from_char(c).unwrap();
        let mut tx = DtmfSender::new(digit, Duration::from_millis(90), ts, seq, &cfg);
        for p in tx.by_ref() {
            let now = t0 + p.send_at;
            if let Some(d) = rx.on_packet(p.timestamp, p.seq, p.marker, &p.payload, now) {
                got.push(d.as_char());
            }
        }
        seq = tx.next_seq();
        ts = ts.wrapping_add(160 * 10);
        ended.extend(events(&mut rx).into_iter().filter_map(|e| match e {
            DtmfEvent::Ended { digit, duration_ms } => Some((digit.as_char(), duration_ms)),
            DtmfEvent::Started { .. } => None,
        }));
    }
    assert_eq!(got, sent);
    let expected: Vec<_> = sent.chars().map(|c| (c, 90)).collect();
    assert_eq!(ended, expected);
}
