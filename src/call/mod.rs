//! call (DESIGN.md `call/`): one call's life as a B2BUA — its legs, their media, and what the
//! caller hears — the only place that ties `sip`, `media` (and later `acd`, `cases`) together.
//!
//! So far (issue 4) the life of a call is short: an answered call on a dialled number is
//! recorded, hears the number's greeting and the recording notice, then music on hold; a
//! digit the caller presses (RFC 4733 or SIP INFO) cuts the prompt short and is read back
//! ("you pressed 5"). A number with `forward` is instead bridged to an outbound call through
//! a trunk (music on hold while it rings), recorded with the caller on the left channel and
//! the far end on the right; either side hanging up ends both. Issue 5 replaces the greeting
//! loop with call flows, queues and agents.

pub mod media;
mod records;

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::config::Number;
use crate::media::dtmf::Digit;
use crate::media::engine::{
    MediaEngine, MediaEvent, MediaEventKind, PlayEnd, StreamId, StreamStats,
};
use crate::media::prompt::{Item, Player, Playlist, PromptLibrary};
use crate::media::recorder::{Recorder, RecorderEvent};
use crate::sip::endpoint::Event as SipEvent;
use crate::sip::server::SipHandle;
pub use media::{CallMedia, LegEvent};

/// What the call layer needs to know.
#[derive(Debug, Clone)]
pub struct CallsConfig {
    pub numbers: Vec<Number>,
    /// Prompt language ("zh", "en").
    pub language: String,
    pub record: bool,
}

/// A call's media as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallMediaView {
    pub call_id: String,
    pub number: Option<String>,
    pub outbound: bool,
    /// The other leg of a forwarded call.
    pub partner: Option<String>,
    /// Digits the caller pressed, in order.
    pub digits: String,
    pub recording: Option<String>,
    pub rtp: Option<StreamStats>,
}

enum Cmd {
    View(String, oneshot::Sender<Option<CallMediaView>>),
    /// A forwarding call could not be placed.
    PlaceFailed(String),
    /// The server is stopping: finish the call records.
    Close(oneshot::Sender<()>),
}

/// Talks to the call task; cheap to clone.
#[derive(Clone)]
pub struct CallsHandle {
    tx: mpsc::UnboundedSender<Cmd>,
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

    /// The media view of a call in progress.
    pub async fn view(&self, call_id: &str) -> Option<CallMediaView> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::View(call_id.to_string(), tx)).ok()?;
        rx.await.ok().flatten()
    }
}

#[derive(Debug, Default)]
struct CallState {
    stream: Option<StreamId>,
    number: Option<String>,
    outbound: bool,
    partner: Option<String>,
    answered: bool,
    started: bool,
    /// Forwarded: the caller waits for (or talks to) an outbound leg.
    forwarding: bool,
    /// This leg has put the call on hold (we may not send to it).
    held: bool,
    /// Token of the prompt playing to this leg (older prompts' events are stale).
    playing: Option<u64>,
    digits: String,
    recording: Option<PathBuf>,
}

/// The parts the call task works with.
pub struct CallsDeps {
    pub sip: SipHandle,
    /// Where call records go (none: not written).
    pub store: Option<crate::cases::store::Store>,
    pub engine: MediaEngine,
    pub prompts: PromptLibrary,
    pub recorder: Option<Recorder>,
    pub legs: mpsc::UnboundedReceiver<LegEvent>,
    pub media_events: mpsc::UnboundedReceiver<MediaEvent>,
    pub recorder_events: mpsc::UnboundedReceiver<RecorderEvent>,
    /// The SIP task's call events ([`crate::sip::server::CallHooks::events`]), lossless.
    pub sip_events: mpsc::UnboundedReceiver<SipEvent>,
}

struct Calls {
    cfg: CallsConfig,
    numbers: HashMap<String, Number>,
    sip: SipHandle,
    engine: MediaEngine,
    prompts: PromptLibrary,
    recorder: Option<Recorder>,
    calls: HashMap<String, CallState>,
    by_stream: HashMap<StreamId, String>,
    records: records::CallRecords,
    cmd: mpsc::UnboundedSender<Cmd>,
}

/// Starts the call task.
pub fn start(cfg: CallsConfig, deps: CallsDeps) -> CallsHandle {
    let (tx, mut rx) = mpsc::unbounded_channel();
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
    let mut calls = Calls {
        numbers: cfg
            .numbers
            .iter()
            .map(|n| (n.number.clone(), n.clone()))
            .collect(),
        cfg,
        sip,
        engine,
        prompts,
        recorder,
        calls: HashMap::new(),
        by_stream: HashMap::new(),
        records: records::CallRecords::new(store),
        cmd: tx.clone(),
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(l) = legs.recv() => calls.on_leg(l),
                Some(m) = media_events.recv() => calls.on_media(m),
                Some(ev) = sip_events.recv() => calls.on_sip(ev),
                Some(r) = recorder_events.recv() => calls.on_recorder(r),
                Some(c) = rx.recv() => {
                    if matches!(c, Cmd::Close(_)) {
                        // The calls SIP just ended come first.
                        while let Ok(ev) = sip_events.try_recv() {
                            calls.on_sip(ev);
                        }
                    }
                    calls.on_cmd(c).await
                }
                else => break,
            }
        }
    });
    CallsHandle { tx }
}

impl Calls {
    fn on_leg(&mut self, ev: LegEvent) {
        match ev {
            LegEvent::Ready {
                call_id,
                stream,
                number,
                link,
                outbound,
                params,
            } => {
                if self.calls.get(&call_id).is_some_and(|c| c.started) {
                    self.renegotiated(&call_id, params.direction.sends());
                    return;
                }
                self.by_stream.insert(stream, call_id.clone());
                let st = self.calls.entry(call_id.clone()).or_default();
                st.stream = Some(stream);
                st.outbound = outbound;
                if number.is_some() {
                    st.number = number;
                }
                if let Some(l) = link {
                    st.partner = Some(l);
                }
                self.maybe_start(&call_id);
            }
            LegEvent::Dialing { call_id, link } => {
                if !self.calls.contains_key(&link) {
                    // The caller is gone already.
                    self.hangup(&call_id);
                    return;
                }
                let out = self.calls.entry(call_id.clone()).or_default();
                out.outbound = true;
                out.partner = Some(link.clone());
                if let Some(inbound) = self.calls.get_mut(&link) {
                    inbound.partner = Some(call_id);
                }
            }
            LegEvent::Gone { call_id, stream } => {
                self.by_stream.remove(&stream);
                self.end(&call_id);
            }
        }
    }

    fn on_sip(&mut self, ev: SipEvent) {
        match ev {
            SipEvent::CallOffered {
                call_id,
                number,
                caller,
                trunk,
                ..
            } => {
                let queue = self.numbers.get(&number).map(|n| n.queue.clone());
                self.records
                    .offered(&call_id, &caller, &number, trunk, queue);
            }
            SipEvent::CallAnswered { call_id } => {
                // A forwarded call counts as answered when the far end answers.
                let forwarded = self
                    .calls
                    .get(&call_id)
                    .and_then(|c| c.number.as_ref())
                    .is_some_and(|n| self.forward_of(Some(n)).is_some());
                if !forwarded {
                    self.records.answered(&call_id);
                }
                self.calls.entry(call_id.clone()).or_default().answered = true;
                self.maybe_start(&call_id);
            }
            SipEvent::CallEnded { call_id, cause } => {
                self.records.ended(&call_id, &cause);
                self.end(&call_id);
            }
            SipEvent::Dtmf { call_id, digit } => {
                if let Some(d) = Digit::from_char(digit) {
                    self.on_digit(&call_id, d);
                }
            }
            _ => {}
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
            Cmd::View(call_id, reply) => {
                let Some(st) = self.calls.get(&call_id) else {
                    let _ = reply.send(None);
                    return;
                };
                let mut view = CallMediaView {
                    call_id: call_id.clone(),
                    number: st.number.clone(),
                    outbound: st.outbound,
                    partner: st.partner.clone(),
                    digits: st.digits.clone(),
                    recording: st.recording.as_ref().map(|p| p.display().to_string()),
                    rtp: None,
                };
                let stream = st.stream;
                let engine = self.engine.clone();
                tokio::spawn(async move {
                    if let Some(s) = stream {
                        view.rtp = engine.stream_stats(s).await;
                    }
                    let _ = reply.send(Some(view));
                });
            }
            Cmd::PlaceFailed(inbound) => self.hangup(&inbound),
            Cmd::Close(done) => {
                self.records.close().await;
                let _ = done.send(());
            }
        }
    }

    fn forward_of(&self, number: Option<&String>) -> Option<crate::config::Forward> {
        number
            .and_then(|n| self.numbers.get(n))
            .and_then(|n| n.forward.clone())
    }

    /// Starts what the call does once it is answered and its media negotiated.
    fn maybe_start(&mut self, call_id: &str) {
        let Some(st) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(stream) = st.stream else { return };
        if !st.answered || st.started {
            return;
        }
        st.started = true;
        if st.outbound {
            // The far end of a forwarded call answered: bridge it to the caller and record.
            let Some(inbound) = st.partner.clone() else {
                return;
            };
            let Some(caller) = self.calls.get(&inbound).and_then(|c| c.stream) else {
                return;
            };
            if let Err(e) = self.engine.bridge(caller, stream) {
                tracing::error!(error = %e, "cannot bridge a forwarded call");
                self.hangup(call_id);
                return;
            }
            self.records.answered(&inbound);
            self.record(&inbound, caller);
            return;
        }
        let number = st.number.clone();
        if let Some(fwd) = self.forward_of(number.as_ref()) {
            if let Some(st) = self.calls.get_mut(call_id) {
                st.forwarding = true;
            }
            self.play(stream, hold_music(), "music on hold");
            let (sip, tx, inbound) = (self.sip.clone(), self.cmd.clone(), call_id.to_string());
            tokio::spawn(async move {
                match sip
                    .place_linked_call(&fwd.trunk, &fwd.number, Some(&inbound))
                    .await
                {
                    // Linked through LegEvent::Dialing, before anything else about the leg.
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(call_id = %inbound, error = %e, "cannot forward the call");
                        let _ = tx.send(Cmd::PlaceFailed(inbound));
                    }
                    Err(_) => {}
                }
            });
            return;
        }
        self.record(call_id, stream);
        let greeting = number
            .map(|n| format!("greeting-{n}"))
            .filter(|g| self.prompts.get(&self.cfg.language, g).is_some())
            .unwrap_or_else(|| "greeting-12345".into());
        let playlist = Playlist {
            items: vec![
                Item::Prompt(greeting),
                Item::Prompt("recording-notice".into()),
            ],
            looped: false,
            barge_in: true,
        };
        self.play(stream, playlist, "greeting");
    }

    /// A re-INVITE of a bridged leg: while either leg holds, the other hears music on hold;
    /// when neither does, they are bridged again.
    fn renegotiated(&mut self, call_id: &str, sends: bool) {
        let Some(st) = self.calls.get_mut(call_id) else {
            return;
        };
        st.held = !sends;
        let (Some(stream), Some(partner)) = (st.stream, st.partner.clone()) else {
            return;
        };
        let Some((other, other_held)) = self
            .calls
            .get(&partner)
            .filter(|p| p.started)
            .and_then(|p| p.stream.map(|s| (s, p.held)))
        else {
            return;
        };
        match (sends, other_held) {
            (true, false) => {
                if let Err(e) = self.engine.bridge(stream, other) {
                    tracing::error!(error = %e, "cannot bridge again after hold");
                }
            }
            (true, true) => {
                self.play(stream, hold_music(), "music on hold");
            }
            (false, _) => {
                tracing::info!(%call_id, "leg on hold; music on hold for the other side");
                self.play(other, hold_music(), "music on hold");
            }
        }
    }

    fn record(&mut self, call_id: &str, stream: StreamId) {
        if !self.cfg.record {
            return;
        }
        let Some(rec) = &self.recorder else { return };
        let sink = rec.open(call_id, 2, chrono::Utc::now());
        self.records.recording(call_id, sink.path());
        if let Some(st) = self.calls.get_mut(call_id) {
            st.recording = Some(sink.path().to_path_buf());
        }
        self.engine.record(stream, sink);
    }

    /// Plays `playlist`; false (logged) when a prompt of it is missing.
    fn play(&mut self, stream: StreamId, playlist: Playlist, what: &str) -> bool {
        match Player::new(&self.prompts, &self.cfg.language, &playlist) {
            Ok(p) => {
                let token = self.engine.play(stream, p);
                if let Some(st) = self
                    .by_stream
                    .get(&stream)
                    .and_then(|c| self.calls.get_mut(c))
                {
                    st.playing = Some(token);
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot play the {what}");
                false
            }
        }
    }

    fn on_media(&mut self, ev: MediaEvent) {
        let Some(call_id) = self.by_stream.get(&ev.stream).cloned() else {
            return;
        };
        match ev.kind {
            MediaEventKind::Dtmf(d) => self.on_digit(&call_id, d),
            MediaEventKind::PlayFinished { play, .. }
                if self.calls.get(&call_id).and_then(|c| c.playing) != Some(play) => {}
            MediaEventKind::PlayFinished {
                end: PlayEnd::Done, ..
            } => {
                let forwarded = self
                    .calls
                    .get(&call_id)
                    .is_some_and(|c| c.outbound || c.forwarding || c.partner.is_some());
                if !forwarded {
                    self.play(ev.stream, hold_music(), "music on hold");
                }
            }
            MediaEventKind::PlayFinished { .. } => {}
            MediaEventKind::RtpTimeout => {
                tracing::warn!(%call_id, "no RTP from the caller; hanging up");
                self.hangup(&call_id);
            }
        }
    }

    fn on_digit(&mut self, call_id: &str, digit: Digit) {
        let Some(st) = self.calls.get_mut(call_id) else {
            return;
        };
        st.digits.push(digit.as_char());
        tracing::info!(%call_id, digit = %digit, "caller pressed a key");
        if st.outbound || st.forwarding || st.partner.is_some() || !st.started {
            return;
        }
        let Some(stream) = st.stream else { return };
        let playlist = Playlist {
            items: vec![
                Item::Prompt("you-pressed".into()),
                Item::Digits(digit.as_char().to_string()),
            ],
            looped: false,
            barge_in: true,
        };
        if !self.play(stream, playlist, "digit read-back") {
            // The greeting was cut short by the digit: never leave the caller in silence.
            self.play(stream, hold_music(), "music on hold");
        }
    }

    fn end(&mut self, call_id: &str) {
        let Some(st) = self.calls.remove(call_id) else {
            return;
        };
        if let Some(s) = st.stream {
            self.by_stream.remove(&s);
        }
        if let Some(p) = st.partner {
            self.hangup(&p);
        }
    }

    fn hangup(&self, call_id: &str) {
        let (sip, id) = (self.sip.clone(), call_id.to_string());
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

fn hold_music() -> Playlist {
    Playlist {
        items: vec![Item::Prompt("music-on-hold".into())],
        looped: true,
        barge_in: false,
    }
}

#[cfg(test)]
mod tests;
