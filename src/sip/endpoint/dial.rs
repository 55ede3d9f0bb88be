//! Outbound calls we place: through a trunk to a phone number (callbacks, forwarding), or to a
//! registered user's softphone (an agent leg of the B2BUA). One general request, [`Dial`];
//! `place_call` / `place_linked_call` are thin wrappers kept for the trunk case. The responses
//! are handled in [`super::outbound`].

use std::time::{Duration, Instant};

use super::calls::{Call, Phase};
use super::{inbound::ALLOW, Endpoint, EndpointError};
use crate::sip::message::{new_tag, Method, SipUri, Uri};
use crate::sip::transaction;
use crate::sip::transport::{Peer, Transport};

/// An outbound call not answered within this is cancelled (the transaction layer does not
/// bound ringing). A safety net: the call layer hangs up earlier when it wants to.
pub(super) const OUTBOUND_RING_LIMIT: Duration = Duration::from_secs(60);

/// Longest display name we put in a From header.
const MAX_DISPLAY: usize = 128;

/// Whom an outbound call goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// A phone number through a configured trunk with an `outbound_proxy`.
    Trunk { trunk: String, number: String },
    /// A registered user (an agent's softphone): its best current binding.
    User { user: String },
}

/// A call to place (see [`Endpoint::dial`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dial {
    pub target: DialTarget,
    /// The user part of our From URI (the caller ID), e.g. "12345" or the citizen's number;
    /// "hotline" when not given.
    pub from_user: Option<String>,
    /// The display name of the From header (quoted and escaped here).
    pub from_display: Option<String>,
    /// The user part of a `P-Asserted-Identity: <sip:…@our-host>`, sent only when given.
    pub asserted: Option<String>,
    /// The inbound call this one belongs with (its media goes on the same shard, ready to be
    /// bridged; see [`super::SessionMedia::outbound_offer`]).
    pub link: Option<String>,
}

/// An empty user: only there so that a [`Dial`] can be written with `..Dial::default()`.
impl Default for DialTarget {
    fn default() -> DialTarget {
        DialTarget::User {
            user: String::new(),
        }
    }
}

/// A user part we are willing to write into a URI: 1–64 characters of RFC 3261's unreserved
/// set plus `+`, `&`, `=`, `$`, `,` (no `;`, `?`, `/`, `@`, `:` or escapes).
fn valid_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '_'
                        | '.'
                        | '!'
                        | '~'
                        | '*'
                        | '\''
                        | '('
                        | ')'
                        | '+'
                        | '&'
                        | '='
                        | '$'
                        | ','
                )
        })
}

/// A display name as a quoted string (RFC 3261 §25.1): `"` and `\` escaped; control
/// characters (CR, LF, …) refused.
fn quoted_display(d: &str) -> Option<String> {
    if d.chars().count() > MAX_DISPLAY || d.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(d.len() + 2);
    out.push('"');
    for c in d.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// Where an outbound INVITE goes and what it is addressed to.
struct Route {
    uri: Uri,
    to: String,
    peer: Peer,
    number: String,
    trunk: Option<String>,
}

impl Endpoint {
    /// Calls `number` through `trunk` (callbacks). Returns the new call's Call-ID; progress
    /// comes as [`super::Event::CallRinging`] / [`super::Event::CallAnswered`] /
    /// [`super::Event::CallEnded`].
    pub fn place_call(
        &mut self,
        trunk: &str,
        number: &str,
        now: Instant,
    ) -> Result<String, EndpointError> {
        self.place_linked_call(trunk, number, None, now)
    }

    /// [`Endpoint::place_call`] for a call that belongs with `link` (an inbound call it
    /// will be bridged to).
    pub fn place_linked_call(
        &mut self,
        trunk: &str,
        number: &str,
        link: Option<&str>,
        now: Instant,
    ) -> Result<String, EndpointError> {
        let d = Dial {
            target: DialTarget::Trunk {
                trunk: trunk.to_string(),
                number: number.to_string(),
            },
            link: link.map(str::to_string),
            ..Dial::default()
        };
        self.dial(d, now)
    }

    /// Places an outbound call. A [`DialTarget::User`] goes to the user's registered binding
    /// with the highest q (the most recently refreshed among equals): the Request-URI is its
    /// contact, and the INVITE goes to where that REGISTER came from, over the same transport
    /// (a TCP binding on the connection it registered over while that is open), so phones
    /// behind NAT are reached. Returns the Call-ID; progress comes as events, and a failed
    /// attempt ends with [`super::Event::CallEnded`] (`"failed: 486"`, …).
    pub fn dial(&mut self, d: Dial, now: Instant) -> Result<String, EndpointError> {
        for id in [&d.from_user, &d.asserted].into_iter().flatten() {
            if !valid_user(id) {
                return Err(EndpointError::BadIdentity(id.clone()));
            }
        }
        let display = match &d.from_display {
            Some(text) => {
                Some(quoted_display(text).ok_or_else(|| EndpointError::BadIdentity(text.clone()))?)
            }
            None => None,
        };
        let route = self.route(&d.target, now)?;
        if self.calls.len() >= self.cfg.sip.max_calls {
            return Err(EndpointError::Overloaded);
        }
        let mut invite = self.new_out_of_dialog(Method::Invite, route.uri.clone(), route.uri);
        let from_uri = Uri::Sip(self.our_uri(d.from_user.as_deref().unwrap_or("hotline")));
        let from = match display {
            Some(name) => format!("{name} <{from_uri}>;tag={}", new_tag()),
            None => format!("<{from_uri}>;tag={}", new_tag()),
        };
        invite.set_header("From", from);
        invite.set_header("To", route.to);
        if let Some(a) = &d.asserted {
            invite.push_header(
                "P-Asserted-Identity",
                format!("<{}>", Uri::Sip(self.our_uri(a))),
            );
        }
        let mut contact = self.our_uri("hotline");
        if route.peer.transport == Transport::Tcp {
            contact
                .params
                .0
                .push(("transport".into(), Some("tcp".into())));
        }
        invite.push_header("Contact", format!("<{}>", Uri::Sip(contact)));
        invite.push_header("Allow", ALLOW);
        invite.push_header("Supported", "timer");
        invite.push_header(
            "Session-Expires",
            self.timer_cfg.session_expires.to_string(),
        );
        invite.push_header("Min-SE", self.timer_cfg.min_se.to_string());
        let call_id = invite.call_id().unwrap_or_default().to_string();
        let offer = self
            .media
            .outbound_offer(&call_id, d.link.as_deref())
            .map_err(|_| EndpointError::Overloaded)?;
        invite.set_body("application/sdp", offer);
        let peer = route.peer;
        let mut sent = invite;
        transaction::add_top_via(&mut sent, peer.transport, &self.contact_host);
        sent.push_header("Max-Forwards", "70");
        sent.push_header("User-Agent", self.cfg.user_agent.clone());
        let key = match self.tx.send_request(sent.clone(), peer, now) {
            Ok(k) => k,
            Err(_) => {
                self.media.ended(&call_id);
                return Err(EndpointError::Overloaded);
            }
        };
        self.calls
            .by_client
            .insert(key.clone(), (call_id.clone(), sent.clone()));
        self.calls.by_id.insert(
            call_id.clone(),
            Call {
                dialog: None,
                number: route.number,
                peer,
                phase: Phase::Dialing {
                    invite_key: key,
                    invite: Box::new(sent),
                },
                started: now,
                answered: None,
                due: None,
                max_duration: None,
                outbound: true,
                invite_server: None,
                bye_after_ack: None,
                provisional: false,
                ringing: false,
                refers: 0,
                trunk: route.trunk,
                auth_tried: false,
            },
        );
        self.calls
            .set_due(&call_id, Some(now + OUTBOUND_RING_LIMIT));
        self.pump(now);
        Ok(call_id)
    }

    fn route(&self, target: &DialTarget, now: Instant) -> Result<Route, EndpointError> {
        match target {
            DialTarget::Trunk { trunk, number } => {
                let t = self
                    .trunks
                    .get(trunk)
                    .ok_or_else(|| EndpointError::NoSuchTrunk(trunk.clone()))?;
                let addr = t
                    .proxy
                    .ok_or_else(|| EndpointError::NoProxy(trunk.clone()))?;
                let valid = !number.is_empty()
                    && number.len() <= 32
                    && number
                        .chars()
                        .enumerate()
                        .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'));
                if !valid {
                    return Err(EndpointError::BadNumber(number.clone()));
                }
                let uri = Uri::Sip(SipUri::new(
                    Some(number),
                    &addr.ip().to_string(),
                    Some(addr.port()),
                ));
                Ok(Route {
                    to: format!("<{uri}>"),
                    uri,
                    peer: Peer {
                        transport: Transport::Udp,
                        addr,
                    },
                    number: number.clone(),
                    trunk: Some(trunk.clone()),
                })
            }
            DialTarget::User { user } => {
                let not_registered = || EndpointError::NotRegistered(user.clone());
                if !valid_user(user) {
                    return Err(not_registered());
                }
                // Best first: highest q, then the most recently refreshed.
                let b = self
                    .registrar
                    .lookup(user, now)
                    .into_iter()
                    .find(|b| Uri::parse(&b.contact).is_ok())
                    .ok_or_else(not_registered)?;
                let uri = Uri::parse(&b.contact).map_err(|_| not_registered())?;
                let transport = if b.transport.eq_ignore_ascii_case("TCP") {
                    Transport::Tcp
                } else {
                    Transport::Udp
                };
                Ok(Route {
                    uri,
                    to: format!("<{}>", Uri::Sip(self.our_uri(user))),
                    peer: Peer {
                        transport,
                        addr: b.source,
                    },
                    number: user.clone(),
                    trunk: None,
                })
            }
        }
    }
}
