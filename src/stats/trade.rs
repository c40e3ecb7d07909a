//! One backtested detection (SPEC 18, per trade): the detection's fields, what the
//! section 5 lifecycle made of it, and the keys it is grouped by.
//!
//! Conventions: prices in the instrument's quote currency, slippage already applied to
//! `fill_price` and `exit_price`; R in multiples of the plan's risk |entry − stop|;
//! instants UTC; hour buckets in New York time.

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use crate::domain::Detection;
use crate::gex::profile::Regime;
use crate::market::calendar::NEW_YORK;

/// How a backtested detection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeOutcome {
    /// The stop traded before the entry.
    Invalidated,
    /// Still waiting for its entry at the session close.
    Expired,
    TargetHit,
    StoppedOut,
    /// Filled and still open at the session close: closed at the last regular bar's close.
    TimeExit,
}

impl TradeOutcome {
    pub const ALL: [TradeOutcome; 5] = [
        TradeOutcome::Invalidated,
        TradeOutcome::Expired,
        TradeOutcome::TargetHit,
        TradeOutcome::StoppedOut,
        TradeOutcome::TimeExit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TradeOutcome::Invalidated => "invalidated",
            TradeOutcome::Expired => "expired",
            TradeOutcome::TargetHit => "target_hit",
            TradeOutcome::StoppedOut => "stopped_out",
            TradeOutcome::TimeExit => "time_exit",
        }
    }

    /// Filled: target hit, stopped out or closed at the session close.
    pub fn is_triggered(self) -> bool {
        matches!(
            self,
            TradeOutcome::TargetHit | TradeOutcome::StoppedOut | TradeOutcome::TimeExit
        )
    }
}

impl fmt::Display for TradeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of the regular session a detection's signal bar falls in (New York time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum HourBucket {
    #[serde(rename = "09:30-10:00")]
    Open,
    #[serde(rename = "10:00-11:00")]
    Morning,
    #[serde(rename = "11:00-13:00")]
    Midday,
    #[serde(rename = "13:00-15:00")]
    Afternoon,
    #[serde(rename = "15:00-16:00")]
    LastHour,
}

impl HourBucket {
    pub const ALL: [HourBucket; 5] = [
        HourBucket::Open,
        HourBucket::Morning,
        HourBucket::Midday,
        HourBucket::Afternoon,
        HourBucket::LastHour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HourBucket::Open => "09:30-10:00",
            HourBucket::Morning => "10:00-11:00",
            HourBucket::Midday => "11:00-13:00",
            HourBucket::Afternoon => "13:00-15:00",
            HourBucket::LastHour => "15:00-16:00",
        }
    }

    /// The bucket of a bar starting at `bar_start`; `None` outside 09:30–16:00 ET.
    pub fn of(bar_start: DateTime<Utc>) -> Option<HourBucket> {
        let t = bar_start.with_timezone(&NEW_YORK).time();
        let minutes = t.hour() * 60 + t.minute();
        let at = |h: u32, m: u32| h * 60 + m;
        match minutes {
            m if m < at(9, 30) => None,
            m if m < at(10, 0) => Some(HourBucket::Open),
            m if m < at(11, 0) => Some(HourBucket::Morning),
            m if m < at(13, 0) => Some(HourBucket::Midday),
            m if m < at(15, 0) => Some(HourBucket::Afternoon),
            m if m < at(16, 0) => Some(HourBucket::LastHour),
            _ => None,
        }
    }
}

impl fmt::Display for HourBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A confidence score's decile as SPEC 18 names it: 0–9 → "0-10", 65 → "60-70", and
/// 90–100 → "90-100" (100 is the top decile's upper bound, not a decile of its own).
pub fn confidence_decile(confidence: u8) -> String {
    let lo = (u32::from(confidence.min(99)) / 10) * 10;
    format!("{lo}-{}", lo + 10)
}

/// One backtested detection. Fields that do not apply are `None` (JSON `null`): fill,
/// exit, R, MFE/MAE and bars held for a detection that never filled; the regime and its
/// distances when no GEX profile was known at detection time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TradeRecord {
    #[serde(flatten)]
    pub detection: Detection,
    pub outcome: TradeOutcome,
    /// Where the trade was filled, slippage included (long: the transition's price + P).
    pub fill_price: Option<f64>,
    /// The end of the bar that filled it.
    pub fill_time: Option<DateTime<Utc>>,
    /// Where the trade was closed, slippage included (long: the transition's price − P).
    pub exit_price: Option<f64>,
    /// The end of the bar that closed it (the session's last regular bar for a time exit).
    pub exit_time: Option<DateTime<Utc>>,
    /// When the outcome was decided: the exit, the invalidating bar's end, or the end of
    /// the session's last regular bar for an expiry.
    pub resolved_at: DateTime<Utc>,
    /// Realised R between the slipped fill and exit prices.
    pub r: Option<f64>,
    /// Maximum favourable excursion from the fill, in R, ≥ 0: the best bar extreme of the
    /// bars after the fill bar through the exit bar (or the exit price, when better).
    pub mfe_r: Option<f64>,
    /// Maximum adverse excursion from the fill, in R, as a positive number (≥ 0): the
    /// worst bar extreme over the same bars (or the exit price, when worse).
    pub mae_r: Option<f64>,
    /// Minute bars from the fill bar to the exit bar (0: closed on the bar that filled it).
    pub bars_held: Option<u32>,
    /// The hour bucket of the signal bar (`bar_time`), New York time.
    pub hour: Option<HourBucket>,
    /// The detection's confidence decile ("60-70").
    pub confidence_decile: String,
    /// The gamma regime of the symbol at detection time, when a GEX profile was known
    /// (the detection's `gex` payload, which also holds the distances in percent).
    pub regime: Option<Regime>,
    /// Signed distance to the zero-gamma level, `level − signal bar's close`, in price
    /// units (positive: the level is above), when known.
    pub zero_gamma_distance: Option<f64>,
    /// Signed distance to the nearest gamma wall, `wall − signal bar's close`, in price
    /// units, when known.
    pub wall_distance: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn ny(h: u32, m: u32) -> DateTime<Utc> {
        crate::market::calendar::ny_instant(
            chrono::NaiveDate::from_ymd_opt(2013, 10, 4).unwrap(),
            NaiveTime::from_hms_opt(h, m, 0).unwrap(),
        )
    }

    #[test]
    fn hour_buckets_split_the_session_at_ten_eleven_one_and_three_new_york_time() {
        assert_eq!(HourBucket::of(ny(9, 29)), None);
        assert_eq!(HourBucket::of(ny(9, 30)), Some(HourBucket::Open));
        assert_eq!(HourBucket::of(ny(9, 59)), Some(HourBucket::Open));
        assert_eq!(HourBucket::of(ny(10, 0)), Some(HourBucket::Morning));
        assert_eq!(HourBucket::of(ny(12, 59)), Some(HourBucket::Midday));
        assert_eq!(HourBucket::of(ny(13, 0)), Some(HourBucket::Afternoon));
        assert_eq!(HourBucket::of(ny(15, 0)), Some(HourBucket::LastHour));
        assert_eq!(HourBucket::of(ny(15, 59)), Some(HourBucket::LastHour));
        assert_eq!(HourBucket::of(ny(16, 0)), None);
        assert_eq!(
            serde_json::to_string(&HourBucket::Midday).unwrap(),
            "\"11:00-13:00\""
        );
    }

    #[test]
    fn confidence_deciles_are_named_by_their_bounds_and_100_is_in_the_top_one() {
        assert_eq!(confidence_decile(0), "0-10");
        assert_eq!(confidence_decile(65), "60-70");
        assert_eq!(confidence_decile(70), "70-80");
        assert_eq!(confidence_decile(99), "90-100");
        assert_eq!(confidence_decile(100), "90-100");
    }
}
