//! Attachment routes: the list of an order's photos and the bytes of one. Whoever may see the
//! order may see its attachments; anyone else is answered 404, as if they did not exist.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::User;
use super::error::ApiError;
use super::orders::visible_order;
use super::AppState;
use crate::cases::store::Attachment;

pub async fn list(
    State(st): State<AppState>,
    user: User,
    Path(k): Path<String>,
) -> Result<Json<Vec<Attachment>>, ApiError> {
    let order = visible_order(&st, &user, &k).await?;
    Ok(Json(st.store.order_attachments(order.id).await?))
}

pub async fn get(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("attachment {id}"));
    let n: i64 = id.parse().map_err(|_| not_found())?;
    let a = st.store.attachment(n).await?.ok_or_else(not_found)?;
    // The order's visibility decides; a hidden order's attachment does not exist.
    visible_order(&st, &user, &a.work_order_id.to_string())
        .await
        .map_err(|_| not_found())?;
    let path = st.config.server.data_dir.join(&a.path);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(error = %e, path = %path.display(), "attachment file missing");
        not_found()
    })?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
