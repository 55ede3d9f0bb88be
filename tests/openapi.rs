//! The OpenAPI document served at `GET /api/v1/openapi.json` (`docs/openapi.json`) against the
//! code: it is OpenAPI 3.1, it names exactly the routes `src/api/mod.rs` registers, its
//! references resolve, its fixed lists are the code's lists, its request schemas agree with
//! the serde types, and real answers fit its response schemas and documented status codes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const AGENT: &str = "demo-agent-1001";
const SUPERVISOR: &str = "demo-supervisor";
const CHANNEL: &str = "demo-channel";
const DEPT_ROADS: &str = "demo-dept-roads";
const DEPT_SANITATION: &str = "demo-dept-sanitation";

const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

// ------------------------------------------------------------------ the app

struct App {
    router: Router,
    _dir: tempfile::TempDir,
}

/// The API over a fresh SQLite store with the shipped demo configuration.
async fn app() -> App {
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
        router: hotline::api::router(hotline::api::AppState::new(store, config)),
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl App {
    async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
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

    async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.send("GET", uri, token, None).await
    }

    async fn post(&self, uri: &str, token: &str, body: Value) -> Answer {
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
async fn served_doc(app: &App) -> Value {
    let a = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK, "GET /api/v1/openapi.json");
    a.json()
}

// ------------------------------------------------------------------ 1. served document

#[tokio::test]
async fn serves_an_openapi_3_1_document() {
    let app = app().await;
    let a = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let ct = a
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct:?}");
    let doc = a.json();
    let version = doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3.1"), "openapi {version:?}");
    assert_eq!(doc["info"]["title"], "hotline");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    for word in [
        "agent",
        "supervisor",
        "admin",
        "department",
        "channel",
        "\"error\"",
    ] {
        assert!(
            description.contains(word),
            "info.description mentions {word}"
        );
    }
    assert_eq!(doc["servers"], json!([{ "url": "/" }]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{ "bearerAuth": [] }]));
}

// ------------------------------------------------------------------ 2. routes

/// Removes `//` and `/* */` comments; string and char literals are kept as they are.
fn strip_comments(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '"' => {
                let end = string_end(&c, i);
                out.extend(&c[i..end]);
                i = end;
            }
            '\'' => {
                let end = char_literal_end(&c, i);
                out.extend(&c[i..end]);
                i = end;
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// Index just past the string literal that opens at `i`.
fn string_end(c: &[char], i: usize) -> usize {
    let mut j = i + 1;
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// Index just past a char literal at `i`, or `i + 1` for a lifetime.
fn char_literal_end(c: &[char], i: usize) -> usize {
    if c.get(i + 1) == Some(&'\\') {
        let mut j = i + 2;
        while j < c.len() && c[j] != '\'' {
            j += 1;
        }
        j + 1
    } else if c.get(i + 2) == Some(&'\'') {
        i + 3
    } else {
        i + 1
    }
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(c: &[char], open: usize) -> usize {
    let mut depth = 0;
    let mut i = open;
    while i < c.len() {
        match c[i] {
            '"' => {
                i = string_end(c, i);
                continue;
            }
            '\'' => {
                i = char_literal_end(c, i);
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses in src/api/mod.rs");
}

/// Splits call arguments at top-level commas.
fn split_args(args: &str) -> Vec<String> {
    let c: Vec<char> = args.chars().collect();
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '"' => {
                i = string_end(&c, i);
                continue;
            }
            '\'' => {
                i = char_literal_end(&c, i);
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(c[start..i].iter().collect::<String>().trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last: String = c[start..].iter().collect::<String>().trim().to_string();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

fn is_ident_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// A method-call chain `.a(..).b(..)` starting at `pos`: the calls and where the chain ends.
/// With `leading_dot` false the first call has no dot (`get(x).post(y)`).
fn call_chain(c: &[char], mut pos: usize, leading_dot: bool) -> (Vec<(String, String)>, usize) {
    let mut calls = Vec::new();
    let mut first = true;
    loop {
        let mut p = pos;
        while p < c.len() && c[p].is_whitespace() {
            p += 1;
        }
        if leading_dot || !first {
            if c.get(p) != Some(&'.') {
                break;
            }
            p += 1;
            while p < c.len() && c[p].is_whitespace() {
                p += 1;
            }
        }
        first = false;
        let name_start = p;
        while p < c.len() && (is_ident_char(c[p]) || c[p] == ':') {
            p += 1;
        }
        let name: String = c[name_start..p].iter().collect();
        while p < c.len() && c[p].is_whitespace() {
            p += 1;
        }
        if name.is_empty() || c.get(p) != Some(&'(') {
            break;
        }
        let close = matching_paren(c, p);
        calls.push((name, c[p + 1..close].iter().collect()));
        pos = close + 1;
    }
    (calls, pos)
}

fn string_literal(arg: &str) -> String {
    let a = arg.trim();
    assert!(
        a.len() >= 2 && a.starts_with('"') && a.ends_with('"'),
        "expected a string literal in src/api/mod.rs, got {a:?}; teach tests/openapi.rs this form"
    );
    a[1..a.len() - 1].to_string()
}

/// The HTTP methods of a method router expression such as `post(a::b).get(a::c)`.
fn methods_of(expr: &str) -> Vec<String> {
    let c: Vec<char> = expr.trim().chars().collect();
    let (calls, end) = call_chain(&c, 0, false);
    assert!(
        !calls.is_empty() && c[end..].iter().all(|ch| ch.is_whitespace()),
        "cannot read the method router {expr:?} in src/api/mod.rs; teach tests/openapi.rs this form"
    );
    calls
        .into_iter()
        .map(|(name, _)| {
            let m = name.trim_start_matches("axum::routing::");
            let m = m.strip_suffix("_service").unwrap_or(m);
            assert!(
                HTTP_METHODS.contains(&m),
                "unknown method router {name:?} in src/api/mod.rs; teach tests/openapi.rs"
            );
            m.to_string()
        })
        .collect()
}

/// One `Router::new()…` chain: its own routes and the routers it nests or merges.
#[derive(Default)]
struct Chain {
    routes: Vec<(String, String)>,
    nested: Vec<(String, Nested)>,
}

enum Nested {
    Var(String),
    Inline(Box<Chain>),
}

fn parse_chain(c: &[char], start: usize) -> (Chain, usize) {
    let (calls, end) = call_chain(c, start, true);
    let mut chain = Chain::default();
    for (name, args) in calls {
        let args = split_args(&args);
        match name.as_str() {
            "route" => {
                assert_eq!(args.len(), 2, "route takes a path and a method router");
                let path = string_literal(&args[0]);
                for m in methods_of(&args[1]) {
                    chain.routes.push((path.clone(), m));
                }
            }
            "nest" | "merge" => {
                let (prefix, target) = if name == "nest" {
                    (string_literal(&args[0]), args[1].trim().to_string())
                } else {
                    (String::new(), args[0].trim().to_string())
                };
                let nested = if let Some(rest) = target.strip_prefix("Router::new()") {
                    let rc: Vec<char> = rest.chars().collect();
                    Nested::Inline(Box::new(parse_chain(&rc, 0).0))
                } else {
                    assert!(
                        target.chars().all(is_ident_char),
                        "cannot read the router {target:?} given to {name} in src/api/mod.rs; \
                         teach tests/openapi.rs this form"
                    );
                    Nested::Var(target)
                };
                chain.nested.push((prefix, nested));
            }
            "route_service" | "nest_service" | "route_layer" => {
                panic!("src/api/mod.rs uses {name}, which tests/openapi.rs cannot read; teach it")
            }
            _ => {}
        }
    }
    (chain, end)
}

fn flatten(
    chain: &Chain,
    prefix: &str,
    vars: &BTreeMap<String, Chain>,
    out: &mut BTreeSet<(String, String)>,
) {
    for (path, method) in &chain.routes {
        let full = if path == "/" && !prefix.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}{path}")
        };
        assert!(
            out.insert((full.clone(), method.clone())),
            "{method} {full} registered twice"
        );
    }
    for (p, nested) in &chain.nested {
        let prefix = format!("{prefix}{p}");
        match nested {
            Nested::Inline(inner) => flatten(inner, &prefix, vars, out),
            Nested::Var(name) => {
                let inner = vars.get(name).unwrap_or_else(|| {
                    panic!("router {name} nested in src/api/mod.rs is not a `let {name} = Router::new()…` there")
                });
                flatten(inner, &prefix, vars, out);
            }
        }
    }
}

/// The (path, method) pairs a router-building source text registers.
fn routes_in(src: &str) -> BTreeSet<(String, String)> {
    let text = strip_comments(src);
    let c: Vec<char> = text.chars().collect();
    let needle: Vec<char> = "Router::new()".chars().collect();
    let mut vars = BTreeMap::new();
    let mut roots = Vec::new();
    let mut i = 0;
    while i + needle.len() <= c.len() {
        match c[i] {
            '"' => {
                i = string_end(&c, i);
                continue;
            }
            '\'' => {
                i = char_literal_end(&c, i);
                continue;
            }
            _ => {}
        }
        if c[i..i + needle.len()] != needle[..] {
            i += 1;
            continue;
        }
        let (chain, end) = parse_chain(&c, i + needle.len());
        // `let [mut] name = Router::new()`?
        let before: String = c[..i].iter().collect();
        let before = before.trim_end();
        let binding = before.strip_suffix('=').and_then(|b| {
            let b = b.trim_end();
            let name_len = b.chars().rev().take_while(|&ch| is_ident_char(ch)).count();
            let (head, name) = b.split_at(b.len() - name_len);
            let head = head.trim_end();
            let head = head.strip_suffix("mut").map(str::trim_end).unwrap_or(head);
            (!name.is_empty() && head.ends_with("let")).then(|| name.to_string())
        });
        match binding {
            Some(name) => {
                vars.insert(name, chain);
            }
            None => roots.push(chain),
        }
        // Chains nested inline were read with their parent.
        i = end;
    }
    assert_eq!(
        roots.len(),
        1,
        "expected exactly one unbound Router::new() chain (the root router)"
    );
    let mut out = BTreeSet::new();
    flatten(&roots[0], "", &vars, &mut out);
    assert!(!out.is_empty(), "no routes found");
    out
}

/// The (path, method) pairs the router in `src/api/mod.rs` registers, read from its source.
fn router_routes() -> BTreeSet<(String, String)> {
    routes_in(&std::fs::read_to_string("src/api/mod.rs").expect("read src/api/mod.rs"))
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for (key, _) in item.as_object().expect("path item is an object") {
            if HTTP_METHODS.contains(&key.as_str()) {
                out.insert((path.clone(), key.clone()));
            }
        }
    }
    out
}

#[test]
fn route_parser_reads_nesting_and_method_chains() {
    let src = r#"
        // .route("/commented", get(x))
        /* .route("/block", get(x)) */
        let inner = Router::new().route("/b/{id}", get(h::b).delete(h::d)); // trailing
        let s = "Router::new()";
        let q = '"';
        Router::new()
            .route("/a", post(h::a))
            .nest("/v1", inner)
            .nest("/v2", Router::new().route("/c", put(h::c)))
            .fallback(nf)
            .layer(X::custom(|_| { f(")") }))
    "#;
    let want: BTreeSet<(String, String)> = [
        ("/a", "post"),
        ("/v1/b/{id}", "get"),
        ("/v1/b/{id}", "delete"),
        ("/v2/c", "put"),
    ]
    .into_iter()
    .map(|(p, m)| (p.to_string(), m.to_string()))
    .collect();
    assert_eq!(routes_in(src), want);
}

#[tokio::test]
async fn documents_exactly_the_routes_the_router_serves() {
    let app = app().await;
    let doc = served_doc(&app).await;
    let code = router_routes();
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = code.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&code).collect();
    assert!(
        undocumented.is_empty() && phantom.is_empty(),
        "routes served but not documented: {undocumented:?}; documented but not served: {phantom:?}"
    );
    // Sanity: the parser found the routes the task relies on, and the router really serves them.
    for (path, method) in [
        ("/healthz", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/work-orders", "post"),
        ("/api/v1/work-orders/{key}/transitions", "post"),
    ] {
        assert!(code.contains(&(path.to_string(), method.to_string())));
    }
    for (path, _) in &code {
        let uri = path.replace("{key}", "1").replace("{id}", "x");
        let a = app.get(&uri, Some(SUPERVISOR)).await;
        assert_ne!(
            a.json()["message"].as_str().unwrap_or_default(),
            format!("route {uri} not found"),
            "{path} is parsed from src/api/mod.rs but the router does not know it"
        );
    }
}

// ------------------------------------------------------------------ 3. structure

/// Every `"$ref"` string in `v`, with where it is.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{at}/{k}");
                if k == "$ref" {
                    out.push((here, x.as_str().unwrap_or_default().to_string()));
                } else {
                    refs(x, &here, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are used, got {reference:?}"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// `v`, or what it refers to.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(doc, resolve(doc, r)),
        None => v,
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if HTTP_METHODS.contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), op));
            }
        }
    }
    out
}

#[tokio::test]
async fn references_resolve_and_operations_are_complete() {
    let app = app().await;
    let doc = served_doc(&app).await;

    let mut all = Vec::new();
    refs(&doc, "", &mut all);
    assert!(!all.is_empty());
    for (at, r) in &all {
        assert!(
            r.starts_with("#/components/"),
            "{at}: {r} is not a component"
        );
        assert!(doc.pointer(&r[1..]).is_some(), "{at}: {r} does not resolve");
    }
    // Discriminator mappings are references too.
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let Some(mapping) = schema["discriminator"]["mapping"].as_object() {
            for (value, r) in mapping {
                let r = r.as_str().expect("mapping value is a string");
                let target = resolve(&doc, r);
                let prop = &target["properties"][schema["discriminator"]["propertyName"]
                    .as_str()
                    .expect("propertyName")];
                let accepts = prop["const"] == *value
                    || prop["enum"]
                        .as_array()
                        .is_some_and(|e| e.contains(&json!(value)));
                assert!(
                    accepts,
                    "{name}: mapping {value} → {r}, which does not accept it"
                );
            }
        }
    }

    let global_security = doc["security"].as_array().expect("global security");
    assert!(!global_security.is_empty());
    let mut public = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{what}: no operationId");
        assert!(
            ids.insert(id.to_string()),
            "{what}: operationId {id} repeats"
        );
        assert!(
            op["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: no description"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{what}: no 2xx response"
        );
        for (code, r) in responses {
            assert!(
                deref(&doc, r)["description"].is_string(),
                "{what} {code}: response without a description"
            );
        }
        let secured = match op.get("security") {
            Some(s) => !s.as_array().expect("security is an array").is_empty(),
            None => true,
        };
        if secured {
            assert!(responses.contains_key("401"), "{what}: secured but no 401");
            let roles = op["x-roles"].as_array().map(Vec::len).unwrap_or_default();
            assert!(roles > 0, "{what}: secured but names no roles (x-roles)");
        } else {
            public.insert(path.clone());
        }
        if op.get("requestBody").is_some() {
            assert!(
                responses.contains_key("415"),
                "{what}: takes a JSON body but documents no 415"
            );
            assert!(
                responses.contains_key("400"),
                "{what}: takes a JSON body but documents no 400"
            );
        }
        // Path parameters: each {name} in the path is declared, and nothing else is.
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| deref(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{what}: path parameter not required");
                p["name"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(in_path, declared, "{what}: path parameters");
    }
    let want: BTreeSet<String> = ["/healthz", "/api/v1/openapi.json"]
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(public, want, "operations without authentication");
}

// ------------------------------------------------------------------ fixed lists

fn enum_of(doc: &Value, schema: &str) -> Vec<String> {
    doc["components"]["schemas"][schema]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components/schemas/{schema} has no enum"))
        .iter()
        .map(|v| v.as_str().expect("string enum").to_string())
        .collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn fixed_lists_are_the_codes_lists() {
    let app = app().await;
    let doc = served_doc(&app).await;
    use hotline::cases::lifecycle::{Status, ACTIONS};
    assert_eq!(enum_of(&doc, "Channel"), strings(hotline::cases::CHANNELS));
    assert_eq!(
        enum_of(&doc, "Priority"),
        strings(hotline::cases::PRIORITIES)
    );
    assert_eq!(
        enum_of(&doc, "RequestType"),
        strings(hotline::config::REQUEST_TYPES)
    );
    assert_eq!(
        enum_of(&doc, "Disposition"),
        strings(hotline::cases::DISPOSITIONS)
    );
    assert_eq!(enum_of(&doc, "Action"), strings(&ACTIONS));
    let statuses: Vec<String> = Status::ALL.iter().map(|s| s.as_str().to_string()).collect();
    assert_eq!(enum_of(&doc, "Status"), statuses);
    assert_eq!(
        doc["components"]["schemas"]["Queue"]["properties"]["strategy"]["enum"],
        json!(hotline::config::QUEUE_STRATEGIES)
    );
    // One command schema per action, reachable through the discriminator.
    let mapping = doc["components"]["schemas"]["Command"]["discriminator"]["mapping"]
        .as_object()
        .expect("Command discriminator mapping");
    for action in ACTIONS {
        assert!(
            mapping.contains_key(action),
            "Command mapping lacks {action}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["Command"]["discriminator"]["propertyName"],
        "action"
    );
}

// ------------------------------------------------------------------ request schemas vs serde

/// A value that fits `schema` (a simple one: the first enum value, the minimum, …).
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = deref(doc, schema);
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema["enum"].as_array() {
        return e[0].clone();
    }
    if let Some(alts) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        return sample(doc, &alts[0]);
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types[0].as_str().unwrap_or_default().to_string(),
        t => t.as_str().unwrap_or_default().to_string(),
    };
    match ty.as_str() {
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or_else(|| json!(1)),
        "boolean" => json!(true),
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            _ => json!("1"),
        },
        other => panic!("no sample for type {other:?}"),
    }
}

fn required_of(schema: &Value) -> Vec<String> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().expect("required name").to_string())
        .collect()
}

/// The schema's required members accept a minimal body, each missing one is refused, and each
/// optional member is accepted — as `T`'s serde implementation sees it.
fn check_request_schema<T: serde::de::DeserializeOwned>(doc: &Value, name: &str) {
    let schema = deref(doc, &doc["components"]["schemas"][name]);
    assert_eq!(
        schema["additionalProperties"], false,
        "{name}: the type refuses unknown fields"
    );
    let props = schema["properties"].as_object().expect("properties");
    let required = required_of(schema);
    let minimal: serde_json::Map<String, Value> = required
        .iter()
        .map(|r| (r.clone(), sample(doc, &props[r])))
        .collect();
    if let Err(e) = serde_json::from_value::<T>(Value::Object(minimal.clone())) {
        panic!("{name}: the schema's minimal body {minimal:?} is refused: {e}");
    }
    for r in &required {
        let mut body = minimal.clone();
        body.remove(r);
        assert!(
            serde_json::from_value::<T>(Value::Object(body)).is_err(),
            "{name}: {r} is documented as required but the body is accepted without it"
        );
    }
    for (p, s) in props {
        if required.contains(p) {
            continue;
        }
        let mut body = minimal.clone();
        body.insert(p.clone(), sample(doc, s));
        if let Err(e) = serde_json::from_value::<T>(Value::Object(body)) {
            panic!("{name}: documented member {p} is refused: {e}");
        }
    }
    let mut body = minimal.clone();
    body.insert("not_documented".into(), json!(1));
    assert!(
        serde_json::from_value::<T>(Value::Object(body)).is_err(),
        "{name}: an unknown member is accepted"
    );
}

#[tokio::test]
async fn request_schemas_agree_with_the_serde_types() {
    let app = app().await;
    let doc = served_doc(&app).await;
    check_request_schema::<hotline::cases::NewWorkOrder>(&doc, "NewWorkOrder");
    let command = &doc["components"]["schemas"]["Command"];
    let variants = command["oneOf"].as_array().expect("Command.oneOf");
    assert_eq!(variants.len(), hotline::cases::lifecycle::ACTIONS.len());
    for v in variants {
        let name = v["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .expect("Command.oneOf holds schema references");
        check_request_schema::<hotline::cases::Command>(&doc, name);
        // Every spelling of the action the schema allows is one serde accepts.
        let schema = &doc["components"]["schemas"][name];
        let action = &schema["properties"]["action"];
        let spellings: Vec<Value> = match action.get("const") {
            Some(c) => vec![c.clone()],
            None => action["enum"].as_array().expect("action enum").clone(),
        };
        for spelling in spellings {
            let mut body: serde_json::Map<String, Value> = required_of(schema)
                .iter()
                .map(|r| (r.clone(), sample(&doc, &schema["properties"][r])))
                .collect();
            body.insert("action".into(), spelling.clone());
            let cmd: hotline::cases::Command = serde_json::from_value(Value::Object(body))
                .unwrap_or_else(|e| panic!("{name}: action {spelling} refused: {e}"));
            assert_eq!(
                doc["components"]["schemas"]["Command"]["discriminator"]["mapping"][cmd.action()],
                json!(format!("#/components/schemas/{name}")),
                "{name} is not the schema of action {}",
                cmd.action()
            );
        }
    }
}

// ------------------------------------------------------------------ 4. real answers

/// Checks `v` against `schema` (the subset of JSON Schema the document uses): types, enum,
/// const, required and declared members, items, anyOf/oneOf, minimum/maximum.
fn conform(doc: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let schema = deref(doc, schema);
    if let Some(alts) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let fits = alts
            .iter()
            .filter(|alt| {
                let mut e = Vec::new();
                conform(doc, alt, v, at, &mut e);
                e.is_empty()
            })
            .count();
        let one_of = schema.get("oneOf").is_some();
        if fits == 0 || (one_of && fits > 1) {
            errs.push(format!("{at}: {v} fits {fits} of the alternatives"));
        }
        return;
    }
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            t => vec![t.as_str().unwrap_or_default()],
        };
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !fits {
            errs.push(format!("{at}: {v} is not of type {ty}"));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            errs.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema["enum"].as_array() {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} is not one of {}", schema["enum"]));
        }
    }
    if let (Some(min), Some(x)) = (schema["minimum"].as_f64(), v.as_f64()) {
        if x < min {
            errs.push(format!("{at}: {x} < minimum {min}"));
        }
    }
    if let (Some(max), Some(x)) = (schema["maximum"].as_f64(), v.as_f64()) {
        if x > max {
            errs.push(format!("{at}: {x} > maximum {max}"));
        }
    }
    if let Value::Object(m) = v {
        let props = schema["properties"].as_object();
        for key in m.keys() {
            let declared = props.is_some_and(|p| p.contains_key(key));
            if !declared && schema["additionalProperties"] == false {
                errs.push(format!("{at}: member {key} is not declared"));
            }
        }
        for r in required_of(schema) {
            if !m.contains_key(&r) {
                errs.push(format!("{at}: required member {r} is missing"));
            }
        }
        if let Some(props) = props {
            for (key, x) in m {
                if let Some(s) = props.get(key) {
                    conform(doc, s, x, &format!("{at}.{key}"), errs);
                }
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            conform(doc, s, x, &format!("{at}[{i}]"), errs);
        }
    }
}

/// Asserts `a` is an answer the document gives for `method path` (status documented; body fits
/// the documented schema for it; a documented header is present).
fn assert_documented(doc: &Value, method: &str, path: &str, a: &Answer) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let code = a.status.as_u16().to_string();
    let response = op["responses"].get(&code).unwrap_or_else(|| {
        panic!(
            "{method} {path} answered {code}, which it does not document: {}",
            String::from_utf8_lossy(&a.body)
        )
    });
    let response = deref(doc, response);
    if let Some(headers) = response["headers"].as_object() {
        for h in headers.keys() {
            assert!(
                a.headers.contains_key(h.as_str()),
                "{method} {path} {code}: documented header {h} is missing"
            );
        }
    }
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_object() {
        let mut errs = Vec::new();
        conform(doc, schema, &a.json(), "$", &mut errs);
        assert!(
            errs.is_empty(),
            "{method} {path} {code}: the body does not fit its schema:\n{}",
            errs.join("\n")
        );
    }
}

#[tokio::test]
async fn real_answers_fit_the_documented_schemas() {
    let app = app().await;
    let doc = served_doc(&app).await;
    const ORDERS: &str = "/api/v1/work-orders";
    const ORDER: &str = "/api/v1/work-orders/{key}";
    const TRANSITIONS: &str = "/api/v1/work-orders/{key}/transitions";

    // Create: 201, Location, and the WorkOrder schema, member by member.
    let created = app
        .post(
            ORDERS,
            AGENT,
            json!({"request_type": "complaint", "description": "x"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_documented(&doc, "post", ORDERS, &created);
    let order = created.json();
    let id = order["id"].as_i64().expect("order id");
    assert_eq!(
        created.headers.get(header::LOCATION).unwrap(),
        &format!("{ORDERS}/{id}")
    );
    let wo = &doc["components"]["schemas"]["WorkOrder"];
    let declared = wo["properties"].as_object().expect("WorkOrder.properties");
    for key in order.as_object().expect("order is an object").keys() {
        assert!(declared.contains_key(key), "WorkOrder lacks member {key}");
    }
    for r in required_of(wo) {
        assert!(order.get(&r).is_some(), "answer lacks required member {r}");
    }
    assert_eq!(
        required_of(wo).len(),
        declared.len(),
        "every member is always sent"
    );

    // A fuller order through the channel token, then its life.
    let field = app
        .post(
            ORDERS,
            CHANNEL,
            json!({
                "request_type": "urban-management", "description": "Overflowing bin",
                "priority": "urgent", "title": "Bin", "caller_number": "+86-138",
                "category_id": "E0101", "address": "Renmin Rd 1", "longitude": 101.7,
                "latitude": 26.6, "grid_cell": "510402001001001", "external_ref": "F-1"
            }),
        )
        .await;
    assert_documented(&doc, "post", ORDERS, &field);
    let key = field.json()["number"].as_str().unwrap().to_string();
    let path = format!("{ORDERS}/{key}");
    let tr = format!("{path}/transitions");
    for (token, cmd) in [
        (AGENT, json!({"action": "register", "note": "ok"})),
        (
            AGENT,
            json!({"action": "dispatch", "department": "sanitation"}),
        ),
        (
            DEPT_SANITATION,
            json!({"action": "handle", "result": "emptied"}),
        ),
        (
            SUPERVISOR,
            json!({"action": "rework", "reason": "still full"}),
        ),
        (
            SUPERVISOR,
            json!({"action": "extend", "working_days": 2, "reason": "x"}),
        ),
        (
            DEPT_SANITATION,
            json!({"action": "handle", "result": "emptied again"}),
        ),
        (SUPERVISOR, json!({"action": "verify"})),
        (AGENT, json!({"action": "close"})),
        (
            AGENT,
            json!({"action": "follow_up", "result": "unreachable"}),
        ),
    ] {
        let a = app.post(&tr, token, cmd.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{cmd}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_documented(&doc, "post", TRANSITIONS, &a);
    }
    let events = app
        .get(&format!("{path}/events"), Some(DEPT_SANITATION))
        .await;
    assert_documented(&doc, "get", "/api/v1/work-orders/{key}/events", &events);
    assert_eq!(events.json().as_array().map(Vec::len), Some(10));

    // A merge, seen from the target's trail.
    let dup = app
        .post(
            ORDERS,
            AGENT,
            json!({"request_type": "complaint", "description": "again"}),
        )
        .await
        .json();
    let merged = app
        .post(
            &format!("{ORDERS}/{}/transitions", dup["id"]),
            AGENT,
            json!({"action": "merge", "into": id.to_string()}),
        )
        .await;
    assert_documented(&doc, "post", TRANSITIONS, &merged);
    let target_events = app.get(&format!("{ORDERS}/{id}/events"), Some(AGENT)).await;
    assert_documented(
        &doc,
        "get",
        "/api/v1/work-orders/{key}/events",
        &target_events,
    );

    // Lists and reference data.
    let ok_gets = [
        (format!("{ORDERS}?limit=2&status=received"), ORDERS, AGENT),
        (format!("{ORDERS}?overdue=false&q=bin"), ORDERS, CHANNEL),
        (ORDERS.to_string(), ORDERS, DEPT_ROADS),
        (path.clone(), ORDER, SUPERVISOR),
        (
            "/api/v1/categories?kind=service".into(),
            "/api/v1/categories",
            CHANNEL,
        ),
        ("/api/v1/categories".into(), "/api/v1/categories", AGENT),
        (
            "/api/v1/grid-cells".into(),
            "/api/v1/grid-cells",
            DEPT_ROADS,
        ),
        ("/api/v1/departments".into(), "/api/v1/departments", AGENT),
        ("/api/v1/agents".into(), "/api/v1/agents", AGENT),
        ("/api/v1/queues".into(), "/api/v1/queues", SUPERVISOR),
        ("/api/v1/calls?limit=500".into(), "/api/v1/calls", AGENT),
    ];
    for (uri, template, token) in &ok_gets {
        let a = app.get(uri, Some(token)).await;
        assert_eq!(a.status, StatusCode::OK, "GET {uri}");
        assert_documented(&doc, "get", template, &a);
    }
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_documented(&doc, "get", "/healthz", &health);

    // Errors: each is a documented status with the Error schema.
    let errors: Vec<(&str, &str, Answer, StatusCode)> = vec![
        (
            "get",
            ORDERS,
            app.get(ORDERS, None).await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "get",
            ORDERS,
            app.get(ORDERS, Some("nope")).await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "get",
            ORDERS,
            app.get(&format!("{ORDERS}?limit=0"), Some(AGENT)).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "get",
            ORDERS,
            app.get(&format!("{ORDERS}?status=lost"), Some(AGENT)).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "get",
            ORDERS,
            app.get(&format!("{ORDERS}?colour=red"), Some(AGENT)).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "get",
            ORDER,
            app.get(&format!("{ORDERS}/abc"), Some(AGENT)).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "get",
            ORDER,
            app.get(&format!("{ORDERS}/999999"), Some(AGENT)).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "get",
            ORDER,
            app.get(&format!("{ORDERS}/{id}"), Some(DEPT_ROADS)).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "get",
            ORDER,
            app.get(&format!("{ORDERS}/{id}"), Some(CHANNEL)).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "post",
            ORDERS,
            app.post(
                ORDERS,
                DEPT_ROADS,
                json!({"request_type": "help", "description": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "post",
            ORDERS,
            app.post(
                ORDERS,
                AGENT,
                json!({"request_type": "help", "description": " "}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "post",
            ORDERS,
            app.post(
                ORDERS,
                AGENT,
                json!({"request_type": "gossip", "description": "x"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "post",
            ORDERS,
            app.send(
                "POST",
                ORDERS,
                Some(AGENT),
                Some(("text/plain", "{}".into())),
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "post",
            ORDERS,
            app.send(
                "POST",
                ORDERS,
                Some(AGENT),
                Some(("application/json", "{".into())),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &format!("{ORDERS}/{id}/transitions"),
                SUPERVISOR,
                json!({"action": "verify"}),
            )
            .await,
            StatusCode::CONFLICT,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &format!("{ORDERS}/{id}/transitions"),
                AGENT,
                json!({"action": "verify"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &format!("{ORDERS}/{id}/transitions"),
                AGENT,
                json!({"action": "fly"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &format!("{ORDERS}/{id}/transitions"),
                CHANNEL,
                json!({"action": "register"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &format!("{ORDERS}/999999/transitions"),
                AGENT,
                json!({"action": "register"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        ),
        (
            "post",
            TRANSITIONS,
            app.send(
                "POST",
                &format!("{ORDERS}/{id}/transitions"),
                Some(AGENT),
                Some(("text/plain", "x".into())),
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "get",
            "/api/v1/categories",
            app.get("/api/v1/categories?kind=x", Some(AGENT)).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "get",
            "/api/v1/agents",
            app.get("/api/v1/agents", Some(CHANNEL)).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "get",
            "/api/v1/queues",
            app.get("/api/v1/queues", Some(DEPT_ROADS)).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "get",
            "/api/v1/calls",
            app.get("/api/v1/calls", Some(CHANNEL)).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "get",
            "/api/v1/calls",
            app.get("/api/v1/calls?offset=-1", Some(AGENT)).await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "get",
            "/api/v1/calls/{id}",
            app.get("/api/v1/calls/none", Some(AGENT)).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &tr,
                DEPT_SANITATION,
                json!({"action": "return", "reason": "not ours"}),
            )
            .await,
            StatusCode::CONFLICT,
        ),
        (
            "post",
            TRANSITIONS,
            app.post(
                &tr,
                AGENT,
                json!({"action": "follow_up", "result": "satisfied", "extra": 1}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, template, a, want) in &errors {
        assert_eq!(
            a.status,
            *want,
            "{method} {template}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_documented(&doc, method, template, a);
        if a.status == StatusCode::BAD_REQUEST {
            assert!(a.json()["field"].is_string(), "a 400 names its field");
        }
        if a.status == StatusCode::CONFLICT {
            assert!(
                a.json()["allowed"].is_array(),
                "a 409 lists what is allowed"
            );
        }
    }
}
