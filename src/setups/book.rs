//! The live setups (active, or triggered with an open outcome) indexed by symbol, so a
//! price update evaluates only the setups of its symbol. Pure: the evaluator task owns
//! one book, applies the transitions the store confirmed, and reloads a setup the store
//! reports as changed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::evaluate::{PriceUpdate, evaluate, expire_at_close};
use super::lifecycle::{RefusedTransition, TrackedSetup, Transition};
use crate::domain::Symbol;

/// Live tracked setups by symbol.
#[derive(Clone, Debug, Default)]
pub struct SetupBook {
    by_symbol: HashMap<Symbol, Vec<TrackedSetup>>,
    symbol_of: HashMap<i64, Symbol>,
}

impl SetupBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a setup in the book, replacing the one with the same id. A setup that is not
    /// live (invalidated, archived, resolved) is removed instead.
    pub fn upsert(&mut self, setup: TrackedSetup) {
        self.remove(setup.id);
        if !setup.is_live() {
            return;
        }
        self.symbol_of.insert(setup.id, setup.symbol.clone());
        self.by_symbol
            .entry(setup.symbol.clone())
            .or_default()
            .push(setup);
    }

    /// Takes a setup out of the book (deleted, or handed elsewhere).
    pub fn remove(&mut self, id: i64) -> Option<TrackedSetup> {
        let symbol = self.symbol_of.remove(&id)?;
        let setups = self.by_symbol.get_mut(&symbol)?;
        let index = setups.iter().position(|s| s.id == id)?;
        let setup = setups.swap_remove(index);
        if setups.is_empty() {
            self.by_symbol.remove(&symbol);
        }
        Some(setup)
    }

    pub fn get(&self, id: i64) -> Option<&TrackedSetup> {
        let symbol = self.symbol_of.get(&id)?;
        self.setups_for(symbol).iter().find(|s| s.id == id)
    }

    /// The live setups of one symbol, in no particular order.
    pub fn setups_for(&self, symbol: &Symbol) -> &[TrackedSetup] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// Number of live setups.
    pub fn len(&self) -> usize {
        self.symbol_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbol_of.is_empty()
    }

    /// Symbols with at least one live setup (what the feed must deliver).
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.by_symbol.keys()
    }

    /// Evaluates a price update of `symbol` against that symbol's live setups, appending
    /// the transitions (at most one per setup) to `out`. The book is not changed: apply
    /// each transition once the store has written it.
    pub fn evaluate(&self, symbol: &Symbol, update: &PriceUpdate, out: &mut Vec<Transition>) {
        if !update.is_valid() {
            return;
        }
        out.extend(
            self.setups_for(symbol)
                .iter()
                .filter_map(|setup| evaluate(setup, update)),
        );
    }

    /// The expiry transitions of every active single-day setup at `session_close`
    /// (see [`expire_at_close`]), appended to `out`.
    pub fn expire_at_close(
        &self,
        session_close: DateTime<Utc>,
        now: DateTime<Utc>,
        out: &mut Vec<Transition>,
    ) {
        out.extend(
            self.by_symbol
                .values()
                .flatten()
                .filter_map(|setup| expire_at_close(setup, session_close, now)),
        );
    }

    /// Applies a transition to the setup it names; a setup that stops being live leaves
    /// the book. Returns the setup as it is after the transition.
    pub fn apply(&mut self, t: &Transition) -> Result<TrackedSetup, RefusedTransition> {
        let unknown = RefusedTransition::UnknownSetup { id: t.setup_id };
        let symbol = self.symbol_of.get(&t.setup_id).ok_or(unknown.clone())?;
        let setup = self
            .by_symbol
            .get_mut(symbol)
            .and_then(|setups| setups.iter_mut().find(|s| s.id == t.setup_id))
            .ok_or(unknown)?;
        setup.apply(t)?;
        let updated = setup.clone();
        if !updated.is_live() {
            self.remove(updated.id);
        }
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setups::fixtures::{at, long_setup, short_setup, trade};
    use crate::setups::lifecycle::{ManualAction, SetupStatus, TransitionReason, apply_manual};

    fn qqq_long() -> TrackedSetup {
        let mut s = long_setup();
        s.id = 40;
        s.symbol = Symbol::parse("QQQ").unwrap();
        s
    }

    #[test]
    fn an_update_evaluates_only_its_symbols_setups() {
        let mut book = SetupBook::new();
        book.upsert(long_setup());
        book.upsert(short_setup());
        book.upsert(qqq_long());
        assert_eq!(book.len(), 3);
        let spy = Symbol::parse("SPY").unwrap();
        let mut out = Vec::new();
        // 101 triggers the SPY long (entry 101) and invalidates the SPY short (stop 100).
        book.evaluate(&spy, &trade("14:01", 101.0), &mut out);
        let mut got: Vec<_> = out.iter().map(|t| (t.setup_id, t.reason)).collect();
        got.sort_by_key(|(id, _)| *id);
        assert_eq!(
            got,
            [
                (12, TransitionReason::EntryCrossed),
                (13, TransitionReason::StopBeforeEntry)
            ]
        );
        assert_eq!(
            book.get(12).map(|s| s.status),
            Some(SetupStatus::Active),
            "evaluating changes nothing"
        );
        let mut none = Vec::new();
        book.evaluate(
            &Symbol::parse("IWM").unwrap(),
            &trade("14:01", 101.0),
            &mut none,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn applied_transitions_update_the_book_and_finished_setups_leave_it() {
        let mut book = SetupBook::new();
        book.upsert(long_setup());
        book.upsert(short_setup());
        let spy = Symbol::parse("SPY").unwrap();
        let mut out = Vec::new();
        book.evaluate(&spy, &trade("14:01", 101.0), &mut out);
        for t in &out {
            book.apply(t).unwrap();
        }
        assert_eq!(book.len(), 1, "the invalidated short left the book");
        assert_eq!(
            book.get(12).map(|s| s.outcome),
            Some(Some(crate::setups::Outcome::Open))
        );
        assert!(book.get(13).is_none());
        let again = book.apply(&out[0]).unwrap_err();
        assert!(
            matches!(
                again,
                RefusedTransition::Stale { .. } | RefusedTransition::UnknownSetup { .. }
            ),
            "{again}"
        );
        out.clear();
        book.evaluate(&spy, &trade("14:02", 103.0), &mut out);
        let won = book.apply(&out[0]).unwrap();
        assert_eq!(won.realised_r, Some(2.0));
        assert!(book.is_empty());
        assert_eq!(
            book.apply(&out[0]).unwrap_err().to_string(),
            "setup 12 is not among the live setups"
        );
    }

    #[test]
    fn upsert_replaces_by_id_and_drops_setups_that_are_not_live() {
        let mut book = SetupBook::new();
        book.upsert(long_setup());
        let mut moved = long_setup();
        moved.symbol = Symbol::parse("QQQ").unwrap();
        book.upsert(moved);
        assert_eq!(book.len(), 1);
        assert!(book.setups_for(&Symbol::parse("SPY").unwrap()).is_empty());
        let mut archived = long_setup();
        let t = apply_manual(&archived, ManualAction::Archive, at("14:05")).unwrap();
        archived.apply(&t).unwrap();
        book.upsert(archived);
        assert!(book.is_empty());
        assert_eq!(book.symbols().count(), 0);
        assert!(book.remove(12).is_none());
    }

    #[test]
    fn the_close_sweep_expires_active_single_day_setups_only() {
        let mut book = SetupBook::new();
        book.upsert(long_setup());
        let mut multi = qqq_long();
        multi.multi_day = true;
        book.upsert(multi);
        let mut out = Vec::new();
        book.expire_at_close(at("20:00"), at("20:00"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].setup_id, out[0].reason),
            (12, TransitionReason::Expired)
        );
    }
}
