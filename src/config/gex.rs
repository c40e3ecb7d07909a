//! `[gex]`: which symbols' GEX profiles the refresher keeps up to date (SPEC 7, 20).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::domain::Symbol;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GexConfig {
    /// Refreshed every 5 market minutes whatever the universe's size. The dashboard and
    /// `coach serve` add the watchlist's and the armed alerts' symbols at start.
    pub symbols: Vec<Symbol>,
    /// Up to this many quoted symbols, every one is refreshed; above it only `symbols`
    /// and the detectors' index symbols (a refresh costs about 9 KB of profiles and
    /// 100 bytes of the day's history a symbol, and a live chain one or more requests).
    pub max_symbols: usize,
}

impl Default for GexConfig {
    fn default() -> Self {
        GexConfig {
            symbols: Vec::new(),
            max_symbols: 500,
        }
    }
}

impl GexConfig {
    /// The symbols refreshed among `universe` (the symbols the feed quotes): `None` when
    /// every one is, else `symbols` and `indices`.
    pub fn scope(&self, universe: &[Symbol], indices: &[Symbol]) -> Option<HashSet<Symbol>> {
        (universe.len() > self.max_symbols)
            .then(|| self.symbols.iter().chain(indices).cloned().collect())
    }

    /// Adds `wanted` to the symbols refreshed whatever the universe's size (the
    /// watchlist's, the armed alerts'), skipping those already there.
    pub fn keep<'a>(&mut self, wanted: impl IntoIterator<Item = &'a Symbol>) {
        for symbol in wanted {
            if !self.symbols.contains(symbol) {
                self.symbols.push(symbol.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(names: &[&str]) -> Vec<Symbol> {
        names.iter().map(|n| Symbol::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_universe_within_max_symbols_has_every_symbol_refreshed() {
        let config = GexConfig {
            symbols: symbols(&["SPY"]),
            max_symbols: 3,
        };
        assert_eq!(config.scope(&symbols(&["SPY", "QQQ", "AAPL"]), &[]), None);
    }

    #[test]
    fn a_larger_universe_has_the_named_symbols_and_the_indices_refreshed() {
        let mut config = GexConfig {
            symbols: symbols(&["SPY"]),
            max_symbols: 2,
        };
        config.keep(&symbols(&["SPY", "TSLA"]));
        assert_eq!(config.symbols, symbols(&["SPY", "TSLA"]), "kept once each");
        let scope = config.scope(&symbols(&["SPY", "QQQ", "TSLA", "SPX"]), &symbols(&["SPX"]));
        let expected: HashSet<Symbol> = symbols(&["SPY", "TSLA", "SPX"]).into_iter().collect();
        assert_eq!(scope, Some(expected));
    }

    #[test]
    fn max_symbols_zero_refreshes_only_the_named_symbols() {
        let config = GexConfig {
            symbols: Vec::new(),
            max_symbols: 0,
        };
        assert_eq!(config.scope(&symbols(&["SPY"]), &[]), Some(HashSet::new()));
    }
}
