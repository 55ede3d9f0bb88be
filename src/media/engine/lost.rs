//! A stream's packets lost in reception as a count that never goes down, for `/metrics`'
//! `hotline_rtp_packets_lost` counter. RFC 3550's cumulative lost (expected − received) can
//! decrease — late or duplicated packets fill a gap — and restarts when the remote source
//! (SSRC) changes; summed as it is, Prometheus would see counter resets and false spikes. So
//! each stream keeps the highest value seen for its current source (the high-water mark),
//! plus what its earlier sources had reached. Pure: the shard feeds it what it reads.

/// Packets lost by one stream, never decreasing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LostCount {
    /// What the stream's earlier remote sources reached.
    settled: u64,
    /// The highest cumulative lost seen for the current source (0 for negative values).
    mark: u64,
}

impl LostCount {
    /// Takes in the current source's cumulative lost and returns the stream's count.
    pub fn observe(&mut self, cumulative_lost: i64) -> u64 {
        self.mark = self.mark.max(u64::try_from(cumulative_lost).unwrap_or(0));
        self.total()
    }

    /// The remote source changed: `last` is the old source's final cumulative lost; the
    /// new source's count starts from 0 on top of what the old ones reached.
    pub fn source_changed(&mut self, last: i64) {
        self.observe(last);
        self.settled += self.mark;
        self.mark = 0;
    }

    /// The stream's count as of the last observation.
    pub fn total(&self) -> u64 {
        self.settled + self.mark
    }
}

#[cfg(test)]
mod tests {
    use super::LostCount;
    use crate::media::rtp::ReceiverStats;

    fn feed(stats: &mut ReceiverStats, seqs: &[u16]) {
        for &seq in seqs {
            let ts = u32::from(seq) * 160;
            stats.on_packet(seq, ts, ts.wrapping_add(1000));
        }
    }

    #[test]
    fn late_packets_lowering_cumulative_lost_do_not_lower_the_count() {
        let mut rx = ReceiverStats::new(0);
        let mut lost = LostCount::default();
        // 0..=10 with 1..=5 missing: RFC 3550 says 5 lost.
        feed(&mut rx, &[0, 6, 7, 8, 9, 10]);
        assert_eq!(rx.cumulative_lost(), 5);
        assert_eq!(lost.observe(rx.cumulative_lost()), 5);
        // Two of them arrive late: cumulative lost goes down to 3, the count stays at 5.
        feed(&mut rx, &[2, 4]);
        assert_eq!(rx.cumulative_lost(), 3);
        assert_eq!(lost.observe(rx.cumulative_lost()), 5);
        // New losses beyond the mark count again: 11..=20 with 12..=19 missing is 3 + 8 = 11.
        feed(&mut rx, &[11, 20]);
        assert_eq!(rx.cumulative_lost(), 11);
        assert_eq!(lost.observe(rx.cumulative_lost()), 11);
    }

    #[test]
    fn negative_cumulative_lost_counts_as_none() {
        let mut lost = LostCount::default();
        assert_eq!(lost.observe(-2), 0);
        assert_eq!(lost.observe(1), 1);
        assert_eq!(lost.observe(-1), 1);
    }

    #[test]
    fn a_new_source_adds_to_what_the_old_one_reached() {
        let mut lost = LostCount::default();
        lost.observe(4);
        // The old source ended at 3 (a late packet) but had reached 4.
        lost.source_changed(3);
        assert_eq!(lost.total(), 4);
        assert_eq!(lost.observe(0), 4);
        assert_eq!(lost.observe(2), 6);
        assert_eq!(lost.observe(1), 6);
    }
}
