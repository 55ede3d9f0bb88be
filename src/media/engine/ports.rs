//! The RTP port pool: even ports of the configured range (RTP on the even port, RTCP on the
//! next odd one), handed out least-recently-used first so that a port just released is not
//! reused while stray packets of its old call may still arrive. Pure bookkeeping; binding
//! the sockets is the engine's job, which reports ports it could not bind
//! ([`PortPool::quarantine`]) so they are skipped for a while.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// See the module documentation.
#[derive(Debug)]
pub struct PortPool {
    free: VecDeque<u16>,
    /// Ports another process holds, with the time to try them again.
    quarantined: VecDeque<(Instant, u16)>,
    in_use: usize,
    total: usize,
}

/// How long a port that could not be bound is left alone.
const QUARANTINE: Duration = Duration::from_secs(60);

impl PortPool {
    /// Pool over `first..=last`; odd `first` is rounded up, and the last pair must fit
    /// (`p + 1 <= last`).
    pub fn new(first: u16, last: u16) -> PortPool {
        let start = first + (first & 1);
        let free: VecDeque<u16> = (start..last)
            .step_by(2)
            .filter(|p| p.checked_add(1).is_some_and(|q| q <= last))
            .collect();
        PortPool {
            total: free.len(),
            free,
            quarantined: VecDeque::new(),
            in_use: 0,
        }
    }

    /// Pairs in the range.
    pub fn capacity(&self) -> usize {
        self.total
    }

    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// The next free RTP port (even), or `None` when every pair is taken.
    pub fn take(&mut self, now: Instant) -> Option<u16> {
        while let Some(&(at, port)) = self.quarantined.front() {
            if at > now {
                break;
            }
            self.quarantined.pop_front();
            self.free.push_back(port);
        }
        let port = self.free.pop_front()?;
        self.in_use += 1;
        Some(port)
    }

    /// Gives a port back; it goes to the end of the line.
    pub fn put(&mut self, port: u16) {
        self.in_use = self.in_use.saturating_sub(1);
        self.free.push_back(port);
    }

    /// A taken port that could not be bound (another process has it): kept out for a minute.
    pub fn quarantine(&mut self, port: u16, now: Instant) {
        self.in_use = self.in_use.saturating_sub(1);
        self.quarantined.push_back((now + QUARANTINE, port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ports_with_room_for_rtcp() {
        let now = Instant::now();
        let mut p = PortPool::new(20001, 20010);
        assert_eq!(p.capacity(), 4); // 20002, 20004, 20006, 20008 (20010 has no 20011)
        let got: Vec<u16> = std::iter::from_fn(|| p.take(now)).collect();
        assert_eq!(got, vec![20002, 20004, 20006, 20008]);
        assert_eq!(p.in_use(), 4);
        assert_eq!(p.take(now), None);
    }

    #[test]
    fn released_ports_are_reused_last() {
        let now = Instant::now();
        let mut p = PortPool::new(30000, 30009);
        let a = p.take(now).unwrap();
        p.put(a);
        let order: Vec<u16> = std::iter::from_fn(|| p.take(now)).collect();
        assert_eq!(order.last(), Some(&a));
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn quarantined_ports_come_back_after_a_minute() {
        let now = Instant::now();
        let mut p = PortPool::new(40000, 40003);
        let a = p.take(now).unwrap();
        let b = p.take(now).unwrap();
        p.quarantine(a, now);
        assert_eq!(p.take(now), None);
        assert_eq!(p.take(now + Duration::from_secs(61)), Some(a));
        p.put(b);
        assert_eq!(p.in_use(), 1);
    }

    #[test]
    fn top_of_the_port_space() {
        let mut p = PortPool::new(65530, 65535);
        let now = Instant::now();
        let got: Vec<u16> = std::iter::from_fn(|| p.take(now)).collect();
        assert_eq!(got, vec![65530, 65532, 65534]);
    }
}
