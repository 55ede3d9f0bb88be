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
mod tests;
