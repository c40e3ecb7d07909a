//! How `coach serve` instances on one database split the symbols: each holds at most its
//! fair share, `ceil(symbols / live instances)`, so a newcomer gets symbols once the
//! others give back their surplus, and a survivor takes everything once a dead
//! instance's heartbeat is stale. Locks (src/store/team.rs) make ownership exclusive;
//! this only decides what to give back and how many to try for.

use std::collections::BTreeSet;

use crate::domain::Symbol;

/// What one instance should do this round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    /// Symbols to give back (the last ones in order, so the kept set is stable).
    pub release: Vec<Symbol>,
    /// Symbols to try to lock, in order, until `room` of them succeed.
    pub candidates: Vec<Symbol>,
    pub room: usize,
}

/// The fair share of `symbols` among `live` instances (at least one: the caller).
pub fn fair_share(symbols: usize, live: usize) -> usize {
    symbols.div_ceil(live.max(1))
}

/// Plans a round for an instance that owns `owned` of `all`, with `live` instances alive.
/// Symbols no longer in `all` are given back too.
pub fn plan(all: &[Symbol], owned: &BTreeSet<Symbol>, live: usize) -> Round {
    let wanted: BTreeSet<&Symbol> = all.iter().collect();
    let share = fair_share(wanted.len(), live);
    let mut release: Vec<Symbol> = owned
        .iter()
        .filter(|s| !wanted.contains(s))
        .cloned()
        .collect();
    let kept: Vec<&Symbol> = owned.iter().filter(|s| wanted.contains(s)).collect();
    if kept.len() > share {
        release.extend(kept[share..].iter().map(|s| (*s).clone()));
    }
    let holding = kept.len().min(share);
    let candidates = wanted
        .into_iter()
        .filter(|s| !owned.contains(*s))
        .cloned()
        .collect();
    Round {
        release,
        candidates,
        room: share - holding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(names: &[&str]) -> Vec<Symbol> {
        names.iter().map(|n| Symbol::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_lone_instance_wants_every_symbol() {
        let all = symbols(&["SPY", "QQQ", "IWM", "AAPL", "NVDA"]);
        let r = plan(&all, &BTreeSet::new(), 1);
        assert!(r.release.is_empty());
        assert_eq!((r.candidates.len(), r.room), (5, 5));
    }

    #[test]
    fn a_second_instance_makes_the_first_give_back_its_surplus() {
        let all = symbols(&["SPY", "QQQ", "IWM", "AAPL", "NVDA"]);
        let owned: BTreeSet<Symbol> = all.iter().cloned().collect();
        let r = plan(&all, &owned, 2);
        // ceil(5 / 2) = 3 kept: AAPL, IWM, NVDA in order; QQQ and SPY go back.
        assert_eq!(r.release, symbols(&["QQQ", "SPY"]));
        assert_eq!(r.room, 0);
    }

    #[test]
    fn the_newcomer_tries_the_ones_it_lacks_up_to_its_share() {
        let all = symbols(&["SPY", "QQQ", "IWM", "AAPL", "NVDA"]);
        let r = plan(&all, &BTreeSet::new(), 2);
        assert_eq!((r.candidates.len(), r.room), (5, 3));
    }

    #[test]
    fn symbols_dropped_from_the_list_are_given_back() {
        let all = symbols(&["SPY"]);
        let owned: BTreeSet<Symbol> = symbols(&["SPY", "TSLA"]).into_iter().collect();
        let r = plan(&all, &owned, 1);
        assert_eq!(r.release, symbols(&["TSLA"]));
        assert_eq!(r.room, 0);
    }

    #[test]
    fn no_symbols_no_work() {
        assert_eq!(fair_share(0, 3), 0);
        let r = plan(&[], &BTreeSet::new(), 1);
        assert_eq!(r.room, 0);
        assert_eq!(
            fair_share(10, 0),
            10,
            "zero live counts as the caller alone"
        );
    }
}
