//! A setup's edge from history (SPEC 18, "In the product"): what the stored backtest says
//! about one opportunity, and which kinds have a negative edge. Pure: rows in, answers out.
//!
//! - **Fallback**: the (kind, symbol) group when it has at least [`MIN_SYMBOL_TRADES`]
//!   filled trades, otherwise the kind's group over every symbol. [`Edge::scope`] says
//!   which one answered, so the screen can mark it.
//! - **Negative edge**: a kind whose average-R 95 % interval (mean ± 1.96·s/√n) lies
//!   entirely below zero (its upper bound < 0) over at least [`NEGATIVE_EDGE_MIN_TRADES`]
//!   filled trades. Such a kind is marked on the screen and never auto-tracked. Fewer
//!   trades, or an interval reaching zero, is not evidence of a losing setup.

use std::collections::BTreeMap;

use super::group::{Dimension, GroupRow, GroupedTrades};
use super::summary::GroupStats;

/// Filled trades a (kind, symbol) group needs before it is shown instead of its kind's.
pub const MIN_SYMBOL_TRADES: u64 = 20;
/// Filled trades a kind needs before its edge can be called negative (SPEC 18: ≥ 100).
pub const NEGATIVE_EDGE_MIN_TRADES: u64 = 100;

/// Which group an [`Edge`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeScope {
    /// The (kind, symbol) group: this setup on this symbol.
    KindSymbol,
    /// The kind over every symbol (the symbol has too few trades of it, or none).
    Kind,
}

/// The history shown beside one opportunity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub scope: EdgeScope,
    /// Wins / filled, in [0, 1].
    pub win_rate: f64,
    /// Mean realised R per filled trade.
    pub avg_r: f64,
    /// Filled trades (target hit + stopped out + time exit): the n of both numbers.
    pub n: u64,
    /// The kind has a negative edge ([`is_negative_edge`] of the kind's group), whichever
    /// group answered.
    pub negative: bool,
}

/// Whether a group's statistics show a reliably losing setup: at least
/// [`NEGATIVE_EDGE_MIN_TRADES`] filled trades and the upper bound of the average-R 95 %
/// interval below zero.
pub fn is_negative_edge(stats: &GroupStats) -> bool {
    stats.triggered >= NEGATIVE_EDGE_MIN_TRADES
        && stats.avg_r_ci95.is_some_and(|[_, upper]| upper < 0.0)
}

/// The stored groups, looked up by kind and by (kind, symbol). Rows split by anything
/// else (hour, regime, confidence) and the all-kinds rows are ignored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeBook {
    by_kind: BTreeMap<String, GroupStats>,
    by_kind_symbol: BTreeMap<(String, String), GroupStats>,
}

impl EdgeBook {
    pub fn new(rows: &[GroupRow]) -> EdgeBook {
        let mut book = EdgeBook::default();
        for row in rows {
            let k = &row.key;
            if k.hour.is_some() || k.regime.is_some() || k.confidence.is_some() {
                continue;
            }
            match (&k.kind, &k.symbol) {
                (Some(kind), Some(symbol)) => {
                    book.by_kind_symbol
                        .insert((kind.clone(), symbol.clone()), row.stats.clone());
                }
                (Some(kind), None) => {
                    book.by_kind.insert(kind.clone(), row.stats.clone());
                }
                _ => {}
            }
        }
        book
    }

    pub fn is_empty(&self) -> bool {
        self.by_kind.is_empty() && self.by_kind_symbol.is_empty()
    }

    /// Whether `kind` (its `as_str` name) has a negative edge; `false` when unknown.
    pub fn is_negative(&self, kind: &str) -> bool {
        self.by_kind.get(kind).is_some_and(is_negative_edge)
    }

    /// The kinds with a negative edge, by name.
    pub fn negative_kinds(&self) -> Vec<&str> {
        self.by_kind
            .iter()
            .filter(|(_, s)| is_negative_edge(s))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// The kind's group statistics, if stored.
    pub fn kind(&self, kind: &str) -> Option<&GroupStats> {
        self.by_kind.get(kind)
    }

    /// The edge of `kind` on `symbol`: the (kind, symbol) group with at least
    /// [`MIN_SYMBOL_TRADES`] filled trades, else the kind's; `None` when neither group
    /// has a filled trade.
    pub fn edge(&self, kind: &str, symbol: &str) -> Option<Edge> {
        let negative = self.is_negative(kind);
        let own = self
            .by_kind_symbol
            .get(&(kind.to_string(), symbol.to_string()))
            .filter(|s| s.triggered >= MIN_SYMBOL_TRADES)
            .map(|s| (EdgeScope::KindSymbol, s));
        let (scope, stats) =
            own.or_else(|| self.by_kind.get(kind).map(|s| (EdgeScope::Kind, s)))?;
        Some(Edge {
            scope,
            win_rate: stats.win_rate?,
            avg_r: stats.avg_r?,
            n: stats.triggered,
            negative,
        })
    }
}

/// The groups that are stored (SPEC 18: "per (kind, symbol) and per kind"): each
/// (kind, symbol), each kind over every symbol, each symbol over every kind and the total,
/// sorted by key (the all-kinds and all-symbols rows first).
pub fn edge_groups(trades: &GroupedTrades) -> Vec<GroupRow> {
    let mut rows = trades.groups(&[Dimension::Kind, Dimension::Symbol]);
    rows.extend(
        trades
            .groups(&[Dimension::Kind])
            .into_iter()
            .filter(|r| r.key.kind.is_some()),
    );
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows.dedup_by(|a, b| a.key == b.key);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::group::GroupKey;

    /// A group of `n` filled trades with these numbers (the interval given directly).
    fn stats(n: u64, win_rate: f64, avg_r: f64, ci: [f64; 2]) -> GroupStats {
        GroupStats {
            detections: n + 5,
            triggered: n,
            wins: (win_rate * n as f64).round() as u64,
            win_rate: (n > 0).then_some(win_rate),
            avg_r: (n > 0).then_some(avg_r),
            avg_r_ci95: (n > 1).then_some(ci),
            total_r: avg_r * n as f64,
            ..GroupStats::default()
        }
    }

    fn row(kind: Option<&str>, symbol: Option<&str>, stats: GroupStats) -> GroupRow {
        GroupRow {
            key: GroupKey {
                kind: kind.map(str::to_string),
                symbol: symbol.map(str::to_string),
                ..GroupKey::default()
            },
            stats,
        }
    }

    fn book() -> EdgeBook {
        EdgeBook::new(&[
            // ORB over every symbol: 193 trades, 42 %, +0.06 R
            row(
                Some("orb_breakout"),
                None,
                stats(193, 0.42, 0.06, [-0.08, 0.20]),
            ),
            // ORB on SPY: 25 trades, enough for its own line
            row(
                Some("orb_breakout"),
                Some("SPY"),
                stats(25, 0.52, 0.31, [-0.12, 0.74]),
            ),
            // ORB on QQQ: 19 trades, one short of its own line
            row(
                Some("orb_breakout"),
                Some("QQQ"),
                stats(19, 0.21, -0.40, [-0.90, 0.10]),
            ),
            // volume climax loses half an R over 120 trades, interval [−0.71, −0.29]
            row(
                Some("volume_climax"),
                None,
                stats(120, 0.25, -0.50, [-0.71, -0.29]),
            ),
            row(
                Some("volume_climax"),
                Some("SPY"),
                stats(40, 0.30, -0.35, [-0.80, 0.10]),
            ),
            // gap fill loses too, but over 99 trades: not yet called negative
            row(Some("gap_fill"), None, stats(99, 0.2, -0.6, [-0.9, -0.3])),
            // the all-kinds total and an hour split are not per-kind answers
            row(None, None, stats(500, 0.9, 2.0, [1.0, 3.0])),
            GroupRow {
                key: GroupKey {
                    kind: Some("level_test".into()),
                    hour: Some("10:00-11:00".into()),
                    ..GroupKey::default()
                },
                stats: stats(300, 0.1, -2.0, [-3.0, -1.0]),
            },
        ])
    }

    #[test]
    fn a_symbol_with_twenty_trades_of_a_kind_shows_its_own_numbers_else_the_kinds() {
        let b = book();
        let spy = b.edge("orb_breakout", "SPY").unwrap();
        assert_eq!(spy.scope, EdgeScope::KindSymbol);
        assert_eq!((spy.win_rate, spy.avg_r, spy.n), (0.52, 0.31, 25));
        // 19 trades on QQQ: the kind's 193 answer instead
        let qqq = b.edge("orb_breakout", "QQQ").unwrap();
        assert_eq!(qqq.scope, EdgeScope::Kind);
        assert_eq!((qqq.win_rate, qqq.avg_r, qqq.n), (0.42, 0.06, 193));
        // a symbol never seen falls back too
        assert_eq!(
            b.edge("orb_breakout", "IWM").unwrap().scope,
            EdgeScope::Kind
        );
        // a kind never backtested has no edge to show
        assert_eq!(b.edge("opening_drive", "SPX"), None);
        assert!(!spy.negative && !qqq.negative);
    }

    #[test]
    fn negative_edge_needs_a_hundred_trades_and_the_whole_interval_below_zero() {
        let b = book();
        assert!(
            b.is_negative("volume_climax"),
            "120 trades, upper bound −0.29"
        );
        assert!(!b.is_negative("gap_fill"), "99 trades is one too few");
        assert!(
            !b.is_negative("orb_breakout"),
            "interval reaches above zero"
        );
        assert!(
            !b.is_negative("level_test"),
            "only an hour split was stored"
        );
        assert!(!b.is_negative("opening_drive"), "unknown kind");
        assert_eq!(b.negative_kinds(), vec!["volume_climax"]);
        // the symbol's own line is shown, still marked by its kind's negative edge
        let spy = b.edge("volume_climax", "SPY").unwrap();
        assert_eq!((spy.scope, spy.negative), (EdgeScope::KindSymbol, true));
    }

    #[test]
    fn an_upper_bound_of_exactly_zero_or_no_interval_is_not_a_negative_edge() {
        assert!(!is_negative_edge(&stats(150, 0.3, -0.2, [-0.4, 0.0])));
        let mut s = stats(150, 0.3, -0.2, [-0.4, -0.01]);
        assert!(is_negative_edge(&s));
        s.avg_r_ci95 = None;
        assert!(!is_negative_edge(&s));
    }

    #[test]
    fn a_group_with_no_filled_trade_has_no_edge_and_an_empty_book_answers_nothing() {
        let b = EdgeBook::new(&[row(Some("gap_fill"), None, stats(0, 0.0, 0.0, [0.0, 0.0]))]);
        assert_eq!(b.edge("gap_fill", "SPY"), None);
        assert!(EdgeBook::new(&[]).is_empty());
        assert_eq!(EdgeBook::new(&[]).edge("gap_fill", "SPY"), None);
    }
}
