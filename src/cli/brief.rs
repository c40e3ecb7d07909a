//! `coach brief`: builds the morning brief of a date and prints it (Markdown or JSON),
//! from the simulated market or from recorded bars. Never stores it: the stored brief
//! of the day is the scheduler's (TUI or `coach serve`); this is the preview.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use clap::{Args, ValueEnum};

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::brief::model::PriceAt;
use crate::brief::render::markdown;
use crate::brief::{BriefInputs, SymbolInput, build};
use crate::domain::{Bar, Symbol};
use crate::gex::straddle::atm_straddle;
use crate::gex::{ExpiryFilter, GexParams, compute_profile};
use crate::market::calendar;
use crate::provider::bar_files::load_files;
use crate::provider::sim::SimMarket;
use crate::provider::sim_chain::synthetic_chain;
use crate::runtime::brief::{open_book, with_position_symbols};
use crate::store::parse_symbols;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BriefFormat {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct BriefArgs {
    /// Market date (YYYY-MM-DD, New York). Default: the last session of the recorded
    /// bars (replay), else today's session or the next one (sim).
    #[arg(long, value_name = "D")]
    pub date: Option<String>,
    /// New York time the brief is built at (HH:MM): bars and quotes after it are not
    /// used. Default 09:25, five minutes before the open.
    #[arg(long, value_name = "HH:MM", default_value = "09:25")]
    pub at: String,
    /// Symbols instead of the default watchlist (replay: instead of every recorded symbol):
    /// `SPY QQQ` or `SPY,QQQ`.
    #[arg(long, num_args = 1.., value_name = "SYMBOL")]
    pub watchlist: Vec<String>,
    /// Daily-bar files (a date column named date, Date or timestamp) for ATR(14), the
    /// official prior close, and the prior day when minute bars do not cover it (replay).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub daily: Vec<PathBuf>,
    /// Option-chain files (CBOE CSV or JSON, Massive snapshot; replay): a symbol's GEX
    /// section uses the latest of its chains snapshotted by --at that applies to the date.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = BriefFormat::Markdown)]
    pub format: BriefFormat,
    /// An economic calendar file instead of the configured one ([brief] econ_calendar).
    #[arg(long, value_name = "FILE")]
    pub calendar: Option<PathBuf>,
    #[command(flatten)]
    pub source: super::dashboard::SourceArgs,
    /// Seed of the simulated market (sim; default 42).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Print each bar file's detected layout on stderr (replay).
    #[arg(long, short)]
    pub verbose: bool,
}

fn input(text: impl Into<String>) -> CliError {
    CliError::Input(text.into())
}

pub fn run(args: BriefArgs, common: &CommonArgs) -> Result<(), CliError> {
    let config = common.load_config()?;
    let calendar = match &args.calendar {
        Some(path) => crate::config::load_calendar(&path.display().to_string()),
        None => config.brief.calendar(),
    }
    .map_err(|e| input(format!("--calendar: {e}")))?;
    let at = NaiveTime::parse_from_str(&args.at, "%H:%M")
        .map_err(|_| input(format!("--at: {:?} is not HH:MM (New York)", args.at)))?;
    let date = args
        .date
        .as_deref()
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| input(format!("--date: {d:?} is not YYYY-MM-DD")))
        })
        .transpose()?;
    let symbols = if args.watchlist.is_empty() {
        None
    } else {
        Some(parse_symbols(&args.watchlist).map_err(|e| input(format!("--watchlist: {e}")))?)
    };
    let market = match config.general.provider.as_str() {
        "replay" => replay_market(
            &config.replay.bars,
            &args.daily,
            &args.chain,
            date,
            symbols,
            args.verbose,
        )?,
        "sim" if !args.chain.is_empty() => {
            return Err(input(
                "--chain gives recorded chains to recorded bars: pass --bars too",
            ));
        }
        "sim" => sim_market(config.sim.seed, date, symbols),
        other => {
            return Err(input(format!(
                "coach brief reads --provider sim or replay (recorded bars), not {other}"
            )));
        }
    };
    if let Some(reason) = calendar::closure_reason(market.date) {
        return Err(input(format!(
            "--date: {} is not a trading day ({reason})",
            market.date
        )));
    }
    let now = calendar::ny_instant(market.date, at);
    let brief = with_store(common, |store, user| async move {
        let runtime = |e: crate::store::StoreError| CliError::Runtime(e.to_string());
        let symbols = match market.symbols {
            Some(s) => s,
            None => {
                store
                    .default_watchlist(user, now)
                    .await
                    .map_err(runtime)?
                    .symbols
            }
        };
        let (positions, setups) = open_book(&store, user).await.map_err(runtime)?;
        let wanted = with_position_symbols(&symbols, &positions);
        let inputs: Vec<SymbolInput> = wanted.iter().map(|s| (market.input)(s, now)).collect();
        build(&BriefInputs {
            now,
            market_date: market.date,
            watchlist: if args.watchlist.is_empty() {
                market.label.clone()
            } else {
                args.watchlist.join(",")
            },
            symbols: &inputs,
            calendar: &calendar,
            positions: &positions,
            setups: &setups,
        })
        .map_err(input)
    })?;
    let text = match args.format {
        BriefFormat::Markdown => markdown(&brief),
        BriefFormat::Json => {
            let mut t = serde_json::to_string_pretty(&brief)
                .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))?;
            t.push('\n');
            t
        }
    };
    print!("{text}");
    Ok(())
}

type InputFn = Box<dyn Fn(&Symbol, chrono::DateTime<chrono::Utc>) -> SymbolInput + Send>;

/// Where the brief's data comes from: the date, the symbols (when not the watchlist)
/// and each symbol's input.
struct Market {
    date: NaiveDate,
    symbols: Option<Vec<Symbol>>,
    label: String,
    input: InputFn,
}

fn replay_market(
    bars: &[String],
    daily: &[PathBuf],
    chains: &[PathBuf],
    date: Option<NaiveDate>,
    symbols: Option<Vec<Symbol>>,
    verbose: bool,
) -> Result<Market, CliError> {
    let paths: Vec<PathBuf> = bars.iter().map(PathBuf::from).collect();
    let loaded = load_files(&paths, daily, None).map_err(|e| input(e.to_string()))?;
    super::replay::report_files(&loaded, verbose);
    let chains = crate::provider::chain_files::load_chains(chains, &loaded.minute)
        .map_err(CliError::Input)?;
    let last_date = loaded
        .minute
        .values()
        .filter_map(|b| b.last())
        .map(|b| calendar::ny_date(b.start))
        .max()
        .ok_or_else(|| input("--bars: no minute bars"))?;
    let date = date.unwrap_or(last_date);
    // The brief of the session after the last recorded one still has its prior day;
    // past that it would have nothing but "not available".
    let latest = calendar::next_session(last_date).date;
    if date > latest {
        return Err(input(format!(
            "--date {date} is past the recorded bars: they end on {last_date}, so the latest \
             brief they can build is for {latest}"
        )));
    }
    let recorded: Vec<Symbol> = loaded.minute.keys().cloned().collect();
    let label = match &symbols {
        Some(_) => String::new(),
        None => format!("recorded: {}", join(&recorded)),
    };
    let minute = Arc::new(loaded.minute);
    let daily = Arc::new(loaded.daily);
    let previous = calendar::previous_session(date).date;
    Ok(Market {
        date,
        symbols: Some(symbols.unwrap_or(recorded)),
        label,
        input: Box::new(move |symbol, now| {
            let bars: &[Bar] = minute.get(symbol).map(Vec::as_slice).unwrap_or_default();
            let on = |d: NaiveDate| -> Vec<Bar> {
                bars.iter()
                    .filter(|b| calendar::ny_date(b.start) == d)
                    .copied()
                    .collect()
            };
            SymbolInput {
                daily: daily.get(symbol).cloned().unwrap_or_default(),
                previous_bars: on(previous),
                bars: on(date),
                gex: crate::provider::chain_files::in_force(&chains, symbol, now)
                    .map(|c| c.profile.clone()),
                ..SymbolInput::new(symbol.clone())
            }
        }),
    })
}

fn sim_market(seed: u64, date: Option<NaiveDate>, symbols: Option<Vec<Symbol>>) -> Market {
    let date = date.unwrap_or_else(|| calendar::ny_date(chrono::Utc::now()));
    let date =
        calendar::session(date).map_or_else(|| calendar::next_session(date).date, |s| s.date);
    let seed_symbols: Vec<Symbol> = crate::provider::sim::DEFAULT_SYMBOLS
        .iter()
        .filter_map(|s| Symbol::parse(s).ok())
        .chain(symbols.clone().unwrap_or_default())
        .collect();
    let sim = Arc::new(SimMarket::new(seed, &seed_symbols, date));
    Market {
        date,
        label: if symbols.is_some() {
            String::new()
        } else {
            "Default".into()
        },
        symbols,
        input: Box::new(move |symbol, now| {
            let mut input = SymbolInput::new(symbol.clone());
            if !sim.symbols().any(|s| s == symbol) {
                return input;
            }
            input.daily = sim
                .daily
                .get(symbol)
                .map(|d| d.to_vec())
                .unwrap_or_default();
            input.previous_bars = sim.previous.bars_until(symbol, sim.today.session.open);
            input.bars = sim.today.bars_until(symbol, now);
            input.last = sim
                .last_price(symbol, now)
                .map(|price| PriceAt { price, at: now });
            if let Some(spot) = input.last.map(|l| l.price) {
                let chain = synthetic_chain(symbol, spot, now, seed);
                let params = GexParams::default();
                input.gex = compute_profile(&chain, &params, ExpiryFilter::All)
                    .ok()
                    .map(|mut profile| {
                        profile.atm_straddle = atm_straddle(&chain, &params);
                        Arc::new(profile)
                    });
            }
            input
        }),
    }
}

fn join(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
