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
use super::plan::{Description, Emitter, Plan, px, tick};
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
                    px(beyond),
                    beyond_atr,
                    px(atr1m),
                    ctx.volume.describe(),
                    px(range.low),
                    px(range.high),
                    px(range.width()),
                    width_atr,
                    px(daily_atr),
                ),
            }
        });
    }
}
