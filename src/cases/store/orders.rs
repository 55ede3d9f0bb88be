//! Work orders in the database: create (with its number and deadline), find, list. Lifecycle
//! commands are applied in `transition.rs`.

use chrono::{DateTime, Utc};

use super::query::{paging, Arg, Where};
use super::{with_db, Store, StoreError};
use crate::cases::lifecycle::{Actor, Status};
use crate::cases::model::{CaseEvent, NewWorkOrder, OrderQuery, Page, WorkOrder};
use crate::cases::{is_category_id, search_fold, CHANNELS, PRIORITIES};
use crate::config::{Role, REQUEST_TYPES};

pub(super) const ORDER_COLUMNS: &str =
    "id, number, channel, request_type, status, priority, title, \
    description, caller_number, caller_name, reporter, category_id, address, longitude, latitude, \
    grid_cell, department_id, deadline, merged_into, resolved_at_intake, follow_up_result, \
    external_ref, call_id, created_by, created_at, updated_at, closed_at, version, \
    component_code, transfer_centre, reporter_id, district, assignee, paused_at, parked_from, \
    registered_at, dispatched_at, handled_at, escalation_level, near_deadline_notified_at";

pub(super) const INSERT_EVENT: &str = "INSERT INTO case_events \
    (order_id, at, actor, actor_role, action, from_status, to_status, note, data) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// How an order is named in a URL: its id, or its number (12 digits or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderKey {
    Id(i64),
    Number(String),
}

impl OrderKey {
    pub fn parse(s: &str) -> Option<OrderKey> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if s.len() >= 12 {
            Some(OrderKey::Number(s.to_string()))
        } else {
            s.parse().ok().map(OrderKey::Id)
        }
    }
}

/// Longest accepted free text (characters).
const MAX_TEXT: usize = 10_000;

fn check_text(field: &str, v: &Option<String>, max: usize) -> Result<(), StoreError> {
    match v {
        Some(s) if s.chars().count() > max => Err(StoreError::invalid(
            field,
            format!("longer than {max} characters"),
        )),
        _ => Ok(()),
    }
}

pub(super) fn is_phone_number(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty()
        && digits.len() <= 32
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

impl Store {
    /// Checks a new order and fills its defaults (channel, priority).
    fn validate_new(
        &self,
        new: &mut NewWorkOrder,
        actor: &Actor,
        channel_of_user: Option<&str>,
    ) -> Result<(), StoreError> {
        match (actor.role, channel_of_user, new.channel.as_deref()) {
            (Role::Channel, Some(own), Some(given)) if own != given => {
                return Err(StoreError::invalid(
                    "channel",
                    format!("this token reports through {own:?}, not {given:?}"),
                ))
            }
            (_, Some(own), None) => new.channel = Some(own.to_string()),
            (_, None, None) => new.channel = Some("phone-12345".into()),
            _ => {}
        }
        let channel = new.channel.as_deref().unwrap_or_default();
        if !CHANNELS.contains(&channel) {
            return Err(StoreError::invalid(
                "channel",
                format!(
                    "{channel:?} is not a channel; use one of {}",
                    CHANNELS.join(", ")
                ),
            ));
        }
        if !REQUEST_TYPES.contains(&new.request_type.as_str()) {
            return Err(StoreError::invalid(
                "request_type",
                format!(
                    "{:?} is not a request type; use one of {}",
                    new.request_type,
                    REQUEST_TYPES.join(", ")
                ),
            ));
        }
        let priority = new.priority.get_or_insert_with(|| "normal".into());
        if !PRIORITIES.contains(&priority.as_str()) {
            return Err(StoreError::invalid(
                "priority",
                format!(
                    "{priority:?} is not a priority; use one of {}",
                    PRIORITIES.join(", ")
                ),
            ));
        }
        if new.description.trim().is_empty() {
            return Err(StoreError::invalid("description", "must not be empty"));
        }
        check_text("description", &Some(new.description.clone()), MAX_TEXT)?;
        check_text("title", &new.title, 200)?;
        check_text("address", &new.address, 500)?;
        check_text("caller_name", &new.caller_name, 100)?;
        check_text("reporter", &new.reporter, 100)?;
        check_text("external_ref", &new.external_ref, 100)?;
        if let Some(n) = &new.caller_number {
            if !is_phone_number(n) {
                return Err(StoreError::invalid(
                    "caller_number",
                    format!("{n:?} is not a phone number"),
                ));
            }
        }
        if new.call_id.is_some()
            && !matches!(actor.role, Role::Agent | Role::Supervisor | Role::Admin)
        {
            return Err(StoreError::invalid(
                "call_id",
                "only agents, supervisors and admins tie a call to an order",
            ));
        }
        if channel.starts_with("transfer-") && new.caller_number.is_none() {
            return Err(StoreError::invalid(
                "caller_number",
                "a transferred call must carry the original caller's number",
            ));
        }
        match (new.longitude, new.latitude) {
            (Some(lon), Some(lat)) => {
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(StoreError::invalid(
                        "longitude",
                        "must be between -180 and 180",
                    ));
                }
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(StoreError::invalid(
                        "latitude",
                        "must be between -90 and 90",
                    ));
                }
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(StoreError::invalid(
                    "latitude",
                    "give both longitude and latitude",
                ))
            }
            (None, Some(_)) => {
                return Err(StoreError::invalid(
                    "longitude",
                    "give both longitude and latitude",
                ))
            }
        }
        if let Some(c) = &new.category_id {
            if !is_category_id(c) || self.category(c).is_none() {
                return Err(StoreError::invalid(
                    "category_id",
                    format!("{c:?} is not a known category"),
                ));
            }
        }
        if let Some(g) = &new.grid_cell {
            if !self.has_grid_cell(g) {
                return Err(StoreError::invalid(
                    "grid_cell",
                    format!("{g:?} is not a known grid cell"),
                ));
            }
        }
        Ok(())
    }

    /// Creates an order (status received) with its number, deadline and first audit event; ties
    /// the call `call_id` to it when given. `channel_of_user` is a channel token's own channel.
    pub async fn create_order(
        &self,
        new: NewWorkOrder,
        actor: &Actor,
        channel_of_user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, StoreError> {
        let prepared = self.prepare_order(new, actor, channel_of_user, now)?;
        self.creator.create(prepared).await
    }

    /// Checks a new order and works out its deadline, number day and search text: everything
    /// the writer needs, before anything is written.
    pub(super) fn prepare_order(
        &self,
        mut new: NewWorkOrder,
        actor: &Actor,
        channel_of_user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<super::create::Prepared, StoreError> {
        self.validate_new(&mut new, actor, channel_of_user)?;
        let hours = new
            .category_id
            .as_deref()
            .and_then(|c| self.category(c))
            .and_then(|c| c.deadline_hours);
        let deadline =
            self.policy()
                .deadline(&new.request_type, new.category_id.as_deref(), hours, now);
        let day = now
            .with_timezone(&self.policy().calendar.utc_offset)
            .format("%Y%m%d")
            .to_string();
        let search_text = search_fold(
            &[
                new.title.as_deref(),
                Some(new.description.trim()),
                new.address.as_deref(),
                new.caller_number.as_deref(),
                new.caller_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n"),
        );
        Ok(super::create::Prepared {
            search_text,
            new,
            deadline,
            day,
            actor: actor.clone(),
            now,
            extra: Default::default(),
        })
    }

    /// An order by id or number.
    pub async fn get_order(&self, key: &OrderKey) -> Result<Option<WorkOrder>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            match key {
                OrderKey::Id(id) => {
                    sqlx::query_as::<_, WorkOrder>(&format!(
                        "SELECT {ORDER_COLUMNS} FROM work_orders WHERE id = $1"
                    ))
                    .bind(*id)
                    .fetch_optional(pool)
                    .await?
                }
                OrderKey::Number(n) => {
                    sqlx::query_as::<_, WorkOrder>(&format!(
                        "SELECT {ORDER_COLUMNS} FROM work_orders WHERE number = $1"
                    ))
                    .bind(n)
                    .fetch_optional(pool)
                    .await?
                }
            }
        }))
    }

    pub(super) async fn require_order(&self, key: &OrderKey) -> Result<WorkOrder, StoreError> {
        self.get_order(key)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!(
                    "work order {}",
                    match key {
                        OrderKey::Id(id) => id.to_string(),
                        OrderKey::Number(n) => n.clone(),
                    }
                ),
            })
    }

    /// The audit trail of an order, oldest first.
    pub async fn order_events(&self, order_id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, CaseEvent>(
                "SELECT id, order_id, at, actor, actor_role, action, from_status, to_status, note, data
                 FROM case_events WHERE order_id = $1 ORDER BY id",
            )
            .bind(order_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Orders matching `q`, newest first. `now` decides what is overdue.
    pub async fn list_orders(
        &self,
        q: &OrderQuery,
        now: DateTime<Utc>,
    ) -> Result<Page<WorkOrder>, StoreError> {
        let (limit, offset) = paging(q.limit, q.offset)?;
        let mut w = Where::default();
        let listed = |field: &str, v: &Option<String>, list: &[&str]| match v {
            Some(v) if !list.contains(&v.as_str()) => Err(StoreError::invalid(
                field,
                format!("{v:?} is not one of {}", list.join(", ")),
            )),
            _ => Ok(()),
        };
        listed("channel", &q.channel, CHANNELS)?;
        listed("request_type", &q.request_type, REQUEST_TYPES)?;
        if let Some(c) = q.category_id.as_deref().filter(|c| !is_category_id(c)) {
            return Err(StoreError::invalid(
                "category_id",
                format!("{c:?} is not a category id like E0101"),
            ));
        }
        if let Some(s) = &q.status {
            let st: Status = s
                .parse()
                .map_err(|e: String| StoreError::invalid("status", e))?;
            w.eq("status", Arg::Text(st.as_str().into()));
        }
        for (col, v) in [
            ("channel", &q.channel),
            ("request_type", &q.request_type),
            ("category_id", &q.category_id),
            ("department_id", &q.department_id),
            ("caller_number", &q.caller_number),
            ("grid_cell", &q.grid_cell),
        ] {
            if let Some(v) = v {
                w.eq(col, Arg::Text(v.clone()));
            }
        }
        if let Some(name) = &q.inspector {
            let n = w.push(Arg::Text(name.clone()));
            w.clauses
                .push(format!("(reporter_id = ${n} OR assignee = ${n})"));
        }
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            // Typed % and _ are literal characters, not wildcards.
            let escaped = search_fold(text)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let n = w.push(Arg::Text(format!("%{escaped}%")));
            w.clauses.push(format!(
                "(search_text LIKE ${n} ESCAPE '\\' OR number LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(overdue) = q.overdue {
            let n = w.push(Arg::Time(now));
            let open = "status NOT IN ('rejected', 'closed', 'merged')";
            w.clauses.push(if overdue {
                format!("({open} AND deadline < ${n})")
            } else {
                format!("NOT ({open} AND deadline IS NOT NULL AND deadline < ${n})")
            });
        }
        if let Some(t) = q.created_from {
            w.time("created_at", ">=", t);
        }
        if let Some(t) = q.created_to {
            w.time("created_at", "<", t);
        }
        self.fetch_page(
            &w,
            (ORDER_COLUMNS, "work_orders", "id DESC"),
            (limit, offset),
        )
        .await
    }
}
