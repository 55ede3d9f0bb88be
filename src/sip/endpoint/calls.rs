//! Calls as the endpoint holds them: an inbound call rings for the number's `answer_after_ms`,
//! is answered with the SDP answer its [`super::SessionMedia`] gave, and is hung up after
//! `max_call_secs` at the latest; outbound calls are placed by [`super::dial`]. Here live the
//! in-dialog requests (BYE, re-INVITE, UPDATE, INFO, NOTIFY; REFER in [`super::refer`]),
//! CANCEL of a ringing call, the 2xx/ACK handshake and the RFC 4028 session timer's actions.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::{inbound::ALLOW, inbound::SUPPORTED, Endpoint, Event};
use crate::sip::dialog::{Dialog, DialogAction, DialogId};
use crate::sip::message::{new_tag, Message, Method, Uri};
use crate::sip::transaction::{ClientKey, ServerKey};
use crate::sip::transport::Peer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// Inbound, not answered yet.
    Ringing {
        invite_key: ServerKey,
        invite: Box<Message>,
        answer: Vec<u8>,
    },
    /// Outbound INVITE sent, no final response yet.
    Dialing {
        invite_key: ClientKey,
        invite: Box<Message>,
    },
    Answered,
    /// We sent BYE; waiting for its response.
    Ending,
}

/// One call as the endpoint holds it.
#[derive(Debug, Clone)]
pub(super) struct Call {
    pub dialog: Option<DialogId>,
    pub number: String,
    /// Where in-dialog requests go: the peer the dialog was set up with (symmetric signalling,
    /// which also crosses NATs).
    pub peer: Peer,
    pub phase: Phase,
    pub started: Instant,
    pub answered: Option<Instant>,
    /// Next timer: answer (Ringing) or hang up (Answered).
    pub due: Option<Instant>,
    /// Inbound: hung up this long after the answer (the number's `max_call_secs`; `None`:
    /// no limit).
    pub max_duration: Option<Duration>,
    pub outbound: bool,
    /// The INVITE server transaction of an inbound call (for CANCEL and the ACK wait).
    pub invite_server: Option<ServerKey>,
    /// A hang-up that waits for the ACK of our 2xx (RFC 3261 §15): its cause.
    pub bye_after_ack: Option<String>,
    /// Outbound: a provisional response arrived (a CANCEL may be sent, RFC 3261 §9.1).
    pub provisional: bool,
    /// Outbound: an 18x arrived ([`Event::CallRinging`] went out).
    pub ringing: bool,
    /// REFERs accepted in this call (the NOTIFY of the second on needs `id`, RFC 3515).
    pub refers: u32,
    /// Outbound: the trunk it goes through, and whether its INVITE already answered a
    /// challenge (once only: a second 401/407 means the credentials are wrong).
    pub trunk: Option<String>,
    pub auth_tried: bool,
}

/// An outbound INVITE whose call was hung up before the final response: it is cancelled once
/// it rings, and a 2xx that still arrives is acknowledged and ended with BYE.
#[derive(Debug, Clone)]
pub(super) struct Abandoned {
    pub invite: Message,
    pub peer: Peer,
    pub cancel_sent: bool,
}

/// What the API shows about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub call_id: String,
    pub number: String,
    pub outbound: bool,
    pub answered: bool,
    /// Seconds since the call started.
    pub age_secs: u64,
}

/// All calls, by Call-ID, with their timers and the transactions that lead to them.
#[derive(Debug, Default)]
pub(super) struct Calls {
    pub by_id: HashMap<String, Call>,
    pub by_server: HashMap<ServerKey, String>,
    /// Client transactions we started for a call, with the request sent.
    pub by_client: HashMap<ClientKey, (String, Message)>,
    pub abandoned: HashMap<ClientKey, Abandoned>,
    timers: BTreeSet<(Instant, String)>,
}

impl Calls {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().next().map(|(at, _)| *at)
    }

    pub fn set_due(&mut self, call_id: &str, at: Option<Instant>) {
        if let Some(c) = self.by_id.get_mut(call_id) {
            if let Some(old) = c.due.take() {
                self.timers.remove(&(old, call_id.to_string()));
            }
            c.due = at;
            if let Some(at) = at {
                self.timers.insert((at, call_id.to_string()));
            }
        }
    }

    /// Calls whose timer is due at `now` (their timers are cleared).
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let mut due = Vec::new();
        while let Some((at, id)) = self.timers.first().cloned() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            if let Some(c) = self.by_id.get_mut(&id) {
                c.due = None;
            }
            due.push(id);
        }
        due
    }

    pub fn remove(&mut self, call_id: &str) -> Option<Call> {
        let c = self.by_id.remove(call_id)?;
        if let Some(at) = c.due {
            self.timers.remove(&(at, call_id.to_string()));
        }
        if let Some(k) = &c.invite_server {
            self.by_server.remove(k);
        }
        Some(c)
    }
}

impl Endpoint {
    /// A call that passed admission: make the dialog, ring or answer.
    pub(super) fn start_inbound_call(
        &mut self,
        key: ServerKey,
        invite: Message,
        from: Peer,
        number: String,
        answer: Vec<u8>,
        now: Instant,
    ) {
        let Some(plan) = self.numbers.get(&number).cloned() else {
            return;
        };
        let Ok(call_id) = invite.call_id().map(str::to_string) else {
            return;
        };
        let contact = Uri::Sip(self.our_uri(&number));
        let dialog = match Dialog::uas_from_invite(&invite, &new_tag(), &contact) {
            Ok(d) => d.with_session_timer_config(self.timer_cfg),
            Err(e) => {
                self.media.ended(&call_id);
                self.respond(&key, &invite, 400, Some(&format!("Bad Request ({e})")), now);
                // It was offered (CallOffered went out): it must end with a cause too.
                self.events.push_back(Event::CallEnded {
                    call_id,
                    cause: "failed: 400".into(),
                });
                return;
            }
        };
        let id = self.dialogs.insert(dialog);
        self.calls.by_server.insert(key.clone(), call_id.clone());
        self.calls.by_id.insert(
            call_id.clone(),
            Call {
                dialog: Some(id),
                number,
                peer: from,
                invite_server: Some(key.clone()),
                phase: Phase::Ringing {
                    invite_key: key,
                    invite: Box::new(invite),
                    answer,
                },
                started: now,
                answered: None,
                due: None,
                max_duration: (plan.max_call_secs > 0)
                    .then(|| Duration::from_secs(plan.max_call_secs.into())),
                outbound: false,
                bye_after_ack: None,
                provisional: false,
                ringing: false,
                refers: 0,
                trunk: None,
                auth_tried: false,
            },
        );
        if plan.answer_after_ms == 0 {
            self.answer_call(&call_id, now);
        } else {
            self.send_dialog_response(&call_id, 180, Vec::new(), now);
            self.calls.set_due(
                &call_id,
                Some(now + Duration::from_millis(plan.answer_after_ms.into())),
            );
        }
    }

    /// A 1xx or 2xx to the ringing call's INVITE, completed by its dialog.
    fn send_dialog_response(&mut self, call_id: &str, code: u16, body: Vec<u8>, now: Instant) {
        let Some(call) = self.calls.by_id.get(call_id) else {
            return;
        };
        let (
            Phase::Ringing {
                invite_key, invite, ..
            },
            Some(id),
        ) = (&call.phase, &call.dialog)
        else {
            return;
        };
        let (key, invite, id) = (invite_key.clone(), invite.clone(), id.clone());
        let mut res = Message::response_to(&invite, code, None);
        if code >= 200 {
            res.push_header("Allow", ALLOW);
            res.push_header("Supported", SUPPORTED.join(", "));
        }
        if !body.is_empty() {
            res.set_body("application/sdp", body);
        }
        self.dialogs
            .update(&id, |d| d.decorate_response(&invite, &mut res, now));
        self.reply(&key, res, now);
    }

    fn answer_call(&mut self, call_id: &str, now: Instant) {
        let Some(Phase::Ringing { answer, .. }) =
            self.calls.by_id.get(call_id).map(|c| c.phase.clone())
        else {
            return;
        };
        self.send_dialog_response(call_id, 200, answer, now);
        let Some(call) = self.calls.by_id.get_mut(call_id) else {
            return;
        };
        call.phase = Phase::Answered;
        call.answered = Some(now);
        let hangup = call.max_duration.map(|d| now + d);
        self.calls.set_due(call_id, hangup);
        self.events.push_back(Event::CallAnswered {
            call_id: call_id.to_string(),
        });
    }

    /// A CANCEL for a call still ringing: 487 to its INVITE, and the call is over.
    pub(super) fn cancel_inbound_call(&mut self, invite_key: &ServerKey, now: Instant) {
        let Some(call_id) = self.calls.by_server.get(invite_key).cloned() else {
            return;
        };
        if !matches!(
            self.calls.by_id.get(&call_id).map(|c| &c.phase),
            Some(Phase::Ringing { .. })
        ) {
            return;
        }
        self.send_dialog_response(&call_id, 487, Vec::new(), now);
        self.end_call(&call_id, "cancelled");
    }

    /// Forgets a call and its dialog and tells the layers above.
    pub(super) fn end_call(&mut self, call_id: &str, cause: &str) {
        if let Some(call) = self.calls.remove(call_id) {
            self.media.ended(call_id);
            if let Some(id) = &call.dialog {
                self.dialogs.remove(id);
            }
            if let Phase::Dialing { invite, .. } = &call.phase {
                // Early dialogs made by provisional responses (one per fork).
                let tag = invite.from().ok().and_then(|f| f.tag().map(str::to_string));
                if let Some(tag) = tag {
                    if !self.dialogs.end_early_dialogs(call_id, &tag).is_empty() {
                        self.dialogs.remove_terminated();
                    }
                }
            }
            self.calls.by_client.retain(|_, (c, _)| c != call_id);
            self.events.push_back(Event::CallEnded {
                call_id: call_id.to_string(),
                cause: cause.to_string(),
            });
        }
    }

    /// Sends BYE for an answered call (or CANCEL for one still dialling) and ends it. An
    /// inbound call whose 2xx is not acknowledged yet is hung up once the ACK arrives.
    pub(super) fn hangup_call(&mut self, call_id: &str, cause: &str, now: Instant) {
        let Some(call) = self.calls.by_id.get(call_id) else {
            return;
        };
        if call.phase == Phase::Answered && !call.outbound {
            // RFC 3261 §15 holds the BYE for the ACK of the initial INVITE's 2xx only.
            let ack_pending = call
                .dialog
                .as_ref()
                .and_then(|id| self.dialogs.get(id))
                .is_some_and(|d| d.ack_pending() == Some(d.invite_seq()));
            if ack_pending {
                if let Some(c) = self.calls.by_id.get_mut(call_id) {
                    c.bye_after_ack = Some(cause.to_string());
                }
                return;
            }
        }
        self.send_bye(call_id, cause, now);
    }

    fn send_bye(&mut self, call_id: &str, cause: &str, now: Instant) {
        let Some(call) = self.calls.by_id.get(call_id).cloned() else {
            return;
        };
        match &call.phase {
            Phase::Answered => {
                let Some(id) = &call.dialog else { return };
                let Some(bye) = self.dialogs.update(id, |d| d.bye()) else {
                    return;
                };
                if let Some(k) = self.send_request(bye.clone(), call.peer, now) {
                    self.calls.by_client.insert(k, (call_id.to_string(), bye));
                }
                if let Some(c) = self.calls.by_id.get_mut(call_id) {
                    c.phase = Phase::Ending;
                }
                self.calls.set_due(call_id, None);
                // The call is over for everyone above; the BYE's transaction finishes alone.
                self.end_call(call_id, cause);
            }
            Phase::Ringing { .. } => {
                self.send_dialog_response(call_id, 480, Vec::new(), now);
                self.end_call(call_id, cause);
            }
            Phase::Dialing { invite, invite_key } => {
                let cancel_sent = call.provisional;
                if cancel_sent {
                    self.send_cancel(invite, call.peer, now);
                }
                self.calls.abandoned.insert(
                    invite_key.clone(),
                    Abandoned {
                        invite: (**invite).clone(),
                        peer: call.peer,
                        cancel_sent,
                    },
                );
                self.end_call(call_id, cause);
            }
            Phase::Ending => {}
        }
    }

    pub(super) fn calls_timeout(&mut self, now: Instant) {
        for call_id in self.calls.take_due(now) {
            let phase = self.calls.by_id.get(&call_id).map(|c| c.phase.clone());
            match phase {
                Some(Phase::Ringing { .. }) => self.answer_call(&call_id, now),
                Some(Phase::Answered) => self.hangup_call(&call_id, "max call duration", now),
                Some(Phase::Dialing { .. }) => self.hangup_call(&call_id, "no answer", now),
                _ => {}
            }
        }
    }

    /// Requests inside an existing dialog.
    pub(super) fn on_in_dialog_request(
        &mut self,
        key: ServerKey,
        req: Message,
        _from: Peer,
        now: Instant,
    ) {
        let id = match self.dialogs.on_request(&req) {
            Ok(Some(id)) => id,
            Ok(None) => {
                self.respond(&key, &req, 481, None, now);
                return;
            }
            Err(code) => {
                // The dialog writes what the code needs (Min-SE on 422).
                let id = crate::sip::dialog::dialog_id_of(&req);
                let res = id
                    .and_then(|id| self.dialogs.update(&id, |d| d.reject(&req, code)))
                    .unwrap_or_else(|| {
                        let mut r = Message::response_to(&req, code, None);
                        r.ensure_to_tag(&new_tag());
                        r
                    });
                let mut res = res;
                if code == 500 && req.method() == Some(&Method::Invite) {
                    // An overlapping re-INVITE (RFC 3261 §14.2).
                    res.push_header("Retry-After", "2");
                }
                self.reply(&key, res, now);
                return;
            }
        };
        let call_id = id.call_id.clone();
        let method = req.method().cloned().unwrap_or(Method::Ack);
        let (code, body): (u16, Vec<u8>) = match method {
            Method::Bye => (200, Vec::new()),
            Method::Invite | Method::Update => {
                if req.body.is_empty() && method == Method::Update {
                    (200, Vec::new())
                } else {
                    match self.media.reoffer(&call_id, &req) {
                        Ok(a) => (200, a),
                        Err(super::Refusal::NotAcceptable(_)) => (488, Vec::new()),
                        Err(super::Refusal::Unavailable(_)) => (503, Vec::new()),
                    }
                }
            }
            Method::Info => match info_digit(&req) {
                Ok(Some(digit)) => {
                    self.events.push_back(Event::Dtmf {
                        call_id: call_id.clone(),
                        digit,
                    });
                    (200, Vec::new())
                }
                Ok(None) => (200, Vec::new()),
                Err(()) => (415, Vec::new()),
            },
            Method::Notify | Method::Options => (200, Vec::new()),
            Method::Refer => {
                self.on_refer(key, req, id, now);
                return;
            }
            Method::Other(_) => (501, Vec::new()),
            _ => (405, Vec::new()),
        };
        let mut res = Message::response_to(&req, code, None);
        if code == 405 {
            res.push_header("Allow", ALLOW);
        }
        if !body.is_empty() {
            res.set_body("application/sdp", body);
        }
        self.dialogs
            .update(&id, |d| d.decorate_response(&req, &mut res, now));
        self.reply(&key, res, now);
        if method == Method::Bye {
            let ringing = matches!(
                self.calls.by_id.get(&call_id).map(|c| &c.phase),
                Some(Phase::Ringing { .. })
            );
            if ringing {
                // A BYE in the early dialog (RFC 3261 §15): the INVITE still needs its answer.
                self.send_dialog_response(&call_id, 487, Vec::new(), now);
            }
            self.end_call(&call_id, "remote BYE");
            self.dialogs.remove(&id);
        }
    }

    pub(super) fn on_ack(&mut self, msg: Message, _from: Peer, now: Instant) {
        // Clears the dialog's pending ACK; a stray ACK matches nothing and is dropped.
        let _ = self.dialogs.on_request(&msg);
        let Ok(call_id) = msg.call_id() else { return };
        if !msg.body.is_empty() && self.calls.by_id.contains_key(call_id) {
            // The answer to the offer we made in the 2xx of a late-offer INVITE.
            if let Err(reason) = self.media.answer(call_id, &msg) {
                tracing::info!(%call_id, %reason, "unusable SDP in ACK");
            }
        }
        let waiting = self
            .calls
            .by_id
            .get_mut(call_id)
            .and_then(|c| c.bye_after_ack.take());
        if let Some(cause) = waiting {
            let call_id = call_id.to_string();
            self.hangup_call(&call_id, &cause, now);
        }
    }

    /// No ACK came for our 2xx within 64·T1: the call is dead (RFC 3261 §13.3.1.4).
    pub(super) fn on_ack_timeout(&mut self, key: &ServerKey, now: Instant) {
        let Some(call_id) = self.calls.by_server.get(key).cloned() else {
            return;
        };
        let waiting = self
            .calls
            .by_id
            .get(&call_id)
            .and_then(|c| c.dialog.as_ref())
            .and_then(|id| self.dialogs.get(id))
            .is_some_and(|d| d.ack_pending().is_some());
        if waiting {
            // The 2xx gave up: the dialog may be ended now (RFC 3261 §15).
            self.send_bye(&call_id, "no ACK", now);
        }
    }

    pub(super) fn on_dialog_action(&mut self, id: DialogId, action: DialogAction, now: Instant) {
        let call_id = id.call_id.clone();
        match action {
            DialogAction::SendRefresh(req) => {
                let Some(peer) = self.calls.by_id.get(&call_id).map(|c| c.peer) else {
                    return;
                };
                let mut req = *req;
                if req.method() == Some(&Method::Invite) {
                    let offer = self.media.refresh_offer(&call_id);
                    if !offer.is_empty() {
                        req.set_body("application/sdp", offer);
                    }
                }
                if let Some(k) = self.send_request(req.clone(), peer, now) {
                    self.calls.by_client.insert(k, (call_id, req));
                }
            }
            DialogAction::Expired => self.hangup_call(&call_id, "session expired", now),
        }
    }

    /// A response to a request we sent in a call (BYE, refresh, outbound INVITE).
    pub(super) fn calls_response(&mut self, key: &ClientKey, res: Message, now: Instant) {
        let Some((call_id, sent)) = self.calls.by_client.get(key).cloned() else {
            return;
        };
        let code = res.status().unwrap_or(0);
        let dialog = self.dialogs.on_response(&sent, &res, now).ok().flatten();
        let initial = sent.to().is_ok_and(|t| t.tag().is_none());
        if sent.method() == Some(&Method::Invite) && initial {
            self.outbound_invite_response(&call_id, &sent, &res, dialog, now);
        } else if sent.method() == Some(&Method::Invite) && (200..300).contains(&code) {
            // The 2xx to our re-INVITE (a session refresh) needs its ACK at once, and its
            // answer goes to the media side.
            if !res.body.is_empty() {
                if let Err(reason) = self.media.answer(&call_id, &res) {
                    tracing::info!(%call_id, %reason, "unusable SDP answer to a refresh");
                }
            }
            if let (Some(id), Some(peer)) = (dialog, self.calls.by_id.get(&call_id).map(|c| c.peer))
            {
                let seq = sent.cseq().map(|c| c.seq).unwrap_or(0);
                if let Some(ack) = self.dialogs.get(&id).map(|d| d.ack_for_2xx(seq)) {
                    self.send_ack(ack, peer);
                }
            }
        } else if code >= 200 && matches!(code, 408 | 481) {
            self.end_call(&call_id, "dialog gone");
        }
        if code >= 200 {
            self.calls.by_client.remove(key);
        }
    }

    pub(super) fn calls_client_failure(&mut self, key: &ClientKey, _now: Instant) {
        if let Some((call_id, sent)) = self.calls.by_client.remove(key) {
            let cause = match sent.method() {
                // No final response at all: a timeout is a 408 (RFC 3261 §8.1.3.1).
                Some(Method::Invite) if sent.to().is_ok_and(|t| t.tag().is_none()) => "failed: 408",
                _ => "peer unreachable",
            };
            self.end_call(&call_id, cause);
        }
    }

    /// Calls in progress, for the API.
    pub fn calls(&self, now: Instant) -> Vec<CallInfo> {
        self.calls
            .by_id
            .iter()
            .map(|(id, c)| CallInfo {
                call_id: id.clone(),
                number: c.number.clone(),
                outbound: c.outbound,
                answered: c.answered.is_some(),
                age_secs: now.saturating_duration_since(c.started).as_secs(),
            })
            .collect()
    }

    /// Hangs up a call (BYE, CANCEL or 480 as its phase needs).
    pub fn hangup(&mut self, call_id: &str, now: Instant) -> Result<(), super::EndpointError> {
        if !self.calls.by_id.contains_key(call_id) {
            return Err(super::EndpointError::NoSuchCall(call_id.to_string()));
        }
        self.hangup_call(call_id, "hung up by request", now);
        self.pump(now);
        Ok(())
    }

    /// The server is stopping: new INVITEs get 503 from now on, and every call is ended now —
    /// BYE for answered calls (without waiting for a missing ACK), 480 for ringing ones, CANCEL
    /// for outbound calls that ring. Returns how many calls were ended.
    pub fn shutdown(&mut self, now: Instant) -> usize {
        self.closing = true;
        let ids: Vec<String> = self.calls.by_id.keys().cloned().collect();
        for id in &ids {
            let answered = self
                .calls
                .by_id
                .get(id)
                .is_some_and(|c| c.phase == Phase::Answered);
            if answered {
                self.send_bye(id, "server shutting down", now);
            } else {
                self.hangup_call(id, "server shutting down", now);
            }
        }
        self.pump(now);
        ids.len()
    }
}

/// The key in a SIP INFO: `application/dtmf-relay` (`Signal=5` and `Duration=160` lines) or
/// `application/dtmf` (the key alone). `Ok(None)` for an INFO about something else (an empty
/// keep-alive, media control we do not act on); `Err` for a DTMF body we cannot read.
pub(super) fn info_digit(req: &Message) -> Result<Option<char>, ()> {
    let ct = req
        .header("Content-Type")
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if !matches!(
        ct.as_deref(),
        Some("application/dtmf-relay") | Some("application/dtmf")
    ) {
        return Ok(None);
    }
    let body = std::str::from_utf8(&req.body).map_err(|_| ())?;
    let signal = match ct.as_deref() {
        Some("application/dtmf-relay") => body
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("signal"))
            .map(|(_, v)| v.trim())
            .ok_or(())?,
        Some("application/dtmf") => body.trim(),
        _ => return Ok(None),
    };
    let mut chars = signal.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#') => Ok(Some(c)),
        (Some(c), None) if matches!(c.to_ascii_uppercase(), 'A'..='D') => {
            Ok(Some(c.to_ascii_uppercase()))
        }
        // RFC 4733 event codes also turn up here: 10 is '*', 11 is '#'.
        _ => match signal.parse::<u8>() {
            Ok(10) => Ok(Some('*')),
            Ok(11) => Ok(Some('#')),
            Ok(n @ 12..=15) => Ok(Some((b'A' + n - 12) as char)),
            // 16 is a hook flash: nothing to act on.
            Ok(16) => Ok(None),
            _ => Err(()),
        },
    }
}
