//! The notifiers and the delivery rounds against a local webhook receiver, on a fake clock;
//! the running task woken by a write and picking up after a restart; the log notifier.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hotline::cases::notify::{
    deliver_due, retry_at, start_with, DeliveryConfig, DeliveryRound, LogNotifier, Notification,
    Notifier, WebhookNotifier,
};
use hotline::cases::store::NotificationQuery;
use hotline::cases::sweep::SweepConfig;
use serde_json::json;

use super::common::{Backend, TestStore};
use super::enqueue;
use super::receiver::{unreachable_url, Receiver};
use super::sweep_pure::local;

fn cfg(max_attempts: u32, retry_secs: u64) -> DeliveryConfig {
    DeliveryConfig {
        max_attempts,
        retry: Duration::from_secs(retry_secs),
        poll: Duration::from_millis(50),
    }
}

fn webhook(url: &str, token: Option<&str>) -> WebhookNotifier {
    WebhookNotifier::new(url, token.map(str::to_string), Duration::from_secs(2)).unwrap()
}

async fn all(ts: &TestStore, status: Option<&str>) -> Vec<Notification> {
    ts.store
        .list_notifications(&NotificationQuery {
            status: status.map(str::to_string),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

pub(crate) async fn webhook_delivers_with_bearer_token(b: Backend) {
    let ts = TestStore::new(b).await;
    let rx = Receiver::start(&[]).await;
    let t0 = local(2026, 11, 27, 10, 0);
    for (i, kind) in ["dispatched", "near_deadline", "closed"]
        .into_iter()
        .enumerate()
    {
        let payload = json!({ "number": format!("2026112700{i:03}"), "title": "井盖缺失" });
        enqueue(&ts, kind, "department:roads", None, payload, t0).await;
    }
    let n = webhook(&rx.url(), Some("s3cret"));
    // Not due before it was written.
    let early = deliver_due(&ts.store, &n, &cfg(3, 1), t0 - TimeDelta::seconds(1)).await;
    assert_eq!(early.unwrap(), DeliveryRound::default());
    let round = deliver_due(&ts.store, &n, &cfg(3, 1), t0).await.unwrap();
    assert_eq!(
        round,
        DeliveryRound {
            due: 3,
            delivered: 3,
            retried: 0,
            failed: 0
        }
    );
    let got = rx.received();
    assert_eq!(got.len(), 3);
    let mut kinds: Vec<_> = got
        .iter()
        .map(|r| r.body["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["closed", "dispatched", "near_deadline"]);
    for r in &got {
        assert_eq!(r.authorization.as_deref(), Some("Bearer s3cret"));
        let body = r.body.as_object().unwrap();
        let mut keys: Vec<_> = body.keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "created_at",
                "id",
                "kind",
                "payload",
                "recipient",
                "work_order_id"
            ]
        );
        assert_eq!(body["recipient"], "department:roads");
        assert_eq!(body["payload"]["title"], "井盖缺失");
        let at: DateTime<Utc> = serde_json::from_value(body["created_at"].clone()).unwrap();
        assert_eq!(at, t0);
    }
    let delivered = all(&ts, Some("delivered")).await;
    assert_eq!(delivered.len(), 3);
    assert!(delivered
        .iter()
        .all(|n| n.delivered_at == Some(t0) && n.attempts == 0));
    assert!(all(&ts, Some("pending")).await.is_empty());
    assert_eq!(ts.store.outbox().delivered(), 3);
    // Delivered rows are never sent again.
    let again = deliver_due(&ts.store, &n, &cfg(3, 1), t0 + TimeDelta::hours(1)).await;
    assert_eq!(again.unwrap().due, 0);
    assert_eq!(rx.received().len(), 3);
    // Without a token, no Authorization header.
    enqueue(&ts, "merged", "reporter:13800000000", None, json!(null), t0).await;
    let plain = webhook(&rx.url(), None);
    deliver_due(&ts.store, &plain, &cfg(3, 1), t0)
        .await
        .unwrap();
    assert_eq!(rx.received()[3].authorization, None);
}

pub(crate) async fn retried_with_doubling_pauses_then_delivered(b: Backend) {
    let ts = TestStore::new(b).await;
    let rx = Receiver::start(&[500, 503]).await;
    let t0 = local(2026, 11, 27, 10, 0);
    enqueue(
        &ts,
        "overdue",
        "department:sanitation",
        None,
        json!({"level": 1}),
        t0,
    )
    .await;
    let n = webhook(&rx.url(), Some("tok"));
    let c = cfg(5, 2);
    let r1 = deliver_due(&ts.store, &n, &c, t0).await.unwrap();
    assert_eq!(
        r1,
        DeliveryRound {
            due: 1,
            delivered: 0,
            retried: 1,
            failed: 0
        }
    );
    let row = &all(&ts, Some("pending")).await[0];
    assert_eq!(row.attempts, 1);
    assert_eq!(row.next_attempt_at, t0 + TimeDelta::seconds(2));
    let err = row.last_error.as_deref().unwrap();
    assert!(err.contains("500") && err.contains("gateway down"), "{err}");
    // Not before its pause is over.
    let early = deliver_due(&ts.store, &n, &c, t0 + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(early.due, 0);
    let t1 = t0 + TimeDelta::seconds(2);
    let r2 = deliver_due(&ts.store, &n, &c, t1).await.unwrap();
    assert_eq!(r2.retried, 1);
    let row = &all(&ts, Some("pending")).await[0];
    assert_eq!(
        (row.attempts, row.next_attempt_at),
        (2, t1 + TimeDelta::seconds(4))
    );
    assert!(row.last_error.as_deref().unwrap().contains("503"));
    let t2 = t1 + TimeDelta::seconds(4);
    let r3 = deliver_due(&ts.store, &n, &c, t2).await.unwrap();
    assert_eq!(r3.delivered, 1);
    let row = &all(&ts, Some("delivered")).await[0];
    assert_eq!((row.attempts, row.delivered_at), (2, Some(t2)));
    assert_eq!(rx.received().len(), 3);
    assert_eq!(ts.store.outbox().retried(), 2);
}

pub(crate) async fn unreachable_receiver_fails_after_max_attempts(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = local(2026, 11, 27, 10, 0);
    enqueue(&ts, "escalated", "leaders", None, json!({"level": 2}), t0).await;
    let n = webhook(&unreachable_url().await, Some("tok"));
    let c = cfg(4, 10);
    // Pauses 10, 20, 40 s; the fourth failure is the last.
    let mut now = t0;
    for (attempt, pause) in [(1, 10), (2, 20), (3, 40)] {
        let r = deliver_due(&ts.store, &n, &c, now).await.unwrap();
        assert_eq!(r.retried, 1, "attempt {attempt}");
        let row = &all(&ts, Some("pending")).await[0];
        assert_eq!(row.attempts, attempt);
        assert_eq!(row.next_attempt_at, now + TimeDelta::seconds(pause));
        assert!(row.last_error.as_deref().unwrap().contains("cannot reach"));
        now += TimeDelta::seconds(pause);
    }
    let r = deliver_due(&ts.store, &n, &c, now).await.unwrap();
    assert_eq!(
        r,
        DeliveryRound {
            due: 1,
            delivered: 0,
            retried: 0,
            failed: 1
        }
    );
    let failed = all(&ts, Some("failed")).await;
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].attempts, failed[0].failed_at), (4, Some(now)));
    assert_eq!(failed[0].status(), "failed");
    assert!(all(&ts, Some("pending")).await.is_empty());
    assert_eq!(ts.store.outbox().failed(), 1);
    // Given up: never tried again.
    let later = deliver_due(&ts.store, &n, &c, now + TimeDelta::days(1))
        .await
        .unwrap();
    assert_eq!(later.due, 0);
    // The pure schedule.
    assert_eq!(retry_at(1, t0, &c), Some(t0 + TimeDelta::seconds(10)));
    assert_eq!(retry_at(3, t0, &c), Some(t0 + TimeDelta::seconds(40)));
    assert_eq!(retry_at(4, t0, &c), None);
    let huge = cfg(u32::MAX, 10);
    assert!(retry_at(1000, t0, &huge).unwrap() > t0);
}

/// A notifier that records what it is given (for the running task).
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<i64>>>);

impl Notifier for Recording {
    async fn deliver(&self, n: &Notification) -> Result<(), hotline::cases::notify::NotifyError> {
        self.0.lock().unwrap().push(n.id);
        Ok(())
    }
}

/// A notifier that delivers rows whose payload has `"fast": true` at once and never finishes
/// the others (a receiver that hangs while the task is stopped).
struct HalfStuck;

impl Notifier for HalfStuck {
    async fn deliver(&self, n: &Notification) -> Result<(), hotline::cases::notify::NotifyError> {
        if n.payload["fast"] == json!(true) {
            Ok(())
        } else {
            std::future::pending().await
        }
    }
}

/// Each row is marked as soon as its own delivery ends: a round stopped while another row is
/// still in flight does not re-send the ones already delivered.
pub(crate) async fn delivered_rows_marked_before_the_round_ends(b: Backend) {
    let ts = TestStore::new(b).await;
    let t0 = local(2026, 11, 27, 10, 0);
    enqueue(
        &ts,
        "dispatched",
        "department:roads",
        None,
        json!({ "fast": false }),
        t0,
    )
    .await;
    enqueue(
        &ts,
        "dispatched",
        "department:roads",
        None,
        json!({ "fast": true }),
        t0,
    )
    .await;
    let c = cfg(3, 1);
    let round = deliver_due(&ts.store, &HalfStuck, &c, t0);
    assert!(tokio::time::timeout(Duration::from_secs(2), round)
        .await
        .is_err());
    let delivered = all(&ts, Some("delivered")).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].payload["fast"], json!(true));
    let pending = all(&ts, Some("pending")).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].payload["fast"], json!(false));
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) async fn task_delivers_after_a_wake_and_after_a_restart(b: Backend) {
    let ts = TestStore::new(b).await;
    let sweep = SweepConfig {
        near_deadline_working_minutes: 60,
        escalate_leaders_after_working_hours: 8,
    };
    let rec = Recording::default();
    let slow_poll = DeliveryConfig {
        max_attempts: 3,
        retry: Duration::from_secs(1),
        poll: Duration::from_secs(30),
    };
    let bg = start_with(
        ts.store.clone(),
        rec.clone(),
        slow_poll,
        sweep,
        Duration::from_secs(3600),
    );
    // The first round runs at start; a row written afterwards waits for a wake-up (the poll is
    // 30 s here).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let now = hotline::cases::now();
    enqueue(&ts, "dispatched", "department:roads", None, json!({}), now).await;
    ts.store.outbox().wake();
    wait_until("the woken delivery", || rec.0.lock().unwrap().len() == 1).await;
    bg.stop().await;
    // Written while no task runs: delivered by the next one, at its first round.
    enqueue(&ts, "closed", "reporter:13900000000", None, json!({}), now).await;
    let rec2 = Recording::default();
    let bg = start_with(
        ts.store.clone(),
        rec2.clone(),
        slow_poll,
        sweep,
        Duration::from_secs(3600),
    );
    wait_until("delivery after the restart", || {
        rec2.0.lock().unwrap().len() == 1
    })
    .await;
    bg.stop().await;
    assert!(all(&ts, Some("pending")).await.is_empty());
    assert_eq!(all(&ts, Some("delivered")).await.len(), 2);
    assert_eq!(ts.store.outbox().pending(), Some(0));
    // The log notifier through the task.
    enqueue(&ts, "merged", "reporter:13900000000", None, json!({}), now).await;
    let bg = start_with(
        ts.store.clone(),
        LogNotifier,
        slow_poll,
        sweep,
        Duration::from_secs(3600),
    );
    let store = ts.store.clone();
    let mut delivered = 0;
    for _ in 0..200 {
        delivered = all(&ts, Some("delivered")).await.len();
        if delivered == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bg.stop().await;
    assert_eq!(delivered, 3);
    assert_eq!(store.outbox().delivered(), 3);
}

/// A writer the log output goes to.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn log_notifier_writes_every_field() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let n = Notification {
        id: 42,
        created_at: local(2026, 11, 27, 10, 0),
        kind: "near_deadline".into(),
        recipient: "department:sanitation".into(),
        work_order_id: Some(7),
        payload: sqlx::types::Json(json!({"number": "2026112700007"})),
        attempts: 1,
        next_attempt_at: local(2026, 11, 27, 10, 0),
        delivered_at: None,
        failed_at: None,
        last_error: None,
    };
    LogNotifier.deliver(&n).await.unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    for part in [
        "INFO",
        "hotline::notify",
        "notification",
        "id=42",
        "kind=near_deadline",
        "recipient=department:sanitation",
        "work_order_id=7",
        "created_at=2026-11-27T02:00:00+00:00",
        "2026112700007",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
}

#[test]
fn webhook_needs_an_http_url() {
    use hotline::cases::notify::ConfiguredNotifier;
    use hotline::config::NotifierConfig;
    let mut c = NotifierConfig {
        kind: "webhook".into(),
        ..Default::default()
    };
    let err = ConfiguredNotifier::from_config(&c).unwrap_err();
    assert!(err.to_string().contains("needs a url"), "{err}");
    c.url = Some("ftp://gateway.example/".into());
    let err = ConfiguredNotifier::from_config(&c).unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
    c.url = Some("https://sms-gateway.example/hotline".into());
    assert!(matches!(
        ConfiguredNotifier::from_config(&c),
        Ok(ConfiguredNotifier::Webhook(w)) if w.url() == "https://sms-gateway.example/hotline"
    ));
    c.kind = "sms".into();
    assert!(ConfiguredNotifier::from_config(&c).is_err());
    assert!(matches!(
        ConfiguredNotifier::from_config(&NotifierConfig::default()),
        Ok(ConfiguredNotifier::Log(_))
    ));
}
