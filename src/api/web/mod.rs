//! The web pages served by the binary itself: the agent desk (`/`), the wallboard
//! (`/wallboard`) and the reports (`/reports`), plain HTML/CSS/JS files under `assets/` that are
//! compiled into the binary with `include_bytes!` (no Node build, nothing to deploy beside the
//! binary). Pages are sent with `Cache-Control: no-cache`; assets with a strong ETag (a hash of
//! their bytes) so browsers revalidate cheaply and get `304 Not Modified` while unchanged.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("assets/", $name)),
        }
    };
}

/// Every embedded file; pages are the `.html` ones.
pub static ASSETS: &[Asset] = &[
    asset!("desk.html", "text/html; charset=utf-8"),
    asset!("wallboard.html", "text/html; charset=utf-8"),
    asset!("reports.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("desk.js", "text/javascript; charset=utf-8"),
    asset!("wallboard.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    asset!("charts.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The embedded file called `name`.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The ETag of each asset (quoted hex SHA-256 prefix), computed once.
fn etag(a: &Asset) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &super::auth::token_hash_bytes(a.bytes)[..16]))
            .collect()
    });
    let i = ASSETS
        .iter()
        .position(|x| x.name == a.name)
        .unwrap_or_default();
    tags[i].as_str()
}

/// `GET /`: the agent desk.
pub async fn desk(headers: HeaderMap) -> Response {
    page("desk.html", &headers)
}

/// `GET /wallboard`.
pub async fn wallboard(headers: HeaderMap) -> Response {
    page("wallboard.html", &headers)
}

/// `GET /reports`.
pub async fn reports(headers: HeaderMap) -> Response {
    page("reports.html", &headers)
}

fn page(name: &str, headers: &HeaderMap) -> Response {
    match asset(name) {
        Some(a) => send(a, headers),
        None => ApiError::not_found(format!("page {name}")).into_response(),
    }
}

/// `GET /assets/{file}`.
pub async fn serve_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match asset(&file) {
        Some(a) => send(a, &headers),
        None => ApiError::not_found(format!("asset {file}")).into_response(),
    }
}

fn send(a: &'static Asset, headers: &HeaderMap) -> Response {
    let tag = etag(a);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, HeaderValue::from_static(tag)),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        StatusCode::OK,
        common,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        a.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_links_only_embedded_assets() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".html")) {
            let text = std::str::from_utf8(a.bytes).unwrap();
            for part in text.split("/assets/").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                assert!(asset(&name).is_some(), "{} links /assets/{name}", a.name);
            }
        }
    }

    #[test]
    fn etags_differ_between_assets() {
        let tags: std::collections::HashSet<_> = ASSETS.iter().map(etag).collect();
        assert_eq!(tags.len(), ASSETS.len());
    }
}
