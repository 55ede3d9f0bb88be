//! `/api/v1/sip/…`: what the SIP endpoint is doing — counters, trunk health, registered
//! softphones, calls in progress — and placing or ending a call through a trunk (admin).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::User;
use super::error::ApiError;
use super::extract::RawJson;
use super::AppState;
use crate::config::Role;
use crate::sip::endpoint::EndpointError;
use crate::sip::server::{Registration, SipHandle};
use crate::sip::trunk::Health;

const WATCHERS: &[Role] = &[Role::Supervisor, Role::Admin];

fn handle(st: &AppState) -> Result<&SipHandle, ApiError> {
    st.sip.as_ref().ok_or_else(unavailable)
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the SIP endpoint is not running",
    )
}

#[derive(Serialize)]
pub struct TrunkView {
    name: String,
    /// "unknown" (not pinged), "up" or "down".
    health: &'static str,
    /// For trunks that register to their carrier: whether the registration is current.
    registered: Option<bool>,
}

#[derive(Serialize)]
pub struct StatusView {
    sip_addr: String,
    calls: usize,
    dialogs: usize,
    transactions: usize,
    registered_contacts: usize,
    calls_offered: u64,
    calls_refused: u64,
    messages_received: u64,
    messages_sent: u64,
    malformed_messages: u64,
    overload_503: u64,
    tcp_connections: usize,
    trunks: Vec<TrunkView>,
}

pub async fn status(State(st): State<AppState>, user: User) -> Result<Json<StatusView>, ApiError> {
    user.require(WATCHERS)?;
    let sip = handle(&st)?;
    let s = sip.stats().await.map_err(|_| unavailable())?;
    let mut trunks = Vec::new();
    for t in &st.config.trunks {
        let (health, registered) = sip.trunk_state(&t.name).await.map_err(|_| unavailable())?;
        trunks.push(TrunkView {
            name: t.name.clone(),
            health: match health {
                Health::Unknown => "unknown",
                Health::Up => "up",
                Health::Down { .. } => "down",
            },
            registered,
        });
    }
    Ok(Json(StatusView {
        sip_addr: sip.local_addr().to_string(),
        calls: s.endpoint.calls,
        dialogs: s.endpoint.dialogs,
        transactions: s.endpoint.transactions,
        registered_contacts: s.endpoint.contacts,
        calls_offered: s.endpoint.calls_offered,
        calls_refused: s.endpoint.calls_refused,
        messages_received: s.received,
        messages_sent: s.sent,
        malformed_messages: s.malformed,
        overload_503: s.overload_503,
        tcp_connections: s.tcp_connections,
        trunks,
    }))
}

pub async fn registrations(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Vec<Registration>>, ApiError> {
    user.require(&[Role::Agent, Role::Supervisor, Role::Admin])?;
    let mut list = handle(&st)?
        .registrations()
        .await
        .map_err(|_| unavailable())?;
    if user.0.role == Role::Agent {
        // An agent sees only their own softphone.
        let me = user.0.agent.clone().unwrap_or_default();
        list.retain(|r| r.user == me);
    }
    Ok(Json(list))
}

#[derive(Serialize)]
pub struct CallView {
    call_id: String,
    number: String,
    direction: &'static str,
    answered: bool,
    age_secs: u64,
}

pub async fn calls(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Vec<CallView>>, ApiError> {
    user.require(WATCHERS)?;
    let mut list: Vec<CallView> = handle(&st)?
        .calls()
        .await
        .map_err(|_| unavailable())?
        .into_iter()
        .map(|c| CallView {
            call_id: c.call_id,
            number: c.number,
            direction: if c.outbound { "outbound" } else { "inbound" },
            answered: c.answered,
            age_secs: c.age_secs,
        })
        .collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.age_secs));
    Ok(Json(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    trunk: String,
    number: String,
}

fn endpoint_error(e: EndpointError) -> ApiError {
    match e {
        EndpointError::NoSuchTrunk(_) => ApiError::bad_field("trunk", e.to_string()),
        EndpointError::NoProxy(_) => ApiError::bad_field("trunk", e.to_string()),
        EndpointError::BadNumber(_) => ApiError::bad_field("number", e.to_string()),
        EndpointError::Overloaded => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", e.to_string())
        }
        EndpointError::NoSuchCall(_) => ApiError::not_found(e),
        EndpointError::NotRegistered(_) => ApiError::bad_field("user", e.to_string()),
        EndpointError::BadIdentity(_) => ApiError::bad_field("from", e.to_string()),
    }
}

/// Places a call through a trunk (the callback of later issues uses the same path).
pub async fn place_call(
    State(st): State<AppState>,
    user: User,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    user.require(&[Role::Admin])?;
    let new: NewCall = body.parse()?;
    let call_id = handle(&st)?
        .place_call(&new.trunk, &new.number)
        .await
        .map_err(|_| unavailable())?
        .map_err(endpoint_error)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "call_id": call_id })),
    ))
}

pub async fn hangup(
    State(st): State<AppState>,
    user: User,
    Path(call_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    user.require(WATCHERS)?;
    handle(&st)?
        .hangup(&call_id)
        .await
        .map_err(|_| unavailable())?
        .map_err(endpoint_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/sip/calls/{call_id}`: a call in progress with its media — RTP counters, loss
/// and jitter both ways (RTCP), digits pressed, the recording's path.
pub async fn call_media(
    State(st): State<AppState>,
    user: User,
    Path(call_id): Path<String>,
) -> Result<Json<crate::call::CallMediaView>, ApiError> {
    user.require(WATCHERS)?;
    let calls = st.calls.as_ref().ok_or_else(unavailable)?;
    calls
        .view(&call_id)
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("call {call_id:?}")))
}
