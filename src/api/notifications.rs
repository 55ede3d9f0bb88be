//! `GET /api/v1/notifications`: the notification outbox as supervisors and admins see it —
//! what went out, what waits for a retry, what was given up and why — newest first, by status
//! and by order.

use axum::extract::State;
use axum::Json;

use super::auth::User;
use super::error::ApiError;
use super::extract::QueryParams;
use super::AppState;
use crate::cases::model::Page;
use crate::cases::store::{Notification, NotificationQuery};
use crate::config::Role;

const READERS: &[Role] = &[Role::Supervisor, Role::Admin];

/// One page of notifications, each with its `status` (pending, delivered, failed).
pub async fn list(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<NotificationQuery>,
) -> Result<Json<Page<Listed>>, ApiError> {
    user.require(READERS)?;
    let page = st.store.list_notifications(&q).await?;
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|n| Listed {
                status: n.status(),
                n,
            })
            .collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        next_offset: page.next_offset,
    }))
}

/// A notification with its status.
#[derive(serde::Serialize)]
pub struct Listed {
    #[serde(flatten)]
    n: Notification,
    status: &'static str,
}
