//! The binding store: AoR → contacts, with an expiry index for timeouts (RFC 3261 §10.3 steps
//! 6–8). Updates are all-or-nothing: the Call-ID/CSeq order is checked for every contact before
//! any is changed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::RegistrarEvent;

/// One registered contact of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI, as text (`sip:1001@192.0.2.10:5060;transport=udp`).
    pub contact: String,
    pub expires: Instant,
    /// Preference in thousandths (`q=0.5` is 500); 1000 when not given.
    pub q: u16,
    pub call_id: String,
    pub cseq: u32,
    /// Where the REGISTER came from and over which transport (as the caller named it).
    pub source: SocketAddr,
    pub transport: String,
    /// The `+sip.instance` parameter (RFC 5626), unquoted, when given.
    pub instance: Option<String>,
    /// The User-Agent header of the REGISTER that last wrote this binding.
    pub user_agent: Option<String>,
    /// When the binding was created, and when it was last written.
    pub registered: Instant,
    pub refreshed: Instant,
    id: u64,
}

impl Binding {
    /// Whole seconds left at `now`, rounded up (0 once expired).
    pub fn remaining(&self, now: Instant) -> u32 {
        let left = self.expires.saturating_duration_since(now);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }

    /// Bytes this binding occupies: the struct plus the heap buffers of its strings.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Binding>()
            + self.contact.capacity()
            + self.call_id.capacity()
            + self.transport.capacity()
            + self.instance.as_ref().map_or(0, String::capacity)
            + self.user_agent.as_ref().map_or(0, String::capacity)
    }
}

/// A contact of a REGISTER, ready to apply.
#[derive(Debug)]
pub(super) struct Update {
    pub contact: String,
    /// Seconds granted; 0 removes the binding.
    pub expires: u32,
    pub q: u16,
    pub instance: Option<String>,
}

/// What applies to every contact of one REGISTER.
pub(super) struct Context<'a> {
    pub call_id: &'a str,
    pub cseq: u32,
    pub source: SocketAddr,
    pub transport: &'a str,
    pub user_agent: Option<&'a str>,
    pub now: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Store {
    aors: HashMap<String, Vec<Binding>>,
    /// (expiry, binding id) → user.
    timers: BTreeMap<(Instant, u64), String>,
    next_id: u64,
    count: usize,
}

impl Store {
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn users(&self) -> usize {
        self.aors.len()
    }

    pub fn bindings(&self, user: &str) -> &[Binding] {
        self.aors.get(user).map_or(&[], Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Binding)> {
        self.aors
            .iter()
            .flat_map(|(u, bs)| bs.iter().map(move |b| (u.as_str(), b)))
    }

    pub fn next_expiry(&self) -> Option<Instant> {
        self.timers.first_key_value().map(|((t, _), _)| *t)
    }

    /// RFC 3261 §10.3 step 7: a binding with the request's Call-ID may only be changed by a
    /// higher CSeq. False when any of `contacts` is out of order.
    pub fn in_order<'a>(
        &self,
        user: &str,
        mut contacts: impl Iterator<Item = &'a str>,
        call_id: &str,
        cseq: u32,
    ) -> bool {
        let bs = self.bindings(user);
        contacts.all(|c| {
            bs.iter()
                .find(|b| b.contact == c)
                .is_none_or(|b| b.call_id != call_id || cseq > b.cseq)
        })
    }

    /// Adds, refreshes or (expires 0) removes one binding.
    pub fn apply(
        &mut self,
        user: &str,
        u: Update,
        ctx: &Context<'_>,
        events: &mut VecDeque<RegistrarEvent>,
    ) {
        if u.expires == 0 {
            self.remove(user, &u.contact, false, events);
            return;
        }
        let expires = ctx.now + Duration::from_secs(u64::from(u.expires));
        // Most agents have one phone: no room for four bindings per user up front.
        let bs = self
            .aors
            .entry(user.to_string())
            .or_insert_with(|| Vec::with_capacity(1));
        if let Some(b) = bs.iter_mut().find(|b| b.contact == u.contact) {
            self.timers.remove(&(b.expires, b.id));
            self.timers.insert((expires, b.id), user.to_string());
            b.expires = expires;
            b.q = u.q;
            b.call_id = ctx.call_id.to_string();
            b.cseq = ctx.cseq;
            b.source = ctx.source;
            ctx.transport.clone_into(&mut b.transport);
            b.instance = u.instance;
            b.user_agent = ctx.user_agent.map(str::to_string);
            b.refreshed = ctx.now;
            events.push_back(RegistrarEvent::Refreshed {
                user: user.to_string(),
                contact: u.contact,
            });
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.timers.insert((expires, id), user.to_string());
        bs.push(Binding {
            contact: u.contact.clone(),
            expires,
            q: u.q,
            call_id: ctx.call_id.to_string(),
            cseq: ctx.cseq,
            source: ctx.source,
            transport: ctx.transport.to_string(),
            instance: u.instance,
            user_agent: ctx.user_agent.map(str::to_string),
            registered: ctx.now,
            refreshed: ctx.now,
            id,
        });
        self.count += 1;
        events.push_back(RegistrarEvent::Registered {
            user: user.to_string(),
            contact: u.contact,
        });
    }

    /// Removes one binding; `lapsed` picks the event (expiry rather than request).
    pub fn remove(
        &mut self,
        user: &str,
        contact: &str,
        lapsed: bool,
        events: &mut VecDeque<RegistrarEvent>,
    ) {
        let Some(bs) = self.aors.get_mut(user) else {
            return;
        };
        let Some(pos) = bs.iter().position(|b| b.contact == contact) else {
            return;
        };
        let b = bs.remove(pos);
        let remaining = bs.len();
        if remaining == 0 {
            self.aors.remove(user);
        }
        self.timers.remove(&(b.expires, b.id));
        self.count -= 1;
        let (user, contact) = (user.to_string(), b.contact);
        events.push_back(if lapsed {
            RegistrarEvent::Lapsed {
                user,
                contact,
                remaining,
            }
        } else {
            RegistrarEvent::Unregistered {
                user,
                contact,
                remaining,
            }
        });
    }

    /// Removes every binding of a user.
    pub fn remove_user(&mut self, user: &str, events: &mut VecDeque<RegistrarEvent>) {
        let contacts: Vec<String> = self
            .bindings(user)
            .iter()
            .map(|b| b.contact.clone())
            .collect();
        for c in contacts {
            self.remove(user, &c, false, events);
        }
    }

    /// Keeps at most `max` bindings for a user, dropping the least recently written first.
    pub fn enforce_limit(&mut self, user: &str, max: usize, events: &mut VecDeque<RegistrarEvent>) {
        while self.bindings(user).len() > max {
            let oldest = self
                .bindings(user)
                .iter()
                .min_by_key(|b| (b.refreshed, b.id))
                .map(|b| b.contact.clone());
            match oldest {
                Some(c) => self.remove(user, &c, false, events),
                None => break,
            }
        }
    }

    /// Removes the bindings whose expiry is at or before `now`.
    pub fn expire(&mut self, now: Instant, events: &mut VecDeque<RegistrarEvent>) {
        while let Some((&(t, id), _)) = self.timers.first_key_value() {
            if t > now {
                break;
            }
            let Some(user) = self.timers.remove(&(t, id)) else {
                break;
            };
            let contact = self
                .bindings(&user)
                .iter()
                .find(|b| b.id == id)
                .map(|b| b.contact.clone());
            if let Some(c) = contact {
                self.remove(&user, &c, true, events);
            }
        }
    }
}
