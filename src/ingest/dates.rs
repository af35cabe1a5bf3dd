//! Reading the dates editors write, into instants with an explicit offset.
//!
//! Seeds come from many hands, so one date may be written several ways; every
//! output format, though, needs an exact instant with its offset. This module
//! is the one place that turns text into a `DateTime<FixedOffset>`.
//!
//! Accepted (month names in English, full or abbreviated, any case, with or
//! without a trailing dot; `Sept` too; days may carry `st`/`nd`/`rd`/`th`):
//!
//! - `May 24, 2024`, `May 24 2024`, `24 May 2024`, `2024-05-24`;
//! - any of those followed by a time `10:15`, `10:15:30`, optionally `am`/`pm`
//!   (`10:15 pm`, `10:15pm`), and optionally a zone: `Z`, `UTC`, `GMT`, `UT`,
//!   `+03:00`, `+0300`, `+03`, or an IANA name such as `Europe/Kyiv`;
//! - a leading weekday (`Friday, May 24, 2024`), which must match the date;
//! - ISO local date-times `2024-05-24T10:15[:30[.5]]`;
//! - RFC 3339 (`2024-05-24T10:15:00+03:00`, also with a space for `T`) and
//!   RFC 2822 (`Fri, 24 May 2024 10:15:00 +0300`).
//!
//! Purely numeric day/month orders (`05/24/2024`, `24.05.2024`) are refused:
//! they are ambiguous between countries, and a silent misreading would publish
//! an article months off. Years have four digits, as RFC 822 dates in RSS
//! need.
//!
//! Dates that cannot be true of a news article are refused rather than
//! published, because one wrong date does damage beyond its article: the
//! newest date is every feed's `Last-Modified` and `updated`, so a seed
//! dated 9999 would pin them in the future, and caches and readers with
//! them. The rules are fixed, never read from the clock, so that the same
//! seeds always give the same result:
//!
//! - The year, as written, is from [`FIRST_YEAR`] (1900) to [`LAST_YEAR`]
//!   (2100). That takes in archives of the last century and every article
//!   scheduled for later (a date in the future is published when it comes,
//!   so next month must stay valid), and catches the typos that matter:
//!   `2204` or `3024` for 2024, `1024`, `0224`.
//! - A leap second (`23:59:60`) is refused, as is any `:60`. RFC 3339 and
//!   RFC 2822 allow it, but many feed readers and JavaScript's `Date` do
//!   not, so it cannot be published as written; none has been inserted
//!   since 2016 and none will be, so a `:60` in a seed is almost surely a
//!   typo (`10:15:60`) that the editor should see rather than have shifted
//!   silently. The fix is one character: `:59`.
//!
//! A date without a zone is local time in the site's zone (`site.timezone`);
//! a date without a time is 00:00 there. Local times that a clock change makes
//! ambiguous (the repeated hour in autumn) take the earlier instant; local
//! times that do not exist (the skipped hour in spring) are moved forward by
//! the length of the gap, as most calendar software does (`02:30` on a day
//! that jumps from 02:00 to 03:00 becomes `03:30`). Either way the result is
//! deterministic and carries the real offset of that instant.

use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// Examples of what is accepted, for messages that tell the user how to fix a
/// date.
pub const ACCEPTED: &str = "write it like \"May 24, 2024\", \"24 May 2024\", \"2024-05-24\", \
\"May 24, 2024 10:15\", RFC 3339 (\"2024-05-24T10:15:00+03:00\") or RFC 2822 \
(\"Fri, 24 May 2024 10:15:00 +0300\")";

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The text is in none of the accepted formats.
    Unrecognized,
    /// The shape is right but the calendar has no such day (`2024-02-30`).
    NoSuchDay,
    /// The shape is right but the time of day is impossible (`25:00`).
    NoSuchTime,
    /// A weekday was written and the date falls on another one.
    WrongWeekday { date: NaiveDate, written: Weekday },
    /// The year is outside [`FIRST_YEAR`]..=[`LAST_YEAR`].
    YearOutOfRange(i32),
    /// The seconds are `60`: a leap second, or a typo.
    LeapSecond,
}

/// The earliest year a seed may be dated.
pub const FIRST_YEAR: i32 = 1900;

/// The latest year a seed may be dated (scheduled articles included).
pub const LAST_YEAR: i32 = 2100;

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Unrecognized => f.write_str(ACCEPTED),
            DateError::NoSuchDay => write!(
                f,
                "there is no such day in the calendar: check the day and the month ({ACCEPTED})"
            ),
            DateError::NoSuchTime => write!(
                f,
                "the time of day is impossible: use 00:00 to 23:59:59, or 1:00 to 12:59 with am/pm"
            ),
            DateError::WrongWeekday { date, written } => write!(
                f,
                "{date} is a {}, not a {}: fix the date or leave the weekday out",
                weekday_name(date.weekday()),
                weekday_name(*written)
            ),
            DateError::YearOutOfRange(year) => write!(
                f,
                "the year {year} cannot be an article's: write a year from {FIRST_YEAR} to \
                 {LAST_YEAR} (is it a typo, like 2204 for 2024?)"
            ),
            DateError::LeapSecond => f.write_str(
                "the seconds are 60 (a leap second), which feeds and many readers cannot \
                 show: write 59",
            ),
        }
    }
}

impl std::error::Error for DateError {}

/// Parses a date as written in a seed. `zone` is the site's time zone, used
/// when the text gives no offset of its own.
pub fn parse_date(text: &str, zone: Tz) -> Result<DateTime<FixedOffset>, DateError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DateError::Unrecognized);
    }
    let exact = DateTime::parse_from_rfc3339(text).or_else(|_| DateTime::parse_from_rfc2822(text));
    if let Ok(dt) = exact {
        check_year(dt.year())?;
        // chrono reads `:60` as the 59th second plus a whole second.
        if dt.nanosecond() >= 1_000_000_000 {
            return Err(DateError::LeapSecond);
        }
        return Ok(dt);
    }
    let written = parse_written(text)?;
    check_year(written.date.year())?;
    if let Some(day) = written.weekday {
        if day != written.date.weekday() {
            return Err(DateError::WrongWeekday {
                date: written.date,
                written: day,
            });
        }
    }
    let naive = written.date.and_time(written.time);
    Ok(match written.zone {
        None => in_zone(naive, zone),
        Some(WrittenZone::Named(tz)) => in_zone(naive, tz),
        Some(WrittenZone::Fixed(offset)) => match offset.from_local_datetime(&naive) {
            LocalResult::Single(dt) => dt,
            // A fixed offset maps every local time to exactly one instant.
            _ => return Err(DateError::Unrecognized),
        },
    })
}

/// Local date and time in `zone`, with the rules for clock changes described
/// in the module docs.
pub fn in_zone(naive: NaiveDateTime, zone: Tz) -> DateTime<FixedOffset> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(dt) => dt.fixed_offset(),
        LocalResult::Ambiguous(earliest, _) => earliest.fixed_offset(),
        LocalResult::None => {
            // In a gap: find the offset in force just before it (gaps are at
            // most a day long, as when Samoa skipped 30 December 2011) and
            // read the local time with that offset.
            let mut probe = naive;
            for _ in 0..48 {
                probe = match probe.checked_sub_signed(TimeDelta::hours(1)) {
                    Some(p) => p,
                    None => break,
                };
                if let Some(before) = zone.from_local_datetime(&probe).latest() {
                    let offset = before.offset().fix();
                    if let Some(utc) = naive
                        .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))
                    {
                        return zone.from_utc_datetime(&utc).fixed_offset();
                    }
                    break;
                }
            }
            Utc.from_utc_datetime(&naive).fixed_offset()
        }
    }
}

/// Whether `year` is one a seed may be dated in (see the module docs).
pub fn check_year(year: i32) -> Result<(), DateError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(DateError::YearOutOfRange(year))
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

enum WrittenZone {
    Fixed(FixedOffset),
    Named(Tz),
}

struct Written {
    weekday: Option<Weekday>,
    date: NaiveDate,
    time: NaiveTime,
    zone: Option<WrittenZone>,
}

/// The formats of the module docs other than exact RFC 3339/2822.
fn parse_written(text: &str) -> Result<Written, DateError> {
    // Commas only separate; a space after them is optional (`May 24,2024`).
    let spaced = text.replace(',', " ");
    let mut tokens: Vec<&str> = spaced.split_whitespace().collect();
    tokens.reverse(); // pop() from the front
    let unrecognized = || DateError::Unrecognized;

    let mut weekday = None;
    if let Some(day) = tokens.last().and_then(|t| parse_weekday(t)) {
        weekday = Some(day);
        tokens.pop();
    }

    let first = tokens.pop().ok_or_else(unrecognized)?;
    let mut time = None;
    let mut zone = None;
    let date = if let Some((date, rest)) = split_iso_date(first) {
        // `2024-05-24`, `2024-05-24T10:15`, `2024-05-24T10:15:00+03:00`.
        let date = date?;
        if let Some(rest) = rest {
            let (t, z) = parse_time_and_zone(rest)?;
            time = Some(t);
            zone = z;
        }
        date
    } else if let Some(month) = parse_month(first) {
        let day = tokens.pop().and_then(parse_day).ok_or_else(unrecognized)?;
        let year = tokens.pop().and_then(parse_year).ok_or_else(unrecognized)?;
        NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::NoSuchDay)?
    } else if let Some(day) = parse_day(first) {
        let month = tokens
            .pop()
            .and_then(parse_month)
            .ok_or_else(unrecognized)?;
        let year = tokens.pop().and_then(parse_year).ok_or_else(unrecognized)?;
        NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::NoSuchDay)?
    } else {
        return Err(DateError::Unrecognized);
    };

    if time.is_none() {
        if tokens.last().is_some_and(|t| t.eq_ignore_ascii_case("at")) {
            tokens.pop();
        }
        if let Some(token) = tokens.pop() {
            let (mut t, z) = parse_time_and_zone(token)?;
            // A separate `am`/`pm` (`10:15 pm`, `10:15 p.m.`).
            if z.is_none() {
                if let Some(pm) = tokens.last().and_then(|t| meridiem(t)) {
                    tokens.pop();
                    t = apply_meridiem(parse_clock(token)?, pm)?;
                }
            }
            time = Some(t);
            zone = z;
        }
    }
    if zone.is_none() && time.is_some() {
        if let Some(token) = tokens.pop() {
            zone = Some(parse_zone(token).ok_or_else(unrecognized)?);
        }
    }
    if !tokens.is_empty() {
        return Err(DateError::Unrecognized);
    }
    Ok(Written {
        weekday,
        date,
        time: time.unwrap_or(NaiveTime::MIN),
        zone,
    })
}

/// `YYYY-MM-DD` at the start of `token`, and what follows a `T`/`t` after it.
/// `None` when the token does not have that shape at all.
fn split_iso_date(token: &str) -> Option<(Result<NaiveDate, DateError>, Option<&str>)> {
    let bytes = token.as_bytes();
    if bytes.len() < 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || ![0..4, 5..7, 8..10]
            .into_iter()
            .all(|r| bytes[r].iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    let rest = match bytes.get(10) {
        None => None,
        Some(b'T' | b't') => Some(&token[11..]),
        Some(_) => return None,
    };
    let number = |r: std::ops::Range<usize>| token[r].parse::<u32>().ok();
    let date = match (number(0..4), number(5..7), number(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(DateError::NoSuchDay)
        }
        _ => Err(DateError::Unrecognized),
    };
    Some((date, rest))
}

/// `10:15`, `10:15:30`, `10:15:30.25`, `10:15pm`, each optionally followed
/// directly by `Z` or an offset (`10:15+03:00`).
fn parse_time_and_zone(token: &str) -> Result<(NaiveTime, Option<WrittenZone>), DateError> {
    let (time_part, zone) = match token.find(['+', '-']) {
        Some(i) => (
            &token[..i],
            Some(parse_offset(&token[i..]).ok_or(DateError::Unrecognized)?),
        ),
        None => match token.strip_suffix(['Z', 'z']) {
            Some(t) => (
                t,
                Some(WrittenZone::Fixed(FixedOffset::east_opt(0).expect("zero"))),
            ),
            None => (token, None),
        },
    };
    let lower = time_part.to_ascii_lowercase();
    for suffix in ["am", "pm", "a.m.", "p.m."] {
        if let Some(t) = lower.strip_suffix(suffix) {
            let pm = suffix.starts_with('p');
            return Ok((apply_meridiem(parse_clock(t)?, pm)?, zone));
        }
    }
    Ok((parse_clock(time_part)?, zone))
}

fn parse_clock(text: &str) -> Result<NaiveTime, DateError> {
    let mut parts = text.split(':');
    let field = |p: Option<&str>| -> Result<u32, DateError> {
        let p = p.ok_or(DateError::Unrecognized)?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DateError::Unrecognized);
        }
        p.parse().map_err(|_| DateError::Unrecognized)
    };
    let hour = field(parts.next())?;
    let minute = field(parts.next())?;
    let (second, nanos) = match parts.next() {
        None => (0, 0),
        Some(s) => {
            let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
            let second = field(Some(whole))?;
            if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
                return Err(DateError::Unrecognized);
            }
            let nanos = if fraction.is_empty() {
                0
            } else {
                format!("{fraction:0<9}")
                    .parse()
                    .map_err(|_| DateError::Unrecognized)?
            };
            (second, nanos)
        }
    };
    if parts.next().is_some() {
        return Err(DateError::Unrecognized);
    }
    time_of_day(hour, minute, second, nanos)
}

/// A time of day from its fields, refusing `:60` as a leap second (chrono
/// would refuse it as no time at all, a less helpful message).
pub fn time_of_day(
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
) -> Result<NaiveTime, DateError> {
    if second == 60 && hour < 24 && minute < 60 {
        return Err(DateError::LeapSecond);
    }
    NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).ok_or(DateError::NoSuchTime)
}

fn meridiem(token: &str) -> Option<bool> {
    match token.to_ascii_lowercase().as_str() {
        "am" | "a.m." => Some(false),
        "pm" | "p.m." => Some(true),
        _ => None,
    }
}

/// 12-hour clock to 24-hour: `12:05 am` is 00:05, `12:05 pm` is 12:05.
fn apply_meridiem(time: NaiveTime, pm: bool) -> Result<NaiveTime, DateError> {
    let hour = time.hour();
    if !(1..=12).contains(&hour) {
        return Err(DateError::NoSuchTime);
    }
    let hour = hour % 12 + if pm { 12 } else { 0 };
    time.with_hour(hour).ok_or(DateError::NoSuchTime)
}

fn parse_zone(token: &str) -> Option<WrittenZone> {
    match token.to_ascii_lowercase().as_str() {
        "z" | "utc" | "gmt" | "ut" => return Some(WrittenZone::Fixed(FixedOffset::east_opt(0)?)),
        _ => {}
    }
    if token.starts_with(['+', '-']) {
        return parse_offset(token);
    }
    if token.contains('/') {
        return token.parse::<Tz>().ok().map(WrittenZone::Named);
    }
    None
}

/// `+03:00`, `+0300`, `+03`, `-05:30`.
fn parse_offset(text: &str) -> Option<WrittenZone> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let colons = text[1..].matches(':').count();
    let (hours, minutes) = match (digits.len(), colons) {
        (2, 0) => (digits.parse::<i32>().ok()?, 0),
        (4, 0) => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        (4, 1) if text.as_bytes().get(3) == Some(&b':') => {
            (digits[..2].parse().ok()?, digits[2..].parse().ok()?)
        }
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(WrittenZone::Fixed)
}

fn parse_weekday(token: &str) -> Option<Weekday> {
    let word = token.trim_end_matches('.').to_ascii_lowercase();
    const DAYS: [(Weekday, &str); 7] = [
        (Weekday::Mon, "monday"),
        (Weekday::Tue, "tuesday"),
        (Weekday::Wed, "wednesday"),
        (Weekday::Thu, "thursday"),
        (Weekday::Fri, "friday"),
        (Weekday::Sat, "saturday"),
        (Weekday::Sun, "sunday"),
    ];
    DAYS.iter()
        .find(|(_, name)| word == *name || (word.len() == 3 && name.starts_with(&word)))
        .map(|&(day, _)| day)
}

fn parse_month(token: &str) -> Option<u32> {
    let word = token.trim_end_matches('.').to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if word == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|name| word == *name || (word.len() == 3 && name.starts_with(&word)))
        .map(|i| i as u32 + 1)
}

/// `24`, `3`, `03`, `24th`, `1st`.
fn parse_day(token: &str) -> Option<u32> {
    let lower = token.to_ascii_lowercase();
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| lower.strip_suffix(s))
        .unwrap_or(&lower);
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn parse_year(token: &str) -> Option<i32> {
    if token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(text: &str) -> String {
        parse_date(text, Tz::UTC).unwrap().to_rfc3339()
    }

    fn kyiv(text: &str) -> String {
        parse_date(text, chrono_tz::Europe::Kyiv)
            .unwrap()
            .to_rfc3339()
    }

    #[test]
    fn month_day_year() {
        assert_eq!(utc("May 24, 2024"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("May 24 2024"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("May 24,2024"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("may 24th, 2024"), "2024-05-24T00:00:00+00:00");
    }

    #[test]
    fn day_month_year() {
        assert_eq!(utc("24 May 2024"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("1st June 2024"), "2024-06-01T00:00:00+00:00");
    }

    #[test]
    fn iso_date() {
        assert_eq!(utc("2024-05-24"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("  2024-05-24 \t"), "2024-05-24T00:00:00+00:00");
    }

    #[test]
    fn abbreviated_and_full_month_names() {
        assert_eq!(utc("Sep 3, 2024"), "2024-09-03T00:00:00+00:00");
        assert_eq!(utc("Sept. 3, 2024"), "2024-09-03T00:00:00+00:00");
        assert_eq!(utc("September 3, 2024"), "2024-09-03T00:00:00+00:00");
        assert_eq!(utc("3 DEC 2024"), "2024-12-03T00:00:00+00:00");
        assert_eq!(utc("Feb. 29, 2024"), "2024-02-29T00:00:00+00:00");
    }

    #[test]
    fn with_a_time() {
        assert_eq!(utc("May 24, 2024 10:15"), "2024-05-24T10:15:00+00:00");
        assert_eq!(utc("24 May 2024 10:15:30"), "2024-05-24T10:15:30+00:00");
        assert_eq!(utc("2024-05-24 10:15"), "2024-05-24T10:15:00+00:00");
        assert_eq!(utc("2024-05-24T10:15"), "2024-05-24T10:15:00+00:00");
        assert_eq!(utc("May 24, 2024 at 10:15"), "2024-05-24T10:15:00+00:00");
    }

    #[test]
    fn twelve_hour_clock() {
        assert_eq!(utc("May 24, 2024 10:15 pm"), "2024-05-24T22:15:00+00:00");
        assert_eq!(utc("May 24, 2024 10:15PM"), "2024-05-24T22:15:00+00:00");
        assert_eq!(utc("May 24, 2024 12:05 a.m."), "2024-05-24T00:05:00+00:00");
        assert_eq!(utc("May 24, 2024 12:05 pm"), "2024-05-24T12:05:00+00:00");
        assert_eq!(
            parse_date("May 24, 2024 13:00 pm", Tz::UTC),
            Err(DateError::NoSuchTime)
        );
    }

    #[test]
    fn written_zones_override_the_site_zone() {
        assert_eq!(kyiv("May 24, 2024 10:15 UTC"), "2024-05-24T10:15:00+00:00");
        assert_eq!(kyiv("2024-05-24 10:15 +05:30"), "2024-05-24T10:15:00+05:30");
        assert_eq!(kyiv("2024-05-24 10:15 -0400"), "2024-05-24T10:15:00-04:00");
        assert_eq!(kyiv("2024-05-24T10:15Z"), "2024-05-24T10:15:00+00:00");
        assert_eq!(
            utc("2024-05-24 10:15 Europe/Kyiv"),
            "2024-05-24T10:15:00+03:00"
        );
    }

    #[test]
    fn rfc3339_keeps_its_offset() {
        assert_eq!(
            utc("2024-05-24T10:15:00+03:00"),
            "2024-05-24T10:15:00+03:00"
        );
        assert_eq!(kyiv("2024-05-24T10:15:00Z"), "2024-05-24T10:15:00+00:00");
        assert_eq!(
            utc("2024-05-24 10:15:00-07:00"),
            "2024-05-24T10:15:00-07:00"
        );
        assert_eq!(
            utc("2024-05-24T10:15:00.5+01:00"),
            "2024-05-24T10:15:00.500+01:00"
        );
    }

    #[test]
    fn rfc2822() {
        assert_eq!(
            utc("Fri, 24 May 2024 10:15:00 +0300"),
            "2024-05-24T10:15:00+03:00"
        );
        assert_eq!(
            kyiv("24 May 2024 10:15:00 GMT"),
            "2024-05-24T10:15:00+00:00"
        );
    }

    #[test]
    fn weekday_must_match() {
        assert_eq!(utc("Friday, May 24, 2024"), "2024-05-24T00:00:00+00:00");
        assert_eq!(utc("Fri 24 May 2024"), "2024-05-24T00:00:00+00:00");
        let err = parse_date("Monday, May 24, 2024", Tz::UTC).unwrap_err();
        assert!(matches!(err, DateError::WrongWeekday { .. }));
        assert!(
            err.to_string().contains("is a Friday, not a Monday"),
            "{err}"
        );
    }

    #[test]
    fn date_only_is_midnight_in_the_site_zone() {
        assert_eq!(kyiv("May 24, 2024"), "2024-05-24T00:00:00+03:00");
        assert_eq!(kyiv("January 5, 2024"), "2024-01-05T00:00:00+02:00");
        let ny = parse_date("2024-12-01", chrono_tz::America::New_York).unwrap();
        assert_eq!(ny.to_rfc3339(), "2024-12-01T00:00:00-05:00");
    }

    #[test]
    fn skipped_local_time_moves_forward_by_the_gap() {
        // Kyiv jumped from 03:00 to 04:00 on 31 March 2024.
        assert_eq!(kyiv("2024-03-31 03:30"), "2024-03-31T04:30:00+03:00");
        let ny = parse_date("2024-03-10 02:30", chrono_tz::America::New_York).unwrap();
        assert_eq!(ny.to_rfc3339(), "2024-03-10T03:30:00-04:00");
    }

    #[test]
    fn repeated_local_time_takes_the_earlier_instant() {
        // Kyiv went back from 04:00 to 03:00 on 27 October 2024.
        assert_eq!(kyiv("2024-10-27 03:30"), "2024-10-27T03:30:00+03:00");
    }

    #[test]
    fn rejects_typos_with_the_accepted_formats() {
        for text in [
            "Mayy 24, 2024",
            "",
            "   ",
            "yesterday",
            "24 2024",
            "May 2024",
            "2024/05/24",
        ] {
            let err = parse_date(text, Tz::UTC).unwrap_err();
            assert_eq!(err, DateError::Unrecognized, "{text:?}");
            assert!(err.to_string().contains("\"May 24, 2024\""));
        }
    }

    #[test]
    fn rejects_ambiguous_numeric_orders() {
        for text in ["05/24/2024", "24.05.2024", "24/05/2024"] {
            assert_eq!(
                parse_date(text, Tz::UTC),
                Err(DateError::Unrecognized),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_trailing_words() {
        assert_eq!(
            parse_date("May 24, 2024 10:15 tomorrow", Tz::UTC),
            Err(DateError::Unrecognized)
        );
        assert_eq!(
            parse_date("May 24, 2024 hello", Tz::UTC),
            Err(DateError::Unrecognized)
        );
    }

    #[test]
    fn rejects_days_and_times_that_do_not_exist() {
        assert_eq!(parse_date("2024-02-30", Tz::UTC), Err(DateError::NoSuchDay));
        assert_eq!(
            parse_date("February 29, 2023", Tz::UTC),
            Err(DateError::NoSuchDay)
        );
        assert_eq!(
            parse_date("31 April 2024", Tz::UTC),
            Err(DateError::NoSuchDay)
        );
        assert_eq!(
            parse_date("May 24, 2024 25:00", Tz::UTC),
            Err(DateError::NoSuchTime)
        );
        assert_eq!(
            parse_date("2024-05-24T10:61", Tz::UTC),
            Err(DateError::NoSuchTime)
        );
    }

    #[test]
    fn rejects_years_without_four_digits() {
        assert_eq!(
            parse_date("May 24, 24", Tz::UTC),
            Err(DateError::Unrecognized)
        );
        assert_eq!(
            parse_date("0999-01-01T00:00:00Z", Tz::UTC),
            Err(DateError::YearOutOfRange(999))
        );
    }

    #[test]
    fn years_outside_1900_to_2100_are_refused() {
        for (text, year) in [
            ("9999-12-31T23:59:59Z", 9999),
            ("Fri, 31 Dec 9999 23:59:59 +0000", 9999),
            ("May 24, 2204", 2204),
            ("2101-01-01", 2101),
            ("1899-12-31 23:59", 1899),
            ("24 May 1024", 1024),
        ] {
            let err = parse_date(text, Tz::UTC).unwrap_err();
            assert_eq!(err, DateError::YearOutOfRange(year), "{text}");
            assert!(err.to_string().contains("from 1900 to 2100"), "{err}");
        }
    }

    #[test]
    fn the_last_and_first_years_and_scheduled_dates_are_accepted() {
        assert_eq!(utc("2100-12-31 23:59:59"), "2100-12-31T23:59:59+00:00");
        assert_eq!(utc("January 1, 1900"), "1900-01-01T00:00:00+00:00");
        // The year as written counts, whatever it is in UTC.
        assert_eq!(
            utc("2100-12-31T23:30:00-05:00"),
            "2100-12-31T23:30:00-05:00"
        );
        // Next month, next year: scheduled articles.
        assert_eq!(utc("June 24, 2099"), "2099-06-24T00:00:00+00:00");
    }

    #[test]
    fn leap_seconds_are_refused_in_every_format() {
        for text in [
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5+00:00",
            "Sat, 31 Dec 2016 23:59:60 +0000",
            "December 31, 2016 23:59:60",
            "2024-05-24 10:15:60",
            "2024-05-24T10:15:60",
        ] {
            let err = parse_date(text, Tz::UTC).unwrap_err();
            assert_eq!(err, DateError::LeapSecond, "{text}");
            assert!(err.to_string().contains("write 59"), "{err}");
        }
        assert_eq!(
            parse_date("2024-05-24 10:15:61", Tz::UTC),
            Err(DateError::NoSuchTime)
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse_date(&text, chrono_tz::Europe::Kyiv);
        }

        #[test]
        fn never_panics_on_date_like_text(
            text in "[A-Za-z]{0,9}[ ,]{0,2}[0-9]{0,4}[ ,.:/T+-]{0,2}[0-9]{0,4}[ :.apmAPMZ+-]{0,3}[0-9:]{0,6}"
        ) {
            let _ = parse_date(&text, chrono_tz::America::New_York);
        }

        #[test]
        fn written_dates_round_trip(y in FIRST_YEAR..=LAST_YEAR, m in 1u32..=12, d in 1u32..=28, h in 0u32..24, min in 0u32..60) {
            let text = format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}");
            let dt = parse_date(&text, Tz::UTC).unwrap();
            prop_assert_eq!(dt.naive_local(), NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap());
        }
    }
}
