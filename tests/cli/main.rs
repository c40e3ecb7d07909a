//! `coach` subcommands run as a user runs them: the built binary, its stdout, stderr and
//! exit code. One test binary (one link) for all of them; each file is one subcommand.

#[path = "../alpaca_support/mod.rs"]
mod alpaca_support;
#[path = "../fake_channel/mod.rs"]
mod fake_channel;
#[path = "../fake_discord/mod.rs"]
mod fake_discord;
#[path = "../massive_support/mod.rs"]
mod massive_support;
#[path = "../support/mod.rs"]
mod support;

mod alpaca;
mod backtest;
mod backtest_store;
mod bar_files;
mod brief;
mod calendar;
mod calibrate;
mod doctor;
mod econ;
mod full_disk;
mod gamma_alerts;
mod gex;
mod gex_history;
mod help;
mod isolated;
mod massive;
mod messages;
mod replay;
mod replay_chain;
mod serve;
mod serve_backtest;
mod serve_kill;
mod serve_limits;
mod serve_replay;
mod setups;
mod setups_stats;
mod symbols;
mod watchlist_coverage;
