//! The Date header (RFC 3261 §20.17): an RFC 1123 date, always in GMT.
//!
//! `Date: Sat, 13 Nov 2010 23:29:00 GMT`. RFC 3261 restricts the time zone to `GMT`, so
//! `EST` or a numeric offset (RFC 4475 `baddate`) is a bad header even though RFC 2822 would
//! accept it. ABNF literals are case-insensitive, so `gmt` and `sat` are accepted. A day-of-week
//! that does not match the date is tolerated: the date itself is unambiguous.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses a SIP-date (`wkday "," SP date1 SP time SP "GMT"`), tolerating runs of spaces or tabs
/// where the grammar has one space.
pub fn parse_sip_date(s: &str) -> Result<DateTime<Utc>, &'static str> {
    let s = s.trim_matches([' ', '\t']);
    let (wkday, rest) = s.split_once(',').ok_or("expected '<weekday>, '")?;
    let wkday = wkday.trim_end_matches([' ', '\t']);
    if !WEEKDAYS.iter().any(|w| w.eq_ignore_ascii_case(wkday)) {
        return Err("bad day of the week");
    }
    let mut it = rest.split([' ', '\t']).filter(|p| !p.is_empty()).fuse();
    let (Some(day), Some(month), Some(year), Some(time), Some(zone), None) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Err("expected '<day> <month> <year> <hh:mm:ss> GMT'");
    };
    if !zone.eq_ignore_ascii_case("GMT") {
        return Err("time zone must be GMT");
    }
    let day = digits(day, 1..=2).ok_or("bad day")?;
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))
        .ok_or("bad month")? as u32
        + 1;
    let year = digits(year, 4..=4).ok_or("bad year")?;
    let mut hms = time.split(':');
    let (Some(h), Some(m), Some(sec), None) = (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return Err("bad time");
    };
    let (h, m, sec) = (
        digits(h, 2..=2).ok_or("bad time")?,
        digits(m, 2..=2).ok_or("bad time")?,
        digits(sec, 2..=2).ok_or("bad time")?,
    );
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or("no such date")?;
    let time = NaiveTime::from_hms_opt(h, m, sec).ok_or("no such time")?;
    Ok(Utc.from_utc_datetime(&date.and_time(time)))
}

/// Writes a SIP-date, e.g. for the Date header of a 200 to REGISTER (RFC 3261 §10.3).
pub fn format_sip_date(t: DateTime<Utc>) -> String {
    format!(
        "{}, {:02} {} {:04} {}",
        WEEKDAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.format("%H:%M:%S GMT"),
    )
}

fn digits(s: &str, len: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !len.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
