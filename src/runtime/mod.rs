//! The shell's moving parts: supervised workers, their health, the market feed and the
//! virtual clock of the simulation.

pub mod bus;
pub mod clock;
pub mod feed;
pub mod health;
pub mod supervisor;
