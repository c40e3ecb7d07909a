//! Which channels an alert goes to (SPEC 20), pure: a channel receives the kinds its
//! list names (every kind when the list is empty), nothing during quiet hours (New York
//! wall-clock time, so DST moves them with the market), and nothing for a snoozed alert
//! or setup. The screen always shows.

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;

use super::AlertKind;
use crate::config::channels::QuietHours;

/// Whether a channel whose kind list is `kinds` receives `kind`.
pub fn wants(kinds: &[String], kind: AlertKind) -> bool {
    kinds.is_empty() || kinds.iter().any(|k| k == kind.key())
}

/// Whether the instant `at` falls inside the quiet hours (none: never).
pub fn is_quiet(quiet: Option<QuietHours>, at: DateTime<Utc>) -> bool {
    quiet.is_some_and(|q| q.contains(at.with_timezone(&New_York).time()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn an_empty_kind_list_takes_every_kind_and_a_list_only_its_own() {
        assert!(wants(&[], AlertKind::Detected));
        let only = vec!["price_alert".to_string(), "stopped_out".to_string()];
        assert!(wants(&only, AlertKind::PriceAlert));
        assert!(wants(&only, AlertKind::StoppedOut));
        assert!(!wants(&only, AlertKind::TargetHit));
    }

    #[test]
    fn quiet_hours_are_new_york_time_on_both_sides_of_the_dst_change() {
        let lunch = QuietHours::parse("12:00-13:00").unwrap();
        // Friday 2026-10-30 (EDT, UTC-4): New York noon is 16:00 UTC.
        assert!(is_quiet(lunch, utc(2026, 10, 30, 16, 0)));
        assert!(!is_quiet(lunch, utc(2026, 10, 30, 17, 0)));
        // Monday 2026-11-02 (EST after 1 November, UTC-5): noon is 17:00 UTC.
        assert!(!is_quiet(lunch, utc(2026, 11, 2, 16, 30)));
        assert!(is_quiet(lunch, utc(2026, 11, 2, 17, 59)));
        assert!(!is_quiet(lunch, utc(2026, 11, 2, 18, 0)));
        assert!(!is_quiet(None, utc(2026, 11, 2, 17, 30)));
    }

    #[test]
    fn overnight_quiet_hours_cross_midnight_and_the_spring_forward_gap() {
        let night = QuietHours::parse("22:00-06:00").unwrap();
        // 2026-03-08 02:00 EST jumps to 03:00 EDT; 06:30 UTC is 01:30 EST, 07:30 UTC
        // is 03:30 EDT: both quiet; 10:00 UTC is 06:00 EDT: loud again.
        assert!(is_quiet(night, utc(2026, 3, 8, 6, 30)));
        assert!(is_quiet(night, utc(2026, 3, 8, 7, 30)));
        assert!(is_quiet(night, utc(2026, 3, 8, 9, 59)));
        assert!(!is_quiet(night, utc(2026, 3, 8, 10, 0)));
        // 02:59 UTC on 9 March is 22:59 EDT the evening before.
        assert!(is_quiet(night, utc(2026, 3, 9, 2, 59)));
        assert!(!is_quiet(night, utc(2026, 3, 9, 1, 59)), "21:59 EDT");
    }
}
