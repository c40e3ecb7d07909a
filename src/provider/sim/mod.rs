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

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

mod play;

use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::{self, Session};

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

/// One symbol's minutes of one session, 04:00–20:00 New York (regular hours only for
/// an index), in time order.
#[derive(Clone, Debug)]
pub struct SimSeries {
    pub symbol: Symbol,
    pub minutes: Vec<SimMinute>,
}

/// Every symbol's minutes of one session.
#[derive(Clone, Debug)]
pub struct SimDay {
    pub session: Session,
    pub series: Vec<SimSeries>,
}

impl SimDay {
    /// The session's regular-hours daily bar of a symbol, from its minute bars.
    pub fn daily_bar(&self, symbol: &Symbol) -> Option<DailyBar> {
        let series = self.series.iter().find(|s| &s.symbol == symbol)?;
        daily_from_minutes(self.session, &series.minutes)
    }

    /// Final bars of a symbol whose minute has ended by `now`.
    pub fn bars_until(&self, symbol: &Symbol, now: DateTime<Utc>) -> Vec<Bar> {
        self.series
            .iter()
            .find(|s| &s.symbol == symbol)
            .map(|s| {
                s.minutes
                    .iter()
                    .take_while(|m| m.bar.start + Duration::minutes(1) <= now)
                    .map(|m| m.bar)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn daily_from_minutes(session: Session, minutes: &[SimMinute]) -> Option<DailyBar> {
    DailyBar::from_minutes(
        session.date,
        minutes
            .iter()
            .map(|m| &m.bar)
            .filter(|b| session.contains(b.start)),
    )
}

/// The simulated market: daily history, the previous session and the current one.
#[derive(Clone, Debug)]
pub struct SimMarket {
    seed: u64,
    specs: Vec<Spec>,
    /// Daily bars per symbol, oldest first, up to and including the previous session.
    pub daily: HashMap<Symbol, Vec<DailyBar>>,
    pub previous: SimDay,
    pub today: SimDay,
}

impl SimMarket {
    /// Builds the market whose current session is the first trading day on or after
    /// `date`; the same seed and date give the same market.
    pub fn new(seed: u64, symbols: &[Symbol], date: NaiveDate) -> SimMarket {
        let specs: Vec<Spec> = symbols.iter().map(spec_for).collect();
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
        let mut daily: HashMap<Symbol, Vec<DailyBar>> = HashMap::new();
        let mut closes: Vec<f64> = Vec::with_capacity(specs.len());
        for spec in &specs {
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
            daily.insert(spec.symbol.clone(), bars);
        }

        let previous = simulate_session(seed, &specs, previous_session, &closes);
        for spec in &specs {
            if let (Some(bar), Some(list)) = (
                previous.daily_bar(&spec.symbol),
                daily.get_mut(&spec.symbol),
            ) {
                list.push(bar);
            }
        }
        let prev_closes = last_closes(&previous);
        let today = simulate_session(seed, &specs, today_session, &prev_closes);
        SimMarket {
            seed,
            specs,
            daily,
            previous,
            today,
        }
    }

    /// Moves to the next session: today becomes the previous session.
    pub fn roll(&mut self) {
        let next = calendar::next_session(self.today.session.date);
        let closes = last_closes(&self.today);
        let new_today = simulate_session(self.seed, &self.specs, next, &closes);
        let old = std::mem::replace(&mut self.today, new_today);
        for spec in &self.specs {
            if let (Some(bar), Some(list)) = (
                old.daily_bar(&spec.symbol),
                self.daily.get_mut(&spec.symbol),
            ) {
                list.push(bar);
            }
        }
        self.previous = old;
    }

    /// The symbols quoted, in a stable order.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.specs.iter().map(|s| &s.symbol)
    }

    pub fn is_index(&self, symbol: &Symbol) -> bool {
        self.specs.iter().any(|s| &s.symbol == symbol && s.is_index)
    }

    /// The previous session's regular close of a symbol.
    pub fn prior_close(&self, symbol: &Symbol) -> Option<f64> {
        self.previous.daily_bar(symbol).map(|b| b.close)
    }

    /// The last price of a symbol at `now`: the latest 15-second step at or before it,
    /// else the previous session's last price.
    pub fn last_price(&self, symbol: &Symbol, now: DateTime<Utc>) -> Option<f64> {
        let series = self.today.series.iter().find(|s| &s.symbol == symbol)?;
        let mut last = self
            .previous
            .series
            .iter()
            .find(|s| &s.symbol == symbol)
            .and_then(|s| s.minutes.last())
            .map(|m| m.bar.close);
        for m in &series.minutes {
            for (i, p) in m.steps.iter().enumerate() {
                if step_instant(m.bar.start, i) <= now {
                    last = Some(*p);
                } else {
                    return last;
                }
            }
        }
        last
    }
}

/// The instant the `i`-th 15-second price of the minute starting at `start` is known.
pub fn step_instant(start: DateTime<Utc>, i: usize) -> DateTime<Utc> {
    start + Duration::seconds(15 * (i as i64 + 1))
}

fn last_closes(day: &SimDay) -> Vec<f64> {
    day.series
        .iter()
        .map(|s| s.minutes.last().map(|m| m.bar.close).unwrap_or(f64::NAN))
        .collect()
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

fn simulate_session(seed: u64, specs: &[Spec], session: Session, prev_closes: &[f64]) -> SimDay {
    let mut rng = rng_for(seed, session.date, 0x5eed);
    let pre_open = session.pre_market_open();
    let regular_minutes = (session.close - session.open).num_minutes().max(1) as f64;
    let after_close = session.after_hours_close();
    let total_minutes =
        ((after_close - pre_open).num_minutes()).clamp(0, EXTENDED_MINUTES + 60) as usize;

    // The day's character: a trend day drifts one way, a range day pulls back to its open.
    let trend = if rng.random::<f64>() < 0.4 {
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        sign * (0.004 + 0.006 * rng.random::<f64>())
    } else {
        0.0
    };
    let gap = 0.0035 * normal(&mut rng);
    let base_step_vol = 0.010 / (regular_minutes * STEPS_PER_MINUTE as f64).sqrt();

    // Factor log paths, one value per 15-second step boundary (index 0 = 04:00).
    let steps = total_minutes * STEPS_PER_MINUTE;
    let mut factors = [
        vec![0.0f64; steps + 1],
        vec![0.0f64; steps + 1],
        vec![0.0f64; steps + 1],
    ];
    // GARCH(1,1) on the deseasonalised shock, so the open's higher volatility and the
    // gap do not feed back into the variance (which would make it explode).
    let mut garch_var = base_step_vol * base_step_vol;
    let mut last_shock = 0.0f64;
    let (alpha, beta) = (0.08, 0.90);
    for i in 0..steps {
        let at = pre_open + Duration::seconds(15 * i as i64);
        let regular = at >= session.open && at < session.close;
        let t = (at - session.open).num_seconds() as f64 / 60.0;
        let u_shape = if regular {
            1.0 + 1.4 * (-t / 20.0).exp() + 0.5 * (-(regular_minutes - t) / 30.0).exp()
        } else {
            0.3
        };
        garch_var = base_step_vol * base_step_vol * (1.0 - alpha - beta)
            + alpha * last_shock * last_shock
            + beta * garch_var;
        let shock = garch_var.sqrt() * normal(&mut rng);
        last_shock = shock;
        let sigma = garch_var.sqrt() * u_shape;
        let mut drift = 0.0;
        if regular {
            drift += trend / (regular_minutes * STEPS_PER_MINUTE as f64);
            if trend == 0.0 {
                // Range day: mean reversion of the broad factor toward the session open.
                let open_level =
                    factors[0][minute_index(session.open, pre_open) * STEPS_PER_MINUTE];
                drift -= 0.002 * (factors[0][i] - open_level);
            }
        }
        if i == 0 {
            drift += 0.6 * gap;
        }
        if at == session.open {
            drift += 0.4 * gap;
        }
        let market = drift + shock * u_shape;
        let tech = 1.15 * market + 0.6 * sigma * normal(&mut rng);
        let small = 1.1 * market + 0.7 * sigma * normal(&mut rng);
        factors[0][i + 1] = factors[0][i] + market;
        factors[1][i + 1] = factors[1][i] + tech;
        factors[2][i + 1] = factors[2][i] + small;
    }

    let series = specs
        .iter()
        .zip(prev_closes)
        .map(|(spec, prev_close)| {
            let mut rng = rng_for(seed, session.date, fnv(spec.symbol.as_str().as_bytes()));
            let path = match spec.factor {
                Factor::Broad => &factors[0],
                Factor::Tech => &factors[1],
                Factor::Small => &factors[2],
            };
            let idio_step =
                spec.idio_daily_vol / (regular_minutes * STEPS_PER_MINUTE as f64).sqrt();
            let prev = if prev_close.is_finite() {
                *prev_close
            } else {
                spec.base_price
            };
            let mut own = 0.0f64;
            let mut prices = Vec::with_capacity(steps + 1);
            for level in path.iter() {
                prices.push(prev * (spec.beta * level + own).exp());
                own += idio_step * normal(&mut rng);
            }
            let minutes = (0..total_minutes)
                .filter_map(|m| {
                    let start = pre_open + Duration::minutes(m as i64);
                    let regular = start >= session.open && start < session.close;
                    if spec.is_index && !regular {
                        return None;
                    }
                    if !regular && start >= after_close {
                        return None;
                    }
                    Some(build_minute(
                        &mut rng,
                        spec,
                        session,
                        start,
                        &prices[m * STEPS_PER_MINUTE..=(m + 1) * STEPS_PER_MINUTE],
                        regular_minutes,
                    ))
                })
                .collect();
            SimSeries {
                symbol: spec.symbol.clone(),
                minutes,
            }
        })
        .collect();
    SimDay { session, series }
}

fn minute_index(at: DateTime<Utc>, pre_open: DateTime<Utc>) -> usize {
    (at - pre_open).num_minutes().max(0) as usize
}

fn build_minute(
    rng: &mut ChaCha8Rng,
    spec: &Spec,
    session: Session,
    start: DateTime<Utc>,
    points: &[f64],
    regular_minutes: f64,
) -> SimMinute {
    let open = points[0];
    let mut steps = [0.0; STEPS_PER_MINUTE];
    steps.copy_from_slice(&points[1..=STEPS_PER_MINUTE]);
    let close = steps[STEPS_PER_MINUTE - 1];
    let step_size = points
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    let wick = || 0.35 * step_size;
    let high = steps.iter().copied().fold(open, f64::max) + wick() * rng.random::<f64>();
    let low = steps.iter().copied().fold(open, f64::min) - wick() * rng.random::<f64>();
    let regular = start >= session.open && start < session.close;
    let volume = if spec.is_index {
        0.0
    } else {
        let t = (start - session.open).num_minutes() as f64;
        let per_minute = spec.daily_volume / regular_minutes;
        let shape = if regular {
            0.55 + 2.2 * (-t / 25.0).exp() + 1.6 * (-(regular_minutes - 1.0 - t) / 25.0).exp()
        } else {
            0.02
        };
        let activity = 0.7 + 60.0 * ((close - open) / open).abs();
        let noise = (0.3 * normal(rng)).exp();
        (per_minute * shape * activity.min(4.0) * noise).round()
    };
    SimMinute {
        bar: Bar {
            start,
            open,
            high,
            low,
            close,
            volume,
        },
        steps,
    }
}

#[cfg(test)]
mod tests;
