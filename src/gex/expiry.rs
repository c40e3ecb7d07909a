//! When an option stops existing, and how much time it has left (SPEC 7).
//!
//! Expiry instants are New York wall-clock times (chrono-tz, so DST is handled):
//! 16:00 for PM-settled contracts, 09:30 (the opening print) for the AM-settled monthly
//! index roots `SPX`, `NDX`, `RUT`, `DJX`. Their weekly/PM roots (`SPXW`, `NDXP`, `RUTW`, ...)
//! and every equity or ETF root are PM-settled. Time to expiry is calendar time: seconds
//! from the snapshot to the expiry instant / (365·86400).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;

/// Seconds in the 365-day year used for T.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// How a contract settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// Settles on the opening print: the contract's life ends at 09:30 New York.
    AmOpen,
    /// Settles on the close: the contract's life ends at 16:00 New York.
    PmClose,
}

/// AM-settled monthly index roots.
const AM_SETTLED_ROOTS: [&str; 4] = ["SPX", "NDX", "RUT", "DJX"];

/// Settlement style of an OCC root.
pub fn settlement(root: &str) -> Settlement {
    if AM_SETTLED_ROOTS.contains(&root) {
        Settlement::AmOpen
    } else {
        Settlement::PmClose
    }
}

/// The instant (UTC) at which a contract of `root` listed to expire on `expiry` stops
/// trading or settles. A Saturday expiry date (standard monthlies listed before 2015) means
/// the preceding Friday.
pub fn expiry_instant(root: &str, expiry: NaiveDate) -> DateTime<Utc> {
    let day = if expiry.weekday() == Weekday::Sat {
        expiry - Duration::days(1)
    } else {
        expiry
    };
    let (hour, minute) = match settlement(root) {
        Settlement::AmOpen => (9, 30),
        Settlement::PmClose => (16, 0),
    };
    let local = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
    match New_York.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // 09:30 and 16:00 are never inside a DST gap (those are at 02:00); kept total anyway.
        None => Utc.from_utc_datetime(&(local + Duration::hours(5))),
    }
}

/// Calendar years from `from` to `to` (negative when `to` is earlier).
pub fn years_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let span = to.signed_duration_since(from);
    let seconds = span.num_seconds() as f64 + f64::from(span.subsec_nanos()) * 1e-9;
    seconds / SECONDS_PER_YEAR
}

/// The New York calendar date of an instant (what "today" means for 0DTE and DTE).
pub fn new_york_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&New_York).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn spx_monthly_expires_at_the_open_and_spxw_at_the_close() {
        // 2025-01-17, third Friday, EST (UTC−5).
        assert_eq!(
            expiry_instant("SPX", date(2025, 1, 17)),
            utc("2025-01-17T14:30:00Z")
        );
        assert_eq!(
            expiry_instant("SPXW", date(2025, 1, 17)),
            utc("2025-01-17T21:00:00Z")
        );
        // 2025-03-21, third Friday after the March 9 DST change, EDT (UTC−4).
        assert_eq!(
            expiry_instant("SPX", date(2025, 3, 21)),
            utc("2025-03-21T13:30:00Z")
        );
        assert_eq!(
            expiry_instant("SPXW", date(2025, 3, 21)),
            utc("2025-03-21T20:00:00Z")
        );
        for root in ["NDX", "RUT", "DJX"] {
            assert_eq!(settlement(root), Settlement::AmOpen, "{root}");
        }
        for root in ["SPXW", "NDXP", "RUTW", "SPY", "QQQ", "AAPL", "XSP"] {
            assert_eq!(settlement(root), Settlement::PmClose, "{root}");
        }
    }

    #[test]
    fn weeklies_either_side_of_the_november_dst_change() {
        // Clocks fall back on 2025-11-02: Friday Oct 31 is EDT, Monday Nov 3 is EST.
        assert_eq!(
            expiry_instant("SPXW", date(2025, 10, 31)),
            utc("2025-10-31T20:00:00Z")
        );
        assert_eq!(
            expiry_instant("SPXW", date(2025, 11, 3)),
            utc("2025-11-03T21:00:00Z")
        );
    }

    #[test]
    fn time_to_expiry_counts_real_seconds_across_a_dst_change() {
        // Friday 2025-03-07 16:00 EST to Monday 2025-03-10 16:00 EDT: 3 days less one hour.
        let from = utc("2025-03-07T21:00:00Z");
        let to = expiry_instant("SPY", date(2025, 3, 10));
        let years = years_between(from, to);
        assert!((years - (3.0 * 86_400.0 - 3_600.0) / SECONDS_PER_YEAR).abs() < 1e-15);
        assert!(years_between(to, from) < 0.0);
    }

    #[test]
    fn a_saturday_listing_expires_on_the_friday() {
        // Standard monthlies before 2015 carried the Saturday after the third Friday.
        assert_eq!(
            expiry_instant("SPY", date(2013, 1, 19)),
            utc("2013-01-18T21:00:00Z")
        );
        assert_eq!(
            expiry_instant("SPX", date(2013, 1, 19)),
            utc("2013-01-18T14:30:00Z")
        );
    }

    #[test]
    fn the_new_york_date_rolls_over_at_local_midnight() {
        assert_eq!(
            new_york_date(utc("2025-09-26T01:05:00Z")),
            date(2025, 9, 25)
        );
        assert_eq!(
            new_york_date(utc("2025-09-26T04:00:00Z")),
            date(2025, 9, 26)
        );
    }
}
