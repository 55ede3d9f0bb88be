//! Which deadline rule applies to an order: the configured per-category rule, else the
//! category's own handling time (for urban-management cases only), else the request type's rule
//! (Sichuan: consultation 3, help/suggestion 7, complaint/report 15 working days; the orders a
//! call makes by itself, voicemail and callback, 1 working day unless configured).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::calendar::{DeadlineRule, WorkingCalendar};
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct DeadlinePolicy {
    pub calendar: WorkingCalendar,
    pub by_type: BTreeMap<String, DeadlineRule>,
    pub by_category: BTreeMap<String, DeadlineRule>,
}

impl DeadlinePolicy {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let mut by_type = config.deadlines.by_type.clone();
        // The call-made types (voicemail, callback) may be left out: 1 working day.
        for t in crate::config::CALL_REQUEST_TYPES {
            by_type
                .entry(t.to_string())
                .or_insert(DeadlineRule::WorkingDays(1));
        }
        Ok(DeadlinePolicy {
            calendar: config.working_calendar()?,
            by_type,
            by_category: config.deadlines.by_category.clone(),
        })
    }

    /// The rule for an order of `request_type` in category `category_id` whose own handling
    /// time (from the category table) is `category_hours`.
    pub fn rule(
        &self,
        request_type: &str,
        category_id: Option<&str>,
        category_hours: Option<i32>,
    ) -> Option<DeadlineRule> {
        if let Some(rule) = category_id.and_then(|c| self.by_category.get(c)) {
            return Some(*rule);
        }
        if request_type == "urban-management" {
            if let Some(h) = category_hours.filter(|h| *h > 0) {
                return Some(DeadlineRule::WorkingHours(h as u32));
            }
        }
        self.by_type.get(request_type).copied()
    }

    /// The deadline of an order received at `received`.
    pub fn deadline(
        &self,
        request_type: &str,
        category_id: Option<&str>,
        category_hours: Option<i32>,
        received: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.rule(request_type, category_id, category_hours)
            .map(|r| self.calendar.deadline(r, received))
    }
}
