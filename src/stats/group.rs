//! Grouping backtested trades (SPEC 18 `--by`): by kind, symbol, hour bucket, regime or
//! confidence decile, in any combination, plus the same split over all kinds (`"kind":
//! null`) and the grand total. A key a group is not split by is `None` (JSON `null`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::histogram::RHistogram;
use super::summary::{GroupStats, TradeResult};
use super::trade::TradeRecord;

/// What a group can be split by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Kind,
    Symbol,
    /// The hour bucket of the signal bar ("09:30-10:00", ...).
    Hour,
    /// The gamma regime at detection ("positive", "negative", "unknown" when no GEX
    /// profile was known).
    Regime,
    /// The confidence decile ("60-70").
    Confidence,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Kind,
        Dimension::Symbol,
        Dimension::Hour,
        Dimension::Regime,
        Dimension::Confidence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Kind => "kind",
            Dimension::Symbol => "symbol",
            Dimension::Hour => "hour",
            Dimension::Regime => "regime",
            Dimension::Confidence => "confidence",
        }
    }
}

/// The key of a group: the values of the dimensions it is split by, `None` for the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupKey {
    pub kind: Option<String>,
    pub symbol: Option<String>,
    pub hour: Option<String>,
    pub regime: Option<String>,
    pub confidence: Option<String>,
}

/// One row of the output: a group's key and its statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRow {
    #[serde(flatten)]
    pub key: GroupKey,
    #[serde(flatten)]
    pub stats: GroupStats,
}

/// What grouping keeps of one trade: its key values and its result, and where it falls
/// in exit order.
#[derive(Clone, Debug)]
struct Entry {
    values: [String; 5],
    result: TradeResult,
    /// (resolved_at, detected_at, arrival): exit order, ties broken stably.
    order: (DateTime<Utc>, DateTime<Utc>, u64),
}

/// Trades collected for grouping; keeps a few fields per trade, not the trade.
#[derive(Clone, Debug, Default)]
pub struct GroupedTrades {
    entries: Vec<Entry>,
}

impl GroupedTrades {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn push(&mut self, t: &TradeRecord) {
        let d = &t.detection;
        let values = [
            d.kind.as_str().to_string(),
            d.symbol.as_str().to_string(),
            t.hour.map_or("unknown", |h| h.as_str()).to_string(),
            t.regime.map_or("unknown", |r| r.as_str()).to_string(),
            t.confidence_decile.clone(),
        ];
        let arrival = self.entries.len() as u64;
        self.entries.push(Entry {
            values,
            result: TradeResult {
                outcome: t.outcome,
                r: t.r,
                mfe_r: t.mfe_r,
                mae_r: t.mae_r,
            },
            order: (t.resolved_at, d.detected_at, arrival),
        });
    }

    /// The groups split by `by` (duplicates ignored; empty means by kind), then the same
    /// split over all kinds when `by` holds kind, then the grand total; each part sorted by
    /// key. Statistics are computed in exit order.
    pub fn groups(&self, by: &[Dimension]) -> Vec<GroupRow> {
        self.split(by)
            .into_iter()
            .map(|(key, results)| GroupRow {
                key,
                stats: GroupStats::of(&results),
            })
            .collect()
    }

    /// [`GroupedTrades::groups`], each row with the R histogram of its filled trades.
    pub fn groups_with_histograms(&self, by: &[Dimension]) -> Vec<(GroupRow, RHistogram)> {
        self.split(by)
            .into_iter()
            .map(|(key, results)| {
                let histogram = RHistogram::of(
                    results
                        .iter()
                        .filter(|t| t.outcome.is_triggered())
                        .map(|t| t.r.unwrap_or(0.0)),
                );
                let row = GroupRow {
                    key,
                    stats: GroupStats::of(&results),
                };
                (row, histogram)
            })
            .collect()
    }

    /// Every group's key and its trades in exit order, in the order of `groups`.
    fn split(&self, by: &[Dimension]) -> Vec<(GroupKey, Vec<TradeResult>)> {
        let mut dims: Vec<Dimension> = if by.is_empty() {
            vec![Dimension::Kind]
        } else {
            by.to_vec()
        };
        dims.sort();
        dims.dedup();
        let mut splits = vec![dims.clone()];
        if dims.contains(&Dimension::Kind) {
            splits.push(
                dims.iter()
                    .copied()
                    .filter(|d| *d != Dimension::Kind)
                    .collect(),
            );
        }
        splits.push(Vec::new());
        splits.dedup();
        let mut ordered: Vec<&Entry> = self.entries.iter().collect();
        ordered.sort_by_key(|e| e.order);
        let mut rows = Vec::new();
        for split in &splits {
            let mut groups: BTreeMap<GroupKey, Vec<TradeResult>> = BTreeMap::new();
            for e in &ordered {
                groups.entry(key_of(e, split)).or_default().push(e.result);
            }
            if groups.is_empty() {
                // No trade at all: still one total row, with zero counts.
                groups.insert(GroupKey::default(), Vec::new());
            }
            rows.extend(groups);
        }
        // With no trades, each split produced the same empty total row; keep one.
        rows.dedup_by(|a, b| a.0 == b.0);
        rows
    }
}

fn key_of(e: &Entry, split: &[Dimension]) -> GroupKey {
    let value = |d: Dimension| split.contains(&d).then(|| e.values[d as usize].clone());
    GroupKey {
        kind: value(Dimension::Kind),
        symbol: value(Dimension::Symbol),
        hour: value(Dimension::Hour),
        regime: value(Dimension::Regime),
        confidence: value(Dimension::Confidence),
    }
}

#[cfg(test)]
mod tests;
