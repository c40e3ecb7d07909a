//! Snoozing an alert's or a setup's notifications (SPEC 20), pure: `z` offers 15
//! minutes, an hour, or the rest of the session; until then nothing about it goes to a
//! channel or the desktop (the screen still shows it). Instants are UTC wall-clock time;
//! "the rest of the session" ends at today's close (an early close included), or, after
//! the close or on a day without a session, at the next session's close.

use chrono::{DateTime, Duration, Utc};

use super::{AlertKind, TradingAlert};
use crate::market::calendar;

/// What a snooze silences: a price alert or a setup (by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnoozeTarget {
    Alert(i64),
    Setup(i64),
}

impl SnoozeTarget {
    /// The stored `target` column.
    pub fn kind(self) -> &'static str {
        match self {
            SnoozeTarget::Alert(_) => "alert",
            SnoozeTarget::Setup(_) => "setup",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            SnoozeTarget::Alert(id) | SnoozeTarget::Setup(id) => id,
        }
    }

    /// What a trading alert is about: its price alert, or its setup (a watchlist
    /// detection's id for `Detected`).
    pub fn of(alert: &TradingAlert) -> SnoozeTarget {
        match alert.kind {
            AlertKind::PriceAlert => SnoozeTarget::Alert(alert.setup_id),
            _ => SnoozeTarget::Setup(alert.setup_id),
        }
    }
}

impl std::fmt::Display for SnoozeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// How long `z` snoozes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnoozeFor {
    Minutes15,
    Hour,
    RestOfSession,
}

impl SnoozeFor {
    pub const ALL: [SnoozeFor; 3] = [
        SnoozeFor::Minutes15,
        SnoozeFor::Hour,
        SnoozeFor::RestOfSession,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SnoozeFor::Minutes15 => "15 min",
            SnoozeFor::Hour => "1 h",
            SnoozeFor::RestOfSession => "rest of session",
        }
    }

    /// When a snooze chosen at `now` ends.
    pub fn until(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            SnoozeFor::Minutes15 => now + Duration::minutes(15),
            SnoozeFor::Hour => now + Duration::hours(1),
            SnoozeFor::RestOfSession => {
                let today = calendar::ny_date(now);
                match calendar::session(today) {
                    Some(s) if now < s.close => s.close,
                    _ => calendar::next_session(today).close,
                }
            }
        }
    }
}

/// Whether a snooze that ends at `until` still holds at `now` (it ends at `until`
/// exactly).
pub fn is_snoozed(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    until.is_some_and(|u| now < u)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Symbol;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn a_snooze_holds_until_its_end_and_not_at_it() {
        let now = utc(2026, 12, 7, 15, 0);
        let until = SnoozeFor::Minutes15.until(now);
        assert_eq!(until, utc(2026, 12, 7, 15, 15));
        assert!(is_snoozed(Some(until), now));
        assert!(is_snoozed(Some(until), utc(2026, 12, 7, 15, 14)));
        assert!(!is_snoozed(Some(until), until), "over at its end");
        assert!(!is_snoozed(None, now));
        assert_eq!(SnoozeFor::Hour.until(now), utc(2026, 12, 7, 16, 0));
    }

    #[test]
    fn the_rest_of_the_session_ends_at_the_close_early_closes_and_holidays_included() {
        // Monday 7 December 2026, 10:00 EST: the close is 16:00 EST, 21:00 UTC.
        assert_eq!(
            SnoozeFor::RestOfSession.until(utc(2026, 12, 7, 15, 0)),
            utc(2026, 12, 7, 21, 0)
        );
        // Friday 27 November 2026, the day after Thanksgiving, closes at 13:00 EST.
        assert_eq!(
            SnoozeFor::RestOfSession.until(utc(2026, 11, 27, 15, 0)),
            utc(2026, 11, 27, 18, 0)
        );
        // After Thursday 24 December's early close (13:00): Christmas is closed, so the
        // next session is Monday 28 December, closing 16:00 EST.
        assert_eq!(
            SnoozeFor::RestOfSession.until(utc(2026, 12, 24, 19, 0)),
            utc(2026, 12, 28, 21, 0)
        );
        // In summer (EDT) the close is 20:00 UTC; at the close exactly the next one counts.
        assert_eq!(
            SnoozeFor::RestOfSession.until(utc(2026, 7, 8, 20, 0)),
            utc(2026, 7, 9, 20, 0)
        );
    }

    #[test]
    fn a_price_alert_snoozes_by_its_alert_and_the_rest_by_their_setup() {
        let alert = |kind| TradingAlert {
            kind,
            symbol: Symbol::parse("SPY").unwrap(),
            setup_id: 9,
            text: String::new(),
        };
        assert_eq!(
            SnoozeTarget::of(&alert(AlertKind::PriceAlert)),
            SnoozeTarget::Alert(9)
        );
        assert_eq!(
            SnoozeTarget::of(&alert(AlertKind::StoppedOut)),
            SnoozeTarget::Setup(9)
        );
        assert_eq!(SnoozeTarget::Setup(9).to_string(), "setup 9");
    }
}
