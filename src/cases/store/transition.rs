//! Applying a lifecycle command to a stored order: the store looks up what the decision needs
//! (the merge target, the category's registration criteria, the routed department, the
//! reporting inspector, the reporters of merged orders), asks the pure state machine, then
//! writes the order, its audit event, the notification outbox rows and the photos' attachment
//! rows in one transaction, guarded by the order's version so that two people acting at once
//! cannot both win.

use std::path::Path;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::notifications::{NewNotification, INSERT_NOTIFICATION};
use super::orders::{OrderKey, INSERT_EVENT, ORDER_COLUMNS};
use super::{with_db, Store, StoreError};
use crate::cases::is_category_id;
use crate::cases::lifecycle::{
    self, Actor, Change, Command, Context, FollowUpResult, OrderFacts, Status,
};
use crate::cases::model::WorkOrder;
use crate::cases::photos::{self, NewAttachment, INSERT_ATTACHMENT};
use crate::cases::routing::Routing;

/// Photos sent with a transition (already checked by the caller against the limits; saved
/// only once the command is accepted).
#[derive(Debug, Clone, Copy)]
pub struct TransitionPhotos<'a> {
    /// The data directory: files go under `photos/` in it.
    pub data_dir: &'a Path,
    pub max_bytes: u64,
    pub files: &'a [Vec<u8>],
}

/// The attachment kind of photos sent with `action`.
pub fn attachment_kind(action: &str) -> &'static str {
    match action {
        "handle" => "feedback",
        "verify" | "rework" | "report_verification" => "verification",
        _ => "other",
    }
}

impl Store {
    /// Replaces the dispatch routing table (from `[[routing]]`; done by `sync_config`).
    pub fn set_routing(&self, rules: &[crate::config::RoutingRule]) {
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = Routing::new(rules);
    }

    /// The department the routing table names for an order of `category` in `grid_cell`.
    pub fn routed_department(
        &self,
        category: Option<&str>,
        grid_cell: Option<&str>,
    ) -> Option<String> {
        let routing = self.routing.read().unwrap_or_else(|e| e.into_inner());
        routing.department(category, grid_cell).map(str::to_string)
    }

    /// Applies a lifecycle command to an order; returns the order as it is afterwards.
    pub async fn transition(
        &self,
        key: &OrderKey,
        cmd: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder, StoreError> {
        self.transition_with_photos(key, cmd, actor, now, None)
            .await
    }

    /// Applies a lifecycle command with photos: they are saved under the data directory once
    /// the command is accepted, and their attachment rows are written in the transition's
    /// transaction, tied to its audit event. A refused or failed transition removes the files
    /// it saved that no attachment row references.
    pub async fn transition_with_photos(
        &self,
        key: &OrderKey,
        cmd: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        photos: Option<TransitionPhotos<'_>>,
    ) -> Result<WorkOrder, StoreError> {
        let mut saved = Vec::new();
        let result = self
            .try_transition(key, cmd, actor, now, photos, &mut saved)
            .await;
        if let (Err(_), Some(p)) = (&result, photos) {
            if let Err(e) = self.discard_unreferenced(&saved, p.data_dir).await {
                tracing::warn!(error = %e, "cannot check the photos of a refused transition");
            }
        }
        result
    }

    async fn try_transition(
        &self,
        key: &OrderKey,
        cmd: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        photos: Option<TransitionPhotos<'_>>,
        saved: &mut Vec<NewAttachment>,
    ) -> Result<WorkOrder, StoreError> {
        for _attempt in 0..5 {
            let order = self.require_order(key).await?;
            let mut order_facts = facts(&order);
            // Who may do what comes before looking up anything the command names.
            lifecycle::check_allowed(&order_facts, cmd.action(), actor)?;
            order_facts.reporting_inspector = self.reporting_inspector(&order).await?;
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
            let criteria = match cmd {
                Command::Register { category_id, .. } => {
                    let c = category_id
                        .as_deref()
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .or(order.category_id.as_deref());
                    match c {
                        Some(c) => self.register_criteria(c).await?,
                        None => None,
                    }
                }
                _ => None,
            };
            let routed = match cmd {
                Command::Dispatch { .. } => {
                    self.routed_department(order.category_id.as_deref(), order.grid_cell.as_deref())
                }
                _ => None,
            };
            let merged_reporters = match cmd {
                Command::Close { .. } | Command::Merge { .. } => {
                    self.merged_reporters(order.id).await?
                }
                _ => Vec::new(),
            };
            // A register that really changes the category recomputes the deadline; the
            // verification pauses already added to it are kept.
            let paused_minutes = match cmd {
                Command::Register {
                    category_id: Some(c),
                    ..
                } if order.category_id.as_deref() != Some(c.trim()) && !c.trim().is_empty() => {
                    self.paused_minutes(order.id).await?
                }
                _ => 0,
            };
            let ctx = Context {
                now,
                calendar: &self.policy().calendar,
                merge_target: target.as_ref().map(|(f, _)| f),
                register_criteria: criteria.as_deref(),
                routed_department: routed.as_deref(),
                merged_reporters: &merged_reporters,
            };
            let change = lifecycle::apply(&order_facts, cmd, actor, &ctx)?;
            if let Some(d) = &change.department_id {
                if !self.has_department(d) {
                    return Err(StoreError::invalid(
                        "department",
                        format!("{d:?} is not a known department"),
                    ));
                }
            }
            let next = self.next_order(&order, &change, paused_minutes)?;
            let attachments = match photos {
                Some(p) => save_photos(p, cmd.action(), now).await?,
                None => Vec::new(),
            };
            saved.extend(attachments.iter().cloned());
            let audit = Audit {
                action: cmd.action(),
                note: change.note.clone(),
                data: audit_data(&order, &next, change.data.clone()),
            };
            let notifications: Vec<NewNotification> = change
                .notifications
                .iter()
                .cloned()
                .map(|mut n| {
                    if let serde_json::Value::Object(p) = &mut n.payload {
                        p.insert("number".into(), order.number.clone().into());
                        p.insert("title".into(), serde_json::json!(order.title));
                        p.insert("action".into(), cmd.action().into());
                    }
                    n
                })
                .collect();
            let merge = target.map(|(t, version)| (t.id, version));
            let writes = Writes {
                audit: &audit,
                merge,
                notifications: &notifications,
                attachments: &attachments,
            };
            if let Some(updated) = self
                .write_change(&order, &next, &writes, actor, now)
                .await?
            {
                return Ok(updated);
            }
        }
        Err(StoreError::Conflict)
    }

    /// The order as `change` leaves it. `paused_minutes` are the working minutes the deadline
    /// clock has been paused so far (used when the category, hence the deadline rule, changes).
    fn next_order(
        &self,
        order: &WorkOrder,
        change: &Change,
        paused_minutes: i64,
    ) -> Result<WorkOrder, StoreError> {
        let mut next = order.clone();
        if let Some(c) = &change.category_id {
            let cat = self
                .category(c)
                .filter(|_| is_category_id(c))
                .ok_or_else(|| {
                    StoreError::invalid("category_id", format!("{c:?} is not a known category"))
                })?;
            // Registering under the category the order already has leaves its deadline alone
            // (it may already carry a verification pause).
            if order.category_id.as_deref() != Some(c.as_str()) {
                next.category_id = Some(c.clone());
                let policy = self.policy();
                next.deadline = policy
                    .deadline(
                        &order.request_type,
                        Some(c),
                        cat.deadline_hours,
                        order.created_at,
                    )
                    .map(|d| {
                        let by = u32::try_from(paused_minutes.max(0)).unwrap_or(u32::MAX);
                        if by > 0 {
                            policy.calendar.add_working_minutes(d, by)
                        } else {
                            d
                        }
                    });
            }
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
        if let Some(a) = &change.assignee {
            next.assignee = a.clone();
        }
        if let Some(p) = change.paused_at {
            next.paused_at = p;
        }
        if let Some(p) = change.parked_from {
            next.parked_from = p.map(|s| s.as_str().to_string());
        }
        next.registered_at = change.registered_at.or(order.registered_at);
        next.dispatched_at = change.dispatched_at.or(order.dispatched_at);
        next.handled_at = change.handled_at.or(order.handled_at);
        // A later deadline or another department starts the escalation ladder again: the
        // department now responsible is told when the new deadline passes.
        let later = match (order.deadline, next.deadline) {
            (Some(old), Some(new)) => new > old,
            (None, Some(_)) => true,
            _ => false,
        };
        if later || next.department_id != order.department_id {
            next.escalation_level = 0;
        }
        Ok(next)
    }

    /// The inspector who reported `order`: its `reporter_id` when the order was created by a
    /// user of role inspector.
    async fn reporting_inspector(&self, order: &WorkOrder) -> Result<Option<String>, StoreError> {
        let Some(reporter) = &order.reporter_id else {
            return Ok(None);
        };
        let role: Option<String> = with_db!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT actor_role FROM case_events WHERE order_id = $1 AND action = 'create'
                 ORDER BY id LIMIT 1",
            )
            .bind(order.id)
            .fetch_optional(pool)
            .await?
        });
        Ok((role.as_deref() == Some("inspector")).then(|| reporter.clone()))
    }

    /// A category's registration criteria (立案标准), if it has any.
    async fn register_criteria(&self, category: &str) -> Result<Option<String>, StoreError> {
        let row: Option<Option<String>> = with_db!(self, read, |pool| {
            sqlx::query_scalar("SELECT register_criteria FROM categories WHERE id = $1")
                .bind(category)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.flatten().filter(|c| !c.trim().is_empty()))
    }

    /// The working minutes the deadline clock of `order_id` has been paused so far (the sum
    /// of its events' `paused_working_minutes`).
    async fn paused_minutes(&self, order_id: i64) -> Result<i64, StoreError> {
        let rows: Vec<Json<serde_json::Value>> = with_db!(self, read, |pool| {
            sqlx::query_scalar("SELECT data FROM case_events WHERE order_id = $1 ORDER BY id")
                .bind(order_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .iter()
            .filter_map(|d| d.0.get("paused_working_minutes")?.as_i64())
            .sum())
    }

    /// Who is told the result of the orders merged into `order_id`, directly or through a
    /// chain of merges (a merge repoints the chain, but older rows may still chain).
    async fn merged_reporters(&self, order_id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Option<String>, Option<String>)> = with_db!(self, read, |pool| {
            sqlx::query_as(
                "WITH RECURSIVE chain(id) AS (
                     SELECT id FROM work_orders WHERE merged_into = $1
                     UNION
                     SELECT w.id FROM work_orders w JOIN chain c ON w.merged_into = c.id
                 )
                 SELECT reporter_id, caller_number FROM work_orders
                 WHERE id IN (SELECT id FROM chain) ORDER BY id",
            )
            .bind(order_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().filter_map(|(r, c)| r.or(c)).collect())
    }

    /// Writes `next` over `order` if nobody changed it meanwhile; `None` if someone did. For a
    /// merge, `merge` is the target's (id, version): the target is bumped in the same
    /// transaction, so two orders merged into each other at once cannot both succeed.
    async fn write_change(
        &self,
        order: &WorkOrder,
        next: &WorkOrder,
        w: &Writes<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<WorkOrder>, StoreError> {
        let update = format!(
            "UPDATE work_orders SET status = $1, department_id = $2, category_id = $3, deadline = $4, \
             closed_at = $5, resolved_at_intake = $6, merged_into = $7, follow_up_result = $8, \
             updated_at = $9, version = version + 1, assignee = $12, paused_at = $13, \
             parked_from = $14, registered_at = $15, dispatched_at = $16, handled_at = $17, \
             escalation_level = $18 \
             WHERE id = $10 AND version = $11 RETURNING {ORDER_COLUMNS}"
        );
        let insert_event = format!("{INSERT_EVENT} RETURNING id");
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
                .bind(&next.assignee)
                .bind(next.paused_at)
                .bind(&next.parked_from)
                .bind(next.registered_at)
                .bind(next.dispatched_at)
                .bind(next.handled_at)
                .bind(next.escalation_level)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(updated) = updated else {
                return Ok(None);
            };
            let event_id: i64 = sqlx::query_scalar(&insert_event)
                .bind(order.id)
                .bind(now)
                .bind(&actor.name)
                .bind(actor.role.as_str())
                .bind(w.audit.action)
                .bind(order.status.as_str())
                .bind(next.status.as_str())
                .bind(&w.audit.note)
                .bind(Json(&w.audit.data))
                .fetch_one(&mut *tx)
                .await?;
            if let Some((target, version)) = w.merge {
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
                    .bind(&w.audit.note)
                    .bind(Json(serde_json::json!({
                        "duplicate": order.id,
                        "duplicate_number": order.number,
                    })))
                    .execute(&mut *tx)
                    .await?;
                // Orders already merged into this one now point at the final target, so that
                // closing it tells their reporters too.
                let chained: Vec<(i64, String)> = sqlx::query_as(
                    "UPDATE work_orders SET merged_into = $1, version = version + 1, updated_at = $2
                     WHERE merged_into = $3 RETURNING id, number",
                )
                .bind(target)
                .bind(now)
                .bind(order.id)
                .fetch_all(&mut *tx)
                .await?;
                for (id, number) in chained {
                    sqlx::query(INSERT_EVENT)
                        .bind(target)
                        .bind(now)
                        .bind(&actor.name)
                        .bind(actor.role.as_str())
                        .bind("merged_duplicate")
                        .bind(None::<String>)
                        .bind(None::<String>)
                        .bind(&w.audit.note)
                        .bind(Json(serde_json::json!({
                            "duplicate": id,
                            "duplicate_number": number,
                            "via": order.id,
                        })))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for n in w.notifications {
                sqlx::query(INSERT_NOTIFICATION)
                    .bind(now)
                    .bind(n.kind)
                    .bind(&n.recipient)
                    .bind(n.work_order_id)
                    .bind(Json(&n.payload))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            for a in w.attachments {
                sqlx::query(INSERT_ATTACHMENT)
                    .bind(order.id)
                    .bind(event_id)
                    .bind(&a.kind)
                    .bind(&a.path)
                    .bind(&a.content_type)
                    .bind(a.bytes)
                    .bind(&a.sha256)
                    .bind(&actor.name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Some(updated)
        }))
    }
}

/// Saves the photos of an accepted command (content-addressed: a retry rewrites nothing).
async fn save_photos(
    p: TransitionPhotos<'_>,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Vec<NewAttachment>, StoreError> {
    let kind = attachment_kind(action);
    let dir = p.data_dir.to_path_buf();
    let files = p.files.to_vec();
    let max = p.max_bytes;
    tokio::task::spawn_blocking(move || {
        files
            .iter()
            .map(|f| photos::save(&dir, kind, f, max, now))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| StoreError::invalid("photo", format!("saving the photo failed: {e}")))?
    .map_err(|e| match e {
        photos::SaveError::Photo(p) => StoreError::invalid("photo", p.to_string()),
        photos::SaveError::Io(io) => {
            tracing::error!(error = %io, "cannot write a photo under the data directory");
            StoreError::Unavailable
        }
    })
}

/// Everything a transition writes beside the order row.
struct Writes<'a> {
    audit: &'a Audit,
    merge: Option<(i64, i64)>,
    notifications: &'a [NewNotification],
    attachments: &'a [NewAttachment],
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
    if next.deadline != order.deadline {
        map.entry("previous_deadline")
            .or_insert_with(|| serde_json::json!(order.deadline));
        map.entry("deadline")
            .or_insert_with(|| serde_json::json!(next.deadline));
    }
    if map.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(map)
    }
}

/// The facts of an order as stored (the reporting inspector is looked up separately).
fn facts(o: &WorkOrder) -> OrderFacts {
    OrderFacts {
        id: o.id,
        status: o.status,
        request_type: o.request_type.clone(),
        category_id: o.category_id.clone(),
        department_id: o.department_id.clone(),
        deadline: o.deadline,
        follow_up_result: o.follow_up_result.as_deref().and_then(|r| {
            serde_json::from_value::<FollowUpResult>(serde_json::Value::String(r.to_string())).ok()
        }),
        assignee: o.assignee.clone(),
        reporting_inspector: None,
        reporter: o.reporter_id.clone().or(o.caller_number.clone()),
        paused_at: o.paused_at,
        parked_from: o
            .parked_from
            .as_deref()
            .and_then(|s| s.parse::<Status>().ok()),
    }
}
