//! One RTP stream (one leg's media) as a shard holds it: what was negotiated, where to send,
//! the latched source, reception statistics, the DTMF receiver, the jitter buffer that feeds
//! recording and mixing, the outgoing stream's rewriting state and what it currently sends
//! (nothing, the other leg's packets, a prompt, a mix). The receive path is a pure function
//! of the stream and the datagram; the shard does the socket I/O around it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use super::lost::LostCount;
use super::rewrite::OutStream;
use super::StreamId;
use crate::media::dtmf::{Digit, DtmfReceiver, DtmfSender, DtmfSenderConfig};
use crate::media::g711;
use crate::media::prompt::Player;
use crate::media::recorder::RecordingSink;
use crate::media::rtp::jitter::{JitterBuffer, JitterConfig};
use crate::media::rtp::rtcp::RtcpSession;
use crate::media::rtp::{ReceiverStats, RtpHeader, RtpPacket};
use crate::media::sdp::{MediaParams, G711};

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// Largest G.711 payload accepted in one packet (60 ms).
pub const MAX_PAYLOAD: usize = 480;

/// What a stream sends.
pub enum Output {
    Silence,
    /// The packets this other stream (same shard, by slot) receives, relayed as they arrive.
    Relay(usize),
    Player(Box<Player>),
    /// The sum of what these streams receive, one frame per tick.
    Mix(Vec<usize>),
}

/// Packet counters shown per call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub rx_packets: u64,
    pub rx_octets: u64,
    /// Datagrams from an address other than the latched one (dropped).
    pub rx_foreign: u64,
    pub rx_malformed: u64,
    /// Payload types we did not negotiate (comfort noise, video, …): dropped.
    pub rx_other: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub dtmf_digits: u64,
}

/// A digit being sent with RFC 4733.
pub struct DtmfOut {
    pub sender: DtmfSender,
    /// Digits still to send after this one.
    pub queue: VecDeque<Digit>,
    pub started: Instant,
    pub first: bool,
}

pub struct Stream {
    pub id: StreamId,
    pub port: u16,
    pub media: Option<MediaParams>,
    pub latched: Option<SocketAddr>,
    pub rtcp_latched: Option<SocketAddr>,
    /// The remote source's SSRC and reception statistics.
    pub rx: Option<(u32, ReceiverStats)>,
    /// Packets lost in reception as a count that never goes down (for `/metrics`).
    pub lost: LostCount,
    pub started: Instant,
    /// When the current negotiation took effect (the RTP timeout counts from here).
    pub rx_baseline: Instant,
    pub last_rx: Option<Instant>,
    pub counters: Counters,
    pub dtmf: DtmfReceiver,
    pub dtmf_out: Option<DtmfOut>,
    pub jitter: JitterBuffer,
    /// Someone consumes this stream's audio frame by frame (recording, mixing).
    pub tapped: bool,
    pub frame_in: [i16; FRAME_SAMPLES],
    pub frame_out: [i16; FRAME_SAMPLES],
    /// frame_out holds this tick's output (player or mix).
    pub frame_out_valid: bool,
    pub out: OutStream,
    pub output: Output,
    /// The slot whose output relays this stream's packets.
    pub forward_to: Option<usize>,
    /// The bridge a prompt interrupted, resumed when the prompt ends.
    pub resume_relay: Option<usize>,
    /// Token of the prompt playing (or last played).
    pub play_token: u64,
    pub recording: Option<RecordingSink>,
    pub rtcp: RtcpSession,
    /// Told the control side that no RTP arrives any more.
    pub timeout_reported: bool,
}

/// What a received datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    Drop,
    Audio {
        header: RtpHeader,
        codec: G711,
        payload: &'a [u8],
    },
    Dtmf {
        header: RtpHeader,
        payload: &'a [u8],
        started: Option<Digit>,
    },
}

impl Stream {
    pub fn new(id: StreamId, port: u16, jitter: JitterConfig, now: Instant, seed: u64) -> Stream {
        let ssrc = (seed >> 32) as u32 ^ seed as u32;
        Stream {
            id,
            port,
            media: None,
            latched: None,
            rtcp_latched: None,
            rx: None,
            lost: LostCount::default(),
            started: now,
            rx_baseline: now,
            last_rx: None,
            counters: Counters::default(),
            dtmf: DtmfReceiver::default(),
            dtmf_out: None,
            jitter: JitterBuffer::new(jitter),
            tapped: false,
            frame_in: [0; FRAME_SAMPLES],
            frame_out: [0; FRAME_SAMPLES],
            frame_out_valid: false,
            out: OutStream::new(ssrc, (seed >> 16) as u16, (seed >> 8) as u32),
            output: Output::Silence,
            forward_to: None,
            resume_relay: None,
            play_token: 0,
            recording: None,
            rtcp: RtcpSession::new(ssrc, "hotline", now, seed),
            timeout_reported: false,
        }
    }

    /// New negotiated parameters (answer, re-INVITE): the latch is released so that a peer
    /// that moved is followed.
    pub fn configure(&mut self, params: MediaParams, now: Instant) {
        self.latched = None;
        self.rtcp_latched = None;
        self.media = Some(params);
        // The RTP timeout counts from now: a call resumed after a long hold, or answered after
        // a long ring, is not dropped before the peer's first packet.
        self.rx_baseline = now;
        self.timeout_reported = false;
    }

    /// No RTP for longer than `timeout` on a stream that sends and receives (a held stream
    /// may be silent for as long as the hold lasts).
    pub fn rtp_timed_out(&self, now: Instant, timeout: std::time::Duration) -> bool {
        let Some(m) = &self.media else { return false };
        m.direction == crate::media::sdp::Direction::SendRecv
            && !self.timeout_reported
            && now.saturating_duration_since(
                self.last_rx
                    .unwrap_or(self.rx_baseline)
                    .max(self.rx_baseline),
            ) > timeout
    }

    /// Where RTP goes: the latched source, else the address from SDP.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latched
            .or_else(|| self.media.as_ref().and_then(|m| m.remote_rtp))
    }

    /// Where RTCP goes: where the peer's RTCP comes from; else, while RTP comes from where SDP
    /// said, the SDP's RTCP address (`a=rtcp` or port + 1); else (NAT) next to the latched
    /// RTP source.
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
        let sdp = self.media.as_ref();
        self.rtcp_latched.or_else(|| match self.latched {
            Some(a) if Some(a) != sdp.and_then(|m| m.remote_rtp) => {
                Some(SocketAddr::new(a.ip(), a.port().wrapping_add(1)))
            }
            _ => sdp.and_then(|m| m.remote_rtcp),
        })
    }

    /// Whether we may send now (negotiated, has a destination, direction allows).
    pub fn sends(&self) -> bool {
        self.media.as_ref().is_some_and(|m| m.direction.sends()) && self.destination().is_some()
    }

    pub fn codec(&self) -> G711 {
        self.media.as_ref().map(|m| m.codec).unwrap_or(G711::Pcmu)
    }

    pub fn dtmf_pt(&self) -> Option<u8> {
        self.media.as_ref().and_then(|m| m.dtmf_pt)
    }

    pub fn rx_view(&self) -> Option<&ReceiverStats> {
        self.rx.as_ref().map(|(_, r)| r)
    }

    /// Processes one datagram from `src` that arrived at `now` (`arrival` in 8 kHz units
    /// since the stream started, for jitter). `scratch` holds decoded samples.
    pub fn receive<'a>(
        &mut self,
        data: &'a [u8],
        src: SocketAddr,
        now: Instant,
        scratch: &mut [i16; MAX_PAYLOAD],
    ) -> Received<'a> {
        if self.media.is_none() || self.latched.is_some_and(|a| a != src) {
            self.counters.rx_foreign += 1;
            return Received::Drop;
        }
        let Ok((header, payload)) = RtpPacket::parse(data) else {
            self.counters.rx_malformed += 1;
            return Received::Drop;
        };
        if self.latched.is_none() {
            // Symmetric RTP: the peer is where its first valid packet of a negotiated payload
            // type came from (NAT); a stray or malformed datagram does not capture the stream.
            let pt = header.payload_type;
            let ours = pt == g711::PAYLOAD_TYPE_PCMU
                || pt == g711::PAYLOAD_TYPE_PCMA
                || Some(pt) == self.dtmf_pt();
            if !ours {
                self.counters.rx_other += 1;
                return Received::Drop;
            }
            self.latched = Some(src);
        }
        self.counters.rx_packets += 1;
        self.counters.rx_octets += payload.len() as u64;
        self.last_rx = Some(now);
        self.timeout_reported = false;
        let arrival =
            (now.saturating_duration_since(self.started).as_micros() as u64 * 8 / 1000) as u32;
        match &mut self.rx {
            Some((ssrc, stats)) if *ssrc == header.ssrc => {
                stats.on_packet(header.seq, header.timestamp, arrival);
            }
            rx => {
                let mut stats = ReceiverStats::new(header.seq);
                stats.on_packet(header.seq, header.timestamp, arrival);
                if let Some((_, old)) = rx {
                    self.lost.source_changed(old.cumulative_lost());
                    self.dtmf.reset();
                }
                *rx = Some((header.ssrc, stats));
            }
        }
        if Some(header.payload_type) == self.dtmf_pt() {
            let started =
                self.dtmf
                    .on_packet(header.timestamp, header.seq, header.marker, payload, now);
            if started.is_some() {
                self.counters.dtmf_digits += 1;
            }
            return Received::Dtmf {
                header,
                payload,
                started,
            };
        }
        let codec = match header.payload_type {
            g711::PAYLOAD_TYPE_PCMU => G711::Pcmu,
            g711::PAYLOAD_TYPE_PCMA => G711::Pcma,
            _ => {
                self.counters.rx_other += 1;
                return Received::Drop;
            }
        };
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            self.counters.rx_malformed += 1;
            return Received::Drop;
        }
        if self.tapped {
            let n = payload.len();
            match codec {
                G711::Pcmu => g711::decode_ulaw(payload, &mut scratch[..n]),
                G711::Pcma => g711::decode_alaw(payload, &mut scratch[..n]),
            };
            self.jitter
                .push(header.seq, header.timestamp, &scratch[..n]);
        }
        Received::Audio {
            header,
            codec,
            payload,
        }
    }
}

/// Writes `payload` (in codec `from`) into `out` in codec `to`; returns its length.
pub fn transcode(from: G711, to: G711, payload: &[u8], out: &mut [u8]) -> usize {
    let n = payload.len().min(out.len());
    match (from, to) {
        (a, b) if a == b => out[..n].copy_from_slice(&payload[..n]),
        (G711::Pcmu, _) => {
            g711::transcode_ulaw_to_alaw(&payload[..n], &mut out[..n]);
        }
        (G711::Pcma, _) => {
            g711::transcode_alaw_to_ulaw(&payload[..n], &mut out[..n]);
        }
    }
    n
}

/// Encodes one frame of linear samples into `out` in `codec`.
pub fn encode(codec: G711, samples: &[i16], out: &mut [u8]) -> usize {
    match codec {
        G711::Pcmu => g711::encode_ulaw(samples, out),
        G711::Pcma => g711::encode_alaw(samples, out),
    }
}

/// Default telephone-event sender settings (20 ms updates, three end packets).
pub fn dtmf_sender_config() -> DtmfSenderConfig {
    DtmfSenderConfig::default()
}
