//! Receive jitter buffer for decoded 8 kHz audio, sans-IO: packets go in as they arrive, one
//! fixed-size frame comes out per playout tick (every 20 ms for the default 160 samples).
//!
//! The buffer is indexed by RTP timestamp, one slot per sample, so packets of any duration
//! (10/20/30/40/60 ms…) and packets that straddle frame boundaries fit without special cases.
//! It owns these rules:
//!
//! * **Playout delay.** Playout starts [`JitterConfig::playout_delay_frames`] frames before the
//!   timestamp of the first packet: the first pops are silence, and packets reordered within
//!   that margin are still played. The same delay is applied again after every restart.
//! * **Reordering and duplicates.** A packet ahead of the playout point is written into its
//!   slots whatever its arrival order; one whose samples are all there already is a
//!   [`Push::Duplicate`].
//! * **Late packets.** A packet wholly behind the playout point is dropped ([`Push::Late`]);
//!   one partly behind keeps its later part.
//! * **Loss.** A missing frame is concealed by repeating the last received frame with a
//!   linear fade that reaches silence after [`CONCEAL_FRAMES`] frames; after that, silence.
//!   Missing samples inside a partly received frame are filled from the last frame at half
//!   level.
//! * **Restarts** ([`Push::Reset`]): a timestamp at least the capacity ahead of the newest
//!   buffered audio or more than the capacity behind the playout point, a sequence-number jump of a restarted stream, or the first packet after the
//!   buffer ran dry (a new talkspurt after silence suppression, a burst of loss, or a sender
//!   clock slower than ours) re-anchors the playout point at that packet with the playout
//!   delay.
//! * **Overflow.** A packet that would end more than the capacity ahead of the playout point
//!   (a sender clock faster than ours, a burst) makes the buffer drop its oldest audio: the
//!   playout point moves forward until only the playout delay (or the packet, if longer) is
//!   left buffered. Dropping back to the delay rather than just to the capacity keeps drops
//!   rare and latency low.
//!
//! Together, overflow and restart-after-underflow keep a stream whose clock is skewed against
//! ours playing: the depth stays within the capacity and only a few frames per skew cycle are
//! lost or concealed. All memory is allocated in [`JitterBuffer::new`]; `push` and `pop` do not
//! allocate.

/// Frames over which concealment fades from the last frame's level to silence.
pub const CONCEAL_FRAMES: usize = 3;

/// Largest forward sequence jump still taken as loss (RFC 3550 A.1 `MAX_DROPOUT`).
const MAX_DROPOUT: u16 = 3000;
/// Largest backward sequence step still taken as reordering (RFC 3550 A.1 `MAX_MISORDER`).
const MAX_MISORDER: u16 = 100;

/// Sizes of a [`JitterBuffer`], in samples and frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Samples per popped frame (160 = 20 ms at 8 kHz). At least 1.
    pub frame_samples: usize,
    /// Frames of delay between the first packet's timestamp and the start of its playout.
    /// At most `capacity_frames - 1`.
    pub playout_delay_frames: usize,
    /// Frames the buffer holds ahead of the playout point. At least 1.
    pub capacity_frames: usize,
}

impl Default for JitterConfig {
    /// 20 ms frames, 40 ms playout delay, 320 ms capacity.
    fn default() -> JitterConfig {
        JitterConfig {
            frame_samples: 160,
            playout_delay_frames: 2,
            capacity_frames: 16,
        }
    }
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Stored (wholly, or its part at or after the playout point).
    Accepted,
    /// Every sample of it was already buffered; ignored.
    Duplicate,
    /// Wholly behind the playout point; dropped.
    Late,
    /// The buffer restarted at this packet (big timestamp jump, restarted stream, or the first
    /// packet after the buffer ran dry); playout resumes after the playout delay.
    Reset,
}

/// What [`JitterBuffer::pop`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop {
    /// Received audio (possibly with a concealed gap inside the frame).
    Audio,
    /// Nothing was received for this frame: the previous frame repeated, fading.
    Concealed,
    /// Zeros: nothing received yet, or too long since the last audio.
    Silence,
}

/// Counters since the buffer was created ([`JitterBuffer::reset`] keeps them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Calls to [`JitterBuffer::push`].
    pub pushed: u64,
    /// Frames popped as [`Pop::Audio`].
    pub audio: u64,
    /// Frames popped as [`Pop::Concealed`].
    pub concealed: u64,
    /// Frames popped as [`Pop::Silence`].
    pub silence: u64,
    /// Packets dropped as [`Push::Late`].
    pub late: u64,
    /// Packets ignored as [`Push::Duplicate`].
    pub duplicates: u64,
    /// Times the oldest audio was dropped to make room.
    pub overflows: u64,
    /// Packets answered with [`Push::Reset`].
    pub resets: u64,
}

/// A fixed-size, timestamp-indexed playout buffer for one audio stream; see the module
/// documentation for its rules.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    frame: usize,
    delay: usize,
    /// Capacity in samples: the length of `ring` and `present`.
    cap: usize,
    ring: Vec<i16>,
    present: Vec<bool>,
    /// The last frame popped as audio, the source of concealment.
    last_frame: Vec<i16>,
    /// Whether a packet has anchored the playout point.
    started: bool,
    /// RTP timestamp of the next sample to play, and its index in `ring`.
    play_ts: u32,
    play_idx: usize,
    /// One past the furthest timestamp written.
    end_ts: u32,
    /// Highest sequence number seen.
    max_seq: u16,
    /// The last pop found its frame incomplete and nothing buffered after it.
    starved: bool,
    /// Whether `last_frame` holds audio, and how many frames have been concealed since.
    have_audio: bool,
    concealed_run: usize,
    stats: JitterStats,
}

/// Signed distance from `from` to `to` in timestamp units, modulo 2^32.
fn ts_diff(to: u32, from: u32) -> i64 {
    i64::from(to.wrapping_sub(from) as i32)
}

impl JitterBuffer {
    /// An empty buffer. Out-of-range sizes are clamped: at least one sample per frame, at
    /// least one frame of capacity, a delay below the capacity.
    pub fn new(cfg: JitterConfig) -> JitterBuffer {
        let frame = cfg.frame_samples.max(1);
        let capacity_frames = cfg.capacity_frames.max(1);
        let delay = cfg.playout_delay_frames.min(capacity_frames - 1) * frame;
        let cap = capacity_frames * frame;
        JitterBuffer {
            frame,
            delay,
            cap,
            ring: vec![0; cap],
            present: vec![false; cap],
            last_frame: vec![0; frame],
            started: false,
            play_ts: 0,
            play_idx: 0,
            end_ts: 0,
            max_seq: 0,
            starved: false,
            have_audio: false,
            concealed_run: 0,
            stats: JitterStats::default(),
        }
    }

    /// Offers one packet: its sequence number, RTP timestamp (of its first sample) and its
    /// decoded samples. `samples.len()` is the packet's duration; a packet partly before the
    /// playout point keeps its later part. Only the last capacity's worth of an over-long
    /// packet is kept.
    pub fn push(&mut self, seq: u16, timestamp: u32, samples: &[i16]) -> Push {
        self.stats.pushed += 1;
        let (timestamp, samples) = if samples.len() > self.cap {
            let skip = samples.len() - self.cap;
            (timestamp.wrapping_add(skip as u32), &samples[skip..])
        } else {
            (timestamp, samples)
        };
        if samples.is_empty() {
            return Push::Accepted;
        }
        if !self.started {
            self.restart(seq, timestamp, samples);
            return Push::Accepted;
        }

        let seq_delta = seq.wrapping_sub(self.max_seq);
        let seq_restart = (MAX_DROPOUT..=u16::MAX - MAX_MISORDER).contains(&seq_delta);
        let off = ts_diff(timestamp, self.play_ts);
        let cap = self.cap as i64;
        let past_newest = ts_diff(timestamp, self.end_ts);
        if self.starved || seq_restart || past_newest >= cap || off < -cap {
            self.stats.resets += 1;
            self.restart(seq, timestamp, samples);
            return Push::Reset;
        }
        if seq_delta < MAX_DROPOUT {
            self.max_seq = seq;
        }

        let len = samples.len() as i64;
        if off + len <= 0 {
            self.stats.late += 1;
            return Push::Late;
        }
        let (mut off, samples) = if off < 0 {
            (0, &samples[(-off) as usize..])
        } else {
            (off, samples)
        };
        let len = samples.len() as i64;
        if off + len <= cap {
            let [a, b] = self.spans(off as usize, samples.len());
            if self.present[a.clone()].iter().all(|&p| p) && self.present[b].iter().all(|&p| p) {
                self.stats.duplicates += 1;
                return Push::Duplicate;
            }
        } else {
            // Drop the oldest audio until only the delay (or this packet) remains buffered.
            let keep = (self.delay as i64).max(len);
            let shift = off + len - keep;
            self.advance(shift as usize);
            off -= shift;
            self.stats.overflows += 1;
        }
        let ts = self.play_ts.wrapping_add(off as u32);
        self.write(off as usize, ts, samples);
        Push::Accepted
    }

    /// Writes exactly `frame_samples` samples into `out[..frame_samples]` (fewer if `out` is
    /// shorter; the whole frame is consumed either way) and moves the playout point one frame.
    ///
    /// [`Pop::Audio`] when any of the frame was received (a gap inside it is concealed),
    /// [`Pop::Concealed`] when none was but audio was played within the last
    /// [`CONCEAL_FRAMES`] frames (the previous frame repeated, fading), [`Pop::Silence`]
    /// otherwise: before the first packet, after long gaps, when starved.
    pub fn pop(&mut self, out: &mut [i16]) -> Pop {
        let n = out.len().min(self.frame);
        let out = &mut out[..n];
        if !self.started {
            out.fill(0);
            self.stats.silence += 1;
            return Pop::Silence;
        }
        let ahead = ts_diff(self.end_ts, self.play_ts);
        // Whole spans at a time (the ring wraps at most once inside a frame): copy what is
        // there, then patch the samples that never came.
        let mut received = 0;
        let mut at = 0;
        for span in self.spans(0, self.frame) {
            let len = span.len();
            let got = self.present[span.clone()].iter().filter(|&&p| p).count();
            received += got;
            let end = (at + len).min(n);
            if at < end {
                out[at..end].copy_from_slice(&self.ring[span.start..span.start + (end - at)]);
                if got < len {
                    for (k, o) in out[at..end].iter_mut().enumerate() {
                        if !self.present[span.start + k] {
                            *o = self.last_frame[at + k] / 2;
                        }
                    }
                }
            }
            self.present[span].fill(false);
            at += len;
        }
        if received < self.frame && ahead <= self.frame as i64 {
            self.starved = true;
        }
        self.play_ts = self.play_ts.wrapping_add(self.frame as u32);
        self.play_idx = (self.play_idx + self.frame) % self.cap;

        if received > 0 {
            self.last_frame[..n].copy_from_slice(out);
            self.have_audio = true;
            self.concealed_run = 0;
            self.stats.audio += 1;
            return Pop::Audio;
        }
        if self.have_audio && self.concealed_run < CONCEAL_FRAMES {
            // Linear fade from full level to zero across CONCEAL_FRAMES frames.
            let span = (CONCEAL_FRAMES * self.frame) as i64;
            let start = (self.concealed_run * self.frame) as i64;
            for (i, o) in out.iter_mut().enumerate() {
                let gain = span - start - i as i64;
                *o = (i64::from(self.last_frame[i]) * gain / span) as i16;
            }
            self.concealed_run += 1;
            self.stats.concealed += 1;
            return Pop::Concealed;
        }
        out.fill(0);
        self.stats.silence += 1;
        Pop::Silence
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Forgets the stream: empties the buffer; the next packet starts playout afresh, after
    /// the playout delay. The counters are kept.
    pub fn reset(&mut self) {
        self.started = false;
        self.starved = false;
        self.have_audio = false;
        self.concealed_run = 0;
        self.present.fill(false);
    }

    /// Whole frames buffered ahead of the playout point (counting any gaps among them).
    pub fn depth_frames(&self) -> usize {
        if !self.started {
            return 0;
        }
        (ts_diff(self.end_ts, self.play_ts).max(0) as usize) / self.frame
    }

    /// The ring ranges holding `len` samples from `off` samples after the playout point
    /// (`off + len <= cap`): one range, and a second when they wrap (else empty).
    fn spans(&self, off: usize, len: usize) -> [std::ops::Range<usize>; 2] {
        let start = (self.play_idx + off) % self.cap;
        let first = len.min(self.cap - start);
        [start..start + first, 0..len - first]
    }

    /// Restarts the buffer at this packet: it plays after the playout delay (less if the
    /// packet would not fit otherwise).
    fn restart(&mut self, seq: u16, timestamp: u32, samples: &[i16]) {
        let delay = self.delay.min(self.cap - samples.len());
        self.present.fill(false);
        self.started = true;
        self.starved = false;
        self.play_ts = timestamp.wrapping_sub(delay as u32);
        self.play_idx = 0;
        self.end_ts = timestamp;
        self.max_seq = seq;
        self.write(delay, timestamp, samples);
    }

    /// Stores `samples`, whose first sample is `off` samples after the playout point and has
    /// timestamp `ts`; `off + samples.len()` must not exceed the capacity.
    fn write(&mut self, off: usize, ts: u32, samples: &[i16]) {
        let mut at = 0;
        for span in self.spans(off, samples.len()) {
            let len = span.len();
            self.ring[span.clone()].copy_from_slice(&samples[at..at + len]);
            self.present[span].fill(true);
            at += len;
        }
        let end = ts.wrapping_add(samples.len() as u32);
        if ts_diff(end, self.end_ts) > 0 {
            self.end_ts = end;
        }
    }

    /// Moves the playout point `n` samples forward, discarding what it passes.
    fn advance(&mut self, n: usize) {
        if n >= self.cap {
            self.present.fill(false);
        } else {
            for span in self.spans(0, n) {
                self.present[span].fill(false);
            }
        }
        self.play_ts = self.play_ts.wrapping_add(n as u32);
        self.play_idx = (self.play_idx + n) % self.cap;
    }
}

#[cfg(test)]
#[path = "jitter_tests.rs"]
mod tests;
