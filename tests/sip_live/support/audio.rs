//! Test audio: sine tones written as WAV files for the peers to send (16-bit PCM for baresip's
//! `aufile` source, A-law for SIPp's `rtp_stream`), WAV files read back, and measuring how
//! long a tone of a given frequency is heard in a signal (Goertzel filter over 100 ms windows).

use std::path::Path;

/// The sample rate of everything here (G.711).
pub const RATE: u32 = 8000;
/// Amplitude of the generated tones (about -10 dBFS).
const AMPLITUDE: f64 = 10_000.0;

/// `secs` of a sine at `hz`, 8 kHz mono 16-bit samples.
pub fn sine(hz: u32, secs: u32) -> Vec<i16> {
    (0..RATE * secs)
        .map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            (AMPLITUDE * (2.0 * std::f64::consts::PI * f64::from(hz) * t).sin()) as i16
        })
        .collect()
}

/// Writes a 16-bit PCM mono WAV of a sine at `hz` lasting `secs`.
pub fn write_pcm_tone(path: &Path, hz: u32, secs: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create WAV");
    for s in sine(hz, secs) {
        w.write_sample(s).expect("write sample");
    }
    w.finalize().expect("finish WAV");
}

/// Writes an A-law mono WAV (format tag 6) of a sine at `hz` lasting `secs`, as SIPp's
/// `rtp_stream` sends it (payload type 8).
pub fn write_alaw_tone(path: &Path, hz: u32, secs: u32) {
    let pcm = sine(hz, secs);
    let mut data = vec![0u8; pcm.len()];
    let n = hotline::media::g711::encode_alaw(&pcm, &mut data);
    data.truncate(n);
    let len = u32::try_from(data.len()).expect("short tone");
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&6u16.to_le_bytes()); // A-law
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).expect("write A-law WAV");
}

/// The 16-bit samples of a WAV file, and its channel count. A file still being written (its
/// header not yet finalized) is read as far as it goes.
pub fn read_wav(path: &Path) -> (Vec<i16>, u16) {
    let mut wav = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} is not a readable WAV: {e}", path.display()));
    let channels = wav.spec().channels;
    let samples = wav.samples::<i16>().map_while(Result::ok).collect();
    (samples, channels)
}

/// One channel of interleaved samples.
pub fn channel(samples: &[i16], channels: u16, ch: usize) -> Vec<i16> {
    samples
        .iter()
        .skip(ch)
        .step_by(usize::from(channels.max(1)))
        .copied()
        .collect()
}

/// RMS level of mono samples.
pub fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

/// The amplitude of the `hz` component of `samples` (Goertzel); a pure sine of amplitude A
/// gives about A.
pub fn tone_amplitude(samples: &[i16], hz: u32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * f64::from(hz) / f64::from(RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

/// Seconds (in 100 ms windows) in which a tone at `hz` is clearly present: its amplitude is
/// at least 1000 and at least half the window's RMS·√2 (so speech or another tone does not
/// count).
pub fn tone_seconds(samples: &[i16], hz: u32) -> f64 {
    let window = (RATE / 10) as usize;
    let hits = samples
        .chunks_exact(window)
        .filter(|w| has_tone(w, hz))
        .count();
    hits as f64 / 10.0
}

/// Whether the tone at `hz` is clearly present in `window` (as [`tone_seconds`] counts it).
fn has_tone(window: &[i16], hz: u32) -> bool {
    let a = tone_amplitude(window, hz);
    a >= 1000.0 && a >= 0.5 * rms(window) * std::f64::consts::SQRT_2
}

/// What is heard in each 100 ms window of `samples`, as one character each: `T` the tone at
/// `hz`, `A` other audible sound (RMS above 300), `.` quiet — a timeline to search.
pub fn timeline(samples: &[i16], hz: u32) -> String {
    samples
        .chunks_exact((RATE / 10) as usize)
        .map(|w| {
            if has_tone(w, hz) {
                'T'
            } else if rms(w) > 300.0 {
                'A'
            } else {
                '.'
            }
        })
        .collect()
}

/// Seconds (in 100 ms windows) whose RMS is above 300 (anything audible).
pub fn audible_seconds(samples: &[i16]) -> f64 {
    let window = (RATE / 10) as usize;
    let hits = samples
        .chunks_exact(window)
        .filter(|w| rms(w) > 300.0)
        .count();
    hits as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_finds_the_tone_and_not_another() {
        let s = sine(440, 1);
        assert!((tone_amplitude(&s, 440) - AMPLITUDE).abs() < 500.0);
        assert!(tone_amplitude(&s, 660) < 200.0);
        assert!((tone_seconds(&s, 440) - 1.0).abs() < 0.01);
        assert_eq!(tone_seconds(&s, 1000), 0.0);
        let mut mixed = sine(440, 1);
        mixed.extend(vec![0i16; RATE as usize / 2]);
        mixed.extend(sine(660, 1));
        assert_eq!(
            timeline(&mixed, 440),
            format!("{}{}{}", "T".repeat(10), ".".repeat(5), "A".repeat(10))
        );
    }
}
