//! Recorder tests: round trips through real files read back with hound, path naming, queue
//! overflow, disk errors, shutdown, many concurrent sinks, and a SIGKILL crash test that runs
//! this test binary as a child process.

use super::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Condvar;
use std::time::Instant;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Test hooks of the writer thread.
#[derive(Default)]
pub(super) struct Hooks {
    stalled: Mutex<bool>,
    cv: Condvar,
}

impl Hooks {
    /// Called by the writer before it writes a chunk.
    pub(super) fn wait_while_stalled(&self) {
        let mut stalled = self.stalled.lock().unwrap();
        while *stalled {
            stalled = self.cv.wait(stalled).unwrap();
        }
    }

    fn stall(&self, on: bool) {
        *self.stalled.lock().unwrap() = on;
        self.cv.notify_all();
    }
}

fn at() -> DateTime<Utc> {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

fn cfg(root: &Path) -> RecorderConfig {
    RecorderConfig {
        root: root.to_path_buf(),
        ..RecorderConfig::default()
    }
}

fn start(cfg: RecorderConfig) -> (Recorder, UnboundedReceiver<RecorderEvent>) {
    let (tx, rx) = unbounded_channel();
    (Recorder::start(cfg, tx).unwrap(), rx)
}

/// Known waveforms: sample `n` of the left and right channel of recording `k`.
fn left(k: u64, n: u64) -> i16 {
    (((n * 37 + k * 1009) % 60_001) as i32 - 30_000) as i16
}
fn right(k: u64, n: u64) -> i16 {
    (((n * 101 + k * 7) % 50_001) as i32 - 25_000) as i16
}

/// Interleaved stereo sample `i` of recording `k`.
fn interleaved(k: u64, i: u64) -> i16 {
    if i & 1 == 0 {
        left(k, i / 2)
    } else {
        right(k, i / 2)
    }
}

/// Pushes frames `first..first + count` of recording `k`.
fn push(sink: &mut RecordingSink, k: u64, first: u64, count: u64) {
    let mut l = [0i16; FRAME_SAMPLES];
    let mut r = [0i16; FRAME_SAMPLES];
    for f in first..first + count {
        for i in 0..FRAME_SAMPLES {
            let n = f * FRAME_SAMPLES as u64 + i as u64;
            l[i] = left(k, n);
            r[i] = right(k, n);
        }
        sink.push_frame(&l, &r);
    }
}

fn next_event(rx: &mut UnboundedReceiver<RecorderEvent>) -> RecorderEvent {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = rx.try_recv() {
            return e;
        }
        assert!(Instant::now() < deadline, "no recorder event");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Events up to and including the Closed event of `path`.
fn until_closed(rx: &mut UnboundedReceiver<RecorderEvent>, path: &Path) -> Vec<RecorderEvent> {
    let mut seen = Vec::new();
    loop {
        let e = next_event(rx);
        let done = matches!(&e, RecorderEvent::Closed { path: p, .. } if p == path);
        seen.push(e);
        if done {
            return seen;
        }
    }
}

fn closed(events: &[RecorderEvent]) -> (u64, u64) {
    match events.last() {
        Some(RecorderEvent::Closed {
            samples,
            dropped_frames,
            ..
        }) => (*samples, *dropped_frames),
        other => panic!("not closed: {other:?}"),
    }
}

fn errors(events: &[RecorderEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RecorderEvent::Error { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect()
}

/// Checks a stereo recording `k` holding exactly `samples` per channel.
fn check_stereo(path: &Path, k: u64, samples: u64) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_rate, 8000);
    assert_eq!(spec.bits_per_sample, 16);
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    assert_eq!(u64::from(reader.duration()), samples);
    for (i, s) in reader.samples::<i16>().enumerate() {
        assert_eq!(s.unwrap(), interleaved(k, i as u64), "sample {i}");
    }
}

#[test]
fn stereo_three_seconds_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let mut sink = rec.open("call-1", 2, at());
    let path = sink.path().to_path_buf();
    assert_eq!(path, dir.path().join("2026/01/02/call-1.wav"));
    push(&mut sink, 1, 0, 150);
    sink.close();
    let events = until_closed(&mut rx, &path);
    assert_eq!(
        events[0],
        RecorderEvent::Opened {
            call_id: "call-1".into(),
            path: path.clone()
        }
    );
    assert_eq!(closed(&events), (24_000, 0));
    check_stereo(&path, 1, 24_000);
    let stats = rec.stats();
    assert_eq!(stats.bytes_written, 24_000 * 4);
    assert_eq!(
        (stats.open_files, stats.errors, stats.dropped_frames),
        (0, 0, 0)
    );
    rec.shutdown();
}

#[test]
fn mono_recording_ignores_right() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let mut sink = rec.open("voicemail-7", 1, at());
    let path = sink.path().to_path_buf();
    // 51 frames: the last chunk is partial and goes out on close.
    push(&mut sink, 3, 0, 51);
    // A short frame is padded with silence.
    sink.push_frame(&[5, 6, 7], &[]);
    drop(sink);
    assert_eq!(closed(&until_closed(&mut rx, &path)), (52 * 160, 0));
    let mut reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec().channels, 1);
    let got: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(got.len(), 52 * 160);
    for (n, &s) in got[..51 * 160].iter().enumerate() {
        assert_eq!(s, left(3, n as u64), "sample {n}");
    }
    assert_eq!(&got[51 * 160..51 * 160 + 4], &[5, 6, 7, 0]);
    assert!(got[51 * 160 + 3..].iter().all(|&s| s == 0));
}

#[test]
fn path_sanitising_and_collisions() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let day = dir.path().join("2026/01/02");
    assert_eq!(
        rec.path_for("sip:alice@example.org/x:1;tag=9 ok", at()),
        day.join("sip_alice_example.org_x_1_tag_9_ok.wav")
    );
    assert_eq!(rec.path_for("café", at()), day.join("caf_.wav"));
    assert_eq!(rec.path_for(".hidden", at()), day.join("_hidden.wav"));
    assert_eq!(rec.path_for("../../etc", at()), day.join("_._.._etc.wav"));
    assert_eq!(rec.path_for("", at()), day.join("_.wav"));
    let long = "a".repeat(300);
    assert_eq!(
        rec.path_for(&long, at()),
        day.join(format!("{}.wav", "a".repeat(120)))
    );
    let midnight: DateTime<Utc> = "2026-12-31T23:59:59Z".parse().unwrap();
    assert_eq!(
        rec.path_for("x", midnight),
        dir.path().join("2026/12/31/x.wav")
    );
    // path_for creates nothing.
    assert!(!day.exists());

    // A name held by an open recording, then by files on disk.
    let a = rec.open("dup", 2, at());
    assert_eq!(a.path(), day.join("dup.wav"));
    assert_eq!(rec.path_for("dup", at()), day.join("dup-2.wav"));
    let b = rec.open("dup", 2, at());
    assert_eq!(b.path(), day.join("dup-2.wav"));
    let (pa, pb) = (a.path().to_path_buf(), b.path().to_path_buf());
    a.close();
    b.close();
    until_closed(&mut rx, &pa);
    until_closed(&mut rx, &pb);
    assert!(pa.exists() && pb.exists());
    assert_eq!(rec.path_for("dup", at()), day.join("dup-3.wav"));
    std::fs::write(day.join("other.wav"), b"x").unwrap();
    assert_eq!(rec.path_for("other", at()), day.join("other-2.wav"));
}

#[test]
fn full_queue_drops_and_counts_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(RecorderConfig {
        chunk_frames: 1,
        queue_chunks: 2,
        ..cfg(dir.path())
    });
    rec.hooks().stall(true);
    let mut sink = rec.open("busy", 2, at());
    let path = sink.path().to_path_buf();
    assert!(matches!(next_event(&mut rx), RecorderEvent::Opened { .. }));
    let t = Instant::now();
    push(&mut sink, 4, 0, 20);
    assert!(t.elapsed() < Duration::from_secs(1), "push_frame blocked");
    // The stalled writer holds at most one chunk and the queue two (one slot may still hold
    // the wake-up sent with the open).
    let dropped = sink.dropped_frames;
    assert!((17..=19).contains(&dropped), "{dropped}");
    assert_eq!(rec.stats().dropped_frames, dropped);
    rec.hooks().stall(false);
    sink.close();
    let events = until_closed(&mut rx, &path);
    assert_eq!(
        errors(&events),
        vec!["recorder queue full: dropping audio".to_owned()]
    );
    let (samples, closed_dropped) = closed(&events);
    assert_eq!(closed_dropped, dropped);
    assert_eq!(samples + dropped * 160, 20 * 160);
    // What got through is whole frames of the call, in order: the first two (queued), and
    // possibly one more taken when the writer made room.
    let mut reader = hound::WavReader::open(&path).unwrap();
    let got: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(got.len() as u64, samples * 2);
    let frame = |f: u64| -> Vec<i16> {
        (0..FRAME_SAMPLES as u64)
            .flat_map(|i| {
                let n = f * FRAME_SAMPLES as u64 + i;
                [left(4, n), right(4, n)]
            })
            .collect()
    };
    let mut next = 0;
    for chunk in got.chunks(FRAME_SAMPLES * 2) {
        let f = (next..20)
            .find(|&f| frame(f) == chunk)
            .expect("a whole frame");
        assert!(next >= 2 || f == next, "frame {f} before {next}");
        next = f + 1;
    }
    assert_eq!(rec.stats().errors, 1);
}

/// Opens a recording under an unusable root and checks the call goes on.
fn check_unusable_root(root: &Path) {
    let (rec, mut rx) = start(cfg(root));
    let mut sink = rec.open("lost", 2, at());
    let path = sink.path().to_path_buf();
    push(&mut sink, 5, 0, 35);
    sink.close();
    let events = until_closed(&mut rx, &path);
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("cannot create recording"), "{errs:?}");
    assert_eq!(closed(&events), (0, 35));
    assert_eq!(rec.stats().dropped_frames, 35);
    assert_eq!(rec.stats().open_files, 0);
}

#[test]
fn root_is_a_file() {
    let file = tempfile::NamedTempFile::new().unwrap();
    check_unusable_root(file.path());
}

#[test]
fn root_is_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Root ignores permission bits; /proc refuses new directories even to root.
        check_unusable_root(Path::new("/proc/self/hotline-recordings"));
    } else {
        check_unusable_root(&ro);
    }
}

#[test]
fn disk_full_mid_call_keeps_the_call_going() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(RecorderConfig {
        flush_interval: Duration::from_millis(20),
        ..cfg(dir.path())
    });
    let mut sink = rec.open("full", 2, at());
    let path = sink.path().to_path_buf();
    assert!(matches!(next_event(&mut rx), RecorderEvent::Opened { .. }));
    // The disk fills up: the writer's descriptor of the file now points at /dev/full.
    let fd = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == path))
        .and_then(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .expect("the recording's descriptor");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    // SAFETY: both descriptors are open; `fd` stays owned by the writer's File.
    assert_eq!(
        unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&full), fd) },
        fd
    );
    for i in 0..10 {
        push(&mut sink, 6, i * 10, 10);
        std::thread::sleep(Duration::from_millis(5));
    }
    sink.close();
    let events = until_closed(&mut rx, &path);
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("os error 28"), "{errs:?}"); // ENOSPC
    assert_eq!(closed(&events), (0, 100));
    assert_eq!(rec.stats().dropped_frames, 100);
    // What reached the disk before it filled up is still a valid (empty) WAV file.
    let reader = hound::WavReader::open(&path).unwrap();
    assert_eq!((reader.spec().channels, reader.duration()), (2, 0));
}

#[test]
fn unsupported_channel_count_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let mut sink = rec.open("odd", 3, at());
    let path = sink.path().to_path_buf();
    push(&mut sink, 0, 0, 3);
    sink.close();
    let events = until_closed(&mut rx, &path);
    assert_eq!(errors(&events).len(), 1);
    assert_eq!(closed(&events), (0, 3));
}

#[test]
fn shutdown_finishes_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let mut sink = rec.open("late", 2, at());
    let path = sink.path().to_path_buf();
    // 25 frames: two full chunks reach the writer, 5 frames stay in the sink.
    push(&mut sink, 8, 0, 25);
    rec.shutdown();
    let events = until_closed(&mut rx, &path);
    assert_eq!(closed(&events), (20 * 160, 0));
    check_stereo(&path, 8, 20 * 160);
    // The sink outlives the writer: frames are dropped, nothing panics.
    push(&mut sink, 8, 25, 20);
    drop(sink);
    rec.shutdown();
}

#[test]
fn hundred_concurrent_sinks() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, mut rx) = start(cfg(dir.path()));
    let threads: Vec<_> = (0..10u64)
        .map(|t| {
            let rec = rec.clone();
            std::thread::spawn(move || {
                let mut sinks: Vec<_> = (0..10u64)
                    .map(|i| (t * 10 + i, rec.open(&format!("c{}", t * 10 + i), 2, at())))
                    .collect();
                // 2 s of audio each, frame by frame across the sinks.
                for f in 0..100 {
                    for (k, sink) in &mut sinks {
                        push(sink, *k, f, 1);
                    }
                }
                for (_, sink) in sinks {
                    sink.close();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut closed_count = 0;
    while closed_count < 100 {
        match next_event(&mut rx) {
            RecorderEvent::Closed {
                samples,
                dropped_frames,
                ..
            } => {
                assert_eq!((samples, dropped_frames), (16_000, 0));
                closed_count += 1;
            }
            RecorderEvent::Opened { .. } => {}
            e => panic!("{e:?}"),
        }
    }
    for k in [0u64, 37, 99] {
        check_stereo(&dir.path().join(format!("2026/01/02/c{k}.wav")), k, 16_000);
    }
    let stats = rec.stats();
    assert_eq!(stats.open_files, 0);
    assert_eq!(stats.bytes_written, 100 * 16_000 * 4);
}

const CHILD_ENV: &str = "HOTLINE_RECORDER_CRASH_CHILD";

/// Child side of [`killed_process_leaves_a_playable_file`]; does nothing in a normal run.
#[test]
fn crash_child_helper() {
    let Some(root) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (rec, _rx) = start(cfg(Path::new(&root)));
    let mut sink = rec.open("crash", 2, at());
    let t0 = Instant::now();
    // Real time: frame f is pushed at 20 f ms, for 10 s.
    for f in 0..500u64 {
        let due = t0 + Duration::from_millis(20 * f);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        push(&mut sink, 9, f, 1);
    }
}

#[test]
fn killed_process_leaves_a_playable_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "media::recorder::tests::crash_child_helper",
            "--nocapture",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let path = dir.path().join("2026/01/02/crash.wav");
    let mut reader = hound::WavReader::open(&path).unwrap();
    let per_channel = u64::from(reader.duration());
    assert!(
        per_channel >= 20_000,
        "only {per_channel} samples (< 2.5 s)"
    );
    assert!(per_channel <= 28_000, "{per_channel} samples (> 3.5 s)");
    for (i, s) in reader.samples::<i16>().enumerate() {
        assert_eq!(s.unwrap(), interleaved(9, i as u64), "sample {i}");
    }

    // The header agrees with itself and with the file: RIFF size = data + 36, the data chunk
    // fits in the file, and whatever follows it is the start of the unflushed audio.
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as u64;
    let data_len = u32_at(40);
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(u32_at(4), data_len + 36);
    assert_eq!(data_len, per_channel * 4);
    assert!(44 + data_len <= bytes.len() as u64);
    let tail = &bytes[44 + data_len as usize..];
    // At most one flush interval plus a chunk plus one write buffer behind.
    assert!(tail.len() <= 32_000 + 6_400 + 8_192, "tail {}", tail.len());
    for (j, pair) in tail.chunks_exact(2).enumerate() {
        let i = per_channel * 2 + j as u64;
        let want = interleaved(9, i);
        assert_eq!(
            i16::from_le_bytes([pair[0], pair[1]]),
            want,
            "tail sample {i}"
        );
    }
}
