//! `POST /api/v1/reports`: reports from every channel (field inspectors' handsets, web, app,
//! leaders, 110/119/120/122 transfers), as JSON or as a multipart form with photos. Thin: the
//! request is read and checked (role, photos, idempotency key, grid cell), then the store
//! checks the order and writes it with its photos, key and merge proposals in one transaction.
//! Every refusal comes before anything is written: no order, no row, no file.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::auth::User;
use super::error::ApiError;
use super::extract::RawJson;
use super::AppState;
use crate::cases::model::NewWorkOrder;
use crate::cases::photos::{self, PhotoError};
use crate::cases::store::{is_idempotency_key, IntakeOutcome, IntakeReport, MergeRule};
use crate::cases::{is_category_id, now};
use crate::config::Role;

/// Who may report.
const REPORTERS: &[Role] = &[Role::Channel, Role::Inspector, Role::Leader, Role::Admin];

/// The header of a retried request's key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The header a replayed answer carries.
pub const REPLAYED: &str = "Idempotency-Replayed";

/// A report as sent (the `report` part of a multipart form, or the whole JSON body).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub channel: Option<String>,
    pub request_type: Option<String>,
    pub category_id: Option<String>,
    pub component_code: Option<String>,
    pub title: Option<String>,
    pub description: String,
    pub address: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub grid_cell: Option<String>,
    pub reporter: Option<String>,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    pub external_ref: Option<String>,
    pub transfer_centre: Option<String>,
    pub priority: Option<String>,
}

/// A photo read from the form and checked (type by its bytes, size), not yet on disk.
struct Photo {
    bytes: Bytes,
    sha256: String,
}

/// Bad input on this route answers 422 naming the field; a body that cannot be read at all
/// (not JSON, a broken form) stays 400.
fn unprocessable(mut e: ApiError) -> ApiError {
    if e.status == StatusCode::BAD_REQUEST && e.field.as_deref() != Some("body") {
        e.status = StatusCode::UNPROCESSABLE_ENTITY;
        e.error = "unprocessable";
    }
    e
}

fn field_error(status: StatusCode, error: &'static str, field: &str, message: String) -> ApiError {
    ApiError {
        field: Some(field.to_string()),
        ..ApiError::new(status, error, format!("{field}: {message}"))
    }
}

fn photo_error(e: PhotoError) -> ApiError {
    match e {
        PhotoError::NotAnImage(_) => field_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "photo",
            e.to_string(),
        ),
        PhotoError::Empty => field_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "photo",
            e.to_string(),
        ),
        PhotoError::TooLarge { .. } | PhotoError::TooMany { .. } => field_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "photo",
            e.to_string(),
        ),
    }
}

/// The largest request body the route accepts: every photo at its largest, and the report.
pub fn body_limit(urban: &crate::config::UrbanConfig) -> usize {
    let photos = urban
        .photo_max_bytes
        .saturating_mul(u64::from(urban.photo_max_count) + 1);
    usize::try_from(photos.saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
}

/// Reads a multipart form: the `report` part (JSON) and `photo` parts, checking each photo as
/// it streams in (too many, too large, not an image) before any is kept.
async fn read_form(st: &AppState, req: Request) -> Result<(RawJson, Vec<Photo>), ApiError> {
    let urban = &st.config.urban;
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            photo_error(PhotoError::TooLarge {
                max: urban.photo_max_bytes,
                got: urban.photo_max_bytes + 1,
            })
        } else {
            ApiError::bad_field("body", e.body_text())
        }
    };
    let mut form = Multipart::from_request(req, st)
        .await
        .map_err(|e| ApiError::bad_field("body", e.body_text()))?;
    let mut report = None;
    let mut photos = Vec::new();
    while let Some(mut part) = form.next_field().await.map_err(too_large)? {
        match part.name().unwrap_or_default() {
            "report" if report.is_none() => {
                report = Some(RawJson::json(part.bytes().await.map_err(too_large)?));
            }
            "photo" => {
                if photos.len() as u32 >= urban.photo_max_count {
                    return Err(photo_error(PhotoError::TooMany {
                        max: urban.photo_max_count,
                    }));
                }
                let mut buf: Vec<u8> = Vec::new();
                while let Some(chunk) = part.chunk().await.map_err(too_large)? {
                    if (buf.len() + chunk.len()) as u64 > urban.photo_max_bytes {
                        return Err(photo_error(PhotoError::TooLarge {
                            max: urban.photo_max_bytes,
                            got: (buf.len() + chunk.len()) as u64,
                        }));
                    }
                    buf.extend_from_slice(&chunk);
                }
                photos::check(&buf, urban.photo_max_bytes).map_err(photo_error)?;
                let sha256 = super::auth::token_hash_bytes(&buf);
                photos.push(Photo {
                    bytes: Bytes::from(buf),
                    sha256,
                });
            }
            other => {
                return Err(ApiError::bad_field(
                    if other.is_empty() { "body" } else { other },
                    "a report form has one `report` part (JSON) and `photo` parts",
                ))
            }
        }
    }
    let report = report.ok_or_else(|| {
        ApiError::bad_field(
            "report",
            "the form needs a `report` part holding the JSON report",
        )
    })?;
    Ok((report, photos))
}

/// SHA-256 of the request as understood (the report re-serialized, so spacing and member order
/// do not matter, and the photos' hashes in order): what a retry must repeat.
fn request_hash(body: &ReportBody, photos: &[Photo]) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(body).unwrap_or_default());
    for p in photos {
        h.update(b"\nphoto ");
        h.update(p.sha256.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn report(
    State(st): State<AppState>,
    user: User,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    user.require(REPORTERS)?;
    handle(st, user, headers, req).await.map_err(unprocessable)
}

async fn handle(
    st: AppState,
    user: User,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| is_idempotency_key(k))
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::bad_field(
                        IDEMPOTENCY_KEY,
                        "must be 1 to 100 visible ASCII characters",
                    )
                })?,
        ),
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let (raw, photos) = if is_form {
        read_form(&st, req).await?
    } else {
        (RawJson::from_request(req, &st).await?, Vec::new())
    };
    let body: ReportBody = raw.parse()?;
    let sha = request_hash(&body, &photos);
    let u = &user.0;
    if let Some(k) = &key {
        if let Some(first) = st.store.intake_replay(&u.name, k, &sha).await? {
            return Ok(answer(StatusCode::OK, true, first));
        }
    }
    let report = to_report(&st, &user, body)?;
    let at = now();
    let checked = st
        .store
        .check_intake(report, &user.actor(), u.channel.as_deref(), at)?;
    // Every check passed: keep the photos, then write the order with them.
    let data_dir = st.config.server.data_dir.clone();
    let max = st.config.urban.photo_max_bytes;
    let kept = tokio::task::spawn_blocking(move || {
        photos
            .iter()
            .map(|p| photos::save(&data_dir, "report", &p.bytes, max, at))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    .map_err(|e| match e {
        photos::SaveError::Photo(p) => photo_error(p),
        photos::SaveError::Io(io) => {
            tracing::error!(error = %io, "keeping a photo failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the photo could not be kept; try again shortly",
            )
        }
    })?;
    let merge = Some(MergeRule {
        distance_m: st.config.urban.merge_distance_m,
        window_hours: st.config.urban.merge_window_hours,
    });
    let key = key.map(|k| (u.name.clone(), k, sha));
    let saved = kept.clone();
    match st.store.submit_intake(checked, kept, key, merge).await {
        Ok(IntakeOutcome::Created(r)) => Ok(answer(StatusCode::CREATED, false, r)),
        Ok(IntakeOutcome::Replayed(r)) => Ok(answer(StatusCode::OK, true, r)),
        Err(e) => {
            // Refused (the key taken by another body) or failed: the photos kept for it go,
            // unless another order's row references the same content.
            let dir = &st.config.server.data_dir;
            if let Err(d) = st.store.discard_unreferenced(&saved, dir).await {
                tracing::warn!(error = %d, "cannot check the photos of a refused report");
            }
            Err(e.into())
        }
    }
}

fn answer(status: StatusCode, replayed: bool, r: crate::cases::store::IntakeResult) -> Response {
    let location = format!("/api/v1/work-orders/{}", r.order.id);
    let mut resp = (status, Json(r)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        resp.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    resp
}

/// The report as the store takes it: the channel and request type defaulted by who reports,
/// the grid cell (and its district) placed from the coordinates.
fn to_report(st: &AppState, user: &User, b: ReportBody) -> Result<IntakeReport, ApiError> {
    let u = &user.0;
    let own_channel = match u.role {
        Role::Inspector => Some("field-inspector"),
        Role::Leader => Some("leader"),
        Role::Channel => u.channel.as_deref(),
        _ => None,
    };
    let channel = match (own_channel, b.channel) {
        (Some(own), Some(given)) if own != given => {
            return Err(ApiError::bad_field(
                "channel",
                format!("this user reports through {own:?}, not {given:?}"),
            ))
        }
        (Some(own), _) => own.to_string(),
        (None, Some(given)) => given,
        (None, None) => {
            return Err(ApiError::bad_field(
                "channel",
                "name the channel the report came through",
            ))
        }
    };
    let category_id = b
        .category_id
        .ok_or_else(|| ApiError::bad_field("category_id", "a report names its category"))?;
    if !is_category_id(&category_id) {
        return Err(ApiError::bad_field(
            "category_id",
            format!("{category_id:?} is not a category id like E0101 or C0101"),
        ));
    }
    let request_type = match b.request_type {
        Some(t) => t,
        None if category_id.starts_with(['C', 'E']) => "urban-management".to_string(),
        None => {
            return Err(ApiError::bad_field(
                "request_type",
                "give the request type (it defaults only for C… and E… categories)",
            ))
        }
    };
    let mut grid_cell = b.grid_cell;
    let mut district = None;
    // A city that configured no polygons takes coordinates as they come.
    if let (Some(lon), Some(lat), false) = (b.longitude, b.latitude, st.grid.is_empty()) {
        if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
            let cell = st.grid.locate(lon, lat).ok_or_else(|| {
                ApiError::bad_field(
                    "longitude",
                    format!("[{lon}, {lat}] is outside the city's grid"),
                )
            })?;
            if let Some(given) = grid_cell.as_deref().filter(|g| *g != cell.code) {
                return Err(ApiError::bad_field(
                    "grid_cell",
                    format!(
                        "{given:?} does not hold [{lon}, {lat}]; the coordinates are in {}",
                        cell.code
                    ),
                ));
            }
            grid_cell = Some(cell.code.to_string());
            district = cell.district.map(str::to_string);
        }
    }
    if district.is_none() {
        if let Some(g) = &grid_cell {
            district = st
                .config
                .grid_cells
                .iter()
                .find(|c| &c.code == g)
                .and_then(|c| c.district.clone());
        }
    }
    Ok(IntakeReport {
        new: NewWorkOrder {
            channel: Some(channel),
            request_type,
            priority: b.priority,
            title: b.title,
            description: b.description,
            caller_number: b.caller_number,
            caller_name: b.caller_name,
            reporter: b.reporter,
            category_id: Some(category_id),
            address: b.address,
            longitude: b.longitude,
            latitude: b.latitude,
            grid_cell,
            external_ref: b.external_ref,
            call_id: None,
        },
        component_code: b.component_code,
        transfer_centre: b.transfer_centre,
        reporter_id: Some(u.name.clone()),
        district,
    })
}
