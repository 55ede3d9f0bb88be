//! The log notifier: writes each notification to the server log (target `hotline::notify`,
//! level info) and counts it delivered. The default, for a centre without a gateway yet.

use super::{Notification, Notifier, NotifyError};

/// Writes notifications to the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        tracing::info!(
            target: "hotline::notify",
            id = n.id,
            kind = %n.kind,
            recipient = %n.recipient,
            work_order_id = n.work_order_id,
            created_at = %n.created_at.to_rfc3339(),
            attempts = n.attempts,
            payload = %n.payload.0,
            "notification"
        );
        Ok(())
    }
}
