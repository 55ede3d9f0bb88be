//! A webhook receiver on 127.0.0.1:0 for the tests: records each request (its Authorization
//! header and JSON body) and answers the statuses it was given, in turn (then 200).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};

#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    answers: VecDeque<u16>,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

impl Receiver {
    /// Starts a receiver that answers `answers` in turn, then 200.
    pub async fn start(answers: &[u16]) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            received: vec![],
            answers: answers.iter().copied().collect(),
        }));
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { inner, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}

async fn hook(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, &'static str) {
    let mut inner = inner.lock().unwrap();
    inner.received.push(Received {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    });
    let status = inner.answers.pop_front().unwrap_or(200);
    (
        StatusCode::from_u16(status).unwrap(),
        if status == 200 { "ok" } else { "gateway down" },
    )
}

/// A URL nothing listens on (a port bound and released).
pub async fn unreachable_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/hook")
}
