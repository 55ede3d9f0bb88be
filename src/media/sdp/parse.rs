//! A tolerant RFC 4566 session-description parser: owns the parsed model
//! ([`SessionDescription`], [`MediaDescription`]) and the parse errors ([`SdpError`]).
//!
//! Tolerance is deliberate, because offers come from carriers' SBCs and every kind of softphone:
//! LF-only line ends, trailing or leading whitespace, blank lines, lines in an unusual order before
//! the first `m=`, a missing `o=`, `s=` or `t=`, unknown line types and unknown or malformed
//! attributes are all accepted (the latter ignored). What cannot be understood safely is an error
//! naming the line: a first line that is not `v=0`, a line that is not `<letter>=<value>`, and a
//! malformed `c=` or `m=` line. Nothing here panics, whatever the input.

use std::net::IpAddr;

use super::Direction;

/// Largest body accepted (a SIP message over UDP cannot be larger anyway).
pub const MAX_SDP_LEN: usize = 64 * 1024;

/// Why a session description could not be parsed. `line` numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body is larger than [`MAX_SDP_LEN`].
    #[error("SDP body of {0} bytes is larger than the {MAX_SDP_LEN} accepted")]
    TooLarge(usize),
    /// The body is empty or only whitespace.
    #[error("empty SDP body")]
    Empty,
    /// The first line is not `v=0`.
    #[error("line {line}: SDP must start with v=0")]
    BadVersion { line: usize },
    /// A line that is not `<letter>=<value>`.
    #[error("line {line}: not a <type>=<value> SDP line")]
    BadLine { line: usize },
    /// A line that must be read is not UTF-8.
    #[error("line {line}: not UTF-8")]
    NotUtf8 { line: usize },
    /// A `c=` line that is not `IN IP4|IP6 <ip-address>[/ttl]`.
    #[error("line {line}: malformed c= line (expected IN IP4|IP6 <ip-address>)")]
    BadConnection { line: usize },
    /// An `m=` line that is not `<media> <port>[/<count>] <proto> <fmt>...`.
    #[error("line {line}: malformed m= line (expected <media> <port> <proto> <fmt>...)")]
    BadMedia { line: usize },
    /// A media stream without a connection address, at neither session nor media level.
    #[error("m= line {media} has no c= line, at session or media level")]
    MissingConnection { media: usize },
}

/// A parsed session description: the parts hotline's offer/answer uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDescription {
    /// The `o=` line's fields, if present.
    pub origin: Option<Origin>,
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute (`a=sendrecv` …), applying to every stream that has none.
    pub direction: Option<Direction>,
    /// Session-level `a=ptime:`, used when a stream has none.
    pub ptime: Option<u32>,
    /// The `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

/// The `o=` line, kept as text (hotline only compares it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub version: String,
    /// The address as written (may be a host name).
    pub address: String,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type as written (`audio`, `video`, `image` …).
    pub media: String,
    /// Transport port; 0 means the stream is rejected/disabled.
    pub port: u16,
    /// Transport protocol as written (`RTP/AVP`, `RTP/SAVP`, `udptl` …).
    pub proto: String,
    /// The format list as written (payload type numbers for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=` address (overrides the session level).
    pub connection: Option<IpAddr>,
    /// `a=rtpmap:` lines that could be read.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=ptime:` in milliseconds, if readable.
    pub ptime: Option<u32>,
    /// `a=rtcp:` port and optional address (RFC 3605), if readable.
    pub rtcp: Option<(u16, Option<IpAddr>)>,
    /// Media-level direction attribute.
    pub direction: Option<Direction>,
}

/// One `a=rtpmap:<pt> <name>/<clock>[/<channels>]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    /// Encoding name as written (compare case-insensitively).
    pub encoding: String,
    pub clock_rate: u32,
}

impl MediaDescription {
    /// The RTP payload types of the format list, in order (non-numeric formats skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse::<u8>().ok())
    }

    /// The rtpmap for a payload type, if one was given.
    pub fn rtpmap(&self, pt: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == pt)
    }

    /// Whether this is an audio stream (media type compared case-insensitively).
    pub fn is_audio(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio")
    }
}

impl SessionDescription {
    /// Parses a body. See the module documentation for what is tolerated.
    pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
        if body.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge(body.len()));
        }
        let mut sd = SessionDescription::default();
        let mut seen_version = false;
        for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let raw = raw.trim_ascii();
            if raw.is_empty() {
                continue;
            }
            if raw.len() < 2 || !raw[0].is_ascii_lowercase() || raw[1] != b'=' {
                return Err(if seen_version {
                    SdpError::BadLine { line }
                } else {
                    SdpError::BadVersion { line }
                });
            }
            let kind = raw[0];
            if !seen_version {
                if kind != b'v' || raw[2..].trim_ascii() != b"0" {
                    return Err(SdpError::BadVersion { line });
                }
                seen_version = true;
                continue;
            }
            // Only the lines hotline reads need to be UTF-8 (s=, i= … may be in any charset).
            if !matches!(kind, b'o' | b'c' | b'm' | b'a') {
                continue;
            }
            let value = std::str::from_utf8(&raw[2..])
                .map_err(|_| SdpError::NotUtf8 { line })?
                .trim();
            match kind {
                b'o' => sd.origin = parse_origin(value),
                b'c' => {
                    let addr = parse_connection(value).ok_or(SdpError::BadConnection { line })?;
                    match sd.media.last_mut() {
                        Some(m) => m.connection = Some(addr),
                        None => sd.connection = Some(addr),
                    }
                }
                b'm' => sd
                    .media
                    .push(parse_media(value).ok_or(SdpError::BadMedia { line })?),
                _ => sd.apply_attribute(value),
            }
        }
        if !seen_version {
            return Err(SdpError::Empty);
        }
        Ok(sd)
    }

    /// Applies one `a=` value to the current section; unknown or unreadable ones are ignored.
    fn apply_attribute(&mut self, value: &str) {
        let (name, arg) = match value.split_once(':') {
            Some((n, a)) => (n.trim(), a.trim()),
            None => (value, ""),
        };
        if let Some(direction) = Direction::from_attribute(name) {
            match self.media.last_mut() {
                Some(m) => m.direction = Some(direction),
                None => self.direction = Some(direction),
            }
            return;
        }
        if name.eq_ignore_ascii_case("ptime") {
            let ptime = arg.parse::<u32>().ok();
            match self.media.last_mut() {
                Some(m) => m.ptime = ptime,
                None => self.ptime = ptime,
            }
            return;
        }
        let Some(m) = self.media.last_mut() else {
            return;
        };
        if name.eq_ignore_ascii_case("rtpmap") {
            if let Some(map) = parse_rtpmap(arg) {
                m.rtpmaps.push(map);
            }
        } else if name.eq_ignore_ascii_case("rtcp") {
            m.rtcp = parse_rtcp(arg);
        }
    }
}

fn parse_origin(value: &str) -> Option<Origin> {
    let mut it = value.split_ascii_whitespace();
    let username = it.next()?.to_owned();
    let session_id = it.next()?.to_owned();
    let version = it.next()?.to_owned();
    let _net = it.next()?;
    let _addr_type = it.next()?;
    let address = it.next()?.to_owned();
    Some(Origin {
        username,
        session_id,
        version,
        address,
    })
}

/// `IN IP4|IP6 <address>[/ttl[/count]]`; the address must be an IP literal.
fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut it = value.split_ascii_whitespace();
    if !it.next()?.eq_ignore_ascii_case("IN") {
        return None;
    }
    let addr_type = it.next()?;
    if !addr_type.eq_ignore_ascii_case("IP4") && !addr_type.eq_ignore_ascii_case("IP6") {
        return None;
    }
    let addr = it.next()?;
    let addr = addr.split('/').next()?;
    addr.parse().ok()
}

/// `<media> <port>[/<count>] <proto> <fmt>...`; every field must be visible ASCII (they are
/// echoed into rejected m-lines of an answer).
fn parse_media(value: &str) -> Option<MediaDescription> {
    if !value
        .split_ascii_whitespace()
        .all(|t| t.bytes().all(|b| b.is_ascii_graphic()))
    {
        return None;
    }
    let mut it = value.split_ascii_whitespace();
    let media = it.next()?.to_owned();
    let port = it.next()?;
    let port = port.split('/').next()?.parse::<u16>().ok()?;
    let proto = it.next()?.to_owned();
    Some(MediaDescription {
        media,
        port,
        proto,
        formats: it.map(str::to_owned).collect(),
        connection: None,
        rtpmaps: Vec::new(),
        ptime: None,
        rtcp: None,
        direction: None,
    })
}

/// `<pt> <name>/<clock>[/<channels>]`
fn parse_rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, rest) = arg.split_once(|c: char| c.is_ascii_whitespace())?;
    let payload_type = pt.parse::<u8>().ok().filter(|pt| *pt < 128)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.trim().to_owned();
    let clock_rate = parts.next()?.trim().parse::<u32>().ok()?;
    if encoding.is_empty() {
        return None;
    }
    Some(RtpMap {
        payload_type,
        encoding,
        clock_rate,
    })
}

/// `<port> [IN IP4|IP6 <address>]` (RFC 3605).
fn parse_rtcp(arg: &str) -> Option<(u16, Option<IpAddr>)> {
    let (port, rest) = match arg.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((p, r)) => (p, r.trim()),
        None => (arg, ""),
    };
    let port = port.parse::<u16>().ok()?;
    if rest.is_empty() {
        return Some((port, None));
    }
    Some((port, Some(parse_connection(rest)?)))
}
