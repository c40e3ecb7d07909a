//! The terminal UI (SPEC 11): the shared state and global actions (`app`), the panes
//! (`pane` is what a pane is, `panes/<name>/` each pane's state, keys, drawing and
//! snapshot tests, registered in `panes::registry!`), keys (`action`, `keymap`, which
//! also validates the configuration's `[keys]`), drawing (`view`, `overlays`, `theme`,
//! `format` for numbers and times), and the shell around them (`terminal`,
//! `event_loop`); custom widgets (`widgets`).

pub mod action;
pub mod actions;
pub mod ansi16;
pub mod app;
pub mod coach_outbox;
pub mod coach_runner;
pub mod event_loop;
pub mod format;
pub mod keymap;
pub mod lean_backend;
pub mod overlays;
pub mod pane;
pub mod panes;
pub mod selection;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod widgets;
