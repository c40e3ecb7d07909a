//! `coach` subcommands run as a user runs them: the built binary, its stdout, stderr and
//! exit code. One test binary (one link) for all of them; each file is one subcommand.

#[path = "../alpaca_support/mod.rs"]
mod alpaca_support;
#[path = "../fake_discord/mod.rs"]
mod fake_discord;
#[path = "../massive_support/mod.rs"]
mod massive_support;
#[path = "../support/mod.rs"]
mod support;

mod alpaca;
mod backtest;
mod bar_files;
mod brief;
mod calendar;
mod econ;
mod gex;
mod isolated;
mod massive;
mod replay;
mod replay_chain;
mod serve;
mod setups;
