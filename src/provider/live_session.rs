//! The live feeds' in-memory session (pure), shared by every live provider (Massive,
//! Alpaca): per symbol the history loaded at start and
//! every final bar since, the last price, and the rule that makes the published stream
//! exact: a minute bar is accepted only when it starts after the symbol's last accepted
//! bar, so bars arriving twice (stream and REST backfill overlap) are published once and
//! always in order.
//!
//! While a live feed starts, a symbol can stream before its history is in: it is held
//! live only ([`LiveSession::start_live`]), its streamed bars kept and served with
//! `history_loading` set, and its history, when it lands ([`LiveSession::add_history`]),
//! is merged with them by minute start, each minute once, in order.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::Session;
use crate::provider::packed_bars::DayBars;
use crate::provider::shared_vec::SharedVec;
use crate::provider::{MarketSnapshot, Quote, SymbolSnapshot};

/// What the REST history gives for one symbol at start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SymbolHistory {
    pub is_index: bool,
    /// Final minute bars of the current session so far, ascending.
    pub bars: Vec<Bar>,
    /// The previous session's minute bars, ascending.
    pub previous_bars: Vec<Bar>,
    /// Daily bars up to and including the previous session, ascending.
    pub daily: Vec<DailyBar>,
}

impl SymbolHistory {
    /// The newest minute bar: today's last, else the previous session's last.
    pub fn newest_bar(&self) -> Option<&Bar> {
        self.bars.last().or(self.previous_bars.last())
    }
}

/// One symbol's history as held: the same vectors every snapshot hands out.
#[derive(Clone, Debug, PartialEq)]
struct SymbolState {
    is_index: bool,
    /// Whether its REST history is in; `false` while only its streamed bars are held.
    history: bool,
    /// Today's final minute bars, ascending, packed where they pack; appended to (copy
    /// on write while a snapshot still holds the previous vector).
    bars: DayBars,
    /// Never changed after the start: shared by every snapshot as they are.
    previous_bars: DayBars,
    daily: SharedVec<DailyBar>,
    /// The prior close snapshots report (see [`LiveSession::snapshot`]), fixed at start.
    prior_close: Option<f64>,
    last: Option<Quote>,
    /// Start of the newest accepted bar (today's or the previous session's).
    last_bar_start: Option<DateTime<Utc>>,
}

/// The session the live feed serves.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSession {
    pub session: Session,
    pub delayed: bool,
    /// The provider named in snapshots (`massive`, `alpaca`).
    pub provider: &'static str,
    order: Vec<Symbol>,
    symbols: BTreeMap<Symbol, SymbolState>,
}

fn quote_of(symbol: &Symbol, bar: &Bar) -> Quote {
    Quote {
        symbol: symbol.clone(),
        price: bar.close,
        at: bar.start + Duration::minutes(1),
    }
}

impl LiveSession {
    /// `histories` in display order; the last price starts as the newest bar's close.
    pub fn new(session: Session, delayed: bool, histories: Vec<(Symbol, SymbolHistory)>) -> Self {
        let order = histories.iter().map(|(s, _)| s.clone()).collect();
        let mut live = LiveSession::loading(session, delayed, order);
        for (symbol, history) in histories {
            live.add_history(symbol, history);
        }
        live
    }

    /// A session whose symbols (`order`, display order) have no history yet: each joins
    /// with [`LiveSession::add_history`]; until then it is left out of snapshots and its
    /// bars and prices are refused.
    pub fn loading(session: Session, delayed: bool, order: Vec<Symbol>) -> Self {
        LiveSession {
            session,
            delayed,
            provider: "massive",
            order,
            symbols: BTreeMap::new(),
        }
    }

    /// Takes the history of one of the display order's symbols; the last price starts as
    /// the newest bar's close. A symbol held live only keeps its streamed bars: merged
    /// with the history's by minute start (the history's bar where both have a minute),
    /// each minute once, in order; its last price stays when newer. A symbol whose history
    /// was in already has it replaced.
    pub fn add_history(&mut self, symbol: Symbol, mut history: SymbolHistory) {
        let previous_close = crate::market::calendar::previous_session(self.session.date).close;
        let streamed = self
            .symbols
            .remove(&symbol)
            .filter(|s| !s.history)
            .map(|s| (s.bars.to_vec(), s.last, s.last_bar_start));
        let newest_bar = history.newest_bar();
        let mut newest = newest_bar.map(|b| b.start);
        let mut last = newest_bar.map(|b| quote_of(&symbol, b));
        if let Some((bars, streamed_last, streamed_newest)) = streamed {
            history.bars = merge_by_start(std::mem::take(&mut history.bars), bars);
            newest = newest.max(streamed_newest);
            if streamed_last
                .as_ref()
                .is_some_and(|q| last.as_ref().is_none_or(|l| l.at <= q.at))
            {
                last = streamed_last;
            }
        }
        let state = SymbolState {
            history: true,
            last,
            last_bar_start: newest,
            prior_close: history
                .previous_bars
                .iter()
                .rev()
                .find(|b| b.start < previous_close)
                .map(|b| b.close)
                .or(history.daily.last().map(|d| d.close)),
            is_index: history.is_index,
            bars: history.bars.into(),
            previous_bars: history.previous_bars.into(),
            daily: history.daily.into(),
        };
        self.symbols.insert(symbol, state);
    }

    /// Holds a symbol of the display order whose history is still loading live only: it
    /// takes its streamed bars and prices from now on, and is served with
    /// `history_loading` until [`LiveSession::add_history`]. Nothing for a symbol already
    /// held or not in the display order.
    pub fn start_live(&mut self, symbol: &Symbol, is_index: bool) {
        if self.symbols.contains_key(symbol) || !self.order.contains(symbol) {
            return;
        }
        let state = SymbolState {
            is_index,
            history: false,
            bars: DayBars::default(),
            previous_bars: DayBars::default(),
            daily: SharedVec::default(),
            prior_close: None,
            last: None,
            last_bar_start: None,
        };
        self.symbols.insert(symbol.clone(), state);
    }

    /// Whether the symbol's history is in.
    pub fn has_history(&self, symbol: &Symbol) -> bool {
        self.symbols.get(symbol).is_some_and(|s| s.history)
    }

    /// Whether the symbol is held (with its history, or live only while it loads): it
    /// is served, and takes bars and prices.
    #[cfg(test)]
    fn is_held(&self, symbol: &Symbol) -> bool {
        self.symbols.contains_key(symbol)
    }

    /// The symbols in display order, with or without their history.
    pub fn symbols(&self) -> &[Symbol] {
        &self.order
    }

    pub fn is_index(&self, symbol: &Symbol) -> bool {
        self.symbols.get(symbol).is_some_and(|s| s.is_index)
    }

    /// Start of the symbol's newest accepted bar.
    pub fn last_bar_start(&self, symbol: &Symbol) -> Option<DateTime<Utc>> {
        self.symbols.get(symbol).and_then(|s| s.last_bar_start)
    }

    /// Where a backfill of `symbol` starts: the minute after its newest bar, else the
    /// session's pre-market open.
    pub fn backfill_from(&self, symbol: &Symbol) -> DateTime<Utc> {
        self.last_bar_start(symbol)
            .map(|t| t + Duration::minutes(1))
            .unwrap_or_else(|| self.session.pre_market_open())
    }

    /// Takes a final minute bar if it is newer than the symbol's last one; returns
    /// whether it was new (and so must be published). Bars of today's trading day are
    /// kept for snapshots. Unknown symbols are refused.
    pub fn accept_bar(&mut self, symbol: &Symbol, bar: Bar) -> bool {
        let day_start = self.session.pre_market_open();
        let day_end = self.session.after_hours_close();
        let Some(state) = self.symbols.get_mut(symbol) else {
            return false;
        };
        if state.last_bar_start.is_some_and(|last| bar.start <= last) {
            return false;
        }
        state.last_bar_start = Some(bar.start);
        if (day_start..day_end).contains(&bar.start) {
            state.bars.push(bar);
        }
        let quote = quote_of(symbol, &bar);
        if state.last.as_ref().is_none_or(|q| q.at <= quote.at) {
            state.last = Some(quote);
        }
        true
    }

    /// Replaces an accepted bar of today by `bar`, the one with the same start (a late
    /// trade corrected it: Alpaca's `u` message); the last price follows when it was the
    /// newest bar. Returns whether a bar was replaced; a bar never accepted is not taken
    /// here (it goes through [`LiveSession::accept_bar`]).
    pub fn correct_bar(&mut self, symbol: &Symbol, bar: Bar) -> bool {
        let Some(state) = self.symbols.get_mut(symbol) else {
            return false;
        };
        if !state.bars.replace(bar) {
            return false;
        }
        if state.last_bar_start == Some(bar.start)
            && state
                .last
                .as_ref()
                .is_none_or(|q| q.at <= bar.start + Duration::minutes(1))
        {
            state.last = Some(quote_of(symbol, &bar));
        }
        true
    }

    /// Merges `bars` of one symbol (a REST answer) with what it holds, by minute start:
    /// those newer than its newest bar are accepted in order and returned (to publish);
    /// those of today's trading day older than it whose minute it lacks fill their gap,
    /// in place. Returns the new bars, and whether a gap was filled (consumers that saw
    /// the later bars need a new snapshot to have it).
    pub fn merge_bars(&mut self, symbol: &Symbol, mut bars: Vec<Bar>) -> (Vec<Bar>, bool) {
        bars.sort_by_key(|b| b.start);
        let newest = self.last_bar_start(symbol);
        let (older, newer): (Vec<Bar>, Vec<Bar>) = bars
            .into_iter()
            .partition(|b| newest.is_some_and(|last| b.start <= last));
        let day = self.session.pre_market_open()..self.session.after_hours_close();
        let mut filled = false;
        if let Some(state) = self.symbols.get_mut(symbol) {
            let gaps: Vec<Bar> = older
                .into_iter()
                .filter(|b| day.contains(&b.start))
                .filter(|b| !state.bars.has_start(b.start))
                .collect();
            if !gaps.is_empty() {
                filled = true;
                let merged = merge_by_start(state.bars.to_vec(), gaps);
                state.bars = merged.into();
            }
        }
        (self.accept_bars(symbol, newer), filled)
    }

    /// Accepts `bars` of one symbol in start order; returns those that were new.
    pub fn accept_bars(&mut self, symbol: &Symbol, mut bars: Vec<Bar>) -> Vec<Bar> {
        bars.sort_by_key(|b| b.start);
        bars.into_iter()
            .filter(|b| self.accept_bar(symbol, *b))
            .collect()
    }

    /// Records a last price unless an older one than what is held. Returns whether taken.
    pub fn set_quote(&mut self, quote: Quote) -> bool {
        let Some(state) = self.symbols.get_mut(&quote.symbol) else {
            return false;
        };
        if state.last.as_ref().is_some_and(|q| q.at > quote.at) || !quote.price.is_finite() {
            return false;
        }
        state.last = Some(quote);
        true
    }

    /// The session as a consumer needs it to start: shares every symbol's bars with the
    /// session (no bar is copied; packed ones are unpacked when a consumer reads them).
    /// The prior close is the previous session's last regular-session minute close (after
    /// hours excluded), else the last daily close.
    pub fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        MarketSnapshot {
            provider: self.provider,
            session: self.session,
            now,
            delayed: self.delayed,
            symbols: self
                .order
                .iter()
                .filter_map(|symbol| {
                    let s = self.symbols.get(symbol)?;
                    Some(SymbolSnapshot {
                        symbol: symbol.clone(),
                        is_index: s.is_index,
                        bars: s.bars.to_list(),
                        previous_bars: s.previous_bars.to_list(),
                        earlier_bars: Default::default(),
                        daily: s.daily.clone(),
                        prior_close: s.prior_close,
                        last: s.last.clone(),
                        history_loading: !s.history,
                    })
                })
                .collect(),
        }
    }
}

/// `first` and `second`, each ascending by start, as one ascending list with each minute
/// once (`first`'s bar where both have it).
fn merge_by_start(first: Vec<Bar>, second: Vec<Bar>) -> Vec<Bar> {
    let mut by_start: BTreeMap<DateTime<Utc>, Bar> =
        second.into_iter().map(|b| (b.start, b)).collect();
    by_start.extend(first.into_iter().map(|b| (b.start, b)));
    by_start.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::calendar;
    use chrono::NaiveDate;

    fn bar(start: DateTime<Utc>, close: f64) -> Bar {
        Bar {
            start,
            open: close,
            high: close,
            low: close,
            close,
            volume: 100.0,
        }
    }

    fn setup() -> (LiveSession, Symbol) {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let previous = calendar::previous_session(session.date);
        let spy = Symbol::parse("SPY").unwrap();
        let history = SymbolHistory {
            is_index: false,
            bars: vec![bar(session.open, 600.0)],
            previous_bars: vec![
                bar(previous.close - Duration::minutes(1), 598.0),
                bar(previous.close + Duration::minutes(5), 599.0),
            ],
            daily: vec![],
        };
        (
            LiveSession::new(session, false, vec![(spy.clone(), history)]),
            spy,
        )
    }

    #[test]
    fn a_bar_seen_twice_is_accepted_once_and_an_older_one_never() {
        let (mut live, spy) = setup();
        let open = live.session.open;
        let next = bar(open + Duration::minutes(1), 601.0);
        assert!(live.accept_bar(&spy, next));
        assert!(!live.accept_bar(&spy, next), "the same minute again");
        assert!(!live.accept_bar(&spy, bar(open, 1.0)), "an older minute");
        let accepted = live.accept_bars(
            &spy,
            vec![
                bar(open + Duration::minutes(3), 603.0),
                bar(open + Duration::minutes(1), 601.0),
                bar(open + Duration::minutes(2), 602.0),
            ],
        );
        let closes: Vec<f64> = accepted.iter().map(|b| b.close).collect();
        assert_eq!(closes, [602.0, 603.0], "sorted, the overlap dropped");
        assert_eq!(live.backfill_from(&spy), open + Duration::minutes(4));
        let snap = live.snapshot(open + Duration::minutes(5));
        assert_eq!(snap.symbols[0].bars.load().len(), 4);
        assert_eq!(snap.symbols[0].last.as_ref().unwrap().price, 603.0);
    }

    #[test]
    fn the_prior_close_is_the_last_regular_session_bar_not_after_hours() {
        let (live, _) = setup();
        let snap = live.snapshot(live.session.open);
        assert_eq!(snap.symbols[0].prior_close, Some(598.0));
        assert!(!snap.delayed);
        assert_eq!(snap.provider, "massive");
    }

    #[test]
    fn history_from_oversized_rest_answers_is_held_packed_bar_for_bar_without_their_spare_room() {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let previous = calendar::previous_session(session.date);
        // as the REST loader hands them: both in buffers with room for a whole answer
        let mut previous_bars = Vec::with_capacity(1_024);
        previous_bars.extend(
            (0..960).map(|i| bar(previous.pre_market_open() + Duration::minutes(i), 600.0)),
        );
        let mut bars = Vec::with_capacity(1_024);
        bars.extend((0..15).map(|i| bar(session.pre_market_open() + Duration::minutes(i), 601.0)));
        let spy = Symbol::parse("SPY").unwrap();
        let history = SymbolHistory {
            is_index: false,
            bars: bars.clone(),
            previous_bars: previous_bars.clone(),
            daily: vec![],
        };
        let mut live = LiveSession::new(session, false, vec![(spy.clone(), history)]);
        let snap = live.snapshot(session.open);
        assert_eq!(snap.symbols[0].previous_bars, previous_bars);
        assert_eq!(snap.symbols[0].bars, bars);
        let held = |live: &LiveSession| live.symbols[&spy].clone();
        let (DayBars::Packed(previous), DayBars::Packed(today)) =
            (held(&live).previous_bars, held(&live).bars)
        else {
            panic!("bars quoted to the cent are held packed");
        };
        assert_eq!((previous.capacity(), today.capacity()), (960, 15));
        drop(snap);
        // the rest of the day streams in: room grows an hour or so at a time
        for i in 15..960 {
            let start = session.pre_market_open() + Duration::minutes(i);
            assert!(live.accept_bar(&spy, bar(start, 602.0)));
        }
        let DayBars::Packed(day) = held(&live).bars else {
            panic!("still packed");
        };
        assert_eq!(day.len(), 960);
        assert!(day.capacity() - day.len() <= crate::provider::shared_vec::MAX_SPARE);
    }

    #[test]
    fn a_loading_session_serves_only_the_symbols_whose_history_is_in_in_display_order() {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let s = |t: &str| Symbol::parse(t).unwrap();
        let mut live = LiveSession::loading(session, false, vec![s("SPY"), s("QQQ"), s("IWM")]);
        assert!(live.snapshot(session.open).symbols.is_empty());
        assert!(
            !live.accept_bar(&s("QQQ"), bar(session.open, 500.0)),
            "no history yet"
        );
        let history = |close| SymbolHistory {
            bars: vec![bar(session.open, close)],
            ..SymbolHistory::default()
        };
        live.add_history(s("IWM"), history(240.0));
        live.add_history(s("SPY"), history(600.0));
        assert!(live.has_history(&s("SPY")) && !live.has_history(&s("QQQ")));
        let snap = live.snapshot(session.open + Duration::minutes(1));
        let names: Vec<&str> = snap.symbols.iter().map(|s| s.symbol.as_str()).collect();
        assert_eq!(names, ["SPY", "IWM"], "display order, QQQ still loading");
        assert_eq!(snap.symbols[1].last.as_ref().unwrap().price, 240.0);
        assert_eq!(live.symbols().len(), 3);
    }

    #[test]
    fn a_symbol_streaming_before_its_history_keeps_its_bars_and_gets_history_before_them() {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let qqq = Symbol::parse("QQQ").unwrap();
        let mut live = LiveSession::loading(session, false, vec![qqq.clone()]);
        let open = session.open;
        let m = |i: i64| open + Duration::minutes(i);
        live.start_live(&qqq, false);
        assert!(!live.has_history(&qqq) && live.is_held(&qqq));
        // 09:32 and 09:33 stream while the history loads
        assert!(live.accept_bar(&qqq, bar(m(2), 502.0)));
        assert!(live.accept_bar(&qqq, bar(m(3), 503.0)));
        let snap = live.snapshot(m(4));
        assert!(snap.symbols[0].history_loading, "served as live bars only");
        assert_eq!(snap.symbols[0].bars.len(), 2);
        // the history asked at 09:33:30 has 09:30 to 09:32 (09:32 twice, REST's kept)
        let history = SymbolHistory {
            bars: vec![bar(m(0), 500.0), bar(m(1), 501.0), bar(m(2), 502.5)],
            ..SymbolHistory::default()
        };
        live.add_history(qqq.clone(), history);
        let snap = live.snapshot(m(4));
        let symbol = &snap.symbols[0];
        assert!(!symbol.history_loading);
        let closes: Vec<f64> = symbol.bars.load().iter().map(|b| b.close).collect();
        assert_eq!(
            closes,
            [500.0, 501.0, 502.5, 503.0],
            "each minute once, in order"
        );
        assert_eq!(
            symbol.last.as_ref().unwrap().price,
            503.0,
            "the newest price stays"
        );
        assert!(
            !live.accept_bar(&qqq, bar(m(3), 1.0)),
            "09:33 is in already"
        );
        assert!(live.accept_bar(&qqq, bar(m(4), 504.0)));
    }

    #[test]
    fn a_gap_fetched_after_later_minutes_streamed_fills_in_place_and_publishes_only_newer() {
        let (mut live, spy) = setup();
        let open = live.session.open;
        let m = |i: i64| open + Duration::minutes(i);
        // the history ends at 09:30; 09:33 streamed; REST answers 09:31 to 09:34
        assert!(live.accept_bar(&spy, bar(m(3), 603.0)));
        let answer = vec![
            bar(m(1), 601.0),
            bar(m(2), 602.0),
            bar(m(3), 9.0),
            bar(m(4), 604.0),
        ];
        let (new, filled) = live.merge_bars(&spy, answer);
        assert!(filled, "09:31 and 09:32 were missing");
        assert_eq!(
            new,
            [bar(m(4), 604.0)],
            "only the newer minute goes out in a step"
        );
        let closes: Vec<f64> = live.snapshot(m(5)).symbols[0]
            .bars
            .load()
            .iter()
            .map(|b| b.close)
            .collect();
        assert_eq!(closes, [600.0, 601.0, 602.0, 603.0, 604.0]);
        let (new, filled) = live.merge_bars(&spy, vec![bar(m(2), 1.0)]);
        assert!(new.is_empty() && !filled, "nothing missing any more");
    }

    #[test]
    fn a_first_session_without_history_backfills_from_the_pre_market() {
        let session = calendar::session(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
        let qqq = Symbol::parse("QQQ").unwrap();
        let mut live =
            LiveSession::new(session, true, vec![(qqq.clone(), SymbolHistory::default())]);
        assert_eq!(live.backfill_from(&qqq), session.pre_market_open());
        assert_eq!(live.snapshot(session.open).symbols[0].prior_close, None);
        assert!(!live.accept_bar(&Symbol::parse("XYZ").unwrap(), bar(session.open, 1.0)));
        let stale = Quote {
            symbol: qqq.clone(),
            price: 5.0,
            at: session.open,
        };
        assert!(live.accept_bar(&qqq, bar(session.open, 500.0)));
        assert!(!live.set_quote(stale), "older than the bar's close");
    }
}
