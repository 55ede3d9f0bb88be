//! Report routes (supervisors and admins): KPI rows per day, hour, queue or agent
//! (`/api/v1/reports/kpi`), the month view for the vendor assessment with the 漏报/错报 marks
//! (`/reports/month`), today per queue for the wallboard (`/reports/today`), as JSON or CSV;
//! an agent's own day (`/agents/{id}/day`, the agent itself too); and the marks on an order
//! (`/work-orders/{key}/marks`). The counting is [`crate::cases::kpi`]'s; every row carries the
//! `/api/v1/calls` query that lists its calls.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::User;
use super::error::ApiError;
use super::extract::{QueryParams, RawJson};
use super::AppState;
use crate::cases::kpi::{self, Accumulator, DayRange, Group, ParamError, Row, ROW_FIELDS};
use crate::cases::store::{report_params, AgentCall, OrderKey, OrderMark};
use crate::cases::{now, StoreError};
use crate::config::Role;

const SUPERVISORS: &[Role] = &[Role::Supervisor, Role::Admin];

/// Targets the month view compares with (GB/T 33358 and DOMAIN.md).
const TARGET_CONNECTION_RATE: f64 = 0.95;
const TARGET_SERVICE_LEVEL: f64 = 0.8;

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::bad_field(e.field, e.reason)
    }
}

/// `?format=` of a report.
pub(super) fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::bad_field(
            "format",
            format!("{other:?} is not json or csv"),
        )),
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

pub(super) fn csv_line<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    let line: Vec<String> = fields.into_iter().map(|f| csv_field(f.as_ref())).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

/// Rows as CSV: the header, then `(section, row)` lines (`section` only when `sectioned`).
fn csv_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a Row)>, sectioned: bool) -> String {
    let mut out = String::new();
    let head = sectioned.then_some("section");
    csv_line(&mut out, head.into_iter().chain(ROW_FIELDS));
    for (section, row) in rows {
        let lead = sectioned.then(|| section.to_string());
        csv_line(&mut out, lead.into_iter().chain(row.values()));
    }
    out
}

pub(super) fn csv_response(body: String, name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The query of `GET /reports/kpi`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    from: Option<String>,
    to: Option<String>,
    group: Option<String>,
    queue: Option<String>,
    agent: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
struct KpiReport {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    group: Group,
    utc_offset: String,
    rows: Vec<Row>,
    total: Row,
}

fn offset_text(st: &AppState) -> String {
    st.store.policy().calendar.utc_offset.to_string()
}

pub async fn kpi(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<KpiQuery>,
) -> Result<Response, ApiError> {
    user.require(SUPERVISORS)?;
    let from = q
        .from
        .as_deref()
        .ok_or_else(|| ApiError::bad_field("from", "required, a date like 2026-11-01"))?;
    let from = kpi::parse_date("from", from)?;
    let to = match q.to.as_deref() {
        Some(to) => kpi::parse_date("to", to)?,
        None => from,
    };
    let range = DayRange::new(from, to)?;
    let group = match q.group.as_deref() {
        None => Group::Day,
        Some(g) => Group::parse(g).ok_or_else(|| {
            ApiError::bad_field("group", format!("{g:?} is not day, hour, queue or agent"))
        })?,
    };
    let csv = wants_csv(q.format.as_deref())?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let p = report_params(
        &st.store,
        &st.config,
        range,
        group,
        nonempty(q.queue),
        nonempty(q.agent),
    );
    let report = st.store.report(&p).await?;
    if csv {
        let body = csv_rows(
            report
                .rows
                .iter()
                .chain(std::iter::once(&report.total))
                .map(|r| ("", r)),
            false,
        );
        return Ok(csv_response(
            body,
            &format!("kpi-{}-{from}-{to}", group.as_str()),
        ));
    }
    Ok(Json(KpiReport {
        from,
        to,
        group,
        utc_offset: offset_text(&st),
        rows: report.rows,
        total: report.total,
    })
    .into_response())
}

/// The query of `GET /reports/month`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    month: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
struct Marks {
    missed: usize,
    wrong: usize,
    orders: Vec<OrderMark>,
}

#[derive(Serialize)]
struct Targets {
    connection_rate: f64,
    service_level: f64,
}

#[derive(Serialize)]
struct MonthReport {
    month: String,
    utc_offset: String,
    total: Row,
    days: Vec<Row>,
    queues: Vec<Row>,
    agents: Vec<Row>,
    marks: Marks,
    targets: Targets,
}

pub async fn month(
    State(st): State<AppState>,
    user: User,
    QueryParams(q): QueryParams<MonthQuery>,
) -> Result<Response, ApiError> {
    user.require(SUPERVISORS)?;
    let month = q
        .month
        .as_deref()
        .ok_or_else(|| ApiError::bad_field("month", "required, a month like 2026-11"))?;
    let range = DayRange::month("month", month)?;
    let csv = wants_csv(q.format.as_deref())?;
    let params = |g| report_params(&st.store, &st.config, range, g, None, None);
    let days_p = params(Group::Day);
    let (queues_p, agents_p) = (params(Group::Queue), params(Group::Agent));
    // One pass over the month feeds the three groupings (each side of the stream its own).
    let acc = || [&days_p, &queues_p, &agents_p].map(Accumulator::new);
    let (mut by_call, mut by_order) = (acc(), acc());
    st.store
        .stream_report_facts(
            &days_p,
            |c| by_call.iter_mut().for_each(|a| a.add_call(c)),
            |o| by_order.iter_mut().for_each(|a| a.add_order(o)),
        )
        .await?;
    let ([dc, qc, ac], [dor, qor, aor]) = (by_call, by_order);
    let finish = |mut c: Accumulator<'_>, o| {
        c.merge(o);
        c.finish()
    };
    let (days, queues, agents) = (finish(dc, dor), finish(qc, qor), finish(ac, aor));
    let (start, end) = range.utc_bounds(days_p.utc_offset);
    let marks = st.store.marks_between(start, end).await?;
    let count = |k: &str| marks.iter().filter(|m| m.kind == k).count();
    let month = range.from.format("%Y-%m").to_string();
    if csv {
        let rows = days
            .rows
            .iter()
            .map(|r| ("day", r))
            .chain(queues.rows.iter().map(|r| ("queue", r)))
            .chain(agents.rows.iter().map(|r| ("agent", r)))
            .chain(std::iter::once(("total", &days.total)));
        return Ok(csv_response(
            csv_rows(rows, true),
            &format!("month-{month}"),
        ));
    }
    Ok(Json(MonthReport {
        month,
        utc_offset: offset_text(&st),
        total: days.total,
        days: days.rows,
        queues: queues.rows,
        agents: agents.rows,
        marks: Marks {
            missed: count("missed"),
            wrong: count("wrong"),
            orders: marks,
        },
        targets: Targets {
            connection_rate: TARGET_CONNECTION_RATE,
            service_level: TARGET_SERVICE_LEVEL,
        },
    })
    .into_response())
}

#[derive(Serialize)]
struct Today {
    date: chrono::NaiveDate,
    queues: Vec<Row>,
}

/// `GET /reports/today`: today's row of every queue, from the wallboard's cache (~2 s).
pub async fn today(State(st): State<AppState>, user: User) -> Result<Response, ApiError> {
    user.require(SUPERVISORS)?;
    let (date, queues) = st.wallboard.today(&st, now()).await?;
    Ok(Json(Today { date, queues }).into_response())
}

/// `GET /agents/{id}/day`: the agent's own day (the agent itself, supervisors, admins).
pub async fn agent_day(
    State(st): State<AppState>,
    user: User,
    Path(agent): Path<String>,
) -> Result<Json<kpi::AgentDay<AgentCall>>, ApiError> {
    match user.0.role {
        Role::Supervisor | Role::Admin => {}
        Role::Agent if user.0.agent.as_deref() == Some(agent.as_str()) => {}
        Role::Agent => {
            return Err(ApiError::forbidden(format!(
                "this token acts for agent {}, not {agent}",
                user.0.agent.as_deref().unwrap_or("(none)")
            )))
        }
        _ => user.require(&[Role::Agent, Role::Supervisor, Role::Admin])?,
    }
    if !st.config.agents.iter().any(|a| a.id == agent) {
        return Err(ApiError::not_found(format!("agent {agent}")));
    }
    let offset = st.store.policy().calendar.utc_offset;
    let date = kpi::local_day(now(), offset);
    let (start, end) = DayRange {
        from: date,
        to: date,
    }
    .utc_bounds(offset);
    let (calls, orders) = st.store.agent_day_facts(&agent, start, end).await?;
    Ok(Json(kpi::agent_day(
        date,
        &agent,
        calls,
        orders.max(0) as u64,
    )))
}

fn order_key(s: &str) -> Result<OrderKey, ApiError> {
    OrderKey::parse(s).ok_or_else(|| ApiError::not_found(format!("work order {s:?}")))
}

/// The body of `POST /work-orders/{key}/marks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMark {
    kind: String,
    note: Option<String>,
    /// The inspector (a configured user of role inspector) the mark counts against.
    inspector: Option<String>,
}

pub async fn add_mark(
    State(st): State<AppState>,
    user: User,
    Path(key): Path<String>,
    body: RawJson,
) -> Result<Response, ApiError> {
    user.require(SUPERVISORS)?;
    let key = order_key(&key)?;
    let m: NewMark = body.parse()?;
    if let Some(i) = &m.inspector {
        let known = st
            .config
            .users
            .iter()
            .any(|u| u.role == Role::Inspector && &u.name == i);
        if !known {
            return Err(StoreError::invalid(
                "inspector",
                format!("{i:?} is not a configured inspector"),
            )
            .into());
        }
    }
    let mark = st
        .store
        .add_order_mark(&key, &m.kind, m.note, m.inspector, &user.actor(), now())
        .await?;
    Ok((StatusCode::CREATED, Json(mark)).into_response())
}

pub async fn marks(
    State(st): State<AppState>,
    user: User,
    Path(key): Path<String>,
) -> Result<Json<Vec<OrderMark>>, ApiError> {
    user.require(SUPERVISORS)?;
    Ok(Json(st.store.order_marks(&order_key(&key)?).await?))
}

pub async fn withdraw_mark(
    State(st): State<AppState>,
    user: User,
    Path((key, id)): Path<(String, String)>,
) -> Result<Json<OrderMark>, ApiError> {
    user.require(SUPERVISORS)?;
    let key = order_key(&key)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("mark {id:?}")))?;
    Ok(Json(
        st.store
            .withdraw_order_mark(&key, id, &user.actor(), now())
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::{csv_field, csv_rows};
    use crate::cases::kpi::Row;

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("12345"), "12345");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        let row = Row {
            key: "q,1".into(),
            offered: 2,
            connection_rate: Some(0.5),
            ..Default::default()
        };
        let out = csv_rows([("day", &row)], true);
        let lines: Vec<_> = out.split("\r\n").collect();
        assert!(lines[0].starts_with("section,key,calls,offered,"));
        assert!(
            lines[1].starts_with("day,\"q,1\",0,2,0,0,0,0.5,,"),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], "");
    }
}
