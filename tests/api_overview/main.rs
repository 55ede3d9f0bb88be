//! The leader overview (`GET /api/v1/overview`) and the monthly evaluation
//! (`GET /api/v1/reports/evaluation`), on SQLite and on the real PostgreSQL: overview figures
//! of a small seeded city (open, overdue with paused clocks left out, parked, today, by
//! district, grid cell and category, the overdue list, the department ranking, a district
//! filter), the evaluation of a hand-computed October (events at the month's local-time
//! edges, reports, marks, withdrawn marks), CSV, marks naming an inspector, and the 400/403/422
//! answers. Orders and events are written as raw rows, as the workflow writes them.

#[path = "../common/mod.rs"]
mod common;
mod evaluation;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use common::http::{get, send};
use common::{Backend, TestStore};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::Connection;
use tower::ServiceExt;

use evaluation::*;

both_backends!(
    overview_of_a_seeded_city,
    evaluation_of_a_hand_computed_month,
    marks_name_an_inspector,
    bad_parameters_and_roles,
);

const LEADER: &str = "demo-leader";
const SUPERVISOR: &str = "demo-supervisor";

/// An order row as the workflow leaves it.
#[derive(Default, Clone)]
struct Row {
    number: &'static str,
    channel: &'static str,
    status: &'static str,
    category: Option<&'static str>,
    grid: Option<&'static str>,
    district: Option<&'static str>,
    department: Option<&'static str>,
    deadline: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    reporter_id: Option<&'static str>,
    registered_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

const INSERT_ORDER: &str = "INSERT INTO work_orders (number, channel, request_type, status, \
    priority, description, category_id, grid_cell, district, department_id, deadline, paused_at, \
    reporter_id, registered_at, created_by, created_at, updated_at, closed_at) VALUES ($1, $2, \
    'urban-management', $3, 'normal', 'seeded', $4, $5, $6, $7, $8, $9, $10, $11, 'test', $12, \
    $12, $13) RETURNING id";

const INSERT_EVENT: &str = "INSERT INTO case_events (order_id, at, actor, actor_role, action, \
    data) VALUES ($1, $2, 'test', 'supervisor', $3, $4)";

const INSERT_MARK: &str = "INSERT INTO order_marks (work_order_id, kind, withdrawn, note, \
    marked_by, marked_at, inspector) VALUES ($1, $2, $3, NULL, 'supervisor', $4, $5)";

/// Raw rows into either database.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            Db::Sqlite($c) => $body,
            Db::Pg($c) => $body,
        }
    };
}

impl Db {
    async fn open(ts: &TestStore, b: Backend) -> Db {
        match b {
            Backend::Sqlite => Db::Sqlite(sqlx::SqliteConnection::connect(&ts.url).await.unwrap()),
            Backend::Postgres => Db::Pg(sqlx::PgConnection::connect(&ts.url).await.unwrap()),
        }
    }

    async fn order(&mut self, r: &Row, default_created: DateTime<Utc>) -> i64 {
        let channel = if r.channel.is_empty() {
            "field-inspector"
        } else {
            r.channel
        };
        on_db!(self, |c| sqlx::query_scalar::<_, i64>(INSERT_ORDER)
            .bind(r.number)
            .bind(channel)
            .bind(r.status)
            .bind(r.category)
            .bind(r.grid)
            .bind(r.district)
            .bind(r.department)
            .bind(r.deadline)
            .bind(r.paused_at)
            .bind(r.reporter_id)
            .bind(r.registered_at)
            .bind(r.created_at.unwrap_or(default_created))
            .bind(r.closed_at)
            .fetch_one(&mut *c)
            .await
            .unwrap())
    }

    async fn event(&mut self, order: i64, action: &str, at: DateTime<Utc>, data: Value) {
        on_db!(self, |c| {
            sqlx::query(INSERT_EVENT)
                .bind(order)
                .bind(at)
                .bind(action)
                .bind(sqlx::types::Json(data))
                .execute(&mut *c)
                .await
                .unwrap();
        });
    }

    async fn mark(
        &mut self,
        order: i64,
        kind: &str,
        withdrawn: bool,
        at: DateTime<Utc>,
        inspector: &str,
    ) {
        on_db!(self, |c| {
            sqlx::query(INSERT_MARK)
                .bind(order)
                .bind(kind)
                .bind(withdrawn)
                .bind(at)
                .bind(inspector)
                .execute(&mut *c)
                .await
                .unwrap();
        });
    }
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

/// The city now: six open orders (two overdue; one returned and one parked past their deadline
/// but paused), three closed, one rejected; events of the last 30 days and one older.
async fn seed_city(db: &mut Db, now: DateTime<Utc>) {
    let two_days_ago = now - hours(48);
    let base = Row {
        status: "dispatched",
        district: Some("东区"),
        grid: Some("510402001001001"),
        category: Some("E0101"),
        department: Some("sanitation"),
        ..Default::default()
    };
    let orders = [
        Row {
            number: "A1",
            deadline: Some(now - hours(5)),
            ..base.clone()
        },
        Row {
            number: "A2",
            status: "accepted",
            deadline: Some(now + hours(2)),
            ..base.clone()
        },
        Row {
            number: "A3",
            status: "returned",
            grid: Some("510402001001002"),
            category: Some("E0402"),
            department: Some("roads"),
            deadline: Some(now - hours(3)),
            paused_at: Some(now - hours(4)),
            ..base.clone()
        },
        Row {
            number: "A4",
            status: "parked",
            grid: Some("510402001001002"),
            category: Some("E0402"),
            department: Some("roads"),
            deadline: Some(now - hours(30)),
            paused_at: Some(now - hours(40)),
            ..base.clone()
        },
        Row {
            number: "A5",
            status: "handled",
            district: Some("西区"),
            grid: None,
            category: Some("E0501"),
            department: Some("market"),
            deadline: Some(now - hours(1)),
            ..base.clone()
        },
        Row {
            number: "A6",
            status: "closed",
            created_at: Some(now - hours(240)),
            closed_at: Some(now - hours(48)),
            deadline: Some(now - hours(72)),
            ..base.clone()
        },
        Row {
            number: "A7",
            status: "closed",
            grid: Some("510402001001002"),
            category: Some("E0402"),
            department: Some("roads"),
            created_at: Some(now - Duration::seconds(1)),
            closed_at: Some(now - Duration::seconds(1)),
            deadline: Some(now + hours(24)),
            ..base.clone()
        },
        Row {
            number: "A8",
            status: "rejected",
            district: Some("西区"),
            grid: None,
            category: Some("E0501"),
            department: None,
            created_at: Some(now - hours(960)),
            ..base.clone()
        },
        Row {
            number: "A9",
            status: "closed",
            created_at: Some(now - hours(1000)),
            closed_at: Some(now - hours(960)),
            deadline: Some(now - hours(900)),
            ..base.clone()
        },
        Row {
            number: "A10",
            status: "received",
            grid: Some("510402002003001"),
            department: None,
            deadline: None,
            created_at: Some(now - Duration::seconds(1)),
            ..base.clone()
        },
    ];
    let mut ids = Vec::new();
    for o in &orders {
        ids.push(db.order(o, two_days_ago).await);
    }
    let id = |n: &str| ids[orders.iter().position(|o| o.number == n).unwrap()];
    let events = [
        (
            "A1",
            "dispatch",
            hours(24),
            json!({"department": "sanitation"}),
        ),
        (
            "A2",
            "dispatch",
            hours(24),
            json!({"department": "sanitation"}),
        ),
        ("A3", "dispatch", hours(48), json!({"department": "roads"})),
        (
            "A3",
            "return_order",
            hours(24),
            json!({"department": "roads"}),
        ),
        (
            "A5",
            "handle",
            hours(2),
            json!({"department": "market", "on_time": true}),
        ),
        (
            "A7",
            "handle",
            hours(24),
            json!({"department": "roads", "on_time": true}),
        ),
        (
            "A6",
            "handle",
            hours(120),
            json!({"department": "sanitation", "on_time": false}),
        ),
        (
            "A9",
            "dispatch",
            hours(960),
            json!({"department": "sanitation"}),
        ),
        (
            "A9",
            "handle",
            hours(950),
            json!({"department": "sanitation", "on_time": true}),
        ),
        (
            "A1",
            "accept",
            hours(20),
            json!({"department": "sanitation"}),
        ),
    ];
    for (o, action, ago, data) in events {
        db.event(id(o), action, now - ago, data).await;
    }
}

fn row<'a>(rows: &'a Value, key: &str, value: Value) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row {key} = {value} in {rows}"))
}

async fn overview_of_a_seeded_city(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let mut db = Db::open(&ts, b).await;
    let now = Utc::now();
    seed_city(&mut db, now).await;

    let r = get(&app, "/api/v1/overview", LEADER).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let o = r.json();
    let t = &o["totals"];
    assert_eq!(
        (
            &t["open"],
            &t["overdue"],
            &t["parked"],
            &t["reported_today"],
            &t["closed_today"]
        ),
        (&json!(6), &json!(2), &json!(1), &json!(2), &json!(1)),
        "{t}"
    );
    assert_eq!(
        t["by_status"],
        json!({"accepted": 1, "closed": 3, "dispatched": 1, "handled": 1, "parked": 1,
               "received": 1, "rejected": 1, "returned": 1})
    );
    let east = row(&o["districts"], "key", json!("东区"));
    assert_eq!(
        (
            &east["open"],
            &east["overdue"],
            &east["parked"],
            &east["closed_30d"]
        ),
        (&json!(5), &json!(1), &json!(1), &json!(2))
    );
    let west = row(&o["districts"], "key", json!("西区"));
    assert_eq!(
        (&west["open"], &west["overdue"], &west["closed_30d"]),
        (&json!(1), &json!(1), &json!(0))
    );

    let cell = row(&o["grid_cells"], "key", json!("510402001001002"));
    assert_eq!(
        (
            &cell["open"],
            &cell["overdue"],
            &cell["parked"],
            &cell["closed_30d"]
        ),
        (&json!(2), &json!(0), &json!(1), &json!(1))
    );
    assert!(cell["name"].is_string(), "{cell}");
    let none = row(&o["grid_cells"], "key", Value::Null);
    assert_eq!(none["open"], 1);

    let e0101 = row(&o["categories"], "category_id", json!("E0101"));
    assert_eq!(
        (
            &e0101["open"],
            &e0101["overdue"],
            &e0101["closed_30d"],
            &e0101["on_time_closure_rate"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(0.0))
    );
    let e0402 = row(&o["categories"], "category_id", json!("E0402"));
    assert_eq!(
        (
            &e0402["open"],
            &e0402["overdue"],
            &e0402["closed_30d"],
            &e0402["on_time_closure_rate"]
        ),
        (&json!(2), &json!(0), &json!(1), &json!(1.0))
    );
    let e0501 = row(&o["categories"], "category_id", json!("E0501"));
    assert_eq!(
        (
            &e0501["open"],
            &e0501["overdue"],
            &e0501["on_time_closure_rate"]
        ),
        (&json!(1), &json!(1), &Value::Null)
    );

    let overdue = o["overdue_orders"].as_array().unwrap();
    let numbers: Vec<_> = overdue
        .iter()
        .map(|x| x["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["A1", "A5"]);
    assert_eq!(overdue[0]["overdue_hours"], 5.0);
    assert_eq!(overdue[0]["department_id"], "sanitation");
    assert_eq!(overdue[1]["overdue_hours"], 1.0);

    let ranking: Vec<_> = o["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rank"].as_u64().unwrap(),
                d["department"].as_str().unwrap().to_string(),
                [
                    &d["dispatched"],
                    &d["handled"],
                    &d["handled_on_time"],
                    &d["returned"],
                    &d["overdue_open"],
                ]
                .map(|v| v.as_i64().unwrap()),
                d["on_time_rate"].as_f64(),
            )
        })
        .collect();
    let want = |r: u64, d: &str, n: [i64; 5], rate: Option<f64>| (r, d.to_string(), n, rate);
    assert_eq!(
        ranking,
        [
            want(1, "roads", [1, 1, 1, 1, 0], Some(1.0)),
            want(2, "market", [0, 1, 1, 0, 1], Some(1.0)),
            want(3, "sanitation", [2, 1, 0, 0, 1], Some(0.0)),
            want(4, "enforcement", [0; 5], None),
            want(5, "housing", [0; 5], None),
            want(6, "landscaping", [0; 5], None),
        ]
    );

    // One district: its orders only, the ranking from its orders' events.
    let r = get(
        &app,
        "/api/v1/overview?district=%E8%A5%BF%E5%8C%BA",
        SUPERVISOR,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let w = r.json();
    assert_eq!(w["district"], "西区");
    assert_eq!(
        (&w["totals"]["open"], &w["totals"]["overdue"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        w["totals"]["by_status"],
        json!({"handled": 1, "rejected": 1})
    );
    assert_eq!(w["overdue_orders"].as_array().unwrap().len(), 1);
    let market = row(&w["departments"], "department", json!("market"));
    assert_eq!(
        (&market["rank"], &market["handled"]),
        (&json!(1), &json!(1))
    );
    let roads = row(&w["departments"], "department", json!("roads"));
    assert_eq!(roads["dispatched"], 0);
}

async fn marks_name_an_inspector(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let mut db = Db::open(&ts, b).await;
    let id = db
        .order(
            &Row {
                number: "M1",
                status: "closed",
                reporter_id: Some("inspector-02"),
                ..Default::default()
            },
            Utc::now(),
        )
        .await;
    let path = &format!("/api/v1/work-orders/{id}/marks");
    let r = send(
        &app,
        Method::POST,
        path,
        SUPERVISOR,
        Some(json!({"kind": "wrong", "inspector": "inspector-02"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["inspector"], "inspector-02");
    let r = send(
        &app,
        Method::POST,
        path,
        SUPERVISOR,
        Some(json!({"kind": "missed", "inspector": "nobody"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["field"], "inspector");
    let r = send(
        &app,
        Method::POST,
        path,
        SUPERVISOR,
        Some(json!({"kind": "missed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["inspector"], Value::Null);
    let marks = get(&app, path, SUPERVISOR).await.json();
    assert_eq!(
        marks.as_array().unwrap().len(),
        2,
        "the refused mark wrote nothing"
    );

    let month = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string();
    let r = get(
        &app,
        &format!("/api/v1/reports/evaluation?month={month}&by=inspector"),
        LEADER,
    )
    .await;
    let i2 = r.json();
    let i2 = row(&i2["rows"], "inspector", json!("inspector-02"));
    assert_eq!((&i2["wrong"], &i2["missed"]), (&json!(1), &json!(0)));
}

async fn bad_parameters_and_roles(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let eval = "/api/v1/reports/evaluation";
    for (query, field) in [
        ("", "month"),
        ("?month=2026-13", "month"),
        ("?month=october", "month"),
        ("?month=2026-10&by=team", "by"),
        ("?month=2026-10&format=xml", "format"),
    ] {
        let r = get(&app, &format!("{eval}{query}"), LEADER).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{query}: {}", r.text());
    }
    let r = get(&app, &format!("{eval}?month=2026-10&color=red"), LEADER).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = get(&app, "/api/v1/overview?district=x&limit=3", LEADER).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let long = "区".repeat(101);
    let r = get(
        &app,
        &format!("/api/v1/overview?district={}", urlencode(&long)),
        LEADER,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.json()["field"], "district");

    for token in [
        "demo-agent-1001",
        "demo-dept-sanitation",
        "demo-inspector-01",
        "demo-channel",
        "demo-110",
    ] {
        for path in [
            "/api/v1/overview",
            "/api/v1/reports/evaluation?month=2026-10",
        ] {
            let r = get(&app, path, token).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{token} {path}: {}",
                r.text()
            );
        }
    }
    for token in [LEADER, SUPERVISOR, "demo-admin"] {
        let r = get(&app, "/api/v1/overview", token).await;
        assert_eq!(r.status, StatusCode::OK, "{token}: {}", r.text());
        assert_eq!(r.json()["totals"]["open"], 0);
    }
    let r = get(&app, "/api/v1/overview", "no-such-token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The page is served without a token (it asks for one).
    let page = app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/overview")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("/assets/overview.js"));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
