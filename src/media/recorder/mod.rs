//! Call recorder (DESIGN.md `media/`, "recordings are playable even if the process is killed
//! mid-call"): 8 kHz 16-bit PCM WAV files written with `hound`, stereo for a bridged call
//! (caller left, agent right) and mono for one-sided recordings such as voicemail.
//!
//! * [`Recorder`] is a cheap, cloneable handle on one writer thread (named `recorder`) that
//!   owns every open file. It decides where a recording goes ([`Recorder::path_for`]) and
//!   opens recordings ([`Recorder::open`]).
//! * [`RecordingSink`] belongs to one call in a packet thread. [`RecordingSink::push_frame`]
//!   copies a 20 ms frame into a pooled chunk buffer and hands full chunks to the writer with a
//!   non-blocking send: it never touches the disk, never blocks and does not allocate once the
//!   buffer pool is warm (buffers come back from the writer through a free list). When the
//!   bounded queue is full the chunk's frames are counted as dropped and reported once.
//!
//! **Crash safety.** The writer brings each file's WAV header up to date (hound's
//! `WavWriter::flush`: buffered data out, RIFF and data lengths patched) on a fixed cadence of
//! [`RecorderConfig::flush_interval`] (1 s by default), so a process killed mid-call leaves a
//! file that parses and plays everything up to the last flush. The flush is a `write(2)` into
//! the page cache, not an `fsync`: the page cache survives the death of the process (SIGKILL,
//! panic, OOM kill), only a kernel crash or power loss can lose it, which is the price of not
//! syncing once a second per call. A file is `sync_all`ed when it is closed, on a syncer thread
//! of its own (its `Closed` event follows the sync), so closes never delay the writing of the
//! calls still recording. Audio written
//! after the last flush may already sit in the file behind the data chunk (the header does not
//! count it yet); players ignore it.
//!
//! **Disk errors** (ENOSPC, EIO, permissions, the root being a file…) are reported as
//! [`RecorderEvent::Error`] and never stop the call: the sink keeps accepting frames, the
//! writer drops the audio of a failed file and [`RecorderEvent::Closed`] counts what was lost.
//!
//! Memory per open recording on the writer side is one 8 KiB `BufWriter` plus bookkeeping;
//! the chunk buffers (`chunk_frames` × 20 ms, 6.4 KB for a stereo chunk of 10 frames) are
//! pooled.

mod writer;

#[cfg(test)]
mod tests;

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::UnboundedSender;

/// Sample rate of every recording.
pub const SAMPLE_RATE: u32 = 8000;
/// Samples per channel in one 20 ms frame.
pub const FRAME_SAMPLES: usize = 160;
/// Longest file-name stem kept from a call id.
const MAX_STEM: usize = 120;

/// Recorder settings.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// Directory under which `YYYY/MM/DD/<call>.wav` files are written (e.g. `data/recordings`).
    pub root: PathBuf,
    /// Longest time a file's header may lag behind the audio handed to the writer (1 s).
    pub flush_interval: Duration,
    /// 20 ms frames per chunk handed to the writer (10, i.e. 200 ms).
    pub chunk_frames: usize,
    /// Capacity of the bounded queue to the writer, in chunks (8192).
    pub queue_chunks: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            root: PathBuf::from("data/recordings"),
            flush_interval: Duration::from_secs(1),
            chunk_frames: 10,
            queue_chunks: 8192,
        }
    }
}

/// What happened to a recording.
#[derive(Debug, Clone, PartialEq)]
pub enum RecorderEvent {
    /// The file was created and its header written.
    Opened { call_id: String, path: PathBuf },
    /// Audio is being lost: the file could not be created or written, or the queue to the
    /// writer was full. Reported once per cause; the call goes on.
    Error {
        call_id: String,
        path: PathBuf,
        error: String,
    },
    /// The recording is finished. `samples` is per channel and counts what the file's header
    /// holds; `dropped_frames` counts the 20 ms frames pushed that the file does not hold.
    Closed {
        call_id: String,
        path: PathBuf,
        samples: u64,
        dropped_frames: u64,
    },
}

/// Counters of the recorder as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecorderStats {
    /// Recordings opened by the writer and not closed yet.
    pub open_files: usize,
    /// Audio bytes written (handed to the files), all recordings.
    pub bytes_written: u64,
    /// Error events sent.
    pub errors: u64,
    /// Frames dropped (queue full or failed file), all recordings.
    pub dropped_frames: u64,
    /// Chunks waiting in the queue to the writer.
    pub queue_depth: usize,
}

/// Messages on the bounded data queue.
enum Msg {
    Chunk {
        id: u64,
        buf: Vec<i16>,
    },
    /// Nudges the writer to look at the control list.
    Wake,
}

/// Messages that must not be lost, kept in an unbounded list beside the data queue.
enum Control {
    Open {
        id: u64,
        call_id: String,
        path: PathBuf,
        channels: u16,
    },
    Close {
        id: u64,
        /// Chunks the sink put on the queue; the writer closes once it has seen them all.
        chunks_sent: u64,
        /// Frames the sink dropped itself (queue full).
        dropped_frames: u64,
    },
    Shutdown,
}

/// State shared by the handle, the sinks and the writer thread.
struct Shared {
    cfg: RecorderConfig,
    tx: SyncSender<Msg>,
    control: Mutex<VecDeque<Control>>,
    free: Mutex<Vec<Vec<i16>>>,
    /// Paths handed out and not closed yet, so two calls never share a file name.
    reserved: Mutex<HashSet<PathBuf>>,
    events: UnboundedSender<RecorderEvent>,
    next_id: AtomicU64,
    open_files: AtomicUsize,
    bytes_written: AtomicU64,
    errors: AtomicU64,
    dropped_frames: AtomicU64,
    queue_depth: AtomicI64,
    #[cfg(test)]
    hooks: tests::Hooks,
}

impl Shared {
    /// Samples in one full chunk buffer (sized for stereo, so any buffer fits any sink).
    fn chunk_capacity(&self) -> usize {
        self.cfg.chunk_frames * FRAME_SAMPLES * 2
    }

    /// A chunk buffer from the free list, or a new one when the list is empty or busy.
    fn take_buffer(&self) -> Vec<i16> {
        if let Ok(mut free) = self.free.try_lock() {
            if let Some(buf) = free.pop() {
                return buf;
            }
        }
        Vec::with_capacity(self.chunk_capacity())
    }

    fn give_back(&self, mut buf: Vec<i16>) {
        buf.clear();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.cfg.queue_chunks {
            free.push(buf);
        }
    }

    fn control(&self, msg: Control) {
        self.control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(msg);
        // A full queue means the writer is busy and will look at the list soon anyway.
        let _ = self.tx.try_send(Msg::Wake);
    }

    fn event(&self, event: RecorderEvent) {
        if matches!(event, RecorderEvent::Error { .. }) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let _ = self.events.send(event);
    }

    fn release(&self, path: &Path) {
        self.reserved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
    }

    /// `<root>/YYYY/MM/DD/<stem>[-n].wav`, skipping names that exist or are reserved.
    fn free_path(&self, call_id: &str, at: DateTime<Utc>, reserved: &HashSet<PathBuf>) -> PathBuf {
        let dir = self.cfg.root.join(at.format("%Y/%m/%d").to_string());
        let stem = sanitise(call_id);
        let mut n = 1u32;
        loop {
            let name = if n == 1 {
                format!("{stem}.wav")
            } else {
                format!("{stem}-{n}.wav")
            };
            let path = dir.join(name);
            if !reserved.contains(&path) && !path.exists() {
                return path;
            }
            n += 1;
        }
    }
}

/// File-name stem for a call id: `[A-Za-z0-9._-]` kept, anything else (and a leading dot)
/// replaced by `_`, at most 120 characters, never empty.
fn sanitise(call_id: &str) -> String {
    let mut stem: String = call_id
        .chars()
        .take(MAX_STEM)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.starts_with('.') {
        stem.replace_range(..1, "_");
    }
    if stem.is_empty() {
        stem.push('_');
    }
    stem
}

struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        stop(&self.shared, &self.thread);
    }
}

fn stop(shared: &Shared, thread: &Mutex<Option<JoinHandle<()>>>) {
    let handle = thread.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(handle) = handle {
        shared.control(Control::Shutdown);
        let _ = handle.join();
    }
}

/// Handle on the recorder's writer thread. Cloning is cheap; the thread stops on
/// [`Recorder::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("root", &self.inner.shared.cfg.root)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts the writer thread (named "recorder"). Events go to `events`; a closed receiver
    /// is fine (events are then discarded).
    pub fn start(
        cfg: RecorderConfig,
        events: UnboundedSender<RecorderEvent>,
    ) -> std::io::Result<Recorder> {
        let mut cfg = cfg;
        cfg.chunk_frames = cfg.chunk_frames.max(1);
        cfg.queue_chunks = cfg.queue_chunks.max(1);
        if cfg.flush_interval.is_zero() {
            cfg.flush_interval = Duration::from_millis(1);
        }
        let (tx, rx) = mpsc::sync_channel(cfg.queue_chunks);
        let shared = Arc::new(Shared {
            cfg,
            tx,
            control: Mutex::new(VecDeque::new()),
            free: Mutex::new(Vec::new()),
            reserved: Mutex::new(HashSet::new()),
            events,
            next_id: AtomicU64::new(1),
            open_files: AtomicUsize::new(0),
            bytes_written: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            dropped_frames: AtomicU64::new(0),
            queue_depth: AtomicI64::new(0),
            #[cfg(test)]
            hooks: tests::Hooks::default(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("recorder".into())
                .spawn(move || writer::run(shared, rx))?
        };
        Ok(Recorder {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// The path a call's recording gets: `<root>/YYYY/MM/DD/<call-id sanitised>.wav` (date of
    /// `at`, UTC). Sanitising keeps `[A-Za-z0-9._-]`, replaces anything else (and a leading
    /// dot) with `_` and truncates to 120 characters; `-2`, `-3`… are appended when the name
    /// exists on disk or belongs to a recording still open. Creates nothing: the writer makes
    /// the directories and the file.
    pub fn path_for(&self, call_id: &str, at: DateTime<Utc>) -> PathBuf {
        let shared = &self.inner.shared;
        let reserved = shared.reserved.lock().unwrap_or_else(|e| e.into_inner());
        shared.free_path(call_id, at, &reserved)
    }

    /// Opens a recording with 1 (mono) or 2 (stereo) channels. Non-blocking: the writer thread
    /// creates the file and reports [`RecorderEvent::Opened`] or [`RecorderEvent::Error`].
    /// Any other channel count gives an Error event and a sink that drops everything.
    pub fn open(&self, call_id: &str, channels: u16, at: DateTime<Utc>) -> RecordingSink {
        let shared = Arc::clone(&self.inner.shared);
        let path = {
            let mut reserved = shared.reserved.lock().unwrap_or_else(|e| e.into_inner());
            let path = shared.free_path(call_id, at, &reserved);
            reserved.insert(path.clone());
            path
        };
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let dead = !(1..=2).contains(&channels);
        if dead {
            shared.event(RecorderEvent::Error {
                call_id: call_id.to_owned(),
                path: path.clone(),
                error: format!("unsupported channel count {channels} (1 or 2)"),
            });
        } else {
            shared.control(Control::Open {
                id,
                call_id: call_id.to_owned(),
                path: path.clone(),
                channels,
            });
        }
        RecordingSink {
            chunk_samples: shared.cfg.chunk_frames * FRAME_SAMPLES * usize::from(channels),
            shared,
            id,
            call_id: call_id.to_owned(),
            path,
            channels: channels.clamp(1, 2),
            buf: Vec::new(),
            frames_in_buf: 0,
            chunks_sent: 0,
            dropped_frames: 0,
            reported_full: false,
            dead,
            closed: false,
        }
    }

    /// Stops the writer after finishing every open file (queued audio written, header
    /// updated, synced) and joins the thread. Sinks still open afterwards drop their frames.
    pub fn shutdown(&self) {
        stop(&self.inner.shared, &self.inner.thread);
    }

    /// Current counters.
    pub fn stats(&self) -> RecorderStats {
        let s = &self.inner.shared;
        RecorderStats {
            open_files: s.open_files.load(Ordering::Relaxed),
            bytes_written: s.bytes_written.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            dropped_frames: s.dropped_frames.load(Ordering::Relaxed),
            queue_depth: s.queue_depth.load(Ordering::Relaxed).max(0) as usize,
        }
    }

    #[cfg(test)]
    fn hooks(&self) -> &tests::Hooks {
        &self.inner.shared.hooks
    }
}

/// One recording, owned by one call in a packet thread. See the module docs.
pub struct RecordingSink {
    shared: Arc<Shared>,
    id: u64,
    call_id: String,
    path: PathBuf,
    channels: u16,
    /// Interleaved samples of the chunk being filled.
    buf: Vec<i16>,
    chunk_samples: usize,
    frames_in_buf: usize,
    chunks_sent: u64,
    dropped_frames: u64,
    reported_full: bool,
    /// Opened with an unsupported channel count: everything is dropped.
    dead: bool,
    closed: bool,
}

impl std::fmt::Debug for RecordingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingSink")
            .field("call_id", &self.call_id)
            .field("path", &self.path)
            .field("channels", &self.channels)
            .field("dropped_frames", &self.dropped_frames)
            .finish_non_exhaustive()
    }
}

impl RecordingSink {
    /// Where the recording is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One 20 ms frame: 160 samples of `left`, and of `right` for stereo (`right` is ignored
    /// for mono). Shorter slices are padded with silence, longer ones cut at 160 samples.
    pub fn push_frame(&mut self, left: &[i16], right: &[i16]) {
        if self.dead || self.closed {
            self.drop_frames(1);
            return;
        }
        if self.buf.capacity() < self.chunk_samples {
            self.buf = self.shared.take_buffer();
            self.buf.reserve(self.chunk_samples);
        }
        let left = left.iter().copied().chain(std::iter::repeat(0));
        if self.channels == 2 {
            let right = right.iter().copied().chain(std::iter::repeat(0));
            for (l, r) in left.zip(right).take(FRAME_SAMPLES) {
                self.buf.push(l);
                self.buf.push(r);
            }
        } else {
            self.buf.extend(left.take(FRAME_SAMPLES));
        }
        self.frames_in_buf += 1;
        if self.frames_in_buf >= self.shared.cfg.chunk_frames {
            self.send_chunk();
        }
    }

    /// Finishes the file: the remaining samples go to the writer, which writes the final
    /// header, syncs the file and reports [`RecorderEvent::Closed`]. Dropping the sink does
    /// the same.
    pub fn close(mut self) {
        self.finish();
    }

    fn drop_frames(&mut self, frames: u64) {
        self.dropped_frames += frames;
        self.shared
            .dropped_frames
            .fetch_add(frames, Ordering::Relaxed);
    }

    fn send_chunk(&mut self) {
        let frames = self.frames_in_buf as u64;
        self.frames_in_buf = 0;
        if frames == 0 {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        self.shared.queue_depth.fetch_add(1, Ordering::Relaxed);
        match self.shared.tx.try_send(Msg::Chunk { id: self.id, buf }) {
            Ok(()) => self.chunks_sent += 1,
            Err(e) => {
                self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
                let (full, msg) = match e {
                    TrySendError::Full(m) => (true, m),
                    TrySendError::Disconnected(m) => (false, m),
                };
                if let Msg::Chunk { mut buf, .. } = msg {
                    buf.clear();
                    self.buf = buf;
                }
                self.drop_frames(frames);
                if !self.reported_full {
                    self.reported_full = true;
                    let error = if full {
                        "recorder queue full: dropping audio"
                    } else {
                        "recorder stopped: dropping audio"
                    };
                    self.shared.event(RecorderEvent::Error {
                        call_id: self.call_id.clone(),
                        path: self.path.clone(),
                        error: error.to_owned(),
                    });
                }
            }
        }
    }

    fn finish(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if self.dead {
            self.shared.release(&self.path);
            self.shared.event(RecorderEvent::Closed {
                call_id: std::mem::take(&mut self.call_id),
                path: self.path.clone(),
                samples: 0,
                dropped_frames: self.dropped_frames,
            });
            return;
        }
        self.send_chunk();
        let buf = std::mem::take(&mut self.buf);
        if buf.capacity() > 0 {
            self.shared.give_back(buf);
        }
        self.shared.control(Control::Close {
            id: self.id,
            chunks_sent: self.chunks_sent,
            dropped_frames: self.dropped_frames,
        });
    }
}

impl Drop for RecordingSink {
    fn drop(&mut self) {
        self.finish();
    }
}
