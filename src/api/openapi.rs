//! `GET /api/v1/openapi.json`: the API's description, kept in `docs/openapi.json` (tests check
//! that it names every route the router serves).

use axum::http::header;
use axum::response::IntoResponse;

/// The OpenAPI 3.1 document.
pub const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
