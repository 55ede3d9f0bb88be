//! One media shard: a thread with a `mio` poll over the UDP sockets of its streams, the
//! commands from the control side (through a channel and a waker) and a 20 ms grid clock.
//! Datagrams are handled as they arrive (relay to the bridged leg at once); once per tick
//! every stream pops its jitter buffer if someone listens, prompts and mixes send a frame,
//! recordings get a frame, RFC 4733 digits go out, and about once a second the RTCP and
//! RTP-timeout housekeeping runs.

use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use super::batch::{RecvBatch, BATCH};
use super::send::{disconnect, relay, send, send_dtmf, DTMF_TONE};
use super::stream::{encode, DtmfOut, Output, Received, Stream, FRAME_SAMPLES, MAX_PAYLOAD};
use super::tick::Ticker;
use super::{Command, MediaEvent, MediaEventKind, PlayEnd, PortPool, StreamId, StreamStats};
use crate::media::dtmf::DtmfSender;
use crate::media::rtp::jitter::JitterConfig;
use crate::media::rtp::rtcp;
use crate::media::rtp::HEADER_LEN;

pub const WAKE: Token = Token(usize::MAX);

/// Ticks between housekeeping rounds (RTCP, RTP timeout): 200 ms.
const HOUSEKEEPING_TICKS: u64 = 10;
/// Datagrams read from one socket before the others get their turn.
const READ_BUDGET: usize = 32;

#[derive(Debug, Clone, Copy)]
pub struct ShardConfig {
    pub jitter: JitterConfig,
    pub rtp_timeout: Duration,
}

pub(super) struct Slot {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: UdpSocket,
    pub(super) s: Stream,
    /// The RTP socket is connected to this (latched) peer: sends skip the route lookup and
    /// the kernel drops datagrams from anyone else.
    pub(super) connected: Option<SocketAddr>,
}

/// Buffers reused for every packet.
struct Scratch {
    out: [u8; 2048],
    pcm: [i16; MAX_PAYLOAD],
}

pub struct Shard {
    index: u16,
    poll: Poll,
    rx: mpsc::Receiver<Command>,
    events: tokio::sync::mpsc::UnboundedSender<MediaEvent>,
    ports: Arc<Mutex<PortPool>>,
    load: Arc<AtomicUsize>,
    /// 20 ms ticks skipped after stalls (engine-wide counter).
    skipped: Arc<std::sync::atomic::AtomicU64>,
    cfg: ShardConfig,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_serial: HashMap<u32, usize>,
    scratch: Box<Scratch>,
    /// Datagrams being read (taken while they are handled).
    batch: Option<Box<RecvBatch>>,
    ticks: u64,
    seed: u64,
    figures: Arc<ShardFigures>,
    /// RTP packets received and lost by the streams closed so far.
    closed_rx: u64,
    closed_lost: u64,
}

/// A shard's RTP reception figures, published at each housekeeping round (every 200 ms) for
/// `/metrics`: totals over the streams closed and open, and the jitter of the open ones. The
/// packet path never touches them.
#[derive(Debug, Default)]
pub struct ShardFigures {
    pub rx_packets: AtomicU64,
    /// Packets lost in reception: per stream the highest expected − received seen (it can
    /// go down when late packets arrive; this never does), summed.
    pub rx_lost: AtomicU64,
    /// Sum over the streams receiving RTP of their interarrival jitter, in microseconds.
    pub jitter_us_sum: AtomicU64,
    /// How many streams that sum is over.
    pub jitter_streams: AtomicU64,
}

/// What a shard shares with the engine handle.
pub struct Shared {
    /// RTP figures for the engine's stats.
    pub figures: Arc<ShardFigures>,
    pub ports: Arc<Mutex<PortPool>>,
    /// Streams on this shard.
    pub load: Arc<AtomicUsize>,
    /// Ticks skipped, engine-wide.
    pub skipped: Arc<std::sync::atomic::AtomicU64>,
}

impl Shard {
    pub fn new(
        index: u16,
        poll: Poll,
        rx: mpsc::Receiver<Command>,
        events: tokio::sync::mpsc::UnboundedSender<MediaEvent>,
        shared: Shared,
        cfg: ShardConfig,
    ) -> Shard {
        let Shared {
            figures,
            ports,
            load,
            skipped,
        } = shared;
        Shard {
            index,
            poll,
            rx,
            events,
            ports,
            load,
            skipped,
            cfg,
            slots: Vec::new(),
            free: Vec::new(),
            by_serial: HashMap::new(),
            batch: Some(Box::default()),
            scratch: Box::new(Scratch {
                out: [0; 2048],
                pcm: [0; MAX_PAYLOAD],
            }),
            ticks: 0,
            seed: rand::random(),
            figures,
            closed_rx: 0,
            closed_lost: 0,
        }
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut ticker = Ticker::new(Instant::now());
        // Sockets that still had datagrams queued when their read budget ran out.
        let mut backlog: Vec<usize> = Vec::new();
        let mut last_warn: Option<Instant> = None;
        loop {
            let timeout = if backlog.is_empty() {
                ticker.deadline().saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(shard = self.index, error = %e, "media poll failed");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            let mut stop = false;
            let work = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                for ev in events.iter() {
                    match ev.token() {
                        WAKE => {
                            if !self.commands() {
                                stop = true;
                                return;
                            }
                        }
                        Token(t) => self.read(t, &mut backlog),
                    }
                }
                for t in std::mem::take(&mut backlog) {
                    self.read(t, &mut backlog);
                }
                let now = Instant::now();
                let skipped = ticker.skipped;
                for at in ticker.due(now) {
                    self.tick(at);
                }
                if ticker.skipped > skipped {
                    // The shard fell more than 5 frames behind: prompts jumped and recordings
                    // lost that stretch. Counted, and said (at most every 10 s).
                    let lost = ticker.skipped - skipped;
                    self.skipped.fetch_add(lost, Ordering::Relaxed);
                    if last_warn
                        .is_none_or(|t: Instant| now.duration_since(t) > Duration::from_secs(10))
                    {
                        last_warn = Some(now);
                        tracing::warn!(
                            shard = self.index,
                            frames = lost,
                            "media shard overloaded: 20 ms ticks skipped (audio lost in recordings and prompts)"
                        );
                    }
                }
            }));
            if work.is_err() {
                // A bug must not silence every call on the shard: what hit it is lost, the
                // loop goes on.
                tracing::error!(shard = self.index, "media shard panicked; continuing");
            }
            if stop {
                self.close_all();
                return;
            }
        }
    }

    /// Reads a socket (token: slot × 2, + 1 for RTCP) up to its budget; if datagrams are
    /// still queued it goes on the backlog (the poll is edge-triggered: no new event comes).
    fn read(&mut self, token: usize, backlog: &mut Vec<usize>) {
        let more = self.read_socket(token >> 1, token & 1 == 1);
        if more {
            backlog.push(token);
        }
    }

    fn emit(&self, stream: StreamId, kind: MediaEventKind) {
        let _ = self.events.send(MediaEvent { stream, kind });
    }

    fn slot_of(&self, id: StreamId) -> Option<usize> {
        self.by_serial.get(&id.serial).copied()
    }

    fn stream(&mut self, i: usize) -> Option<&mut Stream> {
        self.slots.get_mut(i)?.as_mut().map(|s| &mut s.s)
    }

    /// Handles queued commands; false on shutdown.
    fn commands(&mut self) -> bool {
        while let Ok(c) = self.rx.try_recv() {
            if !self.command(c) {
                return false;
            }
        }
        true
    }

    fn command(&mut self, c: Command) -> bool {
        match c {
            Command::Open { id, rtp, rtcp } => self.open(id, rtp, rtcp),
            Command::Configure { id, params } => {
                if let Some(slot) = self
                    .slot_of(id)
                    .and_then(|i| self.slots.get_mut(i)?.as_mut())
                {
                    slot.s.configure(params, Instant::now());
                    // A new negotiation may move the peer: listen to everyone until it latches
                    // again.
                    if slot.connected.take().is_some() {
                        disconnect(slot.rtp.as_raw_fd());
                    }
                }
            }
            Command::Play { id, player, token } => {
                if let Some(i) = self.slot_of(id) {
                    self.stop_player(i, PlayEnd::Replaced);
                    if let Some(s) = self.stream(i) {
                        s.play_token = token;
                    }
                    let old = self.set_output(i, Output::Player(player));
                    if let (Some(s), Output::Relay(j)) = (self.stream(i), old) {
                        s.resume_relay = Some(j);
                    }
                }
            }
            Command::StopPlaying { id } => {
                if let Some(i) = self.slot_of(id) {
                    self.stop_player(i, PlayEnd::Replaced);
                }
            }
            Command::Bridge { a, b } => {
                if let (Some(i), Some(j)) = (self.slot_of(a), self.slot_of(b)) {
                    if i != j {
                        self.stop_player(i, PlayEnd::Replaced);
                        self.stop_player(j, PlayEnd::Replaced);
                        self.set_output(i, Output::Relay(j));
                        self.set_output(j, Output::Relay(i));
                    }
                }
            }
            Command::Unbridge { id } => {
                if let Some(i) = self.slot_of(id) {
                    if let Some(Output::Relay(j)) = self.stream(i).map(|s| &s.output) {
                        let j = *j;
                        self.set_output(i, Output::Silence);
                        if matches!(self.stream(j).map(|s| &s.output), Some(Output::Relay(k)) if *k == i)
                        {
                            self.set_output(j, Output::Silence);
                        }
                    }
                }
            }
            Command::Mix { id, sources } => {
                if let Some(i) = self.slot_of(id) {
                    let srcs: Vec<usize> = sources
                        .iter()
                        .filter_map(|s| self.slot_of(*s))
                        .filter(|&j| j != i)
                        .collect();
                    self.stop_player(i, PlayEnd::Replaced);
                    self.set_output(i, Output::Mix(srcs));
                }
            }
            Command::Record { id, sink } => {
                if let Some(i) = self.slot_of(id) {
                    if let Some(s) = self.stream(i) {
                        if let Some(old) = s.recording.replace(*sink) {
                            old.close();
                        }
                    }
                    self.recompute_taps();
                }
            }
            Command::StopRecording { id } => {
                if let Some(i) = self.slot_of(id) {
                    if let Some(rec) = self.stream(i).and_then(|s| s.recording.take()) {
                        rec.close();
                    }
                    self.recompute_taps();
                }
            }
            Command::SendDtmf { id, digits } => {
                if let Some(s) = self.slot_of(id).and_then(|i| self.stream(i)) {
                    match &mut s.dtmf_out {
                        Some(out) => out.queue.extend(digits),
                        None => {
                            let mut queue: VecDeque<_> = digits.into();
                            if let Some(d) = queue.pop_front() {
                                s.dtmf_out = Some(DtmfOut {
                                    sender: DtmfSender::new(
                                        d,
                                        DTMF_TONE,
                                        0,
                                        0,
                                        &super::stream::dtmf_sender_config(),
                                    ),
                                    queue,
                                    started: Instant::now(),
                                    first: true,
                                });
                            }
                        }
                    }
                }
            }
            Command::Stats { id, reply } => {
                let stats = self.slot_of(id).and_then(|i| self.stats(i));
                let _ = reply.send(stats);
            }
            Command::Close { id } => {
                if let Some(i) = self.slot_of(id) {
                    self.close(i);
                }
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn open(&mut self, id: StreamId, rtp: std::net::UdpSocket, rtcp: std::net::UdpSocket) {
        let i = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let mut rtp = UdpSocket::from_std(rtp);
        let mut rtcp = UdpSocket::from_std(rtcp);
        let reg = self.poll.registry();
        if let Err(e) = reg
            .register(&mut rtp, Token(i << 1), Interest::READABLE)
            .and_then(|_| reg.register(&mut rtcp, Token((i << 1) | 1), Interest::READABLE))
        {
            tracing::error!(error = %e, port = id.port, "cannot poll an RTP socket");
        }
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let s = Stream::new(id, id.port, self.cfg.jitter, Instant::now(), self.seed);
        self.slots[i] = Some(Slot {
            rtp,
            rtcp,
            s,
            connected: None,
        });
        self.by_serial.insert(id.serial, i);
    }

    fn close(&mut self, i: usize) {
        let Some(mut slot) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        let reg = self.poll.registry();
        let _ = reg.deregister(&mut slot.rtp);
        let _ = reg.deregister(&mut slot.rtcp);
        if let Some(dest) = slot.s.rtcp_destination() {
            let n = rtcp::write_bye(&mut self.scratch.out, slot.s.out.ssrc(), "hotline");
            if n > 0 {
                let _ = slot.rtcp.send_to(&self.scratch.out[..n], dest);
            }
        }
        if let Some(rec) = slot.s.recording.take() {
            rec.close();
        }
        let (_, lost, _) = rx_figures(&mut slot.s);
        self.closed_rx += slot.s.counters.rx_packets;
        self.closed_lost += lost;
        self.by_serial.remove(&slot.s.id.serial);
        let port = slot.s.port;
        drop(slot);
        self.ports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(port);
        self.load.fetch_sub(1, Ordering::Relaxed);
        self.free.push(i);
        // Nothing may point at the slot any more.
        for j in 0..self.slots.len() {
            let Some(s) = self.stream(j) else { continue };
            if s.forward_to == Some(i) {
                s.forward_to = None;
            }
            if s.resume_relay == Some(i) {
                s.resume_relay = None;
            }
            match &mut s.output {
                Output::Relay(k) if *k == i => s.output = Output::Silence,
                Output::Mix(v) => v.retain(|&k| k != i),
                _ => {}
            }
        }
        self.recompute_taps();
    }

    fn close_all(&mut self) {
        for i in 0..self.slots.len() {
            self.close(i);
        }
    }

    /// Sets what slot `i` sends, keeping the relay links (`forward_to`) consistent; returns
    /// the previous output.
    fn set_output(&mut self, i: usize, output: Output) -> Output {
        let Some(s) = self.stream(i) else {
            return Output::Silence;
        };
        s.resume_relay = None;
        let old = std::mem::replace(&mut s.output, output);
        if let Output::Relay(j) = old {
            if let Some(src) = self.stream(j) {
                if src.forward_to == Some(i) {
                    src.forward_to = None;
                }
            }
        }
        if let Some(Output::Relay(j)) = self.stream(i).map(|s| &s.output) {
            let j = *j;
            if let Some(src) = self.stream(j) {
                src.forward_to = Some(i);
            }
        }
        self.recompute_taps();
        old
    }

    /// Ends a prompt on slot `i` (reporting it), resuming a paused bridge.
    fn stop_player(&mut self, i: usize, end: PlayEnd) {
        let Some(s) = self.stream(i) else { return };
        if !matches!(s.output, Output::Player(_)) {
            return;
        }
        let (id, token) = (s.id, s.play_token);
        let resume = s.resume_relay.take();
        match resume {
            Some(j) if self.stream(j).is_some() => {
                self.set_output(i, Output::Relay(j));
            }
            _ => {
                self.set_output(i, Output::Silence);
            }
        }
        self.emit(id, MediaEventKind::PlayFinished { play: token, end });
    }

    /// Which streams must decode their audio into the jitter buffer.
    fn recompute_taps(&mut self) {
        let n = self.slots.len();
        let mut tapped = vec![false; n];
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(slot) = slot else { continue };
            if slot.s.recording.is_some() {
                tapped[i] = true;
                if let Output::Relay(j) = slot.s.output {
                    tapped[j] = true;
                }
            }
            if let Output::Mix(v) = &slot.s.output {
                for &j in v {
                    tapped[j] = true;
                }
            }
        }
        for (i, t) in tapped.into_iter().enumerate() {
            if let Some(s) = self.stream(i) {
                if t && !s.tapped {
                    s.jitter.reset();
                }
                s.tapped = t;
            }
        }
    }

    /// Reads one socket of slot `i` in batches; returns true when the budget ran out with
    /// datagrams possibly left.
    fn read_socket(&mut self, i: usize, rtcp: bool) -> bool {
        let mut batch = self.batch.take().unwrap_or_default();
        let mut read = 0;
        let mut errors = 0;
        let more = loop {
            let Some(slot) = self.slots.get(i).and_then(Option::as_ref) else {
                break false;
            };
            let fd = if rtcp {
                slot.rtcp.as_raw_fd()
            } else {
                slot.rtp.as_raw_fd()
            };
            let n = match batch.recv(fd) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
                // ICMP port unreachable from an earlier send, EINTR and the like: try again,
                // but not forever.
                Err(_) => {
                    errors += 1;
                    if errors > 4 {
                        break false;
                    }
                    continue;
                }
            };
            for k in 0..n {
                if let Some((data, src)) = batch.get(k) {
                    if rtcp {
                        self.on_rtcp(i, data, src);
                    } else {
                        self.on_rtp(i, data, src);
                    }
                }
            }
            read += n;
            if n < BATCH {
                break false; // drained: no need to be told EAGAIN
            }
            if read >= READ_BUDGET {
                break true;
            }
        };
        self.batch = Some(batch);
        more
    }

    fn on_rtp(&mut self, i: usize, data: &[u8], src: SocketAddr) {
        let now = Instant::now();
        let Scratch { out, pcm, .. } = &mut *self.scratch;
        let Some(slot) = self.slots[i].as_mut() else {
            return;
        };
        let received = slot.s.receive(data, src, now, pcm);
        let forward = slot.s.forward_to;
        let id = slot.s.id;
        let (header, payload, codec, started) = match received {
            Received::Drop => return,
            Received::Audio {
                header,
                codec,
                payload,
            } => (header, payload, Some(codec), None),
            Received::Dtmf {
                header,
                payload,
                started,
            } => (header, payload, None, started),
        };
        let barge =
            started.is_some() && matches!(&slot.s.output, Output::Player(p) if p.barge_in());
        if let Some(target) = forward.and_then(|j| self.slots.get_mut(j)?.as_mut()) {
            relay(target, &header, payload, codec, now, out);
        }
        if let Some(d) = started {
            self.emit(id, MediaEventKind::Dtmf(d));
            if barge {
                self.stop_player(i, PlayEnd::Barged);
            }
        }
    }

    fn on_rtcp(&mut self, i: usize, data: &[u8], src: SocketAddr) {
        let Some(slot) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        if slot.s.media.is_none() || slot.s.rtcp_latched.is_some_and(|a| a != src) {
            return;
        }
        if let Ok(parsed) = rtcp::parse(data) {
            slot.s.rtcp_latched = Some(src);
            slot.s.rtcp.on_rtcp(&parsed, Instant::now(), ntp_now());
        }
    }

    /// One 20 ms frame for every stream, scheduled at `at`.
    fn tick(&mut self, at: Instant) {
        self.ticks += 1;
        let n = self.slots.len();
        // 1. Audio consumers get this tick's frame of each tapped stream.
        for slot in self.slots.iter_mut().flatten() {
            if slot.s.tapped {
                slot.s.jitter.pop(&mut slot.s.frame_in);
            }
        }
        // 2. Prompts and mixes send a frame; DTMF goes out; recordings get a frame.
        let mut mix = [0i16; FRAME_SAMPLES];
        let mut right = [0i16; FRAME_SAMPLES];
        for i in 0..n {
            let Some(slot) = self.slots[i].as_ref() else {
                continue;
            };
            let mut made = false;
            if let Output::Mix(srcs) = &slot.s.output {
                mix.fill(0);
                for &j in srcs {
                    if let Some(src) = self.slots[j].as_ref() {
                        for (m, x) in mix.iter_mut().zip(src.s.frame_in.iter()) {
                            *m = m.saturating_add(*x);
                        }
                    }
                }
                made = true;
            }
            let relay_frame = match slot.s.output {
                Output::Relay(j) if slot.s.recording.is_some() => {
                    self.slots[j].as_ref().map(|o| o.s.frame_in)
                }
                _ => None,
            };
            let slot = self.slots[i].as_mut().expect("checked above");
            let s = &mut slot.s;
            s.frame_out_valid = false;
            if made {
                s.frame_out = mix;
                s.frame_out_valid = true;
            }
            let mut finished = false;
            if let Output::Player(p) = &mut s.output {
                finished = !p.next_frame(&mut s.frame_out);
                s.frame_out_valid = !finished;
            }
            if s.dtmf_out.is_some() && s.sends() {
                send_dtmf(slot, at, &mut self.scratch.out);
            } else if slot.s.frame_out_valid && slot.s.sends() {
                let s = &mut slot.s;
                let codec = s.codec();
                let len = encode(codec, &s.frame_out, &mut self.scratch.out[HEADER_LEN..]);
                let h = s.out.local(codec.payload_type(), FRAME_SAMPLES as u32, at);
                h.write(&mut self.scratch.out[..]);
                send(
                    slot,
                    &self.scratch.out[..HEADER_LEN + len],
                    h.timestamp,
                    len,
                );
            }
            let s = &mut slot.s;
            if let Some(rec) = s.recording.as_mut() {
                if let Some(f) = relay_frame {
                    right = f;
                } else if s.frame_out_valid {
                    right = s.frame_out;
                } else {
                    right.fill(0);
                }
                rec.push_frame(&s.frame_in, &right);
            }
            if finished {
                self.stop_player(i, PlayEnd::Done);
            }
        }
        if self.ticks.is_multiple_of(HOUSEKEEPING_TICKS) {
            self.housekeeping(at);
        }
    }

    fn housekeeping(&mut self, now: Instant) {
        let ntp = ntp_now();
        let timeout = self.cfg.rtp_timeout;
        let mut timed_out = Vec::new();
        let (mut rx, mut lost, mut jitter_us, mut receiving) =
            (self.closed_rx, self.closed_lost, 0u64, 0u64);
        for slot in self.slots.iter_mut().flatten() {
            let s = &mut slot.s;
            let (has_rx, l, j) = rx_figures(s);
            rx += s.counters.rx_packets;
            lost += l;
            if has_rx {
                jitter_us += j;
                receiving += 1;
            }
            s.dtmf.handle_timeout(now);
            while s.dtmf.poll_event().is_some() {}
            if s.media.is_none() {
                continue;
            }
            if s.rtp_timed_out(now, timeout) {
                s.timeout_reported = true;
                timed_out.push(s.id);
            }
            if s.rtcp.poll_timeout() <= now {
                if let Some(dest) = s.rtcp_destination() {
                    let rtp_ts = s.out.timestamp_at(now);
                    let stats = s.rx.as_mut().map(|(ssrc, r)| (*ssrc, r));
                    let n = s
                        .rtcp
                        .poll_transmit(now, ntp, rtp_ts, stats, &mut self.scratch.out);
                    if n > 0 {
                        let _ = slot.rtcp.send_to(&self.scratch.out[..n], dest);
                    }
                }
            }
        }
        self.figures.rx_packets.store(rx, Ordering::Relaxed);
        self.figures.rx_lost.store(lost, Ordering::Relaxed);
        self.figures
            .jitter_us_sum
            .store(jitter_us, Ordering::Relaxed);
        self.figures
            .jitter_streams
            .store(receiving, Ordering::Relaxed);
        for id in timed_out {
            self.emit(id, MediaEventKind::RtpTimeout);
        }
    }

    fn stats(&mut self, i: usize) -> Option<StreamStats> {
        let s = &self.slots.get(i)?.as_ref()?.s;
        let (lost, jitter) = s
            .rx_view()
            .map(|r| (r.cumulative_lost(), r.jitter() / 8.0))
            .unwrap_or((0, 0.0));
        let f = s.rtcp.figures();
        Some(StreamStats {
            port: s.port,
            remote: s.destination().map(|a| a.to_string()),
            codec: s.media.as_ref().map(|m| m.codec.name()),
            counters: s.counters,
            rx_lost: lost,
            rx_jitter_ms: jitter,
            remote_fraction_lost: f.remote_fraction_lost,
            remote_jitter_ms: f.remote_jitter_ms,
            rtt_ms: f.rtt_ms,
            concealed_frames: s.jitter.stats().concealed,
            recording: s.recording.as_ref().map(|r| r.path().display().to_string()),
        })
    }
}

/// Whether the stream receives RTP, its packets lost (a count that never goes down, see
/// [`super::lost`]) and its jitter in microseconds.
fn rx_figures(s: &mut Stream) -> (bool, u64, u64) {
    match s.rx.as_ref().map(|(_, r)| r) {
        Some(r) => (
            true,
            s.lost.observe(r.cumulative_lost()),
            // RTP timestamp units at 8 kHz: 125 µs each.
            (r.jitter() * 125.0) as u64,
        ),
        None => (false, s.lost.total(), 0),
    }
}

fn ntp_now() -> u64 {
    rtcp::ntp_from_unix(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}
