//! Market data providers (SPEC 10) and the provider-neutral events they publish.

pub mod alpaca;
pub mod backoff;
pub mod bar_files;
pub mod bar_list;
pub mod cboe;
pub mod chain_files;
pub mod coverage;
pub mod live_session;
pub mod massive;
pub mod packed_bars;
pub mod recorded;
pub mod replay;
pub mod shared_vec;
pub mod sim;
pub mod sim_chain;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Bar, DailyBar, Symbol};
use crate::market::calendar::{self, Session};
use bar_list::BarList;
use shared_vec::SharedVec;

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

/// The minute bars are shared with the feed or made when read ([`BarList`]): cloning a
/// snapshot, or taking one from a feed, copies no bar. Read a symbol's bars with
/// [`BarList::load`] and drop them before the next symbol's.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolSnapshot {
    pub symbol: Symbol,
    pub is_index: bool,
    /// Final 1-minute bars of the current session so far (pre-market included).
    pub bars: BarList,
    /// The previous session's 1-minute bars.
    pub previous_bars: BarList,
    /// The 1-minute bars of the sessions before the previous one, oldest first, up to
    /// [`crate::detect::priming::HISTORY_SESSIONS`] sessions with `previous_bars`: what a
    /// detector engine primed from this snapshot needs to equal one that saw every bar
    /// (relative volume averages several sessions). Empty where the provider has none.
    pub earlier_bars: BarList,
    /// Daily bars up to and including the previous session, oldest first.
    pub daily: SharedVec<DailyBar>,
    pub prior_close: Option<f64>,
    pub last: Option<Quote>,
    /// Its history is still loading (a live feed's start-up): `bars` are only the minutes
    /// streamed since the feed started and `previous_bars`, `earlier_bars` and `daily` are
    /// empty, so detectors that need history stay silent on it until a later snapshot
    /// has it with its history.
    pub history_loading: bool,
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

/// A market whose whole session is known in advance and is revealed step by step (the
/// simulation, recorded bars); `runtime::feed` plays it on the virtual clock.
pub trait Playable: Send + 'static {
    /// The session being played.
    fn session(&self) -> Session;
    /// Everything known at `now`.
    fn snapshot(&self, now: DateTime<Utc>) -> MarketSnapshot;
    /// The event of the step ending at `at`, if anything happens then.
    fn step_event(&self, at: DateTime<Utc>) -> Option<MarketEvent>;
    /// The first step instant strictly after `t`.
    fn next_step(&self, t: DateTime<Utc>) -> DateTime<Utc>;
    /// Moves to the next session; `false` when there is none (a recording ran out).
    fn roll(&mut self) -> bool;
}

/// The latest session on or before `today` (New York): the demo replays the day a
/// trader would be looking at, whatever the hour, and the live feed serves it.
pub fn latest_session_date(today: NaiveDate) -> NaiveDate {
    if calendar::is_trading_day(today) {
        today
    } else {
        calendar::previous_session(today).date
    }
}
