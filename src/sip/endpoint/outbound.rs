//! What the endpoint starts on its own: OPTIONS pings to trunks, registration to carriers that
//! want it (digest, refreshed before expiry, retried after failures), and the responses to
//! outbound calls (placed by [`super::dial`]). Also routes every response to its owner.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::calls::Phase;
use super::{Endpoint, Event};
use crate::config::{Trunk, TrunkRegister};
use crate::sip::auth::{pick_challenge, respond};
use crate::sip::message::{new_call_id, new_tag, Message, Method, SipUri, Uri};
use crate::sip::transaction::{self, ClientKey};
use crate::sip::transport::{Peer, Transport};

/// Retry delay after a failed registration or an unreachable registrar.
const REGISTER_RETRY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct OutReg {
    trunk: String,
    cfg: TrunkRegister,
    addr: Option<SocketAddr>,
    domain: String,
    call_id: String,
    tag: String,
    cseq: u32,
    expires: u32,
    next: Option<Instant>,
    /// The nonce we last answered; a second 401 for it means the password is wrong.
    answered_nonce: Option<String>,
    nc: u32,
    registered: bool,
}

/// Outbound registrations and pings in flight.
#[derive(Debug, Default)]
pub(super) struct Outbound {
    regs: Vec<OutReg>,
    reg_keys: HashMap<ClientKey, usize>,
    pings: HashMap<ClientKey, String>,
}

impl Outbound {
    pub fn new(
        trunks: &[Trunk],
        resolve: impl Fn(&str) -> Option<SocketAddr>,
        now: Instant,
    ) -> Outbound {
        let regs = trunks
            .iter()
            .filter_map(|t| {
                let r = t.register.clone()?;
                let host = r
                    .registrar
                    .rsplit_once(':')
                    .map_or(r.registrar.as_str(), |(h, _)| h);
                Some(OutReg {
                    trunk: t.name.clone(),
                    addr: resolve(&r.registrar),
                    domain: r.domain.clone().unwrap_or_else(|| host.to_string()),
                    call_id: new_call_id(),
                    tag: new_tag(),
                    cseq: 0,
                    expires: r.expires_secs,
                    next: Some(now),
                    answered_nonce: None,
                    nc: 0,
                    registered: false,
                    cfg: r,
                })
            })
            .collect();
        Outbound {
            regs,
            ..Outbound::default()
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.regs.iter().filter_map(|r| r.next).min()
    }

    /// Whether the trunk's registration is current.
    pub fn registered(&self, trunk: &str) -> Option<bool> {
        self.regs
            .iter()
            .find(|r| r.trunk == trunk)
            .map(|r| r.registered)
    }
}

impl Endpoint {
    pub(super) fn outbound_timeout(&mut self, now: Instant) {
        for (trunk, addr) in self.trunks.due_pings(now) {
            let uri = Uri::Sip(SipUri::new(None, &addr.ip().to_string(), Some(addr.port())));
            let mut req = self.new_out_of_dialog(Method::Options, uri.clone(), uri);
            req.push_header("Accept", "application/sdp");
            let peer = Peer {
                transport: Transport::Udp,
                addr,
            };
            match self.send_request(req, peer, now) {
                Some(k) => {
                    self.outbound.pings.insert(k, trunk);
                }
                None => self.ping_done(&trunk, None),
            }
        }
        let due: Vec<usize> = (0..self.outbound.regs.len())
            .filter(|i| self.outbound.regs[*i].next.is_some_and(|n| n <= now))
            .collect();
        for i in due {
            self.outbound.regs[i].answered_nonce = None;
            self.send_register(i, None, now);
        }
    }

    fn ping_done(&mut self, trunk: &str, code: Option<u16>) {
        if let Some(health) = self.trunks.ping_result(trunk, code) {
            tracing::info!(trunk, ?health, "trunk health changed");
            self.events.push_back(Event::TrunkHealth {
                trunk: trunk.to_string(),
                health,
            });
        }
    }

    /// A request outside any dialog from us: From with a new tag, To, Call-ID, CSeq 1.
    pub(super) fn new_out_of_dialog(&self, method: Method, uri: Uri, to: Uri) -> Message {
        let mut req = Message::new_request(method.clone(), uri);
        req.push_header(
            "From",
            format!("<{}>;tag={}", Uri::Sip(self.our_uri("hotline")), new_tag()),
        );
        req.push_header("To", format!("<{to}>"));
        req.push_header("Call-ID", new_call_id());
        req.push_header("CSeq", format!("1 {method}"));
        req
    }

    fn send_register(&mut self, i: usize, authorization: Option<(bool, String)>, now: Instant) {
        let contact = Uri::Sip(self.our_uri(&self.outbound.regs[i].cfg.username));
        let r = &mut self.outbound.regs[i];
        r.next = None;
        let Some(addr) = r.addr else {
            r.next = Some(now + REGISTER_RETRY);
            return;
        };
        r.cseq += 1;
        let aor = format!("sip:{}@{}", r.cfg.username, r.domain);
        let Ok(uri) = Uri::parse(&format!("sip:{}", r.domain)) else {
            return;
        };
        let mut req = Message::new_request(Method::Register, uri);
        req.push_header("From", format!("<{aor}>;tag={}", r.tag));
        req.push_header("To", format!("<{aor}>"));
        req.push_header("Call-ID", r.call_id.clone());
        req.push_header("CSeq", format!("{} REGISTER", r.cseq));
        req.push_header("Contact", format!("<{contact}>"));
        req.push_header("Expires", r.expires.to_string());
        if let Some((proxy, value)) = authorization {
            let name = if proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            };
            req.push_header(name, value);
        }
        let peer = Peer {
            transport: Transport::Udp,
            addr,
        };
        match self.send_request(req, peer, now) {
            Some(k) => {
                self.outbound.reg_keys.insert(k, i);
            }
            None => self.outbound.regs[i].next = Some(now + REGISTER_RETRY),
        }
    }

    fn register_result(&mut self, i: usize, ok: bool, detail: String, retry: Option<Instant>) {
        let r = &mut self.outbound.regs[i];
        r.next = retry;
        if r.registered != ok || !ok {
            r.registered = ok;
            if ok {
                tracing::info!(trunk = %r.trunk, %detail, "registered to the carrier");
            } else {
                tracing::warn!(trunk = %r.trunk, %detail, "registration to the carrier failed");
            }
            self.events.push_back(Event::TrunkRegistration {
                trunk: r.trunk.clone(),
                registered: ok,
                detail,
            });
        }
    }

    fn register_response(&mut self, i: usize, res: Message, now: Instant) {
        let code = res.status().unwrap_or(0);
        if code < 200 {
            return;
        }
        match code {
            200..=299 => {
                let ours = Uri::Sip(self.our_uri(&self.outbound.regs[i].cfg.username));
                let r = &self.outbound.regs[i];
                let granted = match res.contacts() {
                    Ok(crate::sip::message::Contacts::List(list)) => {
                        list.iter().filter(|c| c.uri == ours).find_map(|c| {
                            c.params
                                .get("expires")
                                .flatten()
                                .and_then(|e| e.parse().ok())
                        })
                    }
                    _ => None,
                }
                .or(res.expires().ok().flatten())
                .unwrap_or(r.expires)
                .max(10);
                // Refresh when 80 % of the granted time has passed.
                let refresh = now + Duration::from_secs(u64::from(granted) * 4 / 5);
                self.outbound.regs[i].nc = 0;
                self.register_result(i, true, format!("{granted} s granted"), Some(refresh));
            }
            401 | 407 => {
                let proxy = code == 407;
                let header = if proxy {
                    "Proxy-Authenticate"
                } else {
                    "WWW-Authenticate"
                };
                let challenge = pick_challenge(res.header_lines(header)).map(str::to_string);
                let r = &mut self.outbound.regs[i];
                let Some(challenge) = challenge else {
                    self.register_result(
                        i,
                        false,
                        format!("{code} without a challenge"),
                        Some(now + REGISTER_RETRY),
                    );
                    return;
                };
                let nonce = crate::sip::auth::Challenge::parse(&challenge)
                    .map(|c| (c.nonce, c.stale))
                    .ok();
                // A stale nonce is answered once with the new nonce; the same nonce again, or
                // a second plain challenge, means the credentials are wrong.
                let new_nonce = nonce.as_ref().map(|(n, _)| n) != r.answered_nonce.as_ref();
                let stale = nonce.as_ref().is_some_and(|(_, s)| *s) && new_nonce;
                if r.answered_nonce.is_some() && !stale {
                    self.register_result(
                        i,
                        false,
                        "credentials refused".into(),
                        Some(now + REGISTER_RETRY),
                    );
                    return;
                }
                // The nonce count restarts with every new nonce (RFC 7616 §3.4).
                r.nc = if new_nonce { 1 } else { r.nc + 1 };
                let uri = format!("sip:{}", r.domain);
                match respond(
                    &challenge,
                    "REGISTER",
                    &uri,
                    &r.cfg.username,
                    &r.cfg.password,
                    &new_tag(),
                    r.nc,
                ) {
                    Ok(value) => {
                        r.answered_nonce = nonce.map(|(n, _)| n);
                        self.send_register(i, Some((proxy, value)), now);
                    }
                    Err(e) => self.register_result(
                        i,
                        false,
                        format!("cannot answer the challenge: {e}"),
                        Some(now + REGISTER_RETRY),
                    ),
                }
            }
            423 => {
                let r = &mut self.outbound.regs[i];
                r.answered_nonce = None;
                match res.delta("Min-Expires") {
                    Ok(Some(min)) if min > r.expires && min <= 86_400 => {
                        r.expires = min;
                        self.send_register(i, None, now);
                    }
                    _ => self.register_result(
                        i,
                        false,
                        "423 without a usable Min-Expires".into(),
                        Some(now + REGISTER_RETRY),
                    ),
                }
            }
            _ => self.register_result(
                i,
                false,
                format!("{code} from the registrar"),
                Some(now + REGISTER_RETRY),
            ),
        }
    }

    /// Routes a response from a client transaction to whoever started it.
    pub(super) fn on_response(&mut self, key: ClientKey, res: Message, now: Instant) {
        if let Some(trunk) = self.outbound.pings.get(&key).cloned() {
            if res.status().is_some_and(|c| c >= 200) {
                self.outbound.pings.remove(&key);
                self.ping_done(&trunk, res.status());
            }
            return;
        }
        if let Some(&i) = self.outbound.reg_keys.get(&key) {
            if res.status().is_some_and(|c| c >= 200) {
                self.outbound.reg_keys.remove(&key);
            }
            self.register_response(i, res, now);
            return;
        }
        if self.calls.abandoned.contains_key(&key) {
            self.abandoned_response(&key, res, now);
            return;
        }
        if self.calls.by_client.contains_key(&key) {
            self.calls_response(&key, res, now);
            return;
        }
        self.on_stray_response(res);
    }

    pub(super) fn send_cancel(&mut self, invite: &Message, peer: Peer, now: Instant) {
        if let Some(cancel) = transaction::cancel_for(invite) {
            let _ = self.tx.send_request(cancel, peer, now);
        }
    }

    /// A response to an outbound INVITE whose call was already hung up.
    fn abandoned_response(&mut self, key: &ClientKey, res: Message, now: Instant) {
        let code = res.status().unwrap_or(0);
        let Some(a) = self.calls.abandoned.get_mut(key) else {
            return;
        };
        if code < 200 {
            if !a.cancel_sent {
                a.cancel_sent = true;
                let (invite, peer) = (a.invite.clone(), a.peer);
                self.send_cancel(&invite, peer, now);
            }
            return;
        }
        let Some(a) = self.calls.abandoned.remove(key) else {
            return;
        };
        if (200..300).contains(&code) {
            // Answered after all: acknowledge and end it at once.
            if let Ok(Some(id)) = self.dialogs.on_response(&a.invite, &res, now) {
                let seq = a.invite.cseq().map(|c| c.seq).unwrap_or(1);
                let ack = self.dialogs.get(&id).map(|d| d.ack_for_2xx(seq));
                let bye = self.dialogs.update(&id, |d| d.bye());
                if let Some(ack) = ack {
                    self.send_ack(ack, a.peer);
                }
                if let Some(bye) = bye {
                    self.send_request(bye, a.peer, now);
                }
                self.dialogs.remove(&id);
            }
        }
        let call_id = a.invite.call_id().unwrap_or_default().to_string();
        if let Some(tag) = a
            .invite
            .from()
            .ok()
            .and_then(|f| f.tag().map(str::to_string))
        {
            if !self.dialogs.end_early_dialogs(&call_id, &tag).is_empty() {
                self.dialogs.remove_terminated();
            }
        }
    }

    /// A 2xx retransmission for an INVITE we already acknowledged: acknowledge it again.
    pub(super) fn on_stray_response(&mut self, res: Message) {
        let is_invite_2xx = res.status().is_some_and(|c| (200..300).contains(&c))
            && res.cseq().is_ok_and(|c| c.method == Method::Invite);
        if !is_invite_2xx {
            return;
        }
        let Some(d) = self.dialogs.find(&res) else {
            return;
        };
        let Ok(seq) = res.cseq().map(|c| c.seq) else {
            return;
        };
        let ack = d.ack_for_2xx(seq);
        let call_id = d.id().call_id.clone();
        if let Some(peer) = self.calls.by_id.get(&call_id).map(|c| c.peer) {
            self.send_ack(ack, peer);
        }
    }

    pub(super) fn send_ack(&mut self, mut ack: Message, peer: Peer) {
        transaction::add_top_via(&mut ack, peer.transport, &self.contact_host);
        ack.push_header("Max-Forwards", "70");
        self.tx.send_stateless(ack, peer);
    }

    /// A failed client transaction of ours: true when it was a ping or a registration.
    pub(super) fn outbound_failure(&mut self, key: &ClientKey, now: Instant) -> bool {
        if let Some(trunk) = self.outbound.pings.remove(key) {
            self.ping_done(&trunk, None);
            return true;
        }
        if let Some(i) = self.outbound.reg_keys.remove(key) {
            self.register_result(
                i,
                false,
                "registrar did not answer".into(),
                Some(now + REGISTER_RETRY),
            );
            return true;
        }
        false
    }

    /// Whether a trunk's registration to its carrier is current (`None`: it does not register).
    pub fn trunk_registered(&self, trunk: &str) -> Option<bool> {
        self.outbound.registered(trunk)
    }

    /// A carrier that challenges our INVITE (401/407) gets it again with credentials: the
    /// trunk's `[trunks.register]` account, same Call-ID and From tag, next CSeq (RFC 3261
    /// §22.2). Returns false when there is nothing to answer with, or it was tried already.
    fn answer_invite_challenge(
        &mut self,
        call_id: &str,
        sent: &Message,
        res: &Message,
        now: Instant,
    ) -> bool {
        let Some(call) = self.calls.by_id.get(call_id) else {
            return false;
        };
        if call.auth_tried {
            return false;
        }
        let peer = call.peer;
        let Some(account) = call
            .trunk
            .as_ref()
            .and_then(|t| self.cfg.trunks.iter().find(|c| &c.name == t))
            .and_then(|t| t.register.clone())
        else {
            return false;
        };
        let proxy = res.status() == Some(407);
        let header = if proxy {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        let Some(challenge) = pick_challenge(res.header_lines(header)) else {
            return false;
        };
        let (Some(uri), Ok(cseq)) = (sent.request_uri().map(|u| u.to_string()), sent.cseq()) else {
            return false;
        };
        let Ok(value) = respond(
            challenge,
            "INVITE",
            &uri,
            &account.username,
            &account.password,
            &new_tag(),
            1,
        ) else {
            return false;
        };
        let mut invite = sent.clone();
        invite.remove_header("Via");
        invite.set_header("CSeq", format!("{} INVITE", cseq.seq + 1));
        invite.set_header(
            if proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            },
            value,
        );
        transaction::add_top_via(&mut invite, peer.transport, &self.contact_host);
        let Ok(key) = self.tx.send_request(invite.clone(), peer, now) else {
            return false;
        };
        self.calls
            .by_client
            .insert(key.clone(), (call_id.to_string(), invite.clone()));
        if let Some(c) = self.calls.by_id.get_mut(call_id) {
            c.auth_tried = true;
            c.phase = Phase::Dialing {
                invite_key: key,
                invite: Box::new(invite),
            };
        }
        true
    }

    /// The final (or provisional) response to an outbound INVITE.
    pub(super) fn outbound_invite_response(
        &mut self,
        call_id: &str,
        sent: &Message,
        res: &Message,
        dialog: Option<crate::sip::dialog::DialogId>,
        now: Instant,
    ) {
        let code = res.status().unwrap_or(0);
        if code < 200 {
            if let Some(c) = self.calls.by_id.get_mut(call_id) {
                c.provisional = true;
                if code >= 180 && !c.ringing {
                    c.ringing = true;
                    self.events.push_back(Event::CallRinging {
                        call_id: call_id.to_string(),
                    });
                }
            }
            return;
        }
        if matches!(code, 401 | 407) && self.answer_invite_challenge(call_id, sent, res, now) {
            return;
        }
        if code >= 300 {
            self.end_call(call_id, &format!("failed: {code}"));
            return;
        }
        let Some(d) = dialog.as_ref().and_then(|id| self.dialogs.get(id)) else {
            // A 2xx that makes no dialog (no Contact, say): nothing can follow it.
            self.end_call(call_id, "unusable 2xx");
            return;
        };
        let (id, ack) = (
            d.id().clone(),
            d.ack_for_2xx(sent.cseq().map(|c| c.seq).unwrap_or(1)),
        );
        let Some(call) = self.calls.by_id.get_mut(call_id) else {
            // Hung up while dialling and answered anyway: acknowledge, then BYE.
            return;
        };
        let peer = call.peer;
        let first = call.answered.is_none();
        call.dialog = Some(id);
        if first {
            if let Err(reason) = self.media.answer(call_id, res) {
                tracing::info!(%call_id, %reason, "unusable SDP answer; hanging up");
                call.phase = Phase::Answered;
                self.send_ack(ack, peer);
                self.hangup_call(call_id, "no common codec", now);
                return;
            }
        }
        call.phase = Phase::Answered;
        call.answered.get_or_insert(now);
        self.send_ack(ack, peer);
        // The ring limit is over; an outbound leg has no duration limit of its own (the call
        // layer ends it with the call it belongs to).
        self.calls.set_due(call_id, None);
        if first {
            self.events.push_back(Event::CallAnswered {
                call_id: call_id.to_string(),
            });
        }
    }
}
