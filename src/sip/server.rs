//! sip/server: the thin tokio shell around the sans-IO [`Endpoint`]: one task owns it, feeds
//! it what the transports deliver (priority lane first), sleeps until its next timer, sends
//! what it asks to send and publishes its events. Other tasks talk to it through a
//! [`SipHandle`].

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::endpoint::{
    CallInfo, Dial, DialTarget, Endpoint, EndpointConfig, EndpointError, EndpointStats, Event,
    SessionMedia,
};
use super::registrar::{CredentialSource, RegistrarEvent};
use super::transport::{TransportConfig, Transports};
use super::trunk::Health;

enum Command {
    Stats(oneshot::Sender<SipStats>),
    Calls(oneshot::Sender<Vec<CallInfo>>),
    Dial {
        dial: Box<Dial>,
        reply: oneshot::Sender<Result<String, EndpointError>>,
    },
    Hangup {
        call_id: String,
        reply: oneshot::Sender<Result<(), EndpointError>>,
    },
    Registered {
        user: String,
        reply: oneshot::Sender<Vec<String>>,
    },
    TrunkState {
        trunk: String,
        reply: oneshot::Sender<(Health, Option<bool>)>,
    },
    SetCredentials(Box<dyn CredentialSource + Send>),
    Registrations(oneshot::Sender<Vec<Registration>>),
    Shutdown(oneshot::Sender<usize>),
}

/// One registered contact, as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Registration {
    pub user: String,
    pub contact: String,
    /// Seconds until it lapses unless refreshed.
    pub expires_in: u32,
    pub source: String,
    pub transport: String,
    pub user_agent: Option<String>,
}

/// Endpoint and transport counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct SipStats {
    pub endpoint: EndpointStats,
    pub received: u64,
    pub sent: u64,
    pub malformed: u64,
    pub overload_503: u64,
    pub tcp_connections: usize,
}

/// Talks to the SIP task; cheap to clone.
#[derive(Clone)]
pub struct SipHandle {
    cmd: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    local: SocketAddr,
}

/// The SIP task is gone (it only stops with the process).
#[derive(Debug, thiserror::Error)]
#[error("the SIP endpoint is not running")]
pub struct Gone;

impl SipHandle {
    /// The address SIP listens on (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Every endpoint event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Gone> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(make(tx)).await.map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    pub async fn stats(&self) -> Result<SipStats, Gone> {
        self.ask(Command::Stats).await
    }

    pub async fn calls(&self) -> Result<Vec<CallInfo>, Gone> {
        self.ask(Command::Calls).await
    }

    /// Current contacts of a registered user (agent), best first.
    pub async fn registered(&self, user: &str) -> Result<Vec<String>, Gone> {
        let user = user.to_string();
        self.ask(|reply| Command::Registered { user, reply }).await
    }

    /// OPTIONS health and (for trunks that register) registration state.
    pub async fn trunk_state(&self, trunk: &str) -> Result<(Health, Option<bool>), Gone> {
        let trunk = trunk.to_string();
        self.ask(|reply| Command::TrunkState { trunk, reply }).await
    }

    pub async fn place_call(
        &self,
        trunk: &str,
        number: &str,
    ) -> Result<Result<String, EndpointError>, Gone> {
        self.place_linked_call(trunk, number, None).await
    }

    /// Places a call that belongs with the inbound call `link` (its media goes on the same
    /// shard, ready to be bridged).
    pub async fn place_linked_call(
        &self,
        trunk: &str,
        number: &str,
        link: Option<&str>,
    ) -> Result<Result<String, EndpointError>, Gone> {
        self.dial(Dial {
            target: DialTarget::Trunk {
                trunk: trunk.to_string(),
                number: number.to_string(),
            },
            link: link.map(str::to_string),
            ..Dial::default()
        })
        .await
    }

    /// Places an outbound call: through a trunk, or to a registered user's softphone (see
    /// [`Endpoint::dial`]). Returns the Call-ID; progress comes as `CallRinging`,
    /// `CallAnswered` and `CallEnded` events.
    pub async fn dial(&self, dial: Dial) -> Result<Result<String, EndpointError>, Gone> {
        let dial = Box::new(dial);
        self.ask(|reply| Command::Dial { dial, reply }).await
    }

    pub async fn hangup(&self, call_id: &str) -> Result<Result<(), EndpointError>, Gone> {
        let call_id = call_id.to_string();
        self.ask(|reply| Command::Hangup { call_id, reply }).await
    }

    /// Ends every call (BYE/480/CANCEL) and refuses new ones; returns how many were ended.
    /// The messages are on their way when this returns.
    pub async fn shutdown(&self) -> Result<usize, Gone> {
        self.ask(Command::Shutdown).await
    }

    /// Every registered contact, by user.
    pub async fn registrations(&self) -> Result<Vec<Registration>, Gone> {
        self.ask(Command::Registrations).await
    }

    pub async fn set_credentials(
        &self,
        creds: Box<dyn CredentialSource + Send>,
    ) -> Result<(), Gone> {
        self.cmd
            .send(Command::SetCredentials(creds))
            .await
            .map_err(|_| Gone)
    }
}

/// Binds the transports and starts the endpoint task. DNS names in trunk settings are resolved
/// once, here.
pub async fn start(
    cfg: EndpointConfig,
    credentials: Box<dyn CredentialSource + Send>,
) -> std::io::Result<SipHandle> {
    start_with_media(cfg, credentials, None).await
}

/// What the call layer plugs into the SIP task: the media side that answers SDP, and a
/// lossless channel for the events it must never miss ([`for_call_layer`]: calls offered,
/// ringing, answered, ended, digits, transfer requests, and softphones registered,
/// unregistered or lapsed) (the broadcast of [`SipHandle::subscribe`] drops events for a
/// subscriber that falls behind).
pub struct CallHooks {
    pub media: Box<dyn SessionMedia>,
    pub events: mpsc::UnboundedSender<Event>,
}

/// [`start`] with the call layer's hooks (default: held, inactive media; no call events).
pub async fn start_with_media(
    mut cfg: EndpointConfig,
    credentials: Box<dyn CredentialSource + Send>,
    hooks: Option<CallHooks>,
) -> std::io::Result<SipHandle> {
    let tcfg = TransportConfig {
        addr: cfg.local,
        max_pending: cfg.sip.max_pending,
        retry_after_secs: cfg.sip.retry_after_secs,
        max_message: cfg.sip.max_message_bytes,
    };
    let (transports, mut lanes) = Transports::bind(&tcfg).await?;
    cfg.local = transports.local_addr();
    let mut names = Vec::new();
    for t in &cfg.trunks {
        names.extend(t.outbound_proxy.clone());
        names.extend(t.register.as_ref().map(|r| r.registrar.clone()));
    }
    let mut resolved = std::collections::HashMap::new();
    for n in names {
        match tokio::net::lookup_host(&n).await.map(|mut a| a.next()) {
            Ok(Some(addr)) => {
                resolved.insert(n, addr);
            }
            _ => tracing::warn!(address = %n, "cannot resolve trunk address"),
        }
    }
    let local = cfg.local;
    let mut endpoint = Endpoint::new(
        cfg,
        credentials,
        |n| resolved.get(n).copied(),
        Instant::now().into_std(),
    );
    let call_events = hooks.map(|h| {
        endpoint.set_media(h.media);
        h.events
    });
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(256);
    let (events, _) = broadcast::channel(4096);
    let handle = SipHandle {
        cmd: cmd_tx,
        events: events.clone(),
        local,
    };
    tracing::info!(sip = %local, "SIP listening on UDP and TCP");
    tokio::spawn(async move {
        let mut ep = endpoint;
        loop {
            let next = ep.poll_timeout();
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                    None => tokio::time::sleep(Duration::from_secs(3600)).await,
                }
            };
            // A bug that panics inside the endpoint must not take signalling down with it: the
            // message (or timer) that hit it is lost, the panic is logged, the endpoint goes on.
            let guarded = |ep: &mut Endpoint, f: &mut dyn FnMut(&mut Endpoint)| {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(ep)));
                if r.is_err() {
                    tracing::error!(
                        "the SIP endpoint panicked handling a message or timer; continuing"
                    );
                }
            };
            tokio::select! {
                biased;
                Some(m) = lanes.priority.recv() => {
                    let mut m = Some(m);
                    guarded(&mut ep, &mut |ep| if let Some(m) = m.take() { ep.handle_inbound(m, Instant::now().into_std()) });
                }
                Some(m) = lanes.new_work.recv() => {
                    let mut m = Some(m);
                    guarded(&mut ep, &mut |ep| if let Some(m) = m.take() { ep.handle_inbound(m, Instant::now().into_std()) });
                }
                Some(c) = cmd_rx.recv() => {
                    let mut c = Some(c);
                    guarded(&mut ep, &mut |ep| if let Some(c) = c.take() { command(ep, c, &transports) });
                }
                _ = sleep => {}
            }
            let now = Instant::now().into_std();
            if ep.poll_timeout().is_some_and(|at| at <= now) {
                guarded(&mut ep, &mut |ep| ep.handle_timeout(now));
            }
            while let Some((to, msg)) = ep.poll_transmit() {
                transports.send(to, &msg);
            }
            while let Some(ev) = ep.poll_event() {
                log_event(&ev);
                if let Some(calls) = &call_events {
                    if for_call_layer(&ev) {
                        let _ = calls.send(ev.clone());
                    }
                }
                let _ = events.send(ev);
            }
        }
    });
    Ok(handle)
}

/// Whether an event goes on the call layer's lossless channel ([`CallHooks::events`]): every
/// event of a call, and the registrar's changes that make a softphone reachable or not
/// (`Refreshed` is not one of them).
pub fn for_call_layer(ev: &Event) -> bool {
    matches!(
        ev,
        Event::CallOffered { .. }
            | Event::CallRinging { .. }
            | Event::CallAnswered { .. }
            | Event::CallEnded { .. }
            | Event::Dtmf { .. }
            | Event::TransferRequested { .. }
            | Event::Registrar(
                RegistrarEvent::Registered { .. }
                    | RegistrarEvent::Unregistered { .. }
                    | RegistrarEvent::Lapsed { .. }
            )
    )
}

fn command(ep: &mut Endpoint, c: Command, transports: &Transports) {
    let now = Instant::now().into_std();
    match c {
        Command::Stats(reply) => {
            use std::sync::atomic::Ordering::Relaxed;
            let s = &transports.stats;
            let _ = reply.send(SipStats {
                endpoint: ep.stats(),
                received: s.received.load(Relaxed),
                sent: s.sent.load(Relaxed),
                malformed: s.malformed.load(Relaxed),
                overload_503: s.overload_503.load(Relaxed),
                tcp_connections: transports.tcp_connections(),
            });
        }
        Command::Calls(reply) => {
            let _ = reply.send(ep.calls(now));
        }
        Command::Dial { dial, reply } => {
            let _ = reply.send(ep.dial(*dial, now));
        }
        Command::Hangup { call_id, reply } => {
            let _ = reply.send(ep.hangup(&call_id, now));
        }
        Command::Registered { user, reply } => {
            let contacts = ep
                .registrar()
                .lookup(&user, now)
                .into_iter()
                .map(|b| b.contact.clone())
                .collect();
            let _ = reply.send(contacts);
        }
        Command::TrunkState { trunk, reply } => {
            let _ = reply.send((ep.trunk_health(&trunk), ep.trunk_registered(&trunk)));
        }
        Command::SetCredentials(c) => ep.set_credentials(c),
        Command::Shutdown(reply) => {
            let ended = ep.shutdown(now);
            while let Some((to, msg)) = ep.poll_transmit() {
                transports.send(to, &msg);
            }
            let _ = reply.send(ended);
        }
        Command::Registrations(reply) => {
            let mut list: Vec<Registration> = ep
                .registrar()
                .bindings()
                .map(|(user, b)| Registration {
                    user: user.to_string(),
                    contact: b.contact.clone(),
                    expires_in: b.remaining(now),
                    source: b.source.to_string(),
                    transport: b.transport.clone(),
                    user_agent: b.user_agent.clone(),
                })
                .collect();
            list.sort_by(|a, b| (&a.user, &a.contact).cmp(&(&b.user, &b.contact)));
            let _ = reply.send(list);
        }
    }
}

fn log_event(ev: &Event) {
    match ev {
        Event::Registrar(RegistrarEvent::Registered { user, contact }) => {
            tracing::info!(%user, %contact, "softphone registered")
        }
        Event::Registrar(RegistrarEvent::Lapsed {
            user,
            contact,
            remaining,
        }) => {
            tracing::info!(%user, %contact, remaining, "registration lapsed")
        }
        Event::Registrar(RegistrarEvent::Unregistered {
            user,
            contact,
            remaining,
        }) => {
            tracing::info!(%user, %contact, remaining, "softphone unregistered")
        }
        Event::Registrar(RegistrarEvent::Refreshed { .. }) => {}
        Event::CallOffered {
            call_id,
            number,
            caller,
            trunk,
            user,
        } => {
            tracing::info!(%call_id, %number, %caller, ?trunk, ?user, "call offered")
        }
        Event::CallRinging { call_id } => tracing::debug!(%call_id, "call ringing"),
        Event::CallAnswered { call_id } => tracing::debug!(%call_id, "call answered"),
        Event::TransferRequested { call_id, target } => {
            tracing::info!(%call_id, %target, "transfer requested")
        }
        Event::CallEnded { call_id, cause } => tracing::info!(%call_id, %cause, "call ended"),
        Event::CallRefused { code, number } => tracing::info!(code, ?number, "call refused"),
        Event::Dtmf { call_id, digit } => tracing::debug!(%call_id, %digit, "SIP INFO digit"),
        Event::TrunkHealth { .. } | Event::TrunkRegistration { .. } => {}
    }
}
