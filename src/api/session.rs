//! Session login for the web pages: `POST /api/v1/session` trades an agent's softphone
//! credentials (checked against the stored digest HA1) or an API token for a random session
//! token that is accepted wherever a bearer token is; `DELETE /api/v1/session` ends it.
//! Sessions live in memory for a fixed time ([`Sessions`], a plain table that is told the time,
//! so expiry is tested without waiting). Every successful login is audited as `login`, every
//! failed one as `login-failed`; repeated failures lock the agent and address (`api::throttle`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::auth::{bearer_token, token_hash};
use super::error::ApiError;
use super::extract::RawJson;
use super::throttle::Failure;
use super::AppState;
use crate::cases::store::AuditEntry;
use crate::config::{ApiUser, Role};
use crate::sip::auth::Ha1;

/// How long a session lasts unless ended.
pub const SESSION_TTL: Duration = Duration::hours(12);

/// One logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: ApiUser,
    pub expires_at: DateTime<Utc>,
}

/// Live sessions by the SHA-256 of their token (the clear token is only ever in the client).
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    map: Mutex<HashMap<String, Session>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::with_ttl(SESSION_TTL)
    }
}

impl Sessions {
    pub fn with_ttl(ttl: Duration) -> Self {
        Sessions {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `user` at `now`: the new clear token and the session. Expired
    /// sessions are dropped on the way, so the table does not grow without bound.
    pub fn open(&self, user: ApiUser, now: DateTime<Utc>) -> (String, Session) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let session = Session {
            user,
            expires_at: now + self.ttl,
        };
        let mut map = self.lock();
        map.retain(|_, s| s.expires_at > now);
        map.insert(token_hash(&token), session.clone());
        (token, session)
    }

    /// The user of a live session with this token at `now`.
    pub fn find(&self, token: &str, now: DateTime<Utc>) -> Option<ApiUser> {
        let hash = token_hash(token);
        let mut map = self.lock();
        match map.get(&hash) {
            Some(s) if s.expires_at > now => Some(s.user.clone()),
            Some(_) => {
                map.remove(&hash);
                None
            }
            None => None,
        }
    }

    /// Whether the session whose token hashes to `hash` is live at `now` (for an open event
    /// stream, which keeps the hash rather than the token).
    pub fn is_live_hash(&self, hash: &str, now: DateTime<Utc>) -> bool {
        self.lock().get(hash).is_some_and(|s| s.expires_at > now)
    }

    /// Ends the session with this token; whether there was one.
    pub fn close(&self, token: &str) -> bool {
        self.lock().remove(&token_hash(token)).is_some()
    }

    /// Live sessions at `now`.
    pub fn count(&self, now: DateTime<Utc>) -> usize {
        self.lock().values().filter(|s| s.expires_at > now).count()
    }
}

/// Whether `password` is the one `agent` has in `realm`, given its stored HA1s. The password's
/// hash is compared in constant time; with no stored hash (`None`, unknown agent) the same
/// hashing is done against a dummy so that the answer takes as long.
pub fn password_matches(agent: &str, realm: &str, password: &str, stored: Option<&Ha1>) -> bool {
    let given = Ha1::from_password(agent, realm, password);
    let (expected, given, known) = match stored {
        Some(Ha1 {
            sha256: Some(s), ..
        }) => (s.as_str(), given.sha256.unwrap_or_default(), true),
        Some(Ha1 { md5: Some(m), .. }) => (m.as_str(), given.md5.unwrap_or_default(), true),
        _ => ("", given.sha256.unwrap_or_default(), false),
    };
    let same: bool = expected.as_bytes().ct_eq(given.as_bytes()).into();
    same && known
}

/// The body of `POST /api/v1/session`: an agent's credentials or an API token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    agent: Option<String>,
    password: Option<String>,
    token: Option<String>,
}

fn wrong() -> ApiError {
    ApiError::unauthorized("wrong agent or password")
}

/// The body's credentials, not yet checked.
enum Credentials {
    Agent { agent: String, password: String },
    Token(String),
}

impl Credentials {
    fn from_body(b: LoginBody) -> Result<Self, ApiError> {
        match (b.agent, b.password, b.token) {
            (Some(agent), Some(password), None) => Ok(Credentials::Agent { agent, password }),
            (None, None, Some(token)) => Ok(Credentials::Token(token)),
            (Some(_), None, _) => Err(ApiError::bad_field("password", "give the password")),
            (None, Some(_), _) => Err(ApiError::bad_field("agent", "give the agent id")),
            (Some(_), Some(_), Some(_)) => Err(ApiError::bad_field(
                "token",
                "give either agent and password or token, not both",
            )),
            (None, None, None) => Err(ApiError::bad_field(
                "agent",
                "give agent and password, or token",
            )),
        }
    }
}

/// The user the credentials stand for; `Ok(Err(why))` when they are wrong (`why` is for the
/// audit log, never for the client).
async fn check(st: &AppState, c: &Credentials) -> Result<Result<ApiUser, &'static str>, ApiError> {
    match c {
        Credentials::Agent { agent, password } => {
            // Only a seat agent's account opens the desk (a supervisor's softphone account
            // registers too, but is not an agent).
            let realm = &st.config.sip.realm;
            if !st.config.agents.iter().any(|a| &a.id == agent) {
                // The same hashing as for a known agent, so the answer takes as long.
                password_matches(agent, realm, password, None);
                return Ok(Err("unknown agent"));
            }
            let credentials = st.store.sip_credentials(realm).await?;
            if !password_matches(agent, realm, password, credentials.get(agent)) {
                return Ok(Err("wrong password"));
            }
            Ok(Ok(ApiUser {
                name: format!("agent-{agent}"),
                role: Role::Agent,
                token: None,
                token_sha256: None,
                agent: Some(agent.clone()),
                department: None,
                channel: None,
                extension: None,
                sip_password: None,
                sip_ha1_md5: None,
                sip_ha1_sha256: None,
            }))
        }
        Credentials::Token(token) => match st.users.find(token) {
            Some(u) => {
                let mut u = u.clone();
                u.token = None;
                Ok(Ok(u))
            }
            None => Ok(Err("unknown API token")),
        },
    }
}

/// 429 with `Retry-After` (whole seconds, rounded up).
fn too_many(wait: Duration) -> Response {
    let secs = (wait.num_milliseconds().max(0) + 999) / 1000;
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!("too many failed logins; try again in {secs} s"),
    );
    (
        [(axum::http::header::RETRY_AFTER, secs.max(1).to_string())],
        error,
    )
        .into_response()
}

/// Logs in. Failed logins are counted per agent and per client address (when the server knows
/// it, see `main.rs`); a locked agent or address gets 429 with `Retry-After` before its
/// credentials are looked at. Each failure is audited as `login-failed` (never with the
/// password).
pub async fn login(
    State(st): State<AppState>,
    extensions: Extensions,
    body: RawJson,
) -> Result<Response, ApiError> {
    let b: LoginBody = body.parse()?;
    let credentials = Credentials::from_body(b)?;
    let now = Utc::now();
    let address = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let agent_key = match &credentials {
        Credentials::Agent { agent, .. } => Some(format!("agent:{agent}")),
        Credentials::Token(_) => None,
    };
    let address_key = address.map(|a| format!("address:{a}"));
    let keys = || {
        agent_key
            .iter()
            .chain(address_key.iter())
            .map(String::as_str)
    };
    if let Some(wait) = st.login_throttle.locked_any(keys(), now) {
        return Ok(too_many(wait));
    }
    let user = match check(&st, &credentials).await? {
        Ok(user) => user,
        Err(why) => {
            let mut detail = why.to_string();
            if let Some(a) = address {
                detail.push_str(&format!(" from {a}"));
            }
            for key in keys() {
                if let Failure::Locked(length) = st.login_throttle.fail(key, now) {
                    detail.push_str(&format!("; {key} locked for {} s", length.num_seconds()));
                }
            }
            let (actor, target) = match &credentials {
                Credentials::Agent { agent, .. } => {
                    let known = st.config.agents.iter().any(|a| &a.id == agent);
                    (
                        if known {
                            agent.clone()
                        } else {
                            "unknown".into()
                        },
                        format!("agent:{agent}"),
                    )
                }
                Credentials::Token(_) => ("unknown".into(), "token".into()),
            };
            st.store
                .audit(&AuditEntry {
                    id: 0,
                    at: now,
                    actor,
                    role: "agent".into(),
                    action: "login-failed".into(),
                    target,
                    detail: Some(detail),
                })
                .await?;
            return Err(match credentials {
                Credentials::Agent { .. } => wrong(),
                Credentials::Token(_) => ApiError::unauthorized("unknown token"),
            });
        }
    };
    if let Some(key) = &agent_key {
        st.login_throttle.succeed(key);
    }
    let (token, session) = st.sessions.open(user.clone(), now);
    st.store
        .audit(&AuditEntry {
            id: 0,
            at: now,
            actor: user.name.clone(),
            role: user.role.as_str().to_string(),
            action: "login".into(),
            target: match &user.agent {
                Some(a) => format!("agent:{a}"),
                None => format!("user:{}", user.name),
            },
            detail: Some("web session".into()),
        })
        .await?;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({
            "token": token,
            "expires_at": session.expires_at,
            "user": {"name": user.name, "role": user.role.as_str(), "agent": user.agent},
        })),
    )
        .into_response())
}

/// Ends the session whose token is the bearer token: 204, or 401 when it is not a live session.
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = bearer_token(&headers)?;
    if st.sessions.close(&token) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::unauthorized("not a live session token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> ApiUser {
        ApiUser {
            name: "agent-1001".into(),
            role: Role::Agent,
            token: None,
            token_sha256: None,
            agent: Some("1001".into()),
            department: None,
            channel: None,
            extension: None,
            sip_password: None,
            sip_ha1_md5: None,
            sip_ha1_sha256: None,
        }
    }

    #[test]
    fn a_session_lasts_its_ttl_then_is_gone() {
        let s = Sessions::with_ttl(Duration::minutes(10));
        let t0 = Utc::now();
        let (token, session) = s.open(user(), t0);
        assert_eq!(token.len(), 64);
        assert_eq!(session.expires_at, t0 + Duration::minutes(10));
        assert_eq!(
            s.find(&token, t0 + Duration::minutes(9)).unwrap().name,
            "agent-1001"
        );
        assert!(s.find("other", t0).is_none());
        assert!(s.find(&token, t0 + Duration::minutes(10)).is_none());
        // Expired ones are removed, not only hidden.
        assert_eq!(s.count(t0), 0);
    }

    #[test]
    fn closing_ends_only_that_session() {
        let s = Sessions::default();
        let t0 = Utc::now();
        let (a, _) = s.open(user(), t0);
        let (b, _) = s.open(user(), t0);
        assert_ne!(a, b);
        assert!(s.close(&a));
        assert!(!s.close(&a));
        assert!(s.find(&a, t0).is_none());
        assert!(s.find(&b, t0).is_some());
    }

    #[test]
    fn opening_drops_expired_sessions() {
        let s = Sessions::with_ttl(Duration::seconds(1));
        let t0 = Utc::now();
        s.open(user(), t0);
        s.open(user(), t0 + Duration::seconds(5));
        assert_eq!(s.count(t0), 1);
    }

    #[test]
    fn passwords_are_checked_against_either_hash() {
        let both = Ha1::from_password("1001", "hotline", "demo-1001");
        assert!(password_matches(
            "1001",
            "hotline",
            "demo-1001",
            Some(&both)
        ));
        assert!(!password_matches(
            "1001",
            "hotline",
            "demo-1002",
            Some(&both)
        ));
        assert!(!password_matches(
            "1002",
            "hotline",
            "demo-1001",
            Some(&both)
        ));
        let md5_only = Ha1 {
            md5: both.md5.clone(),
            sha256: None,
        };
        assert!(password_matches(
            "1001",
            "hotline",
            "demo-1001",
            Some(&md5_only)
        ));
        assert!(!password_matches("1001", "hotline", "x", Some(&md5_only)));
        let none = Ha1 {
            md5: None,
            sha256: None,
        };
        assert!(!password_matches("1001", "hotline", "", Some(&none)));
        assert!(!password_matches("1001", "hotline", "demo-1001", None));
    }
}
