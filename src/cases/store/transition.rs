//! Applying a lifecycle command to a stored order: each change and its audit event in one
//! transaction, guarded by the order's version so that two people acting at once cannot both win.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::orders::{OrderKey, INSERT_EVENT, ORDER_COLUMNS};
use super::{with_db, Store, StoreError};
use crate::cases::is_category_id;
use crate::cases::lifecycle::{self, Actor, Command, Context, FollowUpResult, OrderFacts};
use crate::cases::model::WorkOrder;

impl Store {
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
