//! The automatic transitions (SPEC 5): every price update against each live setup of its
//! symbol, and the expiry of active setups at the session close. Pure: the caller passes
//! the update, the close and the current instant.
//!
//! Rules, for a long (a short mirrors them, with high and low swapped and the comparisons
//! reversed):
//! - active: low ≤ stop → `invalidated` (`stop_before_entry`); else high ≥ entry →
//!   `triggered` with outcome `open` (`entry_crossed`).
//! - triggered, outcome open: low ≤ stop → outcome `stopped_out`; else high ≥ target →
//!   outcome `target_hit`.
//!
//! **Honest fills.** A transition's price is the level crossed, or — when the update lies
//! entirely beyond it — the update's price nearest to it: the level clamped into the
//! update's `[low, high]`. The trigger's price is the fill, the resolution's the exit, and
//! the realised R is measured between them (`lifecycle::realised_r`), so a long whose
//! update gaps above its entry fills at the update's low, and a gap through the stop books
//! what really happened (worse than −1 R). A plan tracked after price already passed its
//! entry fills at the next update's price the same way.
//!
//! Conservative conventions, where one update cannot tell the order of events:
//! - **The stop wins.** An update whose range spans the stop and the entry (or the stop
//!   and the target) resolves against the trader: invalidated, or stopped out.
//! - **One transition per update.** A bar that crosses the entry and also reaches the
//!   target triggers the setup; the target is judged from the next update on, because the
//!   bar may have reached the target before the entry filled.
//! - **Gaps.** An update entirely beyond a level (a gap bar, a trade after a halt) counts
//!   as crossing it, at the update's price nearest to the level: a long gapping below both
//!   stop and entry is invalidated, one gapping above entry and target is triggered at the
//!   bar's low (target from the next update), a triggered long gapping below its stop is
//!   stopped out at the bar's high.
//! - **Stale prices.** An active setup ignores updates at or before `armed_at`, a
//!   triggered one updates at or before `triggered_at` (e.g. a backfilled minute from
//!   before the setup was tracked).
//! - **Bad prices.** An update with a non-finite price or with `low > high` or `last`
//!   outside `[low, high]` is ignored; so is a setup whose plan is not ordered.
//!
//! Which updates to feed (regular session only, or extended hours too) is the caller's
//! choice.

use chrono::{DateTime, Duration, Utc};

use super::lifecycle::{Outcome, SetupStatus, TrackedSetup, Transition, TransitionReason};
use crate::domain::{Bar, Direction};

/// One price observation for a symbol: a trade (`high = low = last`), a streaming
/// aggregate or a bar. `at` is when the observation is complete: the trade's time, or the
/// end of the aggregate/bar. Prices in the instrument's quote currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriceUpdate {
    pub at: DateTime<Utc>,
    pub high: f64,
    pub low: f64,
    pub last: f64,
}

impl PriceUpdate {
    /// A single trade (or an index value) at `price`.
    pub fn trade(at: DateTime<Utc>, price: f64) -> Self {
        PriceUpdate {
            at,
            high: price,
            low: price,
            last: price,
        }
    }

    /// A finished 1-minute bar, observed at its end (start + 1 minute).
    pub fn minute_bar(bar: &Bar) -> Self {
        PriceUpdate {
            at: bar.start + Duration::minutes(1),
            high: bar.high,
            low: bar.low,
            last: bar.close,
        }
    }

    /// Finite prices with `low ≤ last ≤ high`.
    pub fn is_valid(&self) -> bool {
        self.high.is_finite()
            && self.low.is_finite()
            && self.last.is_finite()
            && self.low <= self.last
            && self.last <= self.high
    }
}

/// The transition `update` causes on `setup`, if any (at most one; see the module rules).
/// The transition's `at` is `update.at`; its `price` is the level crossed, or — when the
/// update lies entirely beyond the level (a gap) — the update's price nearest to it.
pub fn evaluate(setup: &TrackedSetup, update: &PriceUpdate) -> Option<Transition> {
    if !update.is_valid() || setup.check_plan().is_err() {
        return None;
    }
    // Adverse and favourable extremes of the update for the setup's direction.
    let (adverse, favourable) = match setup.direction {
        Direction::Long => (update.low, update.high),
        Direction::Short => (update.high, update.low),
    };
    let long = setup.direction == Direction::Long;
    // The adverse extreme is at or through the stop.
    let breaches = |level: f64| {
        if long {
            adverse <= level
        } else {
            adverse >= level
        }
    };
    // The favourable extreme is at or through the entry or target.
    let reaches = |level: f64| {
        if long {
            favourable >= level
        } else {
            favourable <= level
        }
    };
    let (reason, level) = match (setup.status, setup.outcome) {
        (SetupStatus::Active, _) => {
            if update.at <= setup.armed_at {
                return None;
            }
            if breaches(setup.stop) {
                (TransitionReason::StopBeforeEntry, setup.stop)
            } else if reaches(setup.entry) {
                (TransitionReason::EntryCrossed, setup.entry)
            } else {
                return None;
            }
        }
        (SetupStatus::Triggered, Some(Outcome::Open)) => {
            if update.at <= setup.triggered_at.unwrap_or(setup.armed_at) {
                return None;
            }
            if breaches(setup.stop) {
                (TransitionReason::StoppedOut, setup.stop)
            } else if reaches(setup.target) {
                (TransitionReason::TargetHit, setup.target)
            } else {
                return None;
            }
        }
        _ => return None,
    };
    let price = level.clamp(update.low, update.high);
    Transition::compute(setup, reason, Some(price), update.at).ok()
}

/// Evaluates `update` against `setup` and applies the transition it causes, if any: one
/// step of the lifecycle for a caller that owns the setup (a backtest, a replay). The live
/// evaluator instead writes the transition through the store first.
pub fn step(setup: &mut TrackedSetup, update: &PriceUpdate) -> Option<Transition> {
    let t = evaluate(setup, update)?;
    // `evaluate` computed it on this very version and state, so applying cannot be refused.
    setup.apply(&t).ok()?;
    Some(t)
}

/// The expiry of an active, single-day setup at a session close: `invalidated` with
/// reason `expired`, dated `session_close`.
///
/// `session_close` is the close (early closes included, from `market::calendar`) of the
/// session being swept; `now` is the current instant. Nothing happens before the close,
/// for multi-day setups, for setups that are not active, or for setups armed at or after
/// that close (tracked or reopened after-hours: they wait for the next close).
pub fn expire_at_close(
    setup: &TrackedSetup,
    session_close: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Transition> {
    if setup.status != SetupStatus::Active
        || setup.multi_day
        || now < session_close
        || setup.armed_at >= session_close
    {
        return None;
    }
    Transition::compute(setup, TransitionReason::Expired, None, session_close).ok()
}

#[cfg(test)]
mod tests;
