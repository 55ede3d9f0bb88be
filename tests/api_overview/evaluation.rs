//! The evaluation (综合评价) of a hand-computed October through the API, with events at the
//! month's local-time edges, inspector reports and marks, and its CSV.

use super::*;

/// Local (+08:00) time in 2026.
fn local(mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// October 2026: E1 (sanitation) runs through; E2 (now roads) is dispatched to sanitation,
/// returned, re-dispatched to roads, handled late, reworked, handled on time and closed late;
/// E3 (market) registered at 00:10 local on 1 October (still 30 September in UTC) with events
/// just outside the month on both sides. Inspector reports: three of inspector-01 (two
/// registered), one of inspector-02 (not), one of inspector-01 on 30 September.
pub(crate) async fn seed_october(db: &mut Db) -> Vec<i64> {
    let fi = |n: &'static str,
              reporter: &'static str,
              created: DateTime<Utc>,
              registered: bool,
              dept| Row {
        number: n,
        status: if registered { "closed" } else { "rejected" },
        reporter_id: Some(reporter),
        created_at: Some(created),
        registered_at: registered.then_some(created + hours(1)),
        department: dept,
        category: Some("E0101"),
        ..Default::default()
    };
    let orders = [
        fi(
            "E1",
            "inspector-01",
            local(10, 5, 9, 0),
            true,
            Some("sanitation"),
        ),
        fi(
            "E2",
            "inspector-01",
            local(10, 10, 9, 0),
            true,
            Some("roads"),
        ),
        fi("R3", "inspector-01", local(10, 12, 9, 0), false, None),
        fi("R4", "inspector-02", local(10, 15, 9, 0), false, None),
        fi("R5", "inspector-01", local(9, 30, 23, 59), true, None),
        Row {
            number: "E3",
            channel: "phone-12345",
            status: "dispatched",
            department: Some("market"),
            created_at: Some(local(9, 30, 23, 0)),
            registered_at: Some(local(10, 1, 0, 10)),
            ..Default::default()
        },
    ];
    let mut ids = Vec::new();
    for o in &orders {
        ids.push(db.order(o, local(10, 1, 0, 0)).await);
    }
    let (e1, e2, e3) = (ids[0], ids[1], ids[5]);
    let s = json!({"department": "sanitation"});
    let r = json!({"department": "roads"});
    let events = [
        (
            e1,
            "register",
            local(10, 5, 10, 0),
            json!({"category_id": "E0101", "criteria_met": true}),
        ),
        (e1, "dispatch", local(10, 5, 10, 5), s.clone()),
        (e1, "accept", local(10, 5, 11, 0), s.clone()),
        (
            e1,
            "handle",
            local(10, 6, 9, 0),
            json!({"department": "sanitation", "on_time": true}),
        ),
        (
            e1,
            "close",
            local(10, 7, 9, 0),
            json!({"department": "sanitation", "on_time": true}),
        ),
        (
            e2,
            "register",
            local(10, 10, 10, 0),
            json!({"category_id": "E0101"}),
        ),
        (e2, "dispatch", local(10, 10, 10, 5), s.clone()),
        (e2, "return_order", local(10, 11, 9, 0), s.clone()),
        (e2, "dispatch", local(10, 11, 10, 0), r.clone()),
        (
            e2,
            "handle",
            local(10, 20, 9, 0),
            json!({"department": "roads", "on_time": false}),
        ),
        (e2, "rework", local(10, 21, 9, 0), r.clone()),
        (
            e2,
            "handle",
            local(10, 22, 9, 0),
            json!({"department": "roads", "on_time": true}),
        ),
        (e2, "escalate", local(10, 23, 9, 0), json!({"level": 1})),
        (
            e2,
            "close",
            local(10, 31, 23, 30),
            json!({"department": "roads", "on_time": false}),
        ),
        (
            e3,
            "dispatch",
            local(9, 30, 23, 30),
            json!({"department": "market"}),
        ),
        (
            e3,
            "register",
            local(10, 1, 0, 10),
            json!({"category_id": "E0101"}),
        ),
        (
            e3,
            "handle",
            local(11, 1, 0, 10),
            json!({"department": "market", "on_time": true}),
        ),
    ];
    for (o, action, at, data) in events {
        db.event(o, action, at, data).await;
    }
    // Marks: counted, withdrawn, and one just after the month.
    db.mark(ids[2], "wrong", false, local(10, 12, 12, 0), "inspector-01")
        .await;
    db.mark(e2, "missed", false, local(10, 20, 12, 0), "inspector-02")
        .await;
    db.mark(e2, "missed", true, local(10, 20, 13, 0), "inspector-02")
        .await;
    db.mark(e1, "missed", false, local(11, 1, 0, 5), "inspector-01")
        .await;
    ids
}

pub(crate) async fn evaluation_of_a_hand_computed_month(b: Backend) {
    let ts = TestStore::new(b).await;
    let app = ts.router();
    let mut db = Db::open(&ts, b).await;
    seed_october(&mut db).await;

    let r = get(
        &app,
        "/api/v1/reports/evaluation?month=2026-10&by=department",
        LEADER,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e = r.json();
    assert_eq!(
        (&e["month"], &e["by"]),
        (&json!("2026-10"), &json!("department"))
    );
    let figures = |id: &str| {
        let d = row(&e["rows"], "department", json!(id));
        (
            [
                "registered",
                "dispatched",
                "handled",
                "handled_on_time",
                "returned",
                "reworked",
                "closed",
                "closed_on_time",
            ]
            .map(|k| d[k].as_u64().unwrap()),
            d["on_time_handling_rate"].as_f64(),
            d["on_time_closure_rate"].as_f64(),
        )
    };
    assert_eq!(
        figures("sanitation"),
        ([1, 2, 1, 1, 1, 0, 1, 1], Some(1.0), Some(1.0))
    );
    assert_eq!(
        figures("roads"),
        ([1, 1, 2, 1, 0, 1, 1, 0], Some(0.5), Some(0.0))
    );
    assert_eq!(figures("market"), ([1, 0, 0, 0, 0, 0, 0, 0], None, None));
    assert_eq!(figures("housing"), ([0; 8], None, None));
    assert_eq!(
        e["rows"].as_array().unwrap().len(),
        6,
        "every configured department"
    );
    assert_eq!(e["total"]["dispatched"], 3);
    assert_eq!(e["total"]["on_time_closure_rate"], 0.5);

    let r = get(
        &app,
        "/api/v1/reports/evaluation?month=2026-10&by=inspector",
        SUPERVISOR,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e = r.json();
    let figures = |id: &str| {
        let d = row(&e["rows"], "inspector", json!(id));
        (
            ["reports", "valid_reports", "missed", "wrong"].map(|k| d[k].as_u64().unwrap()),
            d["valid_rate"].as_f64(),
        )
    };
    assert_eq!(figures("inspector-01"), ([3, 2, 0, 1], Some(0.6667)));
    assert_eq!(figures("inspector-02"), ([1, 0, 1, 0], Some(0.0)));
    assert_eq!(e["total"]["reports"], 4);

    // CSV: the same columns, one line per row and the total.
    let r = get(
        &app,
        "/api/v1/reports/evaluation?month=2026-10&by=department&format=csv",
        LEADER,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("evaluation-department-2026-10.csv"));
    let text = r.text();
    let lines: Vec<_> = text.split("\r\n").collect();
    assert_eq!(lines[0], "department,name,registered,dispatched,handled,handled_on_time,on_time_handling_rate,returned,reworked,closed,closed_on_time,on_time_closure_rate");
    let roads = lines.iter().find(|l| l.starts_with("roads,")).unwrap();
    assert!(roads.ends_with(",1,1,2,1,0.5,0,1,1,0,0"), "{roads}");
    assert!(
        lines.iter().any(|l| l.starts_with("total,,3,3,3,2,")),
        "{text}"
    );
    let r = get(
        &app,
        "/api/v1/reports/evaluation?month=2026-10&by=inspector&format=csv",
        LEADER,
    )
    .await;
    let text = r.text();
    assert!(
        text.starts_with("inspector,reports,valid_reports,valid_rate,missed,wrong\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\ninspector-01,3,2,0.6667,0,1\r\n"),
        "{text}"
    );

    // September sees E3's early dispatch and R5; November the late handle and mark.
    let r = get(&app, "/api/v1/reports/evaluation?month=2026-09", LEADER).await;
    let e = r.json();
    assert_eq!(e["by"], "department");
    assert_eq!(
        row(&e["rows"], "department", json!("market"))["dispatched"],
        1
    );
    let r = get(
        &app,
        "/api/v1/reports/evaluation?month=2026-11&by=inspector",
        LEADER,
    )
    .await;
    assert_eq!(
        row(&r.json()["rows"], "inspector", json!("inspector-01"))["missed"],
        1
    );
}
