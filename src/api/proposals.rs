//! Merge-proposal routes (合并建议): list by status, merge (through the order's `merge`
//! transition) or dismiss. For the people who merge orders: agents, supervisors, admins.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::cases::now;
use crate::cases::store::MergeProposal;
use crate::cases::WorkOrder;
use crate::config::Role;

const DECIDERS: &[Role] = &[Role::Agent, Role::Supervisor, Role::Admin];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub note: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Merged {
    pub proposal: MergeProposal,
    pub order: WorkOrder,
}

fn id_of(s: &str) -> Result<i64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("merge proposal {s:?}")))
}

fn decision(body: &RawJson) -> Result<Decision, ApiError> {
    let d: Decision = if body.is_empty() {
        Decision::default()
    } else {
        body.parse()?
    };
    if d.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::bad_field("note", "longer than 2000 characters"));
    }
    Ok(d)
}

pub async fn list(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<ProposalQuery>,
) -> Result<Json<Vec<MergeProposal>>, ApiError> {
    user.require(DECIDERS)?;
    Ok(Json(st.store.merge_proposals(q.status.as_deref()).await?))
}

pub async fn merge(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<Merged>, ApiError> {
    user.require(DECIDERS)?;
    let id = id_of(&id)?;
    let d = decision(&body)?;
    let (proposal, order) = st
        .store
        .accept_merge_proposal(id, d.note, &user.actor(), now())
        .await?;
    Ok(Json(Merged { proposal, order }))
}

pub async fn dismiss(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<MergeProposal>, ApiError> {
    user.require(DECIDERS)?;
    let id = id_of(&id)?;
    let d = decision(&body)?;
    Ok(Json(
        st.store
            .dismiss_merge_proposal(id, d.note, &user.actor(), now())
            .await?,
    ))
}
