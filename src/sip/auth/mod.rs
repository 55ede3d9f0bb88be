//! HTTP Digest authentication as SIP uses it (RFC 3261 §22), with the algorithms of RFC 7616
//! that RFC 8760 adopts for SIP (`MD5`, `SHA-256` and their `-sess` variants).
//!
//! Server side: [`challenges`] renders `WWW-Authenticate` values, [`Nonces`] issues and checks
//! stateless nonces, [`Credentials::parse`] reads an `Authorization` value and [`verify`]
//! checks it against a stored [`Ha1`]. Client side: [`respond`] answers a challenge (outbound
//! REGISTER to a carrier). Only `qop=auth` and the RFC 2069 no-qop form are supported;
//! `auth-int`, `userhash` and `SHA-512-256` are not.
//!
//! Everything here is pure: no I/O, the time comes in as [`std::time::Instant`].

mod digest;
mod nonce;
mod params;

#[cfg(test)]
mod tests;

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

pub use digest::{
    challenges, challenges_for, pick_challenge, respond, verify, Challenge, Credentials,
};
pub use nonce::{NonceStatus, Nonces, DEFAULT_NONCE_LIFETIME};

/// Why a digest header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("not a Digest header")]
    NotDigest,
    #[error("bad Digest header: {0}")]
    Syntax(&'static str),
    #[error("Digest header lacks the {0} parameter")]
    Missing(&'static str),
    #[error("parameter {0} appears twice")]
    Duplicate(String),
    #[error("unsupported digest algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("unsupported qop {0}")]
    UnsupportedQop(String),
}

/// A digest algorithm. The `-sess` variants hash the client nonce into HA1 (RFC 7616 §3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` parameter value (case-insensitive).
    pub fn parse(s: &str) -> Result<Algorithm, AuthError> {
        const NAMES: [(&str, Algorithm); 4] = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, a)| *a)
            .ok_or_else(|| AuthError::UnsupportedAlgorithm(s.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    pub fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// True for the SHA-256 family (the stored SHA-256 HA1 applies).
    pub fn is_sha256(self) -> bool {
        matches!(self, Algorithm::Sha256 | Algorithm::Sha256Sess)
    }

    /// Lower-case hex of the hash of `parts` joined by `:`.
    pub(crate) fn hash_hex(self, parts: &[&str]) -> String {
        fn run<D: Digest>(parts: &[&str]) -> String {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p.as_bytes());
            }
            hex(&d.finalize())
        }
        if self.is_sha256() {
            run::<Sha256>(parts)
        } else {
            run::<Md5>(parts)
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored credential of one user in one realm: `H(username:realm:password)` for each hash
/// family, lower-case hex. Either may be absent (a store holding only legacy MD5 hashes); the
/// user then cannot authenticate with the other family. A plain password is never kept.
#[derive(Clone, PartialEq, Eq)]
pub struct Ha1 {
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

impl Ha1 {
    /// Both hashes from a password. `user` and `realm` must be exactly what clients will send
    /// (`username` of the Authorization header, the registrar's realm).
    pub fn from_password(user: &str, realm: &str, password: &str) -> Ha1 {
        Ha1 {
            md5: Some(Algorithm::Md5.hash_hex(&[user, realm, password])),
            sha256: Some(Algorithm::Sha256.hash_hex(&[user, realm, password])),
        }
    }

    /// Pre-computed hashes (say, from a configuration file), checked for length and hex digits
    /// and lower-cased.
    pub fn from_hex(md5: Option<&str>, sha256: Option<&str>) -> Result<Ha1, AuthError> {
        fn check(v: Option<&str>, len: usize) -> Result<Option<String>, AuthError> {
            match v {
                None => Ok(None),
                Some(h) if h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Ok(Some(h.to_ascii_lowercase()))
                }
                Some(_) => Err(AuthError::Syntax(
                    "HA1 is not a hex hash of the right length",
                )),
            }
        }
        let ha1 = Ha1 {
            md5: check(md5, 32)?,
            sha256: check(sha256, 64)?,
        };
        if ha1.md5.is_none() && ha1.sha256.is_none() {
            return Err(AuthError::Syntax("no HA1 given"));
        }
        Ok(ha1)
    }

    /// The HA1 for an algorithm's hash family.
    pub fn for_algorithm(&self, alg: Algorithm) -> Option<&str> {
        if alg.is_sha256() {
            self.sha256.as_deref()
        } else {
            self.md5.as_deref()
        }
    }
}

/// HA1s are password equivalents for their realm: never print them.
impl fmt::Debug for Ha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ha1")
            .field("md5", &self.md5.as_ref().map(|_| "<redacted>"))
            .field("sha256", &self.sha256.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Compares two byte strings in time independent of where they differ (the length is not
/// secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}
