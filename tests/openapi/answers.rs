//! Real answers of the API fit the document: each is a documented status code, carries the
//! documented headers, and its body fits the documented response schema.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};

use crate::support::{
    app, deref, required_of, served_doc, Answer, App, AGENT, CHANNEL, DEPT_ROADS, DEPT_SANITATION,
    SUPERVISOR,
};

/// Checks `v` against `schema` (the subset of JSON Schema the document uses): types, enum,
/// const, required and declared members, items, anyOf/oneOf, minimum/maximum.
pub(crate) fn conform(doc: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
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
pub(crate) fn assert_documented(doc: &Value, method: &str, path: &str, a: &Answer) {
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

/// One request of a table: method, URI, token, and body (content type, text).
struct Req {
    method: &'static str,
    uri: String,
    token: Option<&'static str>,
    body: Option<(&'static str, String)>,
}

fn get(uri: impl Into<String>, token: Option<&'static str>) -> Req {
    Req {
        method: "GET",
        uri: uri.into(),
        token,
        body: None,
    }
}

/// A POST with a JSON body, as [`App::post`] sends it.
fn post(uri: impl Into<String>, token: &'static str, body: Value) -> Req {
    post_as(uri, token, "application/json", &body.to_string())
}

fn post_as(
    uri: impl Into<String>,
    token: &'static str,
    content_type: &'static str,
    text: &str,
) -> Req {
    Req {
        method: "POST",
        uri: uri.into(),
        token: Some(token),
        body: Some((content_type, text.to_string())),
    }
}

impl Req {
    async fn send(self, app: &App) -> Answer {
        app.send(self.method, &self.uri, self.token, self.body)
            .await
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
        // Urban-management: the shift lead registers, against the category's criteria.
        (
            SUPERVISOR,
            json!({"action": "register", "note": "ok", "criteria_met": true}),
        ),
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

    // Errors: each is a documented status with the Error schema. All are sent first, in order,
    // then checked.
    let on_order = format!("{ORDERS}/{id}");
    let order_tr = format!("{ORDERS}/{id}/transitions");
    #[rustfmt::skip]
    let requests = [
        (StatusCode::UNAUTHORIZED, ORDERS, get(ORDERS, None)),
        (StatusCode::UNAUTHORIZED, ORDERS, get(ORDERS, Some("nope"))),
        (StatusCode::BAD_REQUEST, ORDERS, get(format!("{ORDERS}?limit=0"), Some(AGENT))),
        (StatusCode::BAD_REQUEST, ORDERS, get(format!("{ORDERS}?status=lost"), Some(AGENT))),
        (StatusCode::BAD_REQUEST, ORDERS, get(format!("{ORDERS}?colour=red"), Some(AGENT))),
        (StatusCode::NOT_FOUND, ORDER, get(format!("{ORDERS}/abc"), Some(AGENT))),
        (StatusCode::NOT_FOUND, ORDER, get(format!("{ORDERS}/999999"), Some(AGENT))),
        (StatusCode::NOT_FOUND, ORDER, get(&on_order, Some(DEPT_ROADS))),
        (StatusCode::NOT_FOUND, ORDER, get(&on_order, Some(CHANNEL))),
        (StatusCode::FORBIDDEN, ORDERS, post(ORDERS, DEPT_ROADS, json!({"request_type": "help", "description": "x"}))),
        (StatusCode::BAD_REQUEST, ORDERS, post(ORDERS, AGENT, json!({"request_type": "help", "description": " "}))),
        (StatusCode::BAD_REQUEST, ORDERS, post(ORDERS, AGENT, json!({"request_type": "gossip", "description": "x"}))),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, ORDERS, post_as(ORDERS, AGENT, "text/plain", "{}")),
        (StatusCode::BAD_REQUEST, ORDERS, post_as(ORDERS, AGENT, "application/json", "{")),
        (StatusCode::CONFLICT, TRANSITIONS, post(&order_tr, SUPERVISOR, json!({"action": "verify"}))),
        (StatusCode::FORBIDDEN, TRANSITIONS, post(&order_tr, AGENT, json!({"action": "verify"}))),
        (StatusCode::BAD_REQUEST, TRANSITIONS, post(&order_tr, AGENT, json!({"action": "fly"}))),
        (StatusCode::NOT_FOUND, TRANSITIONS, post(&order_tr, CHANNEL, json!({"action": "register"}))),
        (StatusCode::NOT_FOUND, TRANSITIONS, post(format!("{ORDERS}/999999/transitions"), AGENT, json!({"action": "register"}))),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, TRANSITIONS, post_as(&order_tr, AGENT, "text/plain", "x")),
        (StatusCode::BAD_REQUEST, "/api/v1/categories", get("/api/v1/categories?kind=x", Some(AGENT))),
        (StatusCode::FORBIDDEN, "/api/v1/agents", get("/api/v1/agents", Some(CHANNEL))),
        (StatusCode::FORBIDDEN, "/api/v1/queues", get("/api/v1/queues", Some(DEPT_ROADS))),
        (StatusCode::FORBIDDEN, "/api/v1/calls", get("/api/v1/calls", Some(CHANNEL))),
        (StatusCode::BAD_REQUEST, "/api/v1/calls", get("/api/v1/calls?offset=-1", Some(AGENT))),
        (StatusCode::NOT_FOUND, "/api/v1/calls/{id}", get("/api/v1/calls/none", Some(AGENT))),
        (StatusCode::CONFLICT, TRANSITIONS, post(&tr, DEPT_SANITATION, json!({"action": "return", "reason": "not ours"}))),
        (StatusCode::BAD_REQUEST, TRANSITIONS, post(&tr, AGENT, json!({"action": "follow_up", "result": "satisfied", "extra": 1}))),
    ];
    let mut errors = Vec::new();
    for (want, template, req) in requests {
        let method = req.method.to_ascii_lowercase();
        errors.push((method, template, req.send(&app).await, want));
    }
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
