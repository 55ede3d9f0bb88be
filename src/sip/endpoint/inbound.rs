//! Requests arriving in new server transactions: validation, OPTIONS, REGISTER, CANCEL, and
//! the admission of new INVITEs (overload, trunk ACL or digest, dialled number, session timer,
//! codecs). In-dialog requests are passed on to [`super::calls`].

use std::time::Instant;

use super::{Endpoint, Event};
use crate::sip::dialog::timer::{negotiate_uas, response_422};
use crate::sip::message::{Message, Method, Uri};
use crate::sip::registrar::Auth;
use crate::sip::transaction::{ServerKey, ServerState};
use crate::sip::transport::Peer;

/// Methods we answer (Allow header).
pub(super) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, REFER, NOTIFY";
/// Extensions we support (Supported header); a Require naming anything else gets 420.
pub(super) const SUPPORTED: &[&str] = &["timer"];

impl Endpoint {
    pub(super) fn on_request(
        &mut self,
        key: ServerKey,
        msg: Message,
        from: Peer,
        cancels: Option<ServerKey>,
        now: Instant,
    ) {
        let Some(method) = msg.method().cloned() else {
            return;
        };
        if let Err((code, reason)) = msg.validate_request() {
            self.respond(&key, &msg, code, Some(&reason), now);
            return;
        }
        if let Some(Uri::Other { .. }) = msg.request_uri() {
            if method != Method::Cancel {
                self.respond(&key, &msg, 416, None, now);
                return;
            }
        }
        if !matches!(method, Method::Cancel | Method::Ack) {
            let unsupported: Vec<&str> = msg
                .header_values("Require")
                .into_iter()
                .filter(|r| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(r)))
                .collect();
            if !unsupported.is_empty() {
                let mut res = Message::response_to(&msg, 420, None);
                res.push_header("Unsupported", unsupported.join(", "));
                self.reply(&key, res, now);
                return;
            }
        }
        let in_dialog = msg.to().ok().is_some_and(|t| t.tag().is_some());
        if in_dialog && method != Method::Cancel {
            self.on_in_dialog_request(key, msg, from, now);
            return;
        }
        match method {
            Method::Options => {
                let mut res = Message::response_to(&msg, 200, None);
                res.push_header("Allow", ALLOW);
                res.push_header("Accept", "application/sdp");
                res.push_header("Supported", SUPPORTED.join(", "));
                self.reply(&key, res, now);
            }
            Method::Register => {
                let out = self.registrar.handle_register(
                    &msg,
                    from.addr,
                    from.transport.via_token(),
                    now,
                );
                self.reply(&key, out.response, now);
            }
            Method::Invite => self.on_new_invite(key, msg, from, now),
            Method::Cancel => self.on_cancel(key, msg, cancels, now),
            Method::Bye => self.respond(&key, &msg, 481, None, now),
            Method::Other(_) => self.respond(&key, &msg, 501, None, now),
            _ => {
                let mut res = Message::response_to(&msg, 405, None);
                res.push_header("Allow", ALLOW);
                self.reply(&key, res, now);
            }
        }
    }

    /// A response with the standard headers copied from `req`.
    pub(super) fn respond(
        &mut self,
        key: &ServerKey,
        req: &Message,
        code: u16,
        reason: Option<&str>,
        now: Instant,
    ) {
        let mut res = Message::response_to(req, code, reason);
        if code >= 200 && req.method() != Some(&Method::Cancel) {
            res.ensure_to_tag(&crate::sip::message::new_tag());
        }
        self.reply(key, res, now);
    }

    pub(super) fn reply(&mut self, key: &ServerKey, mut res: Message, now: Instant) {
        if res.header("Server").is_none() {
            res.push_header("Server", self.cfg.user_agent.clone());
        }
        if let Err(e) = self.tx.send_response(key, res, now) {
            tracing::debug!(error = %e, "response not sent");
        }
    }

    fn refuse_invite(
        &mut self,
        key: &ServerKey,
        _req: &Message,
        res: Message,
        number: Option<String>,
        now: Instant,
    ) {
        self.stats.calls_refused += 1;
        let code = res.status().unwrap_or(500);
        self.events.push_back(Event::CallRefused { code, number });
        self.reply(key, res, now);
    }

    fn on_new_invite(&mut self, key: ServerKey, msg: Message, from: Peer, now: Instant) {
        let number = msg
            .request_uri()
            .and_then(Uri::user_or_number)
            .filter(|n| self.numbers.contains_key(n))
            .or_else(|| {
                msg.to()
                    .ok()
                    .and_then(|t| t.uri.user_or_number())
                    .filter(|n| self.numbers.contains_key(n))
            });
        // A second INVITE for a Call-ID we already hold, on another branch: a merged request
        // (RFC 3261 §8.2.2.2), e.g. a trunk failing over to another path.
        if msg
            .call_id()
            .is_ok_and(|id| self.calls.by_id.contains_key(id))
        {
            let res = Message::response_to(&msg, 482, None);
            self.refuse_invite(&key, &msg, res, number, now);
            return;
        }
        if self.closing || self.calls.len() >= self.cfg.sip.max_calls {
            let mut res = Message::response_to(&msg, 503, None);
            res.push_header("Retry-After", self.cfg.sip.retry_after_secs.to_string());
            self.refuse_invite(&key, &msg, res, number, now);
            return;
        }
        let trunk = self
            .trunks
            .match_source(from.addr.ip())
            .map(|t| t.name.clone());
        let mut user = None;
        if trunk.is_none() {
            match self.registrar.authenticate(&msg, from.addr, now) {
                Auth::Ok(u) => user = Some(u),
                Auth::Challenge { stale } => {
                    let res = self.registrar.challenge(&msg, stale, now);
                    self.reply(&key, res, now);
                    return;
                }
                // Unknown user, wrong password and a blocked source all look the same.
                Auth::Rejected | Auth::Blocked => {
                    let res = Message::response_to(&msg, 403, None);
                    self.refuse_invite(&key, &msg, res, number, now);
                    return;
                }
                Auth::Malformed(e) => {
                    let res =
                        Message::response_to(&msg, 400, Some(&format!("Bad Authorization: {e}")));
                    self.refuse_invite(&key, &msg, res, number, now);
                    return;
                }
            }
        }
        let Some(number) = number else {
            let res = Message::response_to(&msg, 404, None);
            self.refuse_invite(&key, &msg, res, None, now);
            return;
        };
        let timer_cfg = self.timer_cfg;
        if negotiate_uas(&msg, &timer_cfg).is_err() {
            let res = response_422(&msg, &timer_cfg);
            self.refuse_invite(&key, &msg, res, Some(number), now);
            return;
        }
        let call_id = msg.call_id().unwrap_or_default().to_string();
        let answer = match self.media.inbound_offer(&call_id, &number, &msg) {
            Ok(a) => a,
            Err(super::Refusal::NotAcceptable(reason)) => {
                let res = Message::response_to(&msg, 488, Some(&reason));
                self.refuse_invite(&key, &msg, res, Some(number), now);
                return;
            }
            Err(super::Refusal::Unavailable(reason)) => {
                let mut res = Message::response_to(&msg, 503, Some(&reason));
                res.push_header("Retry-After", self.cfg.sip.retry_after_secs.to_string());
                self.refuse_invite(&key, &msg, res, Some(number), now);
                return;
            }
        };
        self.stats.calls_offered += 1;
        let caller = msg
            .from()
            .ok()
            .and_then(|f| f.uri.user_or_number())
            .unwrap_or_default();
        self.events.push_back(Event::CallOffered {
            call_id: msg.call_id().unwrap_or_default().to_string(),
            number: number.clone(),
            caller,
            trunk,
            user,
        });
        self.start_inbound_call(key, msg, from, number, answer, now);
    }

    fn on_cancel(
        &mut self,
        key: ServerKey,
        msg: Message,
        cancels: Option<ServerKey>,
        now: Instant,
    ) {
        let Some(invite_key) = cancels else {
            self.respond(&key, &msg, 481, None, now);
            return;
        };
        self.respond(&key, &msg, 200, None, now);
        if self.tx.server_state(&invite_key) == Some(ServerState::Proceeding) {
            self.cancel_inbound_call(&invite_key, now);
        }
    }
}
