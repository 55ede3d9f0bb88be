//! The endpoint's window onto the media side. Whenever SDP is exchanged — an INVITE's offer,
//! a re-INVITE or UPDATE, our offer in an outbound INVITE or a session refresh, the answer in
//! a 2xx or a late-offer ACK — the endpoint asks a [`SessionMedia`], synchronously: it
//! allocates ports and negotiates codecs without blocking, and says 488 when nothing fits.
//! The call layer (`crate::call`) provides the real one; [`HeldMedia`] answers with held,
//! inactive media and serves the endpoint's own tests and a server without a media engine.

use super::sdp;
use crate::sip::message::Message;

/// Why the media side refused an offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 488 Not Acceptable Here, with this reason phrase (no common codec, not SDP, …).
    NotAcceptable(String),
    /// 503 Service Unavailable with Retry-After: no capacity now (no RTP port free); a carrier
    /// may try another route.
    Unavailable(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotAcceptable(r) | Refusal::Unavailable(r) => f.write_str(r),
        }
    }
}

/// See the module documentation.
pub trait SessionMedia: Send {
    /// The offer of a new inbound INVITE for `number` (an empty body is a late offer: return
    /// our offer, whose answer comes in the ACK).
    fn inbound_offer(
        &mut self,
        call_id: &str,
        number: &str,
        invite: &Message,
    ) -> Result<Vec<u8>, Refusal>;
    /// A new offer inside the call (re-INVITE or UPDATE with a body): hold, resume, a moved
    /// peer.
    fn reoffer(&mut self, call_id: &str, request: &Message) -> Result<Vec<u8>, Refusal>;
    /// Our offer for a new outbound call; `link` is the call it belongs with (the caller's
    /// leg, whose media should sit on the same shard).
    fn outbound_offer(&mut self, call_id: &str, link: Option<&str>) -> Result<Vec<u8>, Refusal>;
    /// Our offer for a session refresh re-INVITE (the current session, unchanged).
    fn refresh_offer(&mut self, call_id: &str) -> Vec<u8>;
    /// The answer to our offer (2xx of an outbound INVITE or of a refresh re-INVITE, or the ACK
    /// of a late offer).
    fn answer(&mut self, call_id: &str, message: &Message) -> Result<(), Refusal>;
    /// The call is over; its media can go.
    fn ended(&mut self, call_id: &str);
}

/// Held media: PCMU/PCMA and telephone-event marked `inactive`, no ports.
#[derive(Debug, Clone)]
pub struct HeldMedia {
    /// `host[:port]` written in `o=` and `c=`.
    pub host: String,
}

impl SessionMedia for HeldMedia {
    fn inbound_offer(&mut self, _: &str, _: &str, invite: &Message) -> Result<Vec<u8>, Refusal> {
        sdp::answer_for(invite, &self.host).map_err(|r| Refusal::NotAcceptable(r.into()))
    }

    fn reoffer(&mut self, _: &str, request: &Message) -> Result<Vec<u8>, Refusal> {
        sdp::answer_for(request, &self.host).map_err(|r| Refusal::NotAcceptable(r.into()))
    }

    fn outbound_offer(&mut self, _: &str, _: Option<&str>) -> Result<Vec<u8>, Refusal> {
        sdp::offer(&self.host).map_err(|r| Refusal::NotAcceptable(r.into()))
    }

    fn refresh_offer(&mut self, _: &str) -> Vec<u8> {
        sdp::offer(&self.host).unwrap_or_default()
    }

    fn answer(&mut self, _: &str, _: &Message) -> Result<(), Refusal> {
        Ok(())
    }

    fn ended(&mut self, _: &str) {}
}
