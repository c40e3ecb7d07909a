//! `coach econ check FILE` and `coach econ fetch --out FILE`: the economic calendar the
//! brief reads. `fetch` asks FRED (with the key of `[brief] fred_api_key` or
//! `FRED_API_KEY`) for the release dates of CPI, PPI, the jobs report, GDP, retail sales
//! and PCE, merges them into the configured calendar and writes a new file; nothing is
//! replaced in place. The key never appears in messages.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use clap::{Args, Subcommand};

use super::CliError;
use super::dashboard::CommonArgs;
use crate::brief::fred::{RELEASES, merge, parse_release_dates, to_toml};
use crate::config::{FRED_API_KEY_VAR, Secret, load_calendar};

#[derive(Debug, Args)]
pub struct EconArgs {
    #[command(subcommand)]
    pub command: EconCommand,
}

#[derive(Debug, Subcommand)]
pub enum EconCommand {
    /// Check a calendar file: prints its range and event count, or the entry at fault.
    Check { file: PathBuf },
    /// Fetch FRED release dates into a new calendar file (needs a FRED API key).
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The file to write (the configured calendar is left as it is).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// First date (default: January 1st of this year).
    #[arg(long, value_name = "D")]
    pub from: Option<String>,
    /// Last date (default: December 31st of next year).
    #[arg(long, value_name = "D")]
    pub to: Option<String>,
}

fn input(text: impl Into<String>) -> CliError {
    CliError::Input(text.into())
}

fn date(flag: &str, text: &Option<String>, default: NaiveDate) -> Result<NaiveDate, CliError> {
    match text {
        None => Ok(default),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| input(format!("{flag}: {t:?} is not YYYY-MM-DD"))),
    }
}

pub fn run(args: EconArgs, common: &CommonArgs) -> Result<(), CliError> {
    match args.command {
        EconCommand::Check { file } => {
            let c = load_calendar(&file.display().to_string()).map_err(input)?;
            println!(
                "{}: {} events, valid {} … {}",
                file.display(),
                c.events.len(),
                c.valid_from,
                c.valid_through
            );
            Ok(())
        }
        EconCommand::Fetch(fetch) => run_fetch(fetch, common),
    }
}

fn run_fetch(args: FetchArgs, common: &CommonArgs) -> Result<(), CliError> {
    let config = common.load_config()?;
    let key = config.brief.fred_api_key.clone();
    if !key.is_set() {
        return Err(input(format!(
            "no FRED API key: set {FRED_API_KEY_VAR} or [brief] fred_api_key (free at fred.stlouisfed.org)"
        )));
    }
    let year = Utc::now().year();
    let from = date(
        "--from",
        &args.from,
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
    )?;
    let to = date(
        "--to",
        &args.to,
        NaiveDate::from_ymd_opt(year + 1, 12, 31).unwrap_or_default(),
    )?;
    if to < from {
        return Err(input(format!("--to {to} is before --from {from}")));
    }
    let base = config.brief.calendar().map_err(input)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let fetched = runtime.block_on(fetch_all(&config.brief.fred_url, &key, from, to))?;
    let merged = merge(&base, &fetched, from, to);
    let header = vec![
        "coach economic calendar: written by `coach econ fetch`.".to_string(),
        format!(
            "FRED release dates {from} … {to} for: {}.",
            RELEASES.map(|r| r.name).join(", ")
        ),
        format!("Other events (FOMC, ISM) kept from {}.", base.origin),
        "FRED gives dates only; times are the agencies' standard 08:30 ET releases.".into(),
    ];
    std::fs::write(&args.out, to_toml(&merged, &header))
        .map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", args.out.display())))?;
    let dates: usize = fetched.iter().map(|(_, d)| d.len()).sum();
    println!(
        "wrote {} ({} events, valid {} … {}; {dates} FRED release dates)",
        args.out.display(),
        merged.events.len(),
        merged.valid_from,
        merged.valid_through
    );
    if to > base.valid_through {
        eprintln!(
            "note: FOMC and ISM dates after {} are not on FRED; add them to {} by hand",
            base.valid_through,
            args.out.display()
        );
    }
    Ok(())
}

async fn fetch_all(
    base_url: &str,
    key: &Secret,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(crate::brief::fred::FredRelease, Vec<NaiveDate>)>, CliError> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("coach/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot build the HTTP client: {e}")))?;
    let url = format!("{}/fred/release/dates", base_url.trim_end_matches('/'));
    let mut out = Vec::new();
    for release in RELEASES {
        let what = format!("FRED release {} ({})", release.release_id, release.name);
        let fail = |m: String| CliError::Runtime(key.redact_in(&format!("{what}: {m}")));
        let params = [
            ("release_id", release.release_id.to_string()),
            ("api_key", key.expose().to_string()),
            ("file_type", "json".into()),
            ("realtime_start", from.to_string()),
            ("realtime_end", to.to_string()),
            ("include_release_dates_with_no_data", "true".into()),
            ("sort_order", "asc".into()),
        ];
        let request = reqwest::Url::parse_with_params(&url, &params)
            .map_err(|e| input(format!("[brief] fred_url: {e}")))?;
        let response = http
            .get(request)
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        if !status.is_success() {
            let excerpt: String = crate::text::printable(&body).chars().take(200).collect();
            return Err(fail(format!("HTTP {status}: {excerpt}")));
        }
        let dates =
            parse_release_dates(&what, &body).map_err(|m| CliError::Runtime(key.redact_in(&m)))?;
        out.push((release, dates));
    }
    Ok(out)
}
