//! The recorder's writer thread: owns every open WAV file, writes the chunks the sinks hand
//! over, flushes each file's header on a fixed cadence and closes files once their sink has
//! closed and all its chunks have been written.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hound::{SampleFormat, WavSpec, WavWriter};

use super::{Control, Msg, RecorderEvent, Shared, FRAME_SAMPLES, SAMPLE_RATE};

/// Capacity of each file's write buffer: small, since chunks arrive already batched (200 ms)
/// through hound's 16-bit writer, whose own buffer holds one chunk; larger writes pass straight
/// through.
const BUF_CAPACITY: usize = 1024;
/// Longest sleep of the writer between looks at the control list and the flush deadlines.
const TICK: Duration = Duration::from_millis(250);
/// hound counts data bytes in a `u32`; a file stops (with an error) before reaching it.
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - 64 * 1024;

type Wav = WavWriter<BufWriter<File>>;

/// Close request of a sink, waiting for the writer to see all its chunks.
struct Closing {
    chunks_sent: u64,
    dropped_frames: u64,
}

struct Recording {
    call_id: String,
    path: PathBuf,
    channels: u16,
    /// `None` once the file failed (or before it exists).
    wav: Option<Wav>,
    /// Per-channel samples handed to hound, and the part of them the header already counts.
    samples: u64,
    flushed: u64,
    next_flush: Instant,
    /// Frames of this recording that the file will not hold.
    dropped_frames: u64,
    chunks_received: u64,
    closing: Option<Closing>,
}

struct Writer {
    shared: Arc<Shared>,
    recordings: HashMap<u64, Recording>,
    shutting_down: bool,
    /// The syncer thread's queue (`None`: it could not be started; files are synced here).
    sync: Option<std::sync::mpsc::Sender<Finished>>,
}

/// A file whose header is final, waiting for its `fsync`; its Closed event follows the sync.
struct Finished {
    call_id: String,
    path: PathBuf,
    samples: u64,
    dropped_frames: u64,
}

/// Body of the syncer thread: `fsync`s finished files one by one, then reports them closed.
/// A close costs the writer thread only the header patch; the sync (milliseconds on a busy
/// disk, per file) happens here, so calls ending at hundreds per second never hold up the audio
/// of the calls still recording.
fn syncer(shared: Arc<Shared>, rx: Receiver<Finished>) {
    for f in rx {
        done(&shared, f);
    }
}

fn done(shared: &Shared, f: Finished) {
    if let Err(e) = sync(&f.path) {
        shared.event(RecorderEvent::Error {
            call_id: f.call_id.clone(),
            path: f.path.clone(),
            error: format!("cannot sync the finished recording: {e}"),
        });
    }
    shared.event(RecorderEvent::Closed {
        call_id: f.call_id,
        path: f.path,
        samples: f.samples,
        dropped_frames: f.dropped_frames,
    });
}

/// Body of the writer thread.
pub(super) fn run(shared: Arc<Shared>, rx: Receiver<Msg>) {
    let tick = TICK.min(shared.cfg.flush_interval);
    let (sync_tx, sync_rx) = std::sync::mpsc::channel();
    let syncer = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("recorder-sync".into())
            .spawn(move || syncer(shared, sync_rx))
            .ok()
    };
    let mut w = Writer {
        shared,
        recordings: HashMap::new(),
        shutting_down: false,
        sync: syncer.as_ref().map(|_| sync_tx),
    };
    w.work(rx, tick);
    // Every file finished above is synced and reported before the writer returns.
    drop(w);
    if let Some(t) = syncer {
        let _ = t.join();
    }
}

impl Writer {
    fn work(&mut self, rx: Receiver<Msg>, tick: Duration) {
        let w = self;
        let mut next_sweep = Instant::now() + tick;
        loop {
            w.drain_control();
            if w.shutting_down {
                while let Ok(msg) = rx.try_recv() {
                    w.on_msg(msg);
                }
                w.drain_control();
                let ids: Vec<u64> = w.recordings.keys().copied().collect();
                for id in ids {
                    w.finish(id);
                }
                return;
            }
            let now = Instant::now();
            let wait = next_sweep.saturating_duration_since(now);
            match rx.recv_timeout(wait) {
                Ok(msg) => w.on_msg(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => w.shutting_down = true,
            }
            let now = Instant::now();
            if now >= next_sweep {
                w.sweep(now);
                next_sweep = now + tick;
            }
        }
    }

    fn drain_control(&mut self) {
        loop {
            let msg = self
                .shared
                .control
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            match msg {
                None => return,
                Some(Control::Open {
                    id,
                    call_id,
                    path,
                    channels,
                }) => self.open(id, call_id, path, channels),
                Some(Control::Close {
                    id,
                    chunks_sent,
                    dropped_frames,
                }) => {
                    if let Some(rec) = self.recordings.get_mut(&id) {
                        rec.closing = Some(Closing {
                            chunks_sent,
                            dropped_frames,
                        });
                        self.maybe_finish(id);
                    }
                }
                Some(Control::Shutdown) => self.shutting_down = true,
            }
        }
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Wake => {}
            Msg::Chunk { id, buf } => {
                self.shared.queue_depth.fetch_sub(1, Ordering::Relaxed);
                #[cfg(test)]
                self.shared.hooks.wait_while_stalled();
                if !self.recordings.contains_key(&id) {
                    // The sink queued its Open before this chunk.
                    self.drain_control();
                }
                self.write_chunk(id, &buf);
                self.shared.give_back(buf);
                self.maybe_finish(id);
            }
        }
    }

    fn open(&mut self, id: u64, call_id: String, path: PathBuf, channels: u16) {
        let wav = create(&path, channels);
        let wav = match wav {
            Ok(wav) => {
                self.shared.open_files.fetch_add(1, Ordering::Relaxed);
                self.shared.event(RecorderEvent::Opened {
                    call_id: call_id.clone(),
                    path: path.clone(),
                });
                Some(wav)
            }
            Err(e) => {
                self.shared.event(RecorderEvent::Error {
                    call_id: call_id.clone(),
                    path: path.clone(),
                    error: format!("cannot create recording: {e}"),
                });
                None
            }
        };
        self.recordings.insert(
            id,
            Recording {
                call_id,
                path,
                channels,
                wav,
                samples: 0,
                flushed: 0,
                next_flush: Instant::now() + self.shared.cfg.flush_interval,
                dropped_frames: 0,
                chunks_received: 0,
                closing: None,
            },
        );
    }

    fn write_chunk(&mut self, id: u64, buf: &[i16]) {
        let Some(rec) = self.recordings.get_mut(&id) else {
            return; // Not opened (channel count refused) or already finished.
        };
        rec.chunks_received += 1;
        let per_channel = (buf.len() / usize::from(rec.channels)) as u64;
        let frames = per_channel.div_ceil(FRAME_SAMPLES as u64);
        let Some(wav) = rec.wav.as_mut() else {
            rec.dropped_frames += frames;
            self.shared
                .dropped_frames
                .fetch_add(frames, Ordering::Relaxed);
            return;
        };
        let bytes = buf.len() as u64 * 2;
        let total = (rec.samples * u64::from(rec.channels)) * 2 + bytes;
        let result = if total > MAX_DATA_BYTES {
            Err("recording reached the WAV size limit (4 GiB)".to_owned())
        } else {
            // hound's 16-bit fast path: the chunk in one go, not sample by sample.
            let mut w = wav.get_i16_writer(buf.len() as u32);
            for &s in buf.iter() {
                w.write_sample(s);
            }
            w.flush().map_err(|e| e.to_string())
        };
        match result {
            Ok(()) => {
                rec.samples += per_channel;
                self.shared
                    .bytes_written
                    .fetch_add(bytes, Ordering::Relaxed);
                if Instant::now() >= rec.next_flush {
                    flush(&self.shared, rec, Instant::now());
                }
            }
            Err(e) => {
                // This chunk, and whatever the header did not count yet.
                let lost = frames + lost_frames(rec);
                rec.dropped_frames += lost;
                self.shared
                    .dropped_frames
                    .fetch_add(lost, Ordering::Relaxed);
                fail(&self.shared, rec, &e);
            }
        }
    }

    /// Flushes every file whose deadline has passed.
    fn sweep(&mut self, now: Instant) {
        for rec in self.recordings.values_mut() {
            if now >= rec.next_flush {
                flush(&self.shared, rec, now);
            }
        }
    }

    fn maybe_finish(&mut self, id: u64) {
        let ready = self.recordings.get(&id).is_some_and(|r| {
            r.closing
                .as_ref()
                .is_some_and(|c| r.chunks_received >= c.chunks_sent)
        });
        if ready {
            self.finish(id);
        }
    }

    /// Final header; then the sync and the Closed event (on the syncer thread).
    fn finish(&mut self, id: u64) {
        let Some(mut rec) = self.recordings.remove(&id) else {
            return;
        };
        let mut synced_here = true;
        if let Some(wav) = rec.wav.take() {
            self.shared.open_files.fetch_sub(1, Ordering::Relaxed);
            let result = wav.finalize().map_err(|e| e.to_string());
            match result {
                Ok(()) => {
                    rec.flushed = rec.samples;
                    synced_here = false;
                }
                Err(e) => {
                    let lost = lost_frames(&rec);
                    rec.dropped_frames += lost;
                    self.shared
                        .dropped_frames
                        .fetch_add(lost, Ordering::Relaxed);
                    self.shared.event(RecorderEvent::Error {
                        call_id: rec.call_id.clone(),
                        path: rec.path.clone(),
                        error: format!("cannot finish recording: {e}"),
                    });
                }
            }
        }
        self.shared.release(&rec.path);
        let sink_dropped = rec.closing.as_ref().map_or(0, |c| c.dropped_frames);
        let f = Finished {
            call_id: rec.call_id,
            path: rec.path,
            samples: rec.flushed,
            dropped_frames: rec.dropped_frames + sink_dropped,
        };
        if synced_here {
            // Failed before the header was final: nothing to sync, just report.
            self.shared.event(RecorderEvent::Closed {
                call_id: f.call_id,
                path: f.path,
                samples: f.samples,
                dropped_frames: f.dropped_frames,
            });
            return;
        }
        match &self.sync {
            Some(tx) => {
                if let Err(std::sync::mpsc::SendError(f)) = tx.send(f) {
                    done(&self.shared, f);
                }
            }
            None => done(&self.shared, f),
        }
    }
}

fn create(path: &std::path::Path, channels: u16) -> Result<Wav, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    let spec = WavSpec {
        channels,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut wav = WavWriter::new(BufWriter::with_capacity(BUF_CAPACITY, file), spec)
        .map_err(|e| e.to_string())?;
    // An empty but valid file from the start, so even an early kill leaves a playable file.
    wav.flush().map_err(|e| e.to_string())?;
    Ok(wav)
}

/// Brings the header up to date; the next deadline keeps a fixed cadence.
fn flush(shared: &Shared, rec: &mut Recording, now: Instant) {
    let interval = shared.cfg.flush_interval;
    rec.next_flush += interval;
    if rec.next_flush <= now {
        rec.next_flush = now + interval;
    }
    if rec.flushed == rec.samples {
        return;
    }
    let Some(wav) = rec.wav.as_mut() else {
        return;
    };
    match wav.flush() {
        Ok(()) => rec.flushed = rec.samples,
        Err(e) => {
            let lost = lost_frames(rec);
            rec.dropped_frames += lost;
            shared.dropped_frames.fetch_add(lost, Ordering::Relaxed);
            fail(shared, rec, &e.to_string());
        }
    }
}

/// Frames written to hound but not yet counted by the header.
fn lost_frames(rec: &Recording) -> u64 {
    (rec.samples - rec.flushed).div_ceil(FRAME_SAMPLES as u64)
}

/// Gives up on a file: later chunks are dropped, the header keeps what was flushed.
fn fail(shared: &Shared, rec: &mut Recording, error: &str) {
    if let Some(wav) = rec.wav.take() {
        shared.open_files.fetch_sub(1, Ordering::Relaxed);
        // Dropping patches the header once more if it can; errors are already being reported.
        drop(wav);
    }
    rec.samples = rec.flushed;
    shared.event(RecorderEvent::Error {
        call_id: rec.call_id.clone(),
        path: rec.path.clone(),
        error: format!("recording failed, dropping audio: {error}"),
    });
}

fn sync(path: &std::path::Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}
