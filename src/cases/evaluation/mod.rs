//! The monthly evaluation (综合评价) of departments and field inspectors, as a pure accumulator:
//! the store feeds it the month's workflow events (`register`, `dispatch`, `handle`,
//! `return_order`, `rework`, `close`), the orders field inspectors reported in the month and
//! the 漏报/错报 marks put in the month, one row at a time (a row may stand for `count` alike
//! facts, so the store can group them in SQL); [`Accumulator::finish`] gives one row per
//! department or inspector. Nothing here reads a clock or a database.
//!
//! Per department: `registered` (register events of orders whose current department is it),
//! `dispatched` (dispatch events to it), `handled` and `handled_on_time` (handle events by it,
//! and those with `on_time = true`), `returned` (return_order events), `reworked` (rework
//! events on its orders), `closed` and `closed_on_time` (close events), and the two rates.
//! Per inspector: `reports` (field-inspector orders it reported), `valid_reports` (of those,
//! registered), `missed` (漏报) and `wrong` (错报) marks counted against it.

use std::collections::BTreeMap;

use serde::Serialize;

/// What an evaluation is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Department,
    Inspector,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        match s {
            "department" => Some(By::Department),
            "inspector" => Some(By::Inspector),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Department => "department",
            By::Inspector => "inspector",
        }
    }
}

/// One workflow event of the month.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFact {
    /// The command name (`case_events.action`).
    pub action: String,
    /// `data.department` of the event (dispatch, handle, return_order, rework, close).
    pub department: Option<String>,
    /// `data.on_time` of a handle or close event.
    pub on_time: Option<bool>,
    /// The order's department now (`work_orders.department_id`).
    pub order_department: Option<String>,
    /// How many such events this row stands for.
    pub count: u64,
}

/// An order a field inspector reported in the month.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFact {
    pub inspector: String,
    /// The order was registered (立案) at some point.
    pub registered: bool,
    /// How many such reports this row stands for.
    pub count: u64,
}

/// A 漏报 (`missed`) or 错报 (`wrong`) mark put in the month against an inspector.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkFact {
    pub inspector: String,
    pub kind: String,
    /// How many such marks this row stands for.
    pub count: u64,
}

/// A department's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DepartmentRow {
    pub department: String,
    pub name: Option<String>,
    pub registered: u64,
    pub dispatched: u64,
    pub handled: u64,
    pub handled_on_time: u64,
    /// handled_on_time / handled; none without handled orders.
    pub on_time_handling_rate: Option<f64>,
    pub returned: u64,
    pub reworked: u64,
    pub closed: u64,
    pub closed_on_time: u64,
    /// closed_on_time / closed; none without closed orders.
    pub on_time_closure_rate: Option<f64>,
}

/// An inspector's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InspectorRow {
    pub inspector: String,
    pub reports: u64,
    pub valid_reports: u64,
    /// valid_reports / reports; none without reports.
    pub valid_rate: Option<f64>,
    /// 漏报: cases found later that the inspector should have reported.
    pub missed: u64,
    /// 错报: reports that were wrong.
    pub wrong: u64,
}

/// The CSV columns of a department row, in order.
pub const DEPARTMENT_FIELDS: &[&str] = &[
    "department",
    "name",
    "registered",
    "dispatched",
    "handled",
    "handled_on_time",
    "on_time_handling_rate",
    "returned",
    "reworked",
    "closed",
    "closed_on_time",
    "on_time_closure_rate",
];

/// The CSV columns of an inspector row, in order.
pub const INSPECTOR_FIELDS: &[&str] = &[
    "inspector",
    "reports",
    "valid_reports",
    "valid_rate",
    "missed",
    "wrong",
];

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl DepartmentRow {
    /// The row's values in [`DEPARTMENT_FIELDS`] order.
    pub fn values(&self) -> Vec<String> {
        vec![
            self.department.clone(),
            self.name.clone().unwrap_or_default(),
            self.registered.to_string(),
            self.dispatched.to_string(),
            self.handled.to_string(),
            self.handled_on_time.to_string(),
            opt(self.on_time_handling_rate),
            self.returned.to_string(),
            self.reworked.to_string(),
            self.closed.to_string(),
            self.closed_on_time.to_string(),
            opt(self.on_time_closure_rate),
        ]
    }

    fn add(&mut self, o: &DepartmentRow) {
        self.registered += o.registered;
        self.dispatched += o.dispatched;
        self.handled += o.handled;
        self.handled_on_time += o.handled_on_time;
        self.returned += o.returned;
        self.reworked += o.reworked;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
    }

    fn finish(mut self) -> Self {
        self.on_time_handling_rate = rate(self.handled_on_time, self.handled);
        self.on_time_closure_rate = rate(self.closed_on_time, self.closed);
        self
    }
}

impl InspectorRow {
    /// The row's values in [`INSPECTOR_FIELDS`] order.
    pub fn values(&self) -> Vec<String> {
        vec![
            self.inspector.clone(),
            self.reports.to_string(),
            self.valid_reports.to_string(),
            opt(self.valid_rate),
            self.missed.to_string(),
            self.wrong.to_string(),
        ]
    }

    fn add(&mut self, o: &InspectorRow) {
        self.reports += o.reports;
        self.valid_reports += o.valid_reports;
        self.missed += o.missed;
        self.wrong += o.wrong;
    }

    fn finish(mut self) -> Self {
        self.valid_rate = rate(self.valid_reports, self.reports);
        self
    }
}

/// The finished evaluation: rows ordered by key (configured keys first appear even when
/// zero), and the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub departments: Vec<DepartmentRow>,
    pub department_total: DepartmentRow,
    pub inspectors: Vec<InspectorRow>,
    pub inspector_total: InspectorRow,
}

/// Counts a month's facts.
#[derive(Debug, Default)]
pub struct Accumulator {
    departments: BTreeMap<String, DepartmentRow>,
    inspectors: BTreeMap<String, InspectorRow>,
}

impl Accumulator {
    /// An accumulator whose rows include `departments` (id, name) and `inspectors` even when
    /// nothing happened to them in the month.
    pub fn new(departments: &[(String, String)], inspectors: &[String]) -> Self {
        let mut acc = Accumulator::default();
        for (id, name) in departments {
            acc.department(id).name = Some(name.clone());
        }
        for i in inspectors {
            acc.inspector(i);
        }
        acc
    }

    fn department(&mut self, id: &str) -> &mut DepartmentRow {
        self.departments
            .entry(id.to_string())
            .or_insert_with(|| DepartmentRow {
                department: id.to_string(),
                ..Default::default()
            })
    }

    fn inspector(&mut self, id: &str) -> &mut InspectorRow {
        self.inspectors
            .entry(id.to_string())
            .or_insert_with(|| InspectorRow {
                inspector: id.to_string(),
                ..Default::default()
            })
    }

    /// Counts an event (`count` alike ones); events of other actions, or without the department they count for,
    /// are ignored.
    pub fn add_event(&mut self, e: &EventFact) {
        let by_event = e.department.as_deref();
        let by_order = e.order_department.as_deref();
        let n = e.count;
        let on_time = if e.on_time == Some(true) { n } else { 0 };
        match e.action.as_str() {
            "register" => {
                if let Some(d) = by_order {
                    self.department(d).registered += n;
                }
            }
            "dispatch" => {
                if let Some(d) = by_event {
                    self.department(d).dispatched += n;
                }
            }
            "handle" => {
                if let Some(d) = by_event.or(by_order) {
                    let row = self.department(d);
                    row.handled += n;
                    row.handled_on_time += on_time;
                }
            }
            "return_order" => {
                if let Some(d) = by_event.or(by_order) {
                    self.department(d).returned += n;
                }
            }
            "rework" => {
                if let Some(d) = by_event.or(by_order) {
                    self.department(d).reworked += n;
                }
            }
            "close" => {
                if let Some(d) = by_event.or(by_order) {
                    let row = self.department(d);
                    row.closed += n;
                    row.closed_on_time += on_time;
                }
            }
            _ => {}
        }
    }

    /// Counts a field-inspector report (`count` alike ones).
    pub fn add_report(&mut self, r: &ReportFact) {
        let row = self.inspector(&r.inspector);
        row.reports += r.count;
        if r.registered {
            row.valid_reports += r.count;
        }
    }

    /// Counts a mark (`count` alike ones; kinds other than `missed` and `wrong` are ignored).
    pub fn add_mark(&mut self, m: &MarkFact) {
        match m.kind.as_str() {
            "missed" => self.inspector(&m.inspector).missed += m.count,
            "wrong" => self.inspector(&m.inspector).wrong += m.count,
            _ => {}
        }
    }

    pub fn finish(self) -> Evaluation {
        let mut department_total = DepartmentRow {
            department: "total".into(),
            ..Default::default()
        };
        let departments: Vec<_> = self
            .departments
            .into_values()
            .inspect(|r| department_total.add(r))
            .map(DepartmentRow::finish)
            .collect();
        let mut inspector_total = InspectorRow {
            inspector: "total".into(),
            ..Default::default()
        };
        let inspectors: Vec<_> = self
            .inspectors
            .into_values()
            .inspect(|r| inspector_total.add(r))
            .map(InspectorRow::finish)
            .collect();
        Evaluation {
            departments,
            department_total: department_total.finish(),
            inspectors,
            inspector_total: inspector_total.finish(),
        }
    }
}

#[cfg(test)]
mod tests;
