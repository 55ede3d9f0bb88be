//! The delivery task: drains the outbox in batches (oldest first), hands each due row to the
//! notifier, and records the outcome: delivered; or tried again after a pause that doubles with
//! each failure (`retry_secs`, 2×, 4×, …); or given up (`failed_at`) after `max_attempts`. It
//! polls every second and is woken early after a write. The outbox is durable, so a restart
//! picks up where the last run stopped.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;

use super::{Notification, Notifier};
use crate::cases::store::{Store, StoreError};
use crate::config::NotifierConfig;

/// Rows read per round.
pub const BATCH: i64 = 100;
/// Longest wait between rounds when nothing wakes the task.
pub const POLL: Duration = Duration::from_secs(1);
/// Deliveries in flight at once (a slow receiver does not hold up the whole batch).
const CONCURRENCY: usize = 8;
/// The pause never grows past 2^this × the first one.
const MAX_DOUBLINGS: u32 = 20;

/// How the delivery task retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Attempts before a notification is given up (at least 1).
    pub max_attempts: u32,
    /// Pause before the first retry; doubled for each further one.
    pub retry: Duration,
    /// Longest wait between rounds.
    pub poll: Duration,
}

impl DeliveryConfig {
    pub fn from_config(c: &NotifierConfig) -> Self {
        DeliveryConfig {
            max_attempts: c.max_attempts.max(1),
            retry: Duration::from_secs(u64::from(c.retry_secs)),
            poll: POLL,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Rows read (due).
    pub due: usize,
    pub delivered: usize,
    /// Failed attempts scheduled again.
    pub retried: usize,
    /// Failed attempts that were the last (the row is given up).
    pub failed: usize,
}

/// When a notification whose attempts so far are `attempts` (this failure included) is tried
/// again: `now + retry · 2^(attempts-1)`; `None` when `attempts` reached `max_attempts` (give up).
pub fn retry_at(attempts: u32, now: DateTime<Utc>, cfg: &DeliveryConfig) -> Option<DateTime<Utc>> {
    if attempts >= cfg.max_attempts {
        return None;
    }
    let doublings = attempts.saturating_sub(1).min(MAX_DOUBLINGS);
    let pause = cfg.retry.saturating_mul(1 << doublings);
    let pause = TimeDelta::from_std(pause).unwrap_or(TimeDelta::MAX);
    Some(
        now.checked_add_signed(pause)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

/// One round at `now`: delivers up to [`BATCH`] due notifications and records each outcome.
pub async fn deliver_due<N: Notifier>(
    store: &Store,
    notifier: &N,
    cfg: &DeliveryConfig,
    now: DateTime<Utc>,
) -> Result<DeliveryRound, StoreError> {
    let due = store.due_notifications(now, BATCH).await?;
    let mut round = DeliveryRound {
        due: due.len(),
        ..Default::default()
    };
    let mut rows = due.iter();
    let mut in_flight = FuturesUnordered::new();
    for n in rows.by_ref().take(CONCURRENCY) {
        in_flight.push(deliver_one(notifier, n));
    }
    // Each outcome is recorded as soon as its delivery ends: a stop or crash mid-batch re-sends
    // only the rows still in flight.
    while let Some((n, result)) = in_flight.next().await {
        record(store, cfg, now, n, result, &mut round).await?;
        if let Some(n) = rows.next() {
            in_flight.push(deliver_one(notifier, n));
        }
    }
    Ok(round)
}

/// Records one delivery's outcome: delivered, or failed with its next attempt (or given up).
async fn record(
    store: &Store,
    cfg: &DeliveryConfig,
    now: DateTime<Utc>,
    n: &Notification,
    result: Result<(), super::NotifyError>,
    round: &mut DeliveryRound,
) -> Result<(), StoreError> {
    match result {
        Ok(()) => {
            if store.mark_notification_delivered(n.id, now).await? {
                round.delivered += 1;
            }
        }
        Err(e) => {
            let attempts = u32::try_from(n.attempts).unwrap_or(0).saturating_add(1);
            let again = retry_at(attempts, now, cfg);
            log_failure(n, attempts, again, &e);
            if store
                .mark_notification_attempt_failed(n.id, &e.to_string(), again, now)
                .await?
            {
                match again {
                    Some(_) => round.retried += 1,
                    None => round.failed += 1,
                }
            }
        }
    }
    Ok(())
}

async fn deliver_one<'a, N: Notifier>(
    notifier: &'a N,
    n: &'a Notification,
) -> (&'a Notification, Result<(), super::NotifyError>) {
    (n, notifier.deliver(n).await)
}

fn log_failure(
    n: &Notification,
    attempts: u32,
    again: Option<DateTime<Utc>>,
    e: &super::NotifyError,
) {
    match again {
        Some(at) => tracing::info!(
            id = n.id, kind = %n.kind, recipient = %n.recipient, attempts,
            retry_at = %at.to_rfc3339(), error = %e,
            "notification not delivered; will retry"
        ),
        None => tracing::warn!(
            id = n.id, kind = %n.kind, recipient = %n.recipient, attempts, error = %e,
            "notification given up after its last attempt"
        ),
    }
}

/// The task: rounds until stopped; a full batch is followed at once by the next round,
/// otherwise it waits for the poll interval or a wake-up.
pub(super) async fn run<N: Notifier>(
    store: Store,
    notifier: N,
    cfg: DeliveryConfig,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let round = deliver_due(&store, &notifier, &cfg, crate::cases::now()).await;
        if let Err(e) = store.count_pending_notifications().await {
            tracing::debug!(error = %e, "cannot count pending notifications");
        }
        let full = match round {
            Ok(r) => r.due as i64 >= BATCH,
            Err(e) => {
                tracing::warn!(error = %e, "notification outbox unreadable; trying again");
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.poll) => {}
            _ = store.outbox().woken() => {}
            _ = stopped.changed() => return,
        }
    }
}
