//! Bearer-token authentication: tokens from configuration (in clear or as SHA-256), each naming
//! a user with one role, and the session tokens of the web pages (`api::session`). Tokens are
//! compared by their hash, so no table holds clear text.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::cases::Actor;
use crate::config::{ApiUser, Role};

/// Hex SHA-256 of a token.
pub fn token_hash(token: &str) -> String {
    token_hash_bytes(token.as_bytes())
}

/// Hex SHA-256 of some bytes.
pub fn token_hash_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Users by token hash.
#[derive(Debug, Default)]
pub struct Users(HashMap<String, ApiUser>);

impl Users {
    pub fn from_config(users: &[ApiUser]) -> Self {
        let mut map = HashMap::new();
        for u in users {
            let hash = match (&u.token, &u.token_sha256) {
                (Some(t), _) => token_hash(t),
                (None, Some(h)) => h.to_ascii_lowercase(),
                (None, None) => continue,
            };
            let mut u = u.clone();
            u.token = None;
            map.insert(hash, u);
        }
        Users(map)
    }

    /// The user a bearer token belongs to.
    pub fn find(&self, token: &str) -> Option<&ApiUser> {
        self.0.get(&token_hash(token))
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct User(pub ApiUser);

impl User {
    /// 403 unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not do this (needs {})",
                self.0.role.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            name: self.0.name.clone(),
            role: self.0.role,
            department: self.0.department.clone(),
        }
    }
}

/// The bearer token of a request's `Authorization` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::unauthorized("Authorization must be \"Bearer <token>\""))
}

/// The user a token stands for: a configured API token or a live session token.
pub fn user_for_token(state: &AppState, token: &str) -> Result<User, ApiError> {
    if let Some(u) = state.users.find(token) {
        return Ok(User(u.clone()));
    }
    state
        .sessions
        .find(token, chrono::Utc::now())
        .map(User)
        .ok_or_else(|| ApiError::unauthorized("unknown or expired token"))
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?;
        user_for_token(state, &token)
    }
}
