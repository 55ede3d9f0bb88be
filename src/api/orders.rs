//! Work-order routes: create, list/search, get, transitions, audit trail. Who may see what:
//! agents, supervisors and admins see every order; a department sees the orders dispatched to
//! it; a channel user sees the orders of its channel. Who may do something is checked before
//! the request body is read. A transition may carry photos: multipart with a `command` part
//! (the JSON command) and `photo` file parts, checked (size, count, type) before anything is
//! saved.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::cases::model::{CaseEvent, NewWorkOrder, OrderQuery, Page, WorkOrder};
use crate::cases::photos::{self, PhotoError};
use crate::cases::store::{OrderKey, TransitionPhotos};
use crate::cases::{now, Command};
use crate::config::{Role, UrbanConfig};

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

/// Largest plain JSON transition body (1 MiB); multipart bodies with photos may be larger.
pub const TRANSITION_JSON_LIMIT: usize = 1024 * 1024;

pub async fn transition(
    State(st): State<AppState>,
    user: User,
    Path(k): Path<String>,
    req: Request,
) -> Result<Json<WorkOrder>, ApiError> {
    let order = visible_order(&st, &user, &k).await?;
    // Channels and leaders read orders but give no action: refused before the body is read.
    user.require(&[
        Role::Agent,
        Role::Supervisor,
        Role::Admin,
        Role::Department,
        Role::Inspector,
    ])?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let key = OrderKey::Id(order.id);
    let updated = if is_multipart {
        let form = Multipart::from_request(req, &st)
            .await
            .map_err(|e| ApiError::bad_field("body", e.body_text()))?;
        let (cmd, files) = read_form(form, &st.config.urban).await?;
        let photos = TransitionPhotos {
            data_dir: &st.config.server.data_dir,
            max_bytes: st.config.urban.photo_max_bytes,
            files: &files,
        };
        st.store
            .transition_with_photos(&key, &cmd, &user.actor(), now(), Some(photos))
            .await?
    } else {
        // The route's body limit is sized for photos; a plain JSON command is small.
        let body = RawJson::from_request(req, &st).await?;
        if body.bytes().len() > TRANSITION_JSON_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "a JSON command may be at most {TRANSITION_JSON_LIMIT} bytes; send photos \
                     as multipart/form-data"
                ),
            ));
        }
        let cmd: Command = body.parse()?;
        st.store
            .transition(&key, &cmd, &user.actor(), now())
            .await?
    };
    Ok(Json(updated))
}

/// An error about the `photo` parts.
fn photo_error(status: StatusCode, error: &'static str, message: String) -> ApiError {
    ApiError {
        field: Some("photo".into()),
        ..ApiError::new(status, error, format!("photo: {message}"))
    }
}

fn too_large(message: String) -> ApiError {
    photo_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

/// Reads a multipart transition: the `command` part and the `photo` parts, each photo checked
/// against the limits of `[urban]` (413 too large or too many, 415 not an image) before any is
/// saved.
async fn read_form(
    mut form: Multipart,
    urban: &UrbanConfig,
) -> Result<(Command, Vec<Vec<u8>>), ApiError> {
    let mut command: Option<Command> = None;
    let mut files: Vec<Vec<u8>> = Vec::new();
    let part_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(format!(
                "the request is larger than this server accepts ({} photos of {} bytes)",
                urban.photo_max_count, urban.photo_max_bytes
            ))
        } else {
            ApiError::bad_field("body", e.body_text())
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(part_error)? {
        match field.name().unwrap_or_default() {
            "command" => {
                let text = field.bytes().await.map_err(part_error)?;
                let cmd = serde_json::from_slice::<Command>(&text).map_err(|e| {
                    let m = e.to_string();
                    ApiError::bad_field("command", m.split(" at line ").next().unwrap_or(&m))
                })?;
                command = Some(cmd);
            }
            "photo" => {
                if files.len() as u64 >= u64::from(urban.photo_max_count) {
                    return Err(too_large(
                        PhotoError::TooMany {
                            max: urban.photo_max_count,
                        }
                        .to_string(),
                    ));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(part_error)? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > urban.photo_max_bytes {
                        return Err(too_large(format!(
                            "photo {} is larger than the {} bytes accepted",
                            files.len() + 1,
                            urban.photo_max_bytes
                        )));
                    }
                }
                files.push(bytes);
            }
            other => {
                return Err(ApiError::bad_field(
                    other.to_string(),
                    "unknown part; send `command` and `photo` parts",
                ))
            }
        }
    }
    for (i, f) in files.iter().enumerate() {
        photos::check(f, urban.photo_max_bytes).map_err(|e| match e {
            PhotoError::TooLarge { .. } | PhotoError::TooMany { .. } => too_large(e.to_string()),
            PhotoError::Empty | PhotoError::NotAnImage(_) => photo_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("photo {}: {e}", i + 1),
            ),
        })?;
    }
    let command =
        command.ok_or_else(|| ApiError::bad_field("command", "the `command` part is missing"))?;
    Ok((command, files))
}

/// The largest transition body: every photo at its largest plus room for the command.
pub fn transition_body_limit(urban: &UrbanConfig) -> usize {
    let photos = urban
        .photo_max_bytes
        .saturating_mul(u64::from(urban.photo_max_count));
    usize::try_from(photos.saturating_add(1 << 20)).unwrap_or(usize::MAX)
}
