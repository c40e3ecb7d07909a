//! `vwap_reclaim` (long) and `vwap_reject` (short), after 10:00 New York, once price has
//! closed on one side of VWAP for ≥ 5 consecutive bars:
//! - **cross**: a close on the other side that the next bar holds (signal bar = the
//!   holding bar): below → above is a reclaim (long), above → below a reject (short);
//! - **wick**: a bar that trades into VWAP from its side (reaching it, but no further past
//!   it than the level tolerance max(0.15·ATR1m, 0.06 %)) and closes back in the half of
//!   its range away from VWAP: from below a reject (short), from above a reclaim (long,
//!   VWAP held as support).
//!
//! Plan (long; short mirrors): entry one tick above the signal bar's high; stop below the
//! low of the cross and hold bars (or of the wick bar) minus the stop buffer; target the
//! +1σ band when it is at least 1.5 R away, else 1.5 R.

use super::Detector;
use super::context::BarContext;
use super::plan::{Description, Emitter, Plan, px, tick};
use crate::domain::{Bar, Direction, SetupKind};
use crate::market::bars::VwapBands;

// Confidence, in points of the 0–100 scale every detector reports.

/// Base confidence of a cross the next bar holds.
const CROSS_BASE: f64 = 60.0;
/// Base confidence of a wick rejected at VWAP.
const WICK_BASE: f64 = 58.0;
/// Points per bar the run on one side lasted beyond `min_bars_on_side` …
const RUN_POINTS_PER_BAR: f64 = 1.5;
/// … up to this many.
const RUN_POINTS_MAX: f64 = 12.0;
/// A held cross: points per 1× of relative volume above 1× (average volume) …
const CROSS_VOLUME_POINTS_PER_RATIO: f64 = 8.0;
/// … up to this many.
const CROSS_VOLUME_POINTS_MAX: f64 = 10.0;
/// A wick: points for a rejecting wick as long as the whole bar's range (proportionally
/// less for a shorter one), which is also the most it adds.
const WICK_POINTS_FULL_RANGE: f64 = 15.0;

#[derive(Clone, Copy, Debug)]
struct Cross {
    direction: Direction,
    bar: Bar,
    run: u32,
    vwap: f64,
}

#[derive(Clone, Debug, Default)]
pub struct VwapPlay {
    /// Consecutive closes above / below VWAP up to the previous bar.
    above: u32,
    below: u32,
    cross: Option<Cross>,
}

fn kind_of(direction: Direction) -> SetupKind {
    match direction {
        Direction::Long => SetupKind::VwapReclaim,
        Direction::Short => SetupKind::VwapReject,
    }
}

/// Points for a run of `run` closes on one side when `min_run` are required.
fn run_points(run: u32, min_run: u32) -> f64 {
    (f64::from(run.saturating_sub(min_run)) * RUN_POINTS_PER_BAR).min(RUN_POINTS_MAX)
}

/// The closes on each side of VWAP before this bar: (above, below).
#[derive(Clone, Copy, Debug)]
struct RunsBefore {
    above: u32,
    below: u32,
}

impl VwapPlay {
    /// Counts this bar's close into the runs on each side and returns the runs before it.
    fn count_close(&mut self, close: f64, vwap: f64) -> RunsBefore {
        let before = RunsBefore {
            above: self.above,
            below: self.below,
        };
        if close > vwap {
            self.above += 1;
            self.below = 0;
        } else if close < vwap {
            self.below += 1;
            self.above = 0;
        } else {
            self.above = 0;
            self.below = 0;
        }
        before
    }
}

/// A close through VWAP after at least `min_run` closes on the other side.
fn cross_at(bar: &Bar, vwap: f64, runs: RunsBefore, min_run: u32) -> Option<Cross> {
    if bar.close > vwap && runs.below >= min_run {
        Some(Cross {
            direction: Direction::Long,
            bar: *bar,
            run: runs.below,
            vwap,
        })
    } else if bar.close < vwap && runs.above >= min_run {
        Some(Cross {
            direction: Direction::Short,
            bar: *bar,
            run: runs.above,
            vwap,
        })
    } else {
        None
    }
}

impl Detector for VwapPlay {
    fn start_session(&mut self) {
        *self = VwapPlay::default();
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.vwap;
        let Some(bands) = ctx.vwap else {
            self.above = 0;
            self.below = 0;
            self.cross = None;
            return;
        };
        let bar = ctx.bar;
        let cross = self.cross.take();
        let runs = self.count_close(bar.close, bands.vwap);
        if !cfg.enabled {
            return;
        }
        let new_cross = cross_at(bar, bands.vwap, runs, cfg.min_bars_on_side);
        // a cross before 10:00 may still be held by the 10:00 bar
        self.cross = new_cross;
        if ctx.is_before(cfg.earliest) || new_cross.is_some() {
            return;
        }
        let Some(buffer) = ctx.stop_buffer() else {
            return;
        };
        // 1. a cross held by this bar
        if let Some(c) = cross
            && held_cross(ctx, out, c, bands, buffer)
        {
            return;
        }
        // 2. a wick into VWAP rejected from this side
        wick_rejection(ctx, out, runs, bands, buffer);
    }
}

/// The plan of a signal on `bar`: entry one tick past its extreme, stop past `stop_from`
/// by the stop buffer, target the ±1σ band.
fn plan_from(
    ctx: &BarContext<'_>,
    direction: Direction,
    stop_from: f64,
    bands: VwapBands,
    buffer: f64,
) -> Option<Plan> {
    let bar = ctx.bar;
    let min_rr = ctx.config.min_reward_risk;
    match direction {
        Direction::Long => Plan::build(
            direction,
            bar.high + tick(bar.high),
            stop_from - buffer,
            Some(bands.band(1.0)),
            min_rr,
        ),
        Direction::Short => Plan::build(
            direction,
            bar.low - tick(bar.low),
            stop_from + buffer,
            Some(bands.band(-1.0)),
            min_rr,
        ),
    }
}

/// Emits the cross `c` when this bar holds it (closes on the cross's side); whether a
/// detection fired.
fn held_cross(
    ctx: &BarContext<'_>,
    out: &mut Emitter<'_>,
    c: Cross,
    bands: VwapBands,
    buffer: f64,
) -> bool {
    let cfg = &ctx.config.vwap;
    let bar = ctx.bar;
    let vwap = bands.vwap;
    let holds = (bar.close - vwap) * c.direction.sign() > 0.0;
    let kind = kind_of(c.direction);
    if !holds || !out.allows(kind, c.direction, 0) {
        return false;
    }
    let stop_from = match c.direction {
        Direction::Long => bar.low.min(c.bar.low),
        Direction::Short => bar.high.max(c.bar.high),
    };
    let Some(plan) = plan_from(ctx, c.direction, stop_from, bands, buffer) else {
        return false;
    };
    let confidence = CROSS_BASE
        + run_points(c.run, cfg.min_bars_on_side)
        + ((ctx.volume.ratio().unwrap_or(1.0) - 1.0) * CROSS_VOLUME_POINTS_PER_RATIO)
            .clamp(0.0, CROSS_VOLUME_POINTS_MAX);
    out.emit(ctx, kind, plan, 0, confidence, |_| {
        let (from, to) = if c.direction == Direction::Long {
            ("below", "above")
        } else {
            ("above", "below")
        };
        Description {
            dedup_key: "VWAP".to_string(),
            rationale: format!(
                "After {} closes {from} VWAP, closed {} {to} VWAP {} and this bar held with a close of {} (VWAP {}); {}.",
                c.run,
                px(c.bar.close),
                px(c.vwap),
                px(bar.close),
                px(vwap),
                ctx.volume.describe(),
            ),
        }
    })
}

/// Emits a wick into VWAP rejected from the side price held: it reaches VWAP but not more
/// than the level tolerance past it (a spike far through VWAP is not a test of it), and
/// closes in the half of its range away from VWAP.
fn wick_rejection(
    ctx: &BarContext<'_>,
    out: &mut Emitter<'_>,
    runs: RunsBefore,
    bands: VwapBands,
    buffer: f64,
) {
    let cfg = &ctx.config.vwap;
    let bar = ctx.bar;
    let vwap = bands.vwap;
    let mid = (bar.high + bar.low) / 2.0;
    let Some(tol) = ctx.tolerance(
        ctx.config.break_retest.tolerance_atr1m,
        ctx.config.break_retest.tolerance_pct,
    ) else {
        return;
    };
    let (direction, run) = if runs.below >= cfg.min_bars_on_side
        && bar.close < vwap
        && bar.high >= vwap
        && bar.high <= vwap + tol
        && bar.close < mid
    {
        (Direction::Short, runs.below)
    } else if runs.above >= cfg.min_bars_on_side
        && bar.close > vwap
        && bar.low <= vwap
        && bar.low >= vwap - tol
        && bar.close > mid
    {
        (Direction::Long, runs.above)
    } else {
        return;
    };
    let kind = kind_of(direction);
    if !out.allows(kind, direction, 0) {
        return;
    }
    let stop_from = match direction {
        Direction::Long => bar.low,
        Direction::Short => bar.high,
    };
    let Some(plan) = plan_from(ctx, direction, stop_from, bands, buffer) else {
        return;
    };
    let wick = match direction {
        Direction::Long => bar.close.min(bar.open) - bar.low,
        Direction::Short => bar.high - bar.close.max(bar.open),
    };
    let range = bar.range();
    let confidence = WICK_BASE
        + run_points(run, cfg.min_bars_on_side)
        + if range > 0.0 {
            (wick / range * WICK_POINTS_FULL_RANGE).min(WICK_POINTS_FULL_RANGE)
        } else {
            0.0
        };
    out.emit(ctx, kind, plan, 0, confidence, |_| {
        let (side, into, half) = if direction == Direction::Long {
            ("above", "low", "upper")
        } else {
            ("below", "high", "lower")
        };
        Description {
            dedup_key: "VWAP".to_string(),
            rationale: format!(
                "After {run} closes {side} VWAP, the bar's {into} {} reached VWAP {} and it closed {} in the {half} half of its {}–{} range; {}.",
                px(if direction == Direction::Long { bar.low } else { bar.high }),
                px(vwap),
                px(bar.close),
                px(bar.low),
                px(bar.high),
                ctx.volume.describe(),
            ),
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    /// `flat` bars at 100.00 (VWAP 100) from 09:30, then six closes at 99.80 below VWAP.
    fn six_closes_below_vwap(flat: usize) -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(flat, 100.0, 0.05, 1000.0);
        s.quiet(6, 99.8, 0.05, 1000.0);
        s
    }

    #[test]
    fn a_close_back_above_vwap_held_by_the_next_bar_is_a_reclaim() {
        let mut s = six_closes_below_vwap(30);
        s.bar(99.85, 100.12, 99.84, 100.10, 1000.0); // 10:06 crosses
        let held = s.bar(100.10, 100.20, 100.05, 100.15, 1000.0); // 10:07 holds
        let found: Vec<_> = held
            .iter()
            .filter(|d| d.kind == SetupKind::VwapReclaim)
            .collect();
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.entry, 100.21);
        // below the cross bar's low 99.84 by 0.25 ATR1m (0.1185): 99.8104 → 99.81
        assert_eq!(d.stop, 99.81);
        assert_eq!(d.target, 100.81);
        assert!(
            d.rationale
                .starts_with("After 6 closes below VWAP, closed 100.10 above VWAP 99.97"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn a_cross_the_next_bar_gives_back_is_not_a_reclaim() {
        let mut s = six_closes_below_vwap(30);
        s.bar(99.85, 100.12, 99.84, 100.10, 1000.0);
        s.bar(100.10, 100.12, 99.85, 99.90, 1000.0);
        assert!(s.of_kind(SetupKind::VwapReclaim).is_empty());
    }

    #[test]
    fn no_vwap_signal_before_10_00() {
        let mut s = six_closes_below_vwap(10);
        s.bar(99.85, 100.12, 99.84, 100.10, 1000.0); // 09:46
        s.bar(100.10, 100.20, 100.05, 100.15, 1000.0); // 09:47
        assert!(s.of_kind(SetupKind::VwapReclaim).is_empty());
    }

    #[test]
    fn a_wick_into_vwap_from_below_that_closes_low_is_a_reject() {
        let mut s = six_closes_below_vwap(30);
        let out = s.bar(99.82, 99.98, 99.78, 99.80, 1000.0);
        let found: Vec<_> = out
            .iter()
            .filter(|d| d.kind == SetupKind::VwapReject)
            .collect();
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Short);
        assert_eq!(d.entry, 99.77, "one tick below the wick bar's low");
        assert!(d.stop > 99.98, "above the wick");
        assert!(
            d.rationale
                .contains("the bar's high 99.98 reached VWAP 99.96"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn a_spike_far_through_vwap_is_not_a_test_of_it() {
        let mut s = six_closes_below_vwap(30);
        s.bar(99.82, 101.50, 99.78, 99.80, 1000.0);
        assert!(s.of_kind(SetupKind::VwapReject).is_empty());
    }

    #[test]
    fn a_wick_that_closes_in_the_upper_half_is_not_a_reject() {
        let mut s = six_closes_below_vwap(30);
        s.bar(99.80, 99.98, 99.78, 99.95, 1000.0);
        assert!(s.of_kind(SetupKind::VwapReject).is_empty());
    }
}
