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
use super::plan::{Description, Emitter, Plan, level_key, px, tick};
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
        let bar = ctx.bar;
        let previous = ctx.previous_close();
        // the level each direction fired at this bar: one retest per direction per bar
        let mut fired: [Option<f64>; 2] = [None; 2];
        for (id, level) in ctx.levels().iter() {
            let slot = &mut self.pending[id.index()];
            if slot.is_some_and(|p| p.level != level) {
                *slot = None;
            }
            if let Some(p) = *slot {
                let age = ctx.index.saturating_sub(p.bar_index);
                let s = p.direction.sign();
                if age > cfg.max_retest_bars || (level - bar.close) * s > tol {
                    // too late, or closed back through the level: the break failed
                    *slot = None;
                    continue;
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
                    continue;
                }
                // pullback reached the level zone (within tolerance) and closed on the break side
                let (near, extreme) = match p.direction {
                    Direction::Long => (bar.low, bar.low),
                    Direction::Short => (bar.high, bar.high),
                };
                let reached = (near - level).abs() <= tol;
                let held = (bar.close - level) * s > 0.0;
                let retest_volume = ctx.volume.ratio();
                let lighter = match (p.break_volume, retest_volume) {
                    (Some(b), Some(r)) => r < b,
                    (None, _) => true,
                    (Some(_), None) => ctx.volume.skippable,
                };
                let d = if p.direction == Direction::Long { 0 } else { 1 };
                if !(reached && held && lighter) || fired[d].is_some() {
                    continue;
                }
                *slot = None;
                let key = level_key(id, level);
                if !out.allows(SetupKind::BreakRetest, p.direction, key) {
                    continue;
                }
                let plan = match p.direction {
                    Direction::Long => Plan::build(
                        p.direction,
                        bar.high + tick(bar.high),
                        extreme.min(level - tol) - buffer,
                        None,
                        ctx.config.min_reward_risk,
                    ),
                    Direction::Short => Plan::build(
                        p.direction,
                        bar.low - tick(bar.low),
                        extreme.max(level + tol) + buffer,
                        None,
                        ctx.config.min_reward_risk,
                    ),
                };
                let Some(plan) = plan else { continue };
                let lighter_by = match (p.break_volume, retest_volume) {
                    (Some(b), Some(r)) if b > 0.0 => (1.0 - r / b).clamp(0.0, 1.0),
                    _ => 0.0,
                };
                let confidence = 62.0
                    + lighter_by * 15.0
                    + ((p.break_volume.unwrap_or(1.5) - cfg.min_relative_volume) * 5.0)
                        .clamp(0.0, 10.0)
                    + if matches!(
                        id,
                        LevelId::PriorHigh | LevelId::PriorLow | LevelId::PriorClose
                    ) {
                        5.0
                    } else {
                        0.0
                    };
                let emitted = out.emit(ctx, SetupKind::BreakRetest, plan, key, confidence, |_| {
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
                            px(tol),
                            px(bar.close),
                        ),
                    }
                });
                if emitted {
                    fired[d] = Some(level);
                }
            } else {
                let direction = if previous <= level && bar.close >= level + 0.2 * tol {
                    Direction::Long
                } else if previous >= level && bar.close <= level - 0.2 * tol {
                    Direction::Short
                } else {
                    continue;
                };
                let volume = ctx.volume.test(cfg.min_relative_volume);
                if !volume.passed() || ctx.levels().is_shadowed(id, level, tol) {
                    continue;
                }
                *slot = Some(PendingBreak {
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
                });
            }
        }
        // levels bunched with the one that fired (PDC next to S1) are the same retest
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
