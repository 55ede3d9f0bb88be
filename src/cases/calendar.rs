//! The working calendar (工作日历) and deadline arithmetic (时限计算) for work orders.
//!
//! This module owns the answer to "when is this order due?" and "how much working time passed
//! between these two instants?": which days are working days (weekdays, public holidays, 调休
//! make-up working days), which hours of a working day are working time, and the arithmetic that
//! adds working days / working minutes to an instant. It is pure: no I/O, no clock reads, no
//! database; every function takes the instants it works on.
//!
//! All instants are `DateTime<Utc>`; the calendar converts them to local wall-clock time with its
//! fixed `utc_offset` (China: +08:00, no DST), so a call received at 07:30 on a Friday in Beijing
//! (23:30 UTC on Thursday) is a Friday receipt.
//!
//! Termination is bounded: a search for the next working time gives up after
//! [`MAX_SEARCH_DAYS`] consecutive calendar days without any working time (e.g. a misconfigured
//! calendar where every day is a holiday) and returns the end (local midnight) of the last day it
//! examined. Long counts across regular weeks are skipped week-wise, so even `u32::MAX` minutes
//! is cheap. A result beyond chrono's representable range saturates to
//! `DateTime::<Utc>::MAX_UTC`.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    Timelike, Utc, Weekday, WeekdaySet,
};
use std::collections::BTreeSet;

/// How many consecutive calendar days without working time a search examines before giving up
/// and returning the end of the last examined day (about ten years).
pub const MAX_SEARCH_DAYS: u32 = 3660;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

/// A working period as nanoseconds since local midnight, `[start, end)`, `end <= NANOS_PER_DAY`.
type Span = (i64, i64);

/// When the centre's working hours are (for deadlines counted in working days/hours).
///
/// Build it with [`WorkingCalendar::new`] (which checks the invariants) or
/// [`WorkingCalendar::china_default`]. The fields are public for reading and for loading a
/// city's calendar; the arithmetic tolerates a hand-built invalid value (it normalises the
/// periods and stays bounded) but its results are then only as meaningful as the data.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingCalendar {
    /// Local time of the centre (China: +08:00, no DST).
    pub utc_offset: FixedOffset,
    /// Working periods of a working day in local time, sorted, non-overlapping, `start < end`,
    /// half-open `[start, end)`; e.g. 09:00-12:00 and 13:30-17:30. An `end` of 00:00 means
    /// midnight at the end of the day (24:00), so `(18:00, 00:00)` is an evening shift and
    /// `(00:00, 00:00)` the whole day.
    pub periods: Vec<(NaiveTime, NaiveTime)>,
    /// Normal working weekdays (Mon..Fri). chrono's `Weekday` is not `Ord`, so this is chrono's
    /// bit-set of weekdays; [`WorkingCalendar::new`] takes a `&[Weekday]`.
    pub workdays: WeekdaySet,
    /// Public holidays: not working days even when they fall on a normal working weekday.
    pub holidays: BTreeSet<NaiveDate>,
    /// 调休 make-up working days: weekend days that ARE working days.
    pub makeup_workdays: BTreeSet<NaiveDate>,
}

/// How the deadline of a work order is counted from its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineRule {
    /// N working days, counted from the working day after receipt (次日起算), due at the end of
    /// the N-th working day (e.g. Sichuan: consultation 3, help/suggestion 7, complaint 15).
    WorkingDays(u32),
    /// N working hours of working time from receipt (urban-management categories, e.g.
    /// exposed rubbish 8 = one working day).
    WorkingHours(u32),
}

/// Why a calendar was rejected by [`WorkingCalendar::new`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("a working calendar needs at least one working period")]
    NoPeriods,
    #[error("working period {start}-{end} is empty (its start is not before its end)")]
    PeriodEmpty { start: NaiveTime, end: NaiveTime },
    #[error("working periods are not sorted: a period starting at {next_start} follows one starting at {previous_start}")]
    PeriodsNotSorted {
        previous_start: NaiveTime,
        next_start: NaiveTime,
    },
    #[error("working periods overlap: a period starting at {next_start} begins before the previous one ends at {previous_end}")]
    PeriodsOverlap {
        previous_end: NaiveTime,
        next_start: NaiveTime,
    },
    #[error("a working calendar needs at least one working weekday")]
    NoWorkdays,
    #[error("{0} is listed both as a holiday and as a make-up working day")]
    HolidayIsMakeupDay(NaiveDate),
}

impl WorkingCalendar {
    /// Validates the invariants (at least one period, sorted, non-overlapping, start<end, at
    /// least one workday, a date not both holiday and make-up day).
    ///
    /// An `end` of 00:00 is midnight at the end of the day (see [`WorkingCalendar::periods`]).
    /// Touching periods (12:00-12:00) are allowed.
    pub fn new(
        utc_offset: FixedOffset,
        periods: Vec<(NaiveTime, NaiveTime)>,
        workdays: &[Weekday],
        holidays: BTreeSet<NaiveDate>,
        makeup_workdays: BTreeSet<NaiveDate>,
    ) -> Result<Self, CalendarError> {
        if periods.is_empty() {
            return Err(CalendarError::NoPeriods);
        }
        for &(start, end) in &periods {
            let (s, e) = period_span((start, end));
            if s >= e {
                return Err(CalendarError::PeriodEmpty { start, end });
            }
        }
        for pair in periods.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            let (prev_s, prev_e) = period_span(prev);
            let (next_s, _) = period_span(next);
            if next_s < prev_s {
                return Err(CalendarError::PeriodsNotSorted {
                    previous_start: prev.0,
                    next_start: next.0,
                });
            }
            if next_s < prev_e {
                return Err(CalendarError::PeriodsOverlap {
                    previous_end: prev.1,
                    next_start: next.0,
                });
            }
        }
        let workdays: WeekdaySet = workdays.iter().copied().collect();
        if workdays.is_empty() {
            return Err(CalendarError::NoWorkdays);
        }
        if let Some(&date) = holidays.intersection(&makeup_workdays).next() {
            return Err(CalendarError::HolidayIsMakeupDay(date));
        }
        Ok(Self {
            utc_offset,
            periods,
            workdays,
            holidays,
            makeup_workdays,
        })
    }

    /// Mainland-China default: +08:00, 09:00-12:00 and 13:30-17:30, Mon-Fri, no holidays listed.
    pub fn china_default() -> Self {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time of day");
        Self::new(
            FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset"),
            vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))],
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            BTreeSet::new(),
            BTreeSet::new(),
        )
        .expect("the built-in default calendar is valid")
    }

    /// Whether `date` (a local date) is a working day: a make-up day is; a holiday is not;
    /// otherwise a day is a working day when its weekday is in `workdays`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        self.workdays.contains(date.weekday())
    }

    /// Whether `at` falls inside a working period (`[start, end)`) of a working day.
    pub fn is_working_time(&self, at: DateTime<Utc>) -> bool {
        let local = self.to_local(at);
        if !self.is_working_day(local.date()) {
            return false;
        }
        let tod = time_of_day_nanos(local.time());
        self.spans().iter().any(|&(s, e)| s <= tod && tod < e)
    }

    /// Deadline N working days after `from`: the day of receipt does not count (counting starts
    /// the next working day, 次日起算); the deadline is the END of the last working period of
    /// the N-th working day after the local date of `from`. N = 0 means the end of the working
    /// day of receipt if that is a working day, else the end of the next working day. (A receipt
    /// at or after the end of the last period of a working day with N = 0 is due at the end of
    /// the next working day, so a deadline never precedes its receipt.)
    ///
    /// Bounded: see [`MAX_SEARCH_DAYS`].
    pub fn add_working_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let spans = self.spans();
        let local = self.to_local(from);
        let receipt_day = local.date();
        let result = if days == 0 {
            let same_day_end = match spans.last() {
                Some(&(_, end)) if self.is_working_day(receipt_day) => at(receipt_day, end),
                _ => None,
            };
            match same_day_end {
                Some(end) if local < end => Some(end),
                _ => self.nth_working_day_end(receipt_day, 1, &spans),
            }
        } else {
            self.nth_working_day_end(receipt_day, days, &spans)
        };
        result.map_or(DateTime::<Utc>::MAX_UTC, |l| self.to_utc(l))
    }

    /// Deadline after `minutes` of working time counted from `from` (time outside working
    /// periods, weekends and holidays does not count). If `from` is outside working time,
    /// counting starts at the next period start (so 0 minutes from outside working time is the
    /// next period start). A deadline that lands exactly at a period end stays there (not the
    /// next start).
    ///
    /// Bounded: see [`MAX_SEARCH_DAYS`].
    pub fn add_working_minutes(&self, from: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        let spans = self.spans();
        let remaining = i128::from(minutes) * i128::from(NANOS_PER_MINUTE);
        self.advance(self.to_local(from), remaining, &spans)
            .map_or(DateTime::<Utc>::MAX_UTC, |l| self.to_utc(l))
    }

    /// Working minutes between a and b (0 if b <= a), rounded down to whole minutes; used to
    /// pause deadline clocks. For sub-minute precision use
    /// [`WorkingCalendar::working_time_between`].
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let minutes = self.working_nanos_between(a, b) / i128::from(NANOS_PER_MINUTE);
        i64::try_from(minutes).unwrap_or(i64::MAX)
    }

    /// Working time between a and b (zero if b <= a), at full precision.
    pub fn working_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        let nanos = self.working_nanos_between(a, b);
        let per_second = i128::from(NANOS_PER_SECOND);
        // At most ~10^13 s between chrono's extreme instants, well within TimeDelta's range.
        TimeDelta::seconds((nanos / per_second) as i64)
            + TimeDelta::nanoseconds((nanos % per_second) as i64)
    }

    /// The deadline of `rule` for an order received at `from`.
    /// `WorkingHours(h)` is `add_working_minutes(h * 60)` (saturating at `u32::MAX` minutes).
    pub fn deadline(&self, rule: DeadlineRule, from: DateTime<Utc>) -> DateTime<Utc> {
        match rule {
            DeadlineRule::WorkingDays(days) => self.add_working_days(from, days),
            DeadlineRule::WorkingHours(hours) => {
                self.add_working_minutes(from, hours.saturating_mul(60))
            }
        }
    }

    // ----- internals -------------------------------------------------------------------------

    /// The periods as sorted, merged, non-empty spans (robust against a hand-built value).
    fn spans(&self) -> Vec<Span> {
        let mut spans: Vec<Span> = self
            .periods
            .iter()
            .map(|&p| period_span(p))
            .filter(|&(s, e)| s < e)
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    fn offset(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.utc_offset.local_minus_utc()))
    }

    fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        let offset = self.offset();
        t.naive_utc()
            .checked_add_signed(offset)
            .unwrap_or(if offset > TimeDelta::zero() {
                NaiveDateTime::MAX
            } else {
                NaiveDateTime::MIN
            })
    }

    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let offset = self.offset();
        match local.checked_sub_signed(offset) {
            Some(naive) => naive.and_utc(),
            None if offset > TimeDelta::zero() => DateTime::<Utc>::MIN_UTC,
            None => DateTime::<Utc>::MAX_UTC,
        }
    }

    /// Number of whole weeks starting at `from` that contain no holiday and no make-up day
    /// (`u64::MAX` when none follows): in those weeks every weekday behaves regularly.
    fn regular_weeks_from(&self, from: NaiveDate) -> u64 {
        let next_holiday = self.holidays.range(from..).next();
        let next_makeup = self.makeup_workdays.range(from..).next();
        let next = match (next_holiday, next_makeup) {
            (Some(h), Some(m)) => Some(*h.min(m)),
            (h, m) => h.or(m).copied(),
        };
        next.map_or(u64::MAX, |d| ((d - from).num_days() / 7) as u64)
    }

    /// Local end of the last working period of the `n`-th (n >= 1) working day strictly after
    /// `after`; the clamp instant when [`MAX_SEARCH_DAYS`] days pass without a working day;
    /// `None` when the dates leave chrono's range.
    fn nth_working_day_end(
        &self,
        after: NaiveDate,
        n: u32,
        spans: &[Span],
    ) -> Option<NaiveDateTime> {
        let day_end = spans.last().map(|&(_, e)| e);
        let per_week = if day_end.is_some() {
            u64::from(self.workdays.len())
        } else {
            0
        };
        let mut remaining = u64::from(n);
        let mut day = after.succ_opt()?;
        let mut gap = 0u32;
        loop {
            if per_week > 0 && remaining > per_week {
                let weeks = self.regular_weeks_from(day).min((remaining - 1) / per_week);
                if weeks > 0 {
                    day = day.checked_add_days(Days::new(weeks * 7))?;
                    remaining -= weeks * per_week;
                    gap = 0;
                }
            }
            match day_end {
                Some(end) if self.is_working_day(day) => {
                    remaining -= 1;
                    gap = 0;
                    if remaining == 0 {
                        return at(day, end);
                    }
                }
                _ => {
                    gap += 1;
                    if gap >= MAX_SEARCH_DAYS {
                        return at(day, NANOS_PER_DAY);
                    }
                }
            }
            day = day.succ_opt()?;
        }
    }

    /// Local instant after `remaining` nanoseconds of working time from `start`; the clamp
    /// instant when [`MAX_SEARCH_DAYS`] days pass without working time; `None` when the dates
    /// leave chrono's range.
    fn advance(
        &self,
        start: NaiveDateTime,
        mut remaining: i128,
        spans: &[Span],
    ) -> Option<NaiveDateTime> {
        let per_day: i64 = spans.iter().map(|&(s, e)| e - s).sum();
        let per_week = i128::from(per_day) * i128::from(self.workdays.len());
        let mut cursor = start;
        let mut day = start.date();
        let mut gap = 0u32;
        loop {
            if per_week > 0 && remaining > per_week && cursor <= midnight(day) {
                let regular = i128::from(self.regular_weeks_from(day));
                let weeks = regular.min((remaining - 1) / per_week);
                if weeks > 0 {
                    day = day.checked_add_days(Days::new(u64::try_from(weeks * 7).ok()?))?;
                    remaining -= weeks * per_week;
                    cursor = midnight(day);
                    gap = 0;
                }
            }
            let mut worked = false;
            if self.is_working_day(day) {
                for &(s, e) in spans {
                    let period_end = at(day, e)?;
                    if period_end <= cursor {
                        continue;
                    }
                    let begin = at(day, s)?.max(cursor);
                    // At most one day, so it fits in i64 nanoseconds.
                    let available = i128::from((period_end - begin).num_nanoseconds()?);
                    worked = true;
                    if remaining <= available {
                        return begin.checked_add_signed(TimeDelta::nanoseconds(remaining as i64));
                    }
                    remaining -= available;
                    cursor = period_end;
                }
            }
            if worked {
                gap = 0;
            } else {
                gap += 1;
                if gap >= MAX_SEARCH_DAYS {
                    return at(day, NANOS_PER_DAY);
                }
            }
            day = day.succ_opt()?;
        }
    }

    fn working_nanos_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i128 {
        if b <= a {
            return 0;
        }
        let spans = self.spans();
        let per_day: i64 = spans.iter().map(|&(s, e)| e - s).sum();
        let per_week = i128::from(per_day) * i128::from(self.workdays.len());
        let (start, end) = (self.to_local(a), self.to_local(b));
        let last_day = end.date();
        let mut total: i128 = 0;
        let mut day = start.date();
        while day <= last_day {
            let day_start = midnight(day);
            if day_start >= end {
                break;
            }
            if day_start >= start {
                // Whole weeks [day, day + 7k) lie inside [start, end) when day + 7k <= last_day.
                let to_end = ((last_day - day).num_days() / 7) as u64;
                let weeks = self.regular_weeks_from(day).min(to_end);
                if weeks > 0 {
                    total += i128::from(weeks) * per_week;
                    match day.checked_add_days(Days::new(weeks * 7)) {
                        Some(next) => day = next,
                        None => break,
                    }
                    continue;
                }
            }
            if self.is_working_day(day) {
                for &(s, e) in &spans {
                    let begin = at(day, s).map_or(end, |t| t.max(start));
                    let finish = at(day, e).map_or(end, |t| t.min(end));
                    if finish > begin {
                        total += i128::from((finish - begin).num_nanoseconds().unwrap_or(0));
                    }
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }
}

impl Default for WorkingCalendar {
    /// [`WorkingCalendar::china_default`].
    fn default() -> Self {
        Self::china_default()
    }
}

fn time_of_day_nanos(t: NaiveTime) -> i64 {
    // `nanosecond()` exceeds 10^9 only inside a leap second; clamp it into the second.
    i64::from(t.num_seconds_from_midnight()) * NANOS_PER_SECOND
        + i64::from(t.nanosecond().min(999_999_999))
}

/// A period as a span of nanoseconds since midnight; an end of 00:00 is 24:00.
fn period_span((start, end): (NaiveTime, NaiveTime)) -> Span {
    let end = if end == NaiveTime::MIN {
        NANOS_PER_DAY
    } else {
        time_of_day_nanos(end)
    };
    (time_of_day_nanos(start), end)
}

fn midnight(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

/// `day` at `nanos` after its local midnight (`NANOS_PER_DAY` is the next midnight).
fn at(day: NaiveDate, nanos: i64) -> Option<NaiveDateTime> {
    midnight(day).checked_add_signed(TimeDelta::nanoseconds(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A Beijing wall-clock time as a UTC instant.
    fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A hand-computed expected UTC instant, e.g. "2026-03-10T09:30:00Z".
    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn cal() -> WorkingCalendar {
        WorkingCalendar::china_default()
    }

    /// Illustrative 2026 National Day: holidays Thu Oct 1 - Wed Oct 7, make-up working days
    /// Sun Sep 20 and Sat Oct 10.
    fn national_day() -> WorkingCalendar {
        let mut c = cal();
        c.holidays = (1..=7).map(|d| date(2026, 10, d)).collect();
        c.makeup_workdays = [date(2026, 9, 20), date(2026, 10, 10)]
            .into_iter()
            .collect();
        c
    }

    #[test]
    fn china_default_shape() {
        let c = cal();
        assert_eq!(c.utc_offset.local_minus_utc(), 8 * 3600);
        assert_eq!(
            c.periods,
            vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))]
        );
        assert_eq!(c.workdays.len(), 5);
        assert!(!c.workdays.contains(Weekday::Sat) && !c.workdays.contains(Weekday::Sun));
        assert!(c.holidays.is_empty() && c.makeup_workdays.is_empty());
        assert_eq!(WorkingCalendar::default(), c);
    }

    #[test]
    fn working_days_and_times() {
        let c = national_day();
        assert!(c.is_working_day(date(2026, 9, 30))); // Wednesday
        assert!(!c.is_working_day(date(2026, 10, 1))); // Thursday, holiday
        assert!(!c.is_working_day(date(2026, 10, 5))); // Monday, holiday
        assert!(c.is_working_day(date(2026, 10, 10))); // make-up Saturday
        assert!(!c.is_working_day(date(2026, 10, 11))); // ordinary Sunday
        assert!(c.is_working_day(date(2026, 9, 20))); // make-up Sunday
        assert!(!c.is_working_day(date(2026, 9, 19))); // ordinary Saturday

        assert!(c.is_working_time(utc("2026-03-09T01:00:00Z"))); // Mon 09:00 local
        assert!(!c.is_working_time(utc("2026-03-09T00:59:59Z"))); // Mon 08:59:59
        assert!(c.is_working_time(utc("2026-03-09T03:59:59Z"))); // Mon 11:59:59
        assert!(!c.is_working_time(utc("2026-03-09T04:00:00Z"))); // Mon 12:00 (end excluded)
        assert!(c.is_working_time(utc("2026-03-09T05:30:00Z"))); // Mon 13:30
        assert!(!c.is_working_time(utc("2026-03-09T09:30:00Z"))); // Mon 17:30
        assert!(!c.is_working_time(bj(2026, 3, 7, 10, 0))); // Saturday
        assert!(c.is_working_time(bj(2026, 10, 10, 10, 0))); // make-up Saturday
        assert!(!c.is_working_time(bj(2026, 10, 1, 10, 0))); // holiday Thursday
                                                             // 2026-03-06 01:30 UTC is Friday 09:30 local, 2026-03-08 23:30 UTC is Monday 07:30 local.
        assert!(c.is_working_time(utc("2026-03-06T01:30:00Z")));
        assert!(!c.is_working_time(utc("2026-03-08T23:30:00Z")));
    }

    #[test]
    fn working_days_across_a_weekend() {
        let c = cal();
        let thu = bj(2026, 3, 5, 10, 0); // Thursday 10:00 = 02:00Z
        assert_eq!(thu, utc("2026-03-05T02:00:00Z"));
        assert_eq!(c.add_working_days(thu, 1), utc("2026-03-06T09:30:00Z")); // Fri 17:30
        assert_eq!(c.add_working_days(thu, 2), utc("2026-03-09T09:30:00Z")); // Mon 17:30
        assert_eq!(c.add_working_days(thu, 3), utc("2026-03-10T09:30:00Z")); // Tue 17:30
        assert_eq!(c.add_working_days(thu, 0), utc("2026-03-05T09:30:00Z")); // same day
        assert_eq!(
            c.deadline(DeadlineRule::WorkingDays(7), thu),
            utc("2026-03-16T09:30:00Z") // Fri, Mon..Fri, Mon = 7 → Mon Mar 16
        );
        assert_eq!(
            c.deadline(DeadlineRule::WorkingDays(15), thu),
            utc("2026-03-26T09:30:00Z") // 3 weeks (15 days) after Thu → Thu Mar 26
        );
    }

    #[test]
    fn receipt_on_friday_evening() {
        let c = cal();
        let fri = bj(2026, 3, 6, 20, 0);
        assert_eq!(c.add_working_days(fri, 1), utc("2026-03-09T09:30:00Z")); // Mon 17:30
        assert_eq!(c.add_working_days(fri, 3), utc("2026-03-11T09:30:00Z")); // Wed 17:30
                                                                             // N = 0 after the end of the working day: the next working day's end, not the past.
        assert_eq!(c.add_working_days(fri, 0), utc("2026-03-09T09:30:00Z"));
        // Exactly at 17:30 is already after hours.
        assert_eq!(
            c.add_working_days(bj(2026, 3, 6, 17, 30), 0),
            utc("2026-03-09T09:30:00Z")
        );
        // Two working hours from Friday evening: Monday 09:00-11:00.
        assert_eq!(
            c.deadline(DeadlineRule::WorkingHours(2), fri),
            utc("2026-03-09T03:00:00Z")
        );
        // Register + dispatch within 1 working hour of a Friday 17:00 report: Monday 09:30.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 6, 17, 0), 60),
            utc("2026-03-09T01:30:00Z")
        );
    }

    #[test]
    fn local_date_not_utc_date() {
        let c = cal();
        // Friday 07:30 in Beijing is Thursday 23:30 UTC: a Friday receipt, due Monday.
        let fri_morning = utc("2026-03-05T23:30:00Z");
        assert_eq!(
            c.add_working_days(fri_morning, 1),
            utc("2026-03-09T09:30:00Z")
        );
        assert_eq!(
            c.add_working_days(fri_morning, 0),
            utc("2026-03-06T09:30:00Z")
        );
        // Monday 01:00 in Beijing is Sunday 17:00 UTC: a Monday receipt, due Tuesday.
        let mon_night = utc("2026-03-08T17:00:00Z");
        assert_eq!(
            c.add_working_days(mon_night, 1),
            utc("2026-03-10T09:30:00Z")
        );
    }

    #[test]
    fn working_days_across_national_day() {
        let c = national_day();
        let tue = bj(2026, 9, 29, 15, 0); // Tuesday before the holiday
                                          // Wed 30 (1), Oct 1-7 holiday, Thu Oct 8 (2), Fri Oct 9 (3).
        assert_eq!(c.add_working_days(tue, 3), utc("2026-10-09T09:30:00Z"));
        // ... Sat Oct 10 make-up (4), Mon 12 (5), Tue 13 (6), Wed 14 (7).
        assert_eq!(c.add_working_days(tue, 7), utc("2026-10-14T09:30:00Z"));
        // ... Thu 15 (8), Fri 16 (9), Mon 19-Fri 23 (10-14), Mon 26 (15).
        assert_eq!(c.add_working_days(tue, 15), utc("2026-10-26T09:30:00Z"));
        // Received during the holiday: the first working day after it counts as day 1.
        assert_eq!(
            c.add_working_days(bj(2026, 10, 3, 10, 0), 1),
            utc("2026-10-08T09:30:00Z")
        );
        assert_eq!(
            c.add_working_days(bj(2026, 10, 2, 10, 0), 0),
            utc("2026-10-08T09:30:00Z")
        );
        assert_eq!(
            c.add_working_days(bj(2026, 9, 30, 10, 0), 0),
            utc("2026-09-30T09:30:00Z")
        );
        // Two working hours from Wed Sep 30 17:00: 30 min, then Oct 8 09:00 + 90 min.
        assert_eq!(
            c.add_working_minutes(bj(2026, 9, 30, 17, 0), 120),
            utc("2026-10-08T02:30:00Z")
        );
    }

    #[test]
    fn makeup_days_count_as_working_days() {
        let c = national_day();
        let fri = bj(2026, 10, 9, 10, 0);
        assert_eq!(c.add_working_days(fri, 1), utc("2026-10-10T09:30:00Z")); // Sat (make-up)
        assert_eq!(c.add_working_days(fri, 2), utc("2026-10-12T09:30:00Z")); // Mon
                                                                             // Received on an ordinary Saturday; the next day is a make-up Sunday.
        assert_eq!(
            c.add_working_days(bj(2026, 9, 19, 10, 0), 1),
            utc("2026-09-20T09:30:00Z")
        );
        // Working hours run through the make-up Saturday morning.
        assert_eq!(
            c.add_working_minutes(bj(2026, 10, 9, 17, 0), 60),
            utc("2026-10-10T01:30:00Z")
        );
        // Without the make-up day the same order would be due on Monday.
        assert_eq!(cal().add_working_days(fri, 1), utc("2026-10-12T09:30:00Z"));
    }

    #[test]
    fn working_hours_span_the_lunch_break() {
        let c = cal();
        // Mon 11:00 + 2 h: 11:00-12:00, then 13:30-14:30.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 11, 0), 120),
            utc("2026-03-09T06:30:00Z")
        );
        // Exposed rubbish, 8 working hours from Mon 16:00: 90 min Mon, 180 Tue morning,
        // 210 Tue afternoon → Tue 17:00.
        assert_eq!(
            c.deadline(DeadlineRule::WorkingHours(8), bj(2026, 3, 9, 16, 0)),
            utc("2026-03-10T09:00:00Z")
        );
    }

    #[test]
    fn working_minutes_from_outside_working_time() {
        let c = cal();
        // Lunch break: counting starts at 13:30.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 12, 15), 60),
            utc("2026-03-09T06:30:00Z")
        );
        // Before opening: counting starts at 09:00.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 7, 0), 60),
            utc("2026-03-09T02:00:00Z")
        );
        // Saturday: counting starts Monday 09:00.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 7, 10, 0), 30),
            utc("2026-03-09T01:30:00Z")
        );
        // After closing: counting starts the next morning.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 18, 0), 30),
            utc("2026-03-10T01:30:00Z")
        );
        // Zero minutes: `from` itself inside working time, the next period start outside it.
        let inside = bj(2026, 3, 9, 10, 7);
        assert_eq!(c.add_working_minutes(inside, 0), inside);
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 12, 15), 0),
            utc("2026-03-09T05:30:00Z")
        );
    }

    #[test]
    fn minutes_landing_exactly_at_a_period_end_stay_there() {
        let c = cal();
        // Mon 09:00 + 3 h = 12:00, not 13:30.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 9, 0), 180),
            utc("2026-03-09T04:00:00Z")
        );
        // Mon 13:30 + 4 h = 17:30, not Tue 09:00.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 13, 30), 240),
            utc("2026-03-09T09:30:00Z")
        );
        // A whole working day: Mon 09:00 + 7 h = Mon 17:30.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 9, 0), 420),
            utc("2026-03-09T09:30:00Z")
        );
        // Fri 16:00 + 90 min = Fri 17:30, not Monday.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 6, 16, 0), 90),
            utc("2026-03-06T09:30:00Z")
        );
        // One minute more rolls over to the next working day.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 6, 16, 0), 91),
            utc("2026-03-09T01:01:00Z")
        );
        // 8 h from Mon 09:00: 7 h Monday + 1 h Tuesday.
        assert_eq!(
            c.add_working_minutes(bj(2026, 3, 9, 9, 0), 480),
            utc("2026-03-10T02:00:00Z")
        );
    }

    #[test]
    fn working_minutes_between_nights_weekends_and_holidays() {
        let c = cal();
        // Fri 16:00 → Mon 10:00: 90 min Friday + 60 min Monday.
        assert_eq!(
            c.working_minutes_between(bj(2026, 3, 6, 16, 0), bj(2026, 3, 9, 10, 0)),
            150
        );
        // Mon 17:00 → Tue 09:15 across a night: 30 + 15.
        assert_eq!(
            c.working_minutes_between(bj(2026, 3, 9, 17, 0), bj(2026, 3, 10, 9, 15)),
            45
        );
        // Fri 18:00 → Mon 08:00: nothing.
        assert_eq!(
            c.working_minutes_between(bj(2026, 3, 6, 18, 0), bj(2026, 3, 9, 8, 0)),
            0
        );
        // b <= a: 0.
        let t = bj(2026, 3, 9, 10, 0);
        assert_eq!(c.working_minutes_between(t, t), 0);
        assert_eq!(c.working_minutes_between(t, bj(2026, 3, 9, 9, 0)), 0);
        // A whole week: 5 × 420.
        assert_eq!(
            c.working_minutes_between(bj(2026, 3, 9, 0, 0), bj(2026, 3, 16, 0, 0)),
            2100
        );
        // Rounds down; the precise variant keeps the seconds.
        let a = bj(2026, 3, 9, 9, 0);
        let b = a + TimeDelta::seconds(59);
        assert_eq!(c.working_minutes_between(a, b), 0);
        assert_eq!(c.working_time_between(a, b), TimeDelta::seconds(59));
        // A year of regular weeks: Mon 2026-01-05 → Mon 2027-01-04 = 52 weeks.
        let (y0, y1) = (bj(2026, 1, 5, 0, 0), bj(2027, 1, 4, 0, 0));
        assert_eq!(c.working_minutes_between(y0, y1), 52 * 2100);

        let n = national_day();
        // Wed Sep 30 17:00 → Thu Oct 8 09:30: 30 + 30.
        assert_eq!(
            n.working_minutes_between(bj(2026, 9, 30, 17, 0), bj(2026, 10, 8, 9, 30)),
            60
        );
        // The make-up Sunday weekend: Sat Sep 19 00:00 → Mon Sep 21 00:00 = one working day.
        assert_eq!(
            n.working_minutes_between(bj(2026, 9, 19, 0, 0), bj(2026, 9, 21, 0, 0)),
            420
        );
        // The year: 5 weekday holidays lost, 2 make-up days gained.
        assert_eq!(n.working_minutes_between(y0, y1), (52 * 5 - 5 + 2) * 420);
    }

    #[test]
    fn invalid_calendars_are_rejected() {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        let none = BTreeSet::new;
        assert_eq!(
            WorkingCalendar::new(off, vec![], &WEEKDAYS, none(), none()),
            Err(CalendarError::NoPeriods)
        );
        assert_eq!(
            WorkingCalendar::new(off, vec![(hm(12, 0), hm(9, 0))], &WEEKDAYS, none(), none()),
            Err(CalendarError::PeriodEmpty {
                start: hm(12, 0),
                end: hm(9, 0)
            })
        );
        assert_eq!(
            WorkingCalendar::new(off, vec![(hm(9, 0), hm(9, 0))], &WEEKDAYS, none(), none()),
            Err(CalendarError::PeriodEmpty {
                start: hm(9, 0),
                end: hm(9, 0)
            })
        );
        assert_eq!(
            WorkingCalendar::new(
                off,
                vec![(hm(13, 30), hm(17, 30)), (hm(9, 0), hm(12, 0))],
                &WEEKDAYS,
                none(),
                none()
            ),
            Err(CalendarError::PeriodsNotSorted {
                previous_start: hm(13, 30),
                next_start: hm(9, 0)
            })
        );
        assert_eq!(
            WorkingCalendar::new(
                off,
                vec![(hm(9, 0), hm(12, 0)), (hm(11, 0), hm(17, 30))],
                &WEEKDAYS,
                none(),
                none()
            ),
            Err(CalendarError::PeriodsOverlap {
                previous_end: hm(12, 0),
                next_start: hm(11, 0)
            })
        );
        // A period running to midnight must be the last one.
        assert_eq!(
            WorkingCalendar::new(
                off,
                vec![(hm(18, 0), hm(0, 0)), (hm(20, 0), hm(21, 0))],
                &WEEKDAYS,
                none(),
                none()
            ),
            Err(CalendarError::PeriodsOverlap {
                previous_end: hm(0, 0),
                next_start: hm(20, 0)
            })
        );
        assert_eq!(
            WorkingCalendar::new(off, vec![(hm(9, 0), hm(17, 0))], &[], none(), none()),
            Err(CalendarError::NoWorkdays)
        );
        let day = date(2026, 10, 1);
        assert_eq!(
            WorkingCalendar::new(
                off,
                vec![(hm(9, 0), hm(17, 0))],
                &WEEKDAYS,
                [day].into_iter().collect(),
                [day].into_iter().collect()
            ),
            Err(CalendarError::HolidayIsMakeupDay(day))
        );
        // Touching periods and a period ending at midnight are fine.
        assert!(WorkingCalendar::new(
            off,
            vec![
                (hm(9, 0), hm(12, 0)),
                (hm(12, 0), hm(17, 0)),
                (hm(18, 0), hm(0, 0))
            ],
            &WEEKDAYS,
            none(),
            none()
        )
        .is_ok());
        assert_eq!(
            CalendarError::HolidayIsMakeupDay(day).to_string(),
            "2026-10-01 is listed both as a holiday and as a make-up working day"
        );
    }

    #[test]
    fn all_holiday_calendar_terminates_at_the_clamp() {
        let mut c = cal();
        let mut d = date(2026, 1, 1);
        while d <= date(2040, 12, 31) {
            c.holidays.insert(d);
            d = d.succ_opt().unwrap();
        }
        let from = bj(2026, 3, 2, 10, 0); // Monday
        assert!(!c.is_working_time(from));
        // Days 2026-03-03 .. 2036-03-09 (3660 days) are examined; the end of the last one is
        // 2036-03-10 00:00 local.
        assert_eq!(c.add_working_days(from, 1), utc("2036-03-09T16:00:00Z"));
        assert_eq!(c.add_working_days(from, 0), utc("2036-03-09T16:00:00Z"));
        // Minutes examine the day of `from` too: 2026-03-02 .. 2036-03-08.
        assert_eq!(c.add_working_minutes(from, 60), utc("2036-03-08T16:00:00Z"));
        assert_eq!(c.working_minutes_between(from, bj(2036, 1, 1, 0, 0)), 0);

        // A hand-built calendar without periods (bypassing `new`) terminates too.
        let empty = WorkingCalendar {
            periods: vec![],
            ..cal()
        };
        assert_eq!(empty.add_working_days(from, 3), utc("2036-03-09T16:00:00Z"));
        assert_eq!(
            empty.add_working_minutes(from, 1),
            utc("2036-03-08T16:00:00Z")
        );
        assert_eq!(empty.working_minutes_between(from, bj(2027, 1, 1, 0, 0)), 0);
        assert!(!empty.is_working_time(from));
    }

    #[test]
    fn long_counts_skip_weeks_and_saturate() {
        let c = cal();
        let thu = bj(2026, 3, 5, 10, 0);
        // 10 000 working days = 2 000 regular weeks = 14 000 calendar days → Thu 2064-07-03.
        assert_eq!(c.add_working_days(thu, 10_000), utc("2064-07-03T09:30:00Z"));
        // Beyond chrono's range: saturates.
        assert_eq!(c.add_working_days(thu, u32::MAX), DateTime::<Utc>::MAX_UTC);
        // u32::MAX minutes (~10 million working days) stays in range and round-trips.
        let far = c.add_working_minutes(thu, u32::MAX);
        assert!(far < DateTime::<Utc>::MAX_UTC);
        assert_eq!(c.working_minutes_between(thu, far), i64::from(u32::MAX));
        assert_eq!(
            c.deadline(DeadlineRule::WorkingHours(u32::MAX), thu),
            far // saturates at u32::MAX minutes
        );
        // Week skipping agrees with the day-by-day count across irregular weeks.
        let n = national_day();
        let from = bj(2026, 8, 3, 11, 0);
        for days in [1u32, 5, 6, 20, 44, 45, 46, 60, 300] {
            assert_eq!(
                n.add_working_days(from, days),
                naive_add_days(&n, from, days),
                "{days}"
            );
        }
    }

    /// Day-by-day reference for N >= 1 (no skipping, no clamp).
    fn naive_add_days(c: &WorkingCalendar, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut d = (from + TimeDelta::hours(8)).date_naive();
        let mut left = n;
        loop {
            d = d.succ_opt().unwrap();
            if c.is_working_day(d) {
                left -= 1;
                if left == 0 {
                    return d.and_time(hm(17, 30)).and_utc() - TimeDelta::hours(8);
                }
            }
        }
    }

    #[test]
    fn minutes_and_between_agree() {
        let c = national_day();
        let minutes = [1u32, 59, 60, 180, 181, 420, 421, 480, 2100, 5000];
        let mut from = bj(2026, 9, 18, 6, 0);
        let stop = bj(2026, 10, 12, 0, 0);
        while from < stop {
            for &m in &minutes {
                let due = c.add_working_minutes(from, m);
                assert_eq!(
                    c.working_minutes_between(from, due),
                    i64::from(m),
                    "{from} + {m}"
                );
                // Earliest such instant: one second less is short of the target.
                assert!(
                    c.working_time_between(from, due - TimeDelta::seconds(1))
                        < TimeDelta::minutes(m.into())
                );
            }
            from += TimeDelta::minutes(37);
        }
    }

    #[test]
    fn between_matches_minute_by_minute_count() {
        let c = national_day();
        let a = bj(2026, 9, 29, 10, 17);
        let b = bj(2026, 10, 13, 14, 3);
        let mut t = a;
        let mut count = 0;
        while t < b {
            if c.is_working_time(t) {
                count += 1;
            }
            t += TimeDelta::minutes(1);
        }
        assert_eq!(c.working_minutes_between(a, b), count);
        // By hand: Tue Sep 29 from 10:17: 103 + 240 = 343; Wed 30: 420; Oct 1-7 holiday;
        // Oct 8, 9, 10 (make-up Saturday), 12: 4 × 420; Tue Oct 13 until 14:03: 180 + 33.
        assert_eq!(count, 343 + 420 + 4 * 420 + 213);
    }

    #[test]
    fn round_the_clock_and_evening_periods() {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        let all_week = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let always = WorkingCalendar::new(
            off,
            vec![(hm(0, 0), hm(0, 0))],
            &all_week,
            BTreeSet::new(),
            BTreeSet::new(),
        )
        .unwrap();
        let from = bj(2026, 3, 7, 13, 45);
        assert!(always.is_working_time(from));
        assert_eq!(
            always.add_working_minutes(from, 3 * 1440),
            from + TimeDelta::days(3)
        );
        assert_eq!(
            always.add_working_days(from, 1),
            utc("2026-03-08T16:00:00Z")
        ); // Sun 24:00
        assert_eq!(
            always.working_minutes_between(from, from + TimeDelta::days(9)),
            9 * 1440
        );

        let evening = WorkingCalendar::new(
            off,
            vec![(hm(18, 0), hm(0, 0))],
            &all_week,
            BTreeSet::new(),
            BTreeSet::new(),
        )
        .unwrap();
        let late = bj(2026, 3, 9, 23, 0);
        // 60 min lands exactly at midnight, the period end.
        assert_eq!(
            evening.add_working_minutes(late, 60),
            utc("2026-03-09T16:00:00Z")
        );
        // 120 min: 60 tonight, 60 from 18:00 tomorrow.
        assert_eq!(
            evening.add_working_minutes(late, 120),
            utc("2026-03-10T11:00:00Z")
        );
    }

    #[test]
    fn deadline_rule_serde() {
        assert_eq!(
            serde_json::to_string(&DeadlineRule::WorkingDays(3)).unwrap(),
            r#"{"working_days":3}"#
        );
        assert_eq!(
            serde_json::from_str::<DeadlineRule>(r#"{"working_hours":8}"#).unwrap(),
            DeadlineRule::WorkingHours(8)
        );
    }
}
