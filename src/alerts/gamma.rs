//! The GEX side of the gamma alerts (SPEC 20): what the evaluator knows of a symbol's
//! latest all-expirations profile, and the pure tests each condition applies to it.

use chrono::{DateTime, Utc};

use crate::gex::GexProfile;

/// A symbol's latest refresh as the gamma alerts read it. Prices in the instrument's
/// units; `positive` is the regime (total GEX ≥ 0, SPEC 7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GammaState {
    /// The refresh's snapshot instant: a refresh seen twice (the board republished) is
    /// judged once.
    pub at: DateTime<Utc>,
    pub zero_gamma: Option<f64>,
    pub call_wall: Option<f64>,
    pub put_wall: Option<f64>,
    pub positive: bool,
    /// The profile's spot: the price a regime change is reported at when no price is seen.
    pub spot: f64,
}

impl GammaState {
    pub fn of(profile: &GexProfile) -> GammaState {
        GammaState {
            at: profile.as_of,
            zero_gamma: profile.zero_gamma.filter(|z| z.is_finite()),
            call_wall: profile.call_wall.filter(|w| w.is_finite()),
            put_wall: profile.put_wall.filter(|w| w.is_finite()),
            positive: profile.total_gex >= 0.0,
            spot: profile.spot,
        }
    }

    /// Which side of zero gamma `price` is on: `Some(true)` at or above it, `None` without
    /// a flip (a touch counts as crossing, as for price alerts).
    pub fn above_flip(&self, price: f64) -> Option<bool> {
        Some(price >= self.zero_gamma?)
    }

    /// Whether a minute's `close` is beyond a wall by at least `pct` percent of the close:
    /// above the call wall by `pct`/100 · close (strictly above when `pct` is 0), or below
    /// the put wall by as much.
    pub fn beyond_wall(&self, close: f64, pct: f64) -> bool {
        let margin = pct / 100.0 * close;
        let over = self
            .call_wall
            .is_some_and(|w| close > w && close - w >= margin);
        let under = self
            .put_wall
            .is_some_and(|w| close < w && w - close >= margin);
        over || under
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn state(zero: Option<f64>) -> GammaState {
        GammaState {
            at: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
            zero_gamma: zero,
            call_wall: Some(680.0),
            put_wall: Some(660.0),
            positive: true,
            spot: 674.1,
        }
    }

    #[test]
    fn a_close_is_beyond_a_wall_by_a_percent_of_itself() {
        let s = state(Some(671.35));
        // 0.1 % of 680.70 is 0.68: 680.70 is 0.70 over the call wall.
        assert!(s.beyond_wall(680.70, 0.1));
        assert!(!s.beyond_wall(680.60, 0.1), "0.60 over is short of 0.68");
        assert!(s.beyond_wall(659.30, 0.1), "0.70 under the put wall");
        assert!(!s.beyond_wall(670.0, 0.0), "between the walls");
        assert!(!s.beyond_wall(680.0, 0.0), "at the wall is not beyond it");
        assert!(s.beyond_wall(680.01, 0.0));
        let none = GammaState {
            call_wall: None,
            put_wall: None,
            ..s
        };
        assert!(!none.beyond_wall(900.0, 0.0));
    }

    #[test]
    fn the_flip_side_is_at_or_above_or_below_and_none_without_a_flip() {
        let s = state(Some(671.35));
        assert_eq!(s.above_flip(671.35), Some(true));
        assert_eq!(s.above_flip(671.34), Some(false));
        assert_eq!(state(None).above_flip(674.1), None);
    }
}
