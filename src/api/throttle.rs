//! Slows password guessing at `POST /api/v1/session`: failed logins are counted per key (an
//! agent id, a client address); after [`MAX_FAILURES`] failures within [`WINDOW`] the key is
//! locked for [`FIRST_LOCK`], each further lock twice as long as the last, up to [`MAX_LOCK`].
//! A plain table that is told the time, so it is tested without waiting.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures that lock a key when they fall within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The span in which failures are counted.
pub const WINDOW: Duration = Duration::minutes(5);
/// The first lock; each next one doubles.
pub const FIRST_LOCK: Duration = Duration::seconds(60);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::minutes(15);
/// How long a key is remembered after its last failure or lock, so that the doubling goes on
/// for one who keeps guessing and starts over for one who stopped.
const MEMORY: Duration = Duration::minutes(30);
/// Forgotten keys are swept out once the table is this large.
const SWEEP_AT: usize = 4096;

#[derive(Debug, Default, Clone)]
struct Entry {
    /// Failures within the window, oldest first.
    failures: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    /// Locks so far (the next lasts `FIRST_LOCK * 2^locks`).
    locks: u32,
    last_seen: Option<DateTime<Utc>>,
}

/// Failed logins by key.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    map: Mutex<HashMap<String, Entry>>,
}

/// What a failure did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; this many failures are now within the window.
    Counted(usize),
    /// This failure locked the key for so long.
    Locked(Duration),
}

/// How long a lock after `locks` earlier ones lasts.
pub fn lock_length(locks: u32) -> Duration {
    let secs = FIRST_LOCK
        .num_seconds()
        .saturating_mul(1i64 << locks.min(20));
    Duration::seconds(secs.min(MAX_LOCK.num_seconds()))
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `key` stays locked at `now` (`None`: not locked).
    pub fn locked(&self, key: &str, now: DateTime<Utc>) -> Option<Duration> {
        let map = self.lock();
        let until = map.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// The longest lock at `now` among `keys`.
    pub fn locked_any<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a str>,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        keys.into_iter().filter_map(|k| self.locked(k, now)).max()
    }

    /// Counts a failed login for `key` at `now`.
    pub fn fail(&self, key: &str, now: DateTime<Utc>) -> Failure {
        let mut map = self.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, e| {
                e.last_seen.is_some_and(|t| now - t < MEMORY)
                    || e.locked_until.is_some_and(|t| t > now)
            });
        }
        let e = map.entry(key.to_string()).or_default();
        if e.last_seen.is_some_and(|t| now - t >= MEMORY) {
            *e = Entry::default();
        }
        e.last_seen = Some(now);
        e.failures.retain(|t| now - *t < WINDOW);
        e.failures.push(now);
        if e.failures.len() >= MAX_FAILURES {
            let length = lock_length(e.locks);
            e.locks = e.locks.saturating_add(1);
            e.locked_until = Some(now + length);
            e.failures.clear();
            Failure::Locked(length)
        } else {
            Failure::Counted(e.failures.len())
        }
    }

    /// A successful login for `key`: its failures and locks are forgotten.
    pub fn succeed(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_in_the_window_lock_for_a_minute() {
        let t = LoginThrottle::default();
        let t0 = Utc::now();
        for i in 1..MAX_FAILURES {
            assert_eq!(
                t.fail("agent:1001", t0 + Duration::seconds(i as i64)),
                Failure::Counted(i)
            );
            assert_eq!(
                t.locked("agent:1001", t0 + Duration::seconds(i as i64)),
                None
            );
        }
        let t5 = t0 + Duration::seconds(5);
        assert_eq!(t.fail("agent:1001", t5), Failure::Locked(FIRST_LOCK));
        assert_eq!(t.locked("agent:1001", t5), Some(FIRST_LOCK));
        assert_eq!(
            t.locked("agent:1001", t5 + Duration::seconds(59)),
            Some(Duration::seconds(1))
        );
        assert_eq!(t.locked("agent:1001", t5 + Duration::seconds(60)), None);
        // Other keys are not touched.
        assert_eq!(t.locked("agent:1002", t5), None);
        assert_eq!(
            t.locked_any(["agent:1002", "agent:1001"], t5),
            Some(FIRST_LOCK)
        );
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let t = LoginThrottle::default();
        let t0 = Utc::now();
        for i in 0..4 {
            t.fail("k", t0 + Duration::seconds(i));
        }
        // The fifth comes after the first four left the window.
        let late = t0 + WINDOW + Duration::seconds(10);
        assert_eq!(t.fail("k", late), Failure::Counted(1));
        assert_eq!(t.locked("k", late), None);
    }

    #[test]
    fn locks_double_up_to_fifteen_minutes_and_success_forgets() {
        let t = LoginThrottle::default();
        let mut now = Utc::now();
        let mut lengths = Vec::new();
        for _ in 0..7 {
            let mut last = Failure::Counted(0);
            for _ in 0..MAX_FAILURES {
                last = t.fail("k", now);
            }
            let Failure::Locked(length) = last else {
                panic!("not locked: {last:?}")
            };
            lengths.push(length.num_seconds());
            now += length;
        }
        assert_eq!(lengths, [60, 120, 240, 480, 900, 900, 900]);
        t.succeed("k");
        assert!(t.is_empty());
        for _ in 0..MAX_FAILURES - 1 {
            t.fail("k", now);
        }
        assert_eq!(t.fail("k", now), Failure::Locked(FIRST_LOCK));
    }

    #[test]
    fn one_who_stopped_guessing_starts_over() {
        let t = LoginThrottle::default();
        let t0 = Utc::now();
        for _ in 0..MAX_FAILURES {
            t.fail("k", t0);
        }
        let later = t0 + MEMORY + Duration::minutes(1);
        for _ in 0..MAX_FAILURES - 1 {
            t.fail("k", later);
        }
        assert_eq!(t.fail("k", later), Failure::Locked(FIRST_LOCK));
    }

    #[test]
    fn lock_length_saturates() {
        assert_eq!(lock_length(0), FIRST_LOCK);
        assert_eq!(lock_length(u32::MAX), MAX_LOCK);
    }
}
