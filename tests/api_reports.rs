//! Reports over HTTP and in the store, on SQLite and on the real PostgreSQL: KPI rows per day,
//! hour and agent from call records written as the call layer writes them (a call spanning
//! midnight, a short abandon called back, an outbound callback that never counts), each row's
//! `calls_url` listing exactly its calls, CSV, the month view with assessment marks, today per
//! queue, an agent's day, and the 400/403 answers.

mod common;

use axum::http::{header, Method, StatusCode};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use common::http::{get, send, Resp};
use common::{Backend, TestStore};
use hotline::cases::lifecycle::Command;
use hotline::cases::store::{NewCallbackAttempt, OrderKey};
use hotline::cases::{Actor, CallRecord, NewCallbackTask, NewWorkOrder};
use hotline::config::Role;
use serde_json::{json, Value};

both_backends!(
    kpi_rows_trace_to_calls,
    reports_answer_400_naming_the_field_and_403_to_agents,
    month_view_with_marks,
    today_and_an_agents_day,
);

const SUPERVISOR: &str = "demo-supervisor";
const AGENT_1001: &str = "demo-agent-1001";

fn assert_error(r: &Resp, status: StatusCode, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text());
    if let Some(f) = field {
        assert_eq!(r.json()["field"], f, "{}", r.text());
    }
}

/// Local (+08:00, the demo calendar) time on day `d` of November 2026.
fn at(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, d, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn secs(t: DateTime<Utc>, s: i64) -> Option<DateTime<Utc>> {
    Some(t + chrono::Duration::seconds(s))
}

/// An inbound call to 12345, queued 5 s after it came in.
fn inbound(id: &str, offered: DateTime<Utc>) -> CallRecord {
    CallRecord {
        queue: Some("12345".into()),
        queued_at: secs(offered, 5),
        ..CallRecord::inbound(id, "13800000001", "12345", offered)
    }
}

/// Answered by `agent` after `wait` s in the queue, talked `talk` s.
fn answered(id: &str, offered: DateTime<Utc>, agent: &str, wait: i64, talk: i64) -> CallRecord {
    let c = inbound(id, offered);
    let ans = secs(c.queued_at.unwrap(), wait);
    CallRecord {
        agent_id: Some(agent.into()),
        answered_at: ans,
        ended_at: secs(ans.unwrap(), talk),
        disposition: Some("answered".into()),
        ..c
    }
}

/// The 20th: r1 answered by 1001 (wait 10 s, talk 120 s, wrap-up 20 s, satisfied, an order
/// closed at intake), r2 a short abandon (3 s) called back, r3 answered by 1001 at 23:59:30
/// (wait 5 s, talk 180 s, ends on the 21st), an outbound callback; the 21st: r5 abandoned
/// after 30 s. Returns the order's id.
async fn seed(ts: &TestStore) -> i64 {
    let s = &ts.store;
    let mut r1 = answered("r1", at(20, 9, 0, 0), "1001", 10, 120);
    r1.survey = Some(1);
    s.save_call(&r1).await.unwrap();
    s.add_call_wrap_up("r1", 20_000).await.unwrap();
    let r2 = inbound("r2", at(20, 11, 0, 0));
    let r2 = CallRecord {
        ended_at: secs(r2.queued_at.unwrap(), 3),
        disposition: Some("abandoned".into()),
        disposition_detail: Some("queue".into()),
        ..r2
    };
    s.save_call(&r2).await.unwrap();
    let task = s
        .create_callback_task(
            &NewCallbackTask {
                kind: "missed-call".into(),
                number: r2.from_number.clone(),
                queue: r2.queue.clone(),
                call_id: Some("r2".into()),
                max_attempts: 3,
                work_order_id: None,
            },
            at(20, 11, 0, 10),
        )
        .await
        .unwrap();
    s.save_call(&CallRecord {
        callback_task_id: Some(task.id),
        ..r2.clone()
    })
    .await
    .unwrap();
    s.take_callback_task(task.id, "1002", at(20, 11, 5, 0))
        .await
        .unwrap();
    let mut out = answered("r4", at(20, 11, 6, 0), "1002", 0, 60);
    out.direction = "outbound".into();
    out.callback_task_id = Some(task.id);
    s.save_call(&out).await.unwrap();
    s.record_callback_attempt(
        task.id,
        &NewCallbackAttempt {
            at: at(20, 11, 6, 5),
            agent_id: Some("1002".into()),
            call_id: Some("r4".into()),
            outcome: "answered".into(),
            detail: None,
        },
        chrono::Duration::minutes(10),
    )
    .await
    .unwrap();
    s.save_call(&answered("r3", at(20, 23, 59, 30), "1001", 5, 180))
        .await
        .unwrap();
    let r5 = inbound("r5", at(21, 0, 0, 30));
    s.save_call(&CallRecord {
        ended_at: secs(r5.queued_at.unwrap(), 30),
        disposition: Some("abandoned".into()),
        ..r5
    })
    .await
    .unwrap();
    let agent = Actor {
        name: "agent-1001".into(),
        role: Role::Agent,
        department: None,
    };
    let order = s
        .create_order(
            NewWorkOrder {
                request_type: "consultation".into(),
                description: "bus times".into(),
                caller_number: Some("13800000001".into()),
                call_id: Some("r1".into()),
                ..Default::default()
            },
            &agent,
            None,
            at(20, 9, 2, 0),
        )
        .await
        .unwrap();
    let key = OrderKey::Id(order.id);
    s.transition(
        &key,
        &Command::Register {
            category_id: None,
            note: None,
            criteria_met: None,
        },
        &agent,
        at(20, 9, 2, 30),
    )
    .await
    .unwrap();
    s.transition(
        &key,
        &Command::Close {
            note: Some("answered on the call".into()),
        },
        &agent,
        at(20, 9, 3, 0),
    )
    .await
    .unwrap();
    order.id
}

fn row<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {body}"))
}

async fn kpi_rows_trace_to_calls(b: Backend) {
    let ts = TestStore::new(b).await;
    seed(&ts).await;
    let app = ts.router();
    let r = get(
        &app,
        "/api/v1/reports/kpi?from=2026-11-20&to=2026-11-21&group=day",
        SUPERVISOR,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["utc_offset"], "+08:00");
    assert_eq!(body["group"], "day");
    let d20 = row(&body, "2026-11-20");
    // r1 r2 r3 (not the outbound r4); r3 ends on the 21st but came in on the 20th.
    assert_eq!(d20["calls"], 3);
    assert_eq!(d20["offered"], 3);
    assert_eq!(d20["answered"], 2);
    assert_eq!(d20["abandoned"], 1);
    assert_eq!(d20["short_abandoned"], 1);
    assert_eq!(d20["abandoned_called_back"], 1);
    assert_eq!(d20["callback_rate"], 1.0);
    assert_eq!(d20["talk_secs"], 300.0);
    assert_eq!(d20["wrap_up_secs"], 20.0);
    assert_eq!(d20["aht_secs"], 160.0); // (120 + 20 + 180) / 2
    assert_eq!(d20["asa_secs"], 7.5); // (10 + 5) / 2
    assert_eq!(d20["service_level"], 2.0 / 3.0);
    assert_eq!(d20["satisfaction_rate"], 1.0);
    assert_eq!(d20["orders_created"], 1);
    assert_eq!(d20["orders_closed"], 1);
    assert_eq!(d20["first_contact_resolution"], 1.0);
    let d21 = row(&body, "2026-11-21");
    assert_eq!(
        (d21["calls"].as_u64(), d21["abandoned"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(d21["short_abandoned"], 0);
    assert_eq!(d21["connection_rate"], 0.0);
    assert_eq!(d21["satisfaction_rate"], Value::Null);
    assert_eq!(body["total"]["calls"], 4);
    // Every row's calls_url lists exactly its calls.
    for (url, want) in [
        (d20["calls_url"].as_str().unwrap(), 3),
        (d21["calls_url"].as_str().unwrap(), 1),
        (body["total"]["calls_url"].as_str().unwrap(), 4),
    ] {
        let listed = get(&app, url, SUPERVISOR).await;
        assert_eq!(listed.status, StatusCode::OK, "{url}: {}", listed.text());
        assert_eq!(listed.json()["total"], want, "{url}");
    }

    let hours = get(
        &app,
        "/api/v1/reports/kpi?from=2026-11-20&to=2026-11-21&group=hour",
        SUPERVISOR,
    )
    .await
    .json();
    assert_eq!(hours["rows"].as_array().unwrap().len(), 24);
    let h23 = row(&hours, "23");
    assert_eq!(h23["answered"], 1);
    let listed = get(&app, h23["calls_url"].as_str().unwrap(), SUPERVISOR)
        .await
        .json();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], "r3");
    let h00 = row(&hours, "00");
    let listed = get(&app, h00["calls_url"].as_str().unwrap(), SUPERVISOR)
        .await
        .json();
    assert_eq!(listed["items"][0]["id"], "r5", "{listed}");

    let agents = get(
        &app,
        "/api/v1/reports/kpi?from=2026-11-20&group=agent",
        SUPERVISOR,
    )
    .await
    .json();
    let a = row(&agents, "1001");
    assert_eq!(
        (a["answered"].as_u64(), a["orders_created"].as_u64()),
        (Some(2), Some(1))
    );
    let listed = get(&app, a["calls_url"].as_str().unwrap(), SUPERVISOR)
        .await
        .json();
    assert_eq!(listed["total"], 2);
    assert_eq!(
        row(&agents, "1002")["calls"],
        0,
        "the outbound callback never counts"
    );

    let q = get(
        &app,
        "/api/v1/reports/kpi?from=2026-11-20&to=2026-11-21&queue=12319",
        SUPERVISOR,
    )
    .await
    .json();
    assert_eq!(q["total"]["calls"], 0);

    // Filters the calls list gained.
    for (query, want) in [
        ("queued=true&answered=false", 2),
        ("direction=inbound&answered=true", 2),
        ("disposition=abandoned&queued=true", 2),
        ("direction=outbound", 1),
    ] {
        let l = get(&app, &format!("/api/v1/calls?{query}"), SUPERVISOR).await;
        assert_eq!(l.json()["total"], want, "{query}: {}", l.text());
    }
    let bad = get(&app, "/api/v1/calls?offered_hour=24", SUPERVISOR).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, Some("offered_hour"));

    let csv = get(
        &app,
        "/api/v1/reports/kpi?from=2026-11-20&to=2026-11-21&format=csv",
        SUPERVISOR,
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0]
        .starts_with("key,calls,offered,answered,abandoned,short_abandoned,connection_rate,"));
    assert!(lines[0].ends_with(",first_contact_resolution,calls_url"));
    assert!(
        lines[1].starts_with("2026-11-20,3,3,2,1,1,"),
        "{}",
        lines[1]
    );
    assert!(lines[3].starts_with("total,4,4,2,2,1,0.5,"), "{}", lines[3]);
}

async fn reports_answer_400_naming_the_field_and_403_to_agents(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=2026-11-01", "from"),
        ("from=2026-11-02&to=2026-11-01", "to"),
        ("from=2025-01-01&to=2026-01-02", "to"),
        ("from=2026-11-01&group=week", "group"),
        ("from=2026-11-01&format=xml", "format"),
        ("from=2026-11-01&colour=red", "colour"),
    ] {
        let r = get(&app, &format!("/api/v1/reports/kpi?{query}"), SUPERVISOR).await;
        assert_error(&r, StatusCode::BAD_REQUEST, Some(field));
    }
    let ok = get(
        &app,
        "/api/v1/reports/kpi?from=2025-01-01&to=2026-01-01",
        SUPERVISOR,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "366 days are allowed");
    for path in [
        "/api/v1/reports/month",
        "/api/v1/reports/month?month=2026-13",
    ] {
        assert_error(
            &get(&app, path, SUPERVISOR).await,
            StatusCode::BAD_REQUEST,
            Some("month"),
        );
    }
    for path in [
        "/api/v1/reports/kpi?from=2026-11-01",
        "/api/v1/reports/month?month=2026-11",
        "/api/v1/reports/today",
        "/api/v1/agents/1002/day",
    ] {
        assert_error(
            &get(&app, path, AGENT_1001).await,
            StatusCode::FORBIDDEN,
            None,
        );
    }
    let r = get(&app, "/api/v1/reports/today", "nope").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, None);
}

async fn month_view_with_marks(b: Backend) {
    let ts = TestStore::new(b).await;
    let order = seed(&ts).await;
    let app = ts.router();
    let marks = format!("/api/v1/work-orders/{order}/marks");
    let denied = send(
        &app,
        Method::POST,
        &marks,
        AGENT_1001,
        Some(json!({"kind": "missed"})),
    )
    .await;
    assert_error(&denied, StatusCode::FORBIDDEN, None);
    let bad = send(
        &app,
        Method::POST,
        &marks,
        SUPERVISOR,
        Some(json!({"kind": "late"})),
    )
    .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, Some("kind"));
    let none = send(
        &app,
        Method::POST,
        "/api/v1/work-orders/999999/marks",
        SUPERVISOR,
        Some(json!({"kind": "wrong"})),
    )
    .await;
    assert_error(&none, StatusCode::NOT_FOUND, None);
    let m1 = send(
        &app,
        Method::POST,
        &marks,
        SUPERVISOR,
        Some(json!({"kind": "missed", "note": "second complaint not registered"})),
    )
    .await;
    assert_eq!(m1.status, StatusCode::CREATED, "{}", m1.text());
    let m1 = m1.json();
    assert_eq!(m1["kind"], "missed");
    assert_eq!(m1["marked_by"], "supervisor");
    assert!(m1["order_number"].as_str().unwrap().len() >= 12);
    let m2 = send(
        &app,
        Method::POST,
        &marks,
        SUPERVISOR,
        Some(json!({"kind": "wrong"})),
    )
    .await
    .json();
    let listed = get(&app, &marks, SUPERVISOR).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    // The order's trail shows both.
    let events = ts.store.order_events(order).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "marked").count(), 2);

    // Marks count in the month they were put (now): this month's view.
    let this_month = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string();
    let month = get(
        &app,
        &format!("/api/v1/reports/month?month={this_month}"),
        SUPERVISOR,
    )
    .await
    .json();
    assert_eq!(
        (
            month["marks"]["missed"].as_u64(),
            month["marks"]["wrong"].as_u64()
        ),
        (Some(1), Some(1)),
        "{month}"
    );
    let w = send(
        &app,
        Method::POST,
        &format!("{marks}/{}/withdraw", m2["id"]),
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    assert_eq!(w.json()["withdrawn"], true);
    let again = send(
        &app,
        Method::POST,
        &format!("{marks}/{}/withdraw", m2["id"]),
        SUPERVISOR,
        None,
    )
    .await;
    assert_error(&again, StatusCode::CONFLICT, None);
    let month = get(
        &app,
        &format!("/api/v1/reports/month?month={this_month}"),
        SUPERVISOR,
    )
    .await
    .json();
    assert_eq!(month["marks"]["wrong"], 0);
    assert_eq!(month["marks"]["orders"].as_array().unwrap().len(), 1);
    assert!(ts
        .store
        .order_events(order)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "mark-withdrawn"));

    let nov = get(&app, "/api/v1/reports/month?month=2026-11", SUPERVISOR).await;
    assert_eq!(nov.status, StatusCode::OK, "{}", nov.text());
    let nov = nov.json();
    assert_eq!(nov["month"], "2026-11");
    assert_eq!(nov["days"].as_array().unwrap().len(), 30);
    assert_eq!(nov["total"]["calls"], 4);
    assert_eq!(nov["targets"]["connection_rate"], 0.95);
    let q: Vec<&str> = nov["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(q, ["12319", "12345"]);
    assert_eq!(row(&json!({"rows": nov["agents"]}), "1001")["answered"], 2);
    let csv = get(
        &app,
        "/api/v1/reports/month?month=2026-11&format=csv",
        SUPERVISOR,
    )
    .await
    .text();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("section,key,calls,"));
    assert!(lines[1].starts_with("day,2026-11-01,0,"));
    assert_eq!(lines.len(), 1 + 30 + 2 + 5 + 1, "{csv}");
    assert!(lines.last().unwrap().starts_with("total,total,4,"));
}

async fn today_and_an_agents_day(b: Backend) {
    // A long cache, so that the test sees `/reports/today` served from it.
    let mut config = common::demo_config();
    config.wallboard.cache_ms = 60_000;
    let ts = TestStore::with_config(b, config).await;
    let app = ts.router();
    // A call of today (local), even just after midnight.
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let midnight = hotline::cases::kpi::local_midnight(
        hotline::cases::kpi::local_day(Utc::now(), offset),
        offset,
    );
    let now = (Utc::now() - chrono::Duration::seconds(200)).max(midnight);
    let mut c = answered("t1", now, "1001", 4, 60);
    c.work_order_id = None;
    ts.store.save_call(&c).await.unwrap();
    ts.store.add_call_wrap_up("t1", 15_000).await.unwrap();
    ts.store.add_call_wrap_up("t1", 5_000).await.unwrap();
    // A caller still waiting in 12345 (queued, no answer, no end): a call, not yet offered,
    // so today's service level and connection rate do not dip while it waits.
    ts.store.save_call(&inbound("t2", now)).await.unwrap();
    let today_of = |rows: Vec<hotline::cases::kpi::Row>| {
        let q = rows.into_iter().find(|r| r.key == "12345").unwrap();
        (q.calls, q.offered, q.answered, q.connection_rate)
    };
    let rows = hotline::cases::store::today_by_queue(&ts.store, &ts.config, Utc::now())
        .await
        .unwrap();
    let q = rows.iter().find(|r| r.key == "12345").unwrap();
    assert_eq!((q.offered, q.answered, q.wrap_up_secs), (1, 1, 20.0));
    assert_eq!(today_of(rows), (2, 1, 1, Some(1.0)));
    let today = get(&app, "/api/v1/reports/today", SUPERVISOR).await;
    assert_eq!(today.status, StatusCode::OK, "{}", today.text());
    let today = today.json();
    assert_eq!(today["queues"].as_array().unwrap().len(), 2);
    let served = today["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "12345")
        .unwrap();
    assert_eq!(
        (&served["calls"], &served["offered"]),
        (&json!(2), &json!(1))
    );
    // The caller gives up: now it is offered (and abandoned). The store sees it at once; the
    // route answers from the wallboard's cache until it expires.
    let mut gone = inbound("t2", now);
    gone.ended_at = secs(now, 65);
    gone.disposition = Some("abandoned".into());
    ts.store.save_call(&gone).await.unwrap();
    let rows = hotline::cases::store::today_by_queue(&ts.store, &ts.config, Utc::now())
        .await
        .unwrap();
    assert_eq!(today_of(rows), (2, 2, 1, Some(0.5)));
    let again = get(&app, "/api/v1/reports/today", SUPERVISOR).await.json();
    assert_eq!(again, today, "served from the cache");
    let day = get(&app, "/api/v1/agents/1001/day", AGENT_1001).await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.text());
    let day = day.json();
    assert_eq!(day["agent"], "1001");
    assert_eq!(day["calls"], 1);
    assert_eq!(day["answered"], 1);
    assert_eq!(day["talk_secs"], 60.0);
    assert_eq!(day["wrap_up_secs"], 20.0);
    assert_eq!(day["last_calls"][0]["id"], "t1");
    assert_eq!(day["date"], today["date"]);
    let other = get(&app, "/api/v1/agents/9999/day", SUPERVISOR).await;
    assert_error(&other, StatusCode::NOT_FOUND, None);
    assert_eq!(
        get(&app, "/api/v1/agents/1002/day", SUPERVISOR)
            .await
            .json()["calls"],
        0
    );
}
