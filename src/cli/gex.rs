//! `coach gex`: the GEX profile of an options-chain file, or of a live chain from Alpaca
//! with `--provider alpaca --symbol S` (SPEC 7, 12, 19).
//!
//! `--json` prints one JSON document with the fields of [`GexProfile`] (GEX in dollars per 1 %
//! move, vanna in dollars per vol point, charm in dollars per calendar day, the 0DTE share a
//! fraction in [0, 1], strikes ascending, instants RFC 3339 UTC); without it a table for people.

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;
use clap::Args;

use super::CliError;
use crate::gex::display::{abbreviate_dollars, price};
use crate::gex::formats::ChainFormat;
use crate::gex::{ExpiryFilter, GexParams, GexProfile, compute_profile};

/// Compute the gamma-exposure profile of an options chain file.
#[derive(Debug, Args)]
#[command(
    after_help = "Conventions: dealers long calls and short puts; GEX = sign·Γ·OI·100·S²·0.01 \
in dollars per 1 % move; Γ from each contract's IV (Black-Scholes-Merton); T in calendar time to \
16:00 New York (09:30 for AM-settled SPX/NDX/RUT/DJX monthlies); zero gamma from a 201-point sweep \
over [0.8 S, 1.2 S] refined by Brent's method.",
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
pub struct GexArgs {
    #[command(subcommand)]
    pub command: Option<GexCommand>,
    #[command(flatten)]
    pub provider: super::dashboard::ProviderArg,
    /// The chain file: CBOE quotedata CSV, CBOE delayed-quotes JSON or a Massive snapshot.
    #[arg(long, value_name = "FILE", required_unless_present = "symbol")]
    pub chain: Option<PathBuf>,
    /// Fetch the live chain of this underlying instead (with --provider alpaca): Alpaca's
    /// option contracts (open interest) joined with its option snapshots (IV).
    #[arg(long, value_name = "S", conflicts_with = "chain")]
    pub symbol: Option<String>,
    /// With --symbol: the expirations fetched, up to this many calendar days ahead.
    #[arg(long, value_name = "N", default_value_t = 45, requires = "symbol")]
    pub days: u32,
    /// The file's format; guessed from its content when absent.
    #[arg(long, value_name = "cboe-csv|cboe-json|massive", value_parser = parse_format)]
    pub format: Option<ChainFormat>,
    /// Evaluate at this instant (RFC 3339) instead of the snapshot time in the file.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
    /// Expirations to include.
    #[arg(long, value_name = "all|0dte|next:N|max-dte:N", default_value = "all", value_parser = parse_filter)]
    pub expiry: ExpiryFilter,
    /// Risk-free rate, continuously compounded annual decimal.
    #[arg(long, value_name = "R", default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_rate)]
    pub r: f64,
    /// Dividend yield, continuously compounded annual decimal.
    #[arg(long, value_name = "Q", default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_rate)]
    pub q: f64,
    /// Print the JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum GexCommand {
    /// The stored profile of a symbol at every refresh of a New York date (SPEC 20).
    History(super::gex_history::HistoryArgs),
}

fn parse_format(s: &str) -> Result<ChainFormat, String> {
    s.parse()
}

fn parse_filter(s: &str) -> Result<ExpiryFilter, String> {
    s.parse()
        .map_err(|e: crate::gex::filter::FilterError| e.to_string())
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "{:?} is not an RFC 3339 instant such as 2025-09-26T14:30:00Z: {e}",
                crate::text::printable(s)
            )
        })
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() < 1.0 => Ok(v),
        _ => Err(format!(
            "{:?} is not an annual rate as a decimal between -1 and 1 (0.045 for 4.5 %)",
            crate::text::printable(s)
        )),
    }
}

/// Runs `coach gex`.
pub fn run(args: GexArgs, common: &super::dashboard::CommonArgs) -> Result<(), CliError> {
    if let Some(GexCommand::History(history)) = args.command {
        return super::gex_history::run(history, common);
    }
    let (chain, file) = match (&args.chain, &args.symbol) {
        (Some(path), _) => (read_chain_file(path, &args)?, path.display().to_string()),
        (None, Some(symbol)) => (
            fetch_alpaca_chain(symbol, args.days, common)?,
            symbol.clone(),
        ),
        (None, None) => {
            return Err(CliError::Input(
                "coach gex needs --chain FILE or --symbol S (with --provider alpaca)".into(),
            ));
        }
    };
    report(&chain, &file, &args)
}

/// The live chain of `symbol` from Alpaca, as of now at the latest trade's price.
fn fetch_alpaca_chain(
    symbol: &str,
    days: u32,
    common: &super::dashboard::CommonArgs,
) -> Result<crate::gex::chain::Chain, CliError> {
    use crate::provider::alpaca;
    let config = common.load_config()?;
    if config.general.provider != "alpaca" {
        return Err(CliError::Input(
            "coach gex --symbol fetches a live chain from Alpaca: pass --provider alpaca (with APCA_API_KEY_ID and APCA_API_SECRET_KEY), or give a chain file with --chain"
                .into(),
        ));
    }
    let symbol = crate::domain::Symbol::parse(symbol)
        .map_err(|e| CliError::Input(format!("--symbol: {e}")))?;
    alpaca::check_tradable(&symbol, config.detectors.index_symbols.contains(&symbol))
        .map_err(|e| CliError::Input(format!("--symbol: {e}")))?;
    let client = alpaca::rest::RestClient::new(&config.alpaca.connection())
        .map_err(|e| CliError::Input(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let now = Utc::now();
    let today = crate::market::calendar::ny_date(now);
    let (chain, counts) =
        runtime
            .block_on(async {
                let (spot, _) = client.latest_trade(&symbol).await?.ok_or_else(|| {
                    alpaca::AlpacaError::Decode {
                        what: format!("the latest trade of {symbol}"),
                        detail: "Alpaca has no trade of it".into(),
                    }
                })?;
                client
                    .options_chain(
                        &symbol,
                        spot,
                        now,
                        today,
                        alpaca::chain::expiry_horizon(today, days),
                    )
                    .await
            })
            .map_err(|e| CliError::Runtime(e.to_string()))?;
    eprintln!(
        "{symbol}: {} contracts with open interest and IV, {} without IV (no gamma), {} unreadable",
        counts.joined, counts.without_iv, counts.unreadable
    );
    if counts.joined == 0 {
        return Err(CliError::Runtime(format!(
            "Alpaca gave no {symbol} option with both open interest and implied volatility expiring by {}",
            alpaca::chain::expiry_horizon(today, days)
        )));
    }
    Ok(chain)
}

fn read_chain_file(
    path: &std::path::Path,
    args: &GexArgs,
) -> Result<crate::gex::chain::Chain, CliError> {
    let file = path.display().to_string();
    let (raw, format) =
        crate::provider::chain_files::read_raw_chain(path, args.format).map_err(CliError::Input)?;
    raw.into_chain(args.at, &file)
        .map_err(|e| CliError::Input(format!("{e} (read as {format})")))
}

fn report(chain: &crate::gex::chain::Chain, file: &str, args: &GexArgs) -> Result<(), CliError> {
    let params = GexParams {
        rate: args.r,
        dividend_yield: args.q,
        ..GexParams::default()
    };
    let profile = compute_profile(chain, &params, args.expiry)
        .map_err(|e| CliError::Input(format!("{file}: {e}")))?;
    let out = if args.json {
        let mut s =
            serde_json::to_string_pretty(&profile).map_err(|e| CliError::Runtime(e.to_string()))?;
        s.push('\n');
        s
    } else {
        table(&profile, &params, args.expiry)
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Runtime(format!("writing to stdout: {e}"))),
    }
}

/// Strikes shown in the table: within this many percent of spot.
const TABLE_RANGE_PERCENT: f64 = 5.0;

/// The readable report.
pub fn table(p: &GexProfile, params: &GexParams, filter: ExpiryFilter) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let et = p.as_of.with_timezone(&New_York);
    let _ = writeln!(
        s,
        "{}  spot {}  as of {} ({} New York)",
        p.symbol,
        price(p.spot),
        p.as_of.format("%Y-%m-%d %H:%M UTC"),
        et.format("%Y-%m-%d %H:%M %Z")
    );
    let span = match (p.expirations_used.first(), p.expirations_used.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.to_string(),
        _ => "none".into(),
    };
    let _ = writeln!(
        s,
        "expiry filter {filter}: {} ({span}), {}; r {} q {}",
        plural(p.expirations_used.len(), "expiration"),
        plural(p.contracts_used, "contract"),
        params.rate,
        params.dividend_yield
    );
    let _ = writeln!(
        s,
        "total GEX {} per 1% move: {} gamma regime ({})",
        abbreviate_dollars(p.total_gex),
        p.regime.as_str(),
        match p.regime {
            crate::gex::Regime::Positive => "dealers long gamma, moves tend to be dampened",
            crate::gex::Regime::Negative => "dealers short gamma, moves tend to be amplified",
        }
    );
    let flip = match p.zero_gamma {
        Some(z) => {
            let side = if p.spot < z {
                "spot below"
            } else {
                "spot above"
            };
            let others = if p.crossings.len() > 1 {
                format!("; all crossings {}", join_prices(&p.crossings))
            } else {
                String::new()
            };
            format!(
                "{} ({side}, {:+.2}% away){others}",
                price(z),
                (z / p.spot - 1.0) * 100.0
            )
        }
        None => "none within ±20% of spot".into(),
    };
    let _ = writeln!(s, "zero gamma {flip}");
    let opt = |v: Option<f64>| v.map(price).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        s,
        "call wall {}  put wall {}  max |GEX| strike {}",
        opt(p.call_wall),
        opt(p.put_wall),
        opt(p.max_gex_strike)
    );
    if !p.key_levels.is_empty() {
        let levels: Vec<String> = p
            .key_levels
            .iter()
            .map(|k| {
                format!(
                    "{} {} {}",
                    price(k.strike),
                    k.label.as_str(),
                    abbreviate_dollars(k.net_gex)
                )
            })
            .collect();
        let _ = writeln!(s, "key levels: {}", levels.join(", "));
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:>10} {:>10} {:>10} {:>10}  marks (±{TABLE_RANGE_PERCENT}% of spot)",
        "strike", "call", "put", "net"
    );
    let shown = p.strikes_within(TABLE_RANGE_PERCENT);
    if shown.is_empty() {
        let _ = writeln!(
            s,
            "{:>10}  (no strike within ±{TABLE_RANGE_PERCENT}% of spot)",
            "-"
        );
    }
    for row in shown.iter().rev() {
        let mut marks = Vec::new();
        if Some(row.strike) == p.call_wall {
            marks.push("call wall");
        }
        if Some(row.strike) == p.put_wall {
            marks.push("put wall");
        }
        if Some(row.strike) == p.max_gex_strike {
            marks.push("max |GEX|");
        }
        let _ = writeln!(
            s,
            "{:>10} {:>10} {:>10} {:>10}  {}",
            price(row.strike),
            abbreviate_dollars(row.call_gex),
            abbreviate_dollars(row.put_gex),
            abbreviate_dollars(row.net_gex),
            marks.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "(dollars per 1% move; dealers assumed long calls, short puts)"
    );
    s
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn join_prices(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| price(*v))
        .collect::<Vec<_>>()
        .join(", ")
}
