//! Recorded prompts (DESIGN.md `media/`): the prompt library loaded from `ivr-prompts/`, its
//! manifest, and the sans-IO player that turns a [`Playlist`] into 20 ms frames.
//!
//! * [`PromptLibrary`] loads every `<dir>/<lang>/<name>.wav` once, converts any common WAV
//!   (8–48 kHz, 8/16/24/32-bit integer or 32-bit float, mono or stereo) to 8 kHz mono `i16`
//!   with an anti-aliasing resampler, and shares each prompt as [`Samples`] (`Arc<[i16]>`).
//! * [`Manifest`] is `ivr-prompts/manifest.toml`: every prompt the call flows need, with its
//!   text per language; [`PromptLibrary::missing`] checks the library against it.
//! * [`Player`] resolves a [`Playlist`] (prompts, digits, numbers read as words, silence)
//!   against the library before it starts, then hands out frames on each tick without looking
//!   at a clock and without allocating.
//!
//! A prompt missing in the caller's language is an error ([`PromptError::Missing`]); there is
//! no fallback to another language, so a misconfiguration is seen at once.

mod library;
mod manifest;
mod numbers;
mod player;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use library::PromptLibrary;
pub use manifest::{Manifest, ManifestEntry, PromptKind};
pub use player::Player;

/// Sample rate of every prompt once loaded (the G.711 rate of the phone line).
pub const SAMPLE_RATE: u32 = 8000;

/// One prompt's audio: 8 kHz mono 16-bit samples, shared between all calls playing it.
pub type Samples = std::sync::Arc<[i16]>;

/// What went wrong loading prompts, reading the manifest or resolving a playlist. Each
/// variant names the file, or the language and prompt, it is about.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is not a WAV file this loader can convert.
    #[error("{}: {detail}", path.display())]
    Format { path: PathBuf, detail: String },
    /// A playlist needs a prompt the library does not have in that language.
    #[error("prompt '{name}' is missing for language '{lang}'")]
    Missing { lang: String, name: String },
    /// The manifest cannot be parsed or is inconsistent.
    #[error("{}: {detail}", path.display())]
    Manifest { path: PathBuf, detail: String },
    /// A playlist item cannot be spoken (a key other than 0-9, `*`, `#` in [`Item::Digits`]).
    #[error("cannot play {item:?}: {detail}")]
    InvalidItem { item: Item, detail: String },
}

/// What a caller hears, resolved against the library before playing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// One prompt by name, such as `"please-hold"`.
    Prompt(String),
    /// Keys read one by one: `0`–`9` as `digit-0`..`digit-9`, `*` as `star`, `#` as `hash`.
    Digits(String),
    /// A number read as words: Mandarin "一百二十三" style with `digit-N`, `ten`, `hundred`,
    /// `thousand`, `ten-thousand`, `hundred-million`; English "one hundred twenty three" with
    /// `digit-N`, `ten`..`nineteen`, `twenty`..`ninety`, `hundred`, `thousand`, `million`,
    /// `billion`. Other languages read the number digit by digit.
    Number(u64),
    /// Silence of this many milliseconds.
    Silence(u32),
}

/// A sequence of items played as one stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Playlist {
    pub items: Vec<Item>,
    /// Start again at the first item after the last one, for ever (music on hold).
    pub looped: bool,
    /// A DTMF digit from the caller stops it.
    pub barge_in: bool,
}
