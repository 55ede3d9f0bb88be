//! The document names exactly the routes `src/api/mod.rs` registers. The routes are read from
//! that file's source with a small parser of `Router::new()` chains (nesting, merging, method
//! chains), which is itself tested here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::support::{app, served_doc, HTTP_METHODS, SUPERVISOR};

// ------------------------------------------------------------------ reading the router source

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
        "expected a string literal in src/api/mod.rs, got {a:?}; teach tests/openapi/routes.rs this form"
    );
    a[1..a.len() - 1].to_string()
}

/// The HTTP methods of a method router expression such as `post(a::b).get(a::c)`.
fn methods_of(expr: &str) -> Vec<String> {
    let c: Vec<char> = expr.trim().chars().collect();
    let (calls, end) = call_chain(&c, 0, false);
    assert!(
        !calls.is_empty() && c[end..].iter().all(|ch| ch.is_whitespace()),
        "cannot read the method router {expr:?} in src/api/mod.rs; teach tests/openapi/routes.rs this form"
    );
    calls
        .into_iter()
        // A layer on a method router (e.g. a body limit) adds no method.
        .filter(|(name, _)| name != "layer")
        .map(|(name, _)| {
            let m = name.trim_start_matches("axum::routing::");
            let m = m.strip_suffix("_service").unwrap_or(m);
            assert!(
                HTTP_METHODS.contains(&m),
                "unknown method router {name:?} in src/api/mod.rs; teach tests/openapi/routes.rs"
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
                         teach tests/openapi/routes.rs this form"
                    );
                    Nested::Var(target)
                };
                chain.nested.push((prefix, nested));
            }
            "route_service" | "nest_service" | "route_layer" => {
                panic!("src/api/mod.rs uses {name}, which tests/openapi/routes.rs cannot read; teach it")
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
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/mod.rs");
    routes_in(&std::fs::read_to_string(path).expect("read src/api/mod.rs"))
}

// ------------------------------------------------------------------ the tests

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
        let uri = path
            .replace("{key}", "1")
            .replace("{id}", "x")
            .replace("{file}", "style.css");
        let a = app.get(&uri, Some(SUPERVISOR)).await;
        if [
            "/metrics",
            "/",
            "/wallboard",
            "/reports",
            "/overview",
            "/assets/{file}",
        ]
        .contains(&path.as_str())
        {
            // Text or HTML, not JSON.
            assert_eq!(a.status, axum::http::StatusCode::OK, "{path}");
            continue;
        }
        assert_ne!(
            a.json()["message"].as_str().unwrap_or_default(),
            format!("route {uri} not found"),
            "{path} is parsed from src/api/mod.rs but the router does not know it"
        );
    }
}
