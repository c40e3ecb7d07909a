//! The terminal UI (SPEC 11): state and update (`app`), keys (`action`, `keymap`),
//! drawing (`view`, `panes`, `theme`), and the shell around them (`terminal`, `event_loop`);
//! custom widgets (`widgets`).

pub mod action;
pub mod actions;
pub mod app;
pub mod coach_runner;
pub mod event_loop;
pub mod format;
pub mod keymap;
pub mod overlays;
pub mod pane;
pub mod panes;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod widgets;
