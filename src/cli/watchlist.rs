//! `coach watchlist show|set|add|remove`: the trader's default watchlist (SPEC 6, 12).
//!
//! Every command prints the list afterwards as `NAME: SYM, SYM, …`; `show --json` prints
//! `{"name": "Default", "symbols": ["SPX", …]}` (stable). Symbols are normalised (trim,
//! upper case), validated against `^[A-Z0-9.:^-]{1,12}$` and deduplicated; a list holds at
//! most 50. Any bad symbol — or, for `remove`, one not on the list — exits with code 2,
//! names the symbol, and saves nothing.

use std::io::{self, Write};

use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::store::{StoreError, Watchlist};

/// The default watchlist.
#[derive(Debug, Args)]
pub struct WatchlistArgs {
    #[command(subcommand)]
    pub command: WatchlistCommand,
}

#[derive(Debug, Subcommand)]
pub enum WatchlistCommand {
    /// Print the default watchlist.
    Show {
        /// `{"name": …, "symbols": […]}` instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Replace the symbols of the default watchlist.
    Set {
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Add symbols at the end of the default watchlist.
    Add {
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Remove symbols from the default watchlist.
    Remove {
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
}

#[derive(Serialize)]
struct ListJson<'a> {
    name: &'a str,
    symbols: Vec<&'a str>,
}

fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::Watchlist(_) | StoreError::Invalid(_) => CliError::Input(e.to_string()),
        e => CliError::Runtime(e.to_string()),
    }
}

pub fn run(args: WatchlistArgs, common: &CommonArgs) -> Result<(), CliError> {
    let json = matches!(args.command, WatchlistCommand::Show { json: true });
    let list = with_store(common, |store, user| async move {
        let now = Utc::now();
        let result = match args.command {
            WatchlistCommand::Show { .. } => store.default_watchlist(user, now).await,
            WatchlistCommand::Set { symbols } => {
                store.set_default_symbols(user, &symbols, now).await
            }
            WatchlistCommand::Add { symbols } => store.add_symbols(user, &symbols, now).await,
            WatchlistCommand::Remove { symbols } => store.remove_symbols(user, &symbols, now).await,
        };
        result.map_err(store_error)
    })?;
    let text = if json {
        to_json(&list)?
    } else {
        to_text(&list)
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("cannot write to stdout: {e}")))
}

fn to_text(list: &Watchlist) -> String {
    let symbols: Vec<&str> = list.symbols.iter().map(|s| s.as_str()).collect();
    format!(
        "{}: {}\n",
        crate::text::printable(&list.name),
        symbols.join(", ")
    )
}

fn to_json(list: &Watchlist) -> Result<String, CliError> {
    let json = ListJson {
        name: &list.name,
        symbols: list.symbols.iter().map(|s| s.as_str()).collect(),
    };
    serde_json::to_string(&json)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))
}
