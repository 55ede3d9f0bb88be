//! Shared by the OpenAPI tests: the app over a fresh store, its answers, the served document,
//! and the JSON-document helpers (references, required members) several tests need.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const AGENT: &str = "demo-agent-1001";
pub const SUPERVISOR: &str = "demo-supervisor";
pub const CHANNEL: &str = "demo-channel";
pub const DEPT_ROADS: &str = "demo-dept-roads";
pub const DEPT_SANITATION: &str = "demo-dept-sanitation";

pub const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

// ------------------------------------------------------------------ the app

pub struct App {
    router: Router,
    /// The store behind the router (for rows the API does not create, e.g. call records).
    pub store: hotline::cases::Store,
    /// A temporary directory of the app's own (its database; test files such as recordings).
    pub dir: tempfile::TempDir,
}

/// The API over a fresh SQLite store with the shipped demo configuration.
pub async fn app() -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let hotline::config::Loaded { config, .. } =
        hotline::config::load(Path::new("sip-config/hotline.toml")).expect("demo config loads");
    let policy = hotline::cases::deadline::DeadlinePolicy::from_config(&config)
        .expect("deadline policy from demo config");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = hotline::cases::Store::connect(&url, policy)
        .await
        .expect("store connects");
    store.migrate().await.expect("migrations run");
    store.sync_config(&config).await.expect("config syncs");
    App {
        router: hotline::api::router(hotline::api::AppState::new(store.clone(), config)),
        store,
        dir,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl App {
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Answer {
        self.send_with(method, uri, token, None, body).await
    }

    /// As [`App::send`], with one more request header.
    pub async fn send_with(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        extra: Option<(&str, &str)>,
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some((name, value)) = extra {
            req = req.header(name, value);
        }
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some((content_type, text)) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(text)),
            None => req.body(Body::empty()),
        }
        .expect("request builds");
        self.request(req).await
    }

    /// Any request, as built by the caller.
    pub async fn request(&self, req: Request<Body>) -> Answer {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body reads")
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.send("GET", uri, token, None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Answer {
        self.send(
            "POST",
            uri,
            Some(token),
            Some(("application/json", body.to_string())),
        )
        .await
    }
}

/// The document as the API serves it.
pub async fn served_doc(app: &App) -> Value {
    let a = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK, "GET /api/v1/openapi.json");
    a.json()
}

// ------------------------------------------------------------------ the document

pub fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are used, got {reference:?}"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// `v`, or what it refers to.
pub fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(doc, resolve(doc, r)),
        None => v,
    }
}

pub fn required_of(schema: &Value) -> Vec<String> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().expect("required name").to_string())
        .collect()
}
