//! Tracked setups (SPEC 5): the lifecycle of a trade plan the trader follows, as a pure
//! state machine. No I/O, no clock: every instant is a parameter.
//!
//! - [`lifecycle`]: the tracked setup value, its statuses and outcomes, transitions and how
//!   they are applied (with a version guard), and the manual actions.
//! - [`evaluate`]: the automatic rules: price updates against entry/stop/target, and the
//!   expiry of active setups at the session close.
//! - [`late`]: what tracking a plan late means: refused when its target or stop already
//!   traded since the detection, a warning when its entry already passed.
//! - [`book`]: live setups indexed by symbol, so a price update evaluates only its
//!   symbol's setups.

pub mod book;
pub mod evaluate;
pub mod filter;
pub mod json;
pub mod late;
pub mod lifecycle;
pub mod scanner;

#[cfg(test)]
mod fixtures;

pub use book::SetupBook;
pub use evaluate::{PriceUpdate, evaluate, expire_at_close, step};
pub use filter::StatusFilter;
pub use json::SetupJson;
pub use late::{LateLevel, LateTrack, judge_late_track};
pub use lifecycle::{
    ManualAction, Outcome, PlanError, RefusedTransition, SetupStatus, TrackedSetup, Transition,
    TransitionReason, apply_manual, realised_r,
};
