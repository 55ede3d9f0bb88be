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
    asset!("overview.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("desk.js", "text/javascript; charset=utf-8"),
    asset!("wallboard.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    asset!("overview.js", "text/javascript; charset=utf-8"),
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

/// `GET /overview`: the leader overview (管理通).
pub async fn overview(headers: HeaderMap) -> Response {
    page("overview.html", &headers)
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

    /// The keys of one language's table in `i18n.js` (`key: "…"` or `"key": "…"`).
    fn i18n_keys(block: &str) -> std::collections::BTreeSet<String> {
        let mut keys = std::collections::BTreeSet::new();
        for part in block.split(": \"").collect::<Vec<_>>().iter().rev().skip(1) {
            let tail = part.trim_end();
            let key = match tail.strip_suffix('"') {
                Some(q) => q.rsplit('"').next().unwrap_or_default(),
                None => tail
                    .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default(),
            };
            keys.insert(key.to_string());
        }
        keys
    }

    /// Both languages have the same keys, and every literal key the pages use is there.
    #[test]
    fn every_text_has_both_languages() {
        let table = std::str::from_utf8(asset("i18n.js").unwrap().bytes).unwrap();
        let (zh, en) = table.split_once("\n  en: {").expect("an en table");
        let (zh, en) = (i18n_keys(zh), i18n_keys(en));
        assert!(zh.len() > 100, "{zh:?}");
        assert_eq!(zh, en);
        for a in ASSETS.iter().filter(|a| a.name != "i18n.js") {
            let Ok(text) = std::str::from_utf8(a.bytes) else {
                continue;
            };
            for marker in ["data-i18n=\"", "data-i18n-ph=\"", "t(\""] {
                for (at, _) in text.match_indices(marker) {
                    // `t("…")` as a call of its own (not `get("…")`), with a literal key.
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    let part = &text[at + marker.len()..];
                    let key = part.split('"').next().unwrap_or_default();
                    let call = marker == "t(\"";
                    if call && (before.is_ascii_alphanumeric() || before == '.' || before == '_') {
                        continue;
                    }
                    if !call || part[key.len()..].starts_with("\")") {
                        assert!(zh.contains(key), "{} uses {key:?}, not in i18n.js", a.name);
                    }
                }
            }
        }
    }

    #[test]
    fn etags_differ_between_assets() {
        let tags: std::collections::HashSet<_> = ASSETS.iter().map(etag).collect();
        assert_eq!(tags.len(), ASSETS.len());
    }
}
