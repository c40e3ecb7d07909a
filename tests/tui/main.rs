//! The screen: insta snapshots of the whole grid and of the Chart pane, and the real binary
//! in a pseudo-terminal. One test binary.

#[path = "../alpaca_support/mod.rs"]
mod alpaca_support;
#[path = "../massive_support/mod.rs"]
mod massive_support;
#[path = "../support/mod.rs"]
mod support;

mod alpaca_focus;
mod chart;
mod coalescing;
mod desktop;
mod lean_frames;
mod pty;
mod pty_lists;
mod screen;
mod terminal_restore;
mod written;
