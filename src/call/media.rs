//! The media side of each call leg, as the SIP endpoint sees it ([`SessionMedia`]): an RTP
//! stream allocated from the engine for every offer, SDP negotiated with `media::sdp`
//! (488 when nothing fits), the engine configured with the result, and the call layer told
//! that a leg's media is ready or gone. Runs inside the SIP task, so everything here is
//! synchronous and non-blocking.

use std::collections::HashMap;
use std::net::IpAddr;

use tokio::sync::mpsc::UnboundedSender;

use crate::media::engine::{MediaEngine, StreamId};
use crate::media::sdp::{self, Direction, LocalMedia, MediaParams, G711};
use crate::sip::endpoint::{Refusal, SessionMedia};
use crate::sip::message::Message;

/// What the call layer hears about legs, in order per leg.
#[derive(Debug, Clone, PartialEq)]
pub enum LegEvent {
    /// An outbound leg is being dialled for the call `link` (before its INVITE is sent, so
    /// before anything else about it).
    Dialing { call_id: String, link: String },
    /// Negotiated (inbound: when we answered the offer; outbound: when the answer came).
    Ready {
        call_id: String,
        stream: StreamId,
        number: Option<String>,
        link: Option<String>,
        outbound: bool,
        params: MediaParams,
    },
    /// The leg's media was released (the call ended).
    Gone { call_id: String, stream: StreamId },
}

struct Leg {
    stream: StreamId,
    local: LocalMedia,
    number: Option<String>,
    link: Option<String>,
    outbound: bool,
    /// An offer of ours waits for its answer.
    offered: bool,
    /// What was negotiated last, and the last SDP we sent (a new one with different content
    /// gets the next version, RFC 3264 §8).
    negotiated: Option<MediaParams>,
    sent: Vec<u8>,
}

impl Leg {
    /// SDP from `local` with the version moved on if it differs from what we sent last.
    fn stamp(&mut self, make: impl Fn(&LocalMedia) -> Vec<u8>) -> Vec<u8> {
        let first = make(&self.local);
        self.restamp(first, make)
    }

    /// [`Leg::stamp`] for SDP already rendered from `local` (rendered again only when its
    /// version has to move on).
    fn restamp(&mut self, mut sdp: Vec<u8>, make: impl Fn(&LocalMedia) -> Vec<u8>) -> Vec<u8> {
        if !self.sent.is_empty() && sdp != self.sent {
            self.local.version += 1;
            sdp = make(&self.local);
        }
        self.sent = sdp.clone();
        sdp
    }
}

/// See the module documentation.
pub struct CallMedia {
    engine: MediaEngine,
    public_ip: IpAddr,
    legs: HashMap<String, Leg>,
    events: UnboundedSender<LegEvent>,
}

const DTMF_PT: u8 = 101;

impl CallMedia {
    pub fn new(engine: MediaEngine, public_ip: IpAddr, events: UnboundedSender<LegEvent>) -> Self {
        CallMedia {
            engine,
            public_ip,
            legs: HashMap::new(),
            events,
        }
    }

    fn allocate(
        &mut self,
        call_id: &str,
        near: Option<StreamId>,
        number: Option<String>,
        link: Option<String>,
        outbound: bool,
    ) -> Result<&mut Leg, Refusal> {
        let stream = self.engine.allocate(near).map_err(|e| {
            tracing::warn!(%call_id, error = %e, "no RTP port for a call");
            Refusal::Unavailable("Service Unavailable (no media port free)".into())
        })?;
        let local = LocalMedia {
            addr: self.public_ip,
            port: stream.addr.port(),
            session_id: u64::from(rand::random::<u32>()),
            version: 1,
            codecs: vec![G711::Pcmu, G711::Pcma],
            dtmf_pt: DTMF_PT,
            direction: Direction::SendRecv,
        };
        if let Some(old) = self.legs.remove(call_id) {
            self.engine.release(old.stream);
        }
        Ok(self.legs.entry(call_id.to_string()).or_insert(Leg {
            stream: stream.id,
            local,
            number,
            link,
            outbound,
            offered: false,
            negotiated: None,
            sent: Vec::new(),
        }))
    }

    fn ready(&mut self, call_id: &str, params: MediaParams) {
        if let Some(leg) = self.legs.get_mut(call_id) {
            leg.negotiated = Some(params.clone());
            self.engine.configure(leg.stream, params.clone());
            let _ = self.events.send(LegEvent::Ready {
                call_id: call_id.to_string(),
                stream: leg.stream,
                number: leg.number.clone(),
                link: leg.link.clone(),
                outbound: leg.outbound,
                params,
            });
        }
    }

    /// Answers `msg`'s offer for the leg `call_id` (which exists).
    fn answer_offer(&mut self, call_id: &str, msg: &Message) -> Result<Vec<u8>, Refusal> {
        let content_type = msg.header("Content-Type").unwrap_or("application/sdp");
        if !sdp::is_sdp(content_type) {
            return Err(Refusal::NotAcceptable(
                "Not Acceptable Here (only application/sdp bodies)".into(),
            ));
        }
        let leg = self
            .legs
            .get_mut(call_id)
            .ok_or_else(|| Refusal::NotAcceptable("no media for the call".into()))?;
        let (first, params) = sdp::answer(&msg.body, &leg.local)
            .map_err(|e| Refusal::NotAcceptable(format!("Not Acceptable Here ({})", e.reason())))?;
        let body = &msg.body;
        let answer = leg.restamp(first, |local| {
            sdp::answer(body, local).map(|a| a.0).unwrap_or_default()
        });
        leg.offered = false;
        self.ready(call_id, params);
        Ok(answer)
    }

    fn release(&mut self, call_id: &str) {
        if let Some(leg) = self.legs.remove(call_id) {
            self.engine.release(leg.stream);
            let _ = self.events.send(LegEvent::Gone {
                call_id: call_id.to_string(),
                stream: leg.stream,
            });
        }
    }
}

impl SessionMedia for CallMedia {
    fn inbound_offer(
        &mut self,
        call_id: &str,
        number: &str,
        invite: &Message,
    ) -> Result<Vec<u8>, Refusal> {
        let leg = self.allocate(call_id, None, Some(number.to_string()), None, false)?;
        if invite.body.is_empty() {
            // Late offer: ours goes in the 2xx, the answer comes in the ACK.
            leg.offered = true;
            return Ok(leg.stamp(sdp::offer));
        }
        let r = self.answer_offer(call_id, invite);
        if r.is_err() {
            self.release(call_id);
        }
        r
    }

    fn reoffer(&mut self, call_id: &str, request: &Message) -> Result<Vec<u8>, Refusal> {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return Err(Refusal::NotAcceptable(
                "Not Acceptable Here (no media for the call)".into(),
            ));
        };
        if request.body.is_empty() {
            leg.offered = true;
            return Ok(leg.stamp(sdp::offer));
        }
        self.answer_offer(call_id, request)
    }

    fn outbound_offer(&mut self, call_id: &str, link: Option<&str>) -> Result<Vec<u8>, Refusal> {
        let near = link.and_then(|l| self.legs.get(l)).map(|l| l.stream);
        let leg = self.allocate(call_id, near, None, link.map(str::to_string), true)?;
        leg.offered = true;
        let offer = leg.stamp(sdp::offer);
        if let Some(link) = link {
            let _ = self.events.send(LegEvent::Dialing {
                call_id: call_id.to_string(),
                link: link.to_string(),
            });
        }
        Ok(offer)
    }

    /// The session as negotiated (its codec, our direction), so a refresh changes nothing;
    /// its answer is taken like any other.
    fn refresh_offer(&mut self, call_id: &str) -> Vec<u8> {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return Vec::new();
        };
        let current = leg.negotiated.as_ref().map(|n| (n.codec, n.direction));
        leg.offered = true;
        leg.stamp(move |local| {
            let mut l = local.clone();
            if let Some((codec, direction)) = current {
                l.codecs = vec![codec];
                l.direction = direction;
            }
            sdp::offer(&l)
        })
    }

    fn answer(&mut self, call_id: &str, message: &Message) -> Result<(), Refusal> {
        let Some(leg) = self.legs.get_mut(call_id) else {
            return Ok(());
        };
        if !leg.offered {
            return Ok(());
        }
        leg.offered = false;
        match sdp::accept_answer(&message.body, &leg.local) {
            Ok(params) => {
                self.ready(call_id, params);
                Ok(())
            }
            Err(e) => Err(Refusal::NotAcceptable(e.reason())),
        }
    }

    fn ended(&mut self, call_id: &str) {
        self.release(call_id);
    }
}
