//! The OpenAPI document served at `GET /api/v1/openapi.json` (`docs/openapi.json`) against the
//! code: it is OpenAPI 3.1, it names exactly the routes `src/api/mod.rs` registers, its
//! references resolve, its fixed lists are the code's lists, its request schemas agree with
//! the serde types, and real answers (the call routes' and the agent desk's too) fit its
//! response schemas and documented status codes.

mod answers;
mod calls;
mod desk;
mod overview;
mod reports;
mod routes;
mod schemas;
mod support;
