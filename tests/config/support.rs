//! A copy of the shipped example configuration in a temporary directory, with the edits a test
//! plants in it and the problems loading it reports.

use std::path::{Path, PathBuf};
use std::process::Command;

use hotline::config::{load, Problem};

pub fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sip-config")
}

const FILES: [&str; 5] = [
    "hotline.toml",
    "queues.toml",
    "users.toml",
    "city.toml",
    "calendar.toml",
];

/// A copy of the shipped example configuration in a temporary directory.
pub struct Cfg {
    dir: tempfile::TempDir,
}

impl Cfg {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for f in FILES {
            std::fs::copy(shipped().join(f), dir.path().join(f)).unwrap();
        }
        Cfg { dir }
    }

    /// A fresh copy with the only `from` in `file` replaced by `to`.
    pub fn edited(file: &str, from: &str, to: &str) -> Self {
        let cfg = Cfg::new();
        cfg.replace(file, from, to);
        cfg
    }

    pub fn main(&self) -> PathBuf {
        self.path("hotline.toml")
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// How a problem names `file`.
    pub fn shown(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap()
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path(file), text).unwrap();
    }

    /// Replaces the `nth` (0-based) occurrence of `from` in `file` by `to`.
    pub fn replace_nth(&self, file: &str, from: &str, nth: usize, to: &str) -> &Self {
        let text = self.read(file);
        let (at, _) = text
            .match_indices(from)
            .nth(nth)
            .unwrap_or_else(|| panic!("{from:?} #{nth} not found in {file}"));
        let new = format!("{}{}{}", &text[..at], to, &text[at + from.len()..]);
        self.write(file, &new);
        self
    }

    /// Replaces the only occurrence of `from` in `file` by `to`.
    pub fn replace(&self, file: &str, from: &str, to: &str) -> &Self {
        assert_eq!(
            self.read(file).matches(from).count(),
            1,
            "{from:?} is not unique in {file}"
        );
        self.replace_nth(file, from, 0, to)
    }

    pub fn append(&self, file: &str, text: &str) -> &Self {
        let old = self.read(file);
        self.write(file, &format!("{old}\n{text}\n"));
        self
    }

    pub fn problems(&self) -> Vec<Problem> {
        match load(&self.main()) {
            Ok(_) => panic!("the configuration loaded without problems"),
            Err(e) => e.0,
        }
    }

    /// Asserts exactly one problem, in `file` at `key`, whose message contains `needle`.
    #[track_caller]
    pub fn assert_one(&self, file: &str, key: &str, needle: &str) -> Problem {
        let problems = self.problems();
        assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
        let p = problems.into_iter().next().unwrap();
        assert_eq!(p.file, self.shown(file), "{p}");
        assert_eq!(p.key, key, "{p}");
        assert!(p.message.contains(needle), "{needle:?} not in {p}");
        p
    }

    pub fn check_config(&self) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("check-config")
            .arg("--config")
            .arg(self.main())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

/// A fresh copy of the example with the only `from` in `file` replaced by `to` gives exactly
/// one problem, in that same `file` at `key`, whose message contains `needle`.
#[track_caller]
pub fn edit_gives_one(file: &str, from: &str, to: &str, key: &str, needle: &str) -> Problem {
    Cfg::edited(file, from, to).assert_one(file, key, needle)
}

/// Each `(from, to, key, needle)` edit of `file`, made to a fresh copy of its own, gives exactly
/// that one problem ([`edit_gives_one`]).
#[track_caller]
pub fn edits_give_one(file: &str, cases: &[(&str, &str, &str, &str)]) {
    for (from, to, key, needle) in cases {
        edit_gives_one(file, from, to, key, needle);
    }
}
