//! Supervisors' actions on calls in progress (班长席): listen 监听, whisper 密语 and barge 强插
//! (`POST/DELETE /api/v1/calls/{id}/monitor`, the supervisor's softphone called and mixed in by
//! the call layer, [`crate::call::monitor`]), the force hang-up 强拆
//! (`POST /api/v1/calls/{id}/hangup`), and the audit trail they write
//! (`GET /api/v1/audit`). Every action that was carried out is appended to `audit_log` with
//! the API user and role who did it; so are forced agent states and logouts (see
//! [`audit_forced`], called by the desk routes).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::User;
use super::desk::{calls, desk_error};
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::call::monitor::Mode;
use crate::call::{DeskCommand, DeskError};
use crate::cases::store::{AuditEntry, AuditQuery};
use crate::config::Role;

const SUPERVISORS: &[Role] = &[Role::Supervisor, Role::Admin];

/// The body of `POST /calls/{id}/monitor` (schema `MonitorRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorBody {
    /// "listen", "whisper" or "barge".
    pub mode: String,
    /// The softphone to call; default: the user's configured `extension`.
    pub extension: Option<String>,
}

/// The optional body of `POST /calls/{id}/hangup` (schema `HangUpRequest`).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HangUpBody {
    /// Why (kept on the call's step and in the audit trail).
    pub reason: Option<String>,
}

/// The query of `GET /audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// `call:<id>`, `agent:<id>`, …
    pub target: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// Appends an audit row for what `user` did; a failure to write is logged (the action itself
/// has happened and is not undone).
pub(super) async fn audit(
    st: &AppState,
    user: &User,
    action: &str,
    target: String,
    detail: Option<String>,
) {
    let e = AuditEntry {
        id: 0,
        at: Utc::now(),
        actor: user.0.name.clone(),
        role: user.0.role.as_str().to_string(),
        action: action.to_string(),
        target,
        detail,
    };
    if let Err(err) = st.store.audit(&e).await {
        tracing::error!(actor = %e.actor, action = %e.action, target = %e.target, error = %err, "audit row not written");
    }
}

/// An agent's state or logout done by a supervisor or admin (not by the agent itself) is
/// audited as `force-state` / `force-logout`.
pub(super) async fn audit_forced(
    st: &AppState,
    user: &User,
    action: &str,
    agent: &str,
    detail: Option<String>,
) {
    let own = user.0.role == Role::Agent && user.0.agent.as_deref() == Some(agent);
    if !own && SUPERVISORS.contains(&user.0.role) {
        audit(st, user, action, format!("agent:{agent}"), detail).await;
    }
}

fn supervisor_error(e: DeskError) -> ApiError {
    match e {
        DeskError::Invalid(m) => ApiError::bad_field("extension", m),
        other => desk_error(other),
    }
}

pub async fn monitor(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Response, ApiError> {
    user.require(SUPERVISORS)?;
    let b: MonitorBody = body.parse()?;
    let mode = Mode::parse(&b.mode).ok_or_else(|| {
        ApiError::bad_field(
            "mode",
            format!("{:?} is not one of listen, whisper, barge", b.mode),
        )
    })?;
    let extension = match b.extension {
        Some(e) if e.trim().is_empty() => {
            return Err(ApiError::bad_field("extension", "must not be empty"))
        }
        Some(e) => e,
        None => user.0.extension.clone().ok_or_else(|| {
            ApiError::bad_field(
                "extension",
                format!(
                    "user {} has no softphone extension configured; name one",
                    user.0.name
                ),
            )
        })?,
    };
    let reply = calls(&st)?
        .desk(DeskCommand::Monitor {
            call: id.clone(),
            mode,
            extension: extension.clone(),
            supervisor: user.0.name.clone(),
        })
        .await
        .map_err(supervisor_error)?;
    audit(
        &st,
        &user,
        mode.as_str(),
        format!("call:{id}"),
        Some(format!("extension {extension}")),
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(reply)).into_response())
}

pub async fn stop_monitor(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(SUPERVISORS)?;
    let reply = calls(&st)?
        .desk(DeskCommand::StopMonitor { call: id.clone() })
        .await
        .map_err(supervisor_error)?;
    let detail = reply["extension"]
        .as_str()
        .map(|e| format!("extension {e} ({})", reply["mode"].as_str().unwrap_or("")));
    audit(&st, &user, "monitor-stop", format!("call:{id}"), detail).await;
    Ok(Json(reply))
}

pub async fn hangup(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(SUPERVISORS)?;
    let b: HangUpBody = if body.is_empty() {
        HangUpBody::default()
    } else {
        body.parse()?
    };
    let reason = b.reason.filter(|r| !r.trim().is_empty());
    let reply = calls(&st)?
        .desk(DeskCommand::HangUp {
            call: id.clone(),
            by: user.0.name.clone(),
            reason: reason.clone(),
        })
        .await
        .map_err(supervisor_error)?;
    audit(&st, &user, "force-hangup", format!("call:{id}"), reason).await;
    Ok(Json(reply))
}

pub async fn audit_log(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<AuditParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(SUPERVISORS)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_field("limit", "must be 1–1000"));
    }
    if let (Some(a), Some(b)) = (q.since, q.until) {
        if b < a {
            return Err(ApiError::bad_field("until", "is before since"));
        }
    }
    let items = st
        .store
        .audit_entries(&AuditQuery {
            target: q.target,
            actor: q.actor,
            action: q.action,
            since: q.since,
            until: q.until,
            limit,
        })
        .await?;
    Ok(Json(serde_json::json!({ "items": items })))
}
