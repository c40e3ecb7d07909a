//! `coach watchlist show|set|add|remove`: the trader's default watchlist (SPEC 6, 12).
//!
//! Every command prints the list afterwards as `NAME: SYM, SYM, …`; `show --json` prints
//! `{"name": "Default", "symbols": ["SPX", …]}` (stable). Symbols are normalised (trim,
//! upper case), validated against `^[A-Z0-9.:^-]{1,12}$` and deduplicated; a list holds at
//! most 50. Any bad symbol — or, for `remove`, one not on the list — exits with code 2,
//! names the symbol, and saves nothing.
//!
//! On recorded bars (`--bars` or `[replay] bars`), `set` and `add` warn on stderr about the
//! symbols they name that the files hold no bars of ("warning: no data from replay for
//! ZZZZ …"), and save them anyway: the watchlist is the trader's across every provider and
//! session (tomorrow's files, a live feed), so a symbol missing from one recording is not
//! a wrong one. In the simulation the same goes for symbols outside its universe
//! (`[sim] symbols`): "warning: no data from sim for ZZZZ (add it to [sim] symbols to
//! simulate it) …". The live providers are not checked here (their answer comes at the
//! open).

use std::io::{self, Write};

use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_config_store;
use crate::config::Config;
use crate::domain::Symbol;
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
    ///
    /// Symbols the provider has no data for (outside `[sim] symbols` in the simulation,
    /// absent from recorded bar files) are named on stderr and saved anyway.
    Set {
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Add symbols at the end of the default watchlist.
    ///
    /// Symbols the provider has no data for (outside `[sim] symbols` in the simulation,
    /// absent from recorded bar files) are named on stderr and saved anyway.
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
    let config = common.load_config()?;
    let named: Vec<Symbol> = match &args.command {
        WatchlistCommand::Set { symbols } | WatchlistCommand::Add { symbols } => symbols
            .iter()
            .flat_map(|s| s.split([',', ' ']))
            .filter_map(|s| Symbol::parse(s).ok())
            .collect(),
        _ => Vec::new(),
    };
    let list = with_config_store(&config, |store, user| async move {
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
    if !named.is_empty() {
        warn_without_data(&config, &named);
    }
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

/// On recorded bars, the named symbols the files hold no bars of, and in the simulation
/// those outside its universe (`[sim] symbols`), said on stderr.
fn warn_without_data(config: &Config, named: &[Symbol]) {
    if config.general.provider == "sim" {
        let missing = crate::provider::coverage::without_data(&config.sim.symbols, named);
        if let Some(message) = crate::provider::coverage::sim_no_data_message(&missing) {
            eprintln!("warning: {message}; saved anyway, for recordings and live feeds");
        }
        return;
    }
    if config.general.provider != "replay" || config.replay.bars.is_empty() {
        return;
    }
    let message = match crate::runtime::services::Feed::from_config(config) {
        Ok(crate::runtime::services::Feed::Recorded(market, _)) => {
            let in_files: Vec<Symbol> = market.symbols().cloned().collect();
            let missing = crate::provider::coverage::without_data(&in_files, named);
            match crate::provider::coverage::no_data_message("replay", &missing) {
                Some(message) => format!(
                    "warning: {message} (the bar files hold none); saved anyway, for \
                     other recordings and live feeds"
                ),
                None => return,
            }
        }
        Ok(_) => return,
        Err(e) => format!(
            "warning: cannot check the symbols against the bar files: {}",
            crate::text::printable(&e)
        ),
    };
    eprintln!("{message}");
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
