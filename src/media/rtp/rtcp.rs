//! RTCP (RFC 3550 §6), sans-IO: writing and parsing the compound packets a two-party call
//! needs, and the per-stream report state that decides when to send them.
//!
//! * [`write_sr`], [`write_rr`] and [`write_bye`] write §6.1 compound packets — an SR or RR
//!   first, then an SDES with the CNAME, then (for a BYE) the BYE — into a caller buffer.
//! * [`parse`] reads a compound packet and keeps what the media engine uses: the sender info
//!   of an SR, the first [`MAX_REPORTS`] report blocks, and whether it carries a BYE. SDES,
//!   APP and feedback packets are skipped. Every length is bounds-checked, so malformed input
//!   is an [`RtcpError`], never a panic. A compound that does not start with an SR or RR is
//!   accepted (RFC 5506 reduced-size RTCP).
//! * [`RtcpSession`] counts what was sent, remembers the remote's last SR for the LSR/DLSR
//!   fields, reads the remote's reports about us (loss, jitter, round-trip time) and schedules
//!   reports every 5 s randomized by 0.5–1.5 (§6.3.1), half that before the first.
//! * [`ntp_from_unix`] and [`ntp_middle`] convert wall-clock time to the NTP formats of §4.
//!
//! The clock rate used to turn jitter into milliseconds is 8 kHz (G.711, [`CLOCK_RATE`]).
//! Nothing here allocates.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{ReceiverStats, VERSION};

/// Packet types (RFC 3550 §12.1).
pub const PT_SR: u8 = 200;
pub const PT_RR: u8 = 201;
pub const PT_SDES: u8 = 202;
pub const PT_BYE: u8 = 203;
/// SDES item type of the canonical name.
const SDES_CNAME: u8 = 1;

/// Report blocks [`parse`] keeps; a two-party call has one.
pub const MAX_REPORTS: usize = 4;
/// Octets of the session's CNAME that [`RtcpSession`] keeps.
pub const MAX_CNAME: usize = 32;
/// RTP clock rate assumed by [`RtcpFigures::remote_jitter_ms`].
pub const CLOCK_RATE: u32 = 8000;
/// Minimum report interval (§6.2); the first report uses half of it (§6.3.1).
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Length of a report block.
const BLOCK_LEN: usize = 24;
/// Length of the sender info of an SR.
const SENDER_INFO_LEN: usize = 20;
/// Bounds of the 24-bit signed cumulative-loss field.
const LOST_MIN: i32 = -(1 << 23);
const LOST_MAX: i32 = (1 << 23) - 1;

/// Sender information of an SR (§6.4.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// Wall-clock time of the report, NTP 32.32 fixed point.
    pub ntp: u64,
    /// The same instant in RTP timestamp units.
    pub rtp_ts: u32,
    /// RTP packets sent since the start of transmission.
    pub packets: u32,
    /// RTP payload octets sent since the start of transmission.
    pub octets: u32,
}

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block is about.
    pub ssrc: u32,
    /// Loss since the previous report, lost × 256 / expected.
    pub fraction_lost: u8,
    /// Cumulative loss, 24-bit signed (clamped when written).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR from that source, 0 if none.
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s, 0 if none.
    pub dlsr: u32,
}

/// What [`parse`] found in a compound packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rtcp {
    /// SSRC of the first SR or RR, the participant reporting.
    pub reporter: Option<u32>,
    /// SSRC and sender info of the first SR.
    pub sender: Option<(u32, SenderInfo)>,
    /// The first [`MAX_REPORTS`] report blocks, in order, from all SRs and RRs.
    pub reports: [Option<ReportBlock>; MAX_REPORTS],
    /// Report blocks in the compound, including those not kept.
    pub report_count: usize,
    /// The compound contains a BYE.
    pub bye: bool,
}

/// Why a datagram is not a well-formed RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// Fewer octets left than a 4-octet common header (0 for an empty datagram).
    #[error("RTCP packet shorter than its 4-octet header: {0} octets")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("unsupported RTCP version {0}")]
    Version(u8),
    /// The length field runs past the end of the datagram.
    #[error("RTCP length field says {declared} octets but only {available} remain")]
    Length { declared: usize, available: usize },
    /// An SR or RR is too short for its sender info and report blocks.
    #[error("RTCP packet type {packet_type} too short for its {count} report blocks")]
    Truncated { packet_type: u8, count: u8 },
    /// The padding count is 0 or larger than the packet's body.
    #[error("invalid RTCP padding count {0}")]
    Padding(u8),
    /// Padding on a packet other than the last of the compound (§6.4.1, A.2).
    #[error("RTCP padding on a packet that is not the last of the compound")]
    PaddingNotLast,
}

/// NTP 32.32 time (seconds since 1900 and a binary fraction) of a duration since the Unix
/// epoch; the seconds wrap in 2036 as the format does.
pub fn ntp_from_unix(d: Duration) -> u64 {
    let secs = d.as_secs().wrapping_add(NTP_UNIX_OFFSET) & 0xFFFF_FFFF;
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP time (16.16 fixed point), as in LSR and round-trip sums.
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Octets of an SR (`sr`) or RR with `blocks` report blocks.
fn report_len(sr: bool, blocks: usize) -> usize {
    8 + if sr { SENDER_INFO_LEN } else { 0 } + BLOCK_LEN * blocks
}

/// Octets of an SDES with one chunk holding a CNAME of `len` octets: SSRC, type, length,
/// text, then at least one null octet, padded to a 32-bit boundary.
fn sdes_len(len: usize) -> usize {
    4 + 4 + (2 + len + 1).div_ceil(4) * 4
}

/// A CNAME cut to what an SDES item can carry.
fn cname_bytes(cname: &str) -> &[u8] {
    let b = cname.as_bytes();
    &b[..b.len().min(255)]
}

/// Writes big-endian fields into a buffer whose size was checked beforehand.
struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Common header of a packet of `len` octets.
    fn header(&mut self, count: u8, packet_type: u8, len: usize) {
        let words = (len / 4 - 1) as u16;
        let w = words.to_be_bytes();
        self.bytes(&[(VERSION << 6) | (count & 0x1F), packet_type, w[0], w[1]]);
    }

    fn report(&mut self, ssrc: u32, info: Option<&SenderInfo>, block: Option<&ReportBlock>) {
        let len = report_len(info.is_some(), usize::from(block.is_some()));
        let pt = if info.is_some() { PT_SR } else { PT_RR };
        self.header(u8::from(block.is_some()), pt, len);
        self.u32(ssrc);
        if let Some(info) = info {
            self.u32((info.ntp >> 32) as u32);
            self.u32(info.ntp as u32);
            self.u32(info.rtp_ts);
            self.u32(info.packets);
            self.u32(info.octets);
        }
        if let Some(b) = block {
            self.u32(b.ssrc);
            let lost = b.cumulative_lost.clamp(LOST_MIN, LOST_MAX) as u32 & 0x00FF_FFFF;
            self.u32((u32::from(b.fraction_lost) << 24) | lost);
            self.u32(b.highest_seq);
            self.u32(b.jitter);
            self.u32(b.lsr);
            self.u32(b.dlsr);
        }
    }

    fn sdes(&mut self, ssrc: u32, cname: &[u8]) {
        let len = sdes_len(cname.len());
        self.header(1, PT_SDES, len);
        self.u32(ssrc);
        let items_end = self.pos + (len - 8);
        self.bytes(&[SDES_CNAME, cname.len() as u8]);
        self.bytes(cname);
        // The null item ending the list, then padding to the 32-bit boundary.
        self.out[self.pos..items_end].fill(0);
        self.pos = items_end;
    }

    fn bye(&mut self, ssrc: u32) {
        self.header(1, PT_BYE, 8);
        self.u32(ssrc);
    }
}

/// Writes a compound report (SR when `info` is given, else RR) followed by an SDES CNAME,
/// and a BYE if `bye`; returns its length, or 0 if `out` is too small.
fn write_compound(
    out: &mut [u8],
    ssrc: u32,
    info: Option<&SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &str,
    bye: bool,
) -> usize {
    let cname = cname_bytes(cname);
    let len = report_len(info.is_some(), usize::from(block.is_some()))
        + sdes_len(cname.len())
        + if bye { 8 } else { 0 };
    if out.len() < len {
        return 0;
    }
    let mut w = Writer { out, pos: 0 };
    w.report(ssrc, info, block);
    w.sdes(ssrc, cname);
    if bye {
        w.bye(ssrc);
    }
    debug_assert_eq!(w.pos, len);
    len
}

/// Writes an SR (with at most one report block) and an SDES CNAME into `out`; returns the
/// number of octets written, or 0 if `out` is too small. A CNAME over 255 octets is cut.
pub fn write_sr(
    out: &mut [u8],
    ssrc: u32,
    info: &SenderInfo,
    block: Option<&ReportBlock>,
    cname: &str,
) -> usize {
    write_compound(out, ssrc, Some(info), block, cname, false)
}

/// Writes an RR (with at most one report block) and an SDES CNAME into `out`; returns the
/// number of octets written, or 0 if `out` is too small.
pub fn write_rr(out: &mut [u8], ssrc: u32, block: Option<&ReportBlock>, cname: &str) -> usize {
    write_compound(out, ssrc, None, block, cname, false)
}

/// Writes an empty RR, an SDES CNAME and a BYE for `ssrc` (no reason text) into `out`;
/// returns the number of octets written, or 0 if `out` is too small.
pub fn write_bye(out: &mut [u8], ssrc: u32, cname: &str) -> usize {
    write_compound(out, ssrc, None, None, cname, true)
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn parse_block(b: &[u8]) -> ReportBlock {
    let lost = be32(b, 4);
    ReportBlock {
        ssrc: be32(b, 0),
        fraction_lost: (lost >> 24) as u8,
        // Sign-extend the 24-bit field.
        cumulative_lost: ((lost << 8) as i32) >> 8,
        highest_seq: be32(b, 8),
        jitter: be32(b, 12),
        lsr: be32(b, 16),
        dlsr: be32(b, 20),
    }
}

/// Parses a compound RTCP packet (or a single packet) and returns what the engine uses.
pub fn parse(buf: &[u8]) -> Result<Rtcp, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::TooShort(0));
    }
    let mut rtcp = Rtcp::default();
    let mut rest = buf;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError::TooShort(rest.len()));
        }
        let version = rest[0] >> 6;
        if version != VERSION {
            return Err(RtcpError::Version(version));
        }
        let padding = rest[0] & 0x20 != 0;
        let count = rest[0] & 0x1F;
        let packet_type = rest[1];
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if len > rest.len() {
            return Err(RtcpError::Length {
                declared: len,
                available: rest.len(),
            });
        }
        let (packet, tail) = rest.split_at(len);
        rest = tail;
        let mut end = len;
        if padding {
            if !rest.is_empty() {
                return Err(RtcpError::PaddingNotLast);
            }
            let pad = packet[len - 1];
            if pad == 0 || usize::from(pad) > len - 4 {
                return Err(RtcpError::Padding(pad));
            }
            end -= usize::from(pad);
        }
        let body = &packet[4..end];

        let sr = match packet_type {
            PT_SR => true,
            PT_RR => false,
            PT_BYE => {
                rtcp.bye = true;
                continue;
            }
            _ => continue,
        };
        let blocks_at = 4 + if sr { SENDER_INFO_LEN } else { 0 };
        if body.len() < blocks_at + BLOCK_LEN * usize::from(count) {
            return Err(RtcpError::Truncated { packet_type, count });
        }
        let ssrc = be32(body, 0);
        rtcp.reporter.get_or_insert(ssrc);
        if sr && rtcp.sender.is_none() {
            let info = SenderInfo {
                ntp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                rtp_ts: be32(body, 12),
                packets: be32(body, 16),
                octets: be32(body, 20),
            };
            rtcp.sender = Some((ssrc, info));
        }
        for block in body[blocks_at..]
            .chunks_exact(BLOCK_LEN)
            .take(usize::from(count))
        {
            if let Some(slot) = rtcp.reports.get_mut(rtcp.report_count) {
                *slot = Some(parse_block(block));
            }
            rtcp.report_count += 1;
        }
    }
    Ok(rtcp)
}

/// The per-call RTCP figures [`RtcpSession::figures`] shows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RtcpFigures {
    /// RTP packets and payload octets we sent.
    pub packets_sent: u64,
    pub octets_sent: u64,
    /// The remote's last report about us: fraction lost (0.0–1.0) in its last interval,
    /// cumulative loss, and interarrival jitter in milliseconds at [`CLOCK_RATE`].
    pub remote_fraction_lost: f64,
    pub remote_cumulative_lost: i32,
    pub remote_jitter_ms: f64,
    /// Round-trip time from the remote's last report carrying our LSR.
    pub rtt_ms: Option<f64>,
    /// Compound reports we built, and compound packets received.
    pub reports_sent: u64,
    pub reports_received: u64,
    /// The remote sent a BYE.
    pub remote_bye: bool,
}

/// RTCP state for one RTP stream we send and the one remote source we receive: counts,
/// report timing and the figures from the remote's reports. Time comes in as arguments.
#[derive(Debug, Clone)]
pub struct RtcpSession {
    ssrc: u32,
    cname: [u8; MAX_CNAME],
    cname_len: usize,
    rng: StdRng,
    next_report: Instant,
    /// Wrapping counts for the SR fields; the figures keep 64-bit ones.
    packets: u32,
    octets: u32,
    sent_since_report: bool,
    /// The remote's last SR: its SSRC, the middle of its NTP time, and when it arrived.
    last_sr: Option<(u32, u32, Instant)>,
    figures: RtcpFigures,
}

impl RtcpSession {
    /// State for our source `ssrc` with canonical name `cname` (cut to [`MAX_CNAME`] octets
    /// at a character boundary); the first report is due 1.25–3.75 s after `now`. `seed`
    /// makes the randomized intervals reproducible.
    pub fn new(ssrc: u32, cname: &str, now: Instant, seed: u64) -> RtcpSession {
        let mut len = cname.len().min(MAX_CNAME);
        while !cname.is_char_boundary(len) {
            len -= 1;
        }
        let mut stored = [0; MAX_CNAME];
        stored[..len].copy_from_slice(&cname.as_bytes()[..len]);
        let mut rng = StdRng::seed_from_u64(seed);
        let first = MIN_INTERVAL.mul_f64(rng.gen_range(0.5..1.5) / 2.0);
        RtcpSession {
            ssrc,
            cname: stored,
            cname_len: len,
            rng,
            next_report: now + first,
            packets: 0,
            octets: 0,
            sent_since_report: false,
            last_sr: None,
            figures: RtcpFigures::default(),
        }
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The stored CNAME.
    pub fn cname(&self) -> &str {
        // Cut at a character boundary in `new`, so always valid.
        std::str::from_utf8(&self.cname[..self.cname_len]).unwrap_or_default()
    }

    /// Records one RTP packet we sent with a payload of `payload_len` octets. The SR's RTP
    /// timestamp is taken from [`poll_transmit`](Self::poll_transmit)'s `rtp_ts_now`, so
    /// `_rtp_ts` is not needed for the report.
    pub fn on_rtp_sent(&mut self, _rtp_ts: u32, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.figures.packets_sent += 1;
        self.figures.octets_sent += payload_len as u64;
        self.sent_since_report = true;
    }

    /// Takes in a parsed compound packet received at `now` (`now_ntp` on the wall clock):
    /// remembers an SR for our next LSR/DLSR, reads the first report block about us (loss,
    /// jitter, and the round-trip time when it echoes one of our SRs), notes a BYE.
    pub fn on_rtcp(&mut self, rtcp: &Rtcp, now: Instant, now_ntp: u64) {
        self.figures.reports_received += 1;
        self.figures.remote_bye |= rtcp.bye;
        if let Some((ssrc, info)) = rtcp.sender {
            self.last_sr = Some((ssrc, ntp_middle(info.ntp), now));
        }
        let Some(block) = rtcp.reports.iter().flatten().find(|b| b.ssrc == self.ssrc) else {
            return;
        };
        self.figures.remote_fraction_lost = f64::from(block.fraction_lost) / 256.0;
        self.figures.remote_cumulative_lost = block.cumulative_lost;
        self.figures.remote_jitter_ms = f64::from(block.jitter) * 1000.0 / f64::from(CLOCK_RATE);
        if block.lsr != 0 {
            // RTT = A − LSR − DLSR in 1/65536 s (§6.4.1); a negative result is clock trouble.
            let rtt = ntp_middle(now_ntp)
                .wrapping_sub(block.lsr)
                .wrapping_sub(block.dlsr);
            if (rtt as i32) >= 0 {
                self.figures.rtt_ms = Some(f64::from(rtt) * 1000.0 / 65536.0);
            }
        }
    }

    /// When the next report is due.
    pub fn poll_timeout(&self) -> Instant {
        self.next_report
    }

    /// If a report is due at `now`, writes an SR (when we sent RTP since the last report) or
    /// an RR, with a report block from `stats` (the remote source's statistics: its SSRC and
    /// [`ReceiverStats::take_report`]) and our CNAME, into `out`; returns its length and
    /// schedules the next report 2.5–7.5 s later. Returns 0, consuming nothing, when no report
    /// is due or `out` is too small. `now_ntp` and `rtp_ts_now` are the current wall-clock
    /// time and the matching RTP timestamp of our stream, for the SR.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        now_ntp: u64,
        rtp_ts_now: u32,
        stats: Option<(u32, &mut ReceiverStats)>,
        out: &mut [u8],
    ) -> usize {
        if now < self.next_report {
            return 0;
        }
        let sr = self.sent_since_report;
        let needed = report_len(sr, usize::from(stats.is_some())) + sdes_len(self.cname_len);
        if out.len() < needed {
            return 0;
        }
        let block = stats.map(|(remote, stats)| {
            let report = stats.take_report();
            let (lsr, dlsr) = match self.last_sr {
                Some((ssrc, lsr, at)) if ssrc == remote => {
                    let delay = now.saturating_duration_since(at).as_secs_f64() * 65536.0;
                    (lsr, delay.min(f64::from(u32::MAX)) as u32)
                }
                _ => (0, 0),
            };
            ReportBlock {
                ssrc: remote,
                fraction_lost: report.fraction_lost,
                cumulative_lost: report.cumulative_lost,
                highest_seq: report.extended_highest_seq,
                jitter: report.jitter,
                lsr,
                dlsr,
            }
        });
        let info = SenderInfo {
            ntp: now_ntp,
            rtp_ts: rtp_ts_now,
            packets: self.packets,
            octets: self.octets,
        };
        let cname = self.cname();
        let len = if sr {
            write_sr(out, self.ssrc, &info, block.as_ref(), cname)
        } else {
            write_rr(out, self.ssrc, block.as_ref(), cname)
        };
        self.sent_since_report = false;
        self.figures.reports_sent += 1;
        self.next_report = now + MIN_INTERVAL.mul_f64(self.rng.gen_range(0.5..1.5));
        len
    }

    /// The figures so far.
    pub fn figures(&self) -> RtcpFigures {
        self.figures
    }
}

#[cfg(test)]
#[path = "rtcp_tests.rs"]
mod tests;
