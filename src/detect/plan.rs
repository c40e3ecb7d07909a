//! Trade plans (entry, stop, target), the once-per-session dedup, and the emitter that
//! turns a detector's finding into a [`Detection`] — building strings only when it fires.

use super::context::BarContext;
use crate::domain::{Detection, Direction, SetupKind};
use crate::market::levels::LevelId;

/// Smallest price step used for plan prices: a cent, or 1/100 cent below $1.
pub fn tick(price: f64) -> f64 {
    if price.abs() >= 1.0 { 0.01 } else { 0.0001 }
}

fn round_up(x: f64, tick: f64) -> f64 {
    (x / tick - 1e-7).ceil() * tick
}

fn round_down(x: f64, tick: f64) -> f64 {
    (x / tick + 1e-7).floor() * tick
}

/// Normalises binary noise after rounding (168.43000000000001 → 168.43).
fn clean(x: f64, tick: f64) -> f64 {
    let decimals = if tick >= 0.01 { 100.0 } else { 10_000.0 };
    (x * decimals).round() / decimals
}

/// A trade plan: for a long `stop < entry < target`, for a short `target < entry < stop`,
/// and `|target − entry| ≥ min_reward_risk · |entry − stop|`. Prices rounded to the tick,
/// entry and target away from the market side, the stop outward.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub direction: Direction,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
}

impl Plan {
    /// Builds a plan from a trigger price and a stop; the target is the natural target
    /// when it is at least `min_reward_risk` R away, else `min_reward_risk` R. Returns
    /// `None` for NaN input, a stop on the wrong side, or a short target at or below 0.
    pub fn build(
        direction: Direction,
        entry: f64,
        stop: f64,
        natural_target: Option<f64>,
        min_reward_risk: f64,
    ) -> Option<Plan> {
        Plan::build_inner(
            direction,
            entry,
            stop,
            natural_target,
            min_reward_risk,
            false,
        )
    }

    /// Like [`Plan::build`] but the natural target is required: `None` when it is less
    /// than `min_reward_risk` R away (gap fill: the prior close is the only target).
    pub fn build_to(
        direction: Direction,
        entry: f64,
        stop: f64,
        target: f64,
        min_reward_risk: f64,
    ) -> Option<Plan> {
        Plan::build_inner(direction, entry, stop, Some(target), min_reward_risk, true)
    }

    fn build_inner(
        direction: Direction,
        entry: f64,
        stop: f64,
        natural: Option<f64>,
        min_rr: f64,
        natural_required: bool,
    ) -> Option<Plan> {
        if !(entry.is_finite() && stop.is_finite() && entry > 0.0 && min_rr.is_finite()) {
            return None;
        }
        let t = tick(entry);
        let sign = direction.sign();
        let (entry, stop) = match direction {
            Direction::Long => (round_up(entry, t), round_down(stop, t)),
            Direction::Short => (round_down(entry, t), round_up(stop, t)),
        };
        let (entry, stop) = (clean(entry, t), clean(stop, t));
        let risk = (entry - stop) * sign;
        if !risk.is_finite() || risk < t * 0.999 || stop <= 0.0 {
            return None;
        }
        let minimum = entry + sign * min_rr * risk;
        let natural = natural.filter(|n| n.is_finite());
        let target = match natural {
            Some(n) if (n - minimum) * sign >= 0.0 => n,
            Some(_) if natural_required => return None,
            None if natural_required => return None,
            _ => minimum,
        };
        let target = match direction {
            Direction::Long => round_up(target, t),
            Direction::Short => round_down(target, t),
        };
        let target = clean(target, t);
        if !target.is_finite()
            || target <= 0.0
            || (target - entry) * sign < min_rr * risk - t * 1e-3
        {
            return None;
        }
        Some(Plan {
            direction,
            entry,
            stop,
            target,
        })
    }

    pub fn risk(&self) -> f64 {
        (self.entry - self.stop).abs()
    }

    pub fn reward_risk(&self) -> f64 {
        (self.target - self.entry).abs() / self.risk()
    }
}

/// A dedup identity within a (kind, direction): a level's slot and price, or 0 for a
/// detector that fires on one thing per session.
pub fn level_key(id: LevelId, price: f64) -> u64 {
    let cents = (price * 100.0).round();
    let cents = if cents.is_finite() && cents >= 0.0 {
        cents as u64
    } else {
        0
    };
    ((id as u64) << 56) | (cents & ((1 << 56) - 1))
}

#[derive(Clone, Copy, Debug)]
struct DedupEntry {
    kind: SetupKind,
    direction: Direction,
    key: u64,
    reference: f64,
    reset_distance: f64,
    armed: bool,
    /// Detections emitted for this key this session.
    emitted: u32,
}

/// "At most once per session unless price first moves away": a fired
/// (kind, direction, key) is suppressed until a bar trades `reset_distance` away from its
/// entry. Cleared at each session. Holds a handful of entries, allocated at the first
/// detection (most symbols on most bars have none); no allocation in steady state.
#[derive(Clone, Debug, Default)]
pub struct Dedup {
    entries: Vec<DedupEntry>,
}

impl Dedup {
    pub fn new() -> Self {
        Dedup {
            entries: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Re-arms entries that price has moved away from. O(entries) per bar.
    pub fn on_bar(&mut self, high: f64, low: f64) {
        for e in self.entries.iter_mut().filter(|e| !e.armed) {
            if high >= e.reference + e.reset_distance || low <= e.reference - e.reset_distance {
                e.armed = true;
            }
        }
    }

    pub fn allows(&self, kind: SetupKind, direction: Direction, key: u64) -> bool {
        self.entries
            .iter()
            .find(|e| e.kind == kind && e.direction == direction && e.key == key)
            .is_none_or(|e| e.armed)
    }

    /// Records an emission; returns how many this key has had this session (1 = first).
    fn record(
        &mut self,
        kind: SetupKind,
        direction: Direction,
        key: u64,
        reference: f64,
        reset_distance: f64,
    ) -> u32 {
        let found = self
            .entries
            .iter_mut()
            .find(|e| e.kind == kind && e.direction == direction && e.key == key);
        match found {
            Some(e) => {
                e.reference = reference;
                e.reset_distance = reset_distance;
                e.armed = false;
                e.emitted += 1;
                e.emitted
            }
            None => {
                self.entries.push(DedupEntry {
                    kind,
                    direction,
                    key,
                    reference,
                    reset_distance,
                    armed: false,
                    emitted: 1,
                });
                1
            }
        }
    }
}

/// Where detectors put what they found.
pub struct Emitter<'o> {
    out: &'o mut Vec<Detection>,
    dedup: &'o mut Dedup,
    fired: usize,
}

/// The strings of a detection, built only when it is emitted.
pub struct Description {
    pub dedup_key: String,
    pub rationale: String,
}

impl<'o> Emitter<'o> {
    pub fn new(out: &'o mut Vec<Detection>, dedup: &'o mut Dedup) -> Self {
        Emitter {
            out,
            dedup,
            fired: 0,
        }
    }

    /// Detections emitted through this emitter.
    pub fn fired(&self) -> usize {
        self.fired
    }

    /// Whether (kind, direction, key) may fire now; detectors check this before doing
    /// any work that only matters for an emission.
    pub fn allows(&self, kind: SetupKind, direction: Direction, key: u64) -> bool {
        self.dedup.allows(kind, direction, key)
    }

    /// Emits a detection unless (kind, direction, key) is suppressed. `describe` is
    /// called only when it fires. Returns whether it fired.
    pub fn emit(
        &mut self,
        ctx: &BarContext<'_>,
        kind: SetupKind,
        plan: Plan,
        key: u64,
        confidence: f64,
        describe: impl FnOnce(&Plan) -> Description,
    ) -> bool {
        if !self.dedup.allows(kind, plan.direction, key) {
            return false;
        }
        let reset = ctx.config.dedup_reset_atr1m * ctx.atr1m.unwrap_or(plan.risk());
        let occurrence = self.dedup.record(
            kind,
            plan.direction,
            key,
            plan.entry,
            reset.max(tick(plan.entry)),
        );
        let Description {
            mut dedup_key,
            rationale,
        } = describe(&plan);
        if occurrence > 1 {
            // a re-armed signal is a new row for the store's (symbol, kind, direction,
            // market_date, dedup_key) uniqueness
            dedup_key.push_str(&format!(" #{occurrence}"));
        }
        self.out.push(Detection {
            symbol: ctx.symbol.clone(),
            kind,
            direction: plan.direction,
            confidence: clamp_confidence(confidence),
            entry: plan.entry,
            stop: plan.stop,
            target: plan.target,
            detected_at: ctx.bar_end(),
            bar_time: ctx.bar.start,
            market_date: ctx.session.date,
            dedup_key,
            rationale,
            gex: None,
        });
        self.fired += 1;
        true
    }
}

/// Rounds to an integer in 0..=100; NaN gives 0.
pub fn clamp_confidence(value: f64) -> u8 {
    if value.is_nan() {
        0
    } else {
        value.round().clamp(0.0, 100.0) as u8
    }
}

/// A price for rationales and keys: two decimals (four below $1).
pub fn px(price: f64) -> String {
    if price.abs() >= 1.0 {
        format!("{price:.2}")
    } else {
        format!("{price:.4}")
    }
}

/// A distance (a range, a tolerance, ATR) for rationales: two decimals, three below 0.10.
pub fn dist(distance: f64) -> String {
    if distance.abs() >= 0.1 {
        format!("{distance:.2}")
    } else {
        format!("{distance:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_plan_is_ordered_and_reaches_at_least_one_and_a_half_r() {
        let p = Plan::build(Direction::Long, 100.004, 99.5, None, 1.5).unwrap();
        assert_eq!(p.entry, 100.01);
        assert_eq!(p.stop, 99.5);
        assert_eq!(
            p.target, 100.78,
            "100.01 + 1.5 × 0.51 = 100.775, rounded away"
        );
        assert!(p.stop < p.entry && p.entry < p.target);
        assert!(p.reward_risk() >= 1.5);
    }

    #[test]
    fn a_far_natural_target_is_kept_and_a_near_one_is_pushed_to_the_minimum() {
        let far = Plan::build(Direction::Short, 50.0, 51.0, Some(45.0), 1.5).unwrap();
        assert_eq!(far.target, 45.0);
        let near = Plan::build(Direction::Short, 50.0, 51.0, Some(49.5), 1.5).unwrap();
        assert_eq!(near.target, 48.5);
        assert!(Plan::build_to(Direction::Short, 50.0, 51.0, 49.5, 1.5).is_none());
        assert_eq!(
            Plan::build_to(Direction::Short, 50.0, 51.0, 48.0, 1.5)
                .unwrap()
                .target,
            48.0
        );
    }

    #[test]
    fn a_stop_on_the_wrong_side_or_nan_gives_no_plan() {
        assert!(Plan::build(Direction::Long, 100.0, 100.0, None, 1.5).is_none());
        assert!(Plan::build(Direction::Long, 100.0, 101.0, None, 1.5).is_none());
        assert!(Plan::build(Direction::Short, 100.0, 99.0, None, 1.5).is_none());
        assert!(Plan::build(Direction::Long, f64::NAN, 99.0, None, 1.5).is_none());
        assert!(Plan::build(Direction::Long, 100.0, f64::NEG_INFINITY, None, 1.5).is_none());
        // a short whose 1.5 R target would be below zero
        assert!(Plan::build(Direction::Short, 0.5, 0.9, None, 1.5).is_none());
    }

    #[test]
    fn confidence_is_clamped_and_nan_is_zero() {
        assert_eq!(clamp_confidence(104.2), 100);
        assert_eq!(clamp_confidence(-3.0), 0);
        assert_eq!(clamp_confidence(67.5), 68);
        assert_eq!(clamp_confidence(f64::NAN), 0);
    }

    #[test]
    fn a_fired_key_is_suppressed_until_price_moves_away_by_the_reset_distance() {
        let mut d = Dedup::new();
        let k = level_key(LevelId::PriorHigh, 101.25);
        assert_eq!(
            d.record(SetupKind::BreakRetest, Direction::Long, k, 101.5, 0.5),
            1
        );
        assert!(!d.allows(SetupKind::BreakRetest, Direction::Long, k));
        assert!(
            d.allows(SetupKind::BreakRetest, Direction::Short, k),
            "other direction"
        );
        assert!(
            d.allows(SetupKind::LevelTest, Direction::Long, k),
            "other kind"
        );
        d.on_bar(101.9, 101.2);
        assert!(
            !d.allows(SetupKind::BreakRetest, Direction::Long, k),
            "0.4 away is not enough"
        );
        d.on_bar(101.6, 100.99);
        assert!(
            d.allows(SetupKind::BreakRetest, Direction::Long, k),
            "0.51 below re-arms"
        );
        assert_eq!(
            d.record(SetupKind::BreakRetest, Direction::Long, k, 101.0, 0.5),
            2
        );
        assert!(!d.allows(SetupKind::BreakRetest, Direction::Long, k));
        d.clear();
        assert!(d.allows(SetupKind::BreakRetest, Direction::Long, k));
    }

    #[test]
    fn level_keys_differ_by_level_and_price() {
        assert_ne!(
            level_key(LevelId::PriorHigh, 100.0),
            level_key(LevelId::PriorLow, 100.0)
        );
        assert_ne!(
            level_key(LevelId::PriorHigh, 100.0),
            level_key(LevelId::PriorHigh, 100.01)
        );
        assert_eq!(
            level_key(LevelId::R1, f64::NAN),
            level_key(LevelId::R1, 0.0)
        );
    }
}
