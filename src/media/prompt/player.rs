//! The prompt player, sans-IO: a [`Playlist`] resolved against the library into segments once,
//! then read out frame by frame. The engine calls [`Player::next_frame`] on each 20 ms tick;
//! the player never looks at a clock and does not allocate after [`Player::new`].

use super::numbers::{number_words, DIGITS};
use super::{Item, Playlist, PromptError, PromptLibrary, Samples, SAMPLE_RATE};

/// A stretch of audio: the whole of one prompt, or silence.
#[derive(Debug, Clone)]
struct Segment {
    /// `None` is silence.
    samples: Option<Samples>,
    len: usize,
}

/// Plays one playlist. Segments join seamlessly: a frame may end one prompt and begin the
/// next, and a looped playlist wraps from its last sample straight to its first.
#[derive(Debug, Clone)]
pub struct Player {
    segments: Vec<Segment>,
    /// Current segment and offset in it.
    index: usize,
    offset: usize,
    /// Samples played so far (grows past `total` when looped).
    position: u64,
    /// Sum of the segment lengths.
    length: u64,
    looped: bool,
    barge_in: bool,
    finished: bool,
}

impl Player {
    /// Resolves every item of `playlist` in `lang`. A prompt the library lacks in that language
    /// is [`PromptError::Missing`] naming both: there is no fallback to another language.
    /// An empty playlist (or one of zero length) is finished at once, even when looped.
    pub fn new(
        lib: &PromptLibrary,
        lang: &str,
        playlist: &Playlist,
    ) -> Result<Player, PromptError> {
        let mut segments = Vec::new();
        let prompt = |name: &str, segments: &mut Vec<Segment>| {
            let samples = lib.get(lang, name).ok_or_else(|| PromptError::Missing {
                lang: lang.to_owned(),
                name: name.to_owned(),
            })?;
            segments.push(Segment {
                len: samples.len(),
                samples: Some(samples),
            });
            Ok::<(), PromptError>(())
        };
        for item in &playlist.items {
            match item {
                Item::Prompt(name) => prompt(name, &mut segments)?,
                Item::Digits(keys) => {
                    for key in keys.chars() {
                        let name = match key {
                            '0'..='9' => DIGITS[key as usize - '0' as usize],
                            '*' => "star",
                            '#' => "hash",
                            other => {
                                return Err(PromptError::InvalidItem {
                                    item: item.clone(),
                                    detail: format!("'{other}' is not a key (0-9, *, #)"),
                                })
                            }
                        };
                        prompt(name, &mut segments)?;
                    }
                }
                Item::Number(n) => {
                    for name in number_words(lang, *n) {
                        prompt(name, &mut segments)?;
                    }
                }
                Item::Silence(ms) => segments.push(Segment {
                    samples: None,
                    len: (u64::from(*ms) * u64::from(SAMPLE_RATE) / 1000) as usize,
                }),
            }
        }
        segments.retain(|s| s.len > 0);
        let length = segments.iter().map(|s| s.len as u64).sum();
        Ok(Player {
            finished: segments.is_empty(),
            segments,
            index: 0,
            offset: 0,
            position: 0,
            length,
            looped: playlist.looped,
            barge_in: playlist.barge_in,
        })
    }

    /// Fills `out` (any length; the engine uses 160 samples, 20 ms) with the next samples and
    /// returns true. Past the end of a non-looped playlist the rest of `out` is zero; once
    /// nothing was left to play it returns false with `out` zeroed. Looped playlists never
    /// finish.
    pub fn next_frame(&mut self, out: &mut [i16]) -> bool {
        if self.finished {
            out.fill(0);
            return false;
        }
        let mut filled = 0;
        while filled < out.len() {
            let Some(segment) = self.segments.get(self.index) else {
                if self.looped {
                    self.index = 0;
                    continue;
                }
                self.finished = true;
                break;
            };
            let n = (segment.len - self.offset).min(out.len() - filled);
            let dst = &mut out[filled..filled + n];
            match &segment.samples {
                Some(samples) => dst.copy_from_slice(&samples[self.offset..self.offset + n]),
                None => dst.fill(0),
            }
            filled += n;
            self.offset += n;
            self.position += n as u64;
            if self.offset == segment.len {
                self.index += 1;
                self.offset = 0;
            }
        }
        if !self.looped && self.index == self.segments.len() {
            self.finished = true;
        }
        out[filled..].fill(0);
        filled > 0
    }

    /// Whether a DTMF digit from the caller should stop this playlist.
    pub fn barge_in(&self) -> bool {
        self.barge_in
    }

    /// True once every sample of a non-looped playlist has been handed out.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Samples played so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Total length in samples, `None` when looped.
    pub fn total(&self) -> Option<u64> {
        (!self.looped).then_some(self.length)
    }
}
