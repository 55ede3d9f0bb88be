//! SDP offer/answer (RFC 4566 session descriptions, RFC 3264 offer/answer) for hotline's G.711
//! media: PCMU (static payload type 0) and PCMA (8) at 8000 Hz plus RFC 4733
//! `telephone-event/8000` on a dynamic payload type. Pure functions, no I/O.
//!
//! * [`answer`] answers a peer's offer: one audio stream is accepted with the offerer's preferred
//!   codec among ours, every other `m=` line is rejected with port 0 (RFC 3264 §6).
//! * [`offer`] builds hotline's offer (also for hold/resume re-INVITEs), [`accept_answer`] reads
//!   the peer's answer to it.
//! * [`NegotiationError`] says why an offer or answer is refused; the SIP layer turns it into
//!   `488 Not Acceptable Here` with [`NegotiationError::reason`] and
//!   [`NegotiationError::warning_code`].
//!
//! Parsing is tolerant (see [`parse`]); everything rendered uses CRLF line ends, `s=hotline`,
//! `c=` at session level and `t=0 0`. A codec is recognised by its static payload type only
//! (0 or 8, with or without an rtpmap); PCMU/PCMA offered on a dynamic payload type is not used.

pub mod parse;

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

pub use parse::{MediaDescription, SdpError, SessionDescription};

/// Packetisation time used when the peer gives none or an unusable one, and the one we ask for.
pub const DEFAULT_PTIME_MS: u32 = 20;

/// The telephone-events we support (RFC 4733: the sixteen DTMF events).
const DTMF_EVENTS: &str = "0-15";

/// A G.711 law, identified on the wire by its static RTP payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G711 {
    /// µ-law, payload type 0.
    Pcmu,
    /// A-law, payload type 8.
    Pcma,
}

impl G711 {
    /// The static RTP payload type: 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            G711::Pcmu => 0,
            G711::Pcma => 8,
        }
    }

    /// The rtpmap encoding name: `PCMU` or `PCMA`.
    pub fn name(self) -> &'static str {
        match self {
            G711::Pcmu => "PCMU",
            G711::Pcma => "PCMA",
        }
    }

    /// The law for a static payload type (0 or 8).
    pub fn from_payload_type(pt: u8) -> Option<G711> {
        match pt {
            0 => Some(G711::Pcmu),
            8 => Some(G711::Pcma),
            _ => None,
        }
    }
}

/// A stream's direction (RFC 3264 §5.1), always from the point of view of the side that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction seen from the other side: sendonly ↔ recvonly, the others unchanged.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    /// Whether media is sent (sendrecv, sendonly).
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether media is received (sendrecv, recvonly).
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The SDP attribute name: `sendrecv`, `sendonly`, `recvonly` or `inactive`.
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction for an attribute name (case-insensitive), `None` for other attributes.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| name.eq_ignore_ascii_case(d.attribute()))
    }

    fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// What both allow: sends only if both send, receives only if both receive.
    fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }
}

/// What we know about the remote side of one audio stream after negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaParams {
    /// Where to send RTP; `None` when the peer put the stream on hold with `c=0.0.0.0` (or `::`).
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP: `a=rtcp:` if given, else RTP port + 1 (`None` when `remote_rtp` is).
    pub remote_rtcp: Option<SocketAddr>,
    /// Codec, and so the payload type to send with (always 0/8).
    pub codec: G711,
    /// telephone-event payload type to send/expect, if both sides support it.
    pub dtmf_pt: Option<u8>,
    /// Packetisation time we send with (ms): the peer's `a=ptime` if 10..=60 and a multiple of
    /// 10, else 20.
    pub ptime_ms: u32,
    /// Direction from OUR point of view after negotiation (peer offered sendonly = they hold us,
    /// so we are recvonly).
    pub direction: Direction,
}

/// Our side of a stream, used to build offers and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Goes into `o=` and `c=`.
    pub addr: IpAddr,
    /// RTP port (even); RTCP is port + 1 (no `a=rtcp` is written).
    pub port: u16,
    /// `o=` sess-id.
    pub session_id: u64,
    /// `o=` sess-version; the caller increments it for each new offer/answer that changes.
    pub version: u64,
    /// Our codecs in preference order; empty means `[Pcmu, Pcma]`.
    pub codecs: Vec<G711>,
    /// Payload type we offer for telephone-event (101 normally; should be 96..=127).
    pub dtmf_pt: u8,
    /// What we want: SendRecv normally, SendOnly when we put the peer on hold.
    pub direction: Direction,
}

impl LocalMedia {
    /// `codecs` without duplicates, `[Pcmu, Pcma]` when empty.
    fn codec_list(&self) -> Vec<G711> {
        let mut list: Vec<G711> = Vec::with_capacity(2);
        for &c in &self.codecs {
            if !list.contains(&c) {
                list.push(c);
            }
        }
        if list.is_empty() {
            list = vec![G711::Pcmu, G711::Pcma];
        }
        list
    }
}

/// Why an offer or answer cannot be accepted (the SIP layer answers 488 Not Acceptable Here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// The body is not a readable session description.
    #[error("malformed SDP: {0}")]
    Malformed(#[from] SdpError),
    /// No audio stream at all (or every audio stream already disabled with port 0).
    #[error("no audio stream")]
    NoAudio,
    /// Audio offered/answered, but neither PCMU nor PCMA among our codecs.
    #[error("no common codec (hotline supports PCMU and PCMA only)")]
    NoCommonCodec,
    /// Audio only on a transport profile we do not speak (e.g. `RTP/SAVP`).
    #[error("unsupported media transport {0} (RTP/AVP only)")]
    Unsupported(String),
    /// The peer's answer rejected our audio stream (port 0).
    #[error("audio stream rejected by the answer")]
    Rejected,
}

impl NegotiationError {
    /// Text for the 488 reason phrase / Warning header.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// The RFC 3261 §20.43 warning code matching the error (for `Warning: <code> <host> "…"`).
    pub fn warning_code(&self) -> u16 {
        match self {
            NegotiationError::Malformed(_) => 399,
            NegotiationError::NoAudio | NegotiationError::Rejected => 304,
            NegotiationError::NoCommonCodec => 305,
            NegotiationError::Unsupported(_) => 302,
        }
    }
}

/// Whether a body content type is SDP (`application/sdp`, case-insensitive, parameters ignored).
pub fn is_sdp(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("");
    mime.trim().eq_ignore_ascii_case("application/sdp")
}

/// Whether a transport profile is plain RTP (`RTP/AVP` or `RTP/AVPF`).
fn is_plain_rtp(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF")
}

/// The payload type of an 8 kHz telephone-event among the stream's formats.
fn telephone_event_pt(m: &MediaDescription) -> Option<u8> {
    m.payload_types().find(|&pt| {
        G711::from_payload_type(pt).is_none()
            && m.rtpmap(pt).is_some_and(|map| {
                map.encoding.eq_ignore_ascii_case("telephone-event") && map.clock_rate == 8000
            })
    })
}

/// The first format of `m` that is one of `codecs` (static payload types only).
fn first_common_codec(m: &MediaDescription, codecs: &[G711]) -> Option<G711> {
    m.payload_types()
        .filter_map(G711::from_payload_type)
        .find(|c| codecs.contains(c))
}

/// Remote addresses, codec-independent parameters and the peer's direction of one stream.
fn remote_params(
    sd: &SessionDescription,
    index: usize,
    local: Direction,
    codec: G711,
) -> Result<MediaParams, NegotiationError> {
    let m = &sd.media[index];
    let ip = m
        .connection
        .or(sd.connection)
        .ok_or(SdpError::MissingConnection { media: index + 1 })?;
    let mut peer = m.direction.or(sd.direction).unwrap_or_default();
    let (remote_rtp, remote_rtcp) = if ip.is_unspecified() {
        // Old-style hold (RFC 3264 §8.4): the peer does not want to receive.
        peer = Direction::from_flags(peer.sends(), false);
        (None, None)
    } else {
        let rtcp = match m.rtcp {
            Some((port, addr)) => Some(SocketAddr::new(addr.unwrap_or(ip), port)),
            None => m.port.checked_add(1).map(|p| SocketAddr::new(ip, p)),
        };
        (Some(SocketAddr::new(ip, m.port)), rtcp)
    };
    let ptime_ms = match m.ptime.or(sd.ptime) {
        Some(p) if (10..=60).contains(&p) && p % 10 == 0 => p,
        _ => DEFAULT_PTIME_MS,
    };
    Ok(MediaParams {
        remote_rtp,
        remote_rtcp,
        codec,
        dtmf_pt: telephone_event_pt(m),
        ptime_ms,
        direction: local.intersect(peer.reverse()),
    })
}

/// Answer an offer (RFC 3264 §6): same number of m-lines in the same order; the first
/// acceptable audio stream (RTP/AVP or RTP/AVPF with a common codec) is accepted with the first
/// codec of the OFFER's order that we support (`local.codecs` filters), telephone-event kept
/// with the offerer's PT when offered; all other m-lines are rejected with port 0.
///
/// Direction: ours = `local.direction` combined with the reverse of the offered direction;
/// old-style hold `c=0.0.0.0` counts as sendonly from the peer, with `remote_rtp` None.
pub fn answer(
    offer: &[u8],
    local: &LocalMedia,
) -> Result<(Vec<u8>, MediaParams), NegotiationError> {
    let sd = SessionDescription::parse(offer)?;
    let codecs = local.codec_list();
    let mut unsupported: Option<&str> = None;
    let mut audio_seen = false;
    let mut chosen = None;
    for (i, m) in sd.media.iter().enumerate() {
        if !m.is_audio() || m.port == 0 {
            continue;
        }
        if !is_plain_rtp(&m.proto) {
            unsupported.get_or_insert(&m.proto);
            continue;
        }
        audio_seen = true;
        if let Some(codec) = first_common_codec(m, &codecs) {
            chosen = Some((i, codec));
            break;
        }
    }
    let Some((index, codec)) = chosen else {
        return Err(if audio_seen {
            NegotiationError::NoCommonCodec
        } else if let Some(proto) = unsupported {
            NegotiationError::Unsupported(proto.to_owned())
        } else {
            NegotiationError::NoAudio
        });
    };
    let params = remote_params(&sd, index, local.direction, codec)?;

    let mut out = session_header(local);
    for (i, m) in sd.media.iter().enumerate() {
        if i != index {
            let formats = if m.formats.is_empty() {
                " 0".to_owned()
            } else {
                m.formats.iter().fold(String::new(), |s, f| s + " " + f)
            };
            let _ = write!(out, "m={} 0 {}{}\r\n", m.media, m.proto, formats);
            continue;
        }
        let dtmf = params.dtmf_pt;
        write_audio(
            &mut out,
            local.port,
            &m.proto,
            &[codec],
            dtmf,
            params.direction,
        );
    }
    Ok((out.into_bytes(), params))
}

/// Our offer (also for re-INVITEs to hold/resume: the same `session_id`, `version + 1`,
/// direction SendOnly/SendRecv): one audio m-line with `local.codecs` in order,
/// telephone-event, `a=ptime:20` and the direction attribute.
pub fn offer(local: &LocalMedia) -> Vec<u8> {
    let mut out = session_header(local);
    let codecs = local.codec_list();
    write_audio(
        &mut out,
        local.port,
        "RTP/AVP",
        &codecs,
        Some(local.dtmf_pt),
        local.direction,
    );
    out.into_bytes()
}

/// The peer's answer to `offer(local)`: the codec is the first in the answer's audio m-line that
/// we offered. An answer without audio, with port 0 on audio or without a common codec is an
/// error.
pub fn accept_answer(answer: &[u8], local: &LocalMedia) -> Result<MediaParams, NegotiationError> {
    let sd = SessionDescription::parse(answer)?;
    let index = sd
        .media
        .iter()
        .position(MediaDescription::is_audio)
        .ok_or(NegotiationError::NoAudio)?;
    let m = &sd.media[index];
    if m.port == 0 {
        return Err(NegotiationError::Rejected);
    }
    if !is_plain_rtp(&m.proto) {
        return Err(NegotiationError::Unsupported(m.proto.clone()));
    }
    let codec =
        first_common_codec(m, &local.codec_list()).ok_or(NegotiationError::NoCommonCodec)?;
    remote_params(&sd, index, local.direction, codec)
}

/// `v=` … `t=` with our origin and session-level connection.
fn session_header(local: &LocalMedia) -> String {
    let ip = match local.addr {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    };
    format!(
        "v=0\r\no=hotline {sid} {ver} IN {ip} {addr}\r\ns=hotline\r\nc=IN {ip} {addr}\r\nt=0 0\r\n",
        sid = local.session_id,
        ver = local.version,
        addr = local.addr,
    )
}

/// One accepted audio m-line with its attributes.
fn write_audio(
    out: &mut String,
    port: u16,
    proto: &str,
    codecs: &[G711],
    dtmf_pt: Option<u8>,
    direction: Direction,
) {
    let _ = write!(out, "m=audio {port} {proto}");
    for c in codecs {
        let _ = write!(out, " {}", c.payload_type());
    }
    if let Some(pt) = dtmf_pt {
        let _ = write!(out, " {pt}");
    }
    out.push_str("\r\n");
    for c in codecs {
        let _ = write!(out, "a=rtpmap:{} {}/8000\r\n", c.payload_type(), c.name());
    }
    if let Some(pt) = dtmf_pt {
        let _ = write!(out, "a=rtpmap:{pt} telephone-event/8000\r\n");
        let _ = write!(out, "a=fmtp:{pt} {DTMF_EVENTS}\r\n");
    }
    let _ = write!(out, "a=ptime:{DEFAULT_PTIME_MS}\r\n");
    let _ = write!(out, "a={}\r\n", direction.attribute());
}

#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod tests;
