//! The HTTP API (axum): JSON under `/api/v1/` with bearer-token auth, `/healthz`, and the
//! OpenAPI description. Routes only translate HTTP to calls into the modules; business rules
//! live in `cases` (and later `acd`/`call`).

pub mod attachments;
pub mod auth;
pub mod calls;
pub mod desk;
pub mod error;
pub mod extract;
mod inbox;
pub mod intake;
mod metrics;
mod notifications;
mod openapi;
mod orders;
mod overview;
mod proposals;
pub mod range;
mod reference;
mod reports;
pub mod session;
mod sip;
pub mod supervisor;
pub mod throttle;
pub mod wallboard;
pub mod web;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::cases::Store;
use crate::config::Config;
use auth::Users;
use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub users: Arc<Users>,
    /// Web sessions (`POST /api/v1/session`).
    pub sessions: Arc<session::Sessions>,
    /// Failed web logins by agent and client address.
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// The SIP endpoint, when one runs in this process.
    pub sip: Option<crate::sip::server::SipHandle>,
    /// The call layer, when SIP runs in this process.
    pub calls: Option<crate::call::CallsHandle>,
    /// The wallboard's cache of store-derived figures.
    pub wallboard: Arc<wallboard::WallboardCache>,
    /// The grid cells' polygons, for placing reports with coordinates.
    pub grid: Arc<crate::cases::geo::GridIndex>,
}

impl AppState {
    pub fn new(store: Store, mut config: Config) -> Self {
        let users = Users::from_config(&config.users);
        // Only hashes stay in memory: no clear-text token in the configuration kept around.
        for u in &mut config.users {
            u.token = None;
            u.sip_password = None;
        }
        let grid = Arc::new(crate::cases::geo::GridIndex::new(&config.grid_cells));
        AppState {
            grid,
            store,
            config: Arc::new(config),
            users: Arc::new(users),
            sessions: Arc::new(session::Sessions::default()),
            login_throttle: Arc::default(),
            sip: None,
            calls: None,
            wallboard: wallboard::cache(),
        }
    }

    /// The same state with the call layer attached.
    pub fn with_calls(mut self, calls: crate::call::CallsHandle) -> Self {
        self.calls = Some(calls);
        self
    }

    /// The same state with the SIP endpoint attached.
    pub fn with_sip(mut self, sip: crate::sip::server::SipHandle) -> Self {
        self.sip = Some(sip);
        self
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    // A transition may carry photos: its body may be as large as `[urban]` allows them.
    let transitions = Router::new()
        .route("/work-orders/{key}/transitions", post(orders::transition))
        .layer(axum::extract::DefaultBodyLimit::max(
            orders::transition_body_limit(&state.config.urban),
        ));
    let v1 = Router::new()
        .route("/openapi.json", get(openapi::openapi))
        .route("/session", post(session::login).delete(session::logout))
        .route("/work-orders", post(orders::create).get(orders::list))
        .route("/work-orders/{key}", get(orders::get))
        .merge(transitions)
        .route("/inbox", get(inbox::inbox))
        .route("/work-orders/{key}/events", get(orders::events))
        .route(
            "/reports",
            post(axum::handler::Handler::layer(
                intake::report,
                axum::extract::DefaultBodyLimit::max(intake::body_limit(&state.config.urban)),
            )),
        )
        .route("/work-orders/{key}/attachments", get(attachments::list))
        .route("/attachments/{id}", get(attachments::get))
        .route("/merge-proposals", get(proposals::list))
        .route("/merge-proposals/{id}/merge", post(proposals::merge))
        .route("/merge-proposals/{id}/dismiss", post(proposals::dismiss))
        .route("/categories", get(reference::categories))
        .route("/grid-cells", get(reference::grid_cells))
        .route("/departments", get(reference::departments))
        .route("/agents", get(reference::agents))
        .route("/queues", get(reference::queues))
        .route("/calls", get(calls::list))
        .route("/calls/{id}", get(calls::get))
        .route("/calls/{id}/recording", get(calls::recording))
        .route("/calls/{id}/work-order", post(calls::attach_order))
        .route("/recordings/{id}", get(calls::recording))
        .route("/callbacks", get(calls::callbacks))
        .route("/callbacks/{id}", get(calls::callback))
        .route("/agents/{id}/login", post(desk::login))
        .route("/agents/{id}/logout", post(desk::logout))
        .route("/agents/{id}/status", get(desk::status))
        .route("/agents/{id}/state", post(desk::set_state))
        .route("/agents/{id}/end-wrap-up", post(desk::end_wrap_up))
        .route("/agents/{id}/transfer", post(desk::transfer))
        .route("/callbacks/{id}/take", post(desk::take_callback))
        .route("/reports/kpi", get(reports::kpi))
        .route("/reports/month", get(reports::month))
        .route("/reports/today", get(reports::today))
        .route("/reports/evaluation", get(overview::evaluation))
        .route("/overview", get(overview::overview))
        .route("/agents/{id}/day", get(reports::agent_day))
        .route(
            "/work-orders/{key}/marks",
            post(reports::add_mark).get(reports::marks),
        )
        .route(
            "/work-orders/{key}/marks/{id}/withdraw",
            post(reports::withdraw_mark),
        )
        .route("/live", get(desk::live))
        .route(
            "/calls/{id}/monitor",
            post(supervisor::monitor).delete(supervisor::stop_monitor),
        )
        .route("/calls/{id}/hangup", post(supervisor::hangup))
        .route("/audit", get(supervisor::audit_log))
        .route("/wallboard", get(wallboard::wallboard))
        .route("/notifications", get(notifications::list))
        .route("/events", get(desk::events))
        .route("/sip/status", get(sip::status))
        .route("/sip/registrations", get(sip::registrations))
        .route("/sip/calls", get(sip::calls).post(sip::place_call))
        .route(
            "/sip/calls/{call_id}",
            axum::routing::delete(sip::hangup).get(sip::call_media),
        );
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/", get(web::desk))
        .route("/wallboard", get(web::wallboard))
        .route("/reports", get(web::reports))
        .route("/overview", get(web::overview))
        .route("/assets/{file}", get(web::serve_asset))
        .nest("/api/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; it has been logged",
            )
            .into_response()
        }))
        // The span names the path only: a query string may carry `access_token` (WebSocket).
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
}

async fn healthz(State(st): State<AppState>) -> impl IntoResponse {
    match st.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ok", "database": st.store.kind() })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("{} store does not answer", st.store.kind()),
            )
            .into_response()
        }
    }
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("route {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
