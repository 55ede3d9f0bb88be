//! Jitter buffer tests: ordering, loss, lateness, restarts, overflow, wrap-around, clock skew.
use super::*;

const F: usize = 160;

/// The sample a test sender puts at timestamp `ts`: never zero, different for neighbours.
fn value(ts: u32) -> i16 {
    (ts % 30_011) as i16 + 1
}

/// `len` samples starting at timestamp `ts`.
fn samples(ts: u32, len: usize) -> Vec<i16> {
    (0..len as u32).map(|i| value(ts.wrapping_add(i))).collect()
}

fn buffer() -> JitterBuffer {
    JitterBuffer::new(JitterConfig::default())
}

/// Pops one frame, returning its kind and samples.
fn pop(jb: &mut JitterBuffer) -> (Pop, Vec<i16>) {
    let mut out = vec![0x5555; F];
    let kind = jb.pop(&mut out);
    (kind, out)
}

/// Pushes one 20 ms packet number `n` of a stream starting at `base`.
fn push_frame(jb: &mut JitterBuffer, base_seq: u16, base_ts: u32, n: u32) -> Push {
    let ts = base_ts.wrapping_add(n * F as u32);
    jb.push(base_seq.wrapping_add(n as u16), ts, &samples(ts, F))
}

/// Pops and checks that the frame is the audio at `ts`.
fn expect_audio(jb: &mut JitterBuffer, ts: u32) {
    let (kind, out) = pop(jb);
    assert_eq!(kind, Pop::Audio, "frame at {ts}");
    assert_eq!(out, samples(ts, F), "content of frame at {ts}");
}

#[test]
fn default_config() {
    let cfg = JitterConfig::default();
    assert_eq!(cfg.frame_samples, 160);
    assert_eq!(cfg.playout_delay_frames, 2);
    assert_eq!(cfg.capacity_frames, 16);
}

#[test]
fn silence_before_first_packet_then_playout_after_the_delay() {
    let mut jb = buffer();
    assert_eq!(pop(&mut jb), (Pop::Silence, vec![0; F]));
    assert_eq!(jb.depth_frames(), 0);
    assert_eq!(push_frame(&mut jb, 7, 1000, 0), Push::Accepted);
    // Two frames of delay, then the packet.
    assert_eq!(jb.depth_frames(), 3);
    assert_eq!(pop(&mut jb), (Pop::Silence, vec![0; F]));
    assert_eq!(push_frame(&mut jb, 7, 1000, 1), Push::Accepted);
    assert_eq!(pop(&mut jb), (Pop::Silence, vec![0; F]));
    for n in 2..10 {
        assert_eq!(push_frame(&mut jb, 7, 1000, n), Push::Accepted);
        expect_audio(&mut jb, 1000 + (n - 2) * F as u32);
        assert_eq!(jb.depth_frames(), 2);
    }
    let stats = jb.stats();
    assert_eq!(stats.pushed, 10);
    assert_eq!(stats.audio, 8);
    assert_eq!(stats.silence, 3);
}

#[test]
fn reordering_within_capacity_is_repaired() {
    let mut jb = buffer();
    // Arrival order 0, 2, 1, 5, 3, 4, 6, 7 — popping one frame after each arrival.
    let order = [0, 2, 1, 5, 3, 4, 6, 7, 8, 9];
    let mut kinds = Vec::new();
    for n in order {
        assert_eq!(push_frame(&mut jb, 0, 0, n), Push::Accepted);
        kinds.push(pop(&mut jb));
    }
    assert_eq!(kinds[0].0, Pop::Silence);
    assert_eq!(kinds[1].0, Pop::Silence);
    for (i, (kind, out)) in kinds[2..].iter().enumerate() {
        assert_eq!(*kind, Pop::Audio);
        assert_eq!(*out, samples(i as u32 * F as u32, F));
    }
    assert_eq!(jb.stats().late, 0);
}

#[test]
fn duplicates_are_ignored_and_counted() {
    let mut jb = buffer();
    push_frame(&mut jb, 0, 0, 0);
    push_frame(&mut jb, 0, 0, 1);
    assert_eq!(push_frame(&mut jb, 0, 0, 1), Push::Duplicate);
    assert_eq!(push_frame(&mut jb, 0, 0, 0), Push::Duplicate);
    // A packet overlapping buffered audio but bringing new samples is accepted.
    assert_eq!(jb.push(9, 240, &samples(240, F)), Push::Accepted);
    assert_eq!(jb.stats().duplicates, 2);
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, 0);
    expect_audio(&mut jb, 160);
    let (kind, out) = pop(&mut jb);
    assert_eq!(kind, Pop::Audio);
    assert_eq!(&out[..80], &samples(320, 80)[..]);
}

#[test]
fn late_packets_are_dropped_and_counted() {
    let mut jb = buffer();
    for n in 0..3 {
        push_frame(&mut jb, 0, 0, n);
    }
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, 0);
    expect_audio(&mut jb, 160);
    // Frame 1 again, now behind the playout point (not a duplicate any more: it was played).
    assert_eq!(push_frame(&mut jb, 0, 0, 1), Push::Late);
    assert_eq!(jb.stats().late, 1);
    expect_audio(&mut jb, 320);
}

#[test]
fn a_packet_partly_behind_the_playout_point_keeps_its_later_part() {
    let mut jb = buffer();
    push_frame(&mut jb, 0, 0, 0);
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, 0);
    push_frame(&mut jb, 0, 0, 2); // keeps the buffer from running dry
                                  // A 30 ms packet covering 80..320: 80..160 is already played.
    assert_eq!(jb.push(1, 80, &samples(80, 240)), Push::Accepted);
    expect_audio(&mut jb, 160);
    expect_audio(&mut jb, 320);
    assert_eq!(jb.stats().late, 0);
}

#[test]
fn loss_is_concealed_with_a_fade_then_silence() {
    let mut jb = buffer();
    // A loud constant frame makes the fade easy to check.
    let loud = vec![1000i16; F];
    for n in 0..3u32 {
        jb.push(n as u16, n * F as u32, &loud);
    }
    pop(&mut jb);
    pop(&mut jb);
    for _ in 0..3 {
        assert_eq!(pop(&mut jb), (Pop::Audio, loud.clone()));
    }
    // The stream stops: three fading concealed frames, then silence.
    let mut previous_peak = 1000;
    for _ in 0..CONCEAL_FRAMES {
        let (kind, out) = pop(&mut jb);
        assert_eq!(kind, Pop::Concealed);
        let peak = out.iter().map(|s| s.abs()).max().unwrap();
        assert!(peak <= previous_peak, "fades: {peak} after {previous_peak}");
        assert!(out.windows(2).all(|w| w[1] <= w[0]), "monotonic fade");
        previous_peak = out[F - 1];
    }
    assert!(previous_peak < 10, "nearly silent at the end of the fade");
    assert_eq!(pop(&mut jb), (Pop::Silence, vec![0; F]));
    let stats = jb.stats();
    assert_eq!(stats.concealed, 3);
    assert_eq!(stats.audio, 3);
}

#[test]
fn a_single_lost_packet_is_concealed_and_playout_continues() {
    let mut jb = buffer();
    let mut kinds = Vec::new();
    for n in 0..8 {
        if n != 4 {
            push_frame(&mut jb, 0, 0, n);
        }
        kinds.push(pop(&mut jb).0);
    }
    use Pop::*;
    assert_eq!(
        kinds,
        [Silence, Silence, Audio, Audio, Audio, Audio, Concealed, Audio]
    );
    assert_eq!(jb.stats().resets, 0);
}

#[test]
fn a_partly_received_frame_is_audio_with_the_gap_filled() {
    let mut jb = buffer();
    push_frame(&mut jb, 0, 0, 0);
    // Frame 1 has only its second half; frame 2 is complete.
    jb.push(1, 240, &samples(240, 80));
    push_frame(&mut jb, 0, 0, 2);
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, 0);
    let (kind, out) = pop(&mut jb);
    assert_eq!(kind, Pop::Audio);
    let previous = samples(0, F);
    for i in 0..80 {
        assert_eq!(out[i], previous[i] / 2);
    }
    assert_eq!(&out[80..], &samples(240, 80)[..]);
    expect_audio(&mut jb, 320);
}

#[test]
fn jumps_beyond_capacity_reset_the_buffer_with_the_delay() {
    for jump in [20 * F as i64, -17 * F as i64, 1_000_000, -1_000_000] {
        let mut jb = buffer();
        for n in 0..3 {
            push_frame(&mut jb, 0, 0, n);
        }
        pop(&mut jb);
        pop(&mut jb);
        expect_audio(&mut jb, 0);
        let ts = (jump as u32).wrapping_add(160);
        assert_eq!(jb.push(3, ts, &samples(ts, F)), Push::Reset, "jump {jump}");
        assert_eq!(jb.stats().resets, 1);
        assert_eq!(jb.depth_frames(), 3);
        // Playout restarts two frames before the new packet: the old audio is gone.
        assert_ne!(pop(&mut jb).0, Pop::Audio);
        assert_ne!(pop(&mut jb).0, Pop::Audio);
        expect_audio(&mut jb, ts);
    }
}

#[test]
fn a_jump_within_capacity_is_loss_not_a_reset() {
    let mut jb = buffer();
    push_frame(&mut jb, 0, 0, 0);
    assert_eq!(push_frame(&mut jb, 0, 0, 10), Push::Accepted);
    assert_eq!(jb.stats().resets, 0);
}

#[test]
fn a_restarted_sequence_resets_even_with_a_close_timestamp() {
    let mut jb = buffer();
    push_frame(&mut jb, 100, 0, 0);
    assert_eq!(jb.push(30_000, 160, &samples(160, F)), Push::Reset);
    // Reordering (a small step back) is not a restart.
    assert_eq!(jb.push(29_999, 0, &samples(0, F)), Push::Accepted);
}

#[test]
fn after_running_dry_the_next_packet_restarts_playout() {
    let mut jb = buffer();
    for n in 0..3 {
        push_frame(&mut jb, 0, 0, n);
    }
    for _ in 0..5 {
        pop(&mut jb);
    }
    // Nothing buffered: concealment, then silence, until a new talkspurt.
    for _ in 0..5 {
        assert_ne!(pop(&mut jb).0, Pop::Audio);
    }
    let ts = 100 * F as u32;
    assert_eq!(jb.push(50, ts, &samples(ts, F)), Push::Reset);
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, ts);
}

#[test]
fn overflow_drops_the_oldest_audio_and_stays_within_capacity() {
    let mut jb = buffer();
    for n in 0..40 {
        push_frame(&mut jb, 0, 0, n);
        assert!(jb.depth_frames() <= 16);
    }
    let stats = jb.stats();
    assert!(stats.overflows >= 1);
    assert_eq!(stats.resets, 0);
    // What is left is the newest audio, in order, up to the last packet.
    let mut last = None;
    while let (Pop::Audio, out) = pop(&mut jb) {
        let first = out[0];
        let ts = (0..40 * F as u32).find(|&t| value(t) == first).unwrap();
        assert_eq!(out, samples(ts, F));
        last = Some(ts);
    }
    assert_eq!(last, Some(39 * F as u32));
}

#[test]
fn packets_of_any_duration_play_seamlessly() {
    for ms in [10usize, 20, 30, 40, 60] {
        let len = ms * 8;
        let mut jb = buffer();
        let mut next_ts = 0u32;
        let mut seq = 0u16;
        let mut frames = Vec::new();
        // Each tick, deliver whatever the sender produced by then (packets arrive whole).
        for tick in 0..60usize {
            while (next_ts as usize) < (tick + 1) * F {
                assert_eq!(
                    jb.push(seq, next_ts, &samples(next_ts, len)),
                    Push::Accepted
                );
                next_ts += len as u32;
                seq = seq.wrapping_add(1);
            }
            frames.push(pop(&mut jb));
        }
        assert!(
            frames[..2].iter().all(|(k, _)| *k == Pop::Silence),
            "{ms} ms"
        );
        for (i, (kind, out)) in frames[2..].iter().enumerate() {
            assert_eq!(*kind, Pop::Audio, "{ms} ms frame {i}");
            assert_eq!(*out, samples((i * F) as u32, F), "{ms} ms frame {i}");
        }
    }
}

#[test]
fn timestamp_and_sequence_wrap_around() {
    let mut jb = buffer();
    let base_ts = u32::MAX - 3 * F as u32 + 7;
    let base_seq = u16::MAX - 2;
    // Deliver frames 0..12 slightly out of order across both wraps.
    let order = [0, 1, 3, 2, 4, 5, 7, 6, 8, 9, 10, 11];
    let mut kinds = Vec::new();
    for n in order {
        assert_eq!(push_frame(&mut jb, base_seq, base_ts, n), Push::Accepted);
        kinds.push(pop(&mut jb));
    }
    for (i, (kind, out)) in kinds[2..].iter().enumerate() {
        assert_eq!(*kind, Pop::Audio, "frame {i}");
        let ts = base_ts.wrapping_add((i * F) as u32);
        assert_eq!(*out, samples(ts, F), "frame {i}");
    }
    let stats = jb.stats();
    assert_eq!((stats.resets, stats.late, stats.overflows), (0, 0, 0));
}

#[test]
fn reset_forgets_the_stream() {
    let mut jb = buffer();
    for n in 0..3 {
        push_frame(&mut jb, 0, 0, n);
    }
    jb.reset();
    assert_eq!(jb.depth_frames(), 0);
    assert_eq!(pop(&mut jb), (Pop::Silence, vec![0; F]));
    assert_eq!(push_frame(&mut jb, 500, 90_000, 0), Push::Accepted);
    pop(&mut jb);
    pop(&mut jb);
    expect_audio(&mut jb, 90_000);
    assert_eq!(jb.stats().pushed, 4);
}

#[test]
fn odd_sizes_do_not_panic() {
    let mut jb = JitterBuffer::new(JitterConfig {
        frame_samples: 0,
        playout_delay_frames: 9,
        capacity_frames: 0,
    });
    let mut out = [0i16; 4];
    jb.push(0, 0, &[1, 2, 3]);
    jb.push(1, 3, &[]);
    for _ in 0..5 {
        jb.pop(&mut out);
    }
    // An over-long packet and a too-short output buffer.
    let mut jb = buffer();
    assert_eq!(jb.push(0, 0, &samples(0, 40 * F)), Push::Accepted);
    assert!(jb.depth_frames() <= 16);
    let mut short = [0i16; 10];
    jb.pop(&mut short);
    jb.pop(&mut []);
    assert!(jb.depth_frames() <= 14);
}

/// Runs `ticks` playout ticks against a sender whose 20 ms packets are spaced
/// `interval_us` apart on our clock, each delayed by a pseudo-random 0 to `jitter_us`. Returns
/// the stats, asserting on the way that the depth never exceeds the capacity.
fn run_skewed(interval_us: u64, jitter_us: u64, ticks: u64) -> JitterStats {
    let mut jb = buffer();
    let packets = ticks * 20_000 / interval_us + 10;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut arrivals: Vec<(u64, u32)> = (0..packets as u32)
        .map(|n| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (u64::from(n) * interval_us + rng % (jitter_us + 1), n)
        })
        .collect();
    arrivals.sort_unstable();
    let mut next = 0;
    let mut out = [0i16; F];
    let frame = vec![100i16; F];
    for tick in 0..ticks {
        let now = tick * 20_000;
        while next < arrivals.len() && arrivals[next].0 <= now {
            let n = arrivals[next].1;
            jb.push(n as u16, 12_345u32.wrapping_add(n * F as u32), &frame);
            assert!(jb.depth_frames() <= 16);
            next += 1;
        }
        jb.pop(&mut out);
    }
    jb.stats()
}

#[test]
fn clock_skew_either_way_neither_grows_nor_starves() {
    // ±0.5 %, with no network jitter and with up to 30 ms of it.
    for (interval_us, jitter_us) in [(19_900, 0), (20_100, 0), (19_900, 30_000), (20_100, 30_000)] {
        let stats = run_skewed(interval_us, jitter_us, 100_000);
        let popped = stats.audio + stats.concealed + stats.silence;
        assert_eq!(popped, 100_000);
        let audio = stats.audio as f64 / popped as f64;
        assert!(audio > 0.95, "audio fraction {audio} ({stats:?})");
        if jitter_us == 0 {
            // The faster sender is trimmed by overflow, the slower one restarts when dry.
            if interval_us < 20_000 {
                assert!(stats.overflows > 0 && stats.resets == 0, "{stats:?}");
            } else {
                assert!(stats.resets > 0 && stats.overflows == 0, "{stats:?}");
            }
        }
    }
}
