//! Request extractors whose rejections name the offending field: JSON bodies and query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A request body taken as it came, to be parsed as JSON by [`RawJson::parse`] once the
/// handler has checked who is asking (so a caller without the right gets 403, not a lecture on
/// their JSON). A body over the size limit answers 413.
pub struct RawJson {
    is_json: bool,
    bytes: Bytes,
}

/// The field a serde error is about: its path, or for a missing field the field's name.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let p = path.to_string();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return if p == "." || p.is_empty() {
            name.to_string()
        } else {
            format!("{p}.{name}")
        };
    }
    if message.starts_with("unknown field `") {
        let name = message
            .trim_start_matches("unknown field `")
            .split('`')
            .next()
            .unwrap_or_default();
        return if p == "." || p.is_empty() {
            name.to_string()
        } else {
            p
        };
    }
    if message.starts_with("unknown variant `") && (p == "." || p.is_empty()) {
        return "action".to_string();
    }
    if p.is_empty() || p == "." {
        "body".to_string()
    } else {
        p
    }
}

fn short(message: &str) -> &str {
    // serde_json appends " at line L column C"; keep the message readable.
    message.split(" at line ").next().unwrap_or(message)
}

impl<S: Send + Sync> FromRequest<S> for RawJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is larger than the 2 MiB this API accepts",
                )
            } else {
                ApiError::bad_field("body", e.body_text())
            }
        })?;
        Ok(RawJson { is_json, bytes })
    }
}

impl RawJson {
    /// JSON taken from elsewhere than the whole body (a multipart form's JSON part).
    pub fn json(bytes: Bytes) -> RawJson {
        RawJson {
            is_json: true,
            bytes,
        }
    }

    /// The bytes as sent.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// No body was sent.
    pub fn is_empty(&self) -> bool {
        self.bytes.iter().all(|b| b.is_ascii_whitespace())
    }

    /// The body as `T`: 415 unless sent as JSON; 400 naming the field for bad JSON or a
    /// missing, unknown or ill-typed member.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        // JSON can carry a NUL only as the escape \u0000; no text field may hold one (a
        // database would refuse it, or worse, keep it).
        if self.bytes.windows(6).any(|w| w == b"\\u0000") {
            let value: serde_json::Value = serde_json::from_slice(&self.bytes).map_err(|e| {
                ApiError::bad_field("body", format!("not valid JSON: {}", short(&e.to_string())))
            })?;
            if let Some(field) = nul_path(&value, String::new()) {
                return Err(ApiError::bad_field(
                    field,
                    "must not contain a NUL character",
                ));
            }
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let message = e.inner().to_string();
            if e.inner().is_syntax() || e.inner().is_eof() {
                ApiError::bad_field("body", format!("not valid JSON: {}", short(&message)))
            } else {
                ApiError::bad_field(field_of(e.path(), &message), short(&message).to_string())
            }
        })
    }
}

/// A query string; an unknown or ill-typed parameter answers 400 naming it.
pub struct QueryParams<T>(pub T);

/// The path of the first string in `v` that holds a NUL character.
fn nul_path(v: &serde_json::Value, at: String) -> Option<String> {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        serde_json::Value::String(s) => {
            s.contains('\0')
                .then(|| if at.is_empty() { "body".into() } else { at })
        }
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
            nul_path(
                x,
                format!("{}[{i}]", if at.is_empty() { "body" } else { &at }),
            )
        }),
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                Some(join("(a key)"))
            } else {
                nul_path(x, join(k))
            }
        }),
        _ => None,
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or_default();
        if let Some((k, _)) = form_urlencoded_parse(q).find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::bad_field(k, "must not contain a NUL character"));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let message = e.inner().to_string();
                ApiError::bad_field(field_of(e.path(), &message), message)
            })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}
