//! Timestamps of bar files, parsed by hand from their bytes (no format-string parser in
//! the per-row path: chrono's was 42 % of replay's time).
//!
//! Accepted (SPEC 19): ISO 8601 with or without an offset (`2024-03-08T09:30:00-05:00`,
//! `2024-03-08 09:30`, `…Z`, fractions of a second), a date alone (`2024-03-08`, or
//! `20240308`), epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
//! magnitude), and RFC 2822 (`Tue, 02 Jan 2024 14:30:00 GMT`). A time without an offset
//! is New York wall time ([`NewYorkClock`]).

use std::fmt;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;

/// The shape of a file's timestamps, detected on its first row and shown by `--verbose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// A session date without a time (`2024-03-08`, `20240308`).
    Date,
    /// ISO 8601 date and time without an offset: New York wall time.
    IsoNaive,
    /// ISO 8601 with `Z` or a `±HH:MM` offset.
    IsoOffset,
    EpochSeconds,
    EpochMillis,
    EpochMicros,
    EpochNanos,
    /// RFC 2822 (`Tue, 02 Jan 2024 14:30:00 GMT`).
    Rfc2822,
}

impl fmt::Display for TimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeKind::Date => "date only",
            TimeKind::IsoNaive => "ISO 8601 without offset (New York time)",
            TimeKind::IsoOffset => "ISO 8601 with offset",
            TimeKind::EpochSeconds => "epoch seconds",
            TimeKind::EpochMillis => "epoch milliseconds",
            TimeKind::EpochMicros => "epoch microseconds",
            TimeKind::EpochNanos => "epoch nanoseconds",
            TimeKind::Rfc2822 => "RFC 2822",
        })
    }
}

/// One parsed timestamp, before a time zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// A date without a time.
    Date(NaiveDate),
    /// A wall-clock time without an offset: seconds of the day and nanoseconds.
    Naive(NaiveDate, u32, u32),
    /// An instant: seconds since the Unix epoch and nanoseconds.
    Instant(i64, u32),
}

/// Parses a timestamp of any accepted shape, saying which shape it was.
pub fn parse_any(text: &[u8]) -> Option<(Stamp, TimeKind)> {
    let text = text.trim_ascii();
    let first = *text.first()?;
    if first.is_ascii_digit()
        && let Some(found) = parse_iso(text).or_else(|| parse_number(text))
    {
        return Some(found);
    }
    parse_rfc2822(text).map(|s| (s, TimeKind::Rfc2822))
}

/// Parses a timestamp expected to have `kind`'s shape (the file's first row's); any other
/// accepted shape is still read, so a file mixing `09:30` and `09:30:00` is fine.
pub fn parse_as(kind: TimeKind, text: &[u8]) -> Option<Stamp> {
    let fast = match kind {
        TimeKind::Date | TimeKind::IsoNaive | TimeKind::IsoOffset => {
            parse_iso(text).map(|(s, _)| s)
        }
        TimeKind::EpochSeconds => parse_epoch(text, 1),
        TimeKind::EpochMillis => parse_epoch(text, 1_000),
        TimeKind::EpochMicros => parse_epoch(text, 1_000_000),
        TimeKind::EpochNanos => parse_epoch(text, 1_000_000_000),
        TimeKind::Rfc2822 => parse_rfc2822(text),
    };
    fast.or_else(|| parse_any(text).map(|(s, _)| s))
}

/// A short run of ASCII digits (at most 9) as a number.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut n: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

fn date(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]][Z|±HH[:MM]]`.
fn parse_iso(b: &[u8]) -> Option<(Stamp, TimeKind)> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let day = date(digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?)?;
    if b.len() == 10 {
        return Some((Stamp::Date(day), TimeKind::Date));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let mut i = 16;
    let mut second = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let fraction = &b[start..i];
            if fraction.is_empty() {
                return None;
            }
            let kept = &fraction[..fraction.len().min(9)];
            nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        }
    }
    // 24:00 and leap seconds are not bar starts.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds_of_day = hour * 3600 + minute * 60 + second;
    let rest = &b[i..];
    if rest.is_empty() {
        return Some((Stamp::Naive(day, seconds_of_day, nanos), TimeKind::IsoNaive));
    }
    let offset = parse_offset(rest)?;
    let local = i64::from(day.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE) * 86_400
        + i64::from(seconds_of_day);
    Some((
        Stamp::Instant(local - i64::from(offset), nanos),
        TimeKind::IsoOffset,
    ))
}

/// Days from 0001-01-01 (day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// `Z`, `±HH`, `±HHMM` or `±HH:MM`: seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i32> {
    if b == b"Z" || b == b"z" {
        return Some(0);
    }
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match b.len() {
        3 => (digits(&b[1..3])?, 0),
        5 => (digits(&b[1..3])?, digits(&b[3..5])?),
        6 if b[3] == b':' => (digits(&b[1..3])?, digits(&b[4..6])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i32::try_from(hours * 3600 + minutes * 60).ok()?)
}

/// A number: `YYYYMMDD` (8 digits), else epoch time whose unit follows from its
/// magnitude: below 10^11 seconds (until the year 5138), below 10^14 milliseconds, below
/// 10^17 microseconds, else nanoseconds.
fn parse_number(b: &[u8]) -> Option<(Stamp, TimeKind)> {
    if b.len() == 8
        && let Some(n) = digits(b)
        && let Some(day) = date(n / 10_000, n / 100 % 100, n % 100)
    {
        return Some((Stamp::Date(day), TimeKind::Date));
    }
    let whole = b.split(|&c| c == b'.').next()?;
    let n: u64 = std::str::from_utf8(whole).ok()?.parse().ok()?;
    let (kind, per_second) = if n < 100_000_000_000 {
        (TimeKind::EpochSeconds, 1)
    } else if n < 100_000_000_000_000 {
        (TimeKind::EpochMillis, 1_000)
    } else if n < 100_000_000_000_000_000 {
        (TimeKind::EpochMicros, 1_000_000)
    } else {
        (TimeKind::EpochNanos, 1_000_000_000)
    };
    Some((parse_epoch(b, per_second)?, kind))
}

/// Epoch time in units of `1 / per_second` s; seconds may carry a fraction (`…800.5`).
fn parse_epoch(b: &[u8], per_second: u64) -> Option<Stamp> {
    let (whole, fraction) = match b.iter().position(|&c| c == b'.') {
        Some(dot) => (&b[..dot], Some(&b[dot + 1..])),
        None => (b, None),
    };
    if whole.is_empty() || whole.len() > 19 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &c in whole {
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    let seconds = i64::try_from(n / per_second).ok()?;
    let mut nanos = u32::try_from((n % per_second) * (1_000_000_000 / per_second)).ok()?;
    if let Some(fraction) = fraction {
        // A fraction only means something on whole seconds, and only zeros otherwise
        // (`1704205800000.0`).
        let zeros = fraction.iter().all(|&c| c == b'0');
        if per_second != 1 && !zeros {
            return None;
        }
        if per_second == 1 && !fraction.is_empty() {
            let kept = &fraction[..fraction.len().min(9)];
            nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        }
    }
    Some(Stamp::Instant(seconds, nanos))
}

/// RFC 2822: `[Day, ]DD Mon YYYY HH:MM[:SS] ZONE`, the zone `GMT`/`UT`/`UTC`/`Z`, a US
/// zone name (`EST`, `EDT`, …) or `±HHMM`.
fn parse_rfc2822(b: &[u8]) -> Option<Stamp> {
    let text = std::str::from_utf8(b).ok()?;
    let text = match text.split_once(',') {
        Some((_day_name, rest)) => rest,
        None => text,
    };
    let mut parts = text.split_ascii_whitespace();
    let day = digits(parts.next()?.as_bytes())?;
    let month = month_number(parts.next()?)?;
    let year = digits(parts.next()?.as_bytes())?;
    let time = parts.next()?.as_bytes();
    let zone = parts.next().unwrap_or("");
    if parts.next().is_some() {
        return None;
    }
    let (hour, minute, second) = match time.len() {
        5 if time[2] == b':' => (digits(&time[0..2])?, digits(&time[3..5])?, 0),
        8 if time[2] == b':' && time[5] == b':' => (
            digits(&time[0..2])?,
            digits(&time[3..5])?,
            digits(&time[6..8])?,
        ),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EST" => -5 * 3600,
        "EDT" => -4 * 3600,
        "CST" => -6 * 3600,
        "CDT" => -5 * 3600,
        "MST" => -7 * 3600,
        "MDT" => -6 * 3600,
        "PST" => -8 * 3600,
        "PDT" => -7 * 3600,
        other if other.len() == 5 => parse_offset(other.as_bytes())?,
        _ => return None,
    };
    let day = date(year, month, day)?;
    let local = i64::from(day.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second);
    Some(Stamp::Instant(local - i64::from(offset), 0))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Turns New York wall times into instants. The UTC offset of a date without a clock
/// change is computed once and reused (bar files are in time order, so it is the
/// previous row's date nearly always); the two nights a year when clocks change go
/// through chrono-tz for each row.
#[derive(Clone, Debug, Default)]
pub struct NewYorkClock {
    /// The cached date and its offset in seconds east of UTC, when the whole date has one.
    cached: Option<(NaiveDate, Option<i32>)>,
}

impl NewYorkClock {
    /// The instant of a New York wall time. `after` (the previous row's instant) picks
    /// the second of the two readings of a time that occurs twice when clocks fall back.
    pub fn instant(
        &mut self,
        day: NaiveDate,
        seconds_of_day: u32,
        nanos: u32,
        after: Option<DateTime<Utc>>,
    ) -> Result<DateTime<Utc>, String> {
        let offset = match self.cached {
            Some((cached, offset)) if cached == day => offset,
            _ => {
                let offset = uniform_offset(day);
                self.cached = Some((day, offset));
                offset
            }
        };
        let local = i64::from(day.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE) * 86_400
            + i64::from(seconds_of_day);
        if let Some(offset) = offset {
            return DateTime::from_timestamp(local - i64::from(offset), nanos)
                .ok_or_else(|| format!("{day} is out of range"));
        }
        let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds_of_day, nanos)
            .ok_or_else(|| format!("{seconds_of_day} s is not a time of day"))?;
        let naive = NaiveDateTime::new(day, time);
        match New_York.from_local_datetime(&naive) {
            LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, second) => {
                let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
                Ok(match after {
                    Some(previous) if previous >= first => second,
                    _ => first,
                })
            }
            LocalResult::None => Err(format!(
                "{naive} does not exist in New York (clocks jump forward that night); write the offset"
            )),
        }
    }
}

/// The UTC offset (seconds east) of a New York date when it is the same all day; `None`
/// on the two dates a year when clocks change (at 02:00, so midnight and the end of the
/// day differ).
fn uniform_offset(day: NaiveDate) -> Option<i32> {
    use chrono::Offset;
    let at = |h, m| {
        New_York
            .from_local_datetime(&day.and_hms_opt(h, m, 0)?)
            .single()
            .map(|dt| dt.offset().fix().local_minus_utc())
    };
    let (start, end) = (at(0, 0)?, at(23, 59)?);
    (start == end).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn instant(text: &str) -> DateTime<Utc> {
        match parse_any(text.as_bytes()) {
            Some((Stamp::Instant(s, n), _)) => DateTime::from_timestamp(s, n).unwrap(),
            Some((Stamp::Naive(d, s, n), _)) => {
                NewYorkClock::default().instant(d, s, n, None).unwrap()
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    fn kind(text: &str) -> TimeKind {
        parse_any(text.as_bytes()).unwrap().1
    }

    #[test]
    fn iso_timestamps_with_an_offset_are_instants() {
        assert_eq!(
            instant("2024-03-08T09:30:00-05:00"),
            utc("2024-03-08T14:30:00Z")
        );
        assert_eq!(instant("2024-03-08 14:31:00Z"), utc("2024-03-08T14:31:00Z"));
        assert_eq!(
            instant("2024-03-08T09:30-0500"),
            utc("2024-03-08T14:30:00Z")
        );
        assert_eq!(
            instant("2024-03-08T09:30:00.250+00:00"),
            utc("2024-03-08T09:30:00.25Z")
        );
        assert_eq!(kind("2024-03-08T09:30:00-05:00"), TimeKind::IsoOffset);
    }

    #[test]
    fn naive_times_are_new_york_wall_time_in_summer_and_winter() {
        assert_eq!(instant("2013-10-04 09:30:00"), utc("2013-10-04T13:30:00Z"));
        assert_eq!(instant("2024-01-05 09:30"), utc("2024-01-05T14:30:00Z"));
        assert_eq!(kind("2024-01-05T09:30"), TimeKind::IsoNaive);
    }

    #[test]
    fn dates_alone_in_both_spellings() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 8).unwrap();
        assert_eq!(
            parse_any(b"2024-03-08"),
            Some((Stamp::Date(d), TimeKind::Date))
        );
        assert_eq!(
            parse_any(b"20240308"),
            Some((Stamp::Date(d), TimeKind::Date))
        );
    }

    #[test]
    fn epoch_units_are_told_apart_by_magnitude() {
        let open = utc("2024-01-02T14:30:00Z");
        assert_eq!(instant("1704205800"), open);
        assert_eq!(instant("1704205800000"), open);
        assert_eq!(instant("1704205800000000"), open);
        assert_eq!(instant("1704205800000000000"), open);
        assert_eq!(kind("1704205800"), TimeKind::EpochSeconds);
        assert_eq!(kind("1704205800000"), TimeKind::EpochMillis);
        assert_eq!(kind("1704205800000000"), TimeKind::EpochMicros);
        assert_eq!(kind("1704205800000000000"), TimeKind::EpochNanos);
        assert_eq!(instant("1704205800.5"), utc("2024-01-02T14:30:00.5Z"));
        assert_eq!(instant("1704205800000.0"), open);
    }

    #[test]
    fn rfc_2822_with_names_and_numeric_zones() {
        let open = utc("2024-01-02T14:30:00Z");
        assert_eq!(instant("Tue, 02 Jan 2024 14:30:00 GMT"), open);
        assert_eq!(instant("2 Jan 2024 09:30:00 -0500"), open);
        assert_eq!(instant("Tue, 02 Jan 2024 09:30 EST"), open);
        assert_eq!(kind("Tue, 02 Jan 2024 14:30:00 GMT"), TimeKind::Rfc2822);
    }

    #[test]
    fn text_that_is_no_timestamp_is_refused() {
        for bad in [
            "",
            "2024-13-05 09:30",
            "2024-02-30",
            "2024-03-08 25:00",
            "2024-03-08T09:30:00+25:00",
            "yesterday",
            "Tue, 02 Foo 2024 14:30:00 GMT",
            "12345678901234567890123",
            "1704205800000.5",
            "-5",
        ] {
            assert_eq!(parse_any(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn the_expected_shape_is_a_fast_path_not_a_restriction() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 8).unwrap();
        assert_eq!(
            parse_as(TimeKind::EpochMillis, b"2024-03-08 09:30"),
            Some(Stamp::Naive(d, 9 * 3600 + 30 * 60, 0))
        );
    }

    #[test]
    fn the_cached_offset_follows_the_spring_forward_and_fall_back_days() {
        let mut clock = NewYorkClock::default();
        let day = |d| NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
        let open = 9 * 3600 + 30 * 60;
        // Friday EST, Sunday the change, Monday EDT, in file order with one clock.
        assert_eq!(
            clock.instant(day(8), open, 0, None).unwrap(),
            utc("2024-03-08T14:30:00Z")
        );
        assert_eq!(
            clock.instant(day(10), 3600 + 59 * 60, 0, None).unwrap(),
            utc("2024-03-10T06:59:00Z"),
            "01:59 is still EST"
        );
        assert!(clock.instant(day(10), 2 * 3600 + 30 * 60, 0, None).is_err());
        assert_eq!(
            clock.instant(day(10), 3 * 3600, 0, None).unwrap(),
            utc("2024-03-10T07:00:00Z"),
            "03:00 is EDT"
        );
        assert_eq!(
            clock.instant(day(11), open, 0, None).unwrap(),
            utc("2024-03-11T13:30:00Z")
        );
        let nov3 = NaiveDate::from_ymd_opt(2024, 11, 3).unwrap();
        let first = clock.instant(nov3, 3600 + 30 * 60, 0, None).unwrap();
        assert_eq!(first, utc("2024-11-03T05:30:00Z"));
        assert_eq!(
            clock.instant(nov3, 3600 + 30 * 60, 0, Some(first)).unwrap(),
            utc("2024-11-03T06:30:00Z"),
            "the second 01:30 is EST"
        );
        let nov4 = NaiveDate::from_ymd_opt(2024, 11, 4).unwrap();
        assert_eq!(
            clock.instant(nov4, open, 0, None).unwrap(),
            utc("2024-11-04T14:30:00Z")
        );
    }

    /// chrono's format-string parsers (what the reader used per row before it read
    /// timestamps by hand): the reference the hand parser must equal.
    fn reference(kind: TimeKind, text: &str) -> Option<DateTime<Utc>> {
        match kind {
            TimeKind::IsoNaive => [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .and_then(|naive| New_York.from_local_datetime(&naive).earliest())
            .map(|t| t.with_timezone(&Utc)),
            TimeKind::IsoOffset => DateTime::parse_from_rfc3339(text)
                .ok()
                .or_else(|| {
                    [
                        "%Y-%m-%dT%H:%M:%S%.f%#z",
                        "%Y-%m-%d %H:%M:%S%.f%#z",
                        "%Y-%m-%dT%H:%M%#z",
                    ]
                    .iter()
                    .find_map(|f| DateTime::parse_from_str(text, f).ok())
                })
                .map(|t| t.with_timezone(&Utc)),
            TimeKind::Rfc2822 => DateTime::parse_from_rfc2822(text)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            TimeKind::EpochSeconds => DateTime::from_timestamp(text.parse().ok()?, 0),
            TimeKind::EpochMillis => DateTime::from_timestamp_millis(text.parse().ok()?),
            TimeKind::EpochMicros => DateTime::from_timestamp_micros(text.parse().ok()?),
            TimeKind::EpochNanos => Some(DateTime::from_timestamp_nanos(text.parse().ok()?)),
            TimeKind::Date => None,
        }
    }

    /// What the reader makes of a text in a file of `kind` (the per-row fast path, with
    /// one clock for the whole file as the reader keeps it).
    fn fast(kind: TimeKind, text: &str, clock: &mut NewYorkClock) -> Option<DateTime<Utc>> {
        match parse_as(kind, text.as_bytes())? {
            Stamp::Instant(s, n) => DateTime::from_timestamp(s, n),
            Stamp::Naive(d, s, n) => clock.instant(d, s, n, None).ok(),
            Stamp::Date(_) => None,
        }
    }

    /// Every layout the reader accepts, written from instants by chrono's formatter, read
    /// by the fast path and by chrono's parser: every day of 2013 to 2026 at times across
    /// the day, every minute of four clock-change days, 25 offsets, fractions of a second.
    #[test]
    fn the_fast_path_equals_chrono_on_every_layout_offset_and_dst_date() {
        let mut instants: Vec<DateTime<Utc>> = Vec::new();
        let mut day = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        while day <= last {
            for (h, m) in [(0, 0), (4, 0), (9, 30), (13, 7), (15, 59), (23, 59)] {
                let t = New_York
                    .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
                    .earliest()
                    .unwrap();
                instants.push(t.with_timezone(&Utc));
            }
            day = day.succ_opt().unwrap();
        }
        for (y, mo, d) in [(2013, 3, 10), (2013, 11, 3), (2024, 3, 10), (2024, 11, 3)] {
            // 00:00 to 05:59 New York, every minute, in UTC minutes (both 01:xx of the
            // fall-back night included).
            let midnight = New_York
                .from_local_datetime(
                    &NaiveDate::from_ymd_opt(y, mo, d)
                        .unwrap()
                        .and_hms_opt(0, 0, 0)
                        .unwrap(),
                )
                .earliest()
                .unwrap()
                .with_timezone(&Utc);
            instants.extend((0..6 * 60).map(|m| midnight + chrono::Duration::minutes(m)));
        }
        let mut checked = 0;
        let mut check = |kind: TimeKind, text: String, clock: &mut NewYorkClock| {
            let expected = reference(kind, &text);
            assert!(expected.is_some(), "chrono reads {text:?} ({kind:?})");
            assert_eq!(fast(kind, &text, clock), expected, "{text:?} ({kind:?})");
            assert_eq!(
                parse_any(text.as_bytes()).map(|(_, k)| k),
                Some(kind),
                "{text:?}"
            );
            checked += 1;
        };
        let mut clock = NewYorkClock::default();
        for t in &instants {
            let ny = t.with_timezone(&New_York);
            for f in [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M:%S%.3f",
            ] {
                let text = ny.format(f).to_string();
                // A wall time of the fall-back night's second hour reads as its first
                // occurrence without the previous row (both paths take the earliest).
                check(TimeKind::IsoNaive, text, &mut clock);
            }
            for f in [
                "%Y-%m-%dT%H:%M:%S%:z",
                "%Y-%m-%d %H:%M:%S%z",
                "%Y-%m-%dT%H:%M%:z",
                "%Y-%m-%dT%H:%M:%S%.6f%:z",
            ] {
                check(TimeKind::IsoOffset, ny.format(f).to_string(), &mut clock);
            }
            check(
                TimeKind::IsoOffset,
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                &mut clock,
            );
            check(TimeKind::Rfc2822, ny.to_rfc2822(), &mut clock);
            check(
                TimeKind::Rfc2822,
                t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                &mut clock,
            );
            let s = t.timestamp();
            check(TimeKind::EpochSeconds, s.to_string(), &mut clock);
            check(TimeKind::EpochMillis, (s * 1_000).to_string(), &mut clock);
            check(
                TimeKind::EpochMicros,
                (s * 1_000_000).to_string(),
                &mut clock,
            );
            check(
                TimeKind::EpochNanos,
                (s * 1_000_000_000).to_string(),
                &mut clock,
            );
        }
        // Every quarter-hour offset from -12:00 to +14:00, in each spelling, on one instant.
        let t = utc("2024-03-08T14:30:00Z");
        for quarter in -48..=56 {
            let offset = chrono::FixedOffset::east_opt(quarter * 15 * 60).unwrap();
            let local = t.with_timezone(&offset);
            check(
                TimeKind::IsoOffset,
                local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                &mut clock,
            );
            check(
                TimeKind::IsoOffset,
                local.format("%Y-%m-%d %H:%M:%S%z").to_string(),
                &mut clock,
            );
            check(TimeKind::Rfc2822, local.to_rfc2822(), &mut clock);
        }
        for fraction in ["5", "25", "250", "123456", "123456789"] {
            check(
                TimeKind::IsoOffset,
                format!("2024-03-08T09:30:00.{fraction}-05:00"),
                &mut clock,
            );
            check(
                TimeKind::IsoNaive,
                format!("2024-03-08 09:30:00.{fraction}"),
                &mut clock,
            );
        }
        assert!(checked > 450_000, "{checked}");
    }
}
