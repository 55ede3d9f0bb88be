//! The registrar (RFC 3261 §10.3), sans-IO: REGISTER requests, the source they came from and
//! the current time go in; the response to send comes out, and [`RegistrarEvent`]s queue up
//! for [`Registrar::poll_event`]. Timers: call [`Registrar::handle_timeout`] at
//! [`Registrar::poll_timeout`].
//!
//! Every REGISTER is authenticated with Digest (see [`crate::sip::auth`]); credentials come
//! from a [`CredentialSource`]. An unknown user and a wrong password get the same 401 (a fresh
//! challenge), so user names cannot be probed. Sources with too many failed attempts get a
//! bare 403 for the rest of the window.

mod bindings;
mod limit;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_flow;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use bindings::Binding;
use bindings::{Context, Store, Update};
use limit::FailureLimiter;

use super::auth::{
    challenges_for, verify, Algorithm, AuthError, Credentials, Ha1, NonceStatus, Nonces,
    DEFAULT_NONCE_LIFETIME,
};
use super::message::header::{parse_delta, unquote};
use super::message::{new_tag, Contacts, Message, Method};

/// Where the registrar finds a user's stored HA1s. `realm` is the registrar's realm; the HA1s
/// must have been computed for it. Called once per REGISTER carrying credentials, synchronously:
/// keep it an in-memory lookup (a database-backed source needs a cache).
pub trait CredentialSource {
    fn ha1(&self, user: &str, realm: &str) -> Option<Ha1>;
}

/// User name → HA1 (any realm).
impl CredentialSource for HashMap<String, Ha1> {
    fn ha1(&self, user: &str, _realm: &str) -> Option<Ha1> {
        self.get(user).cloned()
    }
}

impl<T: CredentialSource + ?Sized> CredentialSource for Arc<T> {
    fn ha1(&self, user: &str, realm: &str) -> Option<Ha1> {
        (**self).ha1(user, realm)
    }
}

/// Registrar settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// The Digest realm (usually the SIP domain).
    pub realm: String,
    /// Shorter non-zero registrations get 423 with `Min-Expires` (default 60 s).
    pub min_expires: u32,
    /// Longer registrations are shortened to this (default 3600 s).
    pub max_expires: u32,
    /// Granted when the request names no expiry (default 3600 s, then clamped).
    pub default_expires: u32,
    /// Contacts kept per user; the least recently written is dropped beyond it (default 10).
    pub max_contacts: usize,
    /// How long a nonce stays fresh (default 300 s).
    pub nonce_lifetime: Duration,
    /// Failed authentications allowed per source within `failure_window` (default 20; 0 turns
    /// the limit off). A source that has used them up gets 403 until the window closes.
    pub max_failures: u32,
    /// Default 60 s; the window opens with the first failure.
    pub failure_window: Duration,
    /// Sources whose failures are tracked at most (default 65,536; oldest dropped first).
    pub max_tracked_sources: usize,
    /// Digest algorithms offered in a 401, one challenge each, in this order (default
    /// SHA-256 then MD5, RFC 8760).
    pub algorithms: Vec<Algorithm>,
}

impl RegistrarConfig {
    pub fn new(realm: impl Into<String>) -> RegistrarConfig {
        RegistrarConfig {
            realm: realm.into(),
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 10,
            nonce_lifetime: DEFAULT_NONCE_LIFETIME,
            max_failures: 20,
            failure_window: Duration::from_secs(60),
            max_tracked_sources: 65_536,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
        }
    }
}

/// A change of the binding set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    /// A new contact for the user.
    Registered { user: String, contact: String },
    /// An existing contact registered again (its expiry, source or Call-ID may have changed).
    Refreshed { user: String, contact: String },
    /// Removed by a REGISTER (`expires=0`, `*`), by the per-user limit, or by
    /// [`Registrar::remove_user`]; `remaining` contacts are left for the user.
    Unregistered {
        user: String,
        contact: String,
        remaining: usize,
    },
    /// Expired without a refresh; `remaining` contacts are left for the user (0: unreachable).
    Lapsed {
        user: String,
        contact: String,
        remaining: usize,
    },
}

/// The result of one REGISTER.
#[derive(Debug, Clone)]
pub struct RegisterOutcome {
    /// The response to send back (it carries a To tag).
    pub response: Message,
    /// The authenticated user, when the credentials were accepted (also when the request then
    /// failed, say with 423 or 403).
    pub user: Option<String>,
}

/// The result of checking a request's Digest credentials ([`Registrar::authenticate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Right credentials for this user.
    Ok(String),
    /// No usable credentials (none for our realm, or a nonce we did not issue), or a stale
    /// nonce / repeated nonce count with otherwise right credentials (`stale: true`).
    Challenge {
        stale: bool,
    },
    /// Wrong password or unknown user — the two are indistinguishable on purpose. REGISTER
    /// answers it with a fresh challenge, INVITE with 403. Counted by the failure limit.
    Rejected,
    /// The source has failed too often; answer 403 without checking.
    Blocked,
    Malformed(AuthError),
}

/// See the module documentation.
pub struct Registrar {
    config: RegistrarConfig,
    credentials: Box<dyn CredentialSource + Send>,
    nonces: Nonces,
    /// Verified instead of a real HA1 for unknown users, so they cost the same work.
    decoy: Ha1,
    store: Store,
    limiter: FailureLimiter,
    events: VecDeque<RegistrarEvent>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("config", &self.config)
            .field("contacts", &self.store.count())
            .finish_non_exhaustive()
    }
}

impl Registrar {
    /// A registrar with a random nonce secret; `now` is the epoch of its nonces.
    pub fn new(
        config: RegistrarConfig,
        credentials: Box<dyn CredentialSource + Send>,
        now: Instant,
    ) -> Registrar {
        let nonces = Nonces::with_random_secret(now).with_lifetime(config.nonce_lifetime);
        let decoy_password = nonces.issue(now);
        let limiter = FailureLimiter::new(
            config.max_failures,
            config.failure_window,
            config.max_tracked_sources,
        );
        Registrar {
            decoy: Ha1::from_password("-", &config.realm, &decoy_password),
            config,
            credentials,
            nonces,
            store: Store::default(),
            limiter,
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// Replaces the credential source (configuration reloaded). Existing bindings stay; see
    /// [`Registrar::remove_user`] for users that were removed.
    pub fn set_credential_source(&mut self, credentials: Box<dyn CredentialSource + Send>) {
        self.credentials = credentials;
    }

    /// Handles one REGISTER (a new server transaction, not a retransmission) received from
    /// `source` over `transport` (`"UDP"`, `"TCP"`, …).
    pub fn handle_register(
        &mut self,
        req: &Message,
        source: SocketAddr,
        transport: &str,
        now: Instant,
    ) -> RegisterOutcome {
        self.store.expire(now, &mut self.events);
        let answer = |code: u16, reason: Option<&str>| reply(req, code, reason);
        if req.method() != Some(&Method::Register) {
            let mut res = answer(405, None);
            res.push_header("Allow", "REGISTER");
            return outcome(res, None);
        }
        if self.limiter.blocked(source.ip(), now) {
            return outcome(answer(403, None), None);
        }
        if let Err((code, reason)) = req.validate_request() {
            return outcome(answer(code, Some(&reason)), None);
        }
        let user = match self.authenticate(req, source, now) {
            Auth::Ok(user) => user,
            Auth::Blocked => return outcome(answer(403, None), None),
            Auth::Challenge { stale } => return outcome(self.challenge(req, stale, now), None),
            Auth::Rejected => return outcome(self.challenge(req, false, now), None),
            Auth::Malformed(e) => {
                let reason = format!("Bad Authorization: {e}");
                return outcome(answer(400, Some(&reason)), None);
            }
        };
        let res = self.register(req, &user, source, transport, now);
        outcome(res, Some(user))
    }

    /// A 401 to `req` with fresh challenges (SHA-256, then MD5).
    pub fn challenge(&self, req: &Message, stale: bool, now: Instant) -> Message {
        let mut res = reply(req, 401, None);
        let nonce = self.nonces.issue(now);
        for c in challenges_for(
            &self.config.algorithms,
            &self.config.realm,
            &nonce,
            self.nonces.opaque(),
            stale,
        ) {
            res.push_header("WWW-Authenticate", c.to_string());
        }
        res
    }

    /// Finds our realm's Digest credentials in `req` (any method) and checks them, with the
    /// same nonces, decoy and failure limit as REGISTER.
    pub fn authenticate(&mut self, req: &Message, source: SocketAddr, now: Instant) -> Auth {
        if self.limiter.blocked(source.ip(), now) {
            return Auth::Blocked;
        }
        let method = req
            .method()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let realm = &self.config.realm;
        let mut creds = None;
        for line in req.header_lines("Authorization") {
            match Credentials::parse(line) {
                Ok(c) if c.realm == *realm => {
                    creds = Some(c);
                    break;
                }
                // Another realm, another scheme, or something we cannot answer with: as if
                // absent, the challenge tells the client what we accept.
                Ok(_)
                | Err(
                    AuthError::NotDigest
                    | AuthError::UnsupportedAlgorithm(_)
                    | AuthError::UnsupportedQop(_),
                ) => {}
                Err(e) => return Auth::Malformed(e),
            }
        }
        let Some(creds) = creds else {
            return Auth::Challenge { stale: false };
        };
        let status = self.nonces.verify_nonce(&creds.nonce, now);
        if status == NonceStatus::Invalid {
            // Not ours (or from before a restart): no password was tested.
            return Auth::Challenge { stale: false };
        }
        let known = self.credentials.ha1(&creds.username, realm);
        let ha1 = known.as_ref().unwrap_or(&self.decoy);
        let right = verify(&creds, &method, ha1) && known.is_some();
        if !right {
            self.limiter.record_failure(source.ip(), now);
            return Auth::Rejected;
        }
        if status == NonceStatus::Stale {
            return Auth::Challenge { stale: true };
        }
        if let Some(nc) = creds.nc_value() {
            if !self.nonces.accept_count(&creds.nonce, nc, now) {
                // A replay, or requests overtaking each other: a new nonce sorts out the
                // honest client.
                return Auth::Challenge { stale: true };
            }
        }
        Auth::Ok(creds.username)
    }

    /// RFC 3261 §10.3 steps 5–8 for an authenticated user.
    fn register(
        &mut self,
        req: &Message,
        user: &str,
        source: SocketAddr,
        transport: &str,
        now: Instant,
    ) -> Message {
        // Headers were checked by validate_request.
        let (Ok(to), Ok(call_id), Ok(cseq), Ok(contacts), Ok(expires)) = (
            req.to(),
            req.call_id(),
            req.cseq(),
            req.contacts(),
            req.expires(),
        ) else {
            return reply(req, 400, None);
        };
        let aor = to.uri.as_sip().and_then(|u| u.user_decoded());
        if aor.as_deref() != Some(user) {
            return reply(
                req,
                403,
                Some("Forbidden (To does not match the credentials)"),
            );
        }
        let cfg = &self.config;
        let updates = match contacts {
            Contacts::Star => {
                if expires != Some(0) {
                    return reply(req, 400, Some("Bad Request (Contact: * needs Expires: 0)"));
                }
                self.store
                    .bindings(user)
                    .iter()
                    .map(|b| Update {
                        contact: b.contact.clone(),
                        expires: 0,
                        q: b.q,
                        instance: None,
                    })
                    .collect()
            }
            Contacts::List(list) => {
                let mut updates: Vec<Update> = Vec::with_capacity(list.len());
                for na in list {
                    let requested = match na.params.get("expires") {
                        None => expires.unwrap_or(cfg.default_expires),
                        Some(v) => match v.map(parse_delta) {
                            Some(Ok(e)) => e,
                            _ => return reply(req, 400, Some("Bad Contact: expires")),
                        },
                    };
                    if requested != 0 && requested < cfg.min_expires {
                        let mut res = reply(req, 423, None);
                        res.push_header("Min-Expires", cfg.min_expires.to_string());
                        return res;
                    }
                    let q = match na.params.get("q") {
                        None => 1000,
                        Some(v) => match v.and_then(parse_q) {
                            Some(q) => q,
                            None => return reply(req, 400, Some("Bad Contact: q")),
                        },
                    };
                    let contact = na.uri.to_string();
                    // The same contact twice in one request: the last one wins.
                    updates.retain(|u| u.contact != contact);
                    updates.push(Update {
                        contact,
                        expires: requested.min(cfg.max_expires),
                        q,
                        instance: na.params.get("+sip.instance").flatten().map(unquote),
                    });
                }
                updates
            }
        };
        let contacts = updates.iter().map(|u| u.contact.as_str());
        if !self.store.in_order(user, contacts, call_id, cseq.seq) {
            return reply(req, 500, Some("Server Internal Error (CSeq out of order)"));
        }
        let ctx = Context {
            call_id,
            cseq: cseq.seq,
            source,
            transport,
            user_agent: req.header("User-Agent"),
            now,
        };
        for u in updates {
            self.store.apply(user, u, &ctx, &mut self.events);
        }
        self.store
            .enforce_limit(user, self.config.max_contacts, &mut self.events);
        let mut res = reply(req, 200, None);
        for b in self.store.bindings(user) {
            let mut v = format!("<{}>;expires={}", b.contact, b.remaining(now));
            if b.q != 1000 {
                v.push_str(&format!(";q={}", format_q(b.q)));
            }
            res.push_header("Contact", v);
        }
        res
    }

    /// Drops the bindings that expired at or before `now` ([`RegistrarEvent::Lapsed`]) and
    /// forgets stale bookkeeping.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.store.expire(now, &mut self.events);
        self.limiter.prune(now);
        self.nonces.prune(now);
    }

    /// The earliest binding expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.store.next_expiry()
    }

    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }

    /// A user's live contacts at `now`: highest q first, then the most recently written.
    pub fn lookup(&self, user: &str, now: Instant) -> Vec<&Binding> {
        let mut v: Vec<&Binding> = self
            .store
            .bindings(user)
            .iter()
            .filter(|b| b.expires > now)
            .collect();
        v.sort_by(|a, b| b.q.cmp(&a.q).then(b.refreshed.cmp(&a.refreshed)));
        v
    }

    /// Every binding, by user (for display; no particular order).
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &Binding)> {
        self.store.iter()
    }

    /// Bindings held (including expired ones not yet handled by a timeout).
    pub fn contact_count(&self) -> usize {
        self.store.count()
    }

    /// Users with at least one binding.
    pub fn user_count(&self) -> usize {
        self.store.users()
    }

    /// Sources whose failed authentications are being counted, and nonces whose counts are
    /// remembered (for metrics: both are bounded).
    pub fn tracked(&self) -> (usize, usize) {
        (self.limiter.tracked(), self.nonces.tracked())
    }

    /// Drops every binding of a user (say, removed from the configuration).
    pub fn remove_user(&mut self, user: &str) {
        self.store.remove_user(user, &mut self.events);
    }
}

fn outcome(response: Message, user: Option<String>) -> RegisterOutcome {
    RegisterOutcome { response, user }
}

fn reply(req: &Message, code: u16, reason: Option<&str>) -> Message {
    let mut res = Message::response_to(req, code, reason);
    res.ensure_to_tag(&new_tag());
    res
}

/// `q` in thousandths: `0`, `0.5`, `1.000` (RFC 3261 `qvalue`).
fn parse_q(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = [1000, 100, 10, 1][frac.len()];
    let frac: u16 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u16>().ok()? * scale
    };
    match int {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

fn format_q(q: u16) -> String {
    if q >= 1000 {
        "1".to_string()
    } else {
        let s = format!("0.{q:03}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
