//! Intake of reports from every channel (`POST /api/v1/reports`): the checks an intake report
//! adds to an order's (component code, transferring centre), idempotency keys (a retried
//! request answers the first result), and the write of the order with its photos, key and
//! merge proposals in one transaction (through the group-commit writer, `create.rs`).

use serde::Serialize;

use super::attachments::Attachment;
use super::create::{Created, Extras, IntakeKey, Prepared, KEY_FIELD};
use super::proposals::{MergeProposal, MergeRule};
use super::{with_db, Store, StoreError};
use crate::cases::lifecycle::Actor;
use crate::cases::model::{NewWorkOrder, WorkOrder};
use crate::cases::photos::NewAttachment;

/// Channels whose reports are transfers from another emergency centre: they carry the original
/// caller's number and the transferring centre.
pub const TRANSFER_CHANNELS: &[&str] = &[
    "transfer-110",
    "transfer-119",
    "transfer-120",
    "transfer-122",
];

/// A report as the intake API hands it to the store (defaults filled, grid cell placed).
#[derive(Debug, Clone, Default)]
pub struct IntakeReport {
    pub new: NewWorkOrder,
    pub component_code: Option<String>,
    pub transfer_centre: Option<String>,
    pub reporter_id: Option<String>,
    pub district: Option<String>,
}

/// What an intake wrote (or wrote for the first request with the same key).
#[derive(Debug, Clone, Serialize)]
pub struct IntakeResult {
    pub order: WorkOrder,
    pub attachments: Vec<Attachment>,
    pub merge_proposals: Vec<MergeProposal>,
}

#[derive(Debug, Clone)]
pub enum IntakeOutcome {
    Created(IntakeResult),
    /// The key was used before by the same request: its result.
    Replayed(IntakeResult),
}

/// A report that passed every check; nothing is written yet.
pub struct CheckedIntake(Prepared);

impl std::fmt::Debug for CheckedIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedIntake")
            .field("new", &self.0.new)
            .finish_non_exhaustive()
    }
}

impl From<Created> for IntakeResult {
    fn from(c: Created) -> Self {
        IntakeResult {
            order: c.order,
            attachments: c.attachments,
            merge_proposals: c.merge_proposals,
        }
    }
}

/// An idempotency key: 1–100 visible ASCII characters.
pub fn is_idempotency_key(k: &str) -> bool {
    (1..=100).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
}

impl Store {
    /// The result of the earlier request that used `key`, if any. The same key with another
    /// request (`request_sha256` differs) is refused on field `Idempotency-Key`.
    pub async fn intake_replay(
        &self,
        user_name: &str,
        key: &str,
        request_sha256: &str,
    ) -> Result<Option<IntakeResult>, StoreError> {
        let row: Option<(String, i64)> = with_db!(self, read, |pool| {
            sqlx::query_as(
                "SELECT request_sha256, work_order_id FROM intake_keys \
                 WHERE user_name = $1 AND key = $2",
            )
            .bind(user_name)
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        let Some((sha, order_id)) = row else {
            return Ok(None);
        };
        if sha != request_sha256 {
            return Err(StoreError::invalid(
                KEY_FIELD,
                "this key was used before with a different request; use a new key for a new report",
            ));
        }
        Ok(Some(self.intake_result(order_id).await?))
    }

    /// An order as an intake answers it: with its attachments and the proposals made for it.
    pub async fn intake_result(&self, order_id: i64) -> Result<IntakeResult, StoreError> {
        let order = self.require_order(&super::OrderKey::Id(order_id)).await?;
        Ok(IntakeResult {
            attachments: self.order_attachments(order_id).await?,
            merge_proposals: self.proposals_of(order_id).await?,
            order,
        })
    }

    /// Checks a report as an order and as an intake report; writes nothing.
    pub fn check_intake(
        &self,
        report: IntakeReport,
        actor: &Actor,
        channel_of_user: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<CheckedIntake, StoreError> {
        let IntakeReport {
            new,
            component_code,
            transfer_centre,
            reporter_id,
            district,
        } = report;
        let mut prepared = self.prepare_order(new, actor, channel_of_user, now)?;
        let channel = prepared.new.channel.clone().unwrap_or_default();
        let is_transfer = TRANSFER_CHANNELS.contains(&channel.as_str());
        match (&transfer_centre, is_transfer) {
            (None, true) => {
                return Err(StoreError::invalid(
                    "transfer_centre",
                    format!("a {channel} transfer must name the transferring centre"),
                ))
            }
            (Some(_), false) => {
                return Err(StoreError::invalid(
                    "transfer_centre",
                    format!(
                        "only transfers ({}) name a transferring centre",
                        TRANSFER_CHANNELS.join(", ")
                    ),
                ))
            }
            (Some(t), true) if t.trim().is_empty() || t.chars().count() > 100 => {
                return Err(StoreError::invalid(
                    "transfer_centre",
                    "must be 1 to 100 characters",
                ))
            }
            _ => {}
        }
        if let Some(code) = &component_code {
            self.check_component_code(code, prepared.new.category_id.as_deref())?;
        }
        prepared.extra = Extras {
            component_code,
            transfer_centre,
            reporter_id,
            district,
            ..Extras::default()
        };
        Ok(CheckedIntake(prepared))
    }

    /// A component code is 16 digits whose 7th to 10th digits are the component category's
    /// major and minor class (GB/T 30428: division 6, class 4, serial 6).
    fn check_component_code(&self, code: &str, category: Option<&str>) -> Result<(), StoreError> {
        if code.len() != 16 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::invalid(
                "component_code",
                format!("{code:?} must be 16 digits"),
            ));
        }
        let cat = category
            .and_then(|c| self.category(c))
            .filter(|c| c.kind == "component")
            .ok_or_else(|| {
                StoreError::invalid(
                    "component_code",
                    "only a component report (category C…) names a component code",
                )
            })?;
        let Some(minor) = cat.minor_code.as_deref() else {
            return Err(StoreError::invalid(
                "category_id",
                format!(
                    "{} is a major class; a component report names its subclass (like {}01)",
                    cat.id, cat.id
                ),
            ));
        };
        let class = format!("{}{}", cat.major_code, minor);
        if code[6..10] != class {
            return Err(StoreError::invalid(
                "component_code",
                format!(
                    "digits 7 to 10 are {:?}; a component of category {} has {class:?} there",
                    &code[6..10],
                    cat.id
                ),
            ));
        }
        Ok(())
    }

    /// Writes a checked report with its photos (already on disk) and key; looks for duplicates
    /// to propose when `merge` is given. A key taken meanwhile by the same request answers that
    /// request's result (replayed).
    pub async fn submit_intake(
        &self,
        checked: CheckedIntake,
        photos: Vec<NewAttachment>,
        key: Option<(String, String, String)>,
        merge: Option<MergeRule>,
    ) -> Result<IntakeOutcome, StoreError> {
        let CheckedIntake(mut prepared) = checked;
        prepared.extra.attachments = photos;
        prepared.extra.merge = merge;
        prepared.extra.key = key
            .clone()
            .map(|(user_name, key, request_sha256)| IntakeKey {
                user_name,
                key,
                request_sha256,
            });
        match self.creator.create_full(prepared).await {
            Ok(created) => Ok(IntakeOutcome::Created(created.into())),
            Err(StoreError::Invalid { field, reason }) if field == KEY_FIELD => {
                let Some((user, key, sha)) = key else {
                    return Err(StoreError::Invalid { field, reason });
                };
                match self.intake_replay(&user, &key, &sha).await? {
                    Some(first) => Ok(IntakeOutcome::Replayed(first)),
                    None => Err(StoreError::Invalid { field, reason }),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_idempotency_key;

    #[test]
    fn idempotency_keys() {
        assert!(is_idempotency_key("a"));
        assert!(is_idempotency_key("3f2b-01:retry/7"));
        assert!(is_idempotency_key(&"k".repeat(100)));
        assert!(!is_idempotency_key(""));
        assert!(!is_idempotency_key(&"k".repeat(101)));
        assert!(!is_idempotency_key("with space"));
        assert!(!is_idempotency_key("键"));
    }
}
