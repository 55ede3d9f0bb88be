//! SIP and other URIs (RFC 3261 §19.1, §25.1): `sip:`/`sips:` parsed into parts, any other scheme
//! (`tel:`, `mailto:`, unknown ones) kept as scheme + opaque text.

use std::fmt;

use super::params::{fmt_params, parse_params, Params};

/// A URI as found in a Request-URI, From/To/Contact/Route or a Via-less header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    /// Any scheme other than sip/sips, e.g. `tel:+8612345`; `scheme` is lower-cased.
    Other {
        scheme: String,
        rest: String,
    },
}

/// A `sip:` or `sips:` URI. The user part is kept as received (escapes not decoded) so that it
/// writes back unchanged; [`SipUri::user_decoded`] gives the decoded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Host name (lower-cased), IPv4 address, or IPv6 reference with its brackets.
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
    /// The `?…` part without the `?`, as received.
    pub headers: Option<String>,
}

/// Why a URI could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad URI: {0}")]
pub struct UriError(pub &'static str);

impl Uri {
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        let colon = s.find(':').ok_or(UriError("no scheme"))?;
        let scheme = &s[..colon];
        let rest = &s[colon + 1..];
        if scheme.is_empty()
            || !scheme.as_bytes()[0].is_ascii_alphabetic()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(UriError("bad scheme"));
        }
        if rest.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UriError("whitespace or control character"));
        }
        let lower = scheme.to_ascii_lowercase();
        match lower.as_str() {
            "sip" | "sips" => Ok(Uri::Sip(SipUri::parse_after_scheme(rest, lower == "sips")?)),
            _ => {
                if rest.is_empty() {
                    return Err(UriError("empty URI after scheme"));
                }
                Ok(Uri::Other {
                    scheme: lower,
                    rest: rest.to_string(),
                })
            }
        }
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other { .. } => None,
        }
    }

    /// The dialled number or user: the user part of a sip URI, or the number of a `tel:` URI
    /// (without its parameters), decoded.
    pub fn user_or_number(&self) -> Option<String> {
        match self {
            Uri::Sip(u) => u.user_decoded(),
            Uri::Other { scheme, rest } if scheme == "tel" => {
                Some(rest.split(';').next().unwrap_or_default().to_string())
            }
            Uri::Other { .. } => None,
        }
    }
}

impl SipUri {
    /// A plain `sip:user@host[:port]` URI.
    pub fn new(user: Option<&str>, host: &str, port: Option<u16>) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(str::to_string),
            password: None,
            host: host.to_string(),
            port,
            params: Params::default(),
            headers: None,
        }
    }

    fn parse_after_scheme(s: &str, secure: bool) -> Result<SipUri, UriError> {
        if s.is_empty() {
            return Err(UriError("empty sip URI"));
        }
        // userinfo ends at the only '@' that may appear unescaped (user and password grammar
        // have no '@'; params and headers have none either).
        let (userinfo, hostpart) = match s.find('@') {
            Some(at) => (Some(&s[..at]), &s[at + 1..]),
            None => (None, s),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                // The user part may hold ';' and '?' (RFC 3261 user-unreserved), the password
                // follows the first ':'.
                let (u, p) = match ui.find(':') {
                    Some(c) => (&ui[..c], Some(ui[c + 1..].to_string())),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(UriError("empty user part"));
                }
                check_escapes(u)?;
                (Some(u.to_string()), p)
            }
        };
        let (hostport, after) = match hostpart.find([';', '?']) {
            Some(i) => (&hostpart[..i], &hostpart[i..]),
            None => (hostpart, ""),
        };
        let (host, port) = split_hostport(hostport)?;
        let (param_text, headers) = match after.find('?') {
            Some(q) => (&after[..q], Some(after[q + 1..].to_string())),
            None => (after, None),
        };
        let params = if param_text.is_empty() {
            Params::default()
        } else {
            parse_params(param_text).map_err(|_| UriError("bad URI parameter"))?
        };
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// The user part with %-escapes decoded (escaped NULs and invalid UTF-8 give `None`).
    pub fn user_decoded(&self) -> Option<String> {
        let u = self.user.as_deref()?;
        let decoded = percent_decode(u)?;
        if decoded.contains('\0') {
            return None;
        }
        Some(decoded)
    }

    /// `host[:port]` as written in a URI.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// The `transport` URI parameter, lower-cased.
    pub fn transport(&self) -> Option<String> {
        self.params
            .get("transport")
            .flatten()
            .map(|t| t.to_ascii_lowercase())
    }
}

/// Splits `host[:port]`, accepting IPv6 references in brackets.
pub(crate) fn split_hostport(s: &str) -> Result<(String, Option<u16>), UriError> {
    let (host, port_text) = if let Some(rest) = s.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or(UriError("unterminated IPv6 reference"))?;
        let addr = &rest[..close];
        if parse_ipv6_tolerant(addr).is_none() {
            return Err(UriError("bad IPv6 address"));
        }
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or(UriError("junk after IPv6 reference"))?,
            ),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (h, p) = match s.rfind(':') {
            Some(c) => (&s[..c], Some(&s[c + 1..])),
            None => (s, None),
        };
        if h.is_empty() {
            return Err(UriError("empty host"));
        }
        if !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(UriError("bad host"));
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port_text {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UriError("bad port"));
            }
            Some(
                p.parse::<u16>()
                    .map_err(|_| UriError("port out of range"))?,
            )
        }
    };
    Ok((host, port))
}

/// An IPv6 address, also in the form RFC 3261's ABNF (inherited from RFC 2373) allows and
/// RFC 4291 does not: three colons before an embedded IPv4 address, `2001:db8:::192.0.2.1`.
/// RFC 5118 §4.10 asks implementations to tolerate both; the text is kept as received.
pub fn parse_ipv6_tolerant(s: &str) -> Option<std::net::Ipv6Addr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    let pos = s.rfind(":::")?;
    let v4 = &s[pos + 3..];
    v4.parse::<std::net::Ipv4Addr>().ok()?;
    format!("{}{}", &s[..pos + 2], v4).parse().ok()
}

fn check_escapes(s: &str) -> Result<(), UriError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return Err(UriError("bad %-escape in user part"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Decodes %-escapes; `None` for a malformed escape or a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        fmt_params(f, &self.params)?;
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}
