//! Read-only routes for reference data: categories, grid cells, departments, agents and queues
//! (from configuration).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::User;
use super::error::ApiError;
use super::extract::QueryParams;
use super::AppState;
use crate::cases::model::{Category, Department, GridCell};
use crate::config::{Queue, Role};

const STAFF: &[Role] = &[Role::Agent, Role::Supervisor, Role::Admin];
const ANYONE: &[Role] = &[
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Department,
    Role::Channel,
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindQuery {
    kind: Option<String>,
}

pub async fn categories(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<KindQuery>,
) -> Result<Json<Vec<Category>>, ApiError> {
    user.require(ANYONE)?;
    if let Some(k) = &q.kind {
        if !["event", "component", "service"].contains(&k.as_str()) {
            return Err(ApiError::bad_field(
                "kind",
                format!("{k:?} must be event, component or service"),
            ));
        }
    }
    Ok(Json(st.store.categories(q.kind.as_deref()).await?))
}

pub async fn grid_cells(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Vec<GridCell>>, ApiError> {
    user.require(ANYONE)?;
    Ok(Json(st.store.grid_cells().await?))
}

pub async fn departments(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Vec<Department>>, ApiError> {
    user.require(ANYONE)?;
    Ok(Json(st.store.departments().await?))
}

/// An agent as the API shows it (never the password).
#[derive(Serialize)]
pub struct AgentView {
    id: String,
    name: String,
    queues: Vec<String>,
    ready_on_register: bool,
}

pub async fn agents(
    State(st): State<AppState>,
    user: User,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    user.require(STAFF)?;
    Ok(Json(
        st.config
            .agents
            .iter()
            .map(|a| AgentView {
                id: a.id.clone(),
                name: a.name.clone(),
                queues: a.queues.clone(),
                ready_on_register: a.ready_on_register,
            })
            .collect(),
    ))
}

pub async fn queues(State(st): State<AppState>, user: User) -> Result<Json<Vec<Queue>>, ApiError> {
    user.require(STAFF)?;
    Ok(Json(st.config.queues.clone()))
}
