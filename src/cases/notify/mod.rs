//! Notifications leave the process here: the [`Notifier`] trait (deliver one outbox row), the
//! shipped notifiers ([`LogNotifier`], [`WebhookNotifier`]; an SMS gateway is another
//! implementation, or a webhook receiver), the delivery task that drains the outbox with retries,
//! and the deadline sweeper's task. Both tasks are started by [`start`] and stopped by
//! [`Background::stop`].

mod delivery;
mod log;
mod webhook;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use delivery::{deliver_due, retry_at, DeliveryConfig, DeliveryRound, BATCH, POLL};
pub use log::LogNotifier;
pub use webhook::WebhookNotifier;

pub use super::store::Notification;
use super::store::Store;
use super::sweep::SweepConfig;
use crate::config::{NotifierConfig, UrbanConfig};

/// Why a notification was not delivered (the attempt is retried, then given up).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The notifier cannot be built from its configuration.
    #[error("notifier configuration: {0}")]
    Config(String),
    /// The receiver could not be reached, or did not answer in time.
    #[error("{0}")]
    Transport(String),
    /// The receiver answered, but not with success.
    #[error("the receiver answered {status}: {body}")]
    Rejected { status: u16, body: String },
}

/// Delivers one notification to wherever notifications go. `Ok` means delivered: the row is
/// marked so and never sent again; an error is retried later.
///
/// Delivery is at least once: a crash between a receiver's success and the outbox update sends
/// the row again, so receivers deduplicate by the notification's `id`.
pub trait Notifier: Send + Sync + 'static {
    fn deliver(&self, n: &Notification) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// The notifier `[notifier]` configures.
#[derive(Debug, Clone)]
pub enum ConfiguredNotifier {
    Log(LogNotifier),
    Webhook(WebhookNotifier),
}

impl ConfiguredNotifier {
    /// Builds the notifier of `kind` (`log` or `webhook`).
    pub fn from_config(c: &NotifierConfig) -> Result<Self, NotifyError> {
        match c.kind.as_str() {
            "log" => Ok(ConfiguredNotifier::Log(LogNotifier)),
            "webhook" => Ok(ConfiguredNotifier::Webhook(WebhookNotifier::from_config(
                c,
            )?)),
            other => Err(NotifyError::Config(format!(
                "kind {other:?} is not one of log, webhook"
            ))),
        }
    }
}

impl Notifier for ConfiguredNotifier {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        match self {
            ConfiguredNotifier::Log(l) => l.deliver(n).await,
            ConfiguredNotifier::Webhook(w) => w.deliver(n).await,
        }
    }
}

/// How long [`Background::stop`] waits for a round under way.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// The running delivery and sweeper tasks.
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Asks the tasks to stop and waits for them: a round under way finishes and records its
    /// outcomes, unless it takes longer than [`STOP_GRACE`] (a receiver not answering); then it
    /// is cut short and its rows stay pending, to be sent again at the next start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for mut t in self.tasks {
            if tokio::time::timeout(STOP_GRACE, &mut t).await.is_err() {
                t.abort();
                tracing::info!(
                    "notification round cut short by the shutdown; its rows stay pending"
                );
            }
        }
    }
}

/// Starts the delivery task with the configured notifier and the deadline sweeper, both on
/// `store`.
pub fn start(
    store: Store,
    notifier: &NotifierConfig,
    urban: &UrbanConfig,
) -> Result<Background, NotifyError> {
    let built = ConfiguredNotifier::from_config(notifier)?;
    Ok(start_with(
        store,
        built,
        DeliveryConfig::from_config(notifier),
        SweepConfig::from_urban(urban),
        Duration::from_secs(u64::from(urban.sweep_secs.max(1))),
    ))
}

/// [`start`] with a notifier of the caller's (tests, another kind of gateway) and explicit
/// timings.
pub fn start_with<N: Notifier>(
    store: Store,
    notifier: N,
    delivery: DeliveryConfig,
    sweep: SweepConfig,
    sweep_every: Duration,
) -> Background {
    let (stop, stopped) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(delivery::run(
            store.clone(),
            notifier,
            delivery,
            stopped.clone(),
        )),
        tokio::spawn(run_sweeper(store, sweep, sweep_every, stopped)),
    ];
    Background { stop, tasks }
}

/// Sweeps deadlines every `every` until stopped. A failed sweep is logged and tried again at
/// the next tick.
async fn run_sweeper(
    store: Store,
    cfg: SweepConfig,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        match store.sweep_deadlines(super::now(), &cfg).await {
            Ok(o) if o.applied > 0 || o.conflicts > 0 => tracing::info!(
                candidates = o.candidates,
                applied = o.applied,
                conflicts = o.conflicts,
                notifications = o.notifications,
                "deadline sweep"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed; retried at the next tick"),
        }
    }
}
