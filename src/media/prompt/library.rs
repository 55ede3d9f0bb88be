//! The prompt library: every `<dir>/<lang>/<name>.wav` loaded once, converted to 8 kHz mono
//! `i16`, and shared as [`Samples`].
//!
//! Conversion: `hound` decodes 8/16/24/32-bit integer and 32-bit float PCM; channels are
//! averaged to mono; any other rate than 8 kHz goes through rubato's synchronous FFT resampler,
//! whose band-limiting (Blackman-Harris window) removes everything above the 4 kHz Nyquist
//! frequency of the output before decimating, so a loud 6 kHz tone does not fold back to 2 kHz.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::{Manifest, PromptError, Samples, SAMPLE_RATE};

/// Lowest and highest input rate accepted (a WAV outside is surely broken).
const MIN_RATE: u32 = 4000;
const MAX_RATE: u32 = 384_000;
/// Resampler chunk in input frames (a hint: rubato rounds it to fit the rate ratio).
const RESAMPLER_CHUNK: usize = 1024;

type Prompts = BTreeMap<String, BTreeMap<String, Samples>>;

/// All prompts by language and name. Cloning is cheap (one `Arc`); a clone sees the prompts of
/// the moment it was made, since [`insert`](Self::insert) copies on write.
#[derive(Debug, Clone, Default)]
pub struct PromptLibrary {
    prompts: Arc<Prompts>,
}

impl PromptLibrary {
    /// Loads every `<dir>/<lang>/*.wav`: each subdirectory of `dir` is a language and each WAV
    /// in it a prompt named after the file. Other files are ignored. A file that cannot be read
    /// or converted is an error naming it. Hidden directories (`.git`…) are skipped.
    pub fn load(dir: &Path) -> Result<PromptLibrary, PromptError> {
        let mut prompts = Prompts::new();
        for lang_dir in sorted_entries(dir)? {
            if !lang_dir.is_dir() {
                continue;
            }
            let Some(lang) = lang_dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if lang.starts_with('.') {
                continue;
            }
            let mut names = BTreeMap::new();
            for file in sorted_entries(&lang_dir)? {
                let is_wav = file
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
                let name = file.file_stem().and_then(|n| n.to_str());
                if let (true, Some(name), true) = (is_wav, name, file.is_file()) {
                    names.insert(name.to_owned(), Samples::from(read_wav(&file)?));
                }
            }
            prompts.insert(lang.to_owned(), names);
        }
        Ok(PromptLibrary {
            prompts: Arc::new(prompts),
        })
    }

    /// A library without prompts.
    pub fn empty() -> PromptLibrary {
        PromptLibrary::default()
    }

    /// Adds (or replaces) one prompt from samples already at 8 kHz (tests, generated tones).
    pub fn insert(&mut self, lang: &str, name: &str, samples: Vec<i16>) {
        Arc::make_mut(&mut self.prompts)
            .entry(lang.to_owned())
            .or_default()
            .insert(name.to_owned(), Samples::from(samples));
    }

    /// The prompt `name` in language `lang`.
    pub fn get(&self, lang: &str, name: &str) -> Option<Samples> {
        self.prompts.get(lang)?.get(name).cloned()
    }

    /// The languages present, sorted.
    pub fn languages(&self) -> Vec<String> {
        self.prompts.keys().cloned().collect()
    }

    /// The prompt names of one language, sorted (empty for an unknown language).
    pub fn names(&self, lang: &str) -> Vec<String> {
        self.prompts
            .get(lang)
            .map(|names| names.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Names listed in the manifest that are missing for some language, as `(lang, name)`,
    /// sorted. The languages checked are those of the library plus those each entry has text
    /// for, so a language directory that is absent altogether is reported too.
    pub fn missing(&self, manifest: &Manifest) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for entry in &manifest.prompts {
            let mut langs: Vec<&String> = self.prompts.keys().collect();
            langs.extend(entry.text.keys());
            langs.sort();
            langs.dedup();
            for lang in langs {
                if self.get(lang, &entry.name).is_none() {
                    out.push((lang.clone(), entry.name.clone()));
                }
            }
        }
        out.sort();
        out
    }
}

/// The entries of a directory, sorted by path so loading is deterministic.
fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, PromptError> {
    let io = |source| PromptError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    paths.sort();
    Ok(paths)
}

/// Reads one WAV file and converts it to 8 kHz mono `i16`.
pub(super) fn read_wav(path: &Path) -> Result<Vec<i16>, PromptError> {
    let format = |detail: String| PromptError::Format {
        path: path.to_path_buf(),
        detail,
    };
    let hound_error = |e: hound::Error| match e {
        hound::Error::IoError(source) => PromptError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => format(other.to_string()),
    };
    let reader = hound::WavReader::open(path).map_err(hound_error)?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(format("no channels".into()));
    }
    if !(MIN_RATE..=MAX_RATE).contains(&spec.sample_rate) {
        return Err(format(format!(
            "sample rate {} Hz is outside {MIN_RATE}..={MAX_RATE}",
            spec.sample_rate
        )));
    }
    let interleaved: Vec<f64> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>()
            .map_err(hound_error)?,
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / f64::from(1u32 << (bits - 1));
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) * scale))
                .collect::<Result<_, _>>()
                .map_err(hound_error)?
        }
        (kind, bits) => {
            return Err(format(format!(
                "unsupported sample format: {bits}-bit {kind:?}"
            )))
        }
    };
    let mono = downmix(&interleaved, usize::from(spec.channels));
    let resampled = if spec.sample_rate == SAMPLE_RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate).map_err(format)?
    };
    Ok(resampled.iter().map(|&v| to_i16(v)).collect())
}

/// Averages interleaved channels into one; an incomplete last frame is dropped.
fn downmix(interleaved: &[f64], channels: usize) -> Vec<f64> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f64;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f64>() * scale)
        .collect()
}

/// Resamples mono audio from `rate` to 8 kHz, band-limited, aligned with the input (rubato's
/// `process_all` trims the resampler delay) and of length `len * 8000 / rate`.
fn resample(mono: &[f64], rate: u32) -> Result<Vec<f64>, String> {
    if mono.is_empty() {
        return Ok(Vec::new());
    }
    let mut resampler = Fft::<f64>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        RESAMPLER_CHUNK,
        1,
        FixedSync::Both,
    )
    .map_err(|e| format!("resampler for {rate} Hz: {e}"))?;
    let input =
        InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| format!("resampler input: {e}"))?;
    let output = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| format!("resampling from {rate} Hz: {e}"))?;
    Ok(output.take_data())
}

/// Full scale float to `i16`, rounded and clipped.
fn to_i16(v: f64) -> i16 {
    (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}
