//! The backtest of one symbol-session (SPEC 18): every detection is tracked at its
//! `detected_at` and run through the section 5 lifecycle (`setups::step`: the stop wins,
//! one transition per update, honest fills) on the session's following regular minute
//! bars, each observed at its end. At the session close a setup still waiting for its
//! entry has `expired`; one filled and still open exits at the close of the session's last
//! regular bar (`time_exit`, also when it filled on that bar).
//!
//! Slippage `P` (price units per side, ≥ 0) worsens every fill and exit: a long fills
//! at the transition's price + P and exits at − P, a short mirrors; R is measured between
//! the slipped prices over the plan's risk |entry − stop|.

use chrono::{DateTime, Duration, Utc};

use super::trade::{HourBucket, TradeOutcome, TradeRecord, confidence_decile};
use crate::domain::{Bar, Detection, Direction};
use crate::setups::lifecycle::{PlanError, TransitionReason, realised_r};
use crate::setups::{Outcome, PriceUpdate, TrackedSetup, step};

/// The end of a minute bar: when it is observed.
fn bar_end(bar: &Bar) -> DateTime<Utc> {
    bar.start + Duration::minutes(1)
}

/// Backtests every detection of one symbol-session over `bars`, that session's regular
/// minute bars in time order; one result per detection, in the detections' order. A
/// detection whose plan is not ordered cannot be tracked and comes back as its
/// `PlanError` (detectors never make one; the caller reports it).
pub fn simulate_session(
    bars: &[Bar],
    detections: &[Detection],
    slippage: f64,
) -> Vec<Result<TradeRecord, PlanError>> {
    detections
        .iter()
        .map(|d| simulate_detection(bars, d, slippage))
        .collect()
}

/// Backtests one detection over its session's regular minute bars (see the module rules).
pub fn simulate_detection(
    bars: &[Bar],
    detection: &Detection,
    slippage: f64,
) -> Result<TradeRecord, PlanError> {
    let mut setup = TrackedSetup::track(0, None, detection, false, detection.detected_at)?;
    // The session's last observed instant: the end of its last regular bar.
    let close_at = bars
        .last()
        .map(bar_end)
        .unwrap_or(detection.detected_at)
        .max(detection.detected_at);
    // Bars ending at or before the detection are stale for the setup; skip them outright.
    let first = bars.partition_point(|b| bar_end(b) <= detection.detected_at);
    let mut fill_bar = None;
    let mut exit_bar = None;
    let mut invalidated_at = None;
    for (i, bar) in bars.iter().enumerate().skip(first) {
        let Some(t) = step(&mut setup, &PriceUpdate::minute_bar(bar)) else {
            continue;
        };
        match t.reason {
            TransitionReason::EntryCrossed => fill_bar = Some(i),
            TransitionReason::TargetHit | TransitionReason::StoppedOut => {
                exit_bar = Some(i);
                break;
            }
            TransitionReason::StopBeforeEntry => {
                invalidated_at = Some(t.at);
                break;
            }
            _ => {}
        }
    }
    let mut record = TradeRecord {
        detection: detection.clone(),
        outcome: TradeOutcome::Expired,
        fill_price: None,
        fill_time: None,
        exit_price: None,
        exit_time: None,
        resolved_at: close_at,
        r: None,
        mfe_r: None,
        mae_r: None,
        bars_held: None,
        hour: HourBucket::of(detection.bar_time),
        confidence_decile: confidence_decile(detection.confidence),
        regime: detection.gex.as_ref().map(|g| g.regime),
        zero_gamma_distance: detection
            .gex
            .as_ref()
            .and_then(|g| g.zero_gamma)
            .map(|z| z.points),
        wall_distance: detection
            .gex
            .as_ref()
            .and_then(|g| g.nearest_wall)
            .map(|w| w.distance.points),
    };
    if let Some(at) = invalidated_at {
        record.outcome = TradeOutcome::Invalidated;
        record.resolved_at = at;
        return Ok(record);
    }
    let (Some(fill_bar), Some(raw_fill)) = (fill_bar, setup.fill_price) else {
        return Ok(record); // never filled: expired at the close
    };
    let last = bars.len() - 1; // a fill bar exists, so `bars` is not empty
    let (outcome, exit_bar, raw_exit, exit_time) = match (exit_bar, setup.exit_price) {
        (Some(i), Some(price)) => {
            let outcome = if setup.outcome == Some(Outcome::TargetHit) {
                TradeOutcome::TargetHit
            } else {
                TradeOutcome::StoppedOut
            };
            (outcome, i, price, bar_end(&bars[i]))
        }
        _ => (TradeOutcome::TimeExit, last, bars[last].close, close_at),
    };
    // Slippage always against the trader: a long pays P more to get in and gets P less
    // out; a short the reverse.
    let sign = detection.direction.sign();
    let fill = raw_fill + sign * slippage;
    let exit = raw_exit - sign * slippage;
    let risk = (detection.entry - detection.stop).abs();
    let in_r = |price_move: f64| price_move / risk;
    // Excursions over the bars the trade lived through after its fill bar, and the exit.
    let mut favourable = sign * (exit - fill);
    let mut adverse = -sign * (exit - fill);
    for bar in &bars[fill_bar + 1..=exit_bar] {
        let (best, worst) = match detection.direction {
            Direction::Long => (bar.high, bar.low),
            Direction::Short => (bar.low, bar.high),
        };
        favourable = favourable.max(sign * (best - fill));
        adverse = adverse.max(-sign * (worst - fill));
    }
    record.outcome = outcome;
    record.fill_price = Some(fill);
    record.fill_time = Some(bar_end(&bars[fill_bar]));
    record.exit_price = Some(exit);
    record.exit_time = Some(exit_time);
    record.resolved_at = exit_time;
    record.r = Some(realised_r(
        detection.direction,
        detection.entry,
        detection.stop,
        fill,
        exit,
    ));
    record.mfe_r = Some(in_r(favourable.max(0.0)));
    record.mae_r = Some(in_r(adverse.max(0.0)));
    record.bars_held = Some(u32::try_from(exit_bar - fill_bar).unwrap_or(u32::MAX));
    Ok(record)
}

#[cfg(test)]
mod tests;
