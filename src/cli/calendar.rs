//! `coach calendar`: the NYSE regular sessions of a date range (SPEC 12).
//!
//! Output (stable): CSV with the header `date,open_utc,close_utc,early_close`, one row per
//! session in date order, instants in RFC 3339 UTC (`2026-11-27T14:30:00Z`) and
//! `early_close` as 0/1; or JSON, an array of objects with the same fields where
//! `early_close` is a boolean.

use std::io::{self, BufWriter, Write};

use chrono::{Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::CliError;
use crate::market::calendar::{self, Session, VERIFIED_YEARS};

/// List the NYSE regular sessions (open and close in UTC) between two New York dates.
#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// First date, YYYY-MM-DD (New York); default today in New York.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last date, inclusive, YYYY-MM-DD; default 30 days after --from.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CalendarFormat::Csv)]
    pub format: CalendarFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalendarFormat {
    Csv,
    Json,
}

/// Days listed when `--to` is not given.
const DEFAULT_SPAN_DAYS: i64 = 30;

#[derive(Serialize)]
struct Row {
    date: NaiveDate,
    open_utc: String,
    close_utc: String,
    early_close: bool,
}

impl From<&Session> for Row {
    fn from(s: &Session) -> Self {
        Row {
            date: s.date,
            open_utc: s.open.to_rfc3339_opts(SecondsFormat::Secs, true),
            close_utc: s.close.to_rfc3339_opts(SecondsFormat::Secs, true),
            early_close: s.early_close,
        }
    }
}

pub fn run(args: CalendarArgs) -> Result<(), CliError> {
    let from = match &args.from {
        Some(text) => parse_date("--from", text)?,
        None => calendar::ny_date(Utc::now()),
    };
    let to = match &args.to {
        Some(text) => parse_date("--to", text)?,
        None => from
            .checked_add_signed(Duration::days(DEFAULT_SPAN_DAYS))
            .ok_or_else(|| CliError::Input(format!("--from {from} is too late a date")))?,
    };
    if from > to {
        return Err(CliError::Input(format!(
            "--from {from} is after --to {to}; give an earliest date first"
        )));
    }
    if !VERIFIED_YEARS.contains(&from.year()) || !VERIFIED_YEARS.contains(&to.year()) {
        eprintln!(
            "coach: note: the calendar is verified for {}–{}; other years follow the holiday \
             rules only and may miss unscheduled closures",
            VERIFIED_YEARS.start(),
            VERIFIED_YEARS.end()
        );
    }
    let rows: Vec<Row> = calendar::sessions_between(from, to)
        .iter()
        .map(Row::from)
        .collect();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        CalendarFormat::Csv => write_csv(&mut out, &rows),
        CalendarFormat::Json => write_json(&mut out, &rows),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        // `coach calendar | head` closes the pipe early: not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Runtime(format!(
            "writing the calendar failed: {e}"
        ))),
    }
}

fn parse_date(flag: &str, text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::Input(format!(
            "{flag} {:?} is not a date; expected YYYY-MM-DD, e.g. 2026-11-27",
            crate::text::printable(text)
        ))
    })
}

fn write_csv(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    writeln!(out, "date,open_utc,close_utc,early_close")?;
    for row in rows {
        writeln!(
            out,
            "{},{},{},{}",
            row.date,
            row.open_utc,
            row.close_utc,
            u8::from(row.early_close)
        )?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, rows)?;
    writeln!(out)
}
