//! `coach setups stats [--json] [--by kind|symbol|hour|confidence]… [--from D] [--to D]`
//! (SPEC 18, "Journal"): the statistics of the trader's own tracked setups — every attempt
//! that ended (target hit, stopped out, invalidated, expired), with the R booked from its
//! real fill and exit — computed by the same code as `coach backtest`'s (`stats`), printed
//! as the same table or JSON. An empty journal prints empty statistics and exits 0.

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::CliError;
use super::backtest::write_groups;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::stats::journal::journal;
use crate::stats::{Dimension, GroupRow, JournalRange};

/// The JSON fields, shown by `coach setups stats --help`.
const JSON_FIELDS: &str = "\
--json prints one object (SPEC 18's fields):
  from, to            the first and last New York date an attempt ended (or the range asked)
  symbols             the symbols with an ended attempt
  bars                null (the journal has no bars)
  sessions            symbol-sessions with an ended attempt
  slippage            null: the journal books its own fill and exit prices, no cost added
  costs               the same, in words
  by                  the dimensions split by
  groups              per group: kind, symbol, hour, regime (always null here), confidence,
                      detections, triggered, target_hit, stopped_out, time_exit, expired,
                      invalidated, wins, win_rate, win_rate_ci95, avg_r, avg_r_ci95, total_r,
                      profit_factor, max_drawdown_r, avg_mfe_r, avg_mae_r (null: not measured
                      live); a key a group is not split by is null
An attempt starts when a setup is tracked or reopened and ends at its target, its stop,
an invalidation or the close; open attempts are not counted.";

#[derive(Debug, Args)]
#[command(after_long_help = JSON_FIELDS)]
pub struct StatsArgs {
    /// One JSON object instead of the table (fields listed under `--help`).
    #[arg(long)]
    pub json: bool,
    /// Split the statistics by this (repeatable; default kind). An all-kinds split and
    /// the total follow.
    #[arg(long = "by", value_enum, value_name = "KEY")]
    pub by: Vec<JournalBy>,
    /// Only attempts that ended on or after this New York date (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Only attempts that ended on or before this New York date (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
}

/// What the journal can be split by (it knows no gamma regime).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JournalBy {
    Kind,
    Symbol,
    /// The hour bucket of the signal bar (New York time; the tracking time for a setup
    /// tracked by hand).
    Hour,
    /// The detection's confidence decile ("60-70"; "unknown" for a setup tracked by hand).
    Confidence,
}

impl JournalBy {
    fn dimension(self) -> Dimension {
        match self {
            JournalBy::Kind => Dimension::Kind,
            JournalBy::Symbol => Dimension::Symbol,
            JournalBy::Hour => Dimension::Hour,
            JournalBy::Confidence => Dimension::Confidence,
        }
    }
}

/// The JSON output: SPEC 18's report, for the journal.
#[derive(Serialize)]
struct Report {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    symbols: Vec<String>,
    bars: Option<u64>,
    sessions: u64,
    slippage: Option<f64>,
    costs: &'static str,
    by: Vec<&'static str>,
    groups: Vec<GroupRow>,
}

const COSTS: &str = "none added: the journal's own fill and exit prices";

pub fn run(args: StatsArgs, common: &CommonArgs) -> Result<(), CliError> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(CliError::Input(format!(
            "--from {from} is after --to {to}: no date to count"
        )));
    }
    let setups = with_store(common, |store, user| async move {
        crate::runtime::journal_stats::load(&store, user)
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))
    })?;
    let range = JournalRange {
        from: args.from,
        to: args.to,
    };
    let grouped = journal(&setups, range);
    // The dates, symbols and symbol-sessions of the counted attempts.
    let mut dates = BTreeSet::new();
    let mut symbols = BTreeSet::new();
    let mut sessions = BTreeSet::new();
    for entry in &setups {
        for t in crate::stats::journal::journal_trades(entry) {
            if range.covers(t.resolved_at) {
                dates.insert(crate::market::calendar::ny_date(t.resolved_at));
                symbols.insert(t.detection.symbol.to_string());
                sessions.insert((t.detection.symbol.to_string(), t.detection.market_date));
            }
        }
    }
    let mut dims: Vec<Dimension> = args.by.iter().map(|b| b.dimension()).collect();
    if dims.is_empty() {
        dims.push(Dimension::Kind);
    }
    dims.sort();
    dims.dedup();
    let report = Report {
        from: args.from.or(dates.first().copied()),
        to: args.to.or(dates.last().copied()),
        symbols: symbols.into_iter().collect(),
        bars: None,
        sessions: sessions.len() as u64,
        slippage: None,
        costs: COSTS,
        by: dims.iter().map(|d| d.as_str()).collect(),
        groups: grouped.groups(&dims),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_table(&mut out, &report, &dims, grouped.len())
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Runtime(format!(
            "writing the statistics failed: {e}"
        ))),
    }
}

fn write_table(
    out: &mut impl Write,
    report: &Report,
    dims: &[Dimension],
    attempts: usize,
) -> io::Result<()> {
    if attempts == 0 {
        writeln!(
            out,
            "no closed setups yet{}: track setups in the dashboard (`t` on a Scanner row); \
             each attempt that ends (target, stop, invalidation, close) counts here",
            match (report.from, report.to) {
                (None, None) => String::new(),
                (f, t) => format!(
                    " between {} and {}",
                    f.map_or("the start".into(), |d| d.to_string()),
                    t.map_or("today".into(), |d| d.to_string())
                ),
            }
        )?;
    } else {
        let range = match (report.from, report.to) {
            (Some(f), Some(t)) => format!("{f} → {t}"),
            _ => "all dates".into(),
        };
        writeln!(
            out,
            "coach setups stats · your journal · {} · {range} · {attempts} ended attempt(s) over {} symbol-session(s) · costs: {COSTS}",
            report.symbols.join(", "),
            report.sessions,
        )?;
    }
    write_groups(out, &report.groups, dims)
}
