//! Gamma exposure (SPEC 7): a pure core from an options chain to a GEX profile.
//!
//! - [`bs`]: Black-Scholes-Merton gamma (the reference formula).
//! - [`chain`]: the chain snapshot value types (`Chain`, `Contract`, `Root`); [`occ`]: OCC
//!   symbols.
//! - [`expiry`]: expiry instants (AM/PM settlement, New York time) and T.
//! - [`filter`]: `all | 0dte | next:N | max-dte:N`.
//! - [`curve`]: the total-GEX curve G(x), its sweep and zero crossings, and all the speed
//!   code behind them: the vectorisable exponential, the terms computed a batch at a time,
//!   the sweep's kernels, and the one CPU dispatch (`COACH_GEX_PORTABLE=1` forces the
//!   portable path).
//! - `aggregate` (private): one pass from contracts to per-strike GEX and curve terms.
//! - `greeks` (private): vanna and charm exposure per strike and the 0DTE share of gamma.
//! - [`profile`]: per-strike GEX, walls, key levels, [`profile::GexProfile::levels`].
//! - [`context`]: a detection's regime and signed distances to zero gamma and the
//!   nearest wall (SPEC 18).
//! - [`role`]: a level's role (resistance/pin, acceleration…) from its side of spot and
//!   its gamma sign.
//! - [`straddle`]: the front expiry's at-the-money straddle (the brief's expected move).
//! - [`display`]: `$1.2B`-style amounts and prices for the CLI and the TUI.
//! - [`history`]: one point per refresh through the day (`gex_history`), the flip's step
//!   line, sparklines, 30-day pruning.
//! - [`cache`]: 5-minute cache per (symbol, filter).
//! - [`formats`]: readers for CBOE CSV, CBOE JSON and Massive snapshots (pure: text in).
//!
//! Conventions everywhere: dollar GEX per 1 % move of the underlying, dealers long calls and
//! short puts, instants in UTC, expiry and session dates in New York.

mod aggregate;
pub mod bs;
pub mod cache;
pub mod chain;
pub mod context;
pub mod curve;
pub mod display;
pub mod expiry;
pub mod filter;
pub mod formats;
mod greeks;
pub mod history;
pub mod occ;
pub mod profile;
pub mod role;
pub mod straddle;

pub use chain::{Chain, Contract, Right, Root};
pub use context::{GexContext, LevelDistance, NearestWall, WallSide};
pub use filter::ExpiryFilter;
pub use profile::{
    GexError, GexParams, GexProfile, KeyLevel, LevelLabel, Regime, StrikeGex, compute_profile,
};
