//! Priming the detector engine with history, the one way every caller does it: `coach
//! replay` and `coach backtest` (daily bars, then every recorded minute in feeding order)
//! and the live detector worker (the feed's snapshot: daily bars, the earlier sessions'
//! minutes, today's so far). So a live engine holds at each bar the same state replay's
//! holds there (SPEC 4: replay runs exactly the same code; issue 26 item 4: relative
//! volume needs `relative_volume_min_sessions` earlier sessions, which one previous
//! session cannot give).
//!
//! Pure: bars in, engine and detections out.

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Utc};

use super::config::{ConfigError, DetectorsConfig};
use super::engine::Engine;
use crate::domain::{Bar, DailyBar, Detection, Symbol};

/// The most sessions of minute history any engine state reaches back: relative volume's
/// largest window (`relative_volume_sessions` is at most this). A feed's snapshot carries
/// this many sessions of minute bars before today (where it has them), so a primed
/// engine equals one that saw every bar.
pub const HISTORY_SESSIONS: usize = 60;

/// Sorts bars into the order the engine is fed: by bar start, within a minute a volume
/// proxy before the index that reads its bar of the same minute, then by symbol.
pub fn sort_for_feeding<S: Borrow<Symbol>, B: Borrow<Bar>>(
    config: &DetectorsConfig,
    bars: &mut [(S, B)],
) {
    let is_proxy = |s: &Symbol| config.volume_proxies.values().any(|p| p == s);
    bars.sort_by(|(sa, ba), (sb, bb)| {
        let (sa, sb) = (sa.borrow(), sb.borrow());
        ba.borrow()
            .start
            .cmp(&bb.borrow().start)
            .then_with(|| is_proxy(sb).cmp(&is_proxy(sa)))
            .then_with(|| sa.cmp(sb))
    });
}

/// The symbols in groups an engine can be primed with one after another: a volume proxy
/// with the indices that read its bars (`volume_proxies`; fed together, so within a
/// minute the proxy's bar comes first), every other symbol alone. A symbol's engine state
/// is otherwise its own, so priming group by group leaves the engine as one merge of the
/// whole market would. Positions in `symbols`, each group in order of first appearance.
pub fn feeding_groups(config: &DetectorsConfig, symbols: &[&Symbol]) -> Vec<Vec<usize>> {
    let position: HashMap<&Symbol, usize> =
        symbols.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let mut group_of_leader: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, symbol) in symbols.iter().enumerate() {
        let leader = (config.volume_proxies.get(*symbol))
            .and_then(|proxy| position.get(proxy).copied())
            .unwrap_or(i);
        let group = *group_of_leader.entry(leader).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(i);
    }
    groups
}

/// An engine primed with history.
pub struct Primed {
    pub engine: Engine,
    /// Per symbol, the daily bars rejected as bad data (only symbols with any).
    pub rejected_daily: Vec<(Symbol, usize)>,
}

/// A fresh engine with `config`, given each symbol's `daily` bars and then fed the
/// `minute` bars (any order: they are sorted with [`sort_for_feeding`]); the detections
/// those bars produce are appended to `found`, in feeding order.
pub fn prime<'a>(
    config: DetectorsConfig,
    daily: impl IntoIterator<Item = (&'a Symbol, &'a [DailyBar])>,
    minute: impl IntoIterator<Item = (&'a Symbol, &'a Bar)>,
    found: &mut Vec<Detection>,
) -> Result<Primed, ConfigError> {
    let mut engine = Engine::new(config)?;
    let mut rejected_daily = Vec::new();
    for (symbol, bars) in daily {
        let rejected = engine.add_daily_bars(symbol, bars);
        if rejected > 0 {
            rejected_daily.push((symbol.clone(), rejected));
        }
    }
    let mut order: Vec<(&Symbol, &Bar)> = minute.into_iter().collect();
    sort_for_feeding(engine.config(), &mut order);
    for (symbol, bar) in order {
        engine.on_bar(symbol, bar, found);
    }
    Ok(Primed {
        engine,
        rejected_daily,
    })
}

/// Like [`prime`], for minute bars that come per symbol (a feed's snapshot: each
/// symbol's earlier, previous and today's minutes): fed in exactly the order [`prime`]
/// sorts them into, through a k-way merge that holds one cursor per symbol instead of
/// every bar of every symbol at once (issue 25: at 8,000 symbols a whole-market `Vec`
/// of bar references plus the sort's buffer was 16 + 8 bytes per bar, 280 MB).
pub fn prime_per_symbol<'a, B>(
    config: DetectorsConfig,
    daily: impl IntoIterator<Item = (&'a Symbol, &'a [DailyBar])>,
    minute: impl IntoIterator<Item = (&'a Symbol, B)>,
    found: &mut Vec<Detection>,
) -> Result<Primed, ConfigError>
where
    B: IntoIterator<Item = &'a Bar>,
    B::IntoIter: Clone,
{
    let mut engine = Engine::new(config)?;
    let mut rejected_daily = Vec::new();
    for (symbol, bars) in daily {
        let rejected = engine.add_daily_bars(symbol, bars);
        if rejected > 0 {
            rejected_daily.push((symbol.clone(), rejected));
        }
    }
    let order = FeedingOrder::new(engine.config(), minute);
    for (symbol, bar) in order {
        engine.on_bar(symbol, bar, found);
    }
    Ok(Primed {
        engine,
        rejected_daily,
    })
}

/// One symbol's minutes in start order: its own iterator when that is already ascending
/// (the usual case, nothing allocated), else its bars sorted by start, stably, as the
/// whole-market sort would leave them.
#[derive(Clone)]
enum Cursor<'a, I> {
    Ascending(I),
    Sorted(std::vec::IntoIter<&'a Bar>),
}

impl<'a, I: Iterator<Item = &'a Bar>> Iterator for Cursor<'a, I> {
    type Item = &'a Bar;
    fn next(&mut self) -> Option<&'a Bar> {
        match self {
            Cursor::Ascending(i) => i.next(),
            Cursor::Sorted(i) => i.next(),
        }
    }
}

/// The merge behind [`prime_per_symbol`]: yields `(symbol, bar)` in the order
/// [`sort_for_feeding`] gives the same bars (start, then a volume proxy before the rest,
/// then symbol; a symbol's bars of the same start in their given order).
/// A symbol's place in the merge: (its next bar's start, not a proxy, symbol, cursor
/// index), smallest first; `false` sorts before `true`, so proxies come first.
type Head<'a> = Reverse<(DateTime<Utc>, bool, &'a Symbol, usize)>;

pub struct FeedingOrder<'a, I> {
    cursors: Vec<(&'a Symbol, Cursor<'a, I>)>,
    /// One head per symbol with bars left.
    heap: BinaryHeap<Head<'a>>,
    next: Vec<Option<&'a Bar>>,
    proxy: Vec<bool>,
}

impl<'a, I> FeedingOrder<'a, I>
where
    I: Iterator<Item = &'a Bar> + Clone,
{
    pub fn new<B>(
        config: &DetectorsConfig,
        minute: impl IntoIterator<Item = (&'a Symbol, B)>,
    ) -> Self
    where
        B: IntoIterator<Item = &'a Bar, IntoIter = I>,
    {
        let is_proxy = |s: &Symbol| config.volume_proxies.values().any(|p| p == s);
        let mut order = FeedingOrder {
            cursors: Vec::new(),
            heap: BinaryHeap::new(),
            next: Vec::new(),
            proxy: Vec::new(),
        };
        for (symbol, bars) in minute {
            let bars = bars.into_iter();
            let ascending = {
                let mut starts = bars.clone().map(|b| b.start);
                let first = starts.next();
                starts
                    .try_fold(first, |prev, t| (prev <= Some(t)).then_some(Some(t)))
                    .is_some()
            };
            let mut cursor = if ascending {
                Cursor::Ascending(bars)
            } else {
                let mut sorted: Vec<&Bar> = bars.collect();
                sorted.sort_by_key(|b| b.start);
                Cursor::Sorted(sorted.into_iter())
            };
            let proxy = is_proxy(symbol);
            let at = order.cursors.len();
            let first = cursor.next();
            if let Some(bar) = first {
                order.heap.push(Reverse((bar.start, !proxy, symbol, at)));
            }
            order.cursors.push((symbol, cursor));
            order.next.push(first);
            order.proxy.push(proxy);
        }
        order
    }
}

impl<'a, I> Iterator for FeedingOrder<'a, I>
where
    I: Iterator<Item = &'a Bar>,
{
    type Item = (&'a Symbol, &'a Bar);
    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((_, _, symbol, at)) = self.heap.pop()?;
        let bar = self.next[at].take()?;
        let following = self.cursors[at].1.next();
        if let Some(b) = following {
            self.heap
                .push(Reverse((b.start, !self.proxy[at], symbol, at)));
        }
        self.next[at] = following;
        Some((symbol, bar))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn an_index_is_primed_with_its_volume_proxy_and_every_other_symbol_alone() {
        let names = ["SPX", "AAPL", "SPY", "NDX", "IWM", "QQQ", "RUT"];
        let symbols: Vec<Symbol> = names.iter().map(|s| Symbol::parse(s).unwrap()).collect();
        let refs: Vec<&Symbol> = symbols.iter().collect();
        let groups = feeding_groups(&DetectorsConfig::default(), &refs);
        // SPX reads SPY's volume and NDX QQQ's; RUT's proxy (IWM) is not its by default
        assert_eq!(groups, [vec![0, 2], vec![1], vec![3, 5], vec![4], vec![6]]);
        let without_proxy = feeding_groups(&DetectorsConfig::default(), &refs[..2]);
        assert_eq!(
            without_proxy,
            [vec![0], vec![1]],
            "SPX alone when SPY is not quoted"
        );
        assert!(feeding_groups(&DetectorsConfig::default(), &[]).is_empty());
    }

    fn bar(minute: u32, volume: f64) -> Bar {
        Bar {
            start: Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, 0).unwrap(),
            open: 100.0,
            high: 100.5,
            low: 99.5,
            close: 100.0,
            volume,
        }
    }

    #[test]
    fn within_a_minute_the_proxy_comes_before_the_index_that_reads_it() {
        let config = DetectorsConfig::default();
        let (spx, spy, aapl) = (
            Symbol::parse("SPX").unwrap(),
            Symbol::parse("SPY").unwrap(),
            Symbol::parse("AAPL").unwrap(),
        );
        let mut bars = vec![
            (spx.clone(), bar(1, 0.0)),
            (aapl.clone(), bar(0, 10.0)),
            (spx.clone(), bar(0, 0.0)),
            (spy.clone(), bar(1, 10.0)),
            (spy.clone(), bar(0, 10.0)),
        ];
        sort_for_feeding(&config, &mut bars);
        let order: Vec<(String, u32)> = bars
            .iter()
            .map(|(s, b)| (s.to_string(), chrono::Timelike::minute(&b.start)))
            .collect();
        assert_eq!(
            order,
            [
                ("SPY".to_string(), 0),
                ("AAPL".to_string(), 0),
                ("SPX".to_string(), 0),
                ("SPY".to_string(), 1),
                ("SPX".to_string(), 1),
            ]
        );
    }

    #[test]
    fn the_config_cannot_ask_for_more_history_than_a_snapshot_carries() {
        let mut config = DetectorsConfig {
            relative_volume_sessions: HISTORY_SESSIONS,
            ..DetectorsConfig::default()
        };
        config.validate().unwrap();
        config.relative_volume_sessions = HISTORY_SESSIONS + 1;
        assert!(config.validate().is_err());
    }

    #[test]
    fn the_merge_per_symbol_feeds_in_the_whole_market_sort_order() {
        let config = DetectorsConfig::default();
        let (spx, spy, aapl) = (
            Symbol::parse("SPX").unwrap(),
            Symbol::parse("SPY").unwrap(),
            Symbol::parse("AAPL").unwrap(),
        );
        // AAPL twice at minute 2 with different volumes (a repeat kept in its order),
        // SPY given out of order, SPX (reads SPY's volume) at the same minutes as SPY
        let per_symbol = [
            (&spx, vec![bar(0, 0.0), bar(1, 0.0), bar(3, 0.0)]),
            (&aapl, vec![bar(1, 10.0), bar(2, 20.0), bar(2, 30.0)]),
            (&spy, vec![bar(3, 3.0), bar(0, 1.0), bar(1, 2.0)]),
        ];
        let mut whole: Vec<(&Symbol, &Bar)> = per_symbol
            .iter()
            .flat_map(|(s, bars)| bars.iter().map(move |b| (*s, b)))
            .collect();
        sort_for_feeding(&config, &mut whole);
        let merged: Vec<(&Symbol, &Bar)> =
            FeedingOrder::new(&config, per_symbol.iter().map(|(s, b)| (*s, b.iter()))).collect();
        let show = |v: &[(&Symbol, &Bar)]| -> Vec<(String, u32, f64)> {
            v.iter()
                .map(|(s, b)| (s.to_string(), chrono::Timelike::minute(&b.start), b.volume))
                .collect()
        };
        assert_eq!(show(&merged), show(&whole));
        assert_eq!(merged.len(), 9);
        assert_eq!(
            show(&merged[..3]),
            [
                ("SPY".to_string(), 0, 1.0),
                ("SPX".to_string(), 0, 0.0),
                ("SPY".to_string(), 1, 2.0),
            ]
        );
    }

    #[test]
    fn priming_per_symbol_finds_what_the_whole_market_priming_finds() {
        // a climb then a flush: enough movement for levels, VWAP and volume to speak
        let symbols = [Symbol::parse("SPY").unwrap(), Symbol::parse("QQQ").unwrap()];
        let history: Vec<Vec<Bar>> = (0..2)
            .map(|k| {
                (0..300)
                    .map(|i| {
                        let start = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
                            + chrono::Duration::minutes(i);
                        let close = 100.0 + k as f64 + ((i % 40) as f64 - 20.0).abs() * 0.1;
                        Bar {
                            start,
                            open: close - 0.05,
                            high: close + 0.2,
                            low: close - 0.2,
                            close,
                            volume: if i % 37 == 0 { 90_000.0 } else { 10_000.0 },
                        }
                    })
                    .collect()
            })
            .collect();
        let mut whole = Vec::new();
        prime(
            DetectorsConfig::default(),
            [],
            symbols
                .iter()
                .zip(&history)
                .flat_map(|(s, bars)| bars.iter().map(move |b| (s, b))),
            &mut whole,
        )
        .unwrap();
        let mut merged = Vec::new();
        prime_per_symbol(
            DetectorsConfig::default(),
            [],
            symbols.iter().zip(history.iter().map(|b| b.iter())),
            &mut merged,
        )
        .unwrap();
        assert!(
            !whole.is_empty(),
            "the bars must produce detections to compare"
        );
        assert_eq!(merged, whole);
    }
}
