//! call (DESIGN.md `call/`): one citizen's call as a B2BUA — its legs (the caller's, the agents'
//! being rung, a transfer target's), their media, and the hand-offs ivr → acd → agent →
//! survey. It is the only place that ties `sip`, `media`, `ivr`, `acd` and `cases` together;
//! the rules live in those pure engines and in [`outcome`], this task only moves events
//! between them.
//!
//! * `mod.rs` — the task, its handle ([`CallsHandle`]) and what it is started with.
//! * `legs.rs` — SIP and media events routed to calls; bridging, hold, forwarding, transfer.
//! * `flow.rs` — the [`crate::ivr`] interpreter and the survey driven with media events.
//! * `queue.rs` — the [`crate::acd`] engine driven: offers ring agents' softphones.
//! * `desk.rs` — the agent desk: commands from the API and the event stream ([`DeskEvent`]).
//! * `callback.rs` — voicemail and callback orders, missed-call tasks, outbound callbacks.
//! * [`rate`] — calls offered: the total and the rate over the last 10 s (for `/metrics`).
//! * `records.rs` — call records (CDR) and their steps, written in order by one writer.
//! * `wrap_up.rs` — each wrap-up's length written onto the call it followed.
//! * [`outcome`] — the pure rule that gives every call exactly one disposition.

mod callback;
mod desk;
mod flow;
mod legs;
pub mod media;
pub mod monitor;
pub mod outcome;
mod queue;
pub mod rate;
mod records;
pub mod shared;
mod wrap_up;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::acd;
use crate::config::{Config, Number};
use crate::ivr::{Flow, FlowRules, Survey};
use crate::media::engine::{MediaEngine, MediaEvent, StreamId, StreamStats};
use crate::media::prompt::PromptLibrary;
use crate::media::recorder::{Recorder, RecorderEvent};
use crate::sip::endpoint::Event as SipEvent;
use crate::sip::server::SipHandle;
pub use desk::{
    AgentView, CallView, DeskCommand, DeskError, DeskEvent, MonitorView, OrderBrief, QueueView,
    Snapshot,
};
pub use media::{CallMedia, LegEvent};
use outcome::Lifecycle;

/// What the call layer needs to know, from the configuration.
#[derive(Debug, Clone)]
pub struct CallsConfig {
    pub config: Arc<Config>,
    /// Prompt language by default ("zh", "en").
    pub language: String,
    pub record: bool,
}

impl CallsConfig {
    pub fn from_config(c: &Config) -> Self {
        CallsConfig {
            config: Arc::new(c.clone()),
            language: c.media.language.clone(),
            record: c.media.record_calls,
        }
    }
}

/// A call's media as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallMediaView {
    pub call_id: String,
    /// Our id of the call (its call record).
    pub record_id: Option<String>,
    pub number: Option<String>,
    pub outbound: bool,
    /// The other leg this one is bridged to (or rings).
    pub partner: Option<String>,
    /// Digits the caller pressed, in order.
    pub digits: String,
    pub recording: Option<String>,
    pub rtp: Option<StreamStats>,
}

pub(crate) enum Cmd {
    View(String, oneshot::Sender<Option<CallMediaView>>),
    Desk(
        DeskCommand,
        oneshot::Sender<Result<serde_json::Value, DeskError>>,
    ),
    /// The supervisors' picture, typed (the wallboard and `/metrics` compute from it).
    Snapshot(oneshot::Sender<Snapshot>),
    /// The answer to a flow's order lookup.
    OrderStatus {
        call: u64,
        info: Option<crate::ivr::OrderStatusInfo>,
    },
    /// A callback task was created for a call (its id goes on the call record).
    CallbackTask {
        call: u64,
        task: i64,
    },
    /// The store's answer to an agent taking a callback task.
    CallbackTaken {
        agent: String,
        task: Box<Result<crate::cases::model::CallbackTask, DeskError>>,
        reply: oneshot::Sender<Result<serde_json::Value, DeskError>>,
    },
    /// A callback's agent leg has rung its time.
    CallbackRingTimeout {
        leg: String,
    },
    /// The server is stopping: finish the call records.
    Close(oneshot::Sender<()>),
}

/// Talks to the call task; cheap to clone.
#[derive(Clone)]
pub struct CallsHandle {
    tx: mpsc::UnboundedSender<Cmd>,
    events: broadcast::Sender<DeskEvent>,
    engine: MediaEngine,
    recorder: Option<Recorder>,
    offered: Arc<rate::OfferedCalls>,
    /// The live picture, taken from the call task at most once per [`shared::LIVE_MAX_AGE`].
    live: Arc<shared::Shared<Snapshot>>,
}

impl CallsHandle {
    /// Finishes the call records of calls ended so far (at shutdown, after SIP has ended the
    /// calls and before the case store closes).
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// The media view of a call leg in progress (by SIP Call-ID).
    pub async fn view(&self, call_id: &str) -> Option<CallMediaView> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::View(call_id.to_string(), tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Runs an agent-desk or supervisor command.
    pub async fn desk(&self, c: DeskCommand) -> Result<serde_json::Value, DeskError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Desk(c, tx))
            .map_err(|_| DeskError::Unavailable)?;
        rx.await.map_err(|_| DeskError::Unavailable)?
    }

    /// The supervisors' picture of queues, agents and calls (as `/api/v1/live` shows it), at
    /// most [`shared::LIVE_MAX_AGE`] old: shared by every reader, so that scrapes and
    /// wallboards cannot flood the call task with snapshot work.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, DeskError> {
        self.live
            .get(Instant::now(), || async {
                let (tx, rx) = oneshot::channel();
                self.tx
                    .send(Cmd::Snapshot(tx))
                    .map_err(|_| DeskError::Unavailable)?;
                rx.await.map_err(|_| DeskError::Unavailable)
            })
            .await
    }

    /// How many times the call task has been asked for the live picture.
    pub fn snapshots_taken(&self) -> u64 {
        self.live.taken()
    }

    /// The media engine's counters (streams, ports, RTP received and lost, jitter).
    pub fn media_stats(&self) -> crate::media::engine::EngineStats {
        self.engine.stats()
    }

    /// The recorder's counters, when calls are recorded.
    pub fn recorder_stats(&self) -> Option<crate::media::recorder::RecorderStats> {
        self.recorder.as_ref().map(Recorder::stats)
    }

    /// Calls offered to the call layer since it started, and their rate now.
    pub fn offered(&self) -> &rate::OfferedCalls {
        &self.offered
    }

    /// The live event stream (agent states, offers, screen pops, queue changes).
    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.events.subscribe()
    }
}

/// What a leg is to its call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// The citizen calling in.
    Caller,
    /// An agent's softphone (rung, or talking).
    Agent(acd::AgentId),
    /// Someone outside called through a trunk: a forward or transfer target, or the citizen
    /// of a callback.
    Outside,
    /// A supervisor's softphone listening, whispering or barging in ([`monitor`]).
    Supervisor,
}

/// One SIP leg.
#[derive(Debug)]
struct Leg {
    call: u64,
    role: Role,
    stream: Option<StreamId>,
    answered: bool,
    /// Media negotiated at least once (later `Ready`s are re-INVITEs).
    started: bool,
    /// This leg has put the call on hold (we may not send to it).
    held: bool,
}

/// What a prompt playing to the caller is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A flow's prompt, with the flow's token.
    Flow(u64),
    /// The survey's prompt, with its token.
    Survey(u64),
    /// Music on hold (looped).
    Hold,
    /// A queue announcement; music on hold follows.
    Announce,
    /// A last word; the call is hung up when it ends.
    Goodbye,
}

/// What kind of call this is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A citizen called in.
    Inbound,
    /// A callback: the agent is rung first, then the citizen (task id; 0 when the task is
    /// not known yet).
    Callback {
        task: i64,
        number: String,
        agent: acd::AgentId,
    },
}

/// One citizen's call.
struct Call {
    kind: Kind,
    /// Our id (the call record's).
    record_id: String,
    number: String,
    caller: String,
    queue: Option<String>,
    /// The caller's SIP leg (None once it is gone, for a caller waiting for a callback).
    caller_leg: Option<String>,
    /// The agent talking with the caller, and that agent's leg.
    agent: Option<(acd::AgentId, String)>,
    /// The agent who answered the call (kept after they hang up).
    served_by: Option<acd::AgentId>,
    /// Agents being rung for this call, with their legs.
    offers: Vec<(acd::AgentId, String)>,
    /// An outside leg (forward / transfer target / callback citizen).
    outside: Option<String>,
    /// The call's id in the ACD while it is queued, rung or talking.
    acd: Option<acd::CallId>,
    life: Lifecycle,
    flow: Option<Flow>,
    survey: Option<Survey>,
    language: String,
    /// The prompt playing to the caller: engine token and purpose.
    playing: Option<(u64, Purpose)>,
    digits: String,
    recording: Option<PathBuf>,
    recording_started: Option<Instant>,
    /// A waiting caller asked to be called back and hung up; the call keeps its place.
    keeps_place: Option<i64>,
    /// When the caller joined the queue, and when an agent answered.
    queued_at: Option<Instant>,
    answered_at: Option<Instant>,
    /// The same moments on the wall clock, for the live picture.
    offered_wall: chrono::DateTime<chrono::Utc>,
    answered_wall: Option<chrono::DateTime<chrono::Utc>>,
    /// A supervisor listening, whispering or barging in ([`monitor`]).
    monitor: Option<monitor::Monitor>,
    /// Media started on the caller's leg (greeting or bridge).
    started: bool,
    /// A callback: the citizen was dialled, and the attempt is on the task already.
    citizen_dialled: bool,
    attempt_recorded: bool,
}

impl Call {
    /// A call of `kind` from `caller` to `number`, known by `record_id`, nothing done yet.
    fn new(
        kind: Kind,
        record_id: String,
        (number, caller): (String, String),
        queue: Option<String>,
        language: String,
    ) -> Call {
        Call {
            kind,
            record_id,
            number,
            caller,
            queue,
            caller_leg: None,
            agent: None,
            served_by: None,
            offers: Vec::new(),
            outside: None,
            acd: None,
            life: Default::default(),
            flow: None,
            survey: None,
            language,
            playing: None,
            digits: String::new(),
            recording: None,
            recording_started: None,
            keeps_place: None,
            queued_at: None,
            answered_at: None,
            offered_wall: chrono::Utc::now(),
            answered_wall: None,
            monitor: None,
            started: false,
            citizen_dialled: false,
            attempt_recorded: false,
        }
    }
}

/// The parts the call task works with.
pub struct CallsDeps {
    pub sip: SipHandle,
    /// Where call records, orders and tasks go (none: not written; tests).
    pub store: Option<crate::cases::store::Store>,
    pub engine: MediaEngine,
    pub prompts: PromptLibrary,
    pub recorder: Option<Recorder>,
    pub legs: mpsc::UnboundedReceiver<LegEvent>,
    pub media_events: mpsc::UnboundedReceiver<MediaEvent>,
    pub recorder_events: mpsc::UnboundedReceiver<RecorderEvent>,
    /// The SIP task's call and registrar events ([`crate::sip::server::CallHooks::events`]),
    /// lossless.
    pub sip_events: mpsc::UnboundedReceiver<SipEvent>,
}

struct Calls {
    cfg: CallsConfig,
    numbers: HashMap<String, Number>,
    sip: SipHandle,
    engine: MediaEngine,
    prompts: PromptLibrary,
    recorder: Option<Recorder>,
    store: Option<crate::cases::store::Store>,
    acd: acd::Engine,
    rules: FlowRules,
    calls: HashMap<u64, Call>,
    legs: HashMap<String, Leg>,
    by_stream: HashMap<StreamId, String>,
    /// Media negotiated for a leg the call task does not know yet (the leg channel and the SIP
    /// event channel are not ordered with each other).
    early: HashMap<String, StreamId>,
    /// ACD call id → our call.
    acd_calls: HashMap<acd::CallId, u64>,
    /// Legs we hung up ourselves (their end is not news).
    cancelled: HashSet<String>,
    /// Flow and survey deadlines.
    timers: BTreeSet<(Instant, u64)>,
    due: HashMap<u64, Instant>,
    next: u64,
    records: records::CallRecords,
    /// Wrap-up per call (a lock only so the desk's `&self` paths can feed it).
    wrap_ups: std::sync::Mutex<wrap_up::WrapUps>,
    desk: broadcast::Sender<DeskEvent>,
    cmd: mpsc::UnboundedSender<Cmd>,
    offered: Arc<rate::OfferedCalls>,
}

/// Starts the call task.
pub fn start(cfg: CallsConfig, deps: CallsDeps) -> CallsHandle {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(4096);
    let CallsDeps {
        sip,
        store,
        engine,
        prompts,
        recorder,
        mut legs,
        mut media_events,
        mut recorder_events,
        mut sip_events,
    } = deps;
    let offered = Arc::new(rate::OfferedCalls::new(Instant::now()));
    let handle_media = (engine.clone(), recorder.clone(), offered.clone());
    let acd = acd::Engine::new(acd::AcdConfig::from_config(&cfg.config));
    let rules = FlowRules::from_config(&cfg.config);
    let mut calls = Calls {
        numbers: cfg
            .config
            .numbers
            .iter()
            .map(|n| (n.number.clone(), n.clone()))
            .collect(),
        cfg,
        sip,
        engine,
        prompts,
        recorder,
        records: records::CallRecords::new(store.clone()),
        wrap_ups: Default::default(),
        store,
        acd,
        rules,
        calls: HashMap::new(),
        legs: HashMap::new(),
        by_stream: HashMap::new(),
        early: HashMap::new(),
        acd_calls: HashMap::new(),
        cancelled: HashSet::new(),
        timers: BTreeSet::new(),
        due: HashMap::new(),
        next: 1,
        desk: events.clone(),
        cmd: tx.clone(),
        offered,
    };
    tokio::spawn(async move {
        loop {
            let wake = calls.next_wake();
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(l) = legs.recv() => calls.on_leg(l).await,
                Some(m) = media_events.recv() => calls.on_media(m).await,
                Some(ev) = sip_events.recv() => calls.on_sip(ev).await,
                Some(r) = recorder_events.recv() => calls.on_recorder(r),
                Some(c) = rx.recv() => {
                    if matches!(c, Cmd::Close(_)) {
                        // The calls SIP just ended come first.
                        while let Ok(ev) = sip_events.try_recv() {
                            calls.on_sip(ev).await;
                        }
                    }
                    calls.on_cmd(c).await
                }
                _ = sleep => calls.on_timers().await,
                else => break,
            }
        }
    });
    let (engine, recorder, offered) = handle_media;
    CallsHandle {
        tx,
        events,
        engine,
        recorder,
        offered,
        live: Arc::new(shared::Shared::new(shared::LIVE_MAX_AGE)),
    }
}

impl Calls {
    fn next_wake(&self) -> Option<Instant> {
        let flows = self.timers.first().map(|(at, _)| *at);
        match (flows, self.acd.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        if self.acd.poll_timeout().is_some_and(|at| at <= now) {
            self.acd.handle_timeout(now);
            self.drain_acd().await;
        }
        while let Some(&(at, call)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, call));
            self.due.remove(&call);
            self.flow_timeout(call, now).await;
        }
    }

    /// Keeps the timer of `call`'s flow or survey in the schedule.
    fn schedule(&mut self, call: u64) {
        if let Some(old) = self.due.remove(&call) {
            self.timers.remove(&(old, call));
        }
        let at = self.calls.get(&call).and_then(|c| {
            c.flow
                .as_ref()
                .and_then(|f| f.poll_timeout())
                .or_else(|| c.survey.as_ref().and_then(|s| s.poll_timeout()))
        });
        if let Some(at) = at {
            self.timers.insert((at, call));
            self.due.insert(call, at);
        }
    }

    fn on_recorder(&mut self, ev: RecorderEvent) {
        match ev {
            RecorderEvent::Error {
                call_id,
                path,
                error,
            } => {
                tracing::error!(%call_id, path = %path.display(), %error, "recording failed; the call goes on")
            }
            RecorderEvent::Closed {
                call_id,
                path,
                samples,
                dropped_frames,
            } => tracing::info!(
                %call_id,
                path = %path.display(),
                seconds = samples / 8000,
                dropped_frames,
                "recording finished"
            ),
            RecorderEvent::Opened { .. } => {}
        }
    }

    async fn on_cmd(&mut self, c: Cmd) {
        match c {
            Cmd::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Cmd::View(call_id, reply) => {
                let Some(leg) = self.legs.get(&call_id) else {
                    let _ = reply.send(None);
                    return;
                };
                let call = self.calls.get(&leg.call);
                let partner = call.and_then(|c| match &leg.role {
                    Role::Caller => c
                        .agent
                        .as_ref()
                        .map(|a| a.1.clone())
                        .or_else(|| c.outside.clone())
                        .or_else(|| c.offers.first().map(|o| o.1.clone())),
                    _ => c.caller_leg.clone(),
                });
                let mut view = CallMediaView {
                    call_id: call_id.clone(),
                    record_id: call.map(|c| c.record_id.clone()),
                    number: call.map(|c| c.number.clone()),
                    outbound: leg.role != Role::Caller,
                    partner,
                    digits: call.map(|c| c.digits.clone()).unwrap_or_default(),
                    recording: call
                        .and_then(|c| c.recording.as_ref())
                        .map(|p| p.display().to_string()),
                    rtp: None,
                };
                let stream = leg.stream;
                let engine = self.engine.clone();
                tokio::spawn(async move {
                    if let Some(s) = stream {
                        view.rtp = engine.stream_stats(s).await;
                    }
                    let _ = reply.send(Some(view));
                });
            }
            Cmd::Desk(DeskCommand::TakeCallback { agent, task }, reply) => {
                // The store is asked off the call task; the answer comes back as a command.
                self.begin_callback(agent, task, reply);
            }
            Cmd::Desk(c, reply) => {
                let r = self.on_desk(c).await;
                let _ = reply.send(r);
            }
            Cmd::CallbackTaken { agent, task, reply } => {
                let r = match *task {
                    Ok(t) => self.start_callback(&agent, t).await,
                    Err(e) => Err(e),
                };
                let _ = reply.send(r);
            }
            Cmd::OrderStatus { call, info } => {
                if let Some(f) = self.calls.get_mut(&call).and_then(|c| c.flow.as_mut()) {
                    f.handle(crate::ivr::FlowEvent::OrderStatus(info), Instant::now());
                    self.drive_flow(call).await;
                }
            }
            Cmd::CallbackTask { call, task } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    if c.keeps_place.is_some() {
                        c.keeps_place = Some(task);
                    }
                    let id = c.record_id.clone();
                    self.records.callback_task(&id, task);
                }
            }
            Cmd::CallbackRingTimeout { leg } => {
                let ringing = self
                    .legs
                    .get(&leg)
                    .and_then(|l| self.calls.get(&l.call))
                    .is_some_and(|c| c.offers.iter().any(|o| o.1 == leg));
                if ringing {
                    // Not answered in the queue's ring time: the task goes back (its end is
                    // an agent-no-answer attempt).
                    self.hangup(&leg);
                }
            }
            Cmd::Close(done) => {
                self.records.close().await;
                let _ = done.send(());
            }
        }
    }

    /// The trunk calls out go through (the first with an `outbound_proxy`).
    fn out_trunk(&self) -> Option<String> {
        self.cfg
            .config
            .trunks
            .iter()
            .find(|t| t.outbound_proxy.is_some())
            .map(|t| t.name.clone())
    }

    /// A new call key.
    fn key(&mut self) -> u64 {
        let k = self.next;
        self.next += 1;
        k
    }

    fn hangup(&mut self, leg: &str) {
        self.cancelled.insert(leg.to_string());
        let (sip, id) = (self.sip.clone(), leg.to_string());
        tokio::spawn(async move {
            let _ = sip.hangup(&id).await;
        });
    }
}

/// The address our SDP gives for RTP: `[media].public_ip`, else `[sip].public_host` when it
/// is an address, else the SIP bind address (127.0.0.1 when that is unspecified, as for
/// SIP's own Contact).
pub fn media_address(c: &crate::config::Config) -> std::net::IpAddr {
    if let Ok(ip) = c.media.public_ip.parse() {
        return ip;
    }
    if let Ok(ip) = c.sip.public_host.trim_matches(['[', ']']).parse() {
        return ip;
    }
    match c.server.sip_addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    }
}

/// Our id for a new call record: UTC time to the millisecond and a per-process serial, so ids
/// sort by time and never repeat (a carrier may reuse a Call-ID).
fn record_id(serial: u64) -> String {
    format!(
        "{}-{:06}",
        chrono::Utc::now().format("%Y%m%d%H%M%S%3f"),
        serial % 1_000_000
    )
}

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
