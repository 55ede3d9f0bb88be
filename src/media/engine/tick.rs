//! The 20 ms clock of a media shard. Ticks sit on an absolute grid (`start + k × 20 ms`), so
//! a late wake-up delays one tick but never shifts the ones after it: a ten-minute prompt is
//! exactly 30,000 frames long and ends exactly ten minutes after it started. After a long
//! stall (the machine was suspended, a debugger stopped the thread) the grid jumps forward
//! instead of sending a burst of stale frames.

use std::time::{Duration, Instant};

/// Frame length of every stream.
pub const FRAME: Duration = Duration::from_millis(20);

/// Ticks run back to back after a late wake-up before the grid is moved instead.
const MAX_CATCH_UP: u32 = 5;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Ticker {
    start: Instant,
    /// Index of the next tick.
    next: u64,
    /// Ticks skipped after stalls.
    pub skipped: u64,
}

impl Ticker {
    pub fn new(start: Instant) -> Ticker {
        Ticker {
            start,
            next: 0,
            skipped: 0,
        }
    }

    /// When the next tick is due.
    pub fn deadline(&self) -> Instant {
        self.at(self.next)
    }

    fn at(&self, k: u64) -> Instant {
        self.start + Duration::from_nanos(k.saturating_mul(FRAME.as_nanos() as u64))
    }

    /// The ticks due at `now`, oldest first, each with its scheduled time; moves the grid
    /// forward past a stall longer than a few frames.
    pub fn due(&mut self, now: Instant) -> impl Iterator<Item = Instant> {
        let elapsed = now.saturating_duration_since(self.start);
        let target = (elapsed.as_nanos() / FRAME.as_nanos()) as u64 + 1;
        let mut count = target.saturating_sub(self.next);
        if count > u64::from(MAX_CATCH_UP) {
            self.skipped += count - 1;
            self.next = target - 1;
            count = 1;
        }
        let first = self.next;
        self.next += count;
        let start = self.start;
        let frame = FRAME.as_nanos() as u64;
        (first..first + count).map(move |k| start + Duration::from_nanos(k * frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_minutes_of_irregular_wake_ups_give_exactly_30000_ticks_on_the_grid() {
        let t0 = Instant::now();
        let mut t = Ticker::new(t0);
        let mut now = t0;
        let mut ticks = 0u64;
        let mut rng = 12345u64;
        while now < t0 + Duration::from_secs(600) {
            for at in t.due(now) {
                assert_eq!(at, t0 + FRAME * ticks as u32, "tick {ticks} off the grid");
                assert!(at <= now);
                ticks += 1;
            }
            // Wake up at the deadline plus 0–15 ms of scheduling noise.
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = Duration::from_micros((rng >> 33) % 15_000);
            now = t.deadline() + noise;
        }
        // Ticks 0..=29999 are due before 600 s; the one at 600 s exactly may be too.
        assert!((30_000..=30_001).contains(&ticks), "{ticks}");
        assert_eq!(t.skipped, 0);
    }

    #[test]
    fn a_long_stall_moves_the_grid() {
        let t0 = Instant::now();
        let mut t = Ticker::new(t0);
        assert_eq!(t.due(t0).count(), 1);
        // 3 frames late: catch up.
        assert_eq!(t.due(t0 + FRAME * 3).count(), 3);
        // 2 seconds late: one tick, the rest skipped.
        let v: Vec<Instant> = t.due(t0 + Duration::from_secs(2) + FRAME * 3).collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0], t0 + Duration::from_secs(2) + FRAME * 3);
        assert!(t.skipped > 90);
        assert_eq!(t.deadline(), t0 + Duration::from_secs(2) + FRAME * 4);
    }
}
