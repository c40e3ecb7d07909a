//! Market core (SPEC 3): the trading calendar, bars and levels. Pure: no I/O, no clock.

pub mod bars;
pub mod calendar;
pub mod intraday;
pub mod levels;
pub mod minute_volumes;
pub mod session_clock;
pub mod state;
