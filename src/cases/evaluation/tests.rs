//! A hand-computed month: six orders' events across four departments, reports of three
//! inspectors and their marks.

use super::*;

fn ev(
    action: &str,
    dept: Option<&str>,
    on_time: Option<bool>,
    order_dept: Option<&str>,
) -> EventFact {
    EventFact {
        action: action.into(),
        department: dept.map(Into::into),
        on_time,
        order_department: order_dept.map(Into::into),
        count: 1,
    }
}

fn month() -> Evaluation {
    let depts: Vec<(String, String)> = [
        ("sanitation", "环卫处"),
        ("roads", "市政处"),
        ("market", "市场监管"),
        ("housing", "住建局"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let inspectors = vec!["inspector-01".to_string(), "inspector-02".to_string()];
    let mut acc = Accumulator::new(&depts, &inspectors);
    let s = Some("sanitation");
    let r = Some("roads");
    let m = Some("market");
    let events = [
        // O1 (sanitation): the whole flow, on time.
        ev("register", None, None, s),
        ev("dispatch", s, None, s),
        ev("accept", s, None, s),
        ev("handle", s, Some(true), s),
        ev("verify", None, None, s),
        ev("close", s, Some(true), s),
        // O2 (now roads): dispatched to sanitation, returned, re-dispatched to roads, handled
        // late, reworked, handled on time, closed late.
        ev("register", None, None, r),
        ev("dispatch", s, None, r),
        ev("return_order", s, None, r),
        ev("dispatch", r, None, r),
        ev("handle", r, Some(false), r),
        ev("rework", r, None, r),
        ev("handle", r, Some(true), r),
        ev("escalate", None, None, r),
        ev("close", r, Some(false), r),
        // O3 (market): registered, dispatched, handled on time, not closed yet.
        ev("register", None, None, m),
        ev("dispatch", m, None, m),
        ev("handle", m, Some(true), m),
        // O4 (sanitation): registered last month, dispatched this month.
        ev("dispatch", s, None, s),
        // O5: registered, no department yet (parked before dispatch).
        ev("register", None, None, None),
        ev("park", None, None, None),
        // O6 (market): handled last month, closed on time this month.
        ev("close", m, Some(true), m),
        ev("marked", None, None, m),
    ];
    for e in &events {
        acc.add_event(e);
    }
    for (who, registered) in [
        ("inspector-01", true),
        ("inspector-01", false),
        ("inspector-01", true),
        ("inspector-03", true),
    ] {
        acc.add_report(&ReportFact {
            inspector: who.into(),
            registered,
            count: 1,
        });
    }
    for (who, kind) in [
        ("inspector-01", "missed"),
        ("inspector-02", "wrong"),
        ("inspector-02", "wrong"),
        ("inspector-02", "other"),
    ] {
        acc.add_mark(&MarkFact {
            inspector: who.into(),
            kind: kind.into(),
            count: 1,
        });
    }
    acc.finish()
}

fn dept(e: &Evaluation, id: &str) -> DepartmentRow {
    e.departments
        .iter()
        .find(|r| r.department == id)
        .cloned()
        .unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn departments_of_a_hand_computed_month() {
    let e = month();
    let ids: Vec<_> = e
        .departments
        .iter()
        .map(|r| r.department.as_str())
        .collect();
    assert_eq!(ids, ["housing", "market", "roads", "sanitation"]);
    let row = |d: &str, name: &str, n: [u64; 8], rates: (Option<f64>, Option<f64>)| DepartmentRow {
        department: d.into(),
        name: Some(name.into()),
        registered: n[0],
        dispatched: n[1],
        handled: n[2],
        handled_on_time: n[3],
        on_time_handling_rate: rates.0,
        returned: n[4],
        reworked: n[5],
        closed: n[6],
        closed_on_time: n[7],
        on_time_closure_rate: rates.1,
    };
    assert_eq!(
        dept(&e, "sanitation"),
        row(
            "sanitation",
            "环卫处",
            [1, 3, 1, 1, 1, 0, 1, 1],
            (Some(1.0), Some(1.0))
        )
    );
    assert_eq!(
        dept(&e, "roads"),
        row(
            "roads",
            "市政处",
            [1, 1, 2, 1, 0, 1, 1, 0],
            (Some(0.5), Some(0.0))
        )
    );
    assert_eq!(
        dept(&e, "market"),
        row(
            "market",
            "市场监管",
            [1, 1, 1, 1, 0, 0, 1, 1],
            (Some(1.0), Some(1.0))
        )
    );
    assert_eq!(
        dept(&e, "housing"),
        row("housing", "住建局", [0; 8], (None, None))
    );
    let t = &e.department_total;
    assert_eq!(
        (t.registered, t.dispatched, t.handled, t.handled_on_time),
        (3, 5, 4, 3)
    );
    assert_eq!(
        (t.returned, t.reworked, t.closed, t.closed_on_time),
        (1, 1, 3, 2)
    );
    assert_eq!(t.on_time_handling_rate, Some(0.75));
    assert_eq!(t.on_time_closure_rate, Some(0.6667));
}

#[test]
fn inspectors_of_a_hand_computed_month() {
    let e = month();
    let rows: Vec<_> = e
        .inspectors
        .iter()
        .map(|r| {
            (
                r.inspector.as_str(),
                r.reports,
                r.valid_reports,
                r.valid_rate,
                r.missed,
                r.wrong,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("inspector-01", 3, 2, Some(0.6667), 1, 0),
            ("inspector-02", 0, 0, None, 0, 2),
            ("inspector-03", 1, 1, Some(1.0), 0, 0),
        ]
    );
    let t = &e.inspector_total;
    assert_eq!(
        (t.reports, t.valid_reports, t.missed, t.wrong),
        (4, 3, 1, 2)
    );
    assert_eq!(t.valid_rate, Some(0.75));
}

#[test]
fn csv_values_follow_the_field_lists() {
    let e = month();
    let d = dept(&e, "roads").values();
    assert_eq!(d.len(), DEPARTMENT_FIELDS.len());
    assert_eq!(
        d,
        [
            "roads",
            "市政处",
            "1",
            "1",
            "2",
            "1",
            "0.5",
            "0",
            "1",
            "1",
            "0",
            "0"
        ]
    );
    let i = e.inspectors[1].values();
    assert_eq!(i.len(), INSPECTOR_FIELDS.len());
    assert_eq!(i, ["inspector-02", "0", "0", "", "0", "2"]);
}

#[test]
fn by_parses_its_two_values_only() {
    assert_eq!(By::parse("department"), Some(By::Department));
    assert_eq!(By::parse("inspector"), Some(By::Inspector));
    assert_eq!(By::parse("Department"), None);
    assert_eq!(By::Inspector.as_str(), "inspector");
}

#[test]
fn a_grouped_row_counts_as_many_facts() {
    let mut one_by_one = Accumulator::new(&[], &[]);
    let mut grouped = Accumulator::new(&[], &[]);
    let e = ev("handle", Some("roads"), Some(true), Some("roads"));
    for _ in 0..3 {
        one_by_one.add_event(&e);
    }
    grouped.add_event(&EventFact { count: 3, ..e });
    let r = ReportFact {
        inspector: "i".into(),
        registered: true,
        count: 1,
    };
    one_by_one.add_report(&r);
    one_by_one.add_report(&r);
    grouped.add_report(&ReportFact { count: 2, ..r });
    let m = MarkFact {
        inspector: "i".into(),
        kind: "wrong".into(),
        count: 1,
    };
    one_by_one.add_mark(&m);
    grouped.add_mark(&m);
    one_by_one.add_mark(&m);
    assert_eq!(one_by_one.finish(), {
        grouped.add_mark(&MarkFact { count: 1, ..m });
        grouped.finish()
    });
}
