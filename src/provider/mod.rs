//! Market data providers (SPEC 10) and the provider-neutral events they publish.

pub mod bar_files;
pub mod cboe;
pub mod massive;
pub mod recorded;
pub mod replay;
pub mod sim;
pub mod sim_chain;

use chrono::{DateTime, Utc};

use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::Session;

/// A last price with its source timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub symbol: Symbol,
    /// Dollars (index points for an index).
    pub price: f64,
    /// When the source says the price was made (the virtual clock for the simulation).
    pub at: DateTime<Utc>,
}

/// Everything a consumer needs to start: per symbol, today's bars so far, the previous
/// session's bars and the daily history. Sent at start and at every session roll.
#[derive(Clone, Debug, PartialEq)]
pub struct MarketSnapshot {
    pub provider: &'static str,
    /// The provider's data is delayed (Massive's `delayed.` stream, ~15 minutes); the
    /// header shows DELAYED. Each quote's `at` is its source time, for staleness.
    pub delayed: bool,
    pub session: Session,
    pub now: DateTime<Utc>,
    pub symbols: Vec<SymbolSnapshot>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SymbolSnapshot {
    pub symbol: Symbol,
    pub is_index: bool,
    /// Final 1-minute bars of the current session so far (pre-market included).
    pub bars: Vec<Bar>,
    /// The previous session's 1-minute bars.
    pub previous_bars: Vec<Bar>,
    /// Daily bars up to and including the previous session, oldest first.
    pub daily: Vec<DailyBar>,
    pub prior_close: Option<f64>,
    pub last: Option<Quote>,
}

/// The live stream, in time order.
#[derive(Clone, Debug, PartialEq)]
pub enum MarketEvent {
    Snapshot(std::sync::Arc<MarketSnapshot>),
    /// One step of the stream: new last prices and the bars that became final.
    Step {
        at: DateTime<Utc>,
        quotes: Vec<Quote>,
        bars: Vec<(Symbol, Bar)>,
    },
}
