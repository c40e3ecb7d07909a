//! The screen: insta snapshots of the whole grid and of the Chart pane, and the real binary
//! in a pseudo-terminal. One test binary.

#[path = "../support/mod.rs"]
mod support;

mod chart;
mod desktop;
mod pty;
mod pty_lists;
mod screen;
mod terminal_restore;
