//! Work orders in the database: create (with its number and deadline), find, list, and apply a
//! lifecycle command — each change and its audit event in one transaction, guarded by the
//! order's version so that two people acting at once cannot both win.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::query::{paging, Arg, Where};
use super::{with_db, Store, StoreError};
use crate::cases::lifecycle::{self, Actor, Command, Context, FollowUpResult, OrderFacts, Status};
use crate::cases::model::{CaseEvent, NewWorkOrder, OrderQuery, Page, WorkOrder};
use crate::cases::{is_category_id, search_fold, CHANNELS, PRIORITIES};
use crate::config::{Role, REQUEST_TYPES};

pub(super) const ORDER_COLUMNS: &str =
    "id, number, channel, request_type, status, priority, title, \
    description, caller_number, caller_name, reporter, category_id, address, longitude, latitude, \
    grid_cell, department_id, deadline, merged_into, resolved_at_intake, follow_up_result, \
    external_ref, call_id, created_by, created_at, updated_at, closed_at, version";

const INSERT_EVENT: &str = "INSERT INTO case_events \
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
        mut new: NewWorkOrder,
        actor: &Actor,
        channel_of_user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, StoreError> {
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
        self.creator
            .create(super::create::Prepared {
                search_text,
                new,
                deadline,
                day,
                actor: actor.clone(),
                now,
            })
            .await
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

    async fn require_order(&self, key: &OrderKey) -> Result<WorkOrder, StoreError> {
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

    /// Applies a lifecycle command to an order; returns the order as it is afterwards.
    pub async fn transition(
        &self,
        key: &OrderKey,
        cmd: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, StoreError> {
        for _attempt in 0..5 {
            let order = self.require_order(key).await?;
            // Who may do what comes before looking up anything the command names.
            lifecycle::check_allowed(&facts(&order), cmd.action(), actor)?;
            let target = match cmd {
                Command::Merge { into, .. } => {
                    let k = OrderKey::parse(into.trim()).ok_or_else(|| {
                        StoreError::invalid(
                            "into",
                            format!("{into:?} is not an order id or number"),
                        )
                    })?;
                    let t = self
                        .get_order(&k)
                        .await?
                        .ok_or_else(|| StoreError::invalid("into", format!("no order {into:?}")))?;
                    Some((facts(&t), t.version))
                }
                _ => None,
            };
            let ctx = Context {
                now,
                calendar: &self.policy().calendar,
                merge_target: target.as_ref().map(|(f, _)| f),
            };
            let change = lifecycle::apply(&facts(&order), cmd, actor, &ctx)?;
            if let Some(d) = &change.department_id {
                if !self.has_department(d) {
                    return Err(StoreError::invalid(
                        "department",
                        format!("{d:?} is not a known department"),
                    ));
                }
            }
            let mut next = order.clone();
            if let Some(c) = &change.category_id {
                let cat = self
                    .category(c)
                    .filter(|_| is_category_id(c))
                    .ok_or_else(|| {
                        StoreError::invalid("category_id", format!("{c:?} is not a known category"))
                    })?;
                next.category_id = Some(c.clone());
                next.deadline = self.policy().deadline(
                    &order.request_type,
                    Some(c),
                    cat.deadline_hours,
                    order.created_at,
                );
            }
            next.status = change.to.unwrap_or(order.status);
            next.department_id = change.department_id.clone().or(order.department_id.clone());
            next.deadline = change.deadline.or(next.deadline);
            next.closed_at = change.closed_at.or(order.closed_at);
            next.resolved_at_intake = order.resolved_at_intake || change.resolved_at_intake;
            next.merged_into = change.merged_into.or(order.merged_into);
            next.follow_up_result = change
                .follow_up_result
                .map(|r| r.as_str().to_string())
                .or(order.follow_up_result.clone());
            let audit = Audit {
                action: cmd.action(),
                note: change.note.clone(),
                data: audit_data(&order, &next, change.data),
            };
            let merge = target.map(|(t, version)| (t.id, version));
            if let Some(updated) = self
                .write_change(&order, &next, &audit, merge, actor, now)
                .await?
            {
                return Ok(updated);
            }
        }
        Err(StoreError::Conflict)
    }

    /// Writes `next` over `order` if nobody changed it meanwhile; `None` if someone did. For a
    /// merge, `merge` is the target's (id, version): the target is bumped in the same
    /// transaction, so two orders merged into each other at once cannot both succeed.
    async fn write_change(
        &self,
        order: &WorkOrder,
        next: &WorkOrder,
        audit: &Audit,
        merge: Option<(i64, i64)>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<WorkOrder>, StoreError> {
        let update = format!(
            "UPDATE work_orders SET status = $1, department_id = $2, category_id = $3, deadline = $4, \
             closed_at = $5, resolved_at_intake = $6, merged_into = $7, follow_up_result = $8, \
             updated_at = $9, version = version + 1 WHERE id = $10 AND version = $11 \
             RETURNING {ORDER_COLUMNS}"
        );
        Ok(with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query_as::<_, WorkOrder>(&update)
                .bind(next.status.as_str())
                .bind(&next.department_id)
                .bind(&next.category_id)
                .bind(next.deadline)
                .bind(next.closed_at)
                .bind(next.resolved_at_intake)
                .bind(next.merged_into)
                .bind(&next.follow_up_result)
                .bind(now)
                .bind(order.id)
                .bind(order.version)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(updated) = updated else {
                return Ok(None);
            };
            sqlx::query(INSERT_EVENT)
                .bind(order.id)
                .bind(now)
                .bind(&actor.name)
                .bind(actor.role.as_str())
                .bind(audit.action)
                .bind(order.status.as_str())
                .bind(next.status.as_str())
                .bind(&audit.note)
                .bind(Json(&audit.data))
                .execute(&mut *tx)
                .await?;
            if let Some((target, version)) = merge {
                let bumped = sqlx::query(
                    "UPDATE work_orders SET version = version + 1, updated_at = $1
                     WHERE id = $2 AND version = $3 AND status NOT IN ('merged', 'rejected')",
                )
                .bind(now)
                .bind(target)
                .bind(version)
                .execute(&mut *tx)
                .await?;
                if bumped.rows_affected() == 0 {
                    // The target changed meanwhile: decide again on fresh facts.
                    return Ok(None);
                }
                sqlx::query(INSERT_EVENT)
                    .bind(target)
                    .bind(now)
                    .bind(&actor.name)
                    .bind(actor.role.as_str())
                    .bind("merged_duplicate")
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(&audit.note)
                    .bind(Json(serde_json::json!({
                        "duplicate": order.id,
                        "duplicate_number": order.number,
                    })))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Some(updated)
        }))
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

/// What an audit event records of a change.
struct Audit {
    action: &'static str,
    note: Option<String>,
    data: serde_json::Value,
}

/// The event's data: what the command recorded, plus every field it changed that the command's
/// own data does not already show (category, deadline).
fn audit_data(order: &WorkOrder, next: &WorkOrder, data: serde_json::Value) -> serde_json::Value {
    let mut map = match data {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => serde_json::Map::new(),
        other => return other,
    };
    if next.category_id != order.category_id {
        map.insert(
            "previous_category_id".into(),
            order.category_id.clone().into(),
        );
        map.insert("category_id".into(), next.category_id.clone().into());
    }
    if next.deadline != order.deadline && !map.contains_key("deadline") {
        map.insert(
            "previous_deadline".into(),
            serde_json::json!(order.deadline),
        );
        map.insert("deadline".into(), serde_json::json!(next.deadline));
    }
    if map.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(map)
    }
}

fn facts(o: &WorkOrder) -> OrderFacts {
    OrderFacts {
        id: o.id,
        status: o.status,
        department_id: o.department_id.clone(),
        deadline: o.deadline,
        follow_up_result: o.follow_up_result.as_deref().and_then(|r| {
            serde_json::from_value::<FollowUpResult>(serde_json::Value::String(r.to_string())).ok()
        }),
    }
}
