//! Checks a message must pass before the layers above act on it: RFC 3261 §8.2 for requests
//! (a UAS answers a failure with the status code returned), and the same mandatory headers for
//! responses (the transaction layer drops a response that fails).

use super::{date, herr, HeaderError, Message, Method, StartLine, Uri};

/// Headers a request must carry at most once (RFC 3261 §7.3.1: not comma-separated lists).
const SINGLE: &[&str] = &[
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Content-Type",
    "Date",
];

/// The ones a response must carry at most once: those the transaction layer reads.
const SINGLE_IN_RESPONSE: &[&str] = &["From", "To", "Call-ID", "CSeq"];

fn bad(e: HeaderError) -> (u16, String) {
    (400, format!("Bad {}: {}", e.header, e.reason))
}

impl Message {
    /// The Date header, if present, as a point in time (RFC 1123 format, GMT only).
    pub fn date(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, HeaderError> {
        match self.header("Date") {
            None => Ok(None),
            Some(v) => date::parse_sip_date(v)
                .map(Some)
                .map_err(|r| herr("Date", r)),
        }
    }

    /// [`Message::validate_request`] or [`Message::validate_response`], whichever applies.
    pub fn validate(&self) -> Result<(), (u16, String)> {
        if self.is_request() {
            self.validate_request()
        } else {
            self.validate_response()
        }
    }

    /// Checks a request the way a UAS must before acting on it (RFC 3261 §8.2): the version is
    /// 2.0, the mandatory headers parse, the CSeq method matches, single-value headers are not
    /// repeated, the Request-URI carries no headers, Contact (INVITE, REGISTER), Expires,
    /// Max-Forwards and Date parse where present. `Err` carries the status code to answer with
    /// (400 or 505) and the reason phrase, which names the offending header. A response is
    /// refused with 400.
    pub fn validate_request(&self) -> Result<(), (u16, String)> {
        let StartLine::Request {
            method,
            uri,
            version,
        } = &self.start
        else {
            return Err((400, "Not a request".into()));
        };
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err((505, "Version Not Supported".into()));
        }
        self.common_checks(SINGLE)?;
        let cseq = self.cseq().map_err(bad)?;
        if &cseq.method != method {
            return Err((
                400,
                "Bad CSeq: method does not match the request line".into(),
            ));
        }
        self.max_forwards().map_err(bad)?;
        if let Uri::Sip(u) = uri {
            if u.headers.is_some() {
                return Err((400, "Bad Request-URI: headers not allowed".into()));
            }
        }
        if matches!(method, Method::Register | Method::Invite) {
            self.contacts().map_err(bad)?;
        }
        self.expires().map_err(bad)?;
        self.date().map_err(bad)?;
        Ok(())
    }

    /// Checks a response before the transaction layer matches it: the version is 2.0, Via,
    /// From, To, Call-ID and CSeq are present and parse, and none of the single-value ones is
    /// repeated. Other headers are left to whoever reads them: a response is not answered, so
    /// refusing it for a header nobody needs would only lose it. `Err` carries a status code
    /// (400, or 505 for another version) for the log, and a reason naming the header. A request
    /// is refused with 400.
    pub fn validate_response(&self) -> Result<(), (u16, String)> {
        let StartLine::Response { version, .. } = &self.start else {
            return Err((400, "Not a response".into()));
        };
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err((505, "Version Not Supported".into()));
        }
        self.common_checks(SINGLE_IN_RESPONSE)?;
        self.cseq().map_err(bad)?;
        Ok(())
    }

    /// Via, the single-value rule, From, To and Call-ID.
    fn common_checks(&self, single: &[&'static str]) -> Result<(), (u16, String)> {
        self.vias().map_err(bad)?;
        for name in single {
            if self.header_lines(name).count() > 1 {
                return Err((400, format!("Bad {name}: repeated")));
            }
        }
        self.from().map_err(bad)?;
        self.to().map_err(bad)?;
        self.call_id().map_err(bad)?;
        Ok(())
    }
}
