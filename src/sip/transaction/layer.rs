//! [`TransactionLayer`]: the store of transactions, message matching and timer dispatch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ack_wait::{AckKey, AckWaiter};
use super::client::ClientTx;
use super::server::ServerTx;
use super::timers::{Flow, Owner, Shared};
use super::{
    ClientKey, ClientState, Key, Message, Method, Output, Peer, ServerKey, ServerState,
    TimerConfig, TimerName, TxError,
};

/// Every client and server transaction of one SIP endpoint, plus the 2xx retransmission
/// service. Sans-IO: see the [module documentation](super).
#[derive(Debug)]
pub struct TransactionLayer {
    sh: Shared,
    clients: HashMap<ClientKey, ClientTx>,
    servers: HashMap<ServerKey, ServerTx>,
    acks: HashMap<AckKey, AckWaiter>,
}

impl TransactionLayer {
    /// A layer with the given timer values. A zero T1 or T2 is raised to 1 ms so that
    /// retransmission intervals always move time forward.
    pub fn new(mut cfg: TimerConfig) -> Self {
        let floor = Duration::from_millis(1);
        cfg.t1 = cfg.t1.max(floor);
        cfg.t2 = cfg.t2.max(floor);
        TransactionLayer {
            sh: Shared::new(cfg),
            clients: HashMap::new(),
            servers: HashMap::new(),
            acks: HashMap::new(),
        }
    }

    pub fn config(&self) -> &TimerConfig {
        &self.sh.cfg
    }

    /// A message from the network, already parsed. Responses are matched to client
    /// transactions (§17.1.3), requests to server transactions (§17.2.3); a request matching
    /// none starts one (except ACK). Requests whose top Via does not parse (or, for RFC 2543
    /// senders, whose Call-ID or CSeq does not) cannot be matched or answered and are dropped:
    /// the driver should reject them statelessly before, if at all.
    pub fn handle_message(&mut self, msg: Message, from: Peer, now: Instant) {
        if msg.is_request() {
            self.on_request(msg, from, now);
        } else {
            self.on_response(msg, now);
        }
    }

    /// Starts a client transaction and transmits `req` to `to`. The request must carry a top
    /// Via with a fresh RFC 3261 branch ([`super::add_top_via`]); a CANCEL carries its INVITE's
    /// ([`super::cancel_for`]). An ACK is no transaction: use [`Self::send_stateless`].
    pub fn send_request(
        &mut self,
        req: Message,
        to: Peer,
        now: Instant,
    ) -> Result<ClientKey, TxError> {
        match req.method() {
            None => return Err(TxError::NotARequest),
            Some(Method::Ack) => return Err(TxError::AckIsNotATransaction),
            Some(_) => {}
        }
        let key = ClientKey::of_request(&req).ok_or(TxError::NoBranch)?;
        if self.clients.contains_key(&key) {
            return Err(TxError::Duplicate);
        }
        let tx = ClientTx::start(key.clone(), req, to, &mut self.sh, now);
        self.clients.insert(key.clone(), tx);
        Ok(key)
    }

    /// The TU's response for the server transaction `key`: provisional, 2xx or non-2xx final.
    /// A 2xx to an INVITE also starts its retransmission until the ACK arrives. Refused with
    /// [`TxError::AlreadyFinal`] once a final was sent (except a repeated 2xx to an INVITE,
    /// which RFC 6026 lets the TU send while Accepted).
    pub fn send_response(
        &mut self,
        key: &ServerKey,
        res: Message,
        now: Instant,
    ) -> Result<(), TxError> {
        let tx = self
            .servers
            .get_mut(key)
            .ok_or(TxError::NoSuchTransaction)?;
        let code = res
            .status()
            .filter(|c| (100..700).contains(c))
            .ok_or(TxError::NotAResponse)?;
        let res = Arc::new(res);
        let accepts_2xx = matches!(tx.state, ServerState::Proceeding | ServerState::Accepted);
        if *key.method() == Method::Invite && (200..300).contains(&code) && accepts_2xx {
            // Started before the transaction arms Timer L, so that an AckWait timeout due at
            // the same instant is reported before the transaction's Terminated.
            if let Some(ack_key) = AckKey::of(&res) {
                match self.acks.get_mut(&ack_key) {
                    Some(w) => w.replace(res.clone()),
                    None => {
                        let w = AckWaiter::start(
                            ack_key.clone(),
                            key.clone(),
                            tx.peer,
                            res.clone(),
                            &mut self.sh,
                            now,
                        );
                        self.acks.insert(ack_key, w);
                    }
                }
            }
        }
        if tx.on_tu_response(res, &mut self.sh, now)? == Flow::Terminate {
            self.end_server(key);
        }
        Ok(())
    }

    /// Queues a message outside any transaction: the ACK for a 2xx, a stateless response.
    pub fn send_stateless(&mut self, msg: Message, to: Peer) {
        self.sh.transmit(to, Arc::new(msg));
    }

    /// Fires every timer due at or before `now`, in deadline order.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((id, owner, name)) = self.sh.pop_due(now) {
            match owner {
                Owner::Client(k) => {
                    if let Some(tx) = self.clients.get_mut(&k) {
                        if tx.armed.fired(name, id)
                            && tx.on_timer(name, &mut self.sh, now) == Flow::Terminate
                        {
                            self.end_client(&k);
                        }
                    }
                }
                Owner::Server(k) => {
                    if let Some(tx) = self.servers.get_mut(&k) {
                        if tx.armed.fired(name, id)
                            && tx.on_timer(name, &mut self.sh, now) == Flow::Terminate
                        {
                            self.end_server(&k);
                        }
                    }
                }
                Owner::Ack(k) => {
                    if let Some(w) = self.acks.get_mut(&k) {
                        if w.armed.fired(name, id)
                            && w.on_timer(name, &mut self.sh, now) == Flow::Terminate
                        {
                            self.end_ack_wait(&k);
                        }
                    }
                }
            }
        }
    }

    /// The earliest instant [`Self::handle_timeout`] has work for.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sh.next_deadline()
    }

    /// The next thing to do, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.sh.out.pop_front()
    }

    /// Sending for transaction `key` failed (RFC 3261 §17.1.4, §17.2.4): the transaction ends
    /// and the TU hears [`Output::TransportError`] then [`Output::Terminated`]. For an INVITE
    /// server key this also stops the retransmission of its 2xx. Unknown keys are ignored.
    pub fn handle_transport_error(&mut self, key: &Key) {
        match key {
            Key::Client(k) => {
                if self.clients.contains_key(k) {
                    self.sh.emit(Output::TransportError { key: key.clone() });
                    self.end_client(k);
                }
            }
            Key::Server(k) => {
                let waiting: Vec<AckKey> = self
                    .acks
                    .iter()
                    .filter(|(_, w)| &w.server == k)
                    .map(|(a, _)| a.clone())
                    .collect();
                if self.servers.contains_key(k) || !waiting.is_empty() {
                    self.sh.emit(Output::TransportError { key: key.clone() });
                }
                for a in waiting {
                    self.end_ack_wait(&a);
                }
                self.end_server(k);
            }
        }
    }

    /// Sending to `peer` failed, e.g. its TCP connection closed: every transaction and 2xx
    /// retransmission towards it ends as in [`Self::handle_transport_error`].
    pub fn handle_peer_error(&mut self, peer: Peer) {
        let mut keys: Vec<Key> = Vec::new();
        let mut seen = HashSet::new();
        for (k, tx) in &self.clients {
            if tx.peer == peer {
                keys.push(Key::Client(k.clone()));
            }
        }
        for (k, tx) in &self.servers {
            if tx.peer == peer && seen.insert(k.clone()) {
                keys.push(Key::Server(k.clone()));
            }
        }
        for w in self.acks.values() {
            if w.peer == peer && seen.insert(w.server.clone()) {
                keys.push(Key::Server(w.server.clone()));
            }
        }
        for k in keys {
            self.handle_transport_error(&k);
        }
    }

    /// Drops a transaction without telling anyone, e.g. a non-INVITE server transaction whose
    /// TU will never answer (§17.2.2 gives Trying no timer). True if it existed.
    pub fn abandon(&mut self, key: &Key) -> bool {
        match key {
            Key::Client(k) => self.clients.remove(k).map(|mut tx| {
                self.sh.disarm_all(&mut tx.armed);
            }),
            Key::Server(k) => self.servers.remove(k).map(|mut tx| {
                self.sh.disarm_all(&mut tx.armed);
            }),
        }
        .is_some()
    }

    /// Live transactions, client and server (2xx retransmissions are not counted).
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 2xx responses still waiting for their ACK.
    pub fn pending_acks(&self) -> usize {
        self.acks.len()
    }

    /// Armed timers across the layer (for tests and metrics).
    pub fn pending_timers(&self) -> usize {
        self.sh.pending_timers()
    }

    pub fn client_state(&self, key: &ClientKey) -> Option<ClientState> {
        self.clients.get(key).map(|tx| tx.state)
    }

    pub fn server_state(&self, key: &ServerKey) -> Option<ServerState> {
        self.servers.get(key).map(|tx| tx.state)
    }

    /// The armed timers of a transaction with their deadlines, in the order they will fire;
    /// for an INVITE server key this includes the timers of the 2xx retransmission.
    pub fn armed_timers(&self, key: &Key) -> Vec<(TimerName, Instant)> {
        let mut v: Vec<_> = match key {
            Key::Client(k) => self.clients.get(k).map(|t| t.armed.list().collect()),
            Key::Server(k) => self.servers.get(k).map(|t| t.armed.list().collect()),
        }
        .unwrap_or_default();
        if let Key::Server(k) = key {
            for w in self.acks.values().filter(|w| &w.server == k) {
                v.extend(w.armed.list());
            }
        }
        // In firing order: deadline, then the order they were armed in.
        v.sort_by_key(|&(_, id)| id);
        v.into_iter().map(|(name, (at, _))| (name, at)).collect()
    }

    fn on_response(&mut self, msg: Message, now: Instant) {
        let Some(key) = ClientKey::of_response(&msg) else {
            self.sh.emit(Output::StrayResponse { msg });
            return;
        };
        let Some(tx) = self.clients.get_mut(&key) else {
            self.sh.emit(Output::StrayResponse { msg });
            return;
        };
        if tx.on_response(msg, &mut self.sh, now) == Flow::Terminate {
            self.end_client(&key);
        }
    }

    fn on_request(&mut self, msg: Message, from: Peer, now: Instant) {
        let Some(key) = ServerKey::of_request(&msg) else {
            tracing::debug!("dropping a request that cannot be matched to a transaction");
            return;
        };
        if msg.method() == Some(&Method::Ack) {
            self.on_ack(key, msg, from, now);
            return;
        }
        if let Some(tx) = self.servers.get_mut(&key) {
            tx.on_retransmission(&mut self.sh);
            return;
        }
        let cancels = if msg.method() == Some(&Method::Cancel) {
            let invite = key.with_method(Method::Invite);
            self.servers.contains_key(&invite).then_some(invite)
        } else {
            None
        };
        let tx = ServerTx::start(key.clone(), &msg, from, &mut self.sh);
        self.servers.insert(key.clone(), tx);
        self.sh.emit(Output::Request {
            key,
            msg,
            from,
            cancels,
        });
    }

    /// §17.2.3: an ACK matches the INVITE transaction it acknowledges (for RFC 2543 senders,
    /// with the To tag of the response instead of the INVITE's). What no transaction absorbs
    /// goes to the TU, after stopping the retransmission of the 2xx it acknowledges.
    fn on_ack(&mut self, key: ServerKey, msg: Message, from: Peer, now: Instant) {
        let found = if self.servers.contains_key(&key) {
            Some(key)
        } else {
            let tag = msg.to().ok().and_then(|t| t.tag().map(str::to_string));
            key.legacy_with_to_tag(None).filter(|k| {
                tag.is_some()
                    && self
                        .servers
                        .get(k)
                        .is_some_and(|tx| tx.final_to_tag() == tag)
            })
        };
        if let Some((k, tx)) = found.and_then(|k| self.servers.get_mut(&k).map(|tx| (k, tx))) {
            match tx.on_ack(&mut self.sh, now) {
                Some(Flow::Continue) => return,
                Some(Flow::Terminate) => {
                    self.end_server(&k);
                    return;
                }
                None => {}
            }
        }
        if let Some(ack_key) = AckKey::of(&msg) {
            if self.acks.contains_key(&ack_key) {
                self.end_ack_wait(&ack_key);
            }
        }
        self.sh.emit(Output::Ack { msg, from });
    }

    fn end_client(&mut self, key: &ClientKey) {
        if let Some(mut tx) = self.clients.remove(key) {
            shrink(&mut self.clients);
            self.sh.disarm_all(&mut tx.armed);
            self.sh.emit(Output::Terminated {
                key: Key::Client(key.clone()),
            });
        }
    }

    fn end_server(&mut self, key: &ServerKey) {
        if let Some(mut tx) = self.servers.remove(key) {
            shrink(&mut self.servers);
            self.sh.disarm_all(&mut tx.armed);
            self.sh.emit(Output::Terminated {
                key: Key::Server(key.clone()),
            });
        }
    }

    fn end_ack_wait(&mut self, key: &AckKey) {
        if let Some(mut w) = self.acks.remove(key) {
            shrink(&mut self.acks);
            self.sh.disarm_all(&mut w.armed);
        }
    }
}

/// Gives memory back after a burst: a map that is less than a quarter full is shrunk to twice
/// its length (amortised O(1): it must lose three quarters of its entries again first).
fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 1024 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}
