//! When a brief is due (SPEC 8): once per trading day at or after the configured New
//! York time (07:00 by default), fresh for 30 minutes. Pure: the caller passes the clock.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::market::calendar;

/// The brief's timing rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// New York wall-clock time from which the day's brief is generated.
    pub at: NaiveTime,
    /// How long a stored brief is shown without being rebuilt.
    pub fresh_for: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            at: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            fresh_for: Duration::minutes(30),
        }
    }
}

impl Schedule {
    /// The market date whose brief is due at `now`: the New York date, when it is a
    /// trading day (early closes included) and the New York time is at or after `at`.
    /// `None` on weekends, holidays and before `at`.
    pub fn due_date(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        let date = calendar::ny_date(now);
        (calendar::is_trading_day(date) && now >= calendar::ny_instant(date, self.at))
            .then_some(date)
    }

    /// The next instant a brief becomes due after `now` (for "next brief at …").
    pub fn next_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = calendar::ny_date(now);
        let at_today = calendar::ny_instant(today, self.at);
        if calendar::is_trading_day(today) && now < at_today {
            return at_today;
        }
        calendar::ny_instant(calendar::next_session(today).date, self.at)
    }

    /// A brief generated at `generated_at` is still shown as is at `now`.
    pub fn is_fresh(&self, generated_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now >= generated_at && now - generated_at < self.fresh_for
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::calendar::NEW_YORK;
    use chrono::TimeZone;

    fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        NEW_YORK
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn due_from_seven_new_york_on_a_trading_day_not_a_minute_before() {
        let s = Schedule::default();
        assert_eq!(s.due_date(ny(2026, 11, 24, 6, 59)), None);
        assert_eq!(s.due_date(ny(2026, 11, 24, 7, 0)), Some(date(2026, 11, 24)));
        assert_eq!(
            s.due_date(ny(2026, 11, 24, 23, 59)),
            Some(date(2026, 11, 24))
        );
        assert_eq!(s.next_due(ny(2026, 11, 24, 6, 59)), ny(2026, 11, 24, 7, 0));
    }

    #[test]
    fn never_due_on_weekends_and_holidays_and_due_on_early_closes() {
        let s = Schedule::default();
        // Sat, Sun
        assert_eq!(s.due_date(ny(2026, 11, 28, 9, 0)), None);
        assert_eq!(s.due_date(ny(2026, 11, 29, 9, 0)), None);
        // Thanksgiving, and Independence Day observed on Friday 2026-07-03
        assert_eq!(s.due_date(ny(2026, 11, 26, 9, 0)), None);
        assert_eq!(s.due_date(ny(2026, 7, 3, 9, 0)), None);
        // the day after Thanksgiving closes at 13:00 and still gets its brief
        assert_eq!(s.due_date(ny(2026, 11, 27, 7, 0)), Some(date(2026, 11, 27)));
        // Wednesday before Thanksgiving after 07:00: next due is Friday 07:00
        assert_eq!(s.next_due(ny(2026, 11, 25, 8, 0)), ny(2026, 11, 27, 7, 0));
        // Friday evening: next due is Monday 07:00
        assert_eq!(s.next_due(ny(2026, 11, 27, 18, 0)), ny(2026, 11, 30, 7, 0));
    }

    #[test]
    fn the_mondays_after_daylight_saving_changes_use_new_york_time() {
        let s = Schedule::default();
        // DST began Sun 2026-03-08: Monday 07:00 EDT is 11:00 UTC
        assert_eq!(
            s.due_date(Utc.with_ymd_and_hms(2026, 3, 9, 10, 59, 0).unwrap()),
            None
        );
        assert_eq!(
            s.due_date(Utc.with_ymd_and_hms(2026, 3, 9, 11, 0, 0).unwrap()),
            Some(date(2026, 3, 9))
        );
        // DST ended Sun 2026-11-01: Monday 07:00 EST is 12:00 UTC
        assert_eq!(
            s.due_date(Utc.with_ymd_and_hms(2026, 11, 2, 11, 59, 0).unwrap()),
            None
        );
        assert_eq!(
            s.due_date(Utc.with_ymd_and_hms(2026, 11, 2, 12, 0, 0).unwrap()),
            Some(date(2026, 11, 2))
        );
        assert_eq!(
            s.next_due(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
            Utc.with_ymd_and_hms(2026, 11, 2, 12, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_configured_time_moves_the_boundary() {
        let s = Schedule {
            at: NaiveTime::from_hms_opt(8, 15, 0).unwrap(),
            ..Schedule::default()
        };
        assert_eq!(s.due_date(ny(2026, 11, 24, 8, 14)), None);
        assert_eq!(
            s.due_date(ny(2026, 11, 24, 8, 15)),
            Some(date(2026, 11, 24))
        );
    }

    #[test]
    fn fresh_for_thirty_minutes_then_stale() {
        let s = Schedule::default();
        let made = ny(2026, 11, 24, 7, 0);
        assert!(s.is_fresh(made, made));
        assert!(s.is_fresh(made, ny(2026, 11, 24, 7, 29)));
        assert!(!s.is_fresh(made, ny(2026, 11, 24, 7, 30)));
        // a brief from the future (clock skew between two servers) is not trusted as fresh
        assert!(!s.is_fresh(made, ny(2026, 11, 24, 6, 59)));
    }
}
