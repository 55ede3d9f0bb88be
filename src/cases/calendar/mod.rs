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
mod tests;
