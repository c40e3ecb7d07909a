//! `level_test`: the third touch of one level (prior day, pre-market, opening range,
//! round numbers, GEX walls — not the formula pivots, calibration: see BENCHMARKS.md)
//! from the same side, all within `window_bars` (90) of the first. A touch is a bar whose range
//! comes within tolerance (max(0.15·ATR1m, 0.06 % of price)) of the level; two counted
//! touches are ≥ 5 bars apart and price moved ≥ 2 tolerances away in between. A touch
//! counts only when the level holds it (the bar closes back on the approach side;
//! calibration, see BENCHMARKS.md). A close through the level by more than the tolerance
//! starts the count over. A level within tolerance of an earlier level is not counted twice.
//!
//! Direction by approach: touches from below test resistance; each test absorbs supply,
//! so the third is played as a breakout — long, triggered above the level (from above:
//! short below it). Plan (long): entry one tick above max(signal high, level + tolerance);
//! stop below the signal bar's low minus the stop buffer; target 1.5 R.

use super::Detector;
use super::context::BarContext;
use super::plan::{Description, Emitter, Plan, dist, level_key, px, tick};
use crate::domain::{Bar, Direction, SetupKind};
use crate::market::levels::LevelId;

#[derive(Clone, Copy, Debug, Default)]
struct Touches {
    level: f64,
    count: u32,
    /// Approach side of the counted touches: true = from below.
    from_below: bool,
    first_touch: u32,
    last_touch: u32,
    moved_away: bool,
}

fn is_pivot(id: LevelId) -> bool {
    matches!(
        id,
        LevelId::Pivot | LevelId::R1 | LevelId::R2 | LevelId::S1 | LevelId::S2
    )
}

#[derive(Clone, Debug, Default)]
pub struct LevelTest {
    touches: [Touches; LevelId::COUNT],
}

impl Touches {
    /// No touch of `level` counted yet.
    fn fresh(level: f64) -> Touches {
        Touches {
            level,
            ..Touches::default()
        }
    }

    /// A bar away from the level: it may move far enough away for the next touch to
    /// count, or close through the level by more than the tolerance, which starts over.
    fn bar_away(&mut self, bar: &Bar, tol: f64, move_away_tolerances: f64) {
        if self.count == 0 {
            return;
        }
        let level = self.level;
        let away = if self.from_below {
            level - bar.low
        } else {
            bar.high - level
        };
        if away >= move_away_tolerances * tol {
            self.moved_away = true;
        }
        let through = if self.from_below {
            bar.close - level
        } else {
            level - bar.close
        };
        if through > tol {
            *self = Touches::fresh(level);
        }
    }
}

impl Detector for LevelTest {
    fn start_session(&mut self) {
        self.touches = [Touches::default(); LevelId::COUNT];
    }

    fn on_bar(&mut self, ctx: &BarContext<'_>, out: &mut Emitter<'_>) {
        let cfg = &ctx.config.level_test;
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
        // the level each direction fired at this bar (long, short)
        let mut fired_at: [Option<f64>; 2] = [None; 2];
        for (id, level) in ctx.levels().iter() {
            if is_pivot(id) {
                continue;
            }
            let t = &mut self.touches[id.index()];
            if t.level != level {
                *t = Touches::fresh(level);
            }
            let touching = bar.low <= level + tol && bar.high >= level - tol;
            if !touching {
                t.bar_away(bar, tol, cfg.move_away_tolerances);
                continue;
            }
            let Some(from_below) = count_touch(t, ctx, id, tol) else {
                continue;
            };
            let count = t.count;
            let d = usize::from(!from_below);
            if fired_at[d].is_some_and(|l| (l - level).abs() <= 2.0 * tol) {
                continue;
            }
            let test = TestedLevel {
                id,
                level,
                from_below,
                count,
            };
            if emit_test(ctx, out, test, tol, buffer) {
                fired_at[d] = Some(level);
            }
        }
    }
}

/// A bar touching `t`'s level: counts it when the level holds it and it is a new touch
/// (after a move away and enough bars), starting a new sequence when the approach side
/// changed or the window passed. `Some(from_below)` when this touch is the configured
/// `touches`-th one.
fn count_touch(t: &mut Touches, ctx: &BarContext<'_>, id: LevelId, tol: f64) -> Option<bool> {
    let cfg = &ctx.config.level_test;
    let bar = ctx.bar;
    let level = t.level;
    if t.count > 0 {
        let through = if t.from_below {
            bar.close - level
        } else {
            level - bar.close
        };
        if through > 0.0 {
            // a close through the level: it did not hold, the sequence is over
            *t = Touches::fresh(level);
            return None;
        }
    }
    if ctx.levels().is_shadowed(id, level, tol) {
        return None;
    }
    let from_below = ctx.previous_close() < level;
    // a test is a touch the level turns away: the bar closes back on its side
    let held = if from_below {
        bar.close < level
    } else {
        bar.close > level
    };
    if !held {
        if t.count > 0 {
            t.last_touch = ctx.index;
        }
        return None;
    }
    let counts = t.count == 0
        || (t.moved_away && ctx.index.saturating_sub(t.last_touch) >= cfg.min_bars_between);
    if !counts {
        // still the same touch: lingering at the level
        t.last_touch = ctx.index;
        return None;
    }
    let stale = ctx.index.saturating_sub(t.first_touch) > cfg.window_bars;
    if t.count == 0 || from_below != t.from_below || stale {
        *t = Touches {
            level,
            count: 1,
            from_below,
            first_touch: ctx.index,
            last_touch: ctx.index,
            moved_away: false,
        };
        return None;
    }
    t.count += 1;
    t.last_touch = ctx.index;
    t.moved_away = false;
    (t.count == cfg.touches).then_some(from_below)
}

/// A level tested often enough: its last touch.
#[derive(Clone, Copy, Debug)]
struct TestedLevel {
    id: LevelId,
    level: f64,
    /// The touches came from below (the level was resistance).
    from_below: bool,
    /// Touches counted, this one included.
    count: u32,
}

/// Emits the level test (played as a breakout through the level); whether it fired.
fn emit_test(
    ctx: &BarContext<'_>,
    out: &mut Emitter<'_>,
    test: TestedLevel,
    tol: f64,
    buffer: f64,
) -> bool {
    let TestedLevel {
        id,
        level,
        from_below,
        count,
    } = test;
    let cfg = &ctx.config.level_test;
    let bar = ctx.bar;
    let direction = if from_below {
        Direction::Long
    } else {
        Direction::Short
    };
    let key = level_key(id, level);
    if !out.allows(SetupKind::LevelTest, direction, key) {
        return false;
    }
    let plan = match direction {
        Direction::Long => {
            let trigger = bar.high.max(level + tol);
            Plan::build(
                direction,
                trigger + tick(trigger),
                bar.low - buffer,
                None,
                ctx.config.min_reward_risk,
            )
        }
        Direction::Short => {
            let trigger = bar.low.min(level - tol);
            Plan::build(
                direction,
                trigger - tick(trigger),
                bar.high + buffer,
                None,
                ctx.config.min_reward_risk,
            )
        }
    };
    let Some(plan) = plan else { return false };
    let important = matches!(
        id,
        LevelId::PriorHigh
            | LevelId::PriorLow
            | LevelId::PreMarketHigh
            | LevelId::PreMarketLow
            | LevelId::CallWall
            | LevelId::PutWall
    );
    let confidence = 60.0
        + if important { 8.0 } else { 0.0 }
        + ((ctx.volume.ratio().unwrap_or(1.0) - 1.0) * 5.0).clamp(0.0, 8.0);
    out.emit(ctx, SetupKind::LevelTest, plan, key, confidence, |_| {
        let (side, role) = if from_below { ("below", "resistance") } else { ("above", "support") };
        Description {
            dedup_key: format!("{} {}", id.label(), px(level)),
            rationale: format!(
                "Touch {count} of {} {} from {side} (bar {}–{}, tolerance {}, touches ≥ {} bars apart with moves ≥ {} away between); {role} tested {count} times, trigger on a break through it; {}.",
                id.label(),
                px(level),
                px(bar.low),
                px(bar.high),
                dist(tol),
                cfg.min_bars_between,
                dist(cfg.move_away_tolerances * tol),
                ctx.volume.describe(),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::detect::testkit::{Scenario, assert_plan_is_sound};
    use crate::domain::{Direction, SetupKind};

    /// Prior day high 101.00 (also R1 and a round number: one level). Price sits at
    /// 100.70 and rises to touch 101 from below every `gap` bars, `touches` times.
    fn touches_of_prior_high(touches: usize, gap: usize) -> Scenario {
        let mut s = Scenario::new("SPY").prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.7, 0.05, 1000.0);
        for _ in 0..touches {
            s.bar(100.85, 100.98, 100.84, 100.88, 1000.0);
            s.quiet(gap - 1, 100.7, 0.05, 1000.0);
        }
        s
    }

    #[test]
    fn the_third_held_touch_of_the_prior_day_high_from_below_is_a_long_trigger() {
        let s = touches_of_prior_high(3, 10);
        let found = s.of_kind(SetupKind::LevelTest);
        assert_eq!(
            found.len(),
            1,
            "one level, though PDH, R1 and 101 coincide: {:?}",
            s.detections
        );
        let d = found[0];
        assert_eq!(d.direction, Direction::Long);
        assert_eq!(d.dedup_key, "PDH 101.00");
        assert_eq!(d.bar_time, crate::detect::testkit::at(s.date, 40));
        // a tick above the level plus tolerance (0.06 % of 100.88 = 0.0605): 101.0705 → 101.08
        assert_eq!(d.entry, 101.08);
        assert!(d.stop < 100.84, "below the touch bar's low");
        assert!(
            d.rationale.starts_with("Touch 3 of PDH 101.00 from below"),
            "{}",
            d.rationale
        );
        assert_plan_is_sound(d);
    }

    #[test]
    fn two_touches_are_not_a_level_test() {
        let s = touches_of_prior_high(2, 10);
        assert!(s.of_kind(SetupKind::LevelTest).is_empty());
    }

    #[test]
    fn touches_closer_than_five_bars_count_as_one() {
        let s = touches_of_prior_high(3, 3);
        assert!(s.of_kind(SetupKind::LevelTest).is_empty());
    }

    #[test]
    fn a_close_through_the_level_starts_the_count_over() {
        let mut s = touches_of_prior_high(2, 10);
        s.bar(100.9, 101.3, 100.9, 101.2, 1000.0);
        s.quiet(9, 100.7, 0.05, 1000.0);
        s.bar(100.85, 100.98, 100.84, 100.88, 1000.0);
        assert!(s.of_kind(SetupKind::LevelTest).is_empty());
    }
}
