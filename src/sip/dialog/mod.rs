//! SIP dialogs (RFC 3261 §12) with session timers (RFC 4028), sans-IO.
//!
//! A [`Dialog`] is the state two user agents share after an INVITE: its identifier (Call-ID,
//! local tag, remote tag), both sequence numbers, the remote target and the route set. It builds
//! in-dialog requests ([`Dialog::new_request`] and the builders in [`build`]), checks incoming
//! ones ([`Dialog::check_request`]), decorates our responses ([`Dialog::decorate_response`]) and
//! follows the responses to our requests ([`Dialog::handle_response`]). [`Dialogs`] keys many
//! dialogs and drives their session timers.
//!
//! Nothing here touches a socket or a clock: the caller passes the current
//! [`Instant`](std::time::Instant) where timing matters and sends what it gets back. The transaction layer below is expected to:
//! - add the top Via (with a fresh branch) to every request built here, except a CANCEL, which
//!   [`cancel_for`] gives the Via of the INVITE it cancels (RFC 3261 §9.1);
//! - retransmit requests and absorb retransmitted requests;
//! - build the ACK for a non-2xx final response itself (RFC 3261 §17.1.1.3), while the ACK for
//!   a 2xx is built here ([`Dialog::ack_for_2xx`]) and sent outside any transaction.

pub mod build;
mod inbound;
pub mod set;
pub mod timer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_builders;
#[cfg(test)]
mod tests_set;
#[cfg(test)]
mod tests_timer;

use crate::sip::message::{Contacts, HeaderError, Message, Method, NameAddr, Uri};

pub use build::{cancel_for, parse_refer_to, sipfrag_status, SubscriptionState};
pub use set::Dialogs;
pub use timer::{Negotiated, Refresher, SessionTimer, SessionTimerConfig, TimerSide};

/// The identifier of a dialog (RFC 3261 §12): Call-ID and both tags, seen from our side. A
/// peer that sent no tag (RFC 2543) has the empty string as its tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

/// Which side of the dialog-creating INVITE we were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Uac,
    Uas,
}

/// Dialog state (RFC 3261 §12): early after a 1xx with a To tag, confirmed after a 2xx,
/// terminated after BYE, a failed INVITE, a 481/408 to an in-dialog request or session expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    Early,
    Confirmed,
    Terminated,
}

/// What a dialog asks its caller to do when a timer fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogAction {
    /// We are the session refresher and half the session interval has passed: send this
    /// request (UPDATE when the peer allows it, else a re-INVITE to which the call layer adds
    /// the current SDP) through a new client transaction.
    SendRefresh(Box<Message>),
    /// No refresh succeeded in time (RFC 4028 §10): the session is dead. Send a BYE
    /// ([`Dialog::bye`]) and tear the call down.
    Expired,
}

/// Why a dialog could not be made from a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("not an INVITE")]
    NotInvite,
    #[error("the response has no To tag")]
    NoToTag,
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(u16),
    #[error("Contact is missing or '*'")]
    BadContact,
    #[error("the message does not belong to this dialog")]
    Mismatch,
}

/// One dialog. Fields are private so that the sequence numbers, tags and timer stay consistent;
/// read them through the accessors.
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    role: Role,
    state: DialogState,
    /// Our address (From in our requests) without tag.
    local: NameAddr,
    /// The peer's address (To in our requests) without tag.
    remote: NameAddr,
    /// The last CSeq number we used; `None` until we send a request (UAS).
    local_seq: Option<u32>,
    /// The highest CSeq number received from the peer; `None` until it sends one (UAC).
    remote_seq: Option<u32>,
    remote_target: Uri,
    /// Route set in the order our requests carry it.
    route_set: Vec<NameAddr>,
    secure: bool,
    local_contact: Uri,
    /// CSeq number of the INVITE that created the dialog.
    invite_seq: u32,
    /// The peer listed UPDATE in its Allow header.
    peer_allows_update: bool,
    /// The peer listed `timer` in Supported or Require.
    peer_supports_timer: bool,
    /// CSeq of an INVITE we sent that has no final response yet.
    local_invite_pending: Option<u32>,
    /// CSeq of an INVITE from the peer that we have not answered finally yet.
    remote_invite_pending: Option<u32>,
    /// CSeq of the INVITE whose 2xx we sent and for which no ACK arrived yet (UAS side).
    ack_pending: Option<u32>,
    /// Highest CSeq number of a 2xx to our INVITE/UPDATE applied so far: a 2xx with a number
    /// not above it is a retransmission or a late copy and changes nothing.
    last_2xx_seq: Option<u32>,
    timer_config: SessionTimerConfig,
    timer: Option<SessionTimer>,
}

fn strip_tag(mut na: NameAddr) -> NameAddr {
    na.params.remove("tag");
    na
}

fn first_contact(msg: &Message) -> Result<Option<Uri>, DialogError> {
    match msg.contacts()? {
        Contacts::Star => Err(DialogError::BadContact),
        Contacts::List(list) => Ok(list.into_iter().next().map(|c| c.uri)),
    }
}

/// Whether a comma-separated list header (Allow, Supported, Require) names `token`.
pub(crate) fn lists(msg: &Message, header: &str, token: &str) -> bool {
    msg.header_values(header)
        .iter()
        .any(|v| v.eq_ignore_ascii_case(token))
}

fn is_sips(uri: Option<&Uri>) -> bool {
    matches!(uri, Some(Uri::Sip(u)) if u.secure)
}

impl Dialog {
    /// The UAS side of a dialog created by an incoming INVITE (RFC 3261 §12.1.1). It starts
    /// early; [`Dialog::decorate_response`] confirms it when our 2xx goes out. The route set is
    /// the INVITE's Record-Route in order, the remote target its Contact. `secure` is set when
    /// the Request-URI is a SIPS URI; the caller must clear it ([`Dialog::set_secure`]) when the
    /// INVITE did not arrive over TLS. Session timers: check the INVITE first with
    /// [`timer::negotiate_uas`] and answer 422 ([`timer::response_422`]) when it is refused.
    pub fn uas_from_invite(
        invite: &Message,
        local_tag: &str,
        local_contact: &Uri,
    ) -> Result<Dialog, DialogError> {
        if invite.method() != Some(&Method::Invite) {
            return Err(DialogError::NotInvite);
        }
        let from = invite.from()?;
        let to = invite.to()?;
        let cseq = invite.cseq()?;
        let remote_target = first_contact(invite)?.ok_or(DialogError::BadContact)?;
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: from.tag().unwrap_or_default().to_string(),
            },
            role: Role::Uas,
            state: DialogState::Early,
            local: strip_tag(to),
            remote: strip_tag(from),
            local_seq: None,
            remote_seq: Some(cseq.seq),
            remote_target,
            route_set: invite.routes("Record-Route")?,
            secure: is_sips(invite.request_uri()),
            local_contact: local_contact.clone(),
            invite_seq: cseq.seq,
            peer_allows_update: lists(invite, "Allow", "UPDATE"),
            peer_supports_timer: lists(invite, "Supported", "timer")
                || lists(invite, "Require", "timer"),
            local_invite_pending: None,
            remote_invite_pending: Some(cseq.seq),
            ack_pending: None,
            last_2xx_seq: None,
            timer_config: SessionTimerConfig::default(),
            timer: None,
        })
    }

    /// The UAC side of a dialog created by a response to our INVITE (RFC 3261 §12.1.2): early
    /// for a 101–199 response with a To tag, confirmed for a 2xx. The route set is the
    /// response's Record-Route reversed, the remote target its Contact (a 1xx without Contact
    /// falls back to the INVITE's Request-URI until a later response brings one). `local_seq`
    /// continues from the INVITE's CSeq.
    ///
    /// This only builds the dialog; pass the same response to [`Dialog::handle_response`]
    /// afterwards to start the session timer ([`Dialogs::on_response`] does both).
    pub fn uac_from_response(
        invite_sent: &Message,
        response: &Message,
    ) -> Result<Dialog, DialogError> {
        if invite_sent.method() != Some(&Method::Invite) {
            return Err(DialogError::NotInvite);
        }
        let code = response.status().ok_or(DialogError::Mismatch)?;
        let state = match code {
            101..=199 => DialogState::Early,
            200..=299 => DialogState::Confirmed,
            _ => return Err(DialogError::NotDialogCreating(code)),
        };
        let from = invite_sent.from()?;
        let to = response.to()?;
        let remote_tag = to.tag().ok_or(DialogError::NoToTag)?.to_string();
        let call_id = invite_sent.call_id()?;
        if response.call_id()? != call_id || response.from()?.tag() != from.tag() {
            return Err(DialogError::Mismatch);
        }
        let cseq = invite_sent.cseq()?;
        let remote_target = match first_contact(response)? {
            Some(uri) => uri,
            None if state == DialogState::Early => invite_sent
                .request_uri()
                .cloned()
                .ok_or(DialogError::NotInvite)?,
            None => return Err(DialogError::BadContact),
        };
        let local_contact = first_contact(invite_sent)?.ok_or(DialogError::BadContact)?;
        let mut route_set = response.routes("Record-Route")?;
        route_set.reverse();
        let timer_config = timer::adopt_request(SessionTimerConfig::default(), invite_sent);
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: from.tag().unwrap_or_default().to_string(),
                remote_tag,
            },
            role: Role::Uac,
            state,
            local: strip_tag(from),
            remote: strip_tag(to),
            local_seq: Some(cseq.seq),
            remote_seq: None,
            remote_target,
            route_set,
            secure: is_sips(invite_sent.request_uri()),
            local_contact,
            invite_seq: cseq.seq,
            peer_allows_update: lists(response, "Allow", "UPDATE"),
            peer_supports_timer: lists(response, "Supported", "timer")
                || lists(response, "Require", "timer"),
            local_invite_pending: (state == DialogState::Early).then_some(cseq.seq),
            remote_invite_pending: None,
            ack_pending: None,
            last_2xx_seq: None,
            timer_config,
            timer: None,
        })
    }

    /// Replaces the session-timer settings used for refreshes and for answering the peer's.
    pub fn with_session_timer_config(mut self, config: SessionTimerConfig) -> Dialog {
        self.timer_config = config;
        self
    }

    pub fn set_session_timer_config(&mut self, config: SessionTimerConfig) {
        self.timer_config = config;
    }

    pub fn session_timer_config(&self) -> &SessionTimerConfig {
        &self.timer_config
    }

    pub fn id(&self) -> &DialogId {
        &self.id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn state(&self) -> DialogState {
        self.state
    }

    pub fn is_terminated(&self) -> bool {
        self.state == DialogState::Terminated
    }

    /// Ends the dialog locally (no message is sent) and stops its session timer.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
        self.timer = None;
        self.ack_pending = None;
    }

    /// Our URI (From of our requests), without tag.
    pub fn local_uri(&self) -> &Uri {
        &self.local.uri
    }

    /// The peer's URI (To of our requests), without tag.
    pub fn remote_uri(&self) -> &Uri {
        &self.remote.uri
    }

    /// Our address with display name (no tag).
    pub fn local_party(&self) -> &NameAddr {
        &self.local
    }

    /// The peer's address with display name (no tag).
    pub fn remote_party(&self) -> &NameAddr {
        &self.remote
    }

    /// The last CSeq number we used (`None`: we have not sent a request yet).
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq number the peer used (`None`: it has not sent a request yet).
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Where in-dialog requests go (the peer's latest Contact).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// Route set in the order our requests carry it.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    pub fn is_secure(&self) -> bool {
        self.secure
    }

    pub fn set_secure(&mut self, secure: bool) {
        self.secure = secure;
    }

    pub fn local_contact(&self) -> &Uri {
        &self.local_contact
    }

    /// CSeq number of the INVITE that created the dialog.
    pub fn invite_seq(&self) -> u32 {
        self.invite_seq
    }

    /// Whether the peer allows UPDATE (refreshes then use UPDATE rather than re-INVITE).
    pub fn peer_allows_update(&self) -> bool {
        self.peer_allows_update
    }

    /// CSeq number of an INVITE we answered with 2xx and whose ACK has not arrived: while set,
    /// the UAS core retransmits that 2xx (RFC 3261 §13.3.1.4) and gives up after 64·T1.
    pub fn ack_pending(&self) -> Option<u32> {
        self.ack_pending
    }

    /// The running session timer, if one was negotiated.
    pub fn session_timer(&self) -> Option<&SessionTimer> {
        self.timer.as_ref()
    }

    /// Whether `msg` (request or response) carries this dialog's Call-ID and tags.
    pub fn matches(&self, msg: &Message) -> bool {
        dialog_id_of(msg).is_some_and(|id| id == self.id)
    }

    /// Records that the peer's message lists UPDATE or `timer` (Allow/Supported).
    fn learn_capabilities(&mut self, msg: &Message) {
        if msg.header("Allow").is_some() {
            self.peer_allows_update = lists(msg, "Allow", "UPDATE");
        }
        if lists(msg, "Supported", "timer") || lists(msg, "Require", "timer") {
            self.peer_supports_timer = true;
        }
    }
}

/// The dialog identifier of a message as seen by its receiver: for a request, local tag = To
/// tag and remote tag = From tag; for a response, the other way round. `None` when a header is
/// missing or the To tag is absent (not an in-dialog message).
pub fn dialog_id_of(msg: &Message) -> Option<DialogId> {
    let call_id = msg.call_id().ok()?.to_string();
    let from = msg.from().ok()?;
    let to = msg.to().ok()?;
    let from_tag = from.tag().unwrap_or_default().to_string();
    let to_tag = to.tag()?.to_string();
    Some(if msg.is_request() {
        DialogId {
            call_id,
            local_tag: to_tag,
            remote_tag: from_tag,
        }
    } else {
        DialogId {
            call_id,
            local_tag: from_tag,
            remote_tag: to_tag,
        }
    })
}
