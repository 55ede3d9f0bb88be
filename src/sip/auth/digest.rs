//! Challenges, credentials and the response computation (RFC 7616 §3.4.1, RFC 2069).

use std::fmt;

use super::params::{quote, DigestParams};
use super::{constant_time_eq, Algorithm, AuthError, Ha1};

/// One `WWW-Authenticate` (or `Proxy-Authenticate`) Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The qop options offered (`auth`, `auth-int`); empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    pub stale: bool,
}

impl Challenge {
    /// Parses a challenge header value. An absent `algorithm` means MD5; one this crate
    /// cannot compute (`SHA-512-256`, say) is an error.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let p = DigestParams::parse(value)?;
        Ok(Challenge {
            realm: p.require("realm")?.to_string(),
            nonce: p.require("nonce")?.to_string(),
            opaque: p.get("opaque").map(str::to_string),
            algorithm: p
                .get("algorithm")
                .map_or(Ok(Algorithm::Md5), Algorithm::parse)?,
            qop: p
                .get("qop")
                .map(|q| {
                    q.split(',')
                        .map(|o| o.trim().to_ascii_lowercase())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            stale: p
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

/// Renders the header value: `Digest realm="…", nonce="…", opaque="…", algorithm=…,
/// qop="…"[, stale=true]`.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest realm={}, nonce={}",
            quote(&self.realm),
            quote(&self.nonce)
        )?;
        if let Some(o) = &self.opaque {
            write!(f, ", opaque={}", quote(o))?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if !self.qop.is_empty() {
            write!(f, ", qop={}", quote(&self.qop.join(",")))?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        Ok(())
    }
}

/// The challenges a server sends in one 401: SHA-256 first, then MD5 (RFC 8760 §2.4), both
/// with `qop="auth"` and the same nonce. Render each with `to_string()` as its own
/// `WWW-Authenticate` header line, in this order.
pub fn challenges(realm: &str, nonce: &str, opaque: &str, stale: bool) -> [Challenge; 2] {
    [Algorithm::Sha256, Algorithm::Md5]
        .map(|algorithm| challenge(algorithm, realm, nonce, opaque, stale))
}

/// The challenges for a configured list of algorithms, in that order (one header each).
pub fn challenges_for(
    algorithms: &[Algorithm],
    realm: &str,
    nonce: &str,
    opaque: &str,
    stale: bool,
) -> Vec<Challenge> {
    algorithms
        .iter()
        .map(|a| challenge(*a, realm, nonce, opaque, stale))
        .collect()
}

fn challenge(
    algorithm: Algorithm,
    realm: &str,
    nonce: &str,
    opaque: &str,
    stale: bool,
) -> Challenge {
    Challenge {
        realm: realm.to_string(),
        nonce: nonce.to_string(),
        opaque: Some(opaque.to_string()),
        algorithm,
        qop: vec!["auth".to_string()],
        stale,
    }
}

/// Of several challenge header values (all `WWW-Authenticate` lines of a 401), the one to
/// answer: the first SHA-256 family challenge, else the first MD5 family one. Values this
/// crate cannot answer (other schemes, unknown algorithms, only `auth-int`) are skipped.
pub fn pick_challenge<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let usable: Vec<(&str, Challenge)> = values
        .into_iter()
        .filter_map(|v| Challenge::parse(v).ok().map(|c| (v, c)))
        .filter(|(_, c)| c.qop.is_empty() || c.qop.iter().any(|q| q == "auth"))
        .collect();
    usable
        .iter()
        .find(|(_, c)| c.algorithm.is_sha256())
        .or_else(|| usable.first())
        .map(|(v, _)| *v)
}

/// The Digest credentials of an `Authorization` (or `Proxy-Authorization`) header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    /// The `uri` parameter, as sent (the digest covers this text, not the Request-URI).
    pub uri: String,
    /// The response hash, as sent.
    pub response: String,
    /// `MD5` when the parameter is absent.
    pub algorithm: Algorithm,
    pub cnonce: Option<String>,
    /// The nonce count as sent (eight hex digits); see [`Credentials::nc_value`].
    pub nc: Option<String>,
    /// `auth` or absent (RFC 2069 form).
    pub qop: Option<String>,
    pub opaque: Option<String>,
}

impl Credentials {
    /// Parses an Authorization value: quoted or unquoted values, any order, white space around
    /// separators, unknown parameters ignored. A scheme other than Digest, a missing mandatory
    /// parameter, a qop without `cnonce`/`nc` or a malformed `nc` is an error. An unknown
    /// algorithm or a qop other than `auth` is an error too ([`AuthError::UnsupportedAlgorithm`],
    /// [`AuthError::UnsupportedQop`]).
    pub fn parse(value: &str) -> Result<Credentials, AuthError> {
        let p = DigestParams::parse(value)?;
        let owned = |n: &str| p.get(n).map(str::to_string);
        let creds = Credentials {
            username: p.require("username")?.to_string(),
            realm: p.require("realm")?.to_string(),
            nonce: p.require("nonce")?.to_string(),
            uri: p.require("uri")?.to_string(),
            response: p.require("response")?.to_string(),
            algorithm: p
                .get("algorithm")
                .map_or(Ok(Algorithm::Md5), Algorithm::parse)?,
            cnonce: owned("cnonce"),
            nc: owned("nc"),
            qop: owned("qop"),
            opaque: owned("opaque"),
        };
        if let Some(q) = &creds.qop {
            if !q.eq_ignore_ascii_case("auth") {
                return Err(AuthError::UnsupportedQop(q.clone()));
            }
            if creds.cnonce.is_none() {
                return Err(AuthError::Missing("cnonce"));
            }
            if creds.nc_value().is_none() {
                return Err(AuthError::Missing("nc"));
            }
        }
        if creds.algorithm.is_sess() && creds.cnonce.is_none() {
            return Err(AuthError::Missing("cnonce"));
        }
        Ok(creds)
    }

    /// The nonce count, when `nc` is present and is eight hex digits.
    pub fn nc_value(&self) -> Option<u32> {
        let nc = self.nc.as_deref()?;
        if nc.len() != 8 {
            return None;
        }
        u32::from_str_radix(nc, 16).ok()
    }
}

/// The expected `response` for the given HA1 (hex) and request parts.
fn expected_response(
    alg: Algorithm,
    ha1: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop: Option<(&str, &str)>,
    cnonce: Option<&str>,
) -> Option<String> {
    let sess_ha1;
    let ha1 = if alg.is_sess() {
        sess_ha1 = alg.hash_hex(&[ha1, nonce, cnonce?]);
        &sess_ha1
    } else {
        ha1
    };
    let ha2 = alg.hash_hex(&[method, uri]);
    Some(match qop {
        Some((nc, qop)) => alg.hash_hex(&[ha1, nonce, nc, cnonce?, qop, &ha2]),
        None => alg.hash_hex(&[ha1, nonce, &ha2]),
    })
}

/// Checks the `response` of `creds` for a request with `method` against the stored `ha1`:
/// `qop=auth` or the RFC 2069 form. Nonce freshness, replay and realm are the caller's job
/// (see [`super::Nonces`]). The comparison takes the same time wherever the hashes differ.
pub fn verify(creds: &Credentials, method: &str, ha1: &Ha1) -> bool {
    let Some(stored) = ha1.for_algorithm(creds.algorithm) else {
        return false;
    };
    let qop = match (&creds.qop, &creds.nc) {
        (Some(q), Some(nc)) if q.eq_ignore_ascii_case("auth") => Some((nc.as_str(), q.as_str())),
        (Some(_), _) => return false,
        (None, _) => None,
    };
    let Some(expected) = expected_response(
        creds.algorithm,
        stored,
        &creds.nonce,
        method,
        &creds.uri,
        qop,
        creds.cnonce.as_deref(),
    ) else {
        return false;
    };
    let given = creds.response.to_ascii_lowercase();
    constant_time_eq(expected.as_bytes(), given.as_bytes())
}

/// Answers a challenge (one `WWW-Authenticate`/`Proxy-Authenticate` value; see
/// [`pick_challenge`]) with an `Authorization`/`Proxy-Authorization` value for a request with
/// `method` and Request-URI `uri`. Uses `qop=auth` with `cnonce` and nonce count `nc` when the
/// challenge offers it, the RFC 2069 form when it offers no qop; a challenge offering only
/// `auth-int` is an error. The caller keeps `nc` increasing while it reuses a nonce.
pub fn respond(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    let ch = Challenge::parse(challenge)?;
    let use_qop = if ch.qop.is_empty() {
        false
    } else if ch.qop.iter().any(|q| q == "auth") {
        true
    } else {
        return Err(AuthError::UnsupportedQop(ch.qop.join(",")));
    };
    let alg = ch.algorithm;
    let ha1 = alg.hash_hex(&[username, &ch.realm, password]);
    let nc_text = format!("{nc:08x}");
    let needs_cnonce = use_qop || alg.is_sess();
    let response = expected_response(
        alg,
        &ha1,
        &ch.nonce,
        method,
        uri,
        use_qop.then_some((nc_text.as_str(), "auth")),
        needs_cnonce.then_some(cnonce),
    )
    .ok_or(AuthError::Missing("cnonce"))?;
    let mut out = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, response={}, algorithm={}",
        quote(username),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri),
        quote(&response),
        alg
    );
    if needs_cnonce {
        out.push_str(&format!(", cnonce={}", quote(cnonce)));
    }
    if use_qop {
        out.push_str(&format!(", qop=auth, nc={nc_text}"));
    }
    if let Some(o) = &ch.opaque {
        out.push_str(&format!(", opaque={}", quote(o)));
    }
    Ok(out)
}
