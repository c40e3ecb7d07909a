//! `gap_fill`: the session opened ≥ 0.15 % (ETFs, indices) or ≥ 1 % (stocks) away from the
//! prior close; after the 5-minute range, a bar that trades up to the range edge or VWAP
//! on the gap side and closes back below it (gap up; gap down mirrors) against its own
//! open turns toward the prior close. Short a gap up, long a gap down. "Trades up to"
//! means within max(0.15·ATR1m, 0.02 % of price) of the level.
//!
//! Plan (gap up): entry one tick below the signal bar's low; stop above the high of day
//! plus the stop buffer; target the prior close — and no setup when that is less than
//! 1.5 R away. Once any bar trades through the prior close the gap has filled and the
//! detector is silent for the rest of the session.

use super::Detector;
use super::context::{BarContext, SymbolClass};
use super::plan::{Description, Emitter, Plan, px, tick};
use crate::domain::{Direction, SetupKind};

#[derive(Clone, Copy, Debug)]
struct Gap {
    prior_close: f64,
    open: f64,
    /// Direction of the fill trade: short for a gap up.
    direction: Direction,
    pct: f64,
}

#[derive(Clone, Debug, Default)]
pub struct GapFill {
    gap: Option<Gap>,
    /// Measured at the session's first bar (so a late first bar is not a gap).
    measured: bool,
    filled: bool,
}

impl Detector for GapFill {
    fn start_session(&mut self) {
        *self = GapFill::default();
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.gap_fill;
        if !cfg.enabled || self.filled {
            return;
        }
        let bar = ctx.bar;
        if !self.measured {
            self.measured = true;
            let Some(prior) = ctx.prior_day() else { return };
            if ctx.minute > 1 {
                return; // the opening print is missing: no honest gap
            }
            let pct = (ctx.session_open - prior.close) / prior.close * 100.0;
            let min = match ctx.class {
                SymbolClass::Index | SymbolClass::Etf => cfg.min_gap_pct_etf,
                SymbolClass::Stock => cfg.min_gap_pct_stock,
            };
            if pct.abs() >= min {
                self.gap = Some(Gap {
                    prior_close: prior.close,
                    open: ctx.session_open,
                    direction: if pct > 0.0 {
                        Direction::Short
                    } else {
                        Direction::Long
                    },
                    pct,
                });
            }
        }
        let Some(gap) = self.gap else { return };
        let s = gap.direction.sign();
        // a gap up fills when a bar trades down to the prior close
        let far_side = if gap.direction == Direction::Short {
            bar.low
        } else {
            bar.high
        };
        if (far_side - gap.prior_close) * s >= 0.0 {
            self.filled = true;
            return;
        }
        if ctx.minute < cfg.range_minutes || !out.allows(SetupKind::GapFill, gap.direction, 0) {
            return;
        }
        let (Some(range), Some(tol), Some(buffer)) = (
            ctx.opening_range(cfg.range_minutes),
            ctx.tolerance(0.15, 0.02),
            ctx.stop_buffer(),
        ) else {
            return;
        };
        // the edge of the range on the gap side: its high for a gap up
        let edge = if gap.direction == Direction::Short {
            range.high
        } else {
            range.low
        };
        let vwap = ctx.vwap.map(|b| b.vwap);
        let (near, turned) = match gap.direction {
            Direction::Short => (bar.high, bar.close < bar.open),
            Direction::Long => (bar.low, bar.close > bar.open),
        };
        // reached the level from the gap side (within tolerance) and closed back on it
        let fails_at = |level: f64| (near - level) * -s >= -tol && (bar.close - level) * s > 0.0;
        let (at_vwap, level) = if fails_at(edge) {
            (false, edge)
        } else if let Some(v) = vwap.filter(|v| fails_at(*v)) {
            (true, v)
        } else {
            return;
        };
        if !turned {
            return;
        }
        let Some((day_high, day_low)) = ctx.market.session_high_low() else {
            return;
        };
        let plan = match gap.direction {
            Direction::Short => Plan::build_to(
                gap.direction,
                bar.low - tick(bar.low),
                day_high + buffer,
                gap.prior_close,
                ctx.config.min_reward_risk,
            ),
            Direction::Long => Plan::build_to(
                gap.direction,
                bar.high + tick(bar.high),
                day_low - buffer,
                gap.prior_close,
                ctx.config.min_reward_risk,
            ),
        };
        let Some(plan) = plan else { return };
        let unfilled = (bar.close - gap.prior_close) / (gap.open - gap.prior_close);
        let confidence = 58.0
            + (gap.pct.abs() * 8.0).min(12.0)
            + ((plan.reward_risk() - 1.5) * 5.0).clamp(0.0, 10.0)
            + if at_vwap { 5.0 } else { 0.0 };
        out.emit(ctx, SetupKind::GapFill, plan, 0, confidence, |plan| {
            let (way, extreme_name, extreme, test, turn) = if gap.direction == Direction::Short {
                ("up", "high of day", day_high, "high", "below")
            } else {
                ("down", "low of day", day_low, "low", "above")
            };
            let failed_name = if at_vwap {
                "VWAP".to_string()
            } else {
                format!("the {}-minute range edge", cfg.range_minutes)
            };
            Description {
                dedup_key: format!("gap {} from {}", px(gap.open), px(gap.prior_close)),
                rationale: format!(
                    "Gapped {way} {:.2} % (open {} vs prior close {}); the bar's {test} {} failed at {failed_name} {} and it closed {} {turn} its open {}, {:.0} % of the gap still open; target the prior close {} ({:.1} R, stop beyond the {extreme_name} {}).",
                    gap.pct.abs(),
                    px(gap.open),
                    px(gap.prior_close),
                    px(near),
                    px(level),
                    px(bar.close),
                    px(bar.open),
                    unfilled * 100.0,
                    px(gap.prior_close),
                    plan.reward_risk(),
                    px(extreme),
                ),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    /// Opens at `open` over a prior close of 100.00: a first bar 0.30 wide, four quiet
    /// bars and one more, then a bar that pokes at the 5-minute high and closes red.
    fn gap_then_failure(symbol: &str, open: f64, daily: bool, fill_early: bool) -> Scenario {
        let s = Scenario::new(symbol);
        let mut s = if daily {
            s.prior_day(101.0, 99.0, 100.0, 2.0)
        } else {
            s
        };
        s.bar(open, open + 0.2, open - 0.1, open + 0.1, 1000.0);
        if fill_early {
            s.bar(open + 0.1, open + 0.15, 99.99, open + 0.1, 1000.0);
        } else {
            s.quiet(1, open + 0.1, 0.05, 1000.0);
        }
        s.quiet(4, open + 0.1, 0.05, 1000.0);
        s.bar(open + 0.12, open + 0.19, open - 0.02, open, 1000.0);
        s
    }

    #[test]
    fn a_gap_up_that_fails_at_the_five_minute_high_is_a_short_to_the_prior_close() {
        let s = gap_then_failure("SPY", 101.0, true, false);
        let found = s.of_kind(SetupKind::GapFill);
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Short);
        assert_eq!(d.entry, 100.97);
        assert_eq!(d.stop, 101.24, "above the high of day 101.20 by 0.25 ATR1m");
        assert_eq!(d.target, 100.00, "the prior close, 3.6 R away");
        assert!(
            d.rationale
                .starts_with("Gapped up 1.00 % (open 101.00 vs prior close 100.00)"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale
                .contains("failed at the 5-minute range edge 101.20"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn a_gap_that_already_filled_never_gives_a_fill_setup() {
        let s = gap_then_failure("SPY", 101.0, true, true);
        assert!(s.of_kind(SetupKind::GapFill).is_empty());
    }

    #[test]
    fn a_half_percent_gap_is_too_small_for_a_stock() {
        let s = gap_then_failure("ACME", 100.5, true, false);
        assert!(s.of_kind(SetupKind::GapFill).is_empty());
        let etf = gap_then_failure("SPY", 100.5, true, false);
        assert_eq!(
            etf.of_kind(SetupKind::GapFill).len(),
            1,
            "0.5 % is a gap for an ETF"
        );
    }

    #[test]
    fn the_first_session_without_a_prior_day_has_no_gap() {
        let s = gap_then_failure("SPY", 101.0, false, false);
        assert!(s.of_kind(SetupKind::GapFill).is_empty());
    }
}
