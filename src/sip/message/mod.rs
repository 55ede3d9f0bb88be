//! The SIP message model (RFC 3261 §7, §20): a start line, an ordered list of headers kept as
//! text under their canonical names (compact forms expanded), and a body. Framing and parsing
//! live in [`parse`], typed header views in [`header`], URIs in [`uri`]. Project-owned rather
//! than rsip's; see docs/decisions.md ("SIP message parser").

mod build;
pub use build::{new_branch, new_call_id, new_tag, reason_phrase};
pub mod date;
pub mod header;
pub mod params;
pub mod parse;
pub mod uri;
mod validate;

use std::fmt;

pub use header::{CSeq, Contacts, NameAddr, Via};
pub use params::Params;
pub use parse::{parse_datagram, Frame, ParseError, StreamFramer, MAX_MESSAGE_SIZE};
pub use uri::{SipUri, Uri};

/// A SIP method. Extension methods are kept as [`Method::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Refer,
    Notify,
    Subscribe,
    Message,
    Prack,
    Publish,
    Other(String),
}

impl Method {
    /// Methods are case-sensitive (RFC 3261 §7.1): `invite` is an extension method.
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request line or status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: Method,
        uri: Uri,
        version: String,
    },
    Response {
        version: String,
        code: u16,
        reason: String,
    },
}

/// One header line (continuations folded into one space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Canonical spelling for known headers (`Via`, `Call-ID`, …), as received otherwise.
    pub name: String,
    pub value: String,
}

/// A parsed SIP request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

/// A header that is missing or whose value does not follow its grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{header}: {reason}")]
pub struct HeaderError {
    pub header: &'static str,
    pub reason: &'static str,
}

fn herr(header: &'static str, reason: &'static str) -> HeaderError {
    HeaderError { header, reason }
}

/// Compact forms (RFC 3261 §7.3.3 and later RFCs) and the canonical spelling of the headers
/// this server reads or writes. Anything else keeps the name it arrived with.
const NAMES: &[(&str, Option<&str>)] = &[
    ("Via", Some("v")),
    ("From", Some("f")),
    ("To", Some("t")),
    ("Call-ID", Some("i")),
    ("CSeq", None),
    ("Contact", Some("m")),
    ("Content-Length", Some("l")),
    ("Content-Type", Some("c")),
    ("Content-Encoding", Some("e")),
    ("Subject", Some("s")),
    ("Supported", Some("k")),
    ("Refer-To", Some("r")),
    ("Referred-By", Some("b")),
    ("Event", Some("o")),
    ("Allow-Events", Some("u")),
    ("Session-Expires", Some("x")),
    ("Accept-Contact", Some("a")),
    ("Reject-Contact", Some("j")),
    ("Request-Disposition", Some("d")),
    ("Identity", Some("y")),
    ("Max-Forwards", None),
    ("Route", None),
    ("Record-Route", None),
    ("Expires", None),
    ("Min-Expires", None),
    ("Min-SE", None),
    ("Authorization", None),
    ("Proxy-Authorization", None),
    ("WWW-Authenticate", None),
    ("Proxy-Authenticate", None),
    ("Authentication-Info", None),
    ("Allow", None),
    ("Accept", None),
    ("Require", None),
    ("Proxy-Require", None),
    ("Unsupported", None),
    ("User-Agent", None),
    ("Server", None),
    ("Retry-After", None),
    ("Reason", None),
    ("Date", None),
    ("Timestamp", None),
    ("Warning", None),
    ("P-Asserted-Identity", None),
    ("Replaces", None),
    ("Subscription-State", None),
];

/// The canonical name of a header, expanding compact forms.
pub fn canonical_name(name: &str) -> std::borrow::Cow<'static, str> {
    for (long, short) in NAMES {
        if long.eq_ignore_ascii_case(name) || short.is_some_and(|s| s.eq_ignore_ascii_case(name)) {
            return std::borrow::Cow::Borrowed(long);
        }
    }
    std::borrow::Cow::Owned(name.to_string())
}

impl Message {
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method (requests) or `None` (responses; see [`Message::cseq`]).
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn request_uri(&self) -> Option<&Uri> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The first value of a header (name in any case or compact form).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(&name))
            .map(|h| h.value.as_str())
    }

    /// All lines of a header, in order.
    pub fn header_lines<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = canonical_name(name).into_owned();
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(&name))
            .map(|h| h.value.as_str())
    }

    /// All comma-separated values of a list header across its lines.
    pub fn header_values<'a>(&'a self, name: &str) -> Vec<&'a str> {
        self.header_lines(name)
            .flat_map(params::split_commas)
            .collect()
    }

    /// Appends a header line.
    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push(Header {
            name: canonical_name(name).into_owned(),
            value: value.into(),
        });
    }

    /// Inserts a header line before all others (a new top Via, say).
    pub fn insert_header_first(&mut self, name: &str, value: impl Into<String>) {
        self.headers.insert(
            0,
            Header {
                name: canonical_name(name).into_owned(),
                value: value.into(),
            },
        );
    }

    /// Replaces every line of a header with one value (or adds it).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let name = canonical_name(name);
        let value = value.into();
        match self
            .headers
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(&name))
        {
            Some(pos) => {
                self.headers[pos].value = value;
                let mut idx = 0;
                self.headers.retain(|h| {
                    idx += 1;
                    idx - 1 == pos || !h.name.eq_ignore_ascii_case(&name)
                });
            }
            None => self.headers.push(Header {
                name: name.into_owned(),
                value,
            }),
        }
    }

    pub fn remove_header(&mut self, name: &str) {
        let name = canonical_name(name);
        self.headers.retain(|h| !h.name.eq_ignore_ascii_case(&name));
    }

    /// Every Via, top first.
    pub fn vias(&self) -> Result<Vec<Via>, HeaderError> {
        let vals = self.header_values("Via");
        if vals.is_empty() {
            return Err(herr("Via", "missing"));
        }
        vals.into_iter()
            .map(|v| Via::parse(v).map_err(|r| herr("Via", r)))
            .collect()
    }

    pub fn top_via(&self) -> Result<Via, HeaderError> {
        let first = self
            .header_values("Via")
            .into_iter()
            .next()
            .ok_or(herr("Via", "missing"))?;
        Via::parse(first).map_err(|r| herr("Via", r))
    }

    pub fn from(&self) -> Result<NameAddr, HeaderError> {
        self.name_addr("From")
    }

    pub fn to(&self) -> Result<NameAddr, HeaderError> {
        self.name_addr("To")
    }

    fn name_addr(&self, name: &'static str) -> Result<NameAddr, HeaderError> {
        let v = self.header(name).ok_or(herr(name, "missing"))?;
        NameAddr::parse(v).map_err(|r| herr(name, r))
    }

    pub fn call_id(&self) -> Result<&str, HeaderError> {
        let v = self.header("Call-ID").ok_or(herr("Call-ID", "missing"))?;
        let v = v.trim();
        if v.is_empty() || v.contains([' ', '\t']) {
            return Err(herr("Call-ID", "must be one word"));
        }
        Ok(v)
    }

    pub fn cseq(&self) -> Result<CSeq, HeaderError> {
        let v = self.header("CSeq").ok_or(herr("CSeq", "missing"))?;
        CSeq::parse(v).map_err(|r| herr("CSeq", r))
    }

    pub fn max_forwards(&self) -> Result<Option<u32>, HeaderError> {
        self.delta("Max-Forwards")
    }

    pub fn expires(&self) -> Result<Option<u32>, HeaderError> {
        self.delta("Expires")
    }

    /// A header holding delta-seconds or a count.
    pub fn delta(&self, name: &'static str) -> Result<Option<u32>, HeaderError> {
        match self.header(name) {
            None => Ok(None),
            Some(v) => header::parse_delta(v).map(Some).map_err(|r| herr(name, r)),
        }
    }

    /// Contact (`*` or a list); an absent Contact is an empty list.
    pub fn contacts(&self) -> Result<Contacts, HeaderError> {
        let vals = self.header_values("Contact");
        if vals.len() == 1 && vals[0] == "*" {
            return Ok(Contacts::Star);
        }
        vals.into_iter()
            .map(|v| NameAddr::parse(v).map_err(|r| herr("Contact", r)))
            .collect::<Result<Vec<_>, _>>()
            .map(Contacts::List)
    }

    /// Route or Record-Route entries, in order.
    pub fn routes(&self, name: &'static str) -> Result<Vec<NameAddr>, HeaderError> {
        self.header_values(name)
            .into_iter()
            .map(|v| NameAddr::parse(v).map_err(|r| herr(name, r)))
            .collect()
    }

    /// Writes the message. Content-Length is always written from the body's real length, in
    /// the place of the first Content-Length line (at the end if there was none). A CR or LF
    /// inside a header value or the reason phrase is written as a space, so a value built from
    /// outside data cannot inject header lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        use std::io::Write;
        match &self.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                push_line_safe(&mut out, &format!("{method} {uri} {version}"));
                out.extend_from_slice(b"\r\n");
            }
            StartLine::Response {
                version,
                code,
                reason,
            } => {
                let _ = write!(out, "{version} {code} ");
                push_line_safe(&mut out, reason);
                out.extend_from_slice(b"\r\n");
            }
        }
        let mut length_written = false;
        for h in &self.headers {
            if h.name.eq_ignore_ascii_case("Content-Length") {
                if !length_written {
                    let _ = write!(out, "Content-Length: {}\r\n", self.body.len());
                    length_written = true;
                }
                continue;
            }
            push_line_safe(&mut out, &h.name);
            out.extend_from_slice(b": ");
            push_line_safe(&mut out, &h.value);
            out.extend_from_slice(b"\r\n");
        }
        if !length_written {
            let _ = write!(out, "Content-Length: {}\r\n", self.body.len());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Appends text with CR and LF replaced by spaces.
fn push_line_safe(out: &mut Vec<u8>, text: &str) {
    out.extend(
        text.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
