//! The webhook notifier: POSTs each notification as JSON to the configured URL (with a bearer
//! token when one is set, and a timeout). A 2xx answer is a delivery; anything else, or no
//! answer in time, is an error the delivery task retries. An SMS gateway plugs in as the
//! receiver of this webhook.

use std::time::Duration;

use serde::Serialize;

use super::{Notification, Notifier, NotifyError};
use crate::config::NotifierConfig;

/// Longest piece of a refusing receiver's body kept in the error.
const BODY_EXCERPT: usize = 200;

/// POSTs notifications to a URL.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
}

/// What the receiver gets.
#[derive(Serialize)]
struct Body<'a> {
    id: i64,
    kind: &'a str,
    recipient: &'a str,
    work_order_id: Option<i64>,
    payload: &'a serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl WebhookNotifier {
    /// A notifier for `url` (http or https), with an optional bearer token and a per-attempt
    /// timeout.
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Result<Self, NotifyError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| NotifyError::Config(format!("url {url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NotifyError::Config(format!(
                "url {url}: only http:// and https:// are supported"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| NotifyError::Config(format!("HTTP client: {e}")))?;
        Ok(WebhookNotifier {
            client,
            url,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// From `[notifier]`: `url` is required, `token` optional, `timeout_secs` (at least 1).
    pub fn from_config(c: &NotifierConfig) -> Result<Self, NotifyError> {
        let url = c
            .url
            .as_deref()
            .ok_or_else(|| NotifyError::Config("kind webhook needs a url".into()))?;
        WebhookNotifier::new(
            url,
            c.token.clone(),
            Duration::from_secs(u64::from(c.timeout_secs.max(1))),
        )
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

impl Notifier for WebhookNotifier {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = Body {
            id: n.id,
            kind: &n.kind,
            recipient: &n.recipient,
            work_order_id: n.work_order_id,
            payload: &n.payload.0,
            created_at: n.created_at,
        };
        let mut req = self.client.post(self.url.clone()).json(&body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| {
            NotifyError::Transport(if e.is_timeout() {
                format!("no answer from {} in time", self.url)
            } else {
                format!("cannot reach {}: {}", self.url, error_chain(&e))
            })
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        Err(NotifyError::Rejected {
            status: status.as_u16(),
            body: text.chars().take(BODY_EXCERPT).collect(),
        })
    }
}

/// An error with its causes ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
