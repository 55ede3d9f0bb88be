//! Figures: a transit-time histogram (1 µs buckets), per-stream receive state (count and the
//! RFC 3550 interarrival jitter), and the summary built from both sides at the end.

/// Transit times up to this many microseconds get their own bucket; later ones share the last.
const HIST_US: usize = 200_000;

/// One-way transit times, 1 µs resolution up to 200 ms.
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max_us: u64,
    negative: u64,
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: vec![0; HIST_US + 1],
            count: 0,
            max_us: 0,
            negative: 0,
        }
    }

    /// Records one transit time in nanoseconds (negative = clock trouble, counted apart).
    pub fn add(&mut self, transit_ns: i64) {
        if transit_ns < 0 {
            self.negative += 1;
            return;
        }
        let us = transit_ns as u64 / 1000;
        self.buckets[(us as usize).min(HIST_US)] += 1;
        self.count += 1;
        self.max_us = self.max_us.max(us);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += *b;
        }
        self.count += other.count;
        self.max_us = self.max_us.max(other.max_us);
        self.negative += other.negative;
    }

    /// The `q` quantile (0..=1) in microseconds, 0 when empty.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64 * q).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (us, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return us as u64;
            }
        }
        self.max_us
    }

    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    pub fn negative(&self) -> u64 {
        self.negative
    }
}

/// What one receiver knows about one stream.
#[derive(Clone, Copy, Default)]
pub struct RxStream {
    /// Packets received whose send time falls in the measurement window.
    pub received: u32,
    /// RFC 3550 interarrival jitter estimate, in ns (over the window's packets).
    pub jitter_ns: f64,
    last_transit: i64,
    have_last: bool,
    /// Highest counter seen, and packets that came with a lower one than an earlier packet.
    last_counter: u32,
    pub reordered: u32,
}

impl RxStream {
    pub fn on_packet(&mut self, transit_ns: i64, counter: u32) {
        self.received += 1;
        if self.have_last {
            let d = (transit_ns - self.last_transit).abs() as f64;
            self.jitter_ns += (d - self.jitter_ns) / 16.0;
            if counter < self.last_counter {
                self.reordered += 1;
            }
        }
        self.have_last = true;
        self.last_transit = transit_ns;
        self.last_counter = self.last_counter.max(counter);
    }
}

/// The `q` quantile of a list of values (sorts it).
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Loss and jitter over all streams: `sent[id]` from the sender, `rx[id]` from the receivers.
pub struct StreamSummary {
    pub streams: usize,
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    /// Packets received beyond those sent (duplicates).
    pub extra: u64,
    pub streams_with_loss: usize,
    pub reordered: u64,
    pub jitter_max_ms: f64,
    pub jitter_p99_ms: f64,
}

pub fn summarize(sent: &[u32], rx: &[RxStream]) -> StreamSummary {
    let mut s = StreamSummary {
        streams: 0,
        sent: 0,
        received: 0,
        lost: 0,
        extra: 0,
        streams_with_loss: 0,
        reordered: 0,
        jitter_max_ms: 0.0,
        jitter_p99_ms: 0.0,
    };
    let mut jitters = Vec::new();
    for (id, &n) in sent.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let r = rx.get(id).copied().unwrap_or_default();
        s.streams += 1;
        s.sent += u64::from(n);
        s.received += u64::from(r.received);
        s.reordered += u64::from(r.reordered);
        if r.received < n {
            s.lost += u64::from(n - r.received);
            s.streams_with_loss += 1;
        } else {
            s.extra += u64::from(r.received - n);
        }
        jitters.push(r.jitter_ns / 1e6);
    }
    s.jitter_max_ms = jitters.iter().copied().fold(0.0, f64::max);
    s.jitter_p99_ms = quantile(&mut jitters, 0.99);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        for us in 1..=100 {
            h.add(us * 1000);
        }
        assert_eq!(h.quantile_us(0.5), 50);
        assert_eq!(h.quantile_us(0.99), 99);
        assert_eq!(h.max_us(), 100);
    }

    #[test]
    fn loss_per_stream() {
        let sent = [0, 10, 10];
        let mut rx = vec![RxStream::default(); 3];
        for c in 0..9 {
            rx[1].on_packet(1000, c);
        }
        for c in 0..10 {
            rx[2].on_packet(1000, c);
        }
        let s = summarize(&sent, &rx);
        assert_eq!(
            (s.streams, s.sent, s.lost, s.streams_with_loss),
            (2, 20, 1, 1)
        );
    }
}
