//! A recorded market: minute bars read from replay files (SPEC 10.2), played as a feed on
//! the virtual clock one session after another. A quote is each bar's close at its
//! minute's end; daily bars come from the daily files, else from the minute bars of the
//! sessions they cover (the engine's rule for a prior day, so serve and replay agree).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::detect::priming::HISTORY_SESSIONS;
use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::{self, Session};
use crate::market::levels::check_daily_bar;
use crate::provider::{MarketEvent, MarketSnapshot, Playable, Quote, SymbolSnapshot};

#[derive(Clone, Debug)]
pub struct RecordedMarket {
    minute: BTreeMap<Symbol, Vec<Bar>>,
    daily: BTreeMap<Symbol, Vec<DailyBar>>,
    /// Sessions with at least one regular-hours bar, in order.
    sessions: Vec<Session>,
    current: usize,
}

impl RecordedMarket {
    /// Fails when the bars hold no regular session at all.
    pub fn new(
        minute: BTreeMap<Symbol, Vec<Bar>>,
        daily: BTreeMap<Symbol, Vec<DailyBar>>,
    ) -> Result<RecordedMarket, String> {
        let mut dates: Vec<_> = minute
            .values()
            .flatten()
            .filter_map(|b| {
                calendar::session(calendar::ny_date(b.start)).filter(|s| s.contains(b.start))
            })
            .map(|s| s.date)
            .collect();
        dates.sort();
        dates.dedup();
        let sessions: Vec<Session> = dates.into_iter().filter_map(calendar::session).collect();
        if sessions.is_empty() {
            return Err(
                "the bar files hold no regular-session minute of any NYSE trading day".into(),
            );
        }
        Ok(RecordedMarket {
            minute,
            daily,
            sessions,
            current: 0,
        })
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// The symbols with minute bars, in alphabetical order.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.minute.keys()
    }

    fn bars_of(&self, bars: &[Bar], session: Session) -> Vec<Bar> {
        let from = session.pre_market_open();
        let to = session.after_hours_close();
        bars.iter()
            .copied()
            .filter(|b| b.start >= from && b.start < to)
            .collect()
    }

    /// The bars of the sessions before the previous one, oldest first, so that with the
    /// previous session's they span up to [`HISTORY_SESSIONS`] sessions.
    fn earlier_bars(&self, bars: &[Bar]) -> Vec<Bar> {
        let end = self.current.saturating_sub(1);
        let start = self.current.saturating_sub(HISTORY_SESSIONS).min(end);
        self.sessions[start..end]
            .iter()
            .flat_map(|s| self.bars_of(bars, *s))
            .collect()
    }

    /// Daily bars before the session: the files' valid bars (so the prior close is the
    /// official close), completed by the regular-hours minute bars of earlier sessions
    /// where the files have no valid bar for that date and the minutes cover the session
    /// (`DailyBar::from_covering_minutes`). A session of an illiquid name with minutes
    /// for a third of the day makes no daily bar, as in `coach replay`'s engine: one made
    /// here would give `coach serve` a prior day (gap_fill, pivots) that replay of the
    /// same files does not have.
    fn daily_before(&self, symbol: &Symbol, bars: &[Bar], session: Session) -> Vec<DailyBar> {
        let mut by_date: BTreeMap<_, DailyBar> = self
            .daily
            .get(symbol)
            .into_iter()
            .flatten()
            .filter(|d| d.date < session.date && check_daily_bar(d).is_ok())
            .map(|d| (d.date, *d))
            .collect();
        for s in self.sessions.iter().take_while(|s| s.date < session.date) {
            if by_date.contains_key(&s.date) {
                continue;
            }
            if let Some(day) =
                DailyBar::from_covering_minutes(s.date, s.open, s.close, regular(bars, *s))
            {
                by_date.insert(s.date, day);
            }
        }
        by_date.into_values().collect()
    }

    /// The close the watchlist's change is measured from: the previous session's daily
    /// bar (the official close), else its last regular-hours minute, else the last daily
    /// bar. A session too sparse for a daily bar still has a last trade.
    fn prior_close(&self, bars: &[Bar], daily: &[DailyBar]) -> Option<f64> {
        let previous = self.current.checked_sub(1).map(|i| self.sessions[i]);
        let official = daily
            .last()
            .filter(|d| previous.is_some_and(|p| p.date == d.date));
        let last_trade = previous.and_then(|p| regular(bars, p).last());
        official
            .map(|d| d.close)
            .or(last_trade.map(|b| b.close))
            .or(daily.last().map(|d| d.close))
    }
}

/// The regular-hours bars of `session` within `bars` (sorted by start).
fn regular(bars: &[Bar], session: Session) -> &[Bar] {
    let from = bars.partition_point(|b| b.start < session.open);
    let to = bars.partition_point(|b| b.start < session.close);
    &bars[from..to.max(from)]
}

fn minute_end(bar: &Bar) -> DateTime<Utc> {
    bar.start + Duration::minutes(1)
}

impl Playable for RecordedMarket {
    fn session(&self) -> Session {
        self.sessions[self.current]
    }

    fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        let session = self.session();
        let previous = self.current.checked_sub(1).map(|i| self.sessions[i]);
        MarketSnapshot {
            provider: "replay",
            delayed: false,
            session,
            now,
            symbols: self
                .minute
                .iter()
                .map(|(symbol, all)| {
                    let today: Vec<Bar> = self
                        .bars_of(all, session)
                        .into_iter()
                        .filter(|b| minute_end(b) <= now)
                        .collect();
                    let daily = self.daily_before(symbol, all, session);
                    let last = today
                        .last()
                        .map(|b| (b.close, minute_end(b)))
                        .or_else(|| daily.last().map(|d| (d.close, session.open)));
                    SymbolSnapshot {
                        symbol: symbol.clone(),
                        is_index: all.iter().all(|b| b.volume == 0.0),
                        previous_bars: previous
                            .map(|p| self.bars_of(all, p))
                            .unwrap_or_default()
                            .into(),
                        earlier_bars: self.earlier_bars(all).into(),
                        prior_close: self.prior_close(all, &daily),
                        history_loading: false,
                        daily: daily.into(),
                        last: last.map(|(price, at)| Quote {
                            symbol: symbol.clone(),
                            price,
                            at,
                        }),
                        bars: today.into(),
                    }
                })
                .collect(),
        }
    }

    fn step_event(&self, at: DateTime<Utc>) -> Option<MarketEvent> {
        let start = at - Duration::minutes(1);
        let mut quotes = Vec::new();
        let mut bars = Vec::new();
        for (symbol, all) in &self.minute {
            if let Ok(i) = all.binary_search_by_key(&start, |b| b.start) {
                let bar = all[i];
                quotes.push(Quote {
                    symbol: symbol.clone(),
                    price: bar.close,
                    at,
                });
                bars.push((symbol.clone(), bar));
            }
        }
        (!bars.is_empty()).then_some(MarketEvent::Step { at, quotes, bars })
    }

    /// Steps fall on minute boundaries.
    fn next_step(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let next = (t.timestamp().div_euclid(60) + 1) * 60;
        DateTime::from_timestamp(next, 0).unwrap_or(t + Duration::minutes(1))
    }

    fn roll(&mut self) -> bool {
        if self.current + 1 < self.sessions.len() {
            self.current += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn bar(h: u32, m: u32, day: u32, close: f64) -> Bar {
        Bar {
            start: Utc.with_ymd_and_hms(2026, 11, day, h, m, 0).unwrap(),
            open: close,
            high: close + 0.1,
            low: close - 0.1,
            close,
            volume: 1000.0,
        }
    }

    fn market() -> RecordedMarket {
        let spy = Symbol::parse("SPY").unwrap();
        // Monday 23rd and Tuesday 24th, 14:30Z = 09:30 ET; a Saturday bar is ignored.
        let bars = vec![
            bar(14, 30, 23, 680.0),
            bar(20, 59, 23, 682.0),
            bar(14, 30, 24, 683.0),
            bar(14, 31, 24, 684.0),
            bar(15, 0, 28, 1.0),
        ];
        RecordedMarket::new(BTreeMap::from([(spy, bars)]), BTreeMap::new()).unwrap()
    }

    #[test]
    fn sessions_are_the_trading_days_in_the_recording() {
        let m = market();
        let dates: Vec<NaiveDate> = m.sessions().iter().map(|s| s.date).collect();
        assert_eq!(
            dates,
            [
                NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
            ]
        );
    }

    #[test]
    fn the_first_session_has_no_prior_close_and_the_second_takes_the_last_trade() {
        let mut m = market();
        let first = m.snapshot(m.session().open);
        assert_eq!(first.symbols[0].prior_close, None, "nothing is invented");
        assert!(m.roll());
        let second = m.snapshot(m.session().open + Duration::minutes(1));
        let spy = &second.symbols[0];
        assert_eq!(spy.prior_close, Some(682.0));
        assert!(
            spy.daily.is_empty(),
            "two minutes of a session do not stand for its daily bar"
        );
        assert_eq!(spy.previous_bars.load().len(), 2);
        assert!(
            spy.earlier_bars.load().is_empty(),
            "no session before the previous one"
        );
        assert_eq!(spy.bars.load().len(), 1, "only the minute that has ended");
        assert!(!m.roll(), "the recording ends");
    }

    #[test]
    fn a_session_traded_every_minute_makes_the_daily_bar_and_a_sparse_one_does_not() {
        let (spy, lii) = (Symbol::parse("SPY").unwrap(), Symbol::parse("LII").unwrap());
        // Monday 23rd 09:30-16:00 ET: SPY trades every minute, LII in 142 of the 390
        // (from the open to the close, as the 2024 recording's LII on January 2nd).
        let monday = |minutes: &mut dyn Iterator<Item = u32>| -> Vec<Bar> {
            minutes
                .map(|m| bar(14 + (30 + m) / 60, (30 + m) % 60, 23, 600.0 + f64::from(m)))
                .chain([bar(14, 30, 24, 1.0)])
                .collect()
        };
        let spy_bars = monday(&mut (0..390));
        let lii_bars = monday(&mut (0..142).map(|i| i * 389 / 141));
        let mut m = RecordedMarket::new(
            BTreeMap::from([(spy, spy_bars), (lii, lii_bars)]),
            BTreeMap::new(),
        )
        .unwrap();
        assert!(m.roll());
        let tuesday = m.snapshot(m.session().open);
        let (lii, spy) = (&tuesday.symbols[0], &tuesday.symbols[1]);
        assert_eq!(spy.symbol.as_str(), "SPY");
        let day = spy
            .daily
            .last()
            .expect("a covered session makes a daily bar");
        assert_eq!((day.open, day.high, day.close), (600.0, 989.1, 989.0));
        assert_eq!(spy.prior_close, Some(989.0));
        assert!(
            lii.daily.is_empty(),
            "no prior day the engine would not make"
        );
        assert_eq!(lii.prior_close, Some(989.0), "its last trade still is");
    }

    #[test]
    fn a_snapshot_carries_the_sessions_before_the_previous_one_for_priming() {
        let spy = Symbol::parse("SPY").unwrap();
        // Mon 23rd to Wed 25th: on Wednesday, Tuesday is the previous session and
        // Monday's two bars are the earlier history.
        let bars = vec![
            bar(14, 30, 23, 680.0),
            bar(20, 59, 23, 682.0),
            bar(14, 30, 24, 683.0),
            bar(14, 30, 25, 684.0),
        ];
        let mut m = RecordedMarket::new(BTreeMap::from([(spy, bars)]), BTreeMap::new()).unwrap();
        m.roll();
        m.roll();
        let third = m.snapshot(m.session().open);
        let earlier: Vec<f64> = third.symbols[0]
            .earlier_bars
            .load()
            .iter()
            .map(|b| b.close)
            .collect();
        assert_eq!(earlier, [680.0, 682.0]);
        assert_eq!(third.symbols[0].previous_bars.load().len(), 1);
    }

    #[test]
    fn a_step_publishes_the_bar_whose_minute_just_ended() {
        let mut m = market();
        m.roll();
        let open = m.session().open;
        match m.step_event(open + Duration::minutes(2)) {
            Some(MarketEvent::Step { quotes, bars, .. }) => {
                assert_eq!(quotes[0].price, 684.0);
                assert_eq!(bars[0].1.start, open + Duration::minutes(1));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.step_event(open + Duration::seconds(30)), None);
    }

    #[test]
    fn bars_without_any_session_are_refused() {
        let spy = Symbol::parse("SPY").unwrap();
        let err = RecordedMarket::new(
            BTreeMap::from([(spy, vec![bar(15, 0, 28, 1.0)])]),
            BTreeMap::new(),
        )
        .unwrap_err();
        assert!(err.contains("no regular-session minute"));
    }
}
