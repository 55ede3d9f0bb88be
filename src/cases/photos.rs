//! Photos attached to orders (a report's evidence, a handler's feedback, a verification):
//! checking what was uploaded by its bytes, not its declared type, and keeping it under the
//! data directory beside the recordings (`photos/YYYY/MM/DD/<sha256>.<ext>`, content-addressed,
//! written to a temporary name and renamed so a reader never sees half a file). The rows that
//! tie them to orders are written by the store in the transaction of the change.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What an attachment documents.
pub const KINDS: &[&str] = &["report", "feedback", "verification", "other"];

/// Image formats accepted, by their magic bytes: (content type, file extension).
const JPEG: (&str, &str) = ("image/jpeg", "jpg");
const PNG: (&str, &str) = ("image/png", "png");
const WEBP: (&str, &str) = ("image/webp", "webp");

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo is empty")]
    Empty,
    #[error("the photo is {got} bytes; the largest accepted is {max} bytes")]
    TooLarge { max: u64, got: u64 },
    #[error("not a JPEG, PNG or WebP image (its first bytes are {0})")]
    NotAnImage(String),
    #[error("at most {max} photos may be sent at once")]
    TooMany { max: u32 },
}

/// The content type and file extension of `bytes` if it is an accepted image.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(JPEG)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PNG)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(WEBP)
    } else {
        None
    }
}

/// Checks one uploaded photo: not empty, at most `max_bytes`, a JPEG, PNG or WebP image.
pub fn check(bytes: &[u8], max_bytes: u64) -> Result<(&'static str, &'static str), PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() as u64 > max_bytes {
        return Err(PhotoError::TooLarge {
            max: max_bytes,
            got: bytes.len() as u64,
        });
    }
    sniff(bytes).ok_or_else(|| {
        PhotoError::NotAnImage(
            bytes
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    })
}

/// A photo kept on disk, to be tied to an order by the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAttachment {
    /// One of [`KINDS`].
    pub kind: String,
    /// Relative to the data directory.
    pub path: String,
    pub content_type: String,
    pub bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// Checks `bytes` and writes them under `data_dir`; the same content is stored once.
pub fn save(
    data_dir: &Path,
    kind: &str,
    bytes: &[u8],
    max_bytes: u64,
    now: DateTime<Utc>,
) -> Result<NewAttachment, SaveError> {
    let (content_type, ext) = check(bytes, max_bytes)?;
    let sha256 = hex(&Sha256::digest(bytes));
    let rel = PathBuf::from("photos")
        .join(now.format("%Y/%m/%d").to_string())
        .join(format!("{sha256}.{ext}"));
    let full = data_dir.join(&rel);
    if !full.exists() {
        let dir = full.parent().unwrap_or(data_dir);
        std::fs::create_dir_all(dir)?;
        // Concurrent saves of the same content (a retry while the first request is still in
        // flight) each write their own temp file; whichever rename lands last wins, and a
        // failed rename is fine when the target is there afterwards.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{sha256}.{}.{n}.tmp", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        if let Err(e) = std::fs::rename(&tmp, &full) {
            let _ = std::fs::remove_file(&tmp);
            if !full.exists() {
                return Err(e.into());
            }
        }
    }
    Ok(NewAttachment {
        kind: kind.to_string(),
        path: rel.to_string_lossy().into_owned(),
        content_type: content_type.to_string(),
        bytes: bytes.len() as i64,
        sha256,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("writing the photo: {0}")]
    Io(#[from] std::io::Error),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Inserts one attachment row: $1 order id, $2 case event id (or NULL), $3 kind, $4 path,
/// $5 content type, $6 bytes, $7 sha256, $8 uploaded by, $9 uploaded at.
pub const INSERT_ATTACHMENT: &str = "INSERT INTO attachments \
    (work_order_id, case_event_id, kind, path, content_type, bytes, sha256, uploaded_by, uploaded_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(JPEG));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(PNG));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(WEBP));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
    }

    #[test]
    fn checks_size_and_type() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
        assert_eq!(check(&jpeg, 8), Ok(JPEG));
        assert_eq!(
            check(&jpeg, 7),
            Err(PhotoError::TooLarge { max: 7, got: 8 })
        );
        assert_eq!(check(&[], 8), Err(PhotoError::Empty));
        assert!(matches!(check(b"hello", 8), Err(PhotoError::NotAnImage(_))));
    }

    #[test]
    fn saves_once_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 9, 9];
        let a = save(dir.path(), "report", &jpeg, 100, now).unwrap();
        let b = save(dir.path(), "feedback", &jpeg, 100, now).unwrap();
        assert_eq!(a.path, b.path);
        assert!(a.path.starts_with("photos/2026/11/27/"));
        assert_eq!(std::fs::read(dir.path().join(&a.path)).unwrap(), jpeg);
        assert_eq!(a.bytes, 6);
        assert_eq!(a.content_type, "image/jpeg");
        assert!(save(dir.path(), "report", b"text", 100, now).is_err());
    }

    #[test]
    fn concurrent_saves_of_the_same_content_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for round in 0u8..40 {
            let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, round, 7, 7, 7];
            let barrier = std::sync::Barrier::new(8);
            let results: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            save(dir.path(), "report", &jpeg, 100, now)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for r in &results {
                let a = r.as_ref().expect("every concurrent save succeeds");
                assert_eq!(std::fs::read(dir.path().join(&a.path)).unwrap(), jpeg);
            }
        }
        let day = dir.path().join("photos/2026/11/27");
        let names: Vec<String> = std::fs::read_dir(&day)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 40, "no temp file is left: {names:?}");
        assert!(names.iter().all(|n| n.ends_with(".jpg")), "{names:?}");
    }
}
