//! The simulated market (SPEC 10.1): deterministic from a seed, pure (no clock reads).
//!
//! Model, per session: three factors (broad market, tech, small caps) follow a GARCH(1,1)
//! random walk in 15-second steps with an intraday U-shaped volatility multiplier, a trend
//! or range character drawn per day, and an overnight gap split between the 04:00 pre-market
//! open and the 09:30 open. Each symbol's log price is beta × its factor plus its own noise,
//! so an index and its ETF (SPX/SPY, NDX/QQQ) move together. Volume is U-shaped over the
//! regular session and thin outside it; indices have no volume and no extended-hours bars.
//! Prices are in dollars (index points for indices), volume in shares.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

mod day;
mod plan;
mod play;
mod tape;

pub use day::SimDay;

use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar;
use crate::provider::shared_vec::SharedVec;

/// The symbols the demo quotes by default.
pub const DEFAULT_SYMBOLS: [&str; 10] = [
    "SPX", "NDX", "SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN",
];

/// Sessions of daily history generated before the previous session (enough for ATR(14)
/// and a relative-volume baseline).
const HISTORY_SESSIONS: usize = 40;
/// Steps per minute; prices change every 15 simulated seconds.
pub const STEPS_PER_MINUTE: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(usize)]
enum Factor {
    Broad,
    Tech,
    Small,
}

/// How one symbol is simulated.
#[derive(Clone, Debug)]
struct Spec {
    symbol: Symbol,
    base_price: f64,
    factor: Factor,
    beta: f64,
    /// Own daily volatility, as a fraction (0.012 = 1.2 %).
    idio_daily_vol: f64,
    /// Shares traded in a regular session; 0 for an index.
    daily_volume: f64,
    is_index: bool,
}

fn spec_for(symbol: &Symbol) -> Spec {
    let (base_price, factor, beta, idio, volume, is_index) = match symbol.as_str() {
        "SPX" => (6850.0, Factor::Broad, 1.0, 0.0, 0.0, true),
        "SPY" => (683.0, Factor::Broad, 1.0, 0.0003, 60e6, false),
        "NDX" => (25300.0, Factor::Tech, 1.0, 0.0, 0.0, true),
        "QQQ" => (615.0, Factor::Tech, 1.0, 0.0003, 40e6, false),
        "IWM" => (248.0, Factor::Small, 1.0, 0.002, 30e6, false),
        "AAPL" => (276.0, Factor::Tech, 0.9, 0.012, 45e6, false),
        "MSFT" => (485.0, Factor::Tech, 0.8, 0.010, 20e6, false),
        "NVDA" => (182.0, Factor::Tech, 1.6, 0.022, 180e6, false),
        "TSLA" => (425.0, Factor::Tech, 1.5, 0.030, 90e6, false),
        "AMZN" => (232.0, Factor::Tech, 1.0, 0.016, 40e6, false),
        other => {
            let h = fnv(other.as_bytes());
            let price = 20.0 + (h % 48_000) as f64 / 100.0;
            (price, Factor::Broad, 1.1, 0.015, 10e6, false)
        }
    };
    Spec {
        symbol: symbol.clone(),
        base_price,
        factor,
        beta,
        idio_daily_vol: idio,
        daily_volume: volume,
        is_index,
    }
}

/// One simulated minute: the final bar and the four 15-second prices inside it
/// (the last equals the close).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimMinute {
    pub bar: Bar,
    pub steps: [f64; STEPS_PER_MINUTE],
}

/// The simulated market: daily history, the previous session and the current one.
///
/// Memory (issue 25 item 5): no minute bar is held. Each symbol's tape keeps its random
/// streams and the latest minute (its 15-second prices); a snapshot's bars are recipes
/// that replay a fresh tape when a consumer reads them, and the daily history is shared,
/// not copied.
#[derive(Clone, Debug)]
pub struct SimMarket {
    seed: u64,
    specs: Arc<[Spec]>,
    /// Each symbol's place in `specs` (its first, should a symbol be listed twice).
    index: Arc<HashMap<Symbol, usize>>,
    /// Daily bars per symbol, oldest first, up to and including the previous session.
    pub daily: HashMap<Symbol, SharedVec<DailyBar>>,
    /// The previous session's regular close per symbol, in `specs` order.
    prior_closes: Vec<Option<f64>>,
    pub previous: SimDay,
    pub today: SimDay,
}

impl SimMarket {
    /// Builds the market whose current session is the first trading day on or after
    /// `date`; the same seed and date give the same market.
    pub fn new(seed: u64, symbols: &[Symbol], date: NaiveDate) -> SimMarket {
        let specs: Arc<[Spec]> = symbols.iter().map(spec_for).collect();
        let mut index = HashMap::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            index.entry(spec.symbol.clone()).or_insert(i);
        }
        let index = Arc::new(index);
        let today_session = calendar::session(date).unwrap_or_else(|| calendar::next_session(date));
        let previous_session = calendar::previous_session(today_session.date);

        // Daily history up to the session before the previous one.
        let mut history_sessions = Vec::with_capacity(HISTORY_SESSIONS);
        let mut d = previous_session.date;
        for _ in 0..HISTORY_SESSIONS {
            let s = calendar::previous_session(d);
            history_sessions.push(s);
            d = s.date;
        }
        history_sessions.reverse();

        // One draw of the three factors per day, shared by every symbol, so index and
        // ETF histories move together as they do intraday.
        let factor_days: Vec<[f64; 3]> = history_sessions
            .iter()
            .map(|s| {
                let mut rng = rng_for(seed, s.date, 0xda11);
                let market = 0.010 * normal(&mut rng);
                [
                    market,
                    1.15 * market + 0.006 * normal(&mut rng),
                    1.1 * market + 0.007 * normal(&mut rng),
                ]
            })
            .collect();
        let mut daily: HashMap<Symbol, SharedVec<DailyBar>> = HashMap::new();
        let mut closes: Vec<f64> = Vec::with_capacity(specs.len());
        for spec in specs.iter() {
            let mut rng = rng_for(
                seed,
                history_sessions[0].date,
                fnv(spec.symbol.as_str().as_bytes()),
            );
            // Walk back from the base price so the current session trades near it.
            let total: f64 = factor_days
                .iter()
                .map(|f| spec.beta * f[spec.factor as usize])
                .sum();
            let mut close = spec.base_price * (-total).exp();
            let bars: Vec<DailyBar> = history_sessions
                .iter()
                .zip(&factor_days)
                .map(|(s, f)| {
                    let bar =
                        simulate_daily(&mut rng, spec, s.date, close, f[spec.factor as usize]);
                    close = bar.close;
                    bar
                })
                .collect();
            closes.push(close);
            daily.insert(spec.symbol.clone(), bars.into());
        }

        let previous = SimDay::new(
            seed,
            specs.clone(),
            index.clone(),
            previous_session,
            &closes,
        );
        previous.finish();
        let today = SimDay::new(
            seed,
            specs.clone(),
            index.clone(),
            today_session,
            &previous.last_closes(),
        );
        let mut market = SimMarket {
            seed,
            specs,
            index,
            daily,
            prior_closes: Vec::new(),
            previous,
            today,
        };
        market.close_previous_session();
        market
    }

    /// Moves to the next session: today becomes the previous session.
    pub fn roll(&mut self) {
        let next = calendar::next_session(self.today.session.date);
        self.today.finish();
        let new_today = SimDay::new(
            self.seed,
            self.specs.clone(),
            self.index.clone(),
            next,
            &self.today.last_closes(),
        );
        self.previous = std::mem::replace(&mut self.today, new_today);
        self.close_previous_session();
    }

    /// Appends the (finished) previous session's daily bars to the history and notes
    /// its closes.
    fn close_previous_session(&mut self) {
        let bars: Vec<Option<DailyBar>> = (0..self.specs.len())
            .map(|i| self.previous.daily_bar(i))
            .collect();
        for (spec, bar) in self.specs.iter().zip(&bars) {
            if let (Some(bar), Some(list)) = (bar, self.daily.get_mut(&spec.symbol)) {
                list.push(*bar);
            }
        }
        self.prior_closes = bars.iter().map(|b| b.map(|b| b.close)).collect();
    }

    /// The symbols quoted, in a stable order.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.specs.iter().map(|s| &s.symbol)
    }

    pub fn is_index(&self, symbol: &Symbol) -> bool {
        self.index
            .get(symbol)
            .and_then(|&i| self.specs.get(i))
            .is_some_and(|s| s.is_index)
    }

    /// The previous session's regular close of a symbol.
    pub fn prior_close(&self, symbol: &Symbol) -> Option<f64> {
        self.prior_closes
            .get(*self.index.get(symbol)?)
            .copied()
            .flatten()
    }

    /// The last price of a symbol at `now`: the latest 15-second step at or before it,
    /// else the previous session's last price.
    pub fn last_price(&self, symbol: &Symbol, now: DateTime<Utc>) -> Option<f64> {
        let i = *self.index.get(symbol)?;
        self.today
            .visit_one(i, now, |tape| tape.last_step(now))?
            .or_else(|| self.previous.last_close(i))
    }
}

/// The instant the `i`-th 15-second price of the minute starting at `start` is known.
pub fn step_instant(start: DateTime<Utc>, i: usize) -> DateTime<Utc> {
    start + Duration::seconds(15 * (i as i64 + 1))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn rng_for(seed: u64, date: NaiveDate, salt: u64) -> ChaCha8Rng {
    let day = date.to_string();
    ChaCha8Rng::seed_from_u64(seed ^ fnv(day.as_bytes()).rotate_left(17) ^ salt)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// A daily bar whose close moves by beta × the factor's return plus the symbol's own noise.
fn simulate_daily(
    rng: &mut ChaCha8Rng,
    spec: &Spec,
    date: NaiveDate,
    prev_close: f64,
    factor_return: f64,
) -> DailyBar {
    let total = spec.beta * factor_return + spec.idio_daily_vol * normal(rng);
    let vol = (0.010 * spec.beta).hypot(spec.idio_daily_vol);
    let gap = 0.3 * total + 0.001 * normal(rng);
    let open = prev_close * gap.exp();
    let close = prev_close * total.exp();
    let high = open.max(close) * (1.0 + 0.35 * vol * normal(rng).abs());
    let low = open.min(close) * (1.0 - 0.35 * vol * normal(rng).abs());
    DailyBar {
        date,
        open,
        high,
        low,
        close,
        volume: spec.daily_volume * (0.7 + 0.6 * rng.random::<f64>()),
    }
}

/// Minutes from 04:00 to 20:00 New York.
const EXTENDED_MINUTES: i64 = 16 * 60;

#[cfg(test)]
mod tests;
