//! The agent desk and the supervisors' live view over HTTP: log in/out, states with reasons,
//! end wrap-up, transfer, take a callback task (`/api/v1/agents/{id}/…`), the live picture of
//! queues and agents (`/api/v1/live`), and the event stream as a WebSocket (`/api/v1/events`).
//! An agent's token acts for its own agent only; supervisors and admins for any. Who asks and
//! what they send are checked before the call layer is asked (without it: 503). An event stream
//! opened with a session token closes (code 4401) once the session is ended or expired.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::acd::Requested;
use crate::call::{CallsHandle, DeskCommand, DeskError};
use crate::config::Role;

pub(super) fn calls(st: &AppState) -> Result<&CallsHandle, ApiError> {
    st.calls.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the call layer is not running",
        )
    })
}

pub(super) fn desk_error(e: DeskError) -> ApiError {
    match e {
        DeskError::UnknownAgent(_) | DeskError::NotFound(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
        }
        DeskError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        DeskError::Invalid(_) => ApiError::bad_field("target", e.to_string()),
        DeskError::Unreachable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unreachable",
            e.to_string(),
        ),
        DeskError::Unavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        ),
    }
}

/// 403 unless the user may act for `agent`.
fn may_act_for(user: &User, agent: &str) -> Result<(), ApiError> {
    match user.0.role {
        Role::Supervisor | Role::Admin => Ok(()),
        Role::Agent if user.0.agent.as_deref() == Some(agent) => Ok(()),
        Role::Agent => Err(ApiError::forbidden(format!(
            "this token acts for agent {}, not {agent}",
            user.0.agent.as_deref().unwrap_or("(none)")
        ))),
        _ => user.require(&[Role::Agent, Role::Supervisor, Role::Admin]),
    }
}

async fn run(st: &AppState, c: DeskCommand) -> Result<Json<serde_json::Value>, ApiError> {
    calls(st)?.desk(c).await.map(Json).map_err(desk_error)
}

pub async fn login(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    run(&st, DeskCommand::Login { agent }).await
}

pub async fn logout(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    let reply = run(
        &st,
        DeskCommand::Logout {
            agent: agent.clone(),
        },
    )
    .await?;
    super::supervisor::audit_forced(&st, &user, "force-logout", &agent, None).await;
    Ok(reply)
}

pub async fn status(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    run(&st, DeskCommand::Agent { agent }).await
}

/// The body of `POST /agents/{id}/state` (schema `AgentStateChange`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    /// "ready", "not-ready" or "break".
    state: String,
    reason: Option<String>,
}

pub async fn set_state(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
    body: RawJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    let b: StateBody = body.parse()?;
    let state = match b.state.as_str() {
        "ready" => Requested::Ready,
        "not-ready" => Requested::NotReady(
            b.reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "busy".into()),
        ),
        "break" => Requested::Break,
        other => {
            return Err(ApiError::bad_field(
                "state",
                format!("{other:?} is not one of ready, not-ready, break"),
            ))
        }
    };
    let detail = match &state {
        Requested::NotReady(reason) => format!("not-ready ({reason})"),
        Requested::Ready => "ready".into(),
        Requested::Break => "break".into(),
    };
    let reply = run(
        &st,
        DeskCommand::SetState {
            agent: agent.clone(),
            state,
        },
    )
    .await?;
    super::supervisor::audit_forced(&st, &user, "force-state", &agent, Some(detail)).await;
    Ok(reply)
}

pub async fn end_wrap_up(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    run(&st, DeskCommand::EndWrapUp { agent }).await
}

/// The body of `POST /agents/{id}/transfer` (schema `Transfer`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A queue name, a dialled number of a queue, or a number to dial out.
    target: String,
}

pub async fn transfer(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
    body: RawJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_act_for(&user, &agent)?;
    let b: TransferBody = body.parse()?;
    if b.target.trim().is_empty() {
        return Err(ApiError::bad_field("target", "must not be empty"));
    }
    run(
        &st,
        DeskCommand::Transfer {
            agent,
            target: b.target,
        },
    )
    .await
}

/// The optional body of `POST /callbacks/{id}/take` (schema `TakeCallback`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeBody {
    /// The agent who works the task (an agent's token: its own).
    agent: Option<String>,
}

pub async fn take_callback(
    State(st): State<AppState>,
    user: User,
    Path(task): Path<String>,
    body: RawJson,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(&[Role::Agent, Role::Supervisor, Role::Admin])?;
    let task: i64 = task
        .parse()
        .map_err(|_| ApiError::not_found(format!("callback task {task}")))?;
    let b: TakeBody = if body.is_empty() {
        TakeBody { agent: None }
    } else {
        body.parse()?
    };
    let agent = b
        .agent
        .or_else(|| user.0.agent.clone())
        .ok_or_else(|| ApiError::bad_field("agent", "name the agent who takes the task"))?;
    may_act_for(&user, &agent)?;
    run(&st, DeskCommand::TakeCallback { agent, task }).await
}

/// Queues, agents and calls now (supervisors): the shared live picture, at most
/// [`crate::call::shared::LIVE_MAX_AGE`] old.
pub async fn live(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<std::sync::Arc<crate::call::Snapshot>>, ApiError> {
    user.require(&[Role::Supervisor, Role::Admin])?;
    calls(&st)?.snapshot().await.map(Json).map_err(desk_error)
}

#[derive(Deserialize)]
pub struct EventsQuery {
    /// The bearer token, for browsers that cannot set headers on a WebSocket.
    access_token: Option<String>,
}

/// The live event stream: an agent's token sees its agent's events, supervisors all. The token
/// is checked before the handshake, so a refused one gets a JSON error, as does a request that
/// is not a WebSocket handshake (426).
pub async fn events(
    State(st): State<AppState>,
    QueryParams(q): QueryParams<EventsQuery>,
    headers: axum::http::HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let token = match (super::auth::bearer_token(&headers), q.access_token) {
        (Ok(t), _) => t,
        (Err(_), Some(t)) if !t.trim().is_empty() => t.trim().to_string(),
        (Err(_), _) => {
            return Err(ApiError::unauthorized(
                "missing Authorization: Bearer <token> (or ?access_token=)",
            ))
        }
    };
    let user = super::auth::user_for_token(&st, &token)?.0;
    let only = match user.role {
        Role::Supervisor | Role::Admin => None,
        Role::Agent => Some(user.agent.clone().unwrap_or_default()),
        _ => {
            return Err(ApiError::forbidden(
                "role may not do this (needs agent, supervisor or admin)",
            ))
        }
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            let error = ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "upgrade_required",
                format!("connect with a WebSocket handshake: {}", e.body_text()),
            );
            return Ok(([(axum::http::header::UPGRADE, "websocket")], error).into_response());
        }
    };
    let rx = calls(&st)?.subscribe();
    // A session token is checked again while the stream is open; a configured API token does
    // not expire.
    let session = match st.users.find(&token) {
        Some(_) => None,
        None => Some(SessionCheck {
            sessions: st.sessions.clone(),
            hash: super::auth::token_hash(&token),
        }),
    };
    Ok(ws
        .on_upgrade(move |socket| stream(socket, rx, only, session))
        .into_response())
}

/// How often an open event stream checks that its session is still live (it also checks before
/// each event it sends).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// The close code an event stream ends with when its session has ended or expired.
pub const SESSION_ENDED: u16 = 4401;

/// The session an event stream was opened with, by token hash.
struct SessionCheck {
    sessions: std::sync::Arc<super::session::Sessions>,
    hash: String,
}

impl SessionCheck {
    fn live(check: &Option<SessionCheck>) -> bool {
        check
            .as_ref()
            .is_none_or(|c| c.sessions.is_live_hash(&c.hash, chrono::Utc::now()))
    }
}

/// Closes the socket with [`SESSION_ENDED`].
async fn close_ended(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: SESSION_ENDED,
        reason: "session ended".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // Wait briefly for the client's close, so the frame is not lost to a reset.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

async fn stream(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<crate::call::DeskEvent>,
    only: Option<String>,
    session: Option<SessionCheck>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut recheck = tokio::time::interval_at(
        tokio::time::Instant::now() + SESSION_RECHECK,
        SESSION_RECHECK,
    );
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = recheck.tick(), if session.is_some() => {
                if !SessionCheck::live(&session) {
                    return close_ended(socket).await;
                }
            },
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    if only.as_deref().is_some_and(|a| a != ev.agent()) {
                        continue;
                    }
                    if !SessionCheck::live(&session) {
                        return close_ended(socket).await;
                    }
                    let Ok(text) = serde_json::to_string(&ev) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    if !SessionCheck::live(&session) {
                        return close_ended(socket).await;
                    }
                    let note = serde_json::json!({"type": "lagged", "missed": n}).to_string();
                    if socket.send(Message::Text(note.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}
