//! Building messages: requests from scratch, responses from the request they answer
//! (RFC 3261 §8.2.6), and fresh branches, tags and Call-IDs.

use rand::Rng;

use super::{Message, Method, StartLine, Uri};

impl Message {
    /// A request with no headers yet.
    pub fn new_request(method: Method, uri: Uri) -> Message {
        Message {
            start: StartLine::Request {
                method,
                uri,
                version: "SIP/2.0".into(),
            },
            headers: Vec::with_capacity(12),
            body: Vec::new(),
        }
    }

    /// A response to `req` copying Via (all), From, To, Call-ID and CSeq. `reason` defaults to
    /// the standard phrase. The caller adds a To tag where one is needed.
    pub fn response_to(req: &Message, code: u16, reason: Option<&str>) -> Message {
        let mut res = Message {
            start: StartLine::Response {
                version: "SIP/2.0".into(),
                code,
                reason: reason.unwrap_or(reason_phrase(code)).to_string(),
            },
            headers: Vec::with_capacity(12),
            body: Vec::new(),
        };
        for h in &req.headers {
            if matches!(h.name.as_str(), "Via" | "From" | "To" | "Call-ID" | "CSeq") {
                res.headers.push(h.clone());
            }
        }
        res
    }

    /// Sets the To tag if the To header has none (responses from a UAS).
    pub fn ensure_to_tag(&mut self, tag: &str) {
        if let Ok(mut to) = self.to() {
            if to.tag().is_none() {
                to.params.set("tag", Some(tag));
                self.set_header("To", to.to_string());
            }
        }
    }

    /// Sets the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        self.set_header("Content-Type", content_type);
        self.body = body;
    }
}

/// The standard reason phrase of a status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => match code / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Request Failure",
            5 => "Server Failure",
            _ => "Global Failure",
        },
    }
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new RFC 3261 branch (`z9hG4bK` + randomness).
pub fn new_branch() -> String {
    format!("z9hG4bK{}", random_token(16))
}

/// A new From/To tag.
pub fn new_tag() -> String {
    random_token(12)
}

/// A new Call-ID.
pub fn new_call_id() -> String {
    random_token(24)
}
