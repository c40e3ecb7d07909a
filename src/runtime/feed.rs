//! The simulated feed worker: reveals the simulated market step by step on the virtual
//! clock and publishes `MarketEvent`s on the bus.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::bus::{MarketBus, SnapshotRequests};
use super::clock::VirtualClock;
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::market::calendar;
use crate::provider::sim::{STEPS_PER_MINUTE, SimMarket, step_instant};
use crate::provider::{MarketEvent, MarketSnapshot, Quote, SymbolSnapshot};

/// How the simulation starts.
#[derive(Clone, Debug)]
pub struct SimFeedConfig {
    pub seed: u64,
    pub speed: f64,
    pub symbols: Vec<Symbol>,
    /// The session to simulate first (normally the latest session on or before today).
    pub date: NaiveDate,
}

/// Minutes before the open at which the virtual clock starts.
const LEAD_IN_MINUTES: i64 = 5;

/// The latest session on or before `today` (New York): the demo replays the day a
/// trader would be looking at, whatever the hour.
pub fn latest_session_date(today: NaiveDate) -> NaiveDate {
    if calendar::is_trading_day(today) {
        today
    } else {
        calendar::previous_session(today).date
    }
}

/// The state of one simulated market as events: the snapshot at `now`.
pub fn snapshot(market: &SimMarket, now: DateTime<Utc>) -> MarketSnapshot {
    MarketSnapshot {
        provider: "sim",
        delayed: false,
        session: market.today.session,
        now,
        symbols: market
            .symbols()
            .map(|symbol| SymbolSnapshot {
                symbol: symbol.clone(),
                is_index: market.is_index(symbol),
                bars: market.today.bars_until(symbol, now),
                previous_bars: market
                    .previous
                    .bars_until(symbol, market.previous.session.after_hours_close()),
                daily: market.daily.get(symbol).cloned().unwrap_or_default(),
                prior_close: market.prior_close(symbol),
                last: market.last_price(symbol, now).map(|price| Quote {
                    symbol: symbol.clone(),
                    price,
                    at: now,
                }),
            })
            .collect(),
    }
}

/// The event for the 15-second step ending at `at`: every symbol's price at that instant,
/// and the bars whose minute ended then.
pub fn step_event(market: &SimMarket, at: DateTime<Utc>) -> Option<MarketEvent> {
    let minute_start = floor_minute(at - Duration::seconds(1));
    let step = ((at - minute_start).num_seconds() / 15 - 1) as usize;
    if step >= STEPS_PER_MINUTE || step_instant(minute_start, step) != at {
        return None;
    }
    let mut quotes = Vec::new();
    let mut bars = Vec::new();
    for series in &market.today.series {
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

fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp().div_euclid(60) * 60, 0).unwrap_or(t)
}

/// The first step boundary strictly after `t` (steps fall every 15 s on the minute grid).
pub fn next_step(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let next = (secs.div_euclid(15) + 1) * 15;
    DateTime::from_timestamp(next, 0).unwrap_or(t + Duration::seconds(15))
}

fn session_start(market: &SimMarket) -> DateTime<Utc> {
    market.today.session.open - Duration::minutes(LEAD_IN_MINUTES)
}

/// Runs the feed until cancelled, answering snapshot requests between steps.
/// Publishing never blocks: a lagging subscriber loses the oldest events and is told so.
pub async fn run_sim_feed(
    ctx: WorkerCtx,
    config: SimFeedConfig,
    bus: MarketBus,
    requests: SnapshotRequests,
) -> Result<(), String> {
    let mut market = SimMarket::new(config.seed, &config.symbols, config.date);
    let mut clock = VirtualClock::new(session_start(&market), config.speed);
    let mut cursor = clock.now();
    bus.publish(MarketEvent::Snapshot(Arc::new(snapshot(&market, cursor))));
    ctx.heartbeat();
    loop {
        let step = next_step(cursor);
        if step > market.today.session.after_hours_close() {
            market.roll();
            clock.jump_to(session_start(&market));
            cursor = clock.now();
            bus.publish(MarketEvent::Snapshot(Arc::new(snapshot(&market, cursor))));
            ctx.heartbeat();
            continue;
        }
        let wake = tokio::time::Instant::from_std(clock.real_instant(step));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            Some(reply) = requests.next() => {
                // The requester may have gone away meanwhile; nothing to do then.
                if reply.send(Arc::new(snapshot(&market, cursor))).is_err() {
                    tracing::debug!("a snapshot requester went away");
                }
                continue;
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        let now = clock.now();
        let mut at = step;
        while at <= now && at <= market.today.session.after_hours_close() {
            if let Some(event) = step_event(&market, at) {
                bus.publish(event);
            }
            cursor = at;
            at = next_step(at);
        }
        ctx.heartbeat();
    }
}
