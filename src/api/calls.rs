//! Call routes: call records (CDR) with their steps, recordings streamed with byte ranges,
//! attaching a call to a work order, and callback tasks. Who may hear a recording: supervisors
//! and admins, and the agent who handled the call.

use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::range::{parse_range, RangeAnswer};
use super::AppState;
use crate::cases::model::{CallRecord, CallStep, CallbackAttempt, CallbackTask, Page};
use crate::cases::now;
use crate::cases::store::{CallQuery, CallbackQuery};
use crate::config::Role;

const STAFF: &[Role] = &[Role::Agent, Role::Supervisor, Role::Admin];

/// A call record with its steps.
#[derive(Serialize)]
pub struct CallDetail {
    #[serde(flatten)]
    call: CallRecord,
    steps: Vec<CallStep>,
}

/// A callback task with its attempts (`attempts` is the task's count of them).
#[derive(Serialize)]
pub struct CallbackDetail {
    #[serde(flatten)]
    task: CallbackTask,
    attempt_log: Vec<CallbackAttempt>,
}

/// The body of `POST /calls/{id}/work-order`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachOrder {
    pub order_id: i64,
}

pub async fn list(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<CallQuery>,
) -> Result<Json<Page<CallRecord>>, ApiError> {
    user.require(STAFF)?;
    Ok(Json(st.store.list_calls(&q).await?))
}

async fn find_call(st: &AppState, id: &str) -> Result<CallRecord, ApiError> {
    st.store
        .get_call(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("call {id}")))
}

pub async fn get(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    user.require(STAFF)?;
    let call = find_call(&st, &id).await?;
    let steps = st.store.call_steps(&id).await?;
    Ok(Json(CallDetail { call, steps }))
}

/// 403 unless `user` is a supervisor or admin, or the agent who handled `call`.
fn may_act_on(user: &User, call: &CallRecord, what: &str) -> Result<(), ApiError> {
    user.require(STAFF)?;
    if user.0.role != Role::Agent {
        return Ok(());
    }
    match (&user.0.agent, &call.agent_id) {
        (Some(me), Some(handler)) if me == handler => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "an agent may {what} only the calls they handled; call {} was not yours",
            call.id
        ))),
    }
}

/// Where a stored recording path is: absolute as it is; relative paths are relative to the
/// data directory, unless already written under it (the recorder's root is
/// `DATA_DIR/recordings`, so a relative data directory gives paths that start with it).
pub fn recording_file(data_dir: &FsPath, stored: &str) -> PathBuf {
    let p = FsPath::new(stored);
    // `./data` and `data` are the same directory.
    let plain = |p: &FsPath| -> PathBuf {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    };
    if p.is_absolute() || plain(p).starts_with(plain(data_dir)) {
        p.to_path_buf()
    } else {
        data_dir.join(p)
    }
}

/// `GET /calls/{id}/recording` and `GET /recordings/{id}`: the WAV, whole or a byte range.
pub async fn recording(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    user.require(STAFF)?;
    let call = find_call(&st, &id).await?;
    may_act_on(&user, &call, "hear")?;
    let missing = || ApiError::not_found(format!("recording of call {id}"));
    let stored = call.recording_path.as_deref().ok_or_else(missing)?;
    let path = recording_file(&st.config.server.data_dir, stored);
    let mut file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::warn!(call_id = %id, path = %path.display(), error = %e, "recording not readable");
        missing()
    })?;
    let meta = file.metadata().await.map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(missing());
    }
    let len = meta.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|h| parse_range(h, len))
        .unwrap_or(RangeAnswer::Full);
    let (status, start, count) = match range {
        RangeAnswer::Full => (StatusCode::OK, 0, len),
        RangeAnswer::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeAnswer::Unsatisfiable => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the recording has {len} bytes; the range asks for none of them"),
            )
            .into_response();
            let h = resp.headers_mut();
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|_| missing())?;
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(count)));
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", start + count - 1))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// `POST /calls/{id}/work-order`: ties the call to an existing order.
pub async fn attach_order(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<CallRecord>, ApiError> {
    user.require(STAFF)?;
    let call = find_call(&st, &id).await?;
    may_act_on(&user, &call, "attach")?;
    let AttachOrder { order_id } = body.parse()?;
    let linked = st
        .store
        .link_call_to_order(&id, order_id, &user.actor(), now())
        .await?;
    Ok(Json(linked))
}

/// Callback tasks: supervisors and admins see all; agents the open ones and their own.
pub async fn callbacks(
    State(st): State<AppState>,
    user: User,
    QueryParams(mut q): QueryParams<CallbackQuery>,
) -> Result<Json<Page<CallbackTask>>, ApiError> {
    user.require(STAFF)?;
    if user.0.role == Role::Agent {
        q.visible_to_agent = Some(user.0.agent.clone().unwrap_or_default());
    }
    Ok(Json(st.store.list_callback_tasks(&q).await?))
}

pub async fn callback(
    State(st): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> Result<Json<CallbackDetail>, ApiError> {
    user.require(STAFF)?;
    let not_found = || ApiError::not_found(format!("callback task {id}"));
    let task_id: i64 = id.parse().map_err(|_| not_found())?;
    let task = st
        .store
        .get_callback_task(task_id)
        .await?
        .filter(|t| {
            user.0.role != Role::Agent
                || t.status == "open"
                || (t.agent_id.is_some() && t.agent_id == user.0.agent)
        })
        .ok_or_else(not_found)?;
    let attempt_log = st.store.callback_attempts(task_id).await?;
    Ok(Json(CallbackDetail { task, attempt_log }))
}

#[cfg(test)]
mod tests {
    use super::recording_file;
    use std::path::{Path, PathBuf};

    #[test]
    fn recording_paths_resolve_against_the_data_dir() {
        let data = Path::new("/var/lib/hotline");
        assert_eq!(
            recording_file(data, "/srv/rec/a.wav"),
            PathBuf::from("/srv/rec/a.wav")
        );
        assert_eq!(
            recording_file(data, "recordings/2026/11/23/a.wav"),
            PathBuf::from("/var/lib/hotline/recordings/2026/11/23/a.wav")
        );
        // Written by the recorder under a relative data directory: already under it.
        assert_eq!(
            recording_file(Path::new("./data"), "./data/recordings/a.wav"),
            PathBuf::from("./data/recordings/a.wav")
        );
        assert_eq!(
            recording_file(Path::new("data"), "data/recordings/a.wav"),
            PathBuf::from("data/recordings/a.wav")
        );
        assert_eq!(
            recording_file(Path::new("./data"), "data/recordings/a.wav"),
            PathBuf::from("data/recordings/a.wav")
        );
        assert_eq!(
            recording_file(Path::new("data"), "./data/recordings/a.wav"),
            PathBuf::from("./data/recordings/a.wav")
        );
        // A directory that merely starts with the same letters is not the data directory.
        assert_eq!(
            recording_file(Path::new("data"), "database/a.wav"),
            PathBuf::from("data/database/a.wav")
        );
    }
}
