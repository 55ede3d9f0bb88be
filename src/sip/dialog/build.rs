//! Building in-dialog requests (RFC 3261 §12.2.1.1): the generic [`Dialog::new_request`], the
//! ACK for a 2xx (§13.2.2.4), CANCEL (§9.1), and small builders for the requests the call layer
//! sends: BYE, re-INVITE/UPDATE with SDP (hold, resume), INFO (DTMF), REFER and its NOTIFY.
//!
//! None of these add a Via: the transaction/transport layer puts its own on top of every
//! request (with a new branch, also for the ACK of a 2xx, which is a transaction of its own).

use std::fmt;

use super::{Dialog, DialogError};
use crate::sip::message::{HeaderError, Message, Method, NameAddr, Uri};

/// Max-Forwards of every request we originate.
pub const MAX_FORWARDS: u32 = 70;

/// Methods whose requests refresh the remote target and therefore carry our Contact
/// (RFC 3261 §12.2, RFC 3311, RFC 6665 for SUBSCRIBE/NOTIFY/REFER).
pub fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
    )
}

impl Dialog {
    /// Request-URI and Route lines for an in-dialog request. Loose routing (first route has
    /// `;lr`, the normal case): the remote target goes into the Request-URI and the route set
    /// into Route. Strict routing (RFC 3261 §12.2.1.1, for RFC 2543 proxies): the first route
    /// becomes the Request-URI (without the `method` parameter and headers) and the remote
    /// target ends the Route list.
    fn target_and_routes(&self) -> (Uri, Vec<String>) {
        let loose = match self.route_set.first() {
            None => true,
            Some(first) => first.uri.as_sip().is_some_and(|u| u.params.has("lr")),
        };
        if loose {
            let routes = self.route_set.iter().map(ToString::to_string).collect();
            return (self.remote_target.clone(), routes);
        }
        let mut ruri = self.route_set[0].uri.clone();
        if let Uri::Sip(u) = &mut ruri {
            u.params.remove("method");
            u.headers = None;
        }
        let mut routes: Vec<String> = self.route_set[1..].iter().map(|r| r.to_string()).collect();
        routes.push(format!("<{}>", self.remote_target));
        (ruri, routes)
    }

    /// A request skeleton with the dialog's addressing and the given CSeq number.
    fn request_with_seq(&self, method: Method, seq: u32) -> Message {
        let (ruri, routes) = self.target_and_routes();
        let mut req = Message::new_request(method.clone(), ruri);
        req.push_header("Max-Forwards", MAX_FORWARDS.to_string());
        for r in routes {
            req.push_header("Route", r);
        }
        let mut from = self.local.clone();
        from.params.set("tag", Some(&self.id.local_tag));
        req.push_header("From", from.to_string());
        let mut to = self.remote.clone();
        if !self.id.remote_tag.is_empty() {
            to.params.set("tag", Some(&self.id.remote_tag));
        }
        req.push_header("To", to.to_string());
        req.push_header("Call-ID", self.id.call_id.clone());
        req.push_header("CSeq", format!("{seq} {method}"));
        req
    }

    /// A new in-dialog request: Request-URI and Route from the remote target and route set,
    /// From/To with both tags, the Call-ID, the next local CSeq number, Max-Forwards, our
    /// Contact on target-refresh requests, and session-timer headers on INVITE and UPDATE.
    /// Building a BYE terminates the dialog (RFC 3261 §15.1.1: the session ends when the BYE
    /// leaves). No Via is added. For ACK use [`Dialog::ack_for_2xx`], for CANCEL
    /// [`cancel_for`]; asked for either, this keeps the current CSeq number.
    pub fn new_request(&mut self, method: Method) -> Message {
        let seq = match method {
            Method::Ack | Method::Cancel => self.local_seq.unwrap_or(1),
            _ => {
                // The first request of a UAS starts at 1 (any value below 2^31 would do).
                let next = self
                    .local_seq
                    .map_or(1, |s| s.wrapping_add(1) & 0x7fff_ffff);
                self.local_seq = Some(next);
                next
            }
        };
        let mut req = self.request_with_seq(method.clone(), seq);
        if method == Method::Invite {
            self.local_invite_pending = Some(seq);
        }
        if is_target_refresh(&method) {
            req.push_header("Contact", format!("<{}>", self.local_contact));
        }
        if matches!(method, Method::Invite | Method::Update) {
            self.add_timer_headers(&mut req);
        }
        if method == Method::Bye {
            self.terminate();
        }
        req
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_cseq` (RFC 3261 §13.2.2.4):
    /// built like any in-dialog request but with the INVITE's CSeq number and method ACK. If
    /// the INVITE carried Authorization or Proxy-Authorization, copy them into the ACK; if the
    /// INVITE had no SDP offer, the answer goes into the ACK's body.
    pub fn ack_for_2xx(&self, invite_cseq: u32) -> Message {
        self.request_with_seq(Method::Ack, invite_cseq)
    }

    /// BYE (terminates the dialog).
    pub fn bye(&mut self) -> Message {
        self.new_request(Method::Bye)
    }

    /// A request with a body and its Content-Type.
    pub fn request_with_body(
        &mut self,
        method: Method,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Message {
        let mut req = self.new_request(method);
        req.set_body(content_type, body.into());
        req
    }

    /// A re-INVITE carrying an SDP offer (hold with `a=sendonly`/`a=inactive`, resume with
    /// `a=sendrecv`, or a session refresh with the unchanged SDP).
    pub fn reinvite(&mut self, sdp: impl Into<Vec<u8>>) -> Message {
        self.request_with_body(Method::Invite, "application/sdp", sdp)
    }

    /// An UPDATE (RFC 3311), with an SDP offer or without a body (a pure session refresh).
    pub fn update(&mut self, sdp: Option<Vec<u8>>) -> Message {
        match sdp {
            Some(sdp) => self.request_with_body(Method::Update, "application/sdp", sdp),
            None => self.new_request(Method::Update),
        }
    }

    /// An INFO request with any body (RFC 6086).
    pub fn info(&mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Message {
        self.request_with_body(Method::Info, content_type, body)
    }

    /// An INFO carrying one DTMF digit as `application/dtmf-relay` (`Signal=5`,
    /// `Duration=160`, the format most PBXs and gateways use).
    pub fn info_dtmf(&mut self, digit: char, duration_ms: u32) -> Message {
        let body = format!("Signal={digit}\r\nDuration={duration_ms}\r\n");
        self.info("application/dtmf-relay", body)
    }

    /// A REFER (RFC 3515) asking the peer to call `refer_to` (for an attended transfer the URI
    /// carries `?Replaces=…`, escaped by the caller). `referred_by` adds Referred-By.
    pub fn refer(&mut self, refer_to: &NameAddr, referred_by: Option<&NameAddr>) -> Message {
        let mut req = self.new_request(Method::Refer);
        req.push_header("Refer-To", refer_to.to_string());
        if let Some(by) = referred_by {
            req.push_header("Referred-By", by.to_string());
        }
        req
    }

    /// A NOTIFY reporting the progress of a REFER we accepted (RFC 3515 §2.4.4): `Event: refer`
    /// (with `;id=` the REFER's CSeq number when given, needed from the second REFER of a
    /// dialog on), Subscription-State, and a `message/sipfrag` body holding the status line
    /// of the call the REFER caused, e.g. `SIP/2.0 200 OK`.
    pub fn notify_refer(
        &mut self,
        refer_seq: Option<u32>,
        state: &SubscriptionState,
        status: u16,
        reason: &str,
    ) -> Message {
        let mut req = self.new_request(Method::Notify);
        let event = match refer_seq {
            Some(id) => format!("refer;id={id}"),
            None => "refer".to_string(),
        };
        req.push_header("Event", event);
        req.push_header("Subscription-State", state.to_string());
        let body = format!("SIP/2.0 {status} {reason}\r\n");
        req.set_body("message/sipfrag;version=2.0", body.into_bytes());
        req
    }
}

/// The CANCEL for an INVITE we sent and that has no final response yet (RFC 3261 §9.1): same
/// Request-URI, Call-ID, From, To (no tag) and Route as the INVITE, the INVITE's CSeq number
/// with method CANCEL, and a single Via, the INVITE's top Via (same branch, so that it matches
/// the INVITE's server transaction). This is the one request built here that carries a Via; the
/// transaction layer must send it as is. Works without a dialog (no response seen yet).
pub fn cancel_for(invite: &Message) -> Result<Message, DialogError> {
    if invite.method() != Some(&Method::Invite) {
        return Err(DialogError::NotInvite);
    }
    let ruri = invite
        .request_uri()
        .cloned()
        .ok_or(DialogError::NotInvite)?;
    let via = invite
        .header_values("Via")
        .into_iter()
        .next()
        .ok_or(HeaderError {
            header: "Via",
            reason: "missing",
        })?
        .to_string();
    let cseq = invite.cseq()?;
    let mut req = Message::new_request(Method::Cancel, ruri);
    req.push_header("Via", via);
    req.push_header("Max-Forwards", MAX_FORWARDS.to_string());
    for r in invite.header_lines("Route") {
        req.push_header("Route", r);
    }
    for name in ["From", "To", "Call-ID"] {
        if let Some(v) = invite.header(name) {
            req.push_header(name, v);
        }
    }
    req.push_header("CSeq", format!("{} CANCEL", cseq.seq));
    Ok(req)
}

/// The Refer-To of an incoming REFER, as a name-addr (its URI may carry `?Replaces=…`).
pub fn parse_refer_to(req: &Message) -> Result<NameAddr, HeaderError> {
    let v = req.header("Refer-To").ok_or(HeaderError {
        header: "Refer-To",
        reason: "missing",
    })?;
    NameAddr::parse(v).map_err(|reason| HeaderError {
        header: "Refer-To",
        reason,
    })
}

/// The status code of a `message/sipfrag` body (`SIP/2.0 180 Ringing` → 180).
pub fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// The Subscription-State of a NOTIFY (RFC 6665 §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    Active {
        expires: u32,
    },
    Pending {
        expires: u32,
    },
    /// `reason` such as `noresource` (the referred call ended) or `timeout`.
    Terminated {
        reason: Option<String>,
    },
}

impl fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscriptionState::Active { expires } => write!(f, "active;expires={expires}"),
            SubscriptionState::Pending { expires } => write!(f, "pending;expires={expires}"),
            SubscriptionState::Terminated { reason: Some(r) } => {
                write!(f, "terminated;reason={r}")
            }
            SubscriptionState::Terminated { reason: None } => f.write_str("terminated"),
        }
    }
}
