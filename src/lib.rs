//! coach: a terminal dashboard for intraday options traders.
//!
//! The core (`domain`, `market`, `detect`, `gex`, `setups`) is pure: values in, values
//! out, time passed as a parameter. The shell (`provider`, `store`, `runtime`, `tui`,
//! `cli`) owns I/O and wires the core to data.

pub mod alerts;
pub mod brief;
pub mod cli;
pub mod coach;
pub mod config;
pub mod detect;
pub mod domain;
pub mod gex;
pub mod json_round;
pub mod llm;
pub mod market;
pub mod notify;
pub mod provider;
pub mod runtime;
pub mod serve;
pub mod setups;
pub mod stats;
pub mod store;
pub mod team;
pub mod text;
pub mod tui;
pub mod worker_health;
