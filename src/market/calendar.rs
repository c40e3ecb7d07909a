//! The NYSE trading calendar (SPEC 3): which New York dates have a regular session, when
//! it opens and closes (as UTC instants), and which phase of the trading day an instant
//! falls in.
//!
//! Conventions:
//! - A *date* is a New York calendar date (`NaiveDate`); an *instant* is UTC.
//! - The regular session is 09:30–16:00 New York time, 09:30–13:00 on early-close days.
//!   Pre-market is 04:00–09:30, after-hours from the close for four hours (16:00–20:00;
//!   13:00–17:00 on early-close days, as NYSE Arca and Nasdaq run it).
//! - Daylight saving time comes from the tz database through chrono-tz; no fixed offsets.
//! - Days come from the rules in [`rules`] (holidays with their observance, early closes)
//!   plus the table of special days in `assets/special_closures.csv` ([`special`]).
//!
//! Coverage: checked day by day against exchange_calendars' XNYS for
//! [`VERIFIED_YEARS`] (scripts/check_calendar.py). Outside that range the functions still
//! answer, from the rules alone: the special-day table starts in 1993, and the rules of
//! earlier decades (14:00 closes, Washington's Birthday on February 22, ...) are not
//! modelled, so answers before 1993 are approximate; after 2035 they are right unless the
//! NYSE adds a holiday or an unscheduled closure (and until 2099: chrono-tz's
//! daylight-saving data is wrong for 2100, so instants that year are an hour off in summer).

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono::{Datelike, LocalResult, Weekday};

pub mod rules;
pub mod special;

use special::SpecialDay;

/// The exchange's time zone.
pub const NEW_YORK: chrono_tz::Tz = chrono_tz::America::New_York;

/// Years for which every day was checked against the published NYSE schedule.
pub const VERIFIED_YEARS: RangeInclusive<i32> = 1993..=2035;

/// Regular session open, New York time.
pub const REGULAR_OPEN: NaiveTime = hm(9, 30);
/// Regular session close on a full day, New York time.
pub const REGULAR_CLOSE: NaiveTime = hm(16, 0);
/// Close on a rule-based early-close day, New York time.
pub const EARLY_CLOSE: NaiveTime = hm(13, 0);
/// Start of pre-market trading, New York time.
pub const PRE_MARKET_OPEN: NaiveTime = hm(4, 0);
/// Length of after-hours trading after the session close.
pub const AFTER_HOURS: Duration = Duration::hours(4);

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("invalid constant time"),
    }
}

/// One regular trading session. `open`/`close` are UTC instants; `early_close` is true
/// when the session ends before 16:00 New York time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// The New York date of the session.
    pub date: NaiveDate,
    pub open: DateTime<Utc>,
    pub close: DateTime<Utc>,
    pub early_close: bool,
}

impl Session {
    /// Start of pre-market trading on this session's date (04:00 New York).
    pub fn pre_market_open(&self) -> DateTime<Utc> {
        ny_instant(self.date, PRE_MARKET_OPEN)
    }

    /// End of after-hours trading: four hours after the close.
    pub fn after_hours_close(&self) -> DateTime<Utc> {
        self.close + AFTER_HOURS
    }

    /// Whether `instant` is within the regular session: `open <= instant < close`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.open <= instant && instant < self.close
    }
}

/// The part of the trading day an instant falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Weekends, holidays, special closures, and nights (before 04:00, after after-hours).
    Closed,
    /// 04:00 New York until the open.
    PreMarket,
    /// From the open until the (possibly early) close.
    Regular,
    /// From the close for four hours.
    AfterHours,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::PreMarket => "pre-market",
            Phase::Regular => "open",
            Phase::AfterHours => "after-hours",
        }
    }
}

/// The regular session on `date`; `None` on weekends, holidays and special closures.
pub fn session(date: NaiveDate) -> Option<Session> {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) || rules::holiday(date).is_some() {
        return None;
    }
    let close = match special::table().get(&date) {
        Some(SpecialDay::Closed { .. }) => return None,
        Some(SpecialDay::EarlyClose { close, .. }) => *close,
        None if rules::is_rule_early_close(date) => EARLY_CLOSE,
        None => REGULAR_CLOSE,
    };
    Some(Session {
        date,
        open: ny_instant(date, REGULAR_OPEN),
        close: ny_instant(date, close),
        early_close: close < REGULAR_CLOSE,
    })
}

/// Whether the NYSE holds a regular session on `date`.
pub fn is_trading_day(date: NaiveDate) -> bool {
    session(date).is_some()
}

/// Why a weekday has no session: the holiday's name ("Good Friday", "Christmas Day") or
/// the special closure's reason. `None` for trading days and weekends.
pub fn closure_reason(date: NaiveDate) -> Option<&'static str> {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return None;
    }
    rules::holiday(date).or_else(|| match special::table().get(&date) {
        Some(SpecialDay::Closed { reason }) => Some(reason),
        _ => None,
    })
}

/// The first session strictly after `after`.
///
/// Panics only within days of chrono's last representable date (year 262142), where no
/// later session can be expressed.
pub fn next_session(after: NaiveDate) -> Session {
    let mut date = after;
    loop {
        date = date
            .succ_opt()
            .unwrap_or_else(|| panic!("no session can follow {after}: end of the date range"));
        if let Some(s) = session(date) {
            return s;
        }
    }
}

/// The last session strictly before `before`.
///
/// Panics only within days of chrono's first representable date (year −262143).
pub fn previous_session(before: NaiveDate) -> Session {
    let mut date = before;
    loop {
        date = date
            .pred_opt()
            .unwrap_or_else(|| panic!("no session can precede {before}: start of the date range"));
        if let Some(s) = session(date) {
            return s;
        }
    }
}

/// The sessions from `from` to `to`, both inclusive, in date order; empty when `from > to`.
pub fn sessions_between(from: NaiveDate, to: NaiveDate) -> Vec<Session> {
    from.iter_days()
        .take_while(|date| *date <= to)
        .filter_map(session)
        .collect()
}

/// The New York calendar date of an instant.
pub fn ny_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&NEW_YORK).date_naive()
}

/// The phase of the trading day at `instant`.
pub fn phase(instant: DateTime<Utc>) -> Phase {
    let Some(s) = session(ny_date(instant)) else {
        return Phase::Closed;
    };
    if instant < s.pre_market_open() {
        Phase::Closed
    } else if instant < s.open {
        Phase::PreMarket
    } else if instant < s.close {
        Phase::Regular
    } else if instant < s.after_hours_close() {
        Phase::AfterHours
    } else {
        Phase::Closed
    }
}

/// The UTC instant of a New York wall-clock time on a New York date. On the autumn
/// repeated hour the earlier instant is taken; a time inside the spring-forward gap
/// (02:00–03:00, never a session time) is read with the offset in force just before it.
pub fn ny_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match NEW_YORK.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            let before = local - Duration::hours(3);
            let offset = NEW_YORK.offset_from_utc_datetime(&before).fix();
            Utc.from_utc_datetime(&(local - Duration::seconds(offset.local_minus_utc().into())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn closed(date: &str) -> bool {
        !is_trading_day(d(date))
    }

    fn early(date: &str) -> bool {
        session(d(date)).is_some_and(|s| s.early_close)
    }

    #[test]
    fn a_normal_winter_day_opens_1430z_and_closes_2100z() {
        let s = session(d("2026-01-13")).unwrap();
        assert_eq!(s.open, utc("2026-01-13T14:30:00Z"));
        assert_eq!(s.close, utc("2026-01-13T21:00:00Z"));
        assert!(!s.early_close);
    }

    #[test]
    fn weekends_have_no_session() {
        assert!(closed("2026-03-07"));
        assert!(closed("2026-03-08"));
        assert!(!closed("2026-03-09"));
    }

    #[test]
    fn the_monday_after_the_spring_dst_change_opens_at_1330z() {
        // DST began Sunday 2026-03-08: Friday is EST, Monday is EDT.
        let friday = session(d("2026-03-06")).unwrap();
        assert_eq!(friday.open, utc("2026-03-06T14:30:00Z"));
        let monday = session(d("2026-03-09")).unwrap();
        assert_eq!(monday.open, utc("2026-03-09T13:30:00Z"));
        assert_eq!(monday.close, utc("2026-03-09T20:00:00Z"));
    }

    #[test]
    fn the_monday_after_the_autumn_dst_change_opens_at_1430z() {
        // DST ended Sunday 2026-11-01: Friday is EDT, Monday is EST.
        let friday = session(d("2026-10-30")).unwrap();
        assert_eq!(friday.open, utc("2026-10-30T13:30:00Z"));
        let monday = session(d("2026-11-02")).unwrap();
        assert_eq!(monday.open, utc("2026-11-02T14:30:00Z"));
        assert_eq!(monday.close, utc("2026-11-02T21:00:00Z"));
    }

    #[test]
    fn every_rule_holiday_of_2025_is_closed_and_the_days_around_are_open() {
        for date in [
            "2025-01-01", // New Year's Day (Wednesday)
            "2025-01-20", // MLK
            "2025-02-17", // Washington's Birthday
            "2025-04-18", // Good Friday
            "2025-05-26", // Memorial Day
            "2025-06-19", // Juneteenth (Thursday)
            "2025-07-04", // Independence Day (Friday)
            "2025-09-01", // Labor Day
            "2025-11-27", // Thanksgiving
            "2025-12-25", // Christmas (Thursday)
        ] {
            assert!(closed(date), "{date} should be a holiday");
            assert!(
                rules::holiday(d(date)).is_some(),
                "{date} has a holiday name"
            );
        }
        assert!(!closed("2025-04-17"));
        assert!(!closed("2025-04-21"), "Easter Monday is a trading day");
    }

    #[test]
    fn good_friday_follows_easter() {
        assert!(closed("2024-03-29"));
        assert!(closed("2026-04-03"));
        assert!(closed("2027-03-26"));
        assert!(!closed("2027-04-02"));
    }

    #[test]
    fn saturday_holidays_close_the_friday_and_sunday_holidays_the_monday() {
        assert!(closed("2026-07-03"), "July 4 2026 is a Saturday");
        assert!(closed("2021-12-24"), "Christmas 2021 is a Saturday");
        assert!(closed("2022-12-26"), "Christmas 2022 is a Sunday");
        assert!(closed("2021-07-05"), "July 4 2021 is a Sunday");
        assert!(closed("2027-06-18"), "Juneteenth 2027 is a Saturday");
        assert!(closed("2022-06-20"), "Juneteenth 2022 is a Sunday");
        assert!(closed("2023-01-02"), "New Year 2023 is a Sunday");
    }

    #[test]
    fn new_year_on_a_saturday_leaves_the_friday_open() {
        for date in ["2004-12-31", "2010-12-31", "2021-12-31", "2027-12-31"] {
            let s = session(d(date)).unwrap();
            assert!(!s.early_close, "{date} is a full day");
        }
    }

    #[test]
    fn juneteenth_is_a_holiday_from_2022_only() {
        assert!(!closed("2021-06-18"));
        assert!(!closed("2020-06-19"));
        assert!(closed("2023-06-19"));
        assert!(closed("2024-06-19"));
    }

    #[test]
    fn the_day_after_thanksgiving_closes_at_1300_new_york() {
        let s = session(d("2026-11-27")).unwrap();
        assert!(s.early_close);
        assert_eq!(s.close, utc("2026-11-27T18:00:00Z"));
        assert_eq!(s.open, utc("2026-11-27T14:30:00Z"));
    }

    #[test]
    fn july_3_closes_early_on_a_weekday_unless_it_is_the_holiday() {
        assert!(early("2025-07-03"), "Thursday");
        assert!(early("2023-07-03"), "Monday");
        assert!(early("2024-07-03"), "Wednesday, from 2013");
        let s = session(d("2024-07-03")).unwrap();
        assert_eq!(s.close, utc("2024-07-03T17:00:00Z"), "13:00 EDT");
        assert!(
            closed("2026-07-03"),
            "a full holiday: observed Independence Day"
        );
        assert!(closed("2020-07-03"));
        assert!(
            !early("2002-07-03"),
            "a Wednesday before 2013 was a full day"
        );
        assert!(
            early("2002-07-05"),
            "the Friday after a Thursday July 4, before 2013"
        );
        assert!(!early("2019-07-05"));
    }

    #[test]
    fn christmas_eve_closes_early_on_monday_to_thursday_only() {
        assert!(early("2024-12-24"));
        assert!(early("2026-12-24"));
        assert!(
            closed("2027-12-24"),
            "observed Christmas, not an early close"
        );
        assert!(!early("2027-12-23"));
        assert!(early("2003-12-26"), "a one-off early close from the table");
    }

    #[test]
    fn special_closures_since_2000_are_closed() {
        for date in [
            "2001-09-11",
            "2001-09-12",
            "2001-09-13",
            "2001-09-14",
            "2004-06-11",
            "2007-01-02",
            "2012-10-29",
            "2012-10-30",
            "2018-12-05",
            "2025-01-09",
        ] {
            assert!(closed(date), "{date}");
            assert!(closure_reason(d(date)).is_some(), "{date} has a reason");
        }
        assert_eq!(
            closure_reason(d("2025-01-09")),
            Some("National day of mourning for President Carter")
        );
        assert_eq!(next_session(d("2001-09-10")).date, d("2001-09-17"));
        assert_eq!(previous_session(d("2012-10-31")).date, d("2012-10-26"));
    }

    #[test]
    fn closure_reasons_name_holidays_and_not_weekends() {
        assert_eq!(closure_reason(d("2026-04-03")), Some("Good Friday"));
        assert_eq!(closure_reason(d("2026-07-03")), Some("Independence Day"));
        assert_eq!(closure_reason(d("2026-07-04")), None, "a Saturday");
        assert_eq!(closure_reason(d("2026-07-06")), None, "a trading day");
    }

    #[test]
    fn next_and_previous_session_skip_weekends_and_holidays_strictly() {
        assert_eq!(next_session(d("2026-07-02")).date, d("2026-07-06"));
        assert_eq!(previous_session(d("2026-07-06")).date, d("2026-07-02"));
        assert_eq!(next_session(d("2026-07-06")).date, d("2026-07-07"));
        assert_eq!(previous_session(d("2026-01-02")).date, d("2025-12-31"));
        assert_eq!(next_session(d("2025-12-31")).date, d("2026-01-02"));
    }

    #[test]
    fn sessions_between_is_inclusive_and_empty_when_reversed() {
        let sessions = sessions_between(d("2026-11-23"), d("2026-11-30"));
        let dates: Vec<_> = sessions.iter().map(|s| s.date).collect();
        assert_eq!(
            dates,
            [
                d("2026-11-23"),
                d("2026-11-24"),
                d("2026-11-25"),
                d("2026-11-27"),
                d("2026-11-30")
            ]
        );
        assert!(sessions[3].early_close);
        assert!(sessions_between(d("2026-11-30"), d("2026-11-23")).is_empty());
        assert_eq!(sessions_between(d("2026-11-27"), d("2026-11-27")).len(), 1);
    }

    #[test]
    fn a_year_has_about_252_sessions() {
        assert_eq!(
            sessions_between(d("2025-01-01"), d("2025-12-31")).len(),
            250
        );
        assert_eq!(
            sessions_between(d("2026-01-01"), d("2026-12-31")).len(),
            251
        );
    }

    /// (year, sessions, early closes) of the NYSE schedule as exchange_calendars' XNYS
    /// lists it; scripts/check_calendar.py compares every day, this keeps the totals pinned.
    #[rustfmt::skip]
    const YEAR_TOTALS: [(i32, usize, usize); 43] = [
        (1993, 253, 1), (1994, 252, 1), (1995, 252, 2), (1996, 254, 3), (1997, 253, 4),
        (1998, 252, 2), (1999, 252, 2), (2000, 252, 2), (2001, 248, 3), (2002, 252, 3),
        (2003, 252, 4), (2004, 252, 1), (2005, 252, 1), (2006, 251, 2), (2007, 251, 3),
        (2008, 253, 3), (2009, 252, 2), (2010, 252, 1), (2011, 252, 1), (2012, 250, 3),
        (2013, 252, 3), (2014, 252, 3), (2015, 252, 2), (2016, 252, 1), (2017, 251, 2),
        (2018, 251, 3), (2019, 252, 3), (2020, 253, 2), (2021, 252, 1), (2022, 251, 1),
        (2023, 250, 2), (2024, 252, 3), (2025, 250, 3), (2026, 251, 2), (2027, 251, 1),
        (2028, 251, 2), (2029, 251, 3), (2030, 251, 3), (2031, 251, 3), (2032, 252, 1),
        (2033, 251, 1), (2034, 250, 2), (2035, 251, 3),
    ];

    #[test]
    fn sessions_and_early_closes_per_year_match_the_nyse_schedule() {
        assert_eq!(YEAR_TOTALS.len(), VERIFIED_YEARS.count());
        for (year, sessions, early_closes) in YEAR_TOTALS {
            let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
            let all = sessions_between(first, last);
            let early = all.iter().filter(|s| s.early_close).count();
            assert_eq!((all.len(), early), (sessions, early_closes), "{year}");
        }
    }

    #[test]
    fn ny_date_rolls_over_at_new_york_midnight() {
        assert_eq!(ny_date(utc("2026-01-14T04:59:59Z")), d("2026-01-13"));
        assert_eq!(ny_date(utc("2026-01-14T05:00:00Z")), d("2026-01-14"));
        assert_eq!(ny_date(utc("2026-07-14T03:59:59Z")), d("2026-07-13"));
        assert_eq!(ny_date(utc("2026-07-14T04:00:00Z")), d("2026-07-14"));
    }

    #[test]
    fn phases_of_a_summer_day() {
        let at = |t: &str| phase(utc(t));
        assert_eq!(at("2026-07-14T07:59:59Z"), Phase::Closed);
        assert_eq!(at("2026-07-14T08:00:00Z"), Phase::PreMarket, "04:00 EDT");
        assert_eq!(at("2026-07-14T13:29:59Z"), Phase::PreMarket);
        assert_eq!(at("2026-07-14T13:30:00Z"), Phase::Regular, "09:30 EDT");
        assert_eq!(at("2026-07-14T19:59:59Z"), Phase::Regular);
        assert_eq!(at("2026-07-14T20:00:00Z"), Phase::AfterHours, "16:00 EDT");
        assert_eq!(at("2026-07-14T23:59:59Z"), Phase::AfterHours);
        assert_eq!(at("2026-07-15T00:00:00Z"), Phase::Closed, "20:00 EDT");
    }

    #[test]
    fn phases_of_an_early_close_day_and_a_holiday() {
        let at = |t: &str| phase(utc(t));
        assert_eq!(at("2026-11-27T17:59:59Z"), Phase::Regular);
        assert_eq!(at("2026-11-27T18:00:00Z"), Phase::AfterHours, "13:00 EST");
        assert_eq!(at("2026-11-27T21:59:59Z"), Phase::AfterHours);
        assert_eq!(at("2026-11-27T22:00:00Z"), Phase::Closed, "17:00 EST");
        assert_eq!(at("2026-11-26T15:00:00Z"), Phase::Closed, "Thanksgiving");
        assert_eq!(at("2026-11-28T15:00:00Z"), Phase::Closed, "Saturday");
        assert_eq!(
            at("2025-01-09T15:00:00Z"),
            Phase::Closed,
            "Carter mourning day"
        );
    }

    #[test]
    fn session_contains_its_open_but_not_its_close() {
        let s = session(d("2026-11-27")).unwrap();
        assert!(s.contains(s.open));
        assert!(!s.contains(s.close));
        assert_eq!(s.pre_market_open(), utc("2026-11-27T09:00:00Z"));
        assert_eq!(s.after_hours_close(), utc("2026-11-27T22:00:00Z"));
    }

    #[test]
    fn wall_times_in_the_dst_gap_and_overlap_do_not_panic() {
        // 02:30 does not exist on 2026-03-08; 01:30 happens twice on 2026-11-01.
        assert_eq!(
            ny_instant(d("2026-03-08"), hm(2, 30)),
            utc("2026-03-08T07:30:00Z")
        );
        assert_eq!(
            ny_instant(d("2026-11-01"), hm(1, 30)),
            utc("2026-11-01T05:30:00Z")
        );
    }
}
