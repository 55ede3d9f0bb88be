//! Calls offered to the call layer: a running total and the rate over the last 10 s (the
//! `/metrics` CPS). The window is ten one-second buckets, written once per call (never per
//! packet), read by a scrape; a plain mutex suffices at that rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Seconds the rate is averaged over.
pub const WINDOW_SECS: u64 = 10;

/// Counts per second over the last [`WINDOW_SECS`] seconds (the current one included).
#[derive(Debug, Clone)]
pub struct RateWindow {
    origin: Instant,
    /// (second since `origin`, count in that second), indexed by second mod the window.
    buckets: [(u64, u64); WINDOW_SECS as usize],
}

impl RateWindow {
    pub fn new(origin: Instant) -> Self {
        RateWindow {
            origin,
            buckets: [(u64::MAX, 0); WINDOW_SECS as usize],
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs()
    }

    /// One event at `now`.
    pub fn record(&mut self, now: Instant) {
        let s = self.second(now);
        let b = &mut self.buckets[(s % WINDOW_SECS) as usize];
        if b.0 != s {
            *b = (s, 0);
        }
        b.1 += 1;
    }

    /// Events per second over the window ending at `now`.
    pub fn per_second(&self, now: Instant) -> f64 {
        let s = self.second(now);
        let n: u64 = self
            .buckets
            .iter()
            .filter(|(at, _)| *at <= s && s - *at < WINDOW_SECS)
            .map(|(_, n)| n)
            .sum();
        n as f64 / WINDOW_SECS as f64
    }
}

/// Calls offered since the server started, and their recent rate. Shared by the call task
/// (which counts) and the API (which reads).
#[derive(Debug)]
pub struct OfferedCalls {
    total: AtomicU64,
    window: Mutex<RateWindow>,
}

impl OfferedCalls {
    pub fn new(origin: Instant) -> Self {
        OfferedCalls {
            total: AtomicU64::new(0),
            window: Mutex::new(RateWindow::new(origin)),
        }
    }

    pub fn record(&self, now: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(now);
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn per_second(&self, now: Instant) -> f64 {
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .per_second(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_over_the_last_ten_seconds() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let calls = OfferedCalls::new(t0);
        assert_eq!(calls.per_second(at(0)), 0.0);
        // 30 calls in the first 3 s: 3/s over the window while they are in it.
        for i in 0..30 {
            calls.record(at(i * 100));
        }
        assert_eq!(calls.total(), 30);
        assert_eq!(calls.per_second(at(3_000)), 3.0);
        assert_eq!(calls.per_second(at(9_999)), 3.0);
        // Second 0 (10 calls) leaves the window at 10 s, second 2 at 12 s.
        assert_eq!(calls.per_second(at(10_000)), 2.0);
        assert_eq!(calls.per_second(at(12_500)), 0.0);
        // A bucket reused ten seconds later starts from zero.
        calls.record(at(20_100));
        assert_eq!(calls.per_second(at(20_200)), 0.1);
        assert_eq!(calls.total(), 31);
        // An instant before the origin counts as second 0, without a panic.
        let early = OfferedCalls::new(at(5_000));
        early.record(t0);
        assert_eq!(early.per_second(t0), 0.1);
    }
}
