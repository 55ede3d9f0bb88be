//! `GET /api/v1/inbox`: a department's work (处置通: orders dispatched to it or accepted) or an
//! inspector's verification tasks, soonest deadline first, each with the working minutes left
//! (negative when overdue; counted up to the pause for an order whose clock is stopped).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::auth::User;
use super::error::ApiError;
use super::AppState;
use crate::cases::calendar::WorkingCalendar;
use crate::cases::model::WorkOrder;
use crate::cases::now;
use crate::cases::store::InboxOwner;
use crate::config::Role;

/// One order of an inbox.
#[derive(Debug, Serialize)]
pub struct InboxItem {
    #[serde(flatten)]
    pub order: WorkOrder,
    /// Working minutes to the deadline (negative: past it); null without a deadline.
    pub remaining_working_minutes: Option<i64>,
    pub overdue: bool,
}

#[derive(Debug, Serialize)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    pub total: usize,
}

/// Working minutes from `now` (or from `paused_at`, the clock being stopped) to `deadline`,
/// negative when past it; and whether the order is overdue.
pub fn remaining(
    calendar: &WorkingCalendar,
    deadline: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (Option<i64>, bool) {
    let Some(deadline) = deadline else {
        return (None, false);
    };
    let at = paused_at.unwrap_or(now);
    if at <= deadline {
        (Some(calendar.working_minutes_between(at, deadline)), false)
    } else {
        (Some(-calendar.working_minutes_between(deadline, at)), true)
    }
}

pub async fn inbox(State(st): State<AppState>, user: User) -> Result<Json<Inbox>, ApiError> {
    user.require(&[Role::Department, Role::Inspector])?;
    let u = &user.0;
    let owner = match (u.role, &u.department) {
        (Role::Department, Some(d)) => InboxOwner::Department(d.clone()),
        (Role::Department, None) => {
            return Err(ApiError::forbidden(
                "this department user names no department",
            ))
        }
        _ => InboxOwner::Inspector(u.name.clone()),
    };
    let orders = st.store.inbox(&owner).await?;
    let calendar = &st.store.policy().calendar;
    let at = now();
    let items: Vec<InboxItem> = orders
        .into_iter()
        .map(|order| {
            let (remaining_working_minutes, overdue) =
                remaining(calendar, order.deadline, order.paused_at, at);
            InboxItem {
                order,
                remaining_working_minutes,
                overdue,
            }
        })
        .collect();
    Ok(Json(Inbox {
        total: items.len(),
        items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn remaining_minutes_before_and_after_the_deadline() {
        let cal = WorkingCalendar::china_default();
        // Deadline Tuesday 2026-03-10 12:00 +08:00.
        let deadline = Some(utc("2026-03-10T04:00:00Z"));
        // Monday 17:00: 30 minutes on Monday + 180 on Tuesday morning.
        assert_eq!(
            remaining(&cal, deadline, None, utc("2026-03-09T09:00:00Z")),
            (Some(210), false)
        );
        // Tuesday 14:30: 60 working minutes past (lunch does not count).
        assert_eq!(
            remaining(&cal, deadline, None, utc("2026-03-10T06:30:00Z")),
            (Some(-60), true)
        );
        // Paused on Monday 17:00: the clock stands there whatever the time now.
        assert_eq!(
            remaining(
                &cal,
                deadline,
                Some(utc("2026-03-09T09:00:00Z")),
                utc("2026-03-12T09:00:00Z")
            ),
            (Some(210), false)
        );
        assert_eq!(
            remaining(&cal, None, None, utc("2026-03-10T06:30:00Z")),
            (None, false)
        );
    }
}
