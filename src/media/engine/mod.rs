//! The media engine: RTP streams on sharded worker threads. Each shard is one OS thread with
//! its own `mio` poll owning many UDP sockets (RTP on an even port, RTCP on the next), so the
//! packet path is a `recvfrom`, a little arithmetic and a `sendto` — no task per packet, no
//! allocation, no lock, and never a disk or database call (recordings go to the recorder's
//! writer thread in pooled chunks). A 20 ms grid clock per shard paces prompts, mixes and
//! recording frames. The rest of the server talks to it through a cheap [`MediaEngine`]
//! handle: allocate a stream (SDP port), configure it from the negotiated SDP, play, bridge,
//! mix, record, send DTMF, release; and hears back [`MediaEvent`]s (digits, prompt finished,
//! RTP timeout).

mod batch;
mod lost;
mod ports;
mod rewrite;
mod send;
mod shard;
mod stream;
mod tick;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub use ports::PortPool;
pub use rewrite::OutStream;
pub use stream::Counters;
pub use tick::{Ticker, FRAME};

use crate::media::dtmf::Digit;
use crate::media::prompt::Player;
use crate::media::recorder::RecordingSink;
use crate::media::rtp::jitter::JitterConfig;
use crate::media::sdp::MediaParams;

/// Names one stream: its shard, a serial number unique for the life of the process, and its
/// RTP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    pub shard: u16,
    pub serial: u32,
    pub port: u16,
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rtp:{}#{}", self.port, self.serial)
    }
}

/// A stream just allocated: its id and the address to put in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalStream {
    pub id: StreamId,
    pub addr: SocketAddr,
}

#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Address the RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Address written in SDP (`c=`); the bind address unless it is unspecified.
    pub public_ip: IpAddr,
    /// RTP port range, both inclusive.
    pub ports: (u16, u16),
    /// Worker threads; 0 = one per core.
    pub shards: usize,
    /// No RTP for this long on a stream that should receive → [`MediaEventKind::RtpTimeout`].
    pub rtp_timeout: Duration,
    pub jitter: JitterConfig,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::from([0, 0, 0, 0]),
            public_ip: IpAddr::from([127, 0, 0, 1]),
            ports: (20000, 29999),
            shards: 0,
            rtp_timeout: Duration::from_secs(60),
            jitter: JitterConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no free RTP port in the configured range")]
    NoPorts,
    #[error("cannot bind an RTP port: {0}")]
    Bind(std::io::Error),
    #[error("streams {0} and {1} are on different media shards")]
    NotSameShard(StreamId, StreamId),
    #[error("the media engine is stopped")]
    Stopped,
}

/// Why a prompt stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayEnd {
    /// Played to the end.
    Done,
    /// A digit cut it short (barge-in).
    Barged,
    /// Another prompt, a bridge or a mix took its place, or it was stopped.
    Replaced,
}

/// What a stream reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEventKind {
    /// A key press (RFC 4733) started.
    Dtmf(Digit),
    /// A prompt stopped playing, and why; `play` is the token [`MediaEngine::play`] returned,
    /// so a late event about an earlier prompt is told apart from the current one.
    PlayFinished { play: u64, end: PlayEnd },
    /// No RTP for the configured time.
    RtpTimeout,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaEvent {
    pub stream: StreamId,
    pub kind: MediaEventKind,
}

/// Per-stream figures for the API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamStats {
    pub port: u16,
    pub remote: Option<String>,
    pub codec: Option<&'static str>,
    #[serde(flatten)]
    pub counters: Counters,
    /// Packets lost in reception (expected − received).
    pub rx_lost: i64,
    /// Interarrival jitter of what we receive, in ms.
    pub rx_jitter_ms: f64,
    /// What the peer's RTCP says about what we send.
    pub remote_fraction_lost: f64,
    pub remote_jitter_ms: f64,
    pub rtt_ms: Option<f64>,
    /// Jitter-buffer frames concealed (lost or late audio) where audio is consumed.
    pub concealed_frames: u64,
    pub recording: Option<String>,
}

/// Engine-wide counters.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct EngineStats {
    pub streams: usize,
    pub ports_in_use: usize,
    pub ports_capacity: usize,
    pub shards: usize,
    /// 20 ms ticks skipped because a shard fell behind (overload).
    pub skipped_ticks: u64,
    /// RTP packets received, all streams since the start (as of the shards' last 200 ms
    /// housekeeping round).
    pub rx_packets: u64,
    /// RTP packets lost in reception, all streams since the start: per stream the highest
    /// expected − received seen, so that the total never goes down when late packets arrive.
    pub rx_lost: u64,
    /// Mean interarrival jitter of the streams receiving RTP now, in ms (0 with none).
    pub rx_jitter_ms: f64,
    /// Streams receiving RTP now (the jitter mean is over them).
    pub rx_streams: u64,
}

pub(crate) enum Command {
    Open {
        id: StreamId,
        rtp: UdpSocket,
        rtcp: UdpSocket,
    },
    Configure {
        id: StreamId,
        params: MediaParams,
    },
    Play {
        id: StreamId,
        player: Box<Player>,
        token: u64,
    },
    StopPlaying {
        id: StreamId,
    },
    Bridge {
        a: StreamId,
        b: StreamId,
    },
    Unbridge {
        id: StreamId,
    },
    Mix {
        id: StreamId,
        sources: Vec<StreamId>,
    },
    Record {
        id: StreamId,
        sink: Box<RecordingSink>,
    },
    StopRecording {
        id: StreamId,
    },
    SendDtmf {
        id: StreamId,
        digits: Vec<Digit>,
    },
    Stats {
        id: StreamId,
        reply: tokio::sync::oneshot::Sender<Option<StreamStats>>,
    },
    Close {
        id: StreamId,
    },
    Shutdown,
}

struct ShardHandle {
    figures: Arc<shard::ShardFigures>,
    tx: mpsc::Sender<Command>,
    waker: Arc<mio::Waker>,
    load: Arc<AtomicUsize>,
}

struct Inner {
    cfg: MediaConfig,
    ports: Arc<Mutex<PortPool>>,
    shards: Vec<ShardHandle>,
    serial: AtomicU32,
    /// Tokens of prompts played.
    plays: AtomicU64,
    skipped: Arc<AtomicU64>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<Inner>,
}

impl MediaEngine {
    /// Starts the shard threads. Events go to `events`.
    pub fn start(
        cfg: MediaConfig,
        events: tokio::sync::mpsc::UnboundedSender<MediaEvent>,
    ) -> std::io::Result<MediaEngine> {
        let n = if cfg.shards == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cfg.shards
        }
        .min(64);
        let ports = Arc::new(Mutex::new(PortPool::new(cfg.ports.0, cfg.ports.1)));
        let skipped = Arc::new(AtomicU64::new(0));
        let mut shards = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for index in 0..n {
            let poll = mio::Poll::new()?;
            let waker = Arc::new(mio::Waker::new(poll.registry(), shard::WAKE)?);
            let (tx, rx) = mpsc::channel();
            let load = Arc::new(AtomicUsize::new(0));
            let figures = Arc::new(shard::ShardFigures::default());
            let shard = shard::Shard::new(
                index as u16,
                poll,
                rx,
                events.clone(),
                shard::Shared {
                    figures: figures.clone(),
                    ports: ports.clone(),
                    load: load.clone(),
                    skipped: skipped.clone(),
                },
                shard::ShardConfig {
                    jitter: cfg.jitter,
                    rtp_timeout: cfg.rtp_timeout,
                },
            );
            threads.push(
                std::thread::Builder::new()
                    .name(format!("media-{index}"))
                    .spawn(move || shard.run())?,
            );
            shards.push(ShardHandle {
                figures,
                tx,
                waker,
                load,
            });
        }
        tracing::info!(
            shards = n,
            ports = %format!("{}-{}", cfg.ports.0, cfg.ports.1),
            "media engine started"
        );
        Ok(MediaEngine {
            inner: Arc::new(Inner {
                cfg,
                ports,
                shards,
                serial: AtomicU32::new(1),
                plays: AtomicU64::new(1),
                skipped,
                threads: Mutex::new(threads),
            }),
        })
    }

    pub fn config(&self) -> &MediaConfig {
        &self.inner.cfg
    }

    /// Hands a command to a shard; false when the shard is gone.
    fn send(&self, shard: u16, c: Command) -> bool {
        match self.inner.shards.get(usize::from(shard)) {
            Some(s) if s.tx.send(c).is_ok() => {
                let _ = s.waker.wake();
                true
            }
            _ => false,
        }
    }

    /// A new stream with a bound RTP/RTCP port pair, on the same shard as `near` (the other
    /// leg of the call, so bridging stays on one thread) or on the least loaded one.
    /// Non-blocking: binding a UDP socket does not wait.
    pub fn allocate(&self, near: Option<StreamId>) -> Result<LocalStream, MediaError> {
        let cfg = &self.inner.cfg;
        let mut last_err = None;
        for _ in 0..32 {
            let now = Instant::now();
            let port = self
                .inner
                .ports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(now)
                .ok_or(MediaError::NoPorts)?;
            match bind_pair(cfg.bind_ip, port) {
                Ok((rtp, rtcp)) => {
                    let shard = match near {
                        Some(n) if usize::from(n.shard) < self.inner.shards.len() => n.shard,
                        _ => self.least_loaded(),
                    };
                    let id = StreamId {
                        shard,
                        serial: self.inner.serial.fetch_add(1, Ordering::Relaxed),
                        port,
                    };
                    let load = &self.inner.shards[usize::from(shard)].load;
                    load.fetch_add(1, Ordering::Relaxed);
                    if !self.send(shard, Command::Open { id, rtp, rtcp }) {
                        load.fetch_sub(1, Ordering::Relaxed);
                        self.inner
                            .ports
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .put(port);
                        return Err(MediaError::Stopped);
                    }
                    let ip = if cfg.public_ip.is_unspecified() {
                        IpAddr::from([127, 0, 0, 1])
                    } else {
                        cfg.public_ip
                    };
                    return Ok(LocalStream {
                        id,
                        addr: SocketAddr::new(ip, port),
                    });
                }
                Err(e) => {
                    self.inner
                        .ports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .quarantine(port, now);
                    last_err = Some(e);
                }
            }
        }
        Err(MediaError::Bind(last_err.unwrap_or_else(|| {
            std::io::Error::other("no port could be bound")
        })))
    }

    fn least_loaded(&self) -> u16 {
        self.inner
            .shards
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.load.load(Ordering::Relaxed))
            .map_or(0, |(i, _)| i as u16)
    }

    /// The negotiated parameters (after an offer/answer, and after every re-INVITE).
    pub fn configure(&self, id: StreamId, params: MediaParams) {
        self.send(id.shard, Command::Configure { id, params });
    }

    /// Plays to the stream, replacing what it was sending; a bridge resumes afterwards.
    /// Returns the token its [`MediaEventKind::PlayFinished`] will carry.
    pub fn play(&self, id: StreamId, player: Player) -> u64 {
        let token = self.inner.plays.fetch_add(1, Ordering::Relaxed);
        self.send(
            id.shard,
            Command::Play {
                id,
                player: Box::new(player),
                token,
            },
        );
        token
    }

    pub fn stop_playing(&self, id: StreamId) {
        self.send(id.shard, Command::StopPlaying { id });
    }

    /// Relays `a`'s audio and DTMF to `b` and back (transcoding when their codecs differ).
    pub fn bridge(&self, a: StreamId, b: StreamId) -> Result<(), MediaError> {
        if a.shard != b.shard {
            return Err(MediaError::NotSameShard(a, b));
        }
        self.send(a.shard, Command::Bridge { a, b });
        Ok(())
    }

    pub fn unbridge(&self, id: StreamId) {
        self.send(id.shard, Command::Unbridge { id });
    }

    /// `id` sends the sum of what `sources` receive (listen, whisper, barge).
    pub fn mix(&self, id: StreamId, sources: &[StreamId]) -> Result<(), MediaError> {
        if let Some(s) = sources.iter().find(|s| s.shard != id.shard) {
            return Err(MediaError::NotSameShard(id, *s));
        }
        self.send(
            id.shard,
            Command::Mix {
                id,
                sources: sources.to_vec(),
            },
        );
        Ok(())
    }

    /// Records the stream: left what it receives (the caller), right what it hears (the
    /// bridged agent, a prompt or a mix). A mono sink gets the left channel only.
    pub fn record(&self, id: StreamId, sink: RecordingSink) {
        self.send(
            id.shard,
            Command::Record {
                id,
                sink: Box::new(sink),
            },
        );
    }

    pub fn stop_recording(&self, id: StreamId) {
        self.send(id.shard, Command::StopRecording { id });
    }

    /// Sends digits as RFC 4733 events (if the peer negotiated telephone-event).
    pub fn send_dtmf(&self, id: StreamId, digits: &[Digit]) {
        self.send(
            id.shard,
            Command::SendDtmf {
                id,
                digits: digits.to_vec(),
            },
        );
    }

    /// Closes the stream; its port goes back to the pool, its recording is finished.
    pub fn release(&self, id: StreamId) {
        self.send(id.shard, Command::Close { id });
    }

    pub async fn stream_stats(&self, id: StreamId) -> Option<StreamStats> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.send(id.shard, Command::Stats { id, reply });
        rx.await.ok().flatten()
    }

    pub fn stats(&self) -> EngineStats {
        let ports = self.inner.ports.lock().unwrap_or_else(|e| e.into_inner());
        let sum = |f: fn(&shard::ShardFigures) -> &AtomicU64| -> u64 {
            self.inner
                .shards
                .iter()
                .map(|s| f(&s.figures).load(Ordering::Relaxed))
                .sum()
        };
        let rx_streams = sum(|f| &f.jitter_streams);
        let jitter_us = sum(|f| &f.jitter_us_sum);
        EngineStats {
            rx_packets: sum(|f| &f.rx_packets),
            rx_lost: sum(|f| &f.rx_lost),
            rx_jitter_ms: if rx_streams == 0 {
                0.0
            } else {
                jitter_us as f64 / rx_streams as f64 / 1000.0
            },
            rx_streams,
            streams: self
                .inner
                .shards
                .iter()
                .map(|s| s.load.load(Ordering::Relaxed))
                .sum(),
            ports_in_use: ports.in_use(),
            ports_capacity: ports.capacity(),
            shards: self.inner.shards.len(),
            skipped_ticks: self.inner.skipped.load(Ordering::Relaxed),
        }
    }

    /// Stops the shards (finishing recordings of open streams) and waits for them.
    pub fn shutdown(&self) {
        for (i, _) in self.inner.shards.iter().enumerate() {
            self.send(i as u16, Command::Shutdown);
        }
        let threads =
            std::mem::take(&mut *self.inner.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

fn bind_pair(ip: IpAddr, port: u16) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, port))?;
    let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1))?;
    rtp.set_nonblocking(true)?;
    rtcp.set_nonblocking(true)?;
    Ok((rtp, rtcp))
}

#[cfg(test)]
mod tests;
