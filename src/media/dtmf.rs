//! RFC 4733 telephone-events ("RTP DTMF"), sans-IO.
//!
//! * [`TelephoneEvent`] is the 4-octet payload of §2.3.
//! * [`DtmfReceiver`] turns the RTP packets of a telephone-event stream into digits, reporting
//!   each key press exactly once despite loss, duplication, reordering and the redundant end
//!   packets, and reports when each press ends and how long it lasted.
//! * [`DtmfSender`] produces the packets for one key press.
//!
//! Only the sixteen DTMF events (0–15) are interpreted; other events (flash, modem tones…)
//! parse fine but are ignored by the receiver. Nothing here allocates per packet.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Length of one telephone-event payload (RFC 4733 §2.3).
pub const PAYLOAD_LEN: usize = 4;

/// Largest duration one event segment can carry (RFC 4733 §2.5.1.3).
const MAX_SEGMENT: u32 = 0xFFFF;

/// One DTMF key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Digit {
    D0,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
    D9,
    Star,
    Hash,
    A,
    B,
    C,
    D,
}

impl Digit {
    const ALL: [Digit; 16] = [
        Digit::D0,
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::Star,
        Digit::Hash,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
    ];

    /// The RFC 4733 event code (0–9, `*` = 10, `#` = 11, A–D = 12–15).
    pub fn event(self) -> u8 {
        self as u8
    }

    /// The digit for an event code, `None` for codes that are not DTMF (> 15).
    pub fn from_event(event: u8) -> Option<Digit> {
        Self::ALL.get(usize::from(event)).copied()
    }

    /// The key as a character: `0`–`9`, `*`, `#`, `A`–`D`.
    pub fn as_char(self) -> char {
        b"0123456789*#ABCD"[usize::from(self.event())] as char
    }

    /// The digit for a key character; lower-case `a`–`d` are accepted.
    pub fn from_char(c: char) -> Option<Digit> {
        let code = match c.to_ascii_uppercase() {
            d @ '0'..='9' => d as u8 - b'0',
            '*' => 10,
            '#' => 11,
            l @ 'A'..='D' => l as u8 - b'A' + 12,
            _ => return None,
        };
        Digit::from_event(code)
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Why a payload is not a telephone-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    /// The payload is not exactly [`PAYLOAD_LEN`] octets.
    #[error("telephone-event payload must be 4 octets, got {0}")]
    Length(usize),
}

/// The RFC 4733 §2.3 payload: event code, end bit, volume and duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code; 0–15 are DTMF.
    pub event: u8,
    /// The E bit: this packet reports the end of the event.
    pub end: bool,
    /// Power level in −dBm0, 0–63 (only the low 6 bits are written).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units, from the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// A DTMF event for `digit`.
    pub fn from_digit(digit: Digit, end: bool, volume: u8, duration: u16) -> TelephoneEvent {
        TelephoneEvent {
            event: digit.event(),
            end,
            volume: volume & 0x3F,
            duration,
        }
    }

    /// The DTMF digit, `None` for non-DTMF events.
    pub fn digit(&self) -> Option<Digit> {
        Digit::from_event(self.event)
    }

    /// Parses a payload. It must be exactly 4 octets: the payload type carries one event per
    /// packet (several events need RFC 2198 redundancy, a different payload type) and RTP
    /// padding is removed by the RTP layer, so any other length is a malformed or mislabelled
    /// packet rather than something to guess at. The reserved bit is ignored.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let bytes: &[u8; PAYLOAD_LEN] = payload
            .try_into()
            .map_err(|_| DtmfError::Length(payload.len()))?;
        Ok(TelephoneEvent {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3F,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }

    /// Writes the payload; the reserved bit is zero and the volume is masked to 6 bits.
    pub fn write(&self, out: &mut [u8; PAYLOAD_LEN]) {
        out[0] = self.event;
        out[1] = (if self.end { 0x80 } else { 0 }) | (self.volume & 0x3F);
        out[2..].copy_from_slice(&self.duration.to_be_bytes());
    }
}

/// What the receiver reports through [`DtmfReceiver::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// A key press was detected (once per press).
    Started { digit: Digit },
    /// The press ended: end packet, next event, or timeout. `duration_ms` is the longest
    /// duration seen, summed over long-event segments.
    Ended { digit: Digit, duration_ms: u64 },
}

/// Receiver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfReceiverConfig {
    /// RTP clock rate of the telephone-event payload type (8000 for `telephone-event/8000`).
    pub clock_rate: u32,
    /// An event with no packets for this long is ended (all its end packets were lost).
    pub timeout: Duration,
}

impl Default for DtmfReceiverConfig {
    fn default() -> Self {
        DtmfReceiverConfig {
            clock_rate: 8000,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The event being (or last) received.
#[derive(Debug, Clone, Copy)]
struct Current {
    digit: Digit,
    /// RTP timestamp of the current segment.
    timestamp: u32,
    /// Units covered by earlier segments of a long event.
    earlier_segments: u64,
    /// Longest duration seen in the current segment.
    duration: u16,
    ended: bool,
    last_packet: Instant,
}

impl Current {
    fn total(&self) -> u64 {
        self.earlier_segments + u64::from(self.duration)
    }
}

/// Capacity of the event queue; the oldest event is dropped if the caller never drains it.
const QUEUE_CAP: usize = 16;

/// How close (in timestamp units) a new segment must start to where the previous one was last
/// seen for it to count as a long-event continuation rather than a new press.
const CONTINUATION_SLACK: u32 = 1600;

/// Sans-IO RFC 4733 receiver for one RTP stream (one SSRC; call [`reset`](Self::reset) when
/// it changes).
///
/// Events are told apart by RTP timestamp (the marker bit may be lost); within an event the
/// duration field only grows, so late updates and duplicates change nothing. Packets whose
/// timestamp is older than the current event's are stale and ignored.
#[derive(Debug)]
pub struct DtmfReceiver {
    config: DtmfReceiverConfig,
    current: Option<Current>,
    events: VecDeque<DtmfEvent>,
}

impl Default for DtmfReceiver {
    fn default() -> Self {
        DtmfReceiver::new(DtmfReceiverConfig::default())
    }
}

impl DtmfReceiver {
    pub fn new(config: DtmfReceiverConfig) -> DtmfReceiver {
        DtmfReceiver {
            config,
            current: None,
            events: VecDeque::with_capacity(QUEUE_CAP),
        }
    }

    /// Forgets the stream (new SSRC); an unfinished event is ended first.
    pub fn reset(&mut self) {
        self.end_current();
        self.current = None;
    }

    /// Feeds one RTP packet of the telephone-event payload type. Returns the digit when this
    /// packet starts a new key press, `None` otherwise (duplicate, update, end, stale,
    /// malformed or non-DTMF). `seq` is accepted for the caller's convenience but ordering is
    /// decided by timestamp and duration, which is robust to sequence wrap-around.
    pub fn on_packet(
        &mut self,
        timestamp: u32,
        seq: u16,
        marker: bool,
        payload: &[u8],
        now: Instant,
    ) -> Option<Digit> {
        let _ = seq;
        let ev = TelephoneEvent::parse(payload).ok()?;
        let digit = ev.digit()?;

        if let Some(cur) = self.current.as_mut() {
            let delta = timestamp.wrapping_sub(cur.timestamp);
            if delta == 0 {
                // Same event: update, duplicate, end or late packet.
                if cur.ended {
                    return None;
                }
                cur.last_packet = now;
                cur.duration = cur.duration.max(ev.duration);
                if ev.end {
                    self.end_current();
                }
                return None;
            }
            if (delta as i32) < 0 {
                // Older than the current event: a late packet of an earlier one.
                return None;
            }
            let seen = u32::from(cur.duration);
            if !cur.ended
                && !marker
                && digit == cur.digit
                && delta <= MAX_SEGMENT
                && delta >= seen
                && delta - seen <= CONTINUATION_SLACK
                && seen + CONTINUATION_SLACK >= MAX_SEGMENT
            {
                // RFC 4733 §2.5.1.3: a long event continues in a new segment whose
                // timestamp is the previous one plus its duration; no marker, no new press.
                cur.earlier_segments += u64::from(delta);
                cur.timestamp = timestamp;
                cur.duration = ev.duration;
                cur.last_packet = now;
                if ev.end {
                    self.end_current();
                }
                return None;
            }
        }

        // A new press (its start packet may have been lost: the marker is not required).
        self.end_current();
        self.current = Some(Current {
            digit,
            timestamp,
            earlier_segments: 0,
            duration: ev.duration,
            ended: false,
            last_packet: now,
        });
        self.push(DtmfEvent::Started { digit });
        if ev.end {
            self.end_current();
        }
        Some(digit)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current
            .filter(|c| !c.ended)
            .map(|c| c.last_packet + self.config.timeout)
    }

    /// Ends the current event if no packet arrived for the configured timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.end_current();
        }
    }

    /// The next start/end notification, oldest first.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop_front()
    }

    /// The digit of the press in progress, if any.
    pub fn active_digit(&self) -> Option<Digit> {
        self.current.filter(|c| !c.ended).map(|c| c.digit)
    }

    fn end_current(&mut self) {
        let Some(cur) = self.current.as_mut().filter(|c| !c.ended) else {
            return;
        };
        cur.ended = true;
        let duration_ms = cur.total() * 1000 / u64::from(self.config.clock_rate.max(1));
        let digit = cur.digit;
        self.push(DtmfEvent::Ended { digit, duration_ms });
    }

    fn push(&mut self, event: DtmfEvent) {
        if self.events.len() == QUEUE_CAP {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

/// Sender settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfSenderConfig {
    /// RTP clock rate of the telephone-event payload type.
    pub clock_rate: u32,
    /// Time between packets (RFC 4733 suggests 50 ms or less; 20 ms matches audio).
    pub interval: Duration,
    /// Volume in −dBm0 (0–63).
    pub volume: u8,
    /// How many times the end packet is sent (RFC 4733 §2.5.1.4 recommends 3).
    pub end_copies: u8,
}

impl Default for DtmfSenderConfig {
    fn default() -> Self {
        DtmfSenderConfig {
            clock_rate: 8000,
            interval: Duration::from_millis(20),
            volume: 10,
            end_copies: 3,
        }
    }
}

/// One RTP packet to send for a telephone-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    pub seq: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: [u8; PAYLOAD_LEN],
    /// When to send it, relative to the start of the press.
    pub send_at: Duration,
}

/// Produces the packets of one key press as an iterator (no allocation).
///
/// Packet *k* (from 0) is sent at `k × interval` and reports the duration up to the end of
/// the interval it starts, like an audio packet covering the samples that follow its
/// timestamp. The first packet has the marker bit; all share the event's timestamp; the last
/// one is sent `end_copies` times with the E bit and the final duration, each copy with its
/// own sequence number. Events longer than 0xFFFF units are split into segments
/// (RFC 4733 §2.5.1.3): a segment's last packet carries 0xFFFF without the E bit and the next
/// segment's timestamp is the previous one plus 0xFFFF.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    digit: Digit,
    volume: u8,
    first_timestamp: u32,
    next_seq: u16,
    interval: u64,
    clock_rate: u64,
    total: u64,
    /// Units covered by packets so far (overall).
    pos: u64,
    /// Start of the current segment (overall units).
    segment_start: u64,
    /// Send time of the next update, in units.
    send_pos: u64,
    sent_any: bool,
    ends_left: u8,
}

impl DtmfSender {
    /// A press of `digit` lasting `duration`, starting at RTP `timestamp` with sequence
    /// number `seq` for its first packet.
    pub fn new(
        digit: Digit,
        duration: Duration,
        timestamp: u32,
        seq: u16,
        config: &DtmfSenderConfig,
    ) -> DtmfSender {
        let clock_rate = u64::from(config.clock_rate.max(1));
        let units = |d: Duration| (d.as_micros() * u128::from(clock_rate) / 1_000_000) as u64;
        DtmfSender {
            digit,
            volume: config.volume & 0x3F,
            first_timestamp: timestamp,
            next_seq: seq,
            interval: units(config.interval).max(1),
            clock_rate,
            total: units(duration),
            pos: 0,
            segment_start: 0,
            send_pos: 0,
            sent_any: false,
            ends_left: config.end_copies.max(1),
        }
    }

    /// The sequence number following the last packet produced.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    fn packet(&mut self, end: bool, duration: u32) -> DtmfPacket {
        let mut payload = [0; PAYLOAD_LEN];
        TelephoneEvent::from_digit(self.digit, end, self.volume, duration as u16)
            .write(&mut payload);
        let pkt = DtmfPacket {
            seq: self.next_seq,
            timestamp: self.first_timestamp.wrapping_add(self.segment_start as u32),
            marker: !self.sent_any,
            payload,
            send_at: Duration::from_micros(self.send_pos * 1_000_000 / self.clock_rate),
        };
        self.sent_any = true;
        self.next_seq = self.next_seq.wrapping_add(1);
        pkt
    }
}

impl Iterator for DtmfSender {
    type Item = DtmfPacket;

    fn next(&mut self) -> Option<DtmfPacket> {
        if self.ends_left == 0 {
            return None;
        }
        let target = (self.pos + self.interval).min(self.total);
        if target - self.segment_start > u64::from(MAX_SEGMENT) {
            // Close the segment at 0xFFFF and start the next one.
            let pkt = self.packet(false, MAX_SEGMENT);
            self.segment_start += u64::from(MAX_SEGMENT);
            return Some(pkt);
        }
        if target < self.total {
            let pkt = self.packet(false, (target - self.segment_start) as u32);
            self.pos = target;
            self.send_pos += self.interval;
            return Some(pkt);
        }
        // The end packets go out when the tone stops.
        self.pos = target;
        self.send_pos = self.total;
        let pkt = self.packet(true, (target - self.segment_start) as u32);
        self.ends_left -= 1;
        Some(pkt)
    }
}

#[cfg(test)]
mod tests {
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
        let pkts: Vec<_> =
            DtmfSender::new(Digit::D1, Duration::from_secs(10), 100, 0, &cfg).collect();
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
}
