//! Unit tests of the working calendar: exact deadlines across weekends, holidays and make-up
//! days, and cross-checks against brute-force counting.

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
