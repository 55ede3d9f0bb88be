//! Typed views of the headers the signalling layer reads: Via, name-addr headers (From, To,
//! Contact, Route, Record-Route, Refer-To, P-Asserted-Identity) and CSeq. Parsed on demand from
//! the stored text, tolerant of the linear white space RFC 3261 allows around separators.

use std::fmt;
use std::net::IpAddr;

use super::params::{fmt_params, parse_params, quoted_end, skip_ws, Params};
use super::uri::{split_hostport, Uri};
use super::Method;

/// One Via header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, `WS`, … upper-cased.
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn parse(s: &str) -> Result<Via, &'static str> {
        let b = s.as_bytes();
        let mut parts = Vec::with_capacity(3);
        let mut i = skip_ws(b, 0);
        for n in 0..3 {
            let st = i;
            while i < b.len() && super::params::is_token_char(b[i]) {
                i += 1;
            }
            if i == st {
                return Err("bad sent-protocol");
            }
            parts.push(&s[st..i]);
            i = skip_ws(b, i);
            if n < 2 {
                if i >= b.len() || b[i] != b'/' {
                    return Err("bad sent-protocol");
                }
                i = skip_ws(b, i + 1);
            }
        }
        if !parts[0].eq_ignore_ascii_case("SIP") {
            return Err("protocol is not SIP");
        }
        let rest = &s[i..];
        let end = rest.find(';').unwrap_or(rest.len());
        let sent_by = sent_by_text(&rest[..end])?;
        let (host, port) = split_hostport(&sent_by).map_err(|e| e.0)?;
        let params = parse_params(&rest[end..]).map_err(|e| e.0)?;
        if let Some(branch) = params.get("branch") {
            if branch.is_none_or(str::is_empty) {
                return Err("empty branch");
            }
        }
        if let Some(received) = params.get("received") {
            received.and_then(parse_received).ok_or("bad received")?;
        }
        if let Some(Some(rport)) = params.get("rport") {
            parse_port(rport).ok_or("bad rport")?;
        }
        Ok(Via {
            transport: parts[2].to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// RFC 3261 magic cookie: the branch identifies the transaction on its own.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter (RFC 3261 §18.2.1) as an address. An IPv6 address is accepted
    /// with or without brackets (RFC 5118 §4.5).
    pub fn received(&self) -> Option<IpAddr> {
        self.params
            .get("received")
            .flatten()
            .and_then(parse_received)
    }

    /// The `rport` parameter (RFC 3581): `None` when absent, `Some(None)` when present without a
    /// value (a request asking for it), `Some(Some(port))` once a server has filled it in.
    pub fn rport(&self) -> Option<Option<u16>> {
        match self.params.get("rport")? {
            None => Some(None),
            Some(p) => parse_port(p).map(Some),
        }
    }

    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.sent_by())?;
        fmt_params(f, &self.params)
    }
}

/// The sent-by text between the protocol and the parameters: `host [ ":" port ]`, with the
/// linear white space RFC 3261's `COLON` allows around the colon and none elsewhere.
fn sent_by_text(s: &str) -> Result<String, &'static str> {
    let s = s.trim_matches([' ', '\t']);
    if s.is_empty() {
        return Err("missing sent-by");
    }
    const WS: [char; 2] = [' ', '\t'];
    let colon = match s.find(']') {
        Some(close) if s.starts_with('[') => s[close..].find(':').map(|c| close + c),
        _ => s.find(':'),
    };
    let joined = match colon {
        Some(c) => format!(
            "{}:{}",
            s[..c].trim_end_matches(WS),
            s[c + 1..].trim_start_matches(WS)
        ),
        None => s.to_string(),
    };
    if joined.contains(WS) {
        return Err("white space inside sent-by");
    }
    Ok(joined)
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An IPv4 or IPv6 address, the latter with or without brackets.
fn parse_received(s: &str) -> Option<IpAddr> {
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = bare.parse() {
        return Some(ip);
    }
    super::uri::parse_ipv6_tolerant(bare).map(IpAddr::V6)
}

/// `["display"] <uri> ;params` or `uri ;params` (From, To, Contact, Route, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name, unquoted and unescaped.
    pub display: Option<String>,
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, …), not URI parameters.
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Params::default(),
        }
    }

    pub fn parse(s: &str) -> Result<NameAddr, &'static str> {
        let s = s.trim();
        let b = s.as_bytes();
        let (display, rest) = if b.first() == Some(&b'"') {
            let end = quoted_end(b, 0).ok_or("unterminated quoted display name")?;
            let display = unquote(&s[..end]);
            let rest = s[end..].trim_start();
            if !rest.starts_with('<') {
                return Err("display name without <URI>");
            }
            (Some(display), rest)
        } else if let Some(lt) = s.find('<') {
            let d = s[..lt].trim();
            if d.contains(['"', ',', ';', '>', '@', ':']) {
                return Err("bad display name");
            }
            let display =
                (!d.is_empty()).then(|| d.split_whitespace().collect::<Vec<_>>().join(" "));
            (display, &s[lt..])
        } else {
            (None, s)
        };
        if let Some(inner) = rest.strip_prefix('<') {
            let gt = inner.find('>').ok_or("unterminated <URI>")?;
            let uri = Uri::parse(&inner[..gt]).map_err(|e| e.0)?;
            let params = parse_params(&inner[gt + 1..]).map_err(|e| e.0)?;
            Ok(NameAddr {
                display,
                uri,
                params,
            })
        } else {
            // addr-spec form: the URI cannot carry ';', ',' or '?' (they would be ambiguous);
            // parameters after it belong to the header.
            let end = rest.find(';').unwrap_or(rest.len());
            let spec = rest[..end].trim_end();
            if spec.contains([',', '?', ' ', '\t', '>']) {
                return Err("URI with ',', '?' or spaces must be enclosed in <>");
            }
            let uri = Uri::parse(spec).map_err(|e| e.0)?;
            let params = parse_params(&rest[end..]).map_err(|e| e.0)?;
            Ok(NameAddr {
                display: None,
                uri,
                params,
            })
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            f.write_str("\"")?;
            for c in d.chars() {
                match c {
                    // CR and LF cannot be escaped (RFC 3261 quoted-pair) and would end the line.
                    '\r' | '\n' => f.write_str(" ")?,
                    '"' | '\\' | '\0'..='\x1f' | '\x7f' => write!(f, "\\{c}")?,
                    _ => write!(f, "{c}")?,
                }
            }
            f.write_str("\" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        fmt_params(f, &self.params)
    }
}

/// Removes the quotes and backslash escapes of a quoted-string.
pub fn unquote(q: &str) -> String {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(q);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// CSeq: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq, &'static str> {
        let mut it = s.split_whitespace();
        let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
            return Err("expected '<number> <method>'");
        };
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err("sequence number is not a number");
        }
        let n = n.trim_start_matches('0');
        if n.len() > 10 {
            return Err("sequence number must be below 2^31");
        }
        // RFC 3261 §8.1.1.5: less than 2**31.
        let seq: u64 = n.parse().unwrap_or(0);
        if seq >= 1 << 31 {
            return Err("sequence number must be below 2^31");
        }
        if !super::params::is_token(m) {
            return Err("bad method");
        }
        Ok(CSeq {
            seq: seq as u32,
            method: Method::parse(m),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// A Contact header's content: `*` (REGISTER unregister-all) or a list of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contacts {
    Star,
    List(Vec<NameAddr>),
}

/// Parses a decimal delta-seconds value (Expires, Min-Expires, Max-Forwards, …) up to u32::MAX.
pub fn parse_delta(s: &str) -> Result<u32, &'static str> {
    let s = s.trim_matches([' ', '\t']);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a number");
    }
    let s = s.trim_start_matches('0');
    if s.len() > 10 {
        return Err("number too large");
    }
    s.parse::<u64>()
        .unwrap_or(0)
        .try_into()
        .map_err(|_| "number too large")
}
