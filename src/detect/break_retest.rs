//! `break_retest`: a close through a key level (prior day high/low/close, pre-market
//! high/low, opening range, pivots, round numbers, GEX walls) on relative volume ≥ 1.5,
//! then 3–30 bars later a pullback to within tolerance of the level that holds (closes
//! on the break side) on lighter volume than the break. A pullback needs a move to pull
//! back from: price must first trade ≥ 2 tolerances beyond the level (calibration; see
//! BENCHMARKS.md). A level within tolerance of an earlier level (PDC next to S1) is not
//! watched twice.
//!
//! Tolerance = max(0.15·ATR1m, 0.06 % of price). A break must close beyond the level by
//! at least 0.2 tolerance. A close back through the level by more than the tolerance
//! cancels the break. Plan (long; short mirrors): entry one tick above the retest bar's
//! high; stop below the retest low or level − tolerance, whichever is lower, minus the
//! stop buffer; target 1.5 R.

use super::Detector;
use super::context::BarContext;
use super::plan::{Description, Emitter, Plan, dist, level_key, px, tick};
use crate::domain::{Direction, SetupKind};
use crate::market::levels::LevelId;

#[derive(Clone, Copy, Debug)]
struct PendingBreak {
    direction: Direction,
    level: f64,
    bar_index: u32,
    break_close: f64,
    /// Furthest close beyond the level since the break (the move a retest pulls back from).
    extension: f64,
    /// Relative volume of the break bar (`None` when the volume test was skipped).
    break_volume: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct BreakRetest {
    pending: [Option<PendingBreak>; LevelId::COUNT],
}

impl Detector for BreakRetest {
    fn start_session(&mut self) {
        self.pending = [None; LevelId::COUNT];
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.break_retest;
        if !cfg.enabled {
            return;
        }
        let (Some(tol), Some(buffer)) = (
            ctx.tolerance(cfg.tolerance_atr1m, cfg.tolerance_pct),
            ctx.stop_buffer(),
        ) else {
            return;
        };
        // the level each direction fired at this bar: one retest per direction per bar
        let mut fired: [Option<f64>; 2] = [None; 2];
        for (id, level) in ctx.levels().iter() {
            let slot = &mut self.pending[id.index()];
            if slot.is_some_and(|p| p.level != level) {
                *slot = None;
            }
            if let Some(p) = *slot {
                let Some(retest) = follow_break(slot, p, ctx, tol) else {
                    continue;
                };
                let d = if p.direction == Direction::Long { 0 } else { 1 };
                if fired[d].is_some() {
                    continue;
                }
                *slot = None;
                if emit_retest(ctx, out, id, &retest, tol, buffer) {
                    fired[d] = Some(level);
                }
            } else {
                *slot = break_at(ctx, id, level, tol);
            }
        }
        self.drop_bunched(&fired, tol);
    }
}

impl BreakRetest {
    /// Levels bunched with the one that fired (PDC next to S1) are the same retest.
    fn drop_bunched(&mut self, fired: &[Option<f64>; 2], tol: f64) {
        for (d, direction) in [(0, Direction::Long), (1, Direction::Short)] {
            if let Some(level) = fired[d] {
                for slot in &mut self.pending {
                    if slot
                        .is_some_and(|p| p.direction == direction && (p.level - level).abs() <= tol)
                    {
                        *slot = None;
                    }
                }
            }
        }
    }
}

/// A close through `level` by at least 0.2 tolerance on enough relative volume: the
/// break a retest is then waited for.
fn break_at(ctx: &BarContext<'_>, id: LevelId, level: f64, tol: f64) -> Option<PendingBreak> {
    let cfg = &ctx.config.break_retest;
    let bar = ctx.bar;
    let previous = ctx.previous_close();
    let direction = if previous <= level && bar.close >= level + 0.2 * tol {
        Direction::Long
    } else if previous >= level && bar.close <= level - 0.2 * tol {
        Direction::Short
    } else {
        return None;
    };
    let volume = ctx.volume.test(cfg.min_relative_volume);
    if !volume.passed() || ctx.levels().is_shadowed(id, level, tol) {
        return None;
    }
    Some(PendingBreak {
        direction,
        level,
        bar_index: ctx.index,
        break_close: bar.close,
        extension: if direction == Direction::Long {
            bar.high
        } else {
            bar.low
        },
        break_volume: ctx.volume.ratio(),
    })
}

/// This bar as a retest of a pending break.
struct Retest {
    pending: PendingBreak,
    /// Bars since the break.
    age: u32,
    /// The bar's extreme toward the level (its low on a long).
    near: f64,
    /// The retest bar's relative volume.
    volume: Option<f64>,
}

/// Follows the pending break `p` in `slot` through this bar: drops it when too late or
/// closed back through the level, extends its move, and returns the retest when this bar
/// pulled back to within tolerance of the level and held, on lighter volume than the
/// break, after the minimum bars and a move of at least 2 tolerances.
fn follow_break(
    slot: &mut Option<PendingBreak>,
    p: PendingBreak,
    ctx: &BarContext<'_>,
    tol: f64,
) -> Option<Retest> {
    let cfg = &ctx.config.break_retest;
    let bar = ctx.bar;
    let level = p.level;
    let age = ctx.index.saturating_sub(p.bar_index);
    let s = p.direction.sign();
    if age > cfg.max_retest_bars || (level - bar.close) * s > tol {
        // too late, or closed back through the level: the break failed
        *slot = None;
        return None;
    }
    let extended = (p.extension - level) * s >= 2.0 * tol;
    if age < cfg.min_retest_bars || !extended {
        if let Some(q) = slot.as_mut() {
            q.extension = if s > 0.0 {
                q.extension.max(bar.high)
            } else {
                q.extension.min(bar.low)
            };
        }
        return None;
    }
    // pullback reached the level zone (within tolerance) and closed on the break side
    let near = match p.direction {
        Direction::Long => bar.low,
        Direction::Short => bar.high,
    };
    let reached = (near - level).abs() <= tol;
    let held = (bar.close - level) * s > 0.0;
    let retest_volume = ctx.volume.ratio();
    let lighter = match (p.break_volume, retest_volume) {
        (Some(b), Some(r)) => r < b,
        (None, _) => true,
        (Some(_), None) => ctx.volume.skippable,
    };
    (reached && held && lighter).then_some(Retest {
        pending: p,
        age,
        near,
        volume: retest_volume,
    })
}

/// Emits the retest of `id`'s level; whether it fired.
fn emit_retest(
    ctx: &BarContext<'_>,
    out: &mut Emitter<'_>,
    id: LevelId,
    retest: &Retest,
    tol: f64,
    buffer: f64,
) -> bool {
    let cfg = &ctx.config.break_retest;
    let bar = ctx.bar;
    let p = retest.pending;
    let (level, near, age, retest_volume) = (p.level, retest.near, retest.age, retest.volume);
    let key = level_key(id, level);
    if !out.allows(SetupKind::BreakRetest, p.direction, key) {
        return false;
    }
    let plan = match p.direction {
        Direction::Long => Plan::build(
            p.direction,
            bar.high + tick(bar.high),
            near.min(level - tol) - buffer,
            None,
            ctx.config.min_reward_risk,
        ),
        Direction::Short => Plan::build(
            p.direction,
            bar.low - tick(bar.low),
            near.max(level + tol) + buffer,
            None,
            ctx.config.min_reward_risk,
        ),
    };
    let Some(plan) = plan else { return false };
    let lighter_by = match (p.break_volume, retest_volume) {
        (Some(b), Some(r)) if b > 0.0 => (1.0 - r / b).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let confidence = 62.0
        + lighter_by * 15.0
        + ((p.break_volume.unwrap_or(1.5) - cfg.min_relative_volume) * 5.0).clamp(0.0, 10.0)
        + if matches!(
            id,
            LevelId::PriorHigh | LevelId::PriorLow | LevelId::PriorClose
        ) {
            5.0
        } else {
            0.0
        };
    out.emit(ctx, SetupKind::BreakRetest, plan, key, confidence, |_| {
        let (through, pulled) = if p.direction == Direction::Long {
            ("above", "low")
        } else {
            ("below", "high")
        };
        let volumes = match (p.break_volume, retest_volume) {
            (Some(b), Some(r)) => format!("relative volume {b:.1}× on the break, {r:.1}× on the retest"),
            _ => ctx.volume.describe(),
        };
        Description {
            dedup_key: format!("{} {}", id.label(), px(level)),
            rationale: format!(
                "Broke {through} {} {} with a close of {} {age} bars ago, retested it (bar {pulled} {}, within tolerance {}) and held with a close of {}; {volumes}.",
                id.label(),
                px(level),
                px(p.break_close),
                px(near),
                dist(tol),
                px(bar.close),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    /// Prior day high 101.00; quiet at 100.70 (ATR1m 0.10), then a close of 101.10 on
    /// double volume through the PDH and a push to 101.30.
    fn broken_prior_high() -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.7, 0.05, 1000.0);
        s.bar(100.75, 101.12, 100.74, 101.10, 2000.0); // the break, minute 20
        s.bar(101.10, 101.30, 101.08, 101.25, 1000.0);
        s.bar(101.25, 101.30, 101.20, 101.25, 1000.0);
        s
    }

    #[test]
    fn a_held_pullback_to_a_broken_prior_day_high_on_lighter_volume_is_a_long() {
        let mut s = broken_prior_high();
        s.bar(101.20, 101.22, 101.03, 101.15, 600.0); // retest 3 bars after the break
        let found = s.of_kind(SetupKind::BreakRetest);
        assert_eq!(found.len(), 1, "{:?}", s.detections);
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.dedup_key, "PDH 101.00");
        assert_eq!(d.entry, 101.23);
        // tolerance max(0.15·0.122, 0.06 % of 101.15) = 0.0607; stop below 101 − 0.0607
        // by 0.25 ATR1m (0.0305): 100.9088 → 100.90
        assert_eq!(d.stop, 100.90);
        assert_eq!(d.target, 101.73, "1.5 R: 101.23 + 1.5 × 0.33");
        assert!(
            d.rationale
                .contains("Broke above PDH 101.00 with a close of 101.10 3 bars ago"),
            "{}",
            d.rationale
        );
        assert!(
            d.rationale.contains("relative volume 2.0× on the break"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn a_retest_on_heavier_volume_than_the_break_is_not_a_setup() {
        let mut s = broken_prior_high();
        s.bar(101.20, 101.22, 101.03, 101.15, 5000.0);
        assert!(s.of_kind(SetupKind::BreakRetest).is_empty());
    }

    #[test]
    fn a_pullback_that_closes_back_below_the_level_cancels_the_break() {
        let mut s = broken_prior_high();
        // closes under both the PDH and the opening-range high 100.75
        s.bar(101.20, 101.22, 100.60, 100.62, 600.0);
        s.bar(100.90, 101.10, 100.98, 101.05, 500.0);
        assert!(
            s.of_kind(SetupKind::BreakRetest).is_empty(),
            "{:?}",
            s.detections
        );
    }

    #[test]
    fn a_break_without_follow_through_has_nothing_to_pull_back_from() {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.7, 0.05, 1000.0);
        s.bar(100.75, 101.05, 100.74, 101.04, 2000.0);
        s.quiet(3, 101.04, 0.02, 1000.0);
        s.bar(101.04, 101.06, 101.01, 101.05, 500.0);
        assert!(s.of_kind(SetupKind::BreakRetest).is_empty());
    }
}
