//! RTP data packets (RFC 3550 §5.1) and per-source reception statistics (Appendix A.1, A.3,
//! A.8), sans-IO.
//!
//! * [`RtpPacket::parse`] validates a datagram and borrows its payload: CSRCs and a header
//!   extension are skipped, padding is removed. Every length is bounds-checked, so malformed
//!   input is an [`RtpError`], never a panic.
//! * [`RtpHeader::write`] writes a fixed 12-octet header (no CSRC, no extension, no padding)
//!   into a caller buffer.
//! * [`ReceiverStats`] tracks one synchronization source: extended highest sequence number,
//!   loss, fraction lost per report interval and interarrival jitter, giving the numbers an
//!   RTCP reception report block carries.
//!
//! Nothing here allocates.

pub mod jitter;
pub mod rtcp;

/// Length of the fixed RTP header, without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// The only RTP version in use (RFC 3550 §5.1).
pub const VERSION: u8 = 2;

/// Why a datagram is not a well-formed RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Fewer octets than the fixed header.
    #[error("RTP packet shorter than the 12-octet header: {0} octets")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("unsupported RTP version {0}")]
    Version(u8),
    /// The CSRC list runs past the end of the datagram.
    #[error("RTP CSRC list ({0} entries) runs past the end of the packet")]
    Csrc(u8),
    /// The header extension (or its 4-octet preamble) runs past the end of the datagram.
    #[error("RTP header extension runs past the end of the packet")]
    Extension,
    /// The padding count is 0 or larger than what follows the header.
    #[error("invalid RTP padding count {0}")]
    Padding(u8),
}

/// The fields of an RTP header that matter once parsed.
///
/// The padding, extension and CSRC-count bits are consumed by [`RtpPacket::parse`] and not
/// kept; [`RtpHeader::write`] always writes them as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    /// 7-bit payload type; the top bit is ignored when writing.
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

impl RtpHeader {
    /// Writes the 12-octet header (version 2, no padding, no extension, no CSRC) at the start
    /// of `out` and returns the number of octets written ([`HEADER_LEN`]).
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn write(&self, out: &mut [u8]) -> usize {
        let out = &mut out[..HEADER_LEN];
        out[0] = VERSION << 6;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        out[2..4].copy_from_slice(&self.seq.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        HEADER_LEN
    }
}

/// Namespace for RTP packet parsing; a parsed packet is a header plus a borrowed payload.
#[derive(Debug)]
pub struct RtpPacket;

impl RtpPacket {
    /// Parses one RTP datagram, returning its header and its payload (a sub-slice of
    /// `packet` without CSRCs, header extension or padding).
    pub fn parse(packet: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
        if packet.len() < HEADER_LEN {
            return Err(RtpError::TooShort(packet.len()));
        }
        let version = packet[0] >> 6;
        if version != VERSION {
            return Err(RtpError::Version(version));
        }
        let padding = packet[0] & 0x20 != 0;
        let extension = packet[0] & 0x10 != 0;
        let csrc_count = packet[0] & 0x0F;
        let header = RtpHeader {
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7F,
            seq: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        };

        let mut start = HEADER_LEN + 4 * usize::from(csrc_count);
        if start > packet.len() {
            return Err(RtpError::Csrc(csrc_count));
        }
        if extension {
            // 16 profile-defined bits, then the length in 32-bit words excluding this preamble.
            let preamble = packet.get(start..start + 4).ok_or(RtpError::Extension)?;
            let words = usize::from(u16::from_be_bytes([preamble[2], preamble[3]]));
            start += 4 + 4 * words;
            if start > packet.len() {
                return Err(RtpError::Extension);
            }
        }
        let mut end = packet.len();
        if padding {
            // The last octet counts the padding octets, itself included.
            let count = packet[end - 1];
            if count == 0 || usize::from(count) > end - start {
                return Err(RtpError::Padding(count));
            }
            end -= usize::from(count);
        }
        Ok((header, &packet[start..end]))
    }
}

/// Sequence numbers per cycle.
const SEQ_MOD: u64 = 1 << 16;
/// Largest forward jump still taken as loss rather than a restart (A.1).
const MAX_DROPOUT: u16 = 3000;
/// Largest backward step still taken as reordering or duplication (A.1).
const MAX_MISORDER: u16 = 100;
/// Bounds of the 24-bit signed "cumulative number of packets lost" field (RFC 3550 §6.4.1).
const LOST_MIN: i64 = -(1 << 23);
const LOST_MAX: i64 = (1 << 23) - 1;

/// What an RTCP reception report block says about one source, from
/// [`ReceiverStats::take_report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceptionReport {
    /// Fraction of the packets expected since the previous report that were lost, as an
    /// 8-bit fixed-point number (lost × 256 / expected); 0 when none were lost or when
    /// duplicates outnumber the losses.
    pub fraction_lost: u8,
    /// Expected minus received since the start (or last restart), clamped to the 24-bit
    /// signed range; negative when duplicates outnumber losses.
    pub cumulative_lost: i32,
    /// Sequence-number cycles in the high 16 bits, highest sequence number in the low 16.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units, rounded to the nearest integer.
    pub jitter: u32,
}

/// Reception statistics for one synchronization source (RFC 3550 Appendix A.1, A.3, A.8).
///
/// Create it when the first packet of a source arrives, then feed *every* packet, that
/// first one included, to [`on_packet`](Self::on_packet).
///
/// * A forward jump of less than 3000 is loss; a backward step of at most 100 is reordering
///   or a duplicate. Any other jump is held back: it is dropped unless the next packet
///   follows it, in which case the source is taken to have restarted and the statistics
///   start over from there (A.1's `bad_seq` rule). The A.1 probation of brand-new sources is
///   not applied: the source is assumed valid from its first packet.
/// * As in the RFC, duplicates are counted as received, so the cumulative loss can go
///   negative.
/// * Jitter follows A.8, `J += (|D| − J) / 16`, computed in `f64` timestamp units rather
///   than with the RFC's scaled integers, so it is the exact value of the recurrence. It is
///   updated for every packet that [`on_packet`](Self::on_packet) accepts, in arrival order.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    /// Highest sequence number seen.
    max_seq: u16,
    /// Number of wraps of `max_seq`.
    cycles: u64,
    /// First sequence number of the current run; expected counts from here.
    base_seq: u16,
    /// After a suspicious jump: the sequence number that would confirm a restart.
    bad_seq: Option<u16>,
    /// Packets accepted, duplicates included.
    received: u64,
    /// `expected()` and `received` at the previous report.
    expected_prior: i64,
    received_prior: u64,
    /// Relative transit time of the previous packet, once there is one.
    last_transit: Option<u32>,
    jitter: f64,
}

impl ReceiverStats {
    /// Statistics for a source whose first packet has sequence number `first_seq`.
    pub fn new(first_seq: u16) -> ReceiverStats {
        ReceiverStats {
            max_seq: first_seq,
            cycles: 0,
            base_seq: first_seq,
            bad_seq: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            last_transit: None,
            jitter: 0.0,
        }
    }

    /// Starts over at `seq` (A.1 `init_seq`), after a confirmed restart.
    fn restart(&mut self, seq: u16) {
        *self = ReceiverStats::new(seq);
    }

    /// Records one packet: its sequence number, RTP timestamp and arrival time expressed in
    /// the same timestamp units (any origin; only differences matter, and all three wrap).
    ///
    /// Returns `false` when the packet was held back as the first of a large jump (not
    /// counted, no jitter update), `true` otherwise.
    pub fn on_packet(&mut self, seq: u16, timestamp: u32, arrival: u32) -> bool {
        let delta = seq.wrapping_sub(self.max_seq);
        if delta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1;
            }
            self.max_seq = seq;
        } else if delta <= u16::MAX - MAX_MISORDER {
            if self.bad_seq == Some(seq) {
                self.restart(seq);
            } else {
                self.bad_seq = Some(seq.wrapping_add(1));
                return false;
            }
        }
        // Otherwise a duplicate or a reordered packet: counted, max unchanged.
        self.received += 1;

        let transit = arrival.wrapping_sub(timestamp);
        if let Some(last) = self.last_transit {
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs();
            self.jitter += (f64::from(d) - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
        true
    }

    /// Extended highest sequence number: cycles × 65536 + highest sequence number.
    pub fn extended_highest_seq(&self) -> u64 {
        self.cycles * SEQ_MOD + u64::from(self.max_seq)
    }

    /// Packets expected since the start (or the last restart).
    pub fn expected(&self) -> i64 {
        self.extended_highest_seq() as i64 - i64::from(self.base_seq) + 1
    }

    /// Packets received since the start (or the last restart), duplicates included.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Expected minus received, unclamped; negative when duplicates outnumber losses.
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() - self.received as i64
    }

    /// Current interarrival jitter in timestamp units.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The values of a reception report block; starts a new interval for the fraction lost
    /// (A.3).
    pub fn take_report(&mut self) -> ReceptionReport {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval - received_interval as i64;
        let fraction_lost = if expected_interval <= 0 || lost_interval <= 0 {
            0
        } else {
            // lost_interval <= expected_interval, so this fits in 8 bits except when all
            // were lost (256), which the field cannot hold.
            ((lost_interval << 8) / expected_interval).min(255) as u8
        };
        ReceptionReport {
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(LOST_MIN, LOST_MAX) as i32,
            extended_highest_seq: self.extended_highest_seq() as u32,
            jitter: self.jitter.round() as u32,
        }
    }
}

#[cfg(test)]
mod tests;
