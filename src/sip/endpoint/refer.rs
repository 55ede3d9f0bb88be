//! Blind transfer by REFER (RFC 3515) inside an answered call: the transferor (an agent's
//! softphone, usually) names a target in Refer-To; we accept with 202, tell the call layer
//! ([`Event::TransferRequested`]) and report the outcome at once with a NOTIFY whose sipfrag is
//! `SIP/2.0 200 OK` (the transferor then hangs up; the call layer places the new leg). Attended
//! transfer (`Replaces` in the Refer-To URI) is refused with 501 for now.

use std::time::Instant;

use super::calls::Phase;
use super::{Endpoint, Event};
use crate::sip::dialog::{parse_refer_to, DialogId, SubscriptionState};
use crate::sip::message::{Message, Uri};
use crate::sip::transaction::ServerKey;

/// Why a REFER is refused: the status and its reason phrase.
type Refused = (u16, &'static str);

/// The target user of a REFER's single Refer-To: its URI's user part (or a tel: number).
fn refer_target(req: &Message) -> Result<String, Refused> {
    if req.header_lines("Refer-To").count() != 1 {
        return Err((400, "Bad Request (one Refer-To needed)"));
    }
    let to = parse_refer_to(req).map_err(|_| (400, "Bad Request (unreadable Refer-To)"))?;
    if let Uri::Sip(u) = &to.uri {
        let replaces = u.headers.as_deref().is_some_and(|h| {
            h.split('&').any(|kv| {
                kv.split('=')
                    .next()
                    .is_some_and(|k| k.trim().eq_ignore_ascii_case("replaces"))
            })
        });
        if replaces {
            return Err((501, "Not Implemented (attended transfer)"));
        }
    }
    to.uri
        .user_or_number()
        .filter(|t| !t.is_empty())
        .ok_or((400, "Bad Request (Refer-To names no user)"))
}

impl Endpoint {
    /// A REFER in the dialog `id` (already matched and sequence-checked).
    pub(super) fn on_refer(&mut self, key: ServerKey, req: Message, id: DialogId, now: Instant) {
        let call_id = id.call_id.clone();
        let call = self
            .calls
            .by_id
            .get(&call_id)
            .filter(|c| c.phase == Phase::Answered)
            .map(|c| c.peer);
        let outcome = match call {
            // Transfers only of a call in progress (not while it rings or ends).
            None => Err((603, "Decline")),
            Some(peer) => refer_target(&req).map(|t| (t, peer)),
        };
        let (target, peer) = match outcome {
            Ok(v) => v,
            Err((code, reason)) => {
                let mut res = Message::response_to(&req, code, Some(reason));
                self.dialogs
                    .update(&id, |d| d.decorate_response(&req, &mut res, now));
                self.reply(&key, res, now);
                return;
            }
        };
        // RFC 4488: a transferor that wants no NOTIFY says `Refer-Sub: false`.
        let no_sub = req
            .header("Refer-Sub")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        let mut res = Message::response_to(&req, 202, None);
        if no_sub {
            res.push_header("Refer-Sub", "false");
        }
        self.dialogs
            .update(&id, |d| d.decorate_response(&req, &mut res, now));
        self.reply(&key, res, now);
        self.events.push_back(Event::TransferRequested {
            call_id: call_id.clone(),
            target,
        });
        if no_sub {
            return;
        }
        // The transfer is the call layer's from here; the implicit subscription ends now. From
        // the second REFER of a dialog on, the NOTIFY names it by its CSeq (RFC 3515 §2.4.6).
        let earlier = self.calls.by_id.get_mut(&call_id).map_or(0, |c| {
            c.refers += 1;
            c.refers - 1
        });
        let refer_id = (earlier > 0)
            .then(|| req.cseq().ok().map(|c| c.seq))
            .flatten();
        let state = SubscriptionState::Terminated {
            reason: Some("noresource".into()),
        };
        let Some(notify) = self
            .dialogs
            .update(&id, |d| d.notify_refer(refer_id, &state, 200, "OK"))
        else {
            return;
        };
        if let Some(k) = self.send_request(notify.clone(), peer, now) {
            self.calls.by_client.insert(k, (call_id, notify));
        }
    }
}
