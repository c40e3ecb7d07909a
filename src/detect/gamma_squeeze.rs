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
                (true, _, _) => format!("total GEX {:.0} $ per 1 % is negative", gex.total_gex),
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
