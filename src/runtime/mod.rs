//! The shell's moving parts: supervised workers, their health, the market feed and the
//! virtual clock of the simulation.

pub mod bus;
pub mod clock;
pub mod detect;
pub mod feed;
pub mod gex;
pub mod health;
pub mod services;
pub mod supervisor;

/// What workers tell the screen besides market data: events that must all arrive, in order
/// (sent on a bounded channel; a full channel makes the worker wait, never drop).
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    /// A detection of the current session, already stored.
    Detection(crate::store::StoredDetection),
    /// The default watchlist was saved; `market` has the feed's view of its symbols.
    WatchlistSaved {
        watchlist: crate::store::Watchlist,
        market: Option<std::sync::Arc<crate::provider::MarketSnapshot>>,
    },
    /// A trader's action could not be done; the text says what and why.
    ActionFailed(String),
    /// The market so far, for a screen that subscribed after the feed started.
    Market(std::sync::Arc<crate::provider::MarketSnapshot>),
}
