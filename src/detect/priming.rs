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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

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
}
