//! Work-order routes: create, list/search, get, transitions, audit trail. Who may see what:
//! agents, supervisors and admins see every order; a department sees the orders dispatched to
//! it; a channel user sees the orders of its channel. Who may do something is checked before
//! the request body is read.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::cases::model::{CaseEvent, NewWorkOrder, OrderQuery, Page, WorkOrder};
use crate::cases::store::OrderKey;
use crate::cases::{now, Command};
use crate::config::Role;

const READERS: &[Role] = &[
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Department,
    Role::Channel,
    Role::Inspector,
    Role::Leader,
];

fn key(s: &str) -> Result<OrderKey, ApiError> {
    OrderKey::parse(s).ok_or_else(|| ApiError::not_found(format!("work order {s:?}")))
}

/// Whether `user` may see `order`. An order outside one's view is answered 404, as if it did
/// not exist, so ids and numbers cannot be probed.
fn is_visible(user: &User, order: &WorkOrder) -> bool {
    let u = &user.0;
    match u.role {
        Role::Department => order.department_id.is_some() && order.department_id == u.department,
        Role::Channel => Some(&order.channel) == u.channel.as_ref(),
        Role::Inspector => {
            order.reporter_id.as_deref() == Some(&u.name)
                || order.assignee.as_deref() == Some(&u.name)
        }
        Role::Agent | Role::Supervisor | Role::Admin | Role::Leader => true,
    }
}

pub async fn create(
    State(st): State<AppState>,
    user: User,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    user.require(&[Role::Agent, Role::Supervisor, Role::Admin, Role::Channel])?;
    let new: NewWorkOrder = body.parse()?;
    let order = st
        .store
        .create_order(new, &user.actor(), user.0.channel.as_deref(), now())
        .await?;
    let location = format!("/api/v1/work-orders/{}", order.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(order),
    ))
}

pub async fn list(
    State(st): State<AppState>,
    user: User,
    QueryParams(mut q): QueryParams<OrderQuery>,
) -> Result<Json<Page<WorkOrder>>, ApiError> {
    user.require(READERS)?;
    match user.0.role {
        Role::Department => q.department_id = user.0.department.clone(),
        Role::Channel => q.channel = user.0.channel.clone(),
        Role::Inspector => q.inspector = Some(user.0.name.clone()),
        _ => {}
    }
    Ok(Json(st.store.list_orders(&q, now()).await?))
}

pub(super) async fn visible_order(
    st: &AppState,
    user: &User,
    k: &str,
) -> Result<WorkOrder, ApiError> {
    user.require(READERS)?;
    let order = st
        .store
        .get_order(&key(k)?)
        .await?
        .filter(|o| is_visible(user, o))
        .ok_or_else(|| ApiError::not_found(format!("work order {k}")))?;
    Ok(order)
}

pub async fn get(
    State(st): State<AppState>,
    user: User,
    Path(k): Path<String>,
) -> Result<Json<WorkOrder>, ApiError> {
    Ok(Json(visible_order(&st, &user, &k).await?))
}

pub async fn events(
    State(st): State<AppState>,
    user: User,
    Path(k): Path<String>,
) -> Result<Json<Vec<CaseEvent>>, ApiError> {
    let order = visible_order(&st, &user, &k).await?;
    Ok(Json(st.store.order_events(order.id).await?))
}

pub async fn transition(
    State(st): State<AppState>,
    user: User,
    Path(k): Path<String>,
    body: RawJson,
) -> Result<Json<WorkOrder>, ApiError> {
    let order = visible_order(&st, &user, &k).await?;
    // Channels read orders but give no action: refused before the body is parsed.
    user.require(&[Role::Agent, Role::Supervisor, Role::Admin, Role::Department])?;
    let cmd: Command = body.parse()?;
    let updated = st
        .store
        .transition(&OrderKey::Id(order.id), &cmd, &user.actor(), now())
        .await?;
    Ok(Json(updated))
}
