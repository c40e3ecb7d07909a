//! Which symbols a later snapshot must prime the detector engine on again.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::detect::engine::Engine;
use crate::domain::{Bar, Symbol};
use crate::market::calendar;
use crate::provider::MarketSnapshot;

/// Per symbol, how many of today's bars the engine has been fed since it was last primed
/// (its snapshot's, then its steps') and whether its history was loading then: a later
/// snapshot of the same session with as many bars and the same history holds nothing the
/// engine lacks, so only the symbols where either differs (their history arrived, a gap
/// was filled, steps were skipped for the snapshot) are primed again: at 8,000 symbols a
/// whole re-prime takes seconds, and the feed publishes a snapshot every few seconds
/// while its history loads.
#[derive(Debug, Default)]
pub(super) struct Fed {
    session: Option<NaiveDate>,
    /// (today's bars fed, history loading when primed)
    bars: HashMap<Symbol, (usize, bool)>,
}

impl Fed {
    /// Which of `snapshot`'s symbols to prime: `None` for all of them (a new session, or
    /// an engine with a symbol the snapshot lacks).
    pub(super) fn stale(
        &self,
        snapshot: &MarketSnapshot,
        engine: &Engine,
    ) -> Option<HashSet<Symbol>> {
        let in_snapshot: HashSet<&Symbol> = snapshot.symbols.iter().map(|s| &s.symbol).collect();
        if self.session != Some(snapshot.session.date)
            || engine.symbols().any(|s| !in_snapshot.contains(s))
        {
            return None;
        }
        let mut stale: HashSet<Symbol> = (snapshot.symbols.iter())
            .filter(|s| self.bars.get(&s.symbol) != Some(&(s.bars.len(), s.history_loading)))
            .map(|s| s.symbol.clone())
            .collect();
        // an index reads its volume proxy's bars of the same minute while it is primed
        for (index, proxy) in &engine.config().volume_proxies {
            if stale.contains(index) {
                stale.insert(proxy.clone());
            }
        }
        Some(stale)
    }

    /// After priming `which` (all when `None`) from `snapshot`.
    pub(super) fn primed(&mut self, snapshot: &MarketSnapshot, which: Option<&HashSet<Symbol>>) {
        if which.is_none() {
            self.bars.clear();
        }
        self.session = Some(snapshot.session.date);
        for s in &snapshot.symbols {
            if which.is_none_or(|w| w.contains(&s.symbol)) {
                (self.bars).insert(s.symbol.clone(), (s.bars.len(), s.history_loading));
            }
        }
    }

    /// A step's bar the engine took (not one it had already): one of the session's
    /// trading day counts (a snapshot holds those).
    pub(super) fn stepped(&mut self, symbol: &Symbol, bar: &Bar) {
        let Some(session) = self.session.and_then(calendar::session) else {
            return;
        };
        if (session.pre_market_open()..session.after_hours_close()).contains(&bar.start) {
            // a symbol first seen in a step streams before its history
            self.bars.entry(symbol.clone()).or_insert((0, true)).0 += 1;
        }
    }
}
