//! The command line (SPEC 12): flags shared by every command, one file per subcommand.

use std::fmt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod alerts;
pub mod ask;
pub mod backtest;
pub mod bars;
pub mod brief;
pub mod calendar;
pub mod calibrate;
pub mod dashboard;
pub mod doctor;
pub mod econ;
pub mod gex;
pub mod gex_history;
pub mod positions;
pub mod replay;
pub mod replay_engine;
pub mod serve;
pub mod setups;
pub mod setups_stats;
#[cfg(test)]
mod stream_tests;
pub mod watchlist;

/// A terminal dashboard for intraday options traders.
#[derive(Debug, Parser)]
#[command(name = "coach", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub common: dashboard::CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List NYSE regular sessions (open/close in UTC, early closes) for a date range.
    Calendar(calendar::CalendarArgs),
    /// Run all setup detectors over recorded bars and print every detection in bar order.
    Replay(replay::ReplayArgs),
    /// Run every detection replay finds through the setup lifecycle on the following bars
    /// and print its statistics: win rate, average R, profit factor, drawdown (SPEC 18).
    Backtest(backtest::BacktestArgs),
    /// Gamma-exposure profile of an options chain file; `coach gex history --symbol S`:
    /// the profile at every refresh of a day.
    Gex(gex::GexArgs),
    /// Tracked setups: `coach setups list [--status S] [--json]`.
    Setups(setups::SetupsArgs),
    /// Price alerts: `coach alerts list|add|remove`.
    Alerts(alerts::AlertsArgs),
    /// The default watchlist: `coach watchlist show|set|add|remove SYMBOL...`.
    Watchlist(watchlist::WatchlistArgs),
    /// Run every worker headless (no TUI) with alerting, and optionally an HTTP endpoint
    /// (GET /health/workers, GET /metrics). SIGTERM or Ctrl-C stops it.
    Serve(serve::ServeArgs),
    /// Download minute or daily bars from Massive or Alpaca (`--provider`) into the replay
    /// CSV format.
    Bars(bars::BarsArgs),
    /// Check the configuration, the database and the market data provider.
    Doctor(doctor::DoctorArgs),
    /// Ask the AI coach one question; the answer on stdout (needs [llm] in the config).
    Ask(ask::AskArgs),
    /// The morning brief of a date, from the simulation or recorded bars (printed, not
    /// stored): `coach brief --date D --bars DIR --format markdown|json`.
    Brief(brief::BriefArgs),
    /// The economic calendar: `coach econ check FILE`, `coach econ fetch --out FILE`
    /// (FRED release dates; needs a FRED API key).
    Econ(econ::EconArgs),
    /// Open positions for the brief's risk section: `coach positions add|list|close|import`.
    Positions(positions::PositionsArgs),
}

/// How a command failed: bad input (exit 2) or a runtime failure (exit 1).
#[derive(Debug)]
pub enum CliError {
    /// Bad usage, config or input file; the message names the file, line or key.
    Input(String),
    /// Something failed while running (network, database, terminal).
    Runtime(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Input(_) => ExitCode::from(2),
            CliError::Runtime(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) | CliError::Runtime(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        None => dashboard::run(&cli.common),
        Some(command) => match command {
            Command::Calendar(args) => calendar::run(args),
            Command::Gex(args) => {
                let common = cli.common.with_provider(&args.provider);
                gex::run(args, &common)
            }
            Command::Replay(args) => replay::run(args),
            Command::Backtest(args) => backtest::run(args, &cli.common),
            Command::Setups(args) => setups::run(args, &cli.common),
            Command::Watchlist(args) => watchlist::run(args, &cli.common),
            Command::Alerts(args) => alerts::run(args, &cli.common),
            Command::Serve(args) => {
                let common = cli.common.with_market(&args.market);
                serve::run(args, &common)
            }
            Command::Bars(args) => {
                let common = cli.common.with_provider(&args.provider);
                bars::run(args, &common)
            }
            Command::Doctor(args) => {
                let common = cli.common.with_market(&args.source.market(None));
                doctor::run(args, &common)
            }
            Command::Ask(args) => {
                let common = cli.common.with_market(&args.market);
                ask::run(args, &common)
            }
            Command::Brief(args) => {
                let common = cli.common.with_market(&args.source.market(args.seed));
                brief::run(args, &common)
            }
            Command::Positions(args) => positions::run(args, &cli.common),
            Command::Econ(args) => econ::run(args, &cli.common),
        },
    }
}
