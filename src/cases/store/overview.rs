//! The leader overview (管理通): the city's state now, aggregated in SQL (GROUP BY over the open
//! orders, the orders closed in the last 30 days and the workflow events of the last 30 days),
//! folded here into totals, rows by district, grid cell and category, the most overdue open
//! orders and the department ranking. Overdue = open (not rejected, closed or merged), its
//! clock running (not parked, verifying or returned: no `paused_at`) and its deadline past.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{with_db, Store, StoreError};

/// Statuses of an open order (all but rejected, closed, merged).
pub const OPEN_STATUSES: &[&str] = &[
    "received",
    "verifying",
    "registered",
    "dispatched",
    "accepted",
    "returned",
    "handled",
    "verified",
    "parked",
];

/// How many overdue orders the overview lists.
pub const OVERDUE_LIST: i64 = 50;

/// The window of the "last 30 days" figures.
pub const WINDOW_DAYS: i64 = 30;

/// The city's (or a district's) counts now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub open: i64,
    pub overdue: i64,
    pub parked: i64,
    pub reported_today: i64,
    pub closed_today: i64,
    /// Every status's count (all time), statuses without orders left out.
    pub by_status: BTreeMap<String, i64>,
}

/// A district's or a grid cell's row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AreaRow {
    /// The district name or the grid cell code; `null` for orders without one.
    pub key: Option<String>,
    pub name: Option<String>,
    pub open: i64,
    pub overdue: i64,
    pub parked: i64,
    pub closed_30d: i64,
}

/// A category's row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryRow {
    pub category_id: Option<String>,
    pub name: Option<String>,
    pub open: i64,
    pub overdue: i64,
    pub closed_30d: i64,
    pub closed_on_time_30d: i64,
    /// closed_on_time_30d / closed_30d; none without closed orders.
    pub on_time_closure_rate: Option<f64>,
}

/// One of the most overdue open orders.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OverdueOrder {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub category_id: Option<String>,
    pub grid_cell: Option<String>,
    pub district: Option<String>,
    pub department_id: Option<String>,
    pub deadline: DateTime<Utc>,
    /// Hours (wall clock, one decimal) since the deadline.
    #[sqlx(skip)]
    pub overdue_hours: f64,
}

/// A department's last 30 days, for the ranking.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DepartmentRank {
    pub rank: usize,
    pub department: String,
    pub name: Option<String>,
    pub dispatched: i64,
    pub handled: i64,
    pub handled_on_time: i64,
    pub returned: i64,
    /// Its open orders overdue now.
    pub overdue_open: i64,
    /// handled_on_time / handled; none without handled orders.
    pub on_time_rate: Option<f64>,
}

/// The overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub generated_at: DateTime<Utc>,
    pub district: Option<String>,
    pub today_since: DateTime<Utc>,
    pub window_since: DateTime<Utc>,
    pub totals: Totals,
    pub districts: Vec<AreaRow>,
    pub grid_cells: Vec<AreaRow>,
    pub categories: Vec<CategoryRow>,
    pub overdue_orders: Vec<OverdueOrder>,
    pub departments: Vec<DepartmentRank>,
}

#[derive(sqlx::FromRow)]
struct OpenGroup {
    district: Option<String>,
    grid_cell: Option<String>,
    category_id: Option<String>,
    department_id: Option<String>,
    status: String,
    n: i64,
    overdue: i64,
}

#[derive(sqlx::FromRow)]
struct ClosedGroup {
    district: Option<String>,
    grid_cell: Option<String>,
    category_id: Option<String>,
    n: i64,
    on_time: i64,
}

#[derive(sqlx::FromRow)]
struct EventGroup {
    action: String,
    department: Option<String>,
    n: i64,
    on_time: i64,
}

#[derive(sqlx::FromRow)]
struct StatusCount {
    status: String,
    n: i64,
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

fn in_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ranks departments best first: on-time rate (none last), then more handled, then fewer
/// overdue open orders, then id.
pub fn rank_departments(rows: &mut [DepartmentRank]) {
    rows.sort_by(|a, b| {
        let r = |x: &DepartmentRank| x.on_time_rate.unwrap_or(-1.0);
        r(b).total_cmp(&r(a))
            .then(b.handled.cmp(&a.handled))
            .then(a.overdue_open.cmp(&b.overdue_open))
            .then(a.department.cmp(&b.department))
    });
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = i + 1;
    }
}

impl Store {
    /// The overview at `now`; `today_since` is the local midnight starting today; narrowed to
    /// one district's orders when `district` is given.
    pub async fn overview(
        &self,
        now: DateTime<Utc>,
        today_since: DateTime<Utc>,
        district: Option<String>,
    ) -> Result<Overview, StoreError> {
        let window_since = now - Duration::days(WINDOW_DAYS);
        let open = in_list(OPEN_STATUSES);
        let dfilter = "($2 IS NULL OR district = $2)";
        // `|| ''` keeps SQLite's planner off the (status, deadline) index, which would read
        // every closed order of the year, so that it takes the closed_at range instead.
        let closed = "status || '' = 'closed'";
        let running = "paused_at IS NULL AND status <> 'parked' AND deadline < $1";
        let open_sql = format!(
            "SELECT district, grid_cell, category_id, department_id, status, COUNT(*) AS n, \
             SUM(CASE WHEN {running} THEN 1 ELSE 0 END) AS overdue FROM work_orders \
             WHERE status IN ({open}) AND {dfilter} GROUP BY 1, 2, 3, 4, 5"
        );
        let closed_sql = format!(
            "SELECT district, grid_cell, category_id, COUNT(*) AS n, \
             SUM(CASE WHEN deadline IS NULL OR closed_at <= deadline THEN 1 ELSE 0 END) AS on_time \
             FROM work_orders WHERE closed_at >= $1 AND {closed} AND {dfilter} \
             GROUP BY 1, 2, 3"
        );
        let status_sql = "SELECT status, COUNT(*) AS n FROM work_orders \
            WHERE ($1 IS NULL OR district = $1) GROUP BY 1";
        let today_sql = format!(
            "SELECT \
             (SELECT COUNT(*) FROM work_orders WHERE created_at >= $1 AND {dfilter}), \
             (SELECT COUNT(*) FROM work_orders WHERE closed_at >= $1 AND {closed} \
              AND {dfilter})"
        );
        let overdue_sql = format!(
            "SELECT id, number, status, category_id, grid_cell, district, department_id, deadline \
             FROM work_orders WHERE status IN ({open}) AND {running} AND {dfilter} \
             ORDER BY deadline, id LIMIT {OVERDUE_LIST}"
        );
        let dept = self.json_text("e.data", "department");
        let on_time = self.json_text("e.data", "on_time");
        let events_sql = if district.is_some() {
            format!(
                "SELECT e.action, {dept} AS department, COUNT(*) AS n, \
                 SUM(CASE WHEN {on_time} = 'true' THEN 1 ELSE 0 END) AS on_time \
                 FROM case_events e JOIN work_orders o ON o.id = e.order_id \
                 WHERE e.action IN ('dispatch', 'handle', 'return_order') AND e.at >= $1 \
                 AND o.district = $2 GROUP BY 1, 2"
            )
        } else {
            format!(
                "SELECT e.action, {dept} AS department, COUNT(*) AS n, \
                 SUM(CASE WHEN {on_time} = 'true' THEN 1 ELSE 0 END) AS on_time \
                 FROM case_events e WHERE e.action IN ('dispatch', 'handle', 'return_order') \
                 AND e.at >= $1 GROUP BY 1, 2"
            )
        };
        let d = &district;
        let (opens, closed, statuses, today, mut overdue, events) = with_db!(self, read, |pool| {
            tokio::try_join!(
                sqlx::query_as::<_, OpenGroup>(&open_sql)
                    .bind(now)
                    .bind(d)
                    .fetch_all(pool),
                sqlx::query_as::<_, ClosedGroup>(&closed_sql)
                    .bind(window_since)
                    .bind(d)
                    .fetch_all(pool),
                sqlx::query_as::<_, StatusCount>(status_sql)
                    .bind(d)
                    .fetch_all(pool),
                sqlx::query_as::<_, (i64, i64)>(&today_sql)
                    .bind(today_since)
                    .bind(d)
                    .fetch_one(pool),
                sqlx::query_as::<_, OverdueOrder>(&overdue_sql)
                    .bind(now)
                    .bind(d)
                    .fetch_all(pool),
                {
                    let q = sqlx::query_as::<_, EventGroup>(&events_sql).bind(window_since);
                    match d {
                        Some(d) => q.bind(d),
                        None => q,
                    }
                    .fetch_all(pool)
                },
            )?
        });
        for o in &mut overdue {
            let mins = (now - o.deadline).num_minutes() as f64;
            o.overdue_hours = (mins / 6.0).round() / 10.0;
        }
        let cells = self.grid_cells().await?;
        let cell_name = |code: &Option<String>| {
            code.as_ref()
                .and_then(|c| cells.iter().find(|g| &g.code == c))
                .map(|g| g.name.clone())
        };
        let departments = self.departments().await?;

        let mut totals = Totals {
            reported_today: today.0,
            closed_today: today.1,
            by_status: statuses.into_iter().map(|s| (s.status, s.n)).collect(),
            ..Default::default()
        };
        let mut by_district: BTreeMap<Option<String>, AreaRow> = BTreeMap::new();
        let mut by_cell: BTreeMap<Option<String>, AreaRow> = BTreeMap::new();
        let mut by_category: BTreeMap<Option<String>, CategoryRow> = BTreeMap::new();
        let mut overdue_by_dept: BTreeMap<String, i64> = BTreeMap::new();
        for g in &opens {
            let parked = if g.status == "parked" { g.n } else { 0 };
            totals.open += g.n;
            totals.overdue += g.overdue;
            totals.parked += parked;
            for (map, key) in [
                (&mut by_district, &g.district),
                (&mut by_cell, &g.grid_cell),
            ] {
                let row = map.entry(key.clone()).or_default();
                row.open += g.n;
                row.overdue += g.overdue;
                row.parked += parked;
            }
            let row = by_category.entry(g.category_id.clone()).or_default();
            row.open += g.n;
            row.overdue += g.overdue;
            if let Some(dep) = &g.department_id {
                *overdue_by_dept.entry(dep.clone()).or_default() += g.overdue;
            }
        }
        for g in &closed {
            by_district
                .entry(g.district.clone())
                .or_default()
                .closed_30d += g.n;
            by_cell.entry(g.grid_cell.clone()).or_default().closed_30d += g.n;
            let row = by_category.entry(g.category_id.clone()).or_default();
            row.closed_30d += g.n;
            row.closed_on_time_30d += g.on_time;
        }
        let areas = |map: BTreeMap<Option<String>, AreaRow>,
                     names: &dyn Fn(&Option<String>) -> Option<String>| {
            map.into_iter()
                .map(|(key, row)| AreaRow {
                    name: names(&key),
                    key,
                    ..row
                })
                .collect::<Vec<_>>()
        };
        let districts = areas(by_district, &|k| k.clone());
        let grid_cells = areas(by_cell, &cell_name);
        let categories = by_category
            .into_iter()
            .map(|(id, row)| CategoryRow {
                name: id
                    .as_deref()
                    .and_then(|c| self.category(c))
                    .map(|c| c.name_zh),
                on_time_closure_rate: rate(row.closed_on_time_30d, row.closed_30d),
                category_id: id,
                ..row
            })
            .collect();

        let mut ranks: BTreeMap<String, DepartmentRank> = departments
            .iter()
            .map(|dep| {
                (
                    dep.id.clone(),
                    DepartmentRank {
                        department: dep.id.clone(),
                        name: Some(dep.name.clone()),
                        ..Default::default()
                    },
                )
            })
            .collect();
        for e in &events {
            let Some(dep) = &e.department else { continue };
            let row = ranks.entry(dep.clone()).or_insert_with(|| DepartmentRank {
                department: dep.clone(),
                ..Default::default()
            });
            match e.action.as_str() {
                "dispatch" => row.dispatched += e.n,
                "handle" => {
                    row.handled += e.n;
                    row.handled_on_time += e.on_time;
                }
                "return_order" => row.returned += e.n,
                _ => {}
            }
        }
        for (dep, n) in overdue_by_dept {
            let row = ranks.entry(dep.clone()).or_insert_with(|| DepartmentRank {
                department: dep,
                ..Default::default()
            });
            row.overdue_open += n;
        }
        let mut departments: Vec<_> = ranks
            .into_values()
            .map(|r| DepartmentRank {
                on_time_rate: rate(r.handled_on_time, r.handled),
                ..r
            })
            .collect();
        rank_departments(&mut departments);
        Ok(Overview {
            generated_at: now,
            district,
            today_since,
            window_since,
            totals,
            districts,
            grid_cells,
            categories,
            overdue_orders: overdue,
            departments,
        })
    }
}
