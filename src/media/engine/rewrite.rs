//! What a B2BUA must do to the RTP it sends on one leg: keep one SSRC, one sequence number
//! space and one timestamp line for the whole call, whatever the audio's source — a prompt,
//! the other leg's packets, a mix — switches between. Pure; no clock inside (time comes in).
//!
//! * Relayed packets keep their source's sequence and timestamp *differences* (so the far
//!   end still sees the source's loss and reordering, and RFC 4733 events keep their shared
//!   timestamp); only a fixed offset is added, recomputed when the source changes.
//! * At every switch the next sequence number follows the last one sent, the timestamp
//!   advances by the wall-clock time since the last packet, and the marker bit is set, so the
//!   receiver's jitter buffer resynchronises instead of seeing a jump.

use std::time::Instant;

use crate::media::rtp::RtpHeader;

/// Where the packets on a leg currently come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    None,
    /// Frames made here (prompt, mix).
    Local,
    /// RFC 4733 events we generate: the anchor stays at the event's start.
    Event,
    /// Packets relayed from a source with this SSRC.
    Relay(u32),
}

/// Outgoing stream state for one leg.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: u32,
    /// Last sequence number and timestamp sent, and when.
    seq: u16,
    ts: u32,
    last: Option<Instant>,
    source: Source,
    seq_offset: u16,
    ts_offset: u32,
    /// Packets and payload octets sent (for RTCP SR).
    pub packets: u32,
    pub octets: u32,
}

/// Samples per second of every codec here.
const RATE: u64 = 8000;
/// A gap between two local frames longer than this is a pause, not jitter of our own clock.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(45);

impl OutStream {
    /// `ssrc`, first sequence number and first timestamp should be random (RFC 3550 §5.1).
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> OutStream {
        OutStream {
            ssrc,
            seq: seq.wrapping_sub(1),
            ts,
            last: None,
            source: Source::None,
            seq_offset: 0,
            ts_offset: 0,
            packets: 0,
            octets: 0,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp at which the next packet would start if sent at `now` after a switch:
    /// the last one plus the elapsed wall-clock time (at least one sample).
    fn continued_ts(&self, now: Instant) -> u32 {
        match self.last {
            None => self.ts,
            Some(at) => {
                let elapsed = now.saturating_duration_since(at);
                let samples = (elapsed.as_micros() as u64 * RATE / 1_000_000).max(1);
                self.ts.wrapping_add(samples as u32)
            }
        }
    }

    /// Header of a locally made frame of `samples` samples sent at `now`.
    pub fn local(&mut self, payload_type: u8, samples: u32, now: Instant) -> RtpHeader {
        // After a pause (hold, nowhere to send) the line continues by the time that passed.
        let paused = self
            .last
            .is_some_and(|l| now.saturating_duration_since(l) > PAUSE);
        let switched = self.source != Source::Local || paused;
        let ts = if switched {
            self.continued_ts(now)
        } else {
            self.ts.wrapping_add(samples)
        };
        self.source = Source::Local;
        self.seq = self.seq.wrapping_add(1);
        self.ts = ts;
        self.last = Some(now);
        RtpHeader {
            marker: switched,
            payload_type,
            seq: self.seq,
            timestamp: ts,
            ssrc: self.ssrc,
        }
    }

    /// Header of a local packet that shares a timestamp with earlier ones (RFC 4733 events:
    /// every packet of one event carries the event's start). `start` says whether it begins a
    /// new event, whose timestamp then continues the stream.
    pub fn local_event(&mut self, payload_type: u8, start: bool, now: Instant) -> RtpHeader {
        if start || self.source != Source::Event {
            self.ts = self.continued_ts(now);
            // Anchored at the event's start: what follows the event continues after its
            // whole duration, not after its first packet.
            self.last = Some(now);
        }
        self.source = Source::Event;
        self.seq = self.seq.wrapping_add(1);
        RtpHeader {
            marker: start,
            payload_type,
            seq: self.seq,
            timestamp: self.ts,
            ssrc: self.ssrc,
        }
    }

    /// Header for relaying packet `inp` (from the other leg) at `now` with `payload_type`.
    pub fn relay(&mut self, inp: &RtpHeader, payload_type: u8, now: Instant) -> RtpHeader {
        let switched = self.source != Source::Relay(inp.ssrc);
        if switched {
            let seq = self.seq.wrapping_add(1);
            let ts = self.continued_ts(now);
            self.seq_offset = seq.wrapping_sub(inp.seq);
            self.ts_offset = ts.wrapping_sub(inp.timestamp);
            self.source = Source::Relay(inp.ssrc);
        }
        let seq = inp.seq.wrapping_add(self.seq_offset);
        let ts = inp.timestamp.wrapping_add(self.ts_offset);
        // Remember the newest packet sent (a late, reordered one does not move us back).
        if switched || (seq.wrapping_sub(self.seq) as i16) > 0 {
            self.seq = seq;
            self.ts = ts;
        }
        self.last = Some(now);
        RtpHeader {
            marker: switched || inp.marker,
            payload_type,
            seq,
            timestamp: ts,
            ssrc: self.ssrc,
        }
    }

    /// Counts a sent packet for RTCP.
    pub fn sent(&mut self, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
    }

    /// Last timestamp sent (for RTCP SR's RTP timestamp), extrapolated to `now`.
    pub fn timestamp_at(&self, now: Instant) -> u32 {
        self.continued_ts(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn hdr(seq: u16, ts: u32, ssrc: u32) -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: 0,
            seq,
            timestamp: ts,
            ssrc,
        }
    }

    const MS20: Duration = Duration::from_millis(20);

    #[test]
    fn prompt_then_relay_then_prompt_is_one_continuous_stream() {
        let t0 = Instant::now();
        let mut out = OutStream::new(0xABCD, 1000, 5000);
        let mut now = t0;
        // Prompt: 3 frames.
        let mut sent = Vec::new();
        for _ in 0..3 {
            sent.push(out.local(0, 160, now));
            now += MS20;
        }
        assert!(sent[0].marker && !sent[1].marker);
        assert_eq!(
            sent.iter().map(|h| h.seq).collect::<Vec<_>>(),
            [1000, 1001, 1002]
        );
        assert_eq!(
            sent.iter().map(|h| h.timestamp).collect::<Vec<_>>(),
            [5000, 5160, 5320]
        );
        // The agent's packets: their own numbering, relayed.
        let a = out.relay(&hdr(60000, 1_000_000, 77), 8, now);
        assert!(a.marker);
        assert_eq!((a.seq, a.timestamp, a.ssrc), (1003, 5480, 0xABCD));
        assert_eq!(a.payload_type, 8);
        now += MS20;
        let b = out.relay(&hdr(60001, 1_000_160, 77), 8, now);
        assert!(!b.marker);
        assert_eq!((b.seq, b.timestamp), (1004, 5640));
        // A gap in the source stays a gap; a late packet keeps its place.
        now += MS20 * 2;
        let d = out.relay(&hdr(60003, 1_000_480, 77), 8, now);
        assert_eq!((d.seq, d.timestamp), (1006, 5960));
        let c = out.relay(&hdr(60002, 1_000_320, 77), 8, now);
        assert_eq!((c.seq, c.timestamp), (1005, 5800));
        // Back to a prompt: continues after the newest packet, not the late one.
        now += MS20;
        let p = out.local(0, 160, now);
        assert!(p.marker);
        assert_eq!((p.seq, p.timestamp), (1007, 5960 + 160));
    }

    #[test]
    fn new_source_ssrc_is_a_switch() {
        let now = Instant::now();
        let mut out = OutStream::new(1, 0, 0);
        out.relay(&hdr(10, 100, 5), 0, now);
        let h = out.relay(&hdr(500, 90_000, 6), 0, now + MS20);
        assert!(h.marker);
        assert_eq!((h.seq, h.timestamp), (1, 160));
    }

    #[test]
    fn wraps_around() {
        let now = Instant::now();
        let mut out = OutStream::new(1, u16::MAX, u32::MAX - 100);
        let a = out.local(0, 160, now);
        let b = out.local(0, 160, now + MS20);
        assert_eq!((a.seq, b.seq), (u16::MAX, 0));
        assert_eq!(b.timestamp, (u32::MAX - 100).wrapping_add(160));
        let c = out.relay(&hdr(u16::MAX, u32::MAX, 9), 0, now + MS20 * 2);
        let d = out.relay(&hdr(0, 159, 9), 0, now + MS20 * 3);
        assert_eq!(d.seq, c.seq.wrapping_add(1));
        assert_eq!(d.timestamp, c.timestamp.wrapping_add(160));
    }

    #[test]
    fn events_share_their_timestamp() {
        let now = Instant::now();
        let mut out = OutStream::new(1, 0, 0);
        out.local(0, 160, now);
        let a = out.local_event(101, true, now + MS20);
        let b = out.local_event(101, false, now + MS20 * 2);
        assert_eq!(a.timestamp, b.timestamp);
        assert!(a.marker && !b.marker);
        assert_eq!(b.seq, a.seq + 1);
        // 100 ms of event (five packets), then audio again: it starts after the event.
        for k in 3..=6 {
            out.local_event(101, false, now + MS20 * k);
        }
        let c = out.local(0, 160, now + MS20 * 7);
        assert!(c.marker);
        assert_eq!(c.timestamp, a.timestamp.wrapping_add(6 * 160));
        let r = out.relay(&hdr(9, 9, 9), 0, now + MS20 * 8);
        assert_eq!(r.timestamp, c.timestamp.wrapping_add(160));
    }

    #[test]
    fn a_pause_in_local_frames_is_a_switch() {
        let now = Instant::now();
        let mut out = OutStream::new(1, 0, 0);
        let a = out.local(0, 160, now);
        let b = out.local(0, 160, now + MS20);
        assert!(!b.marker);
        // Nothing sent for 2 s (the peer held us).
        let c = out.local(0, 160, now + MS20 + Duration::from_secs(2));
        assert!(c.marker);
        assert_eq!(c.timestamp, a.timestamp.wrapping_add(160 + 16_000));
    }
}
