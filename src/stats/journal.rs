//! The trader's own journal as trade records (SPEC 18, "Journal"): every attempt of a
//! tracked setup that ended, read from its journal of transitions, becomes the same
//! [`TradeRecord`] a backtested detection does, so the same grouping and statistics
//! (`group`, `summary`) apply.
//!
//! An attempt starts when the setup is tracked or reopened, and ends:
//! - at `target_hit` / `stopped_out`: a filled trade, its R as the store recorded it on
//!   that event (honest fills: between the fill and exit prices), else computed from the
//!   fill and exit prices;
//! - at `stop_before_entry` or a manual invalidation: `invalidated` (no R: a trade
//!   abandoned after its fill has no exit price, so it is not booked);
//! - at `expired`: `expired`.
//!
//! Attempts still open (active, or triggered with no exit) and attempts archived before
//! they ended are not closed, so they are not counted. MFE, MAE and bars held are unknown
//! for live trades (`None`); so is the regime. The hour bucket is that of the source
//! detection's signal bar, or of the tracking instant for a setup with no known detection;
//! the confidence decile is the detection's, or "unknown".
//!
//! Prices in the instrument's quote currency; R in multiples of |entry − stop|; UTC.

use chrono::{DateTime, NaiveDate, Utc};

use super::group::{Dimension, GroupRow, GroupedTrades};
use super::histogram::RHistogram;
use super::trade::{HourBucket, TradeOutcome, TradeRecord, confidence_decile};
use crate::domain::Detection;
use crate::market::calendar::ny_date;
use crate::setups::{TrackedSetup, TransitionReason, realised_r};

/// The confidence decile of a setup whose detection is unknown (tracked by hand).
pub const UNKNOWN: &str = "unknown";

/// One line of a setup's journal, as the statistics need it.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEvent {
    /// A transition reason's name (`entry_crossed`, …) or `tracked`.
    pub reason: String,
    /// The transition's price: the fill of a trigger, the exit of a resolution.
    pub price: Option<f64>,
    /// The attempt's R, on the event that resolved it.
    pub realised_r: Option<f64>,
    pub at: DateTime<Utc>,
}

/// A tracked setup with its journal (oldest first) and, when known, its detection.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalSetup {
    pub setup: TrackedSetup,
    pub detection: Option<Detection>,
    pub events: Vec<JournalEvent>,
}

/// Which attempts count: those that ended on New York dates `from..=to` (open ends).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl JournalRange {
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        let date = ny_date(at);
        self.from.is_none_or(|f| date >= f) && self.to.is_none_or(|t| date <= t)
    }
}

/// The ended attempts of one setup, oldest first.
pub fn journal_trades(entry: &JournalSetup) -> Vec<TradeRecord> {
    let s = &entry.setup;
    let detection = entry.detection.clone().unwrap_or_else(|| Detection {
        gex: None,
        symbol: s.symbol.clone(),
        kind: s.kind,
        direction: s.direction,
        confidence: 0,
        entry: s.entry,
        stop: s.stop,
        target: s.target,
        detected_at: s.tracked_at,
        bar_time: s.tracked_at,
        market_date: s.market_date,
        dedup_key: String::new(),
        rationale: String::new(),
    });
    let decile = match &entry.detection {
        Some(d) => confidence_decile(d.confidence),
        None => UNKNOWN.to_string(),
    };
    let record =
        |outcome, fill: Option<(f64, DateTime<Utc>)>, exit: Option<(f64, DateTime<Utc>)>, r, at| {
            TradeRecord {
                detection: detection.clone(),
                outcome,
                fill_price: fill.map(|f| f.0),
                fill_time: fill.map(|f| f.1),
                exit_price: exit.map(|e| e.0),
                exit_time: exit.map(|e| e.1),
                resolved_at: at,
                r,
                mfe_r: None,
                mae_r: None,
                bars_held: None,
                hour: HourBucket::of(detection.bar_time),
                confidence_decile: decile.clone(),
                regime: None,
                zero_gamma_distance: None,
                wall_distance: None,
            }
        };
    let mut trades = Vec::new();
    // The open attempt's fill (price, instant); `None` before its trigger.
    let mut fill: Option<(f64, DateTime<Utc>)> = None;
    let mut open = false;
    for e in &entry.events {
        let reason = e.reason.parse::<TransitionReason>().ok();
        match (e.reason.as_str(), reason) {
            ("tracked", _) | (_, Some(TransitionReason::Reopen)) => {
                fill = None;
                open = true;
            }
            _ if !open => {}
            (_, Some(TransitionReason::EntryCrossed | TransitionReason::ManualTrigger)) => {
                // A manual trigger carries no price: it fills at the plan's entry.
                let price = e.price.filter(|p| p.is_finite()).unwrap_or(s.entry);
                fill = Some((price, e.at));
            }
            (_, Some(TransitionReason::TargetHit | TransitionReason::StoppedOut)) => {
                let outcome = if reason == Some(TransitionReason::TargetHit) {
                    TradeOutcome::TargetHit
                } else {
                    TradeOutcome::StoppedOut
                };
                let exit_price = e.price.filter(|p| p.is_finite());
                let r = e.realised_r.filter(|r| r.is_finite()).or_else(|| {
                    let (f, x) = (fill?.0, exit_price?);
                    Some(realised_r(s.direction, s.entry, s.stop, f, x))
                });
                // Without an R there is no result to book (a row written by hand).
                if let Some(r) = r {
                    let exit = exit_price.map(|p| (p, e.at));
                    trades.push(record(outcome, fill, exit, Some(r), e.at));
                }
                open = false;
            }
            (_, Some(TransitionReason::StopBeforeEntry | TransitionReason::ManualInvalidate)) => {
                trades.push(record(TradeOutcome::Invalidated, None, None, None, e.at));
                open = false;
            }
            (_, Some(TransitionReason::Expired)) => {
                trades.push(record(TradeOutcome::Expired, None, None, None, e.at));
                open = false;
            }
            // Archived before it ended: the attempt never closed.
            (_, Some(TransitionReason::ManualArchive)) => open = false,
            _ => {}
        }
    }
    trades
}

/// Every ended attempt of `setups` within `range`, collected for grouping.
pub fn journal(setups: &[JournalSetup], range: JournalRange) -> GroupedTrades {
    let mut grouped = GroupedTrades::new();
    for entry in setups {
        for trade in journal_trades(entry) {
            if range.covers(trade.resolved_at) {
                grouped.push(&trade);
            }
        }
    }
    grouped
}

/// The journal's statistics split by `by` (see `GroupedTrades::groups`), each group with
/// the R histogram of its filled trades.
pub fn journal_groups(
    setups: &[JournalSetup],
    range: JournalRange,
    by: &[Dimension],
) -> Vec<(GroupRow, RHistogram)> {
    journal(setups, range).groups_with_histograms(by)
}

#[cfg(test)]
mod tests;
