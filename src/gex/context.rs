//! Where price stood against its symbol's GEX profile when a detection fired (SPEC 18,
//! issue 20 item 2b): the regime and the signed distances to zero gamma and to the nearest
//! wall, kept in the detection's payload so the backtest can split by regime.
//!
//! Convention: every distance is `level − price`, where `price` is the close of the
//! signal bar (the price at detection time). Positive: the level is above price;
//! negative: below. Points are price units (index points for an index); percent is
//! `points / price × 100`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::profile::Regime;
use crate::domain::GammaLevels;

/// Which wall is the nearest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WallSide {
    /// The strike of the largest positive net GEX.
    Call,
    /// The strike of the most negative net GEX.
    Put,
}

/// A signed distance from price to a level, in points and in percent of price.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelDistance {
    /// The level, in price units.
    pub level: f64,
    /// `level − price`, price units.
    pub points: f64,
    /// `(level − price) / price × 100`.
    pub percent: f64,
}

impl LevelDistance {
    fn between(level: f64, price: f64) -> Option<LevelDistance> {
        if !level.is_finite() {
            return None;
        }
        let points = level - price;
        Some(LevelDistance {
            level,
            points,
            percent: points / price * 100.0,
        })
    }
}

/// The GEX profile as a detection saw it (see the module convention).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GexContext {
    /// Positive when the profile's total GEX ≥ 0 (dealers long gamma), else negative —
    /// the same rule as the GEX pane and `GammaLevels::is_negative_regime`.
    pub regime: Regime,
    /// When the profile was computed.
    pub as_of: DateTime<Utc>,
    /// The price the distances are measured from: the signal bar's close.
    pub price: f64,
    /// To the zero-gamma (flip) level; `None` when the profile has no crossing in range.
    pub zero_gamma: Option<LevelDistance>,
    /// To the nearer of the call and put walls; `None` when the profile has neither.
    pub nearest_wall: Option<NearestWall>,
}

/// The nearest wall and its distance.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NearestWall {
    pub side: WallSide,
    #[serde(flatten)]
    pub distance: LevelDistance,
}

impl GexContext {
    /// The context of `levels` at `price` (the signal bar's close). `None` when the price
    /// is not a positive finite number. Equally near walls: the call wall.
    pub fn at(levels: &GammaLevels, price: f64) -> Option<GexContext> {
        if !(price.is_finite() && price > 0.0 && levels.total_gex.is_finite()) {
            return None;
        }
        let regime = if levels.is_negative_regime() {
            Regime::Negative
        } else {
            Regime::Positive
        };
        let wall = |side, level: Option<f64>| {
            level
                .and_then(|l| LevelDistance::between(l, price))
                .map(|distance| NearestWall { side, distance })
        };
        let nearest_wall = match (
            wall(WallSide::Call, levels.call_wall),
            wall(WallSide::Put, levels.put_wall),
        ) {
            (Some(c), Some(p)) => Some(if p.distance.points.abs() < c.distance.points.abs() {
                p
            } else {
                c
            }),
            (c, p) => c.or(p),
        };
        Some(GexContext {
            regime,
            as_of: levels.as_of,
            price,
            zero_gamma: levels
                .zero_gamma
                .and_then(|z| LevelDistance::between(z, price)),
            nearest_wall,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Symbol;

    fn levels(total: f64, zero: Option<f64>, call: Option<f64>, put: Option<f64>) -> GammaLevels {
        GammaLevels {
            symbol: Symbol::parse("SPY").unwrap(),
            spot: 450.0,
            as_of: Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap(),
            total_gex: total,
            zero_gamma: zero,
            call_wall: call,
            put_wall: put,
            max_call_gex_strike: None,
            max_put_gex_strike: None,
        }
    }

    #[test]
    fn distances_are_level_minus_price_in_points_and_percent() {
        // price 400: zero gamma 396 is 4 points (1 %) below; call wall 410 is 10 above,
        // put wall 395 is 5 below, so the put wall is the nearer one.
        let c = GexContext::at(
            &levels(-2.0e9, Some(396.0), Some(410.0), Some(395.0)),
            400.0,
        )
        .unwrap();
        assert_eq!(c.regime, Regime::Negative);
        assert_eq!(c.price, 400.0);
        let z = c.zero_gamma.unwrap();
        assert_eq!((z.level, z.points, z.percent), (396.0, -4.0, -1.0));
        let w = c.nearest_wall.unwrap();
        assert_eq!(w.side, WallSide::Put);
        assert_eq!((w.distance.points, w.distance.percent), (-5.0, -1.25));
    }

    #[test]
    fn a_positive_regime_with_one_wall_and_no_flip_keeps_what_it_has() {
        let c = GexContext::at(&levels(0.0, None, Some(402.0), None), 400.0).unwrap();
        assert_eq!(c.regime, Regime::Positive, "total GEX 0 counts as positive");
        assert_eq!(c.zero_gamma, None);
        let w = c.nearest_wall.unwrap();
        assert_eq!(w.side, WallSide::Call);
        assert_eq!((w.distance.points, w.distance.percent), (2.0, 0.5));
        assert_eq!(
            GexContext::at(&levels(1.0, None, None, None), 400.0)
                .unwrap()
                .nearest_wall,
            None
        );
    }

    #[test]
    fn equally_near_walls_name_the_call_wall_and_bad_prices_give_nothing() {
        let l = levels(1.0, None, Some(405.0), Some(395.0));
        assert_eq!(
            GexContext::at(&l, 400.0)
                .unwrap()
                .nearest_wall
                .unwrap()
                .side,
            WallSide::Call
        );
        assert_eq!(GexContext::at(&l, f64::NAN), None);
        assert_eq!(GexContext::at(&l, 0.0), None);
    }

    #[test]
    fn the_json_names_the_regime_and_flattens_the_wall() {
        let c = GexContext::at(&levels(-1.0, Some(396.0), None, Some(395.0)), 400.0).unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["regime"], "negative");
        assert_eq!(v["nearest_wall"]["side"], "put");
        assert_eq!(v["nearest_wall"]["points"], -5.0);
        assert_eq!(v["zero_gamma"]["percent"], -1.0);
        let back: GexContext = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
