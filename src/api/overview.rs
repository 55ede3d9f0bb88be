//! The leader overview (管理通, `GET /api/v1/overview`) and the monthly evaluation (综合评价,
//! `GET /api/v1/reports/evaluation`) for leaders, supervisors and admins. The figures come
//! from [`crate::cases::store`] (the overview's SQL aggregates) and
//! [`crate::cases::evaluation`] (the evaluation's accumulator); these handlers only check
//! the parameters and shape the answer (JSON or CSV).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::User;
use super::error::ApiError;
use super::extract::QueryParams;
use super::reports::{csv_line, csv_response, wants_csv};
use super::AppState;
use crate::cases::evaluation::{
    By, DepartmentRow, InspectorRow, DEPARTMENT_FIELDS, INSPECTOR_FIELDS,
};
use crate::cases::kpi::{self, DayRange};
use crate::cases::now;
use crate::config::Role;

const READERS: &[Role] = &[Role::Leader, Role::Supervisor, Role::Admin];

/// The query of `GET /overview`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    district: Option<String>,
}

/// `GET /overview`: the city's (or one district's) state now.
pub async fn overview(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<OverviewQuery>,
) -> Result<Response, ApiError> {
    user.require(READERS)?;
    let district = q.district.filter(|d| !d.trim().is_empty());
    if let Some(d) = &district {
        if d.chars().count() > 100 {
            return Err(ApiError::bad_field(
                "district",
                "longer than 100 characters",
            ));
        }
    }
    let at = now();
    let offset = st.store.policy().calendar.utc_offset;
    let today = kpi::local_day(at, offset);
    let since = kpi::local_midnight(today, offset);
    Ok(Json(st.store.overview(at, since, district).await?).into_response())
}

/// The query of `GET /reports/evaluation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    month: Option<String>,
    by: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Rows {
    Departments {
        rows: Vec<DepartmentRow>,
        total: DepartmentRow,
    },
    Inspectors {
        rows: Vec<InspectorRow>,
        total: InspectorRow,
    },
}

#[derive(Serialize)]
struct EvaluationReport {
    month: String,
    by: By,
    utc_offset: String,
    #[serde(flatten)]
    rows: Rows,
}

/// `GET /reports/evaluation?month=YYYY-MM&by=department|inspector[&format=csv]`.
pub async fn evaluation(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<EvaluationQuery>,
) -> Result<Response, ApiError> {
    user.require(READERS)?;
    let month = q
        .month
        .as_deref()
        .ok_or_else(|| ApiError::bad_field("month", "required, a month like 2026-11"))?;
    let range = DayRange::month("month", month)?;
    let by = match q.by.as_deref() {
        None => By::Department,
        Some(b) => By::parse(b).ok_or_else(|| {
            ApiError::bad_field("by", format!("{b:?} is not department or inspector"))
        })?,
    };
    let csv = wants_csv(q.format.as_deref())?;
    let offset = st.store.policy().calendar.utc_offset;
    let (start, end) = range.utc_bounds(offset);
    let departments: Vec<(String, String)> = st
        .config
        .departments
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect();
    let inspectors: Vec<String> = st
        .config
        .users
        .iter()
        .filter(|u| u.role == Role::Inspector)
        .map(|u| u.name.clone())
        .collect();
    let e = st
        .store
        .evaluation(start, end, &departments, &inspectors)
        .await?;
    let month = range.from.format("%Y-%m").to_string();
    if csv {
        let mut out = String::new();
        match by {
            By::Department => {
                csv_line(&mut out, DEPARTMENT_FIELDS);
                for r in e.departments.iter().chain([&e.department_total]) {
                    csv_line(&mut out, r.values());
                }
            }
            By::Inspector => {
                csv_line(&mut out, INSPECTOR_FIELDS);
                for r in e.inspectors.iter().chain([&e.inspector_total]) {
                    csv_line(&mut out, r.values());
                }
            }
        }
        return Ok(csv_response(
            out,
            &format!("evaluation-{}-{month}", by.as_str()),
        ));
    }
    let rows = match by {
        By::Department => Rows::Departments {
            rows: e.departments,
            total: e.department_total,
        },
        By::Inspector => Rows::Inspectors {
            rows: e.inspectors,
            total: e.inspector_total,
        },
    };
    Ok(Json(EvaluationReport {
        month,
        by,
        utc_offset: offset.to_string(),
        rows,
    })
    .into_response())
}
