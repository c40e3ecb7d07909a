//! The shell's moving parts: supervised workers, their health, the market feed and the
//! virtual clock of the simulation.

pub mod bus;
pub mod clock;
pub mod feed;
pub mod health;
pub mod metrics;
pub mod monitor;
pub mod services;
pub mod supervisor;

/// What workers tell the screen besides market data: events that must all arrive, in order
/// (sent on a bounded channel; a full channel makes the worker wait, never drop).
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    /// A new detection, already stored.
    Detection(crate::store::StoredDetection),
    /// A one-line notice for the trader: a trading alert or an operational incident.
    Notice(String),
}
