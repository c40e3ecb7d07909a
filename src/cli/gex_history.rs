//! `coach gex history --symbol S [--date D] [--json]` (SPEC 20): a symbol's GEX profile at
//! every refresh of one New York date, from `gex_history`. Without `--date`, the latest
//! date that has history. `--json` prints a JSON array of `{at, spot, total_gex,
//! zero_gamma, call_wall, put_wall, abs_gamma_strike, zero_dte_share}` in time order (`at`
//! RFC 3339 UTC; GEX in dollars per 1 % move; the share a fraction in [0, 1]; a level with
//! none is `null`); without it, one line per refresh in New York time.

use std::io::{self, Write};

use chrono::NaiveDate;
use chrono_tz::America::New_York;
use clap::Args;

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::domain::Symbol;
use crate::gex::display::{abbreviate_dollars, price2};
use crate::gex::history::GexPoint;

/// The GEX profile of one symbol at every refresh of a day.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The underlying (as on the watchlist).
    #[arg(long, value_name = "S")]
    pub symbol: String,
    /// The New York date, YYYY-MM-DD; the latest date with history when absent.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// A JSON array instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "{:?} is not a date such as 2026-11-24 (New York)",
            crate::text::printable(s)
        )
    })
}

pub fn run(args: HistoryArgs, common: &CommonArgs) -> Result<(), CliError> {
    let symbol =
        Symbol::parse(&args.symbol).map_err(|e| CliError::Input(format!("--symbol: {e}")))?;
    let wanted = args.date;
    let query = symbol.clone();
    let (date, points) = with_store(common, |store, _user| async move {
        let runtime = |e: crate::store::StoreError| CliError::Runtime(e.to_string());
        let date = match wanted {
            Some(d) => Some(d),
            None => store.latest_gex_date(&query).await.map_err(runtime)?,
        };
        let points = match date {
            Some(d) => store.gex_history(&query, d).await.map_err(runtime)?,
            None => Vec::new(),
        };
        Ok((date, points))
    })?;
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&points)
            .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))?;
        text.push('\n');
        text
    } else {
        match date {
            None => format!(
                "no GEX history of {symbol} yet: a dashboard or `coach serve` with options chains keeps one point per refresh\n"
            ),
            Some(d) if points.is_empty() => format!("no GEX history of {symbol} on {d}\n"),
            Some(d) => to_text(&symbol, d, &points),
        }
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("cannot write to stdout: {e}")))
}

/// `10:05 ET  spot 6832.54  total -$6.25B  flip 6857.82  call 6900.00  put 6600.00  abs 6800.00  0DTE 12%`.
fn to_text(symbol: &Symbol, date: NaiveDate, points: &[GexPoint]) -> String {
    let opt = |v: Option<f64>| v.map(price2).unwrap_or_else(|| "none".into());
    let mut out = format!(
        "{symbol} GEX on {date} (New York), {} refreshes, all expirations, $ per 1 % move\n",
        points.len()
    );
    for p in points {
        out.push_str(&format!(
            "{} ET  spot {}  total {}  flip {}  call wall {}  put wall {}  abs-γ {}  0DTE {:.0}%\n",
            p.at.with_timezone(&New_York).format("%H:%M"),
            price2(p.spot),
            abbreviate_dollars(p.total_gex),
            opt(p.zero_gamma),
            opt(p.call_wall),
            opt(p.put_wall),
            opt(p.abs_gamma_strike),
            p.zero_dte_share * 100.0
        ));
    }
    out
}
