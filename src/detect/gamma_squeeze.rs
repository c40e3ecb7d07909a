//! `gamma_squeeze`: with a GEX profile for the symbol, in a short-gamma market (total GEX
//! negative, or spot within 0.3 % of the zero-gamma level), a fresh close above the
//! largest call-GEX strike (below the largest put-GEX strike for a short) on relative
//! volume ≥ 2. Dealers hedging short gamma buy strength, so the move can run.
//!
//! The profile is used only while `0 ≤ bar end − as_of ≤ max_age_minutes`. Plan (long):
//! entry one tick above the signal bar's high; stop below the strike minus the stop
//! buffer (back under the strike, the squeeze failed); target the call wall when it is
//! at least 1.5 R above, else 1.5 R.

use chrono::Duration;

use super::Detector;
use super::context::BarContext;
use super::plan::{Description, Emitter, Plan, px, tick};
use crate::domain::{Direction, SetupKind};

#[derive(Clone, Debug, Default)]
pub struct GammaSqueeze;

impl Detector for GammaSqueeze {
    fn start_session(&mut self) {}

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.gamma_squeeze;
        let Some(gex) = ctx.gamma else { return };
        if !cfg.enabled {
            return;
        }
        let age = ctx.bar_end() - gex.as_of;
        if age < Duration::zero() || age > Duration::minutes(i64::from(cfg.max_age_minutes)) {
            return;
        }
        let bar = ctx.bar;
        let previous = ctx.previous_close();
        let (direction, strike) = match (gex.max_call_gex_strike, gex.max_put_gex_strike) {
            (Some(k), _) if previous <= k && bar.close > k => (Direction::Long, k),
            (_, Some(k)) if previous >= k && bar.close < k => (Direction::Short, k),
            _ => return,
        };
        let zero_distance_pct = gex
            .zero_gamma
            .map(|z| (bar.close - z).abs() / bar.close * 100.0);
        let negative = gex.total_gex < 0.0;
        let near_flip = zero_distance_pct.is_some_and(|d| d <= cfg.max_zero_gamma_pct);
        if !(negative || near_flip) || !out.allows(SetupKind::GammaSqueeze, direction, 0) {
            return;
        }
        let volume = ctx.volume.test(cfg.min_relative_volume);
        let Some(buffer) = ctx.stop_buffer() else {
            return;
        };
        if !volume.passed() {
            return;
        }
        let plan = match direction {
            Direction::Long => Plan::build(
                direction,
                bar.high + tick(bar.high),
                strike - buffer,
                gex.call_wall,
                ctx.config.min_reward_risk,
            ),
            Direction::Short => Plan::build(
                direction,
                bar.low - tick(bar.low),
                strike + buffer,
                gex.put_wall,
                ctx.config.min_reward_risk,
            ),
        };
        let Some(plan) = plan else { return };
        let confidence = 62.0
            + if negative { 8.0 } else { 0.0 }
            + if near_flip { 5.0 } else { 0.0 }
            + ((volume.ratio_or_one() - cfg.min_relative_volume) * 5.0).clamp(0.0, 10.0);
        out.emit(ctx, SetupKind::GammaSqueeze, plan, 0, confidence, |_| {
            let (word, which) = if direction == Direction::Long {
                ("above", "call")
            } else {
                ("below", "put")
            };
            let regime = match (negative, zero_distance_pct, gex.zero_gamma) {
                (true, _, _) => format!(
                    "total GEX {} per 1 % move is negative",
                    crate::gex::display::abbreviate_dollars(gex.total_gex)
                ),
                (false, Some(d), Some(z)) => format!("spot is {d:.2} % from zero gamma {}", px(z)),
                _ => "short gamma".to_string(),
            };
            Description {
                dedup_key: format!("{which} GEX {}", px(strike)),
                rationale: format!(
                    "Closed {} {word} the largest {which}-GEX strike {} from {}; {regime}; {}.",
                    px(bar.close),
                    px(strike),
                    px(previous),
                    ctx.volume.describe(),
                ),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::detect::testkit::{Scenario, assert_plan_is_sound, at, sym};
    use crate::domain::{Direction, GammaLevels, SetupKind};

    fn profile(s: &Scenario, total_gex: f64, zero_gamma: f64, age_minutes: i64) -> GammaLevels {
        GammaLevels {
            symbol: sym("SPY"),
            spot: 100.3,
            as_of: at(s.date, 21) - Duration::minutes(age_minutes),
            total_gex,
            zero_gamma: Some(zero_gamma),
            call_wall: Some(102.0),
            put_wall: Some(98.0),
            max_call_gex_strike: Some(100.5),
            max_put_gex_strike: Some(99.5),
        }
    }

    fn squeeze_bar(total_gex: f64, zero_gamma: f64, age_minutes: i64) -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.3, 0.05, 1000.0);
        let gex = profile(&s, total_gex, zero_gamma, age_minutes);
        s.engine.set_gamma_levels(gex);
        s.bar(100.35, 100.65, 100.34, 100.60, 2500.0);
        s
    }

    #[test]
    fn a_close_above_the_largest_call_gex_strike_in_negative_gamma_on_volume_is_a_long() {
        let s = squeeze_bar(-2e9, 99.0, 6);
        let found = s.of_kind(SetupKind::GammaSqueeze);
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.entry, 100.66);
        assert_eq!(d.stop, 100.47, "back under the 100.50 strike by 0.25 ATR1m");
        assert_eq!(d.target, 102.00, "the call wall, beyond 1.5 R");
        assert!(
            d.rationale.contains("largest call-GEX strike 100.50"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale.contains("relative volume 2.5×"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn near_the_zero_gamma_level_a_positive_regime_still_qualifies() {
        let s = squeeze_bar(1e9, 100.4, 6);
        assert_eq!(s.of_kind(SetupKind::GammaSqueeze).len(), 1);
    }

    #[test]
    fn a_positive_gamma_market_far_from_the_flip_damps_the_move() {
        let s = squeeze_bar(1e9, 99.0, 6);
        assert!(s.of_kind(SetupKind::GammaSqueeze).is_empty());
    }

    #[test]
    fn a_stale_or_future_profile_is_not_used() {
        assert!(
            squeeze_bar(-2e9, 99.0, 120)
                .of_kind(SetupKind::GammaSqueeze)
                .is_empty()
        );
        assert!(
            squeeze_bar(-2e9, 99.0, -10)
                .of_kind(SetupKind::GammaSqueeze)
                .is_empty()
        );
    }
}
