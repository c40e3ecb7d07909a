//! `coach bars`: downloads history from Massive or Alpaca into the replay CSV format
//! (SPEC 12, 19), the files `coach replay --bars` and `--daily` read. Dates are New York
//! dates, inclusive; minute files include extended hours (04:00–20:00 New York).
//!
//! Minute files: `timestamp,open,high,low,close[,volume]`, the timestamp being the bar start
//! in RFC 3339 with the New York offset; daily files: `date,open,high,low,close[,volume]`.
//! Indices (`SPX`, `NDX`…) have no volume column. The file is written only when bars came
//! back, through a temporary file renamed into place.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::CliError;
use super::dashboard::CommonArgs;
use crate::config::Config;
use crate::domain::Symbol;
use crate::provider::alpaca;
use crate::provider::massive::rest::{AggBound, RestClient, RetryPolicy};
use crate::provider::massive::{KNOWN_INDICES, MassiveError};
use crate::provider::replay::{write_daily_bars, write_minute_bars};

/// Download bars from Massive or Alpaca into a replay CSV file (use with --provider massive
/// or --provider alpaca).
#[derive(Debug, Args)]
pub struct BarsArgs {
    #[command(flatten)]
    pub provider: super::dashboard::ProviderArg,
    /// The symbol (at Massive, indices like SPX are fetched as I:SPX and written without
    /// volume; Alpaca has no indices: use their ETFs, SPY or QQQ).
    #[arg(long, value_name = "S")]
    pub symbol: String,
    /// First New York date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last New York date, inclusive, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub to: String,
    #[arg(long, value_enum, default_value_t = BarsTimespan::Minute)]
    pub timespan: BarsTimespan,
    /// The CSV file to write (e.g. SPY_1min_2024-03.csv, so replay reads the symbol from it).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BarsTimespan {
    /// 1-minute bars (extended hours included).
    Minute,
    /// Daily bars.
    Day,
}

fn parse_date(flag: &str, text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::Input(format!(
            "{flag}: {:?} is not a date (YYYY-MM-DD)",
            crate::text::printable(text)
        ))
    })
}

/// Whether `symbol` is an index for Massive: a well-known cash index or one the
/// configuration names as an index.
pub fn is_index(config: &Config, symbol: &Symbol) -> bool {
    KNOWN_INDICES.contains(&symbol.as_str()) || config.detectors.index_symbols.contains(symbol)
}

/// Fetches the bars and renders the CSV text; `Ok((text, count))`.
pub async fn download(
    client: &RestClient,
    symbol: &Symbol,
    index: bool,
    timespan: BarsTimespan,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(String, usize), MassiveError> {
    Ok(match timespan {
        BarsTimespan::Minute => {
            let bars = client
                .minute_bars(symbol, index, AggBound::Date(from), AggBound::Date(to))
                .await?;
            (write_minute_bars(&bars), bars.len())
        }
        BarsTimespan::Day => {
            let bars = client.daily_bars(symbol, index, from, to).await?;
            (write_daily_bars(&bars), bars.len())
        }
    })
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bars.csv".into());
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Fetches the bars from Alpaca and renders the CSV text; `Ok((text, count))`.
pub async fn download_alpaca(
    client: &alpaca::rest::RestClient,
    symbol: &Symbol,
    timespan: BarsTimespan,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(String, usize), alpaca::AlpacaError> {
    Ok(match timespan {
        BarsTimespan::Minute => {
            let bars = client.minute_bars(symbol, from, to).await?;
            (write_minute_bars(&bars), bars.len())
        }
        BarsTimespan::Day => {
            let bars = client.daily_bars(symbol, from, to).await?;
            (write_daily_bars(&bars), bars.len())
        }
    })
}

/// Patient retries for a download: the free plans allow few calls a minute.
fn download_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        max_retry_after: Duration::from_secs(65),
        ..RetryPolicy::default()
    }
}

pub fn run(args: BarsArgs, common: &CommonArgs) -> Result<(), CliError> {
    let config = common.load_config()?;
    let vendor = match config.general.provider.as_str() {
        "massive" => "Massive",
        "alpaca" => "Alpaca",
        _ => {
            return Err(CliError::Input(
                "coach bars downloads from Massive or Alpaca: pass --provider massive (with MASSIVE_API_KEY) or --provider alpaca (with APCA_API_KEY_ID and APCA_API_SECRET_KEY)"
                    .into(),
            ));
        }
    };
    let symbol =
        Symbol::parse(&args.symbol).map_err(|e| CliError::Input(format!("--symbol: {e}")))?;
    let from = parse_date("--from", &args.from)?;
    let to = parse_date("--to", &args.to)?;
    if from > to {
        return Err(CliError::Input(format!("--from {from} is after --to {to}")));
    }
    let index = is_index(&config, &symbol);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let (text, count) = if vendor == "Alpaca" {
        alpaca::check_tradable(&symbol, index)
            .map_err(|e| CliError::Input(format!("--symbol: {e}")))?;
        let client = alpaca::rest::RestClient::new(&config.alpaca.connection())
            .map_err(|e| CliError::Input(e.to_string()))?
            .with_retry(download_retry());
        runtime
            .block_on(download_alpaca(&client, &symbol, args.timespan, from, to))
            .map_err(|e| CliError::Runtime(e.to_string()))?
    } else {
        let client = RestClient::new(&config.massive.connection())
            .map_err(|e| CliError::Input(e.to_string()))?
            .with_retry(download_retry());
        runtime
            .block_on(download(&client, &symbol, index, args.timespan, from, to))
            .map_err(|e| CliError::Runtime(e.to_string()))?
    };
    if count == 0 {
        return Err(CliError::Runtime(format!(
            "{vendor} returned no {} bars of {symbol} from {from} to {to} (no session in the range, or the plan's history does not reach back so far); nothing written",
            match args.timespan {
                BarsTimespan::Minute => "minute",
                BarsTimespan::Day => "daily",
            }
        )));
    }
    write_atomically(&args.out, &text)
        .map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", args.out.display())))?;
    eprintln!(
        "wrote {count} bars of {symbol} ({from} to {to}) to {}",
        args.out.display()
    );
    Ok(())
}
