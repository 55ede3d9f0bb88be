//! The prompt manifest `ivr-prompts/manifest.toml`: every prompt the call flows need, its kind
//! and what it says in each language. `generate.sh` synthesizes the shipped prompts from it and
//! `check-config` compares it with the loaded library.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::PromptError;

/// What a prompt is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptKind {
    /// Spoken words.
    #[default]
    Speech,
    /// A signal tone, such as the beep before a message.
    Tone,
    /// Music, such as music on hold (may be longer than speech prompts).
    Music,
}

/// One prompt of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManifestEntry {
    /// File name without `.wav`, the same in every language.
    pub name: String,
    /// What the prompt says, by language code (`zh`, `en`); for tones and music a description.
    pub text: BTreeMap<String, String>,
    #[serde(default)]
    pub kind: PromptKind,
    /// Optional remark for the studio or the generator.
    #[serde(default)]
    pub note: Option<String>,
}

/// The parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub prompts: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
struct ManifestFile {
    #[serde(default)]
    prompt: Vec<ManifestEntry>,
}

impl Manifest {
    /// Reads and checks a manifest: names must be unique, non-empty and usable as file names,
    /// and every entry must have text in at least one language.
    pub fn load(path: &Path) -> Result<Manifest, PromptError> {
        let text = std::fs::read_to_string(path).map_err(|source| PromptError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|detail| PromptError::Manifest {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses manifest text; the error is a description without the path.
    pub(super) fn parse(text: &str) -> Result<Manifest, String> {
        let file: ManifestFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = BTreeSet::new();
        for entry in &file.prompt {
            let valid = !entry.name.is_empty()
                && entry
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(format!(
                    "prompt name '{}' must be non-empty ASCII letters, digits, '-' or '_'",
                    entry.name
                ));
            }
            if !seen.insert(entry.name.as_str()) {
                return Err(format!("prompt '{}' is listed twice", entry.name));
            }
            if entry.text.is_empty() {
                return Err(format!("prompt '{}' has no text", entry.name));
            }
        }
        Ok(Manifest {
            prompts: file.prompt,
        })
    }

    /// The entry of that name.
    pub fn get(&self, name: &str) -> Option<&ManifestEntry> {
        self.prompts.iter().find(|e| e.name == name)
    }
}
