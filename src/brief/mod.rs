//! The morning brief (SPEC 8): a pure builder from levels, GEX profiles, the economic
//! calendar, positions and tracked setups to a [`Brief`] value; its text renderings; the
//! calendar file's parser; and the scheduling rules. No I/O here: the scheduler worker
//! (`runtime::brief`), the store and the CLI feed it.

pub mod builder;
pub mod econ;
pub mod fred;
pub mod model;
pub mod position;
pub mod render;
pub mod schedule;

pub use builder::{BriefInputs, SymbolInput, build};
pub use econ::{EconCalendar, EconError, Importance};
pub use model::Brief;
pub use position::{NewPosition, Position, PositionKind};
pub use schedule::Schedule;
