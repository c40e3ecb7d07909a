//! `coach setups list [--status S] [--json]`: the trader's tracked setups (SPEC 5, 12),
//! newest tracked first.
//!
//! `--json` output (stable): one JSON array; each element an object with
//! - `id` (integer), `source_id` (integer or null: the detection it was tracked from),
//! - `symbol`, `kind` (`orb_breakout`, …), `direction` (`long` | `short`),
//! - `entry`, `stop`, `target` (prices in the instrument's quote currency),
//! - `status` (`active` | `triggered` | `invalidated` | `archived`),
//! - `outcome` (null | `open` | `target_hit` | `stopped_out`),
//! - `fill_price` (null or the price the setup was filled at: the entry, or the first
//!   price beyond it after a gap or a late track), `exit_price` (null or the price it was
//!   closed at: the target or stop, or the first price beyond it after a gap),
//! - `realised_r` (null or the result in R between fill and exit:
//!   (exit − fill) / |entry − stop|, sign reversed for shorts),
//! - `multi_day` (boolean), `market_date` (`YYYY-MM-DD`, New York),
//! - `tracked_at`, `armed_at`, `triggered_at`, `invalidated_at`, `archived_at`,
//!   `resolved_at`, `updated_at` (RFC 3339 UTC like `2026-11-24T15:07:00Z`, or null),
//! - `version` (integer, bumped by every transition), `notes` (text).
//!
//! Without `--json`: a table for reading, times in New York.

use crate::setups::StatusFilter;
use std::future::Future;
use std::io::{self, Write};

use chrono::Utc;
use clap::{Args, Subcommand};

use super::CliError;
use super::dashboard::CommonArgs;
use crate::config::Config;
use crate::market::calendar::NEW_YORK;
use crate::setups::{SetupJson, SetupStatus, TrackedSetup};
use crate::store::{SetupRow, Store, StoreError, UserId};

/// Tracked setups.
#[derive(Debug, Args)]
pub struct SetupsArgs {
    #[command(subcommand)]
    pub command: SetupsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SetupsCommand {
    /// List the tracked setups, newest tracked first.
    List(ListArgs),
    /// Statistics of your own tracked setups (win rate, R, profit factor, drawdown), as
    /// `coach backtest` computes them.
    Stats(super::setups_stats::StatsArgs),
}

/// The `--json` fields, shown by `coach setups list --help`.
const JSON_FIELDS: &str = "\
--json prints one JSON array, newest tracked first; each element has:
  id, source_id       integers (source_id: the detection, or null)
  symbol, kind        e.g. \"SPY\", \"orb_breakout\"
  direction           \"long\" | \"short\"
  entry, stop, target prices in the instrument's quote currency
  status              \"active\" | \"triggered\" | \"invalidated\" | \"archived\"
  outcome             null | \"open\" | \"target_hit\" | \"stopped_out\"
  fill_price          null, or the price the setup was filled at (entry, or beyond it after a gap)
  exit_price          null, or the price it was closed at (target or stop, or beyond after a gap)
  realised_r          null, or the result in R from fill to exit: (exit - fill) / |entry - stop|,
                      sign reversed for shorts
  multi_day           boolean
  market_date         \"YYYY-MM-DD\" (New York)
  tracked_at, armed_at, updated_at                       RFC 3339 UTC (\"2026-11-24T15:07:00Z\")
  triggered_at, invalidated_at, archived_at, resolved_at RFC 3339 UTC or null
  version             integer, bumped by every transition
  notes               text";

#[derive(Debug, Args)]
#[command(after_long_help = JSON_FIELDS)]
pub struct ListArgs {
    /// Only setups in this status.
    /// active, triggered, invalidated, archived or all.
    #[arg(long, default_value_t = StatusFilter::All)]
    pub status: StatusFilter,
    /// One JSON array instead of the table (fields listed under `--help`).
    #[arg(long)]
    pub json: bool,
}

/// Opens the configured database, makes sure the user exists, and runs `work` on a
/// single-threaded runtime.
pub(super) fn with_store<T, F, Fut>(common: &CommonArgs, work: F) -> Result<T, CliError>
where
    F: FnOnce(Store, UserId) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    with_config_store(&common.load_config()?, work)
}

/// [`with_store`] for a caller that needs the loaded configuration too.
pub(super) fn with_config_store<T, F, Fut>(config: &Config, work: F) -> Result<T, CliError>
where
    F: FnOnce(Store, UserId) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let store = Store::open(&config.general.db).await.map_err(|e| match e {
            StoreError::BadUrl(_) => CliError::Input(format!("--db: {e}")),
            e => CliError::Runtime(e.to_string()),
        })?;
        let user = store
            .ensure_user(&config.general.user, Utc::now())
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))?;
        let result = work(store.clone(), user).await;
        store.close().await;
        result
    })
}

pub fn run(args: SetupsArgs, common: &CommonArgs) -> Result<(), CliError> {
    match args.command {
        SetupsCommand::Stats(stats) => super::setups_stats::run(stats, common),
        SetupsCommand::List(list) => {
            let rows = with_store(common, |store, user| async move {
                store
                    .setups(user, list.status.status())
                    .await
                    .map_err(|e| CliError::Runtime(e.to_string()))
            })?;
            let text = if list.json {
                let json: Vec<SetupJson> = rows
                    .iter()
                    .map(|row| SetupJson::new(&row.setup, &row.notes))
                    .collect();
                let mut text = crate::json_round::rounded(&json)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))?;
                text.push('\n');
                text
            } else {
                table(&rows, list.status.status())
            };
            io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| CliError::Runtime(format!("cannot write to stdout: {e}")))
        }
    }
}

const HEADER: [&str; 14] = [
    "ID",
    "SYMBOL",
    "KIND",
    "DIR",
    "ENTRY",
    "STOP",
    "TARGET",
    "STATUS",
    "OUTCOME",
    "FILL",
    "EXIT",
    "R",
    "TRACKED (ET)",
    "NOTES",
];
/// Notes are cut to this many characters in the table (`--json` has them whole).
const NOTES_WIDTH: usize = 40;

fn cells(row: &SetupRow) -> [String; 14] {
    let s: &TrackedSetup = &row.setup;
    let notes = crate::text::printable(&row.notes).replace(['\n', '\r', '\t'], " ");
    let notes = if notes.chars().count() > NOTES_WIDTH {
        let cut: String = notes.chars().take(NOTES_WIDTH - 1).collect();
        format!("{cut}…")
    } else {
        notes
    };
    [
        s.id.to_string(),
        s.symbol.to_string(),
        s.kind.as_str().to_string(),
        s.direction.as_str().to_string(),
        format!("{:.2}", s.entry),
        format!("{:.2}", s.stop),
        format!("{:.2}", s.target),
        s.status.as_str().to_string(),
        s.outcome.map_or("-", |o| o.as_str()).to_string(),
        s.fill_price
            .map_or_else(|| "-".to_string(), |p| format!("{p:.2}")),
        s.exit_price
            .map_or_else(|| "-".to_string(), |p| format!("{p:.2}")),
        s.realised_r
            .map_or_else(|| "-".to_string(), |r| format!("{r:+.2}")),
        s.tracked_at
            .with_timezone(&NEW_YORK)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        notes,
    ]
}

/// The readable table: left-aligned text, right-aligned numbers, two spaces between.
fn table(rows: &[SetupRow], status: Option<SetupStatus>) -> String {
    if rows.is_empty() {
        return match status {
            Some(s) => format!("no {s} setups\n"),
            None => "no tracked setups\n".to_string(),
        };
    }
    let body: Vec<[String; 14]> = rows.iter().map(cells).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = |i: usize| matches!(i, 0 | 4 | 5 | 6 | 9 | 10 | 11);
    let mut out = String::new();
    let header = HEADER.map(String::from);
    for row in std::iter::once(&header).chain(&body) {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = widths[i].saturating_sub(cell.chars().count());
                if numeric(i) {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
