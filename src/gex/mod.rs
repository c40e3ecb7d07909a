//! Gamma exposure (SPEC 7): a pure core from an options chain to a GEX profile.
//!
//! - [`bs`]: Black-Scholes-Merton gamma.
//! - [`chain`]: the chain snapshot value types; [`occ`]: OCC symbols.
//! - [`expiry`]: expiry instants (AM/PM settlement, New York time) and T.
//! - [`filter`]: `all | 0dte | next:N | max-dte:N`.
//! - [`curve`]: the total-GEX curve G(x), its sweep and zero crossings.
//! - [`profile`]: per-strike GEX, walls, key levels, [`profile::GexProfile::levels`].
//! - [`cache`]: 5-minute cache per (symbol, filter).
//! - [`formats`]: readers for CBOE CSV, CBOE JSON and Massive snapshots (pure: text in).

mod aggregate;
pub mod bs;
pub mod cache;
pub mod chain;
pub mod curve;
pub mod display;
pub mod expiry;
pub mod fastexp;
pub mod filter;
pub mod formats;
pub mod occ;
pub mod profile;

pub use chain::{Chain, Contract, Right};
pub use filter::ExpiryFilter;
pub use profile::{
    GexError, GexParams, GexProfile, KeyLevel, LevelLabel, Regime, StrikeGex, compute_profile,
};
