//! `orb_breakout`: after the opening range (15 minutes by clock), a fresh close beyond it
//! by ≥ 0.1·ATR1m on relative volume ≥ 1.5, when the range is 0.15–0.8 daily ATR wide,
//! before 11:30 New York.
//!
//! Plan (long; short mirrors): entry one tick above the signal bar's high; stop beyond the
//! range midpoint or the signal bar's low, whichever is further, plus the stop buffer
//! (a close back into the middle of the range kills the breakout); target the measured
//! move (range high + range width) or 1.5 R, whichever is further.

use super::Detector;
use super::context::BarContext;
use super::plan::{Description, Emitter, Plan, dist, px, tick};
use crate::domain::{Direction, SetupKind};

#[derive(Clone, Debug, Default)]
pub struct OrbBreakout;

impl Detector for OrbBreakout {
    fn start_session(&mut self) {}

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.orb_breakout;
        if !cfg.enabled || ctx.minute < cfg.range_minutes || !ctx.is_before(cfg.latest) {
            return;
        }
        let (Some(range), Some(atr1m), Some(daily_atr), Some(buffer)) = (
            ctx.opening_range(cfg.range_minutes),
            ctx.atr1m,
            ctx.daily_atr(),
            ctx.stop_buffer(),
        ) else {
            return;
        };
        let width_atr = range.width() / daily_atr;
        if !(cfg.min_range_daily_atr..=cfg.max_range_daily_atr).contains(&width_atr) {
            return;
        }
        let bar = ctx.bar;
        let threshold = cfg.min_break_atr1m * atr1m;
        let previous = ctx.previous_close();
        let direction = if bar.close >= range.high + threshold && previous < range.high + threshold
        {
            Direction::Long
        } else if bar.close <= range.low - threshold && previous > range.low - threshold {
            Direction::Short
        } else {
            return;
        };
        if !out.allows(SetupKind::OrbBreakout, direction, 0) {
            return;
        }
        let volume = ctx.volume.test(cfg.min_relative_volume);
        if !volume.passed() {
            return;
        }
        let (level, beyond, plan) = match direction {
            Direction::Long => (
                range.high,
                bar.close - range.high,
                Plan::build(
                    direction,
                    bar.high + tick(bar.high),
                    bar.low.min(range.mid()) - buffer,
                    Some(range.high + range.width()),
                    ctx.config.min_reward_risk,
                ),
            ),
            Direction::Short => (
                range.low,
                range.low - bar.close,
                Plan::build(
                    direction,
                    bar.low - tick(bar.low),
                    bar.high.max(range.mid()) + buffer,
                    Some(range.low - range.width()),
                    ctx.config.min_reward_risk,
                ),
            ),
        };
        let Some(plan) = plan else { return };
        let beyond_atr = beyond / atr1m;
        let confidence = 60.0
            + ((volume.ratio_or_one() - cfg.min_relative_volume) * 10.0).clamp(0.0, 15.0)
            + (beyond_atr * 4.0).min(10.0)
            + if (0.25..=0.5).contains(&width_atr) {
                5.0
            } else {
                0.0
            };
        out.emit(ctx, SetupKind::OrbBreakout, plan, 0, confidence, |_| {
            let side = if direction == Direction::Long { "high" } else { "low" };
            let word = if direction == Direction::Long { "above" } else { "below" };
            Description {
                dedup_key: format!("ORB{} {side} {}", cfg.range_minutes, px(level)),
                rationale: format!(
                    "Closed {} {word} the {}-minute opening range {side} {} by {} ({:.1} ATR1m of {}) on {}; range {}–{} is {} wide = {:.2} daily ATR {}.",
                    px(bar.close),
                    cfg.range_minutes,
                    px(level),
                    dist(beyond),
                    beyond_atr,
                    dist(atr1m),
                    ctx.volume.describe(),
                    px(range.low),
                    px(range.high),
                    dist(range.width()),
                    width_atr,
                    dist(daily_atr),
                ),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    /// Prior day 99–101 (daily ATR 2.0); a 15-minute range 99.60–100.40 (0.4 daily ATR)
    /// of bars 0.80 wide, so ATR1m = 0.80; then quiet bars inside it until `minute`.
    fn range_then_wait(minute: i64) -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(minute as usize, 100.0, 0.4, 1000.0);
        s
    }

    #[test]
    fn a_close_above_the_range_on_double_volume_is_a_long_breakout() {
        let mut s = range_then_wait(20);
        s.bar(100.3, 100.9, 100.25, 100.8, 2000.0);
        let found = s.of_kind(SetupKind::OrbBreakout);
        assert_eq!(found.len(), 1);
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.entry, 100.91, "one tick above the signal bar's high");
        assert_eq!(
            d.stop, 99.80,
            "range midpoint 100.00 minus 0.25 ATR1m (0.20)"
        );
        assert_eq!(d.target, 102.58, "1.5 R beats the measured move 101.20");
        assert_eq!(d.confidence, 72);
        assert!(
            d.rationale.contains("15-minute opening range high 100.40"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale
                .contains("relative volume 2.0× (20-bar average)"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale.contains("0.80 wide = 0.40 daily ATR 2.00"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn a_breakout_on_ordinary_volume_is_ignored() {
        let mut s = range_then_wait(20);
        s.bar(100.3, 100.9, 100.25, 100.8, 1400.0);
        assert!(s.of_kind(SetupKind::OrbBreakout).is_empty());
    }

    #[test]
    fn no_breakout_signal_from_11_30_new_york() {
        let mut s = range_then_wait(120);
        s.bar(100.3, 100.9, 100.25, 100.8, 3000.0);
        assert!(s.of_kind(SetupKind::OrbBreakout).is_empty());
    }

    #[test]
    fn a_breakout_below_the_range_is_a_short() {
        let mut s = range_then_wait(20);
        s.bar(99.7, 99.75, 99.1, 99.2, 2500.0);
        let found = s.of_kind(SetupKind::OrbBreakout);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].direction, Direction::Short);
        assert_eq!(found[0].entry, 99.09);
        assert_eq!(found[0].stop, 100.20);
        assert_plan_is_sound(found[0]);
    }

    #[test]
    fn without_daily_bars_the_range_cannot_be_judged_and_nothing_fires() {
        let mut s = Scenario::new("SPY");
        s.quiet(20, 100.0, 0.4, 1000.0);
        s.bar(100.3, 100.9, 100.25, 100.8, 3000.0);
        assert!(s.of_kind(SetupKind::OrbBreakout).is_empty());
    }

    #[test]
    fn the_same_breakout_is_not_repeated_within_the_session() {
        let mut s = range_then_wait(20);
        s.bar(100.3, 100.9, 100.25, 100.8, 2000.0);
        s.quiet(3, 100.0, 0.4, 1000.0);
        s.bar(100.3, 100.9, 100.25, 100.8, 2000.0);
        assert_eq!(s.of_kind(SetupKind::OrbBreakout).len(), 1);
    }
}
