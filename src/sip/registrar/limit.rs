//! Failed-authentication rate limit per source: at most `limit` failures in a fixed window that
//! opens with the first failure; once reached, the source is refused until the window closes.
//! IPv6 sources are grouped by /64 (one host usually owns a whole /64). Memory is bounded: the
//! oldest windows are dropped first when too many sources are tracked.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

#[derive(Debug)]
pub(super) struct FailureLimiter {
    limit: u32,
    window: Duration,
    max_sources: usize,
    windows: HashMap<IpAddr, Window>,
    /// Windows in the order they opened (so by closing time too).
    order: VecDeque<(Instant, IpAddr)>,
}

/// The key a source counts under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl FailureLimiter {
    /// `limit` 0 disables the limiter.
    pub fn new(limit: u32, window: Duration, max_sources: usize) -> FailureLimiter {
        FailureLimiter {
            limit,
            window,
            max_sources: max_sources.max(1),
            windows: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// True while `ip` has used up its failures in the current window.
    pub fn blocked(&mut self, ip: IpAddr, now: Instant) -> bool {
        self.prune(now);
        self.limit > 0
            && self
                .windows
                .get(&source_key(ip))
                .is_some_and(|w| w.failures >= self.limit)
    }

    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) {
        if self.limit == 0 {
            return;
        }
        self.prune(now);
        let key = source_key(ip);
        let w = self.windows.entry(key).or_insert_with(|| {
            self.order.push_back((now, key));
            Window {
                start: now,
                failures: 0,
            }
        });
        w.failures = w.failures.saturating_add(1);
        while self.windows.len() > self.max_sources {
            let Some((start, old)) = self.order.pop_front() else {
                break;
            };
            self.drop_if_same(old, start);
        }
    }

    /// Drops the windows that have closed.
    pub fn prune(&mut self, now: Instant) {
        while let Some(&(start, ip)) = self.order.front() {
            if start + self.window > now {
                break;
            }
            self.order.pop_front();
            self.drop_if_same(ip, start);
        }
    }

    fn drop_if_same(&mut self, ip: IpAddr, start: Instant) {
        if self.windows.get(&ip).is_some_and(|w| w.start == start) {
            self.windows.remove(&ip);
        }
    }

    pub fn tracked(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_limit_and_capacity() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut l = FailureLimiter::new(3, Duration::from_secs(60), 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for s in 0..3 {
            assert!(!l.blocked(a, at(s)));
            l.record_failure(a, at(s));
        }
        assert!(l.blocked(a, at(10)));
        assert!(l.blocked(a, at(59)));
        assert!(!l.blocked(a, at(60)));
        assert_eq!(l.tracked(), 0);

        // One /64 counts as one source; IPv4-mapped addresses count as IPv4.
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        l.record_failure(v6a, at(100));
        l.record_failure(v6b, at(100));
        l.record_failure(v6a, at(100));
        assert!(l.blocked(v6b, at(101)));
        l.record_failure(mapped, at(102));
        assert_eq!(l.tracked(), 2);
        // A third source evicts the oldest window.
        l.record_failure("198.51.100.7".parse().unwrap(), at(103));
        assert_eq!(l.tracked(), 2);
        assert!(!l.blocked(v6a, at(104)));
    }
}
