//! The detector's record of symbols on live bars only (their history still loading) and
//! of the signals found on them, so that no signal is stored twice when the history
//! arrives (see the worker's doc in `super`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::domain::{Detection, Direction, SetupKind, Symbol};
use crate::provider::MarketSnapshot;

/// Ends the dedup key of a detection found on live bars only: its store key never meets
/// one found with the history (which may number the same level's signals differently).
pub const LIVE_ONLY_KEY: &str = " (live bars only)";

/// Ends the rationale of a detection found on live bars only.
pub const LIVE_ONLY_NOTE: &str =
    " Found on live bars only: this symbol's history was still loading.";

/// One signal as a trader tells it apart: kind, direction, the signal bar's start (UTC)
/// and its level (the dedup key without the engine's `#n` occurrence or the live-only
/// mark).
type Signal = (SetupKind, Direction, chrono::DateTime<chrono::Utc>, String);

fn signal_of(d: &Detection) -> Signal {
    let key = d
        .dedup_key
        .strip_suffix(LIVE_ONLY_KEY)
        .unwrap_or(&d.dedup_key);
    let key = match key.rsplit_once(" #") {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => key,
    };
    (d.kind, d.direction, d.bar_time, key.to_string())
}

/// The symbols the engine runs on live bars only, and the signals found on them, so
/// that no signal is stored twice when their history arrives.
#[derive(Debug, Default)]
pub(super) struct LiveOnly {
    /// The symbols of the last snapshot with their history; any other is live only.
    with_history: HashSet<Symbol>,
    /// The session the signals below belong to.
    date: Option<NaiveDate>,
    /// Per symbol, the signals found on its live bars only (stored and shown).
    found: HashMap<Symbol, HashSet<Signal>>,
}

impl LiveOnly {
    pub(super) fn is_live_only(&self, symbol: &Symbol) -> bool {
        !self.with_history.contains(symbol)
    }

    #[cfg(test)]
    pub(super) fn holds_signals(&self) -> bool {
        !self.found.is_empty()
    }

    /// Forgets another session's signals.
    pub(super) fn on_session(&mut self, date: NaiveDate) {
        if self.date != Some(date) {
            self.date = Some(date);
            self.found.clear();
        }
    }

    /// The signals of `date` stored on live bars only before this detector started (a
    /// restart while histories load): the re-prime that brings their history does not
    /// store them again.
    pub(super) fn remember(
        &mut self,
        date: NaiveDate,
        stored: impl IntoIterator<Item = Detection>,
    ) {
        self.on_session(date);
        for d in stored {
            if d.market_date == date && d.dedup_key.ends_with(LIVE_ONLY_KEY) {
                let signal = signal_of(&d);
                self.found.entry(d.symbol).or_default().insert(signal);
            }
        }
    }

    /// After priming from `snapshot`: marks what was found on symbols still live only,
    /// and drops every signal already found on live bars (stored and shown then).
    pub(super) fn primed(&mut self, snapshot: &MarketSnapshot, found: &mut Vec<Detection>) {
        self.on_session(snapshot.session.date);
        self.with_history = (snapshot.symbols.iter())
            .filter(|s| !s.history_loading)
            .map(|s| s.symbol.clone())
            .collect();
        found.retain_mut(|d| self.take(d));
        let with_history = &self.with_history;
        self.found
            .retain(|symbol, _| !with_history.contains(symbol));
    }

    /// A detection of a step: marked when its symbol is live only; `false` when the
    /// signal was found on live bars already.
    pub(super) fn take(&mut self, d: &mut Detection) -> bool {
        let signal = signal_of(d);
        if self
            .found
            .get(&d.symbol)
            .is_some_and(|f| f.contains(&signal))
        {
            return false;
        }
        if self.is_live_only(&d.symbol) {
            d.dedup_key.push_str(LIVE_ONLY_KEY);
            d.rationale.push_str(LIVE_ONLY_NOTE);
            self.found
                .entry(d.symbol.clone())
                .or_default()
                .insert(signal);
        }
        true
    }
}
