//! The supervisors' live picture, shared by everyone who looks at it. `/metrics` (no auth),
//! `/api/v1/wallboard` and `/api/v1/live` all read the same [`super::Snapshot`]; the call task —
//! which runs every call — is asked for a new one only when the last is older than
//! [`LIVE_MAX_AGE`], and by one reader at a time: readers arriving while a snapshot is being
//! taken wait for it instead of asking again. So however many scrapes and wallboards there
//! are, the call task builds at most one picture per period, and an agent's state change still
//! shows within that period (the event stream, `/api/v1/events`, stays immediate).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// How old the shared live picture may be before the next reader takes a new one.
pub const LIVE_MAX_AGE: Duration = Duration::from_millis(500);

/// A value taken at most once per `max_age`, single-flight.
pub struct Shared<T> {
    max_age: Duration,
    /// The last value and when it was asked for.
    slot: Mutex<Option<(Instant, Arc<T>)>>,
    /// Values taken so far.
    taken: AtomicU64,
}

impl<T> Shared<T> {
    pub fn new(max_age: Duration) -> Self {
        Shared {
            max_age,
            slot: Mutex::new(None),
            taken: AtomicU64::new(0),
        }
    }

    /// The value as of less than `max_age` before `now` (the reader's clock reading, taken
    /// before it calls), taken with `take` when there is none. A reader that waited for
    /// another's `take` gets its value: that one was asked for at or after this reader's
    /// `now`. A failed `take` is not kept; the next reader tries again.
    pub async fn get<E, F, Fut>(&self, now: Instant, take: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, v)) = slot.as_ref() {
            if now.saturating_duration_since(*at) < self.max_age {
                return Ok(Arc::clone(v));
            }
        }
        let v = Arc::new(take().await?);
        self.taken.fetch_add(1, Ordering::Relaxed);
        *slot = Some((now, Arc::clone(&v)));
        Ok(v)
    }

    /// How many values have been taken.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_readers_share_one_take() {
        let shared = Arc::new(Shared::<u64>::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicU64::new(0));
        let now = Instant::now();
        let readers: Vec<_> = (0..50)
            .map(|_| {
                let (shared, calls) = (Arc::clone(&shared), Arc::clone(&calls));
                tokio::spawn(async move {
                    shared
                        .get(now, || async {
                            // Slow enough that the other readers arrive while it runs.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(calls.fetch_add(1, Ordering::SeqCst) + 1)
                        })
                        .await
                })
            })
            .collect();
        for r in readers {
            assert_eq!(
                *r.await.unwrap().unwrap(),
                1,
                "every reader sees the one take"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(shared.taken(), 1);
    }

    #[tokio::test]
    async fn a_new_value_is_taken_once_the_last_is_max_age_old() {
        let shared = Shared::<u32>::new(Duration::from_millis(500));
        let t0 = Instant::now();
        let v = shared.get(t0, || async { Ok::<_, ()>(1) }).await.unwrap();
        assert_eq!(*v, 1);
        // Within the period: the same value, nothing asked.
        let at = t0 + Duration::from_millis(499);
        let v = shared.get(at, || async { Ok::<_, ()>(2) }).await.unwrap();
        assert_eq!((*v, shared.taken()), (1, 1));
        // A period on: the change shows.
        let at = t0 + Duration::from_millis(500);
        let v = shared.get(at, || async { Ok::<_, ()>(2) }).await.unwrap();
        assert_eq!((*v, shared.taken()), (2, 2));
    }

    #[tokio::test]
    async fn a_failed_take_is_not_kept() {
        let shared = Shared::<u32>::new(Duration::from_secs(60));
        let now = Instant::now();
        let e = shared.get(now, || async { Err::<u32, _>("down") }).await;
        assert_eq!(e.unwrap_err(), "down");
        let v = shared
            .get(now, || async { Ok::<_, &str>(7) })
            .await
            .unwrap();
        assert_eq!((*v, shared.taken()), (7, 1));
    }
}
