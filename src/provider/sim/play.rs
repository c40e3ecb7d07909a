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

    fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot {
        MarketSnapshot {
            provider: "sim",
            delayed: false,
            session: self.today.session,
            now,
            symbols: self
                .symbols()
                .map(|symbol| SymbolSnapshot {
                    symbol: symbol.clone(),
                    is_index: self.is_index(symbol),
                    bars: self.today.bars_until(symbol, now).into(),
                    previous_bars: self
                        .previous
                        .bars_until(symbol, self.previous.session.after_hours_close())
                        .into(),
                    earlier_bars: Default::default(),
                    daily: self.daily.get(symbol).cloned().unwrap_or_default().into(),
                    prior_close: self.prior_close(symbol),
                    last: self.last_price(symbol, now).map(|price| Quote {
                        symbol: symbol.clone(),
                        price,
                        at: now,
                    }),
                })
                .collect(),
        }
    }

    /// Every symbol's price at the 15-second step ending at `at`, and the bars whose
    /// minute ended then.
    fn step_event(&self, at: DateTime<Utc>) -> Option<MarketEvent> {
        let minute_start = floor_minute(at - Duration::seconds(1));
        let step = ((at - minute_start).num_seconds() / 15 - 1) as usize;
        if step >= STEPS_PER_MINUTE || step_instant(minute_start, step) != at {
            return None;
        }
        let mut quotes = Vec::new();
        let mut bars = Vec::new();
        for series in &self.today.series {
            let Ok(idx) = series
                .minutes
                .binary_search_by_key(&minute_start, |m| m.bar.start)
            else {
                continue;
            };
            let minute = &series.minutes[idx];
            quotes.push(Quote {
                symbol: series.symbol.clone(),
                price: minute.steps[step],
                at,
            });
            if step == STEPS_PER_MINUTE - 1 {
                bars.push((series.symbol.clone(), minute.bar));
            }
        }
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
