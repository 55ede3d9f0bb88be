//! What arrives in a dialog: the peer's requests ([`Dialog::check_request`]), our responses to
//! them ([`Dialog::decorate_response`], [`Dialog::reject`]) and the responses to our requests
//! ([`Dialog::handle_response`]).

use std::time::Instant;

use super::build::is_target_refresh;
use super::timer::{negotiate_uac, negotiate_uas, response_422};
use super::{dialog_id_of, first_contact, Dialog, DialogError, DialogState, Role};
use crate::sip::message::{Message, Method};

impl Dialog {
    /// Checks a request the peer sent in this dialog (RFC 3261 §12.2.2) and applies it. `Err`
    /// is the status code to answer with ([`Dialog::reject`] builds the response):
    /// - 481 when the request does not carry this dialog's identifier or the dialog is
    ///   terminated;
    /// - 500 when its CSeq number is not above the last one received (out of order or a
    ///   duplicate that slipped past the transaction layer), and for an INVITE while the
    ///   peer's previous INVITE is still unanswered (RFC 3261 §14.2);
    /// - 491 for an INVITE while ours is pending (glare, RFC 3261 §14.2);
    /// - 422 for an INVITE or UPDATE asking for a session interval below our Min-SE.
    ///
    /// On success a target-refresh request (re-INVITE, UPDATE, …) with a Contact replaces the
    /// remote target, and BYE terminates the dialog. ACK is checked only for identity (its
    /// CSeq is the INVITE's) and clears [`Dialog::ack_pending`]; an `Err` for an ACK means
    /// "drop it", never answer. CANCEL belongs to the transaction layer and passes. Do not pass
    /// the INVITE that created the dialog.
    pub fn check_request(&mut self, req: &Message) -> Result<(), u16> {
        let method = req.method().ok_or(400u16)?.clone();
        let cseq = req.cseq().map_err(|_| 400u16)?;
        if !self.matches(req) {
            return Err(481);
        }
        match method {
            Method::Ack => {
                if self.is_terminated() {
                    return Err(481);
                }
                if self.ack_pending == Some(cseq.seq) {
                    self.ack_pending = None;
                }
                return Ok(());
            }
            Method::Cancel => return Ok(()),
            _ => {}
        }
        if self.is_terminated() {
            return Err(481);
        }
        if self.remote_seq.is_some_and(|last| cseq.seq <= last) {
            return Err(500);
        }
        self.remote_seq = Some(cseq.seq);
        if method == Method::Invite {
            if self.remote_invite_pending.is_some() {
                return Err(500);
            }
            if self.local_invite_pending.is_some() {
                return Err(491);
            }
        }
        if matches!(method, Method::Invite | Method::Update)
            && negotiate_uas(req, &self.timer_config).is_err()
        {
            return Err(422);
        }
        self.learn_capabilities(req);
        if is_target_refresh(&method) {
            if let Ok(Some(target)) = first_contact(req) {
                self.remote_target = target;
            }
        }
        match method {
            Method::Invite => self.remote_invite_pending = Some(cseq.seq),
            Method::Bye => self.terminate(),
            _ => {}
        }
        Ok(())
    }

    /// An error response to `req` in this dialog: To tag set, and Min-SE on a 422. Do not use
    /// it for ACK.
    pub fn reject(&mut self, req: &Message, code: u16) -> Message {
        let mut res = if code == 422 {
            response_422(req, &self.timer_config)
        } else {
            Message::response_to(req, code, None)
        };
        res.ensure_to_tag(&self.id.local_tag);
        let seq = req.cseq().map(|c| c.seq).ok();
        if req.method() == Some(&Method::Invite) && code >= 200 {
            if seq.is_some() && self.remote_invite_pending == seq {
                self.remote_invite_pending = None;
            }
            if seq == Some(self.invite_seq)
                && self.role == Role::Uas
                && self.state == DialogState::Early
            {
                self.terminate();
            }
        }
        res
    }

    /// Completes a response we send to the peer's request `req` (made with
    /// `Message::response_to`): our To tag; for a 1xx/2xx to the dialog-creating INVITE a copy
    /// of its Record-Route (RFC 3261 §12.1.1); our Contact on 1xx/2xx to target-refresh
    /// requests; for a 2xx to INVITE or UPDATE the negotiated session timer (headers written,
    /// timer restarted at `now`).
    ///
    /// State: a 2xx to the creating INVITE confirms the dialog and sets
    /// [`Dialog::ack_pending`]; a final non-2xx to it terminates the early dialog.
    pub fn decorate_response(&mut self, req: &Message, resp: &mut Message, now: Instant) {
        let (Some(code), Some(method)) = (resp.status(), req.method()) else {
            return;
        };
        let seq = req.cseq().map(|c| c.seq).unwrap_or(0);
        let creating =
            self.role == Role::Uas && *method == Method::Invite && seq == self.invite_seq;
        resp.ensure_to_tag(&self.id.local_tag);
        if (101..300).contains(&code) {
            if creating {
                resp.remove_header("Record-Route");
                for rr in req.header_lines("Record-Route") {
                    resp.push_header("Record-Route", rr);
                }
            }
            if is_target_refresh(method) {
                resp.set_header("Contact", format!("<{}>", self.local_contact));
            }
        }
        if (200..300).contains(&code) && matches!(method, Method::Invite | Method::Update) {
            self.answer_timer(req, resp, now);
        }
        if *method == Method::Invite && code >= 200 {
            if self.remote_invite_pending == Some(seq) {
                self.remote_invite_pending = None;
            }
            if code < 300 {
                self.ack_pending = Some(seq);
                if creating && self.state == DialogState::Early {
                    self.state = DialogState::Confirmed;
                }
            } else if creating && self.state == DialogState::Early {
                self.terminate();
            }
        }
    }

    /// Follows a response to a request we sent in (or to create) this dialog:
    /// - to the creating INVITE: a 1xx updates the early dialog's remote target and route set,
    ///   a 2xx confirms it (route set recomputed from the 2xx), a failure terminates it;
    /// - a 2xx to a target-refresh request updates the remote target from its Contact;
    /// - a 2xx to INVITE or UPDATE restarts the session timer as negotiated (a retransmitted
    ///   2xx does not); a failed refresh is retried after 422 or 491;
    /// - 481 or 408 to any request terminates the dialog (RFC 3261 §12.2.1.2).
    ///
    /// The ACK for a 2xx is the caller's to send ([`Dialog::ack_for_2xx`]), also for
    /// retransmitted 2xx. Responses without a To tag (100 Trying) change nothing.
    pub fn handle_response(
        &mut self,
        request_sent: &Message,
        response: &Message,
        now: Instant,
    ) -> Result<(), DialogError> {
        let code = response.status().ok_or(DialogError::Mismatch)?;
        let cseq = response.cseq()?;
        match dialog_id_of(response) {
            Some(id) if id == self.id => {}
            Some(_) => return Err(DialogError::Mismatch),
            None if code < 200 => return Ok(()),
            None => {
                let from = response.from()?;
                if response.call_id()? != self.id.call_id
                    || from.tag().unwrap_or_default() != self.id.local_tag
                {
                    return Err(DialogError::Mismatch);
                }
            }
        }
        if self.is_terminated() {
            return Ok(());
        }
        let method = cseq.method;
        let creating =
            self.role == Role::Uac && method == Method::Invite && cseq.seq == self.invite_seq;
        self.learn_capabilities(response);
        if method == Method::Invite && code >= 200 && self.local_invite_pending == Some(cseq.seq) {
            self.local_invite_pending = None;
        }
        match code {
            100 => {}
            101..=199 => {
                if creating && self.state == DialogState::Early {
                    self.refresh_routing(response, true)?;
                }
            }
            200..=299 => {
                // A retransmitted 2xx to INVITE (or a late copy of one to UPDATE) must not
                // undo later target refreshes nor restart the session timer.
                let session = matches!(method, Method::Invite | Method::Update);
                if session && self.last_2xx_seq.is_some_and(|last| cseq.seq <= last) {
                    return Ok(());
                }
                if creating {
                    self.state = DialogState::Confirmed;
                    self.refresh_routing(response, false)?;
                } else if is_target_refresh(&method) {
                    if let Some(target) = first_contact(response)? {
                        self.remote_target = target;
                    }
                }
                if session {
                    self.last_2xx_seq = Some(cseq.seq);
                    let negotiated = negotiate_uac(request_sent, response);
                    self.restart_timer(negotiated, true, now);
                }
            }
            _ => {
                if (creating && self.state == DialogState::Early) || code == 481 || code == 408 {
                    self.terminate();
                } else if matches!(method, Method::Invite | Method::Update) {
                    self.refresh_failed(response, now);
                }
            }
        }
        Ok(())
    }

    /// A request we sent got no response at all (the client transaction timed out): like a
    /// 408, this ends the dialog (RFC 3261 §12.2.1.2).
    pub fn request_timed_out(&mut self) {
        self.terminate();
    }

    /// Remote target and route set from a response to the creating INVITE (route set =
    /// Record-Route reversed). A 1xx without Contact keeps the current target.
    fn refresh_routing(
        &mut self,
        response: &Message,
        provisional: bool,
    ) -> Result<(), DialogError> {
        match first_contact(response)? {
            Some(target) => self.remote_target = target,
            None if provisional => {}
            None => return Err(DialogError::BadContact),
        }
        let mut routes = response.routes("Record-Route")?;
        routes.reverse();
        self.route_set = routes;
        Ok(())
    }
}
