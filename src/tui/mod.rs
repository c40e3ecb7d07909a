//! The terminal UI (SPEC 11).

pub mod widgets;
