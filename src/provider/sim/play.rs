//! The simulated market as a `Playable` feed: a price every 15 simulated seconds, a final
//! bar at each minute's end.

use chrono::{DateTime, Duration, Utc};

use super::{STEPS_PER_MINUTE, SimMarket, step_instant};
use crate::market::calendar::Session;
use crate::provider::{MarketEvent, MarketSnapshot, Playable, Quote, SymbolSnapshot};

impl Playable for SimMarket {
    fn session(&self) -> Session {
        self.today.session
    }

    /// Everything known at `now`; the bars and daily history are shared with the market,
    /// not copied (a snapshot of 8,000 symbols costs a pointer per list).
    fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        let mut symbols = Vec::with_capacity(self.specs.len());
        let previous_end = self.previous.session.after_hours_close();
        self.today.visit(now, |i, tape| {
            let Some(spec) = self.specs.get(i) else {
                return;
            };
            let symbol = &spec.symbol;
            symbols.push(SymbolSnapshot {
                symbol: symbol.clone(),
                is_index: spec.is_index,
                bars: self.today.bar_list_from(i, tape.given_close(), now),
                previous_bars: self.previous.bar_list(i, previous_end),
                earlier_bars: Default::default(),
                daily: self.daily.get(symbol).cloned().unwrap_or_default(),
                prior_close: self.prior_closes.get(i).copied().flatten(),
                history_loading: false,
                last: tape
                    .last_step(now)
                    .or_else(|| self.previous.last_close(i))
                    .map(|price| Quote {
                        symbol: symbol.clone(),
                        price,
                        at: now,
                    }),
            });
        });
        MarketSnapshot {
            provider: "sim",
            delayed: false,
            session: self.today.session,
            now,
            symbols,
        }
    }

    /// Every symbol's price at the 15-second step ending at `at`, and the bars whose
    /// minute ended then. One pass over the symbols, each generating at most its next
    /// minute: O(symbols) per step.
    fn step_event(&self, at: DateTime<Utc>) -> Option<MarketEvent> {
        let minute_start = floor_minute(at - Duration::seconds(1));
        let step = ((at - minute_start).num_seconds() / 15 - 1) as usize;
        if step >= STEPS_PER_MINUTE || step_instant(minute_start, step) != at {
            return None;
        }
        let mut quotes = Vec::new();
        let mut bars = Vec::new();
        self.today.visit(at, |i, tape| {
            let (Some(spec), Some(minute)) = (self.specs.get(i), tape.latest()) else {
                return;
            };
            if minute.bar.start != minute_start {
                return;
            }
            quotes.push(Quote {
                symbol: spec.symbol.clone(),
                price: minute.steps[step],
                at,
            });
            if step == STEPS_PER_MINUTE - 1 {
                bars.push((spec.symbol.clone(), minute.bar));
            }
        });
        (!quotes.is_empty()).then_some(MarketEvent::Step { at, quotes, bars })
    }

    /// Steps fall every 15 s on the minute grid.
    fn next_step(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let next = (t.timestamp().div_euclid(15) + 1) * 15;
        DateTime::from_timestamp(next, 0).unwrap_or(t + Duration::seconds(15))
    }

    fn roll(&mut self) -> bool {
        SimMarket::roll(self);
        true
    }
}

fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp().div_euclid(60) * 60, 0).unwrap_or(t)
}
