//! Placing bar instants in the trading day, fast.
//!
//! Converting every bar's UTC instant to New York time would cost a time-zone lookup per
//! bar; instead the clock keeps the current New York day's UTC bounds and session times
//! and only consults the calendar when a bar falls outside them (once per day).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::calendar::{self, Session};

/// Where a bar starting at some instant falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarPlace {
    /// No session that day, or before 04:00 New York.
    Closed,
    /// 04:00 New York until the open.
    PreMarket,
    /// Inside the regular session, `minute` minutes after the open (0 = the 09:30 bar).
    Regular { minute: u32 },
    /// After the (possibly early) close.
    AfterHours,
}

/// One New York calendar day: its UTC bounds and its session, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradingDay {
    pub date: NaiveDate,
    /// New York midnight starting the day, UTC (seconds since the epoch).
    start: i64,
    /// New York midnight ending the day, UTC (seconds since the epoch).
    end: i64,
    pub session: Option<Session>,
    pre_market_open: i64,
    open: i64,
    close: i64,
}

impl TradingDay {
    /// The day of `date` in New York.
    pub fn of(date: NaiveDate) -> TradingDay {
        let start = calendar::ny_instant(date, NaiveTime::MIN).timestamp();
        let end = date
            .succ_opt()
            .map(|next| calendar::ny_instant(next, NaiveTime::MIN).timestamp())
            .unwrap_or(i64::MAX);
        let session = calendar::session(date);
        let (pre_market_open, open, close) = match &session {
            Some(s) => (
                s.pre_market_open().timestamp(),
                s.open.timestamp(),
                s.close.timestamp(),
            ),
            None => (i64::MAX, i64::MAX, i64::MAX),
        };
        TradingDay {
            date,
            start,
            end,
            session,
            pre_market_open,
            open,
            close,
        }
    }

    fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    /// Where an instant of this day falls.
    fn place(&self, t: i64) -> BarPlace {
        if t < self.pre_market_open {
            BarPlace::Closed
        } else if t < self.open {
            BarPlace::PreMarket
        } else if t < self.close {
            BarPlace::Regular {
                minute: ((t - self.open) / 60) as u32,
            }
        } else {
            BarPlace::AfterHours
        }
    }

    /// Length of the regular session in minutes (390, or 210 on a 13:00 close).
    pub fn session_minutes(&self) -> u32 {
        if self.session.is_some() {
            ((self.close - self.open) / 60) as u32
        } else {
            0
        }
    }

    /// The UTC instant `minutes` after the open.
    pub fn after_open(&self, minutes: i64) -> Option<DateTime<Utc>> {
        self.session.map(|s| s.open + Duration::minutes(minutes))
    }
}

/// Caches the current New York day; `place` is O(1) while bars stay within it.
#[derive(Clone, Debug, Default)]
pub struct SessionClock {
    day: Option<TradingDay>,
}

/// Instants the calendar can place (years 1900–2200); others are ignored as bad data.
fn plausible(instant: DateTime<Utc>) -> bool {
    let t = instant.timestamp();
    (-2_208_988_800..7_258_118_400).contains(&t)
}

impl SessionClock {
    /// The day of `instant` and where it falls in it. `None` for instants outside the
    /// years 1900–2200.
    pub fn place(&mut self, instant: DateTime<Utc>) -> Option<(TradingDay, BarPlace)> {
        let t = instant.timestamp();
        match self.day {
            Some(day) if day.contains(t) => Some((day, day.place(t))),
            _ => {
                if !plausible(instant) {
                    return None;
                }
                let day = TradingDay::of(calendar::ny_date(instant));
                self.day = Some(day);
                Some((day, day.place(t)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn bars_are_placed_in_new_york_sessions_across_dst() {
        let mut clock = SessionClock::default();
        // 2024-03-08 (EST): 09:30 = 14:30 UTC
        let (day, place) = clock.place(utc(2024, 3, 8, 14, 30)).unwrap();
        assert_eq!(day.date, NaiveDate::from_ymd_opt(2024, 3, 8).unwrap());
        assert_eq!(place, BarPlace::Regular { minute: 0 });
        assert_eq!(
            clock.place(utc(2024, 3, 8, 14, 29)).unwrap().1,
            BarPlace::PreMarket
        );
        assert_eq!(
            clock.place(utc(2024, 3, 8, 20, 59)).unwrap().1,
            BarPlace::Regular { minute: 389 }
        );
        assert_eq!(
            clock.place(utc(2024, 3, 8, 21, 0)).unwrap().1,
            BarPlace::AfterHours
        );
        // 2024-03-11 (EDT after the switch): 09:30 = 13:30 UTC
        assert_eq!(
            clock.place(utc(2024, 3, 11, 13, 30)).unwrap().1,
            BarPlace::Regular { minute: 0 }
        );
        assert_eq!(
            clock.place(utc(2024, 3, 11, 8, 0)).unwrap().1,
            BarPlace::PreMarket
        );
        assert_eq!(
            clock.place(utc(2024, 3, 11, 7, 59)).unwrap().1,
            BarPlace::Closed
        );
    }

    #[test]
    fn early_closes_and_holidays_are_respected() {
        let mut clock = SessionClock::default();
        // 2024-11-29 closes 13:00 EST = 18:00 UTC
        let (day, place) = clock.place(utc(2024, 11, 29, 17, 59)).unwrap();
        assert_eq!(place, BarPlace::Regular { minute: 209 });
        assert_eq!(day.session_minutes(), 210);
        assert_eq!(
            clock.place(utc(2024, 11, 29, 18, 0)).unwrap().1,
            BarPlace::AfterHours
        );
        // Thanksgiving 2024-11-28: closed all day
        assert_eq!(
            clock.place(utc(2024, 11, 28, 15, 0)).unwrap().1,
            BarPlace::Closed
        );
        // a Saturday
        assert_eq!(
            clock.place(utc(2024, 11, 30, 15, 0)).unwrap().1,
            BarPlace::Closed
        );
    }

    #[test]
    fn absurd_instants_are_not_placed() {
        let mut clock = SessionClock::default();
        assert!(clock.place(utc(3000, 1, 1, 0, 0)).is_none());
    }
}
