//! Framing and parsing: a UDP datagram holds one message (trailing octets beyond Content-Length
//! are ignored, RFC 3261 §18.3); a stream (TCP, later TLS) is cut into messages by
//! Content-Length, with double-CRLF keep-alives (RFC 5626 §3.5.1) recognised between them.

use super::params::is_token;
use super::{canonical_name, Header, Message, Method, StartLine, Uri};

/// Largest message accepted on any transport (head and body).
pub const MAX_MESSAGE_SIZE: usize = 65_535;

/// Why bytes could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("bad start line: {0}")]
    StartLine(&'static str),
    #[error("bad header line: {0}")]
    HeaderSyntax(&'static str),
    #[error("cannot frame message: {0}")]
    Framing(&'static str),
}

/// Parses one datagram.
pub fn parse_datagram(buf: &[u8]) -> Result<Message, ParseError> {
    if buf.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError::TooLarge(MAX_MESSAGE_SIZE));
    }
    let buf = skip_leading_crlf(buf);
    let head_end =
        find_head_end(buf, 0).ok_or(ParseError::Framing("header section not terminated"))?;
    let (start, headers) = parse_head(&buf[..head_end.0])?;
    let rest = &buf[head_end.1..];
    let body = match content_length(&headers)? {
        Some(n) if n > rest.len() => {
            return Err(ParseError::Framing(
                "Content-Length larger than the message",
            ))
        }
        Some(n) => rest[..n].to_vec(),
        None => rest.to_vec(),
    };
    Ok(Message {
        start,
        headers,
        body,
    })
}

/// What a stream yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Message(Box<Message>),
    /// A double-CRLF keep-alive ping; answer with a single CRLF (pong).
    Ping,
}

/// Cuts a byte stream into messages.
///
/// The header section is searched for incrementally and, once found, parsed only once while
/// the body arrives, so a peer trickling bytes one at a time costs linear work, not quadratic.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    max: usize,
    /// Offset from which the search for the end of the header section resumes.
    scanned: usize,
    /// The parsed head of the message whose body is still arriving.
    head: Option<PendingHead>,
}

#[derive(Debug)]
struct PendingHead {
    start: StartLine,
    headers: Vec<Header>,
    body_start: usize,
    total: usize,
}

impl Default for StreamFramer {
    fn default() -> Self {
        StreamFramer::new(MAX_MESSAGE_SIZE)
    }
}

impl StreamFramer {
    pub fn new(max: usize) -> StreamFramer {
        StreamFramer {
            buf: Vec::with_capacity(4096),
            max,
            scanned: 0,
            head: None,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held that do not yet form a message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed. An error means the
    /// stream cannot be resynchronised and should be closed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ParseError> {
        if self.head.is_none() {
            if let Some(ping) = self.between_messages() {
                return Ok(ping);
            }
            let Some((head_len, body_start)) = find_head_end(&self.buf, self.scanned) else {
                if self.buf.len() > self.max {
                    return Err(ParseError::TooLarge(self.max));
                }
                // The terminator may straddle the next push: resume a little before the end.
                self.scanned = self.buf.len().saturating_sub(2);
                return Ok(None);
            };
            let (start, headers) = parse_head(&self.buf[..head_len])?;
            let len = content_length(&headers)?.unwrap_or(0);
            let total = body_start
                .checked_add(len)
                .ok_or(ParseError::Framing("Content-Length too large"))?;
            if total > self.max {
                return Err(ParseError::TooLarge(self.max));
            }
            self.head = Some(PendingHead {
                start,
                headers,
                body_start,
                total,
            });
        }
        let Some(head) = self.head.take_if(|h| h.total <= self.buf.len()) else {
            return Ok(None);
        };
        let body = self.buf[head.body_start..head.total].to_vec();
        self.buf.drain(..head.total);
        self.scanned = 0;
        Ok(Some(Frame::Message(Box::new(Message {
            start: head.start,
            headers: head.headers,
            body,
        }))))
    }

    /// Handles what may come between messages: a CRLFCRLF ping (returned), a lone CRLF or LF
    /// (dropped), or the first bytes of a ping (`Some(None)`: wait for the rest).
    fn between_messages(&mut self) -> Option<Option<Frame>> {
        const PING: &[u8] = b"\r\n\r\n";
        loop {
            if self.buf.starts_with(PING) {
                self.buf.drain(..PING.len());
                self.scanned = 0;
                return Some(Some(Frame::Ping));
            }
            if !self.buf.is_empty() && PING.starts_with(&self.buf) {
                return Some(None);
            }
            let stray = match self.buf.as_slice() {
                [b'\r', b'\n', ..] => 2,
                [b'\n', ..] => 1,
                _ => return None,
            };
            self.buf.drain(..stray);
            self.scanned = 0;
        }
    }
}

fn skip_leading_crlf(mut b: &[u8]) -> &[u8] {
    while let Some(rest) = b.strip_prefix(b"\r\n").or_else(|| b.strip_prefix(b"\n")) {
        b = rest;
    }
    b
}

/// (end of the last header line, start of the body): the first blank line at or after `from`.
fn find_head_end(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(off) = b.get(i..)?.iter().position(|&c| c == b'\n') {
        i += off;
        if b.get(i + 1) == Some(&b'\n') {
            return Some((i, i + 2));
        }
        if b.get(i + 1..i + 3) == Some(b"\r\n") {
            return Some((i, i + 3));
        }
        i += 1;
    }
    None
}

const SP_HT: [char; 2] = [' ', '\t'];

fn parse_head(head: &[u8]) -> Result<(StartLine, Vec<Header>), ParseError> {
    let first_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let first = std::str::from_utf8(&head[..first_end])
        .map_err(|_| ParseError::StartLine("start line is not UTF-8"))?;
    let start = parse_start_line(first.strip_suffix('\r').unwrap_or(first))?;
    let rest = head.get(first_end + 1..).unwrap_or_default();
    let text = std::str::from_utf8(rest)
        .map_err(|_| ParseError::HeaderSyntax("header section is not UTF-8"))?;
    let mut headers: Vec<Header> = Vec::with_capacity(16);
    if text.is_empty() {
        return Ok((start, headers));
    }
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.starts_with(SP_HT) {
            let last = headers.last_mut().ok_or(ParseError::HeaderSyntax(
                "continuation line before any header",
            ))?;
            let more = line.trim_matches(SP_HT);
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        if let Some(last) = headers.last() {
            check_value(&last.value)?;
        }
        let colon = line
            .find(':')
            .ok_or(ParseError::HeaderSyntax("header line without ':'"))?;
        let name = line[..colon].trim_end_matches(SP_HT);
        if !is_token(name) {
            return Err(ParseError::HeaderSyntax("bad header name"));
        }
        headers.push(Header {
            name: canonical_name(name).into_owned(),
            value: line[colon + 1..].trim_matches(SP_HT).to_string(),
        });
    }
    if let Some(last) = headers.last() {
        check_value(&last.value)?;
    }
    Ok((start, headers))
}

/// A header value (continuations folded) may hold a control character only as a quoted-pair
/// inside a quoted string (RFC 3261 §25.1: `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)`);
/// RFC 4475's `intmeth` carries escaped BEL, NUL and DEL in a display name.
fn check_value(value: &str) -> Result<(), ParseError> {
    let b = value.as_bytes();
    let (mut i, mut quoted) = (0, false);
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            // quoted-pair excludes CR and LF: an escaped CR is still a bare CR.
            b'\\' if quoted && !matches!(b.get(i + 1), Some(b'\r' | b'\n')) => i += 1,
            c if (c < b' ' && c != b'\t') || c == 0x7f => {
                return Err(ParseError::HeaderSyntax("control character in header"))
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let mut it = line.splitn(3, ' ');
        let version = it.next().unwrap_or_default();
        let code = it
            .next()
            .ok_or(ParseError::StartLine("missing status code"))?;
        let reason = it.next().unwrap_or_default();
        if !is_version(version) {
            return Err(ParseError::StartLine("bad SIP version"));
        }
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::StartLine("status code must be three digits"));
        }
        let code: u16 = code
            .parse()
            .map_err(|_| ParseError::StartLine("bad status code"))?;
        if !(100..=699).contains(&code) {
            return Err(ParseError::StartLine("status code out of range"));
        }
        if reason.bytes().any(|b| b < b' ' && b != b'\t') {
            return Err(ParseError::StartLine("control character in reason phrase"));
        }
        return Ok(StartLine::Response {
            version: version.to_string(),
            code,
            reason: reason.to_string(),
        });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(ParseError::StartLine(
            "request line must be 'METHOD SP Request-URI SP SIP-Version'",
        ));
    }
    if !is_token(parts[0]) {
        return Err(ParseError::StartLine("bad method"));
    }
    if parts[1].starts_with('<') {
        return Err(ParseError::StartLine(
            "Request-URI must not be enclosed in <>",
        ));
    }
    let uri = Uri::parse(parts[1]).map_err(|_| ParseError::StartLine("bad Request-URI"))?;
    if !is_version(parts[2]) {
        return Err(ParseError::StartLine("bad SIP version"));
    }
    Ok(StartLine::Request {
        method: Method::parse(parts[0]),
        uri,
        version: parts[2].to_string(),
    })
}

/// `SIP/<digits>.<digits>` (any version frames; validation answers 505 for non-2.0).
fn is_version(v: &str) -> bool {
    let Some(rest) = v
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .map(|_| &v[4..])
    else {
        return false;
    };
    let mut it = rest.split('.');
    matches!((it.next(), it.next(), it.next()), (Some(a), Some(b), None)
        if !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
}

fn content_length(headers: &[Header]) -> Result<Option<usize>, ParseError> {
    let mut found: Option<usize> = None;
    for h in headers.iter().filter(|h| h.name == "Content-Length") {
        if found.is_some() || h.value.contains(',') {
            return Err(ParseError::Framing("more than one Content-Length"));
        }
        let v = h.value.as_str();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Framing(
                "Content-Length is not a non-negative number",
            ));
        }
        // Leading zeros are legal (`0068`); more than nine significant digits is never a
        // length this server could hold.
        let digits = v.trim_start_matches('0');
        if digits.len() > 9 {
            return Err(ParseError::Framing("Content-Length too large"));
        }
        found = Some(digits.parse().unwrap_or(0));
    }
    Ok(found)
}
