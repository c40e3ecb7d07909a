//! A symbol's GEX profile through the day (SPEC 20): one [`GexPoint`] per refresh, kept 30
//! New York days. Pure: the refresher stores points, the pane draws sparklines of them, the
//! Chart draws zero gamma as the step line it was, and `coach gex history` prints them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::GexProfile;

/// How many New York days of history are kept: points dated before `today − KEEP_DAYS`
/// are pruned.
pub const KEEP_DAYS: i64 = 30;

/// One refresh of a symbol's all-expirations profile. Prices in the instrument's units,
/// GEX in dollars per 1 % move (SPEC 7), the 0DTE share in [0, 1]. The JSON form is
/// `coach gex history --json`'s.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GexPoint {
    /// The profile's snapshot instant (UTC).
    pub at: DateTime<Utc>,
    pub spot: f64,
    pub total_gex: f64,
    pub zero_gamma: Option<f64>,
    pub call_wall: Option<f64>,
    pub put_wall: Option<f64>,
    pub abs_gamma_strike: Option<f64>,
    pub zero_dte_share: f64,
}

impl GexPoint {
    /// The point a profile makes.
    pub fn of(profile: &GexProfile) -> GexPoint {
        GexPoint {
            at: profile.as_of,
            spot: profile.spot,
            total_gex: profile.total_gex,
            zero_gamma: profile.zero_gamma,
            call_wall: profile.call_wall,
            put_wall: profile.put_wall,
            abs_gamma_strike: profile.abs_gamma_strike,
            zero_dte_share: profile.zero_dte_share,
        }
    }

    /// Spot's distance above zero gamma in percent of spot (`+0.42` means spot sits 0.42 %
    /// above the flip, in positive-gamma territory when the profile has one crossing);
    /// `None` without a flip or with a spot that is not a positive price.
    pub fn flip_distance_pct(&self) -> Option<f64> {
        let zero = self.zero_gamma?;
        (self.spot > 0.0 && zero.is_finite()).then(|| (self.spot - zero) / self.spot * 100.0)
    }
}

/// The zero gamma in effect at `t`: the latest point at or before `t` (points in time
/// order). `None` before the first point or when that point has no flip.
pub fn zero_gamma_at(points: &[GexPoint], t: DateTime<Utc>) -> Option<f64> {
    let after = points.partition_point(|p| p.at <= t);
    points.get(after.checked_sub(1)?)?.zero_gamma
}

/// The first New York date kept on `today`: points of earlier dates are pruned.
pub fn keep_from(today: NaiveDate) -> NaiveDate {
    today - Duration::days(KEEP_DAYS)
}

/// Once-a-day pruning: `due` says the cutoff the first time it is asked on a New York
/// date, and nothing after that on the same date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyPrune {
    done_on: Option<NaiveDate>,
}

impl DailyPrune {
    /// The cutoff date to prune before, when today's pruning has not run yet.
    pub fn due(&mut self, today: NaiveDate) -> Option<NaiveDate> {
        if self.done_on == Some(today) {
            return None;
        }
        self.done_on = Some(today);
        Some(keep_from(today))
    }

    /// Pruning failed (the database was away): the next call tries again.
    pub fn retry(&mut self) {
        self.done_on = None;
    }
}

/// Block-character sparkline of the last `width` values, scaled from their minimum (`▁`)
/// to their maximum (`█`); a flat series is a row of `▄`. Non-finite values are skipped.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let shown = &finite[finite.len().saturating_sub(width)..];
    let (low, high) = shown
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    shown
        .iter()
        .map(|v| {
            if high - low <= f64::EPSILON * high.abs().max(1.0) {
                '▄'
            } else {
                let i = ((v - low) / (high - low) * 7.0).round() as usize;
                BLOCKS[i.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn point(minute: u32, spot: f64, zero: Option<f64>) -> GexPoint {
        GexPoint {
            at: Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, 0).unwrap(),
            spot,
            total_gex: -1.0e9,
            zero_gamma: zero,
            call_wall: Some(680.0),
            put_wall: Some(660.0),
            abs_gamma_strike: Some(670.0),
            zero_dte_share: 0.4,
        }
    }

    #[test]
    fn zero_gamma_steps_from_one_refresh_to_the_next() {
        let points = [
            point(0, 674.10, Some(671.35)),
            point(5, 674.60, Some(672.00)),
            point(10, 675.00, None),
        ];
        let t = |m: u32| Utc.with_ymd_and_hms(2026, 11, 24, 15, m, 0).unwrap();
        assert_eq!(zero_gamma_at(&points, t(0) - Duration::seconds(1)), None);
        assert_eq!(zero_gamma_at(&points, t(0)), Some(671.35));
        assert_eq!(zero_gamma_at(&points, t(4)), Some(671.35));
        assert_eq!(zero_gamma_at(&points, t(5)), Some(672.00));
        assert_eq!(zero_gamma_at(&points, t(12)), None, "no flip in range then");
        assert_eq!(zero_gamma_at(&[], t(5)), None);
    }

    #[test]
    fn spots_distance_to_the_flip_is_signed_percent_of_spot() {
        let d = point(0, 674.10, Some(671.35)).flip_distance_pct().unwrap();
        assert!((d - 0.407_951_342_531_02).abs() < 1e-9, "{d}");
        assert!(point(0, 660.0, Some(671.35)).flip_distance_pct().unwrap() < 0.0);
        assert_eq!(point(0, 674.10, None).flip_distance_pct(), None);
        assert_eq!(point(0, 0.0, Some(1.0)).flip_distance_pct(), None);
    }

    #[test]
    fn thirty_days_are_kept_and_pruning_runs_once_a_day() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(
            keep_from(today),
            NaiveDate::from_ymd_opt(2026, 2, 7).unwrap()
        );
        let mut prune = DailyPrune::default();
        assert_eq!(prune.due(today), Some(keep_from(today)));
        assert_eq!(prune.due(today), None, "once on a date");
        prune.retry();
        assert_eq!(prune.due(today), Some(keep_from(today)), "after a failure");
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(prune.due(tomorrow), Some(keep_from(tomorrow)));
    }

    #[test]
    fn sparklines_scale_from_the_lowest_to_the_highest_value_shown() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0], 10), "▁▂▃█");
        assert_eq!(sparkline(&[-4.0, 0.0, 4.0], 10), "▁▅█");
        assert_eq!(
            sparkline(&[9.0, 1.0, 2.0, 3.0], 3),
            "▁▅█",
            "the last 3 only"
        );
        assert_eq!(sparkline(&[5.0, 5.0], 4), "▄▄");
        assert_eq!(sparkline(&[f64::NAN, 1.0, 2.0], 4), "▁█");
        assert_eq!(sparkline(&[], 4), "");
        assert_eq!(sparkline(&[1.0, 2.0], 0), "");
    }
}
