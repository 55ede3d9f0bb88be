//! The document itself: it is OpenAPI 3.1 as served, its references resolve, every operation
//! is complete, its fixed lists are the code's lists, and its request schemas agree with the
//! serde types the API deserializes.

use std::collections::BTreeSet;

use axum::http::{header, StatusCode};
use serde_json::{json, Value};

use crate::support::{app, deref, required_of, resolve, served_doc, HTTP_METHODS};

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
        // A WebSocket's success is its handshake's 101.
        assert!(
            responses.keys().any(|k| k.starts_with('2'))
                || (responses.contains_key("101") && op.get("x-message-schema").is_some()),
            "{what}: no 2xx response (or 101 with an x-message-schema)"
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
    let want: BTreeSet<String> = [
        "/healthz",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/session",
        "/",
        "/wallboard",
        "/reports",
        "/overview",
        "/assets/{file}",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(public, want, "operations without authentication");
}

// ------------------------------------------------------------------ fixed lists

pub(crate) fn enum_of(doc: &Value, schema: &str) -> Vec<String> {
    doc["components"]["schemas"][schema]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components/schemas/{schema} has no enum"))
        .iter()
        .map(|v| v.as_str().expect("string enum").to_string())
        .collect()
}

pub(crate) fn strings(list: &[&str]) -> Vec<String> {
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
/// The schema's required members accept a minimal body, each missing one is refused, and each
/// optional member is accepted — as `T`'s serde implementation sees it.
pub(crate) fn check_request_schema<T: serde::de::DeserializeOwned>(doc: &Value, name: &str) {
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
