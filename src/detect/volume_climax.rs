//! `volume_climax`: a bar at an intraday extreme (a new session high or low) with volume
//! ≥ 3× its baseline (relative volume) and range ≥ 2× the 20-bar average range, followed
//! by a close in the opposite half of that bar — by the bar itself (a long wick) or by
//! the next bar. Trades the reversal: a climax at the high is a short.
//!
//! Plan (climax at the high): entry one tick below the signal bar's low; stop above the
//! climax high plus the stop buffer; target VWAP when it is at least 1.5 R away, else 1.5 R.

use super::Detector;
use super::context::{BarContext, VolumeTest};
use super::plan::{Description, Emitter, Plan, dist, px, tick};
use crate::domain::{Bar, Direction, SetupKind};

#[derive(Clone, Copy, Debug)]
struct Climax {
    bar: Bar,
    /// The reversal direction: short for a climax at the high.
    direction: Direction,
    volume: VolumeTest,
    range_ratio: f64,
}

#[derive(Clone, Debug, Default)]
pub struct VolumeClimax {
    /// A climax bar that closed in its own extreme half; the next bar may still reverse.
    pending: Option<Climax>,
}

impl Detector for VolumeClimax {
    fn start_session(&mut self) {
        self.pending = None;
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.volume_climax;
        let pending = self.pending.take();
        if !cfg.enabled {
            return;
        }
        let bar = ctx.bar;
        if let Some(c) = pending {
            let mid = (c.bar.high + c.bar.low) / 2.0;
            if (mid - bar.close) * c.direction.sign() < 0.0 {
                self.fire(ctx, out, c, true);
                return;
            }
        }
        let (Some(high_before), Some(low_before), Some(average_range)) =
            (ctx.high_before, ctx.low_before, ctx.average_range)
        else {
            return;
        };
        let direction = if bar.high > high_before {
            Direction::Short
        } else if bar.low < low_before {
            Direction::Long
        } else {
            return;
        };
        if average_range <= 0.0 || !out.allows(SetupKind::VolumeClimax, direction, 0) {
            return;
        }
        let range_ratio = bar.range() / average_range;
        let volume = ctx.volume.test(cfg.min_volume_ratio);
        if range_ratio < cfg.min_range_ratio || !volume.passed() {
            return;
        }
        let climax = Climax {
            bar: *bar,
            direction,
            volume,
            range_ratio,
        };
        let mid = (bar.high + bar.low) / 2.0;
        if (mid - bar.close) * direction.sign() < 0.0 {
            self.fire(ctx, out, climax, false);
        } else {
            self.pending = Some(climax);
        }
    }
}

impl VolumeClimax {
    fn fire(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>, c: Climax, next_bar: bool) {
        let Some(buffer) = ctx.stop_buffer() else {
            return;
        };
        let bar = ctx.bar;
        let vwap = ctx.vwap.map(|b| b.vwap);
        let plan = match c.direction {
            Direction::Short => Plan::build(
                c.direction,
                bar.low - tick(bar.low),
                c.bar.high + buffer,
                vwap,
                ctx.config.min_reward_risk,
            ),
            Direction::Long => Plan::build(
                c.direction,
                bar.high + tick(bar.high),
                c.bar.low - buffer,
                vwap,
                ctx.config.min_reward_risk,
            ),
        };
        let Some(plan) = plan else { return };
        let cfg = &ctx.config.volume_climax;
        let confidence = 60.0
            + ((c.volume.ratio_or_one() - cfg.min_volume_ratio) * 4.0).clamp(0.0, 12.0)
            + ((c.range_ratio - cfg.min_range_ratio) * 4.0).clamp(0.0, 10.0)
            + if next_bar { 5.0 } else { 0.0 };
        out.emit(ctx, SetupKind::VolumeClimax, plan, 0, confidence, |_| {
            let volume_text = match (c.volume, next_bar) {
                (VolumeTest::Passed(r), true) => format!("{r:.1}× relative volume"),
                _ => ctx.volume.describe(),
            };
            let (at, extreme, half) = if c.direction == Direction::Short {
                ("high", c.bar.high, "lower")
            } else {
                ("low", c.bar.low, "upper")
            };
            let how = if next_bar {
                format!("the next bar closed {} in its {half} half", px(bar.close))
            } else {
                format!("it closed {} in its {half} half", px(c.bar.close))
            };
            Description {
                dedup_key: format!("climax {at} {}", px(extreme)),
                rationale: format!(
                    "New session {at} {} on a bar of range {} = {:.1}× the 20-bar average with {volume_text}; {how} (bar {}–{}).",
                    px(extreme),
                    dist(c.bar.range()),
                    c.range_ratio,
                    px(c.bar.low),
                    px(c.bar.high),
                ),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    fn quiet_morning() -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.0, 0.05, 1000.0);
        s
    }

    #[test]
    fn a_four_times_volume_spike_to_a_new_high_that_closes_low_is_a_short_reversal() {
        let mut s = quiet_morning();
        let out = s.bar(100.05, 100.60, 100.00, 100.10, 4000.0);
        let found: Vec<_> = out
            .iter()
            .filter(|d| d.kind == SetupKind::VolumeClimax)
            .collect();
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Short);
        assert_eq!(d.entry, 99.99);
        assert_eq!(
            d.stop, 100.63,
            "above the climax high 100.60 by 0.25 ATR1m (0.025)"
        );
        assert_eq!(d.target, 99.03, "VWAP is above the entry, so 1.5 R");
        assert!(d.rationale.contains("New session high 100.60 on a bar of range 0.60 = 6.0× the 20-bar average with relative volume 4.0× (20-bar average)"), "{}", d.rationale);
        assert_plan_is_sound(d);
    }

    #[test]
    fn the_reversal_may_come_on_the_next_bar() {
        let mut s = quiet_morning();
        s.bar(100.05, 100.60, 100.00, 100.55, 4000.0); // closes high: not yet
        assert!(s.of_kind(SetupKind::VolumeClimax).is_empty());
        s.bar(100.55, 100.56, 100.20, 100.25, 2000.0); // closes below the climax midpoint 100.30
        let found = s.of_kind(SetupKind::VolumeClimax);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].entry, 100.19);
        assert_plan_is_sound(found[0]);
    }

    #[test]
    fn a_wide_bar_on_double_volume_is_not_a_climax() {
        let mut s = quiet_morning();
        s.bar(100.05, 100.60, 100.00, 100.10, 2000.0);
        assert!(s.of_kind(SetupKind::VolumeClimax).is_empty());
    }

    #[test]
    fn a_spike_inside_the_day_range_is_not_at_an_extreme() {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.bar(100.0, 100.8, 99.95, 100.0, 1000.0);
        s.quiet(20, 100.0, 0.05, 1000.0);
        s.bar(100.05, 100.60, 100.00, 100.10, 4000.0);
        assert!(s.of_kind(SetupKind::VolumeClimax).is_empty());
    }
}
