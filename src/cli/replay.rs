//! `coach replay`: runs the detector engine over recorded bars (SPEC 12) and prints every
//! detection in bar order: JSON lines (the fields of SPEC 4), CSV, or a table to check by
//! hand. The same `detect::Engine` code runs here as in the app.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};

use super::CliError;
use super::replay_engine::Progress;
use crate::detect::{BarOutcome, DetectorsConfig, Engine, MissingInput};
use crate::domain::{Bar, Detection, Symbol};
use crate::market::calendar::NEW_YORK;
use crate::market::state::MarketState;
use crate::provider::bar_files::{BarFileError, ReplayInput, load_files};
use crate::provider::chain_files::{ChainSchedule, load_chains};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Bar files (CSV, `;` or tab separated, optionally .gz; minute or daily, one symbol
    /// or a ticker column), or directories of them (`<SYMBOL>_1min*.csv`,
    /// `<SYMBOL>_1day*.csv`, …): a directory's unreadable files are named and skipped.
    #[arg(long, num_args = 1.., required = true, value_name = "FILE|DIR")]
    pub bars: Vec<PathBuf>,
    /// Daily-bar files (a date column named date, Date or timestamp; any layout --bars
    /// reads) for the prior day, the official prior close and ATR(14).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub daily: Vec<PathBuf>,
    /// The symbol of all given files, instead of the file-name prefix before the first `_`.
    #[arg(long, value_name = "S")]
    pub symbol: Option<String>,
    /// Treat these symbols as indices too (opening_drive runs on them; ETF gap threshold).
    #[arg(long, num_args = 1.., value_name = "S")]
    pub index: Vec<String>,
    /// Option-chain files (CBOE CSV or JSON, Massive snapshot): each one's GEX profile is
    /// given to the detectors from its snapshot time through the close of its session.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReplayFormat::Jsonl)]
    pub format: ReplayFormat,
    /// Print each file's detected layout on stderr (symbols, minute or daily, delimiter,
    /// time column and its kind, columns used, rows).
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// One JSON object per detection per line.
    Jsonl,
    /// A header line and one row per detection.
    Csv,
    /// An aligned table with each session's levels, for reading.
    Table,
}

fn input(e: BarFileError) -> CliError {
    CliError::Input(e.to_string())
}

fn parse_symbol(flag: &str, text: &str) -> Result<Symbol, CliError> {
    Symbol::parse(text).map_err(|e| CliError::Input(format!("{flag}: {e}")))
}

/// Reads the files named by `--bars` and `--daily`.
pub fn load(args: &ReplayArgs) -> Result<ReplayInput, CliError> {
    let forced = args
        .symbol
        .as_deref()
        .map(|s| parse_symbol("--symbol", s))
        .transpose()?;
    let data = load_files(&args.bars, &args.daily, forced.as_ref()).map_err(input)?;
    report_files(&data, args.verbose);
    Ok(data)
}

/// On stderr: each file of a directory that was skipped (file:line and what is wrong),
/// and with `verbose` what was detected in each file read.
pub fn report_files(data: &ReplayInput, verbose: bool) {
    for skipped in &data.skipped {
        eprintln!("coach: skipped {skipped}");
    }
    if verbose {
        for file in &data.files {
            eprintln!("coach: {file}");
        }
    }
}

/// All bars of all symbols in feeding order: by start, a volume proxy before the index
/// that reads it, then by symbol.
pub fn feeding_order<'a>(
    config: &DetectorsConfig,
    minute: &'a BTreeMap<Symbol, Vec<Bar>>,
) -> Vec<(&'a Symbol, &'a Bar)> {
    let is_proxy = |s: &Symbol| config.volume_proxies.values().any(|p| p == s);
    let mut all: Vec<(&Symbol, &Bar)> = minute
        .iter()
        .flat_map(|(s, bars)| bars.iter().map(move |b| (s, b)))
        .collect();
    all.sort_by(|a, b| {
        a.1.start
            .cmp(&b.1.start)
            .then_with(|| is_proxy(b.0).cmp(&is_proxy(a.0)))
            .then_with(|| a.0.cmp(b.0))
    });
    all
}

pub fn run(args: ReplayArgs) -> Result<(), CliError> {
    let data = load(&args)?;
    let mut chains =
        ChainSchedule::new(load_chains(&args.chain, &data.minute).map_err(CliError::Input)?);
    let mut engine = super::replay_engine::primed_engine(&args.index, &data)?;
    let order = feeding_order(engine.config(), &data.minute);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = replay(&mut engine, &mut chains, &order, args.format, &mut out).and_then(|s| {
        out.flush()?;
        Ok(s)
    });
    match result {
        Ok(summary) => {
            eprintln!(
                "coach: replayed {} bars of {} symbol(s) ({} in regular sessions): {} detection(s)",
                order.len(),
                data.minute.len(),
                summary.regular,
                summary.detections
            );
            for line in missing_input_lines(&summary.missing) {
                eprintln!("coach: {line}");
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Runtime(format!("writing detections failed: {e}"))),
    }
}

struct Summary {
    regular: usize,
    detections: usize,
    /// Detectors silenced for a session by a missing input, in the order reported.
    missing: Vec<MissingInput>,
}

/// The summary's lines for detectors silenced by a missing input: one per symbol and
/// detector, naming the first session's reason and how many sessions it held for
/// ("gamma_squeeze on SPY 2013-10-04: no GEX profile (and 5 more sessions to 2013-10-11)"),
/// so a year of replay does not print a line per session.
fn missing_input_lines(notes: &[MissingInput]) -> Vec<String> {
    let mut groups: Vec<(&MissingInput, &MissingInput, usize)> = Vec::new();
    for note in notes {
        match groups
            .iter_mut()
            .find(|(first, _, _)| first.symbol == note.symbol && first.kind == note.kind)
        {
            Some((_, last, count)) => {
                *last = note;
                *count += 1;
            }
            None => groups.push((note, note, 1)),
        }
    }
    groups
        .into_iter()
        .map(|(first, last, count)| match count {
            1 => first.to_string(),
            n => format!(
                "{first} (and {} more session{} to {})",
                n - 1,
                if n == 2 { "" } else { "s" },
                last.market_date
            ),
        })
        .collect()
}

fn replay(
    engine: &mut Engine,
    chains: &mut ChainSchedule,
    order: &[(&Symbol, &Bar)],
    format: ReplayFormat,
    out: &mut impl Write,
) -> io::Result<Summary> {
    let progress = Progress::new("replay", order.len());
    let mut detections = Vec::new();
    let mut summary = Summary {
        regular: 0,
        detections: 0,
        missing: Vec::new(),
    };
    let mut sessions: BTreeMap<&Symbol, NaiveDate> = BTreeMap::new();
    match format {
        ReplayFormat::Csv => writeln!(out, "{CSV_HEADER}")?,
        ReplayFormat::Table => writeln!(out, "{}", table_header())?,
        ReplayFormat::Jsonl => {}
    }
    for (n, (symbol, bar)) in order.iter().enumerate() {
        progress.at(n);
        detections.clear();
        chains.before_bar(engine, symbol, bar);
        let outcome = engine.on_bar(symbol, bar, &mut detections);
        if outcome != BarOutcome::Regular {
            continue;
        }
        summary.missing.extend(engine.take_missing_inputs());
        summary.regular += 1;
        if format == ReplayFormat::Table
            && let Some(market) = engine.market(symbol)
            && let Some(day) = market.day()
            && sessions.insert(symbol, day.date) != Some(day.date)
        {
            writeln!(out, "{}", session_line(symbol, day.date, market))?;
        }
        for d in &detections {
            match format {
                ReplayFormat::Jsonl => {
                    serde_json::to_writer(&mut *out, d)?;
                    writeln!(out)?;
                }
                ReplayFormat::Csv => writeln!(out, "{}", csv_row(d))?,
                ReplayFormat::Table => writeln!(out, "{}", table_row(d))?,
            }
        }
        summary.detections += detections.len();
    }
    progress.done();
    Ok(summary)
}

/// The CSV columns, in the order of SPEC 4.
pub const CSV_HEADER: &str = "symbol,kind,direction,confidence,entry,stop,target,detected_at,bar_time,market_date,dedup_key,rationale";

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One detection as a CSV row.
pub fn csv_row(d: &Detection) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        d.symbol,
        d.kind,
        d.direction,
        d.confidence,
        d.entry,
        d.stop,
        d.target,
        utc(d.detected_at),
        utc(d.bar_time),
        d.market_date,
        csv_field(&d.dedup_key),
        csv_field(&d.rationale)
    )
}

fn table_header() -> String {
    format!(
        "{:<11} {:<6} {:<13} {:<5} {:>4} {:>10} {:>10} {:>10} {:>5}  {}",
        "bar (ET)", "symbol", "kind", "dir", "conf", "entry", "stop", "target", "R", "why"
    )
}

/// One detection as an aligned table row; the bar time is New York time.
pub fn table_row(d: &Detection) -> String {
    let ny = d.bar_time.with_timezone(&NEW_YORK);
    format!(
        "{:<11} {:<6} {:<13} {:<5} {:>4} {:>10} {:>10} {:>10} {:>5.1}  {}",
        ny.format("%m-%d %H:%M"),
        d.symbol.as_str(),
        d.kind.as_str(),
        d.direction.as_str(),
        d.confidence,
        format!("{:.2}", d.entry),
        format!("{:.2}", d.stop),
        format!("{:.2}", d.target),
        d.reward_risk(),
        crate::text::printable(&d.rationale)
    )
}

fn price(p: f64) -> String {
    format!("{p:.2}")
}

/// The levels a session starts with, as the detectors see them: nothing is invented
/// when the prior day or ATR is unknown.
pub fn session_line(symbol: &Symbol, date: NaiveDate, market: &MarketState) -> String {
    let prior = match market.prior_day() {
        Some(p) => format!(
            "prior day {} H {} L {} C {} ({}){}",
            p.date,
            price(p.high),
            price(p.low),
            price(p.close),
            p.source.as_str(),
            if p.close_source == p.source {
                String::new()
            } else {
                format!(" · close from the {}", p.close_source.as_str())
            }
        ),
        None => "prior day unknown (no minute bars or valid daily bar for it): detectors that need it are silent".to_string(),
    };
    let pivots = market
        .pivots()
        .map(|p| {
            format!(
                " · pivots P {} R1 {} R2 {} S1 {} S2 {}",
                price(p.p),
                price(p.r1),
                price(p.r2),
                price(p.s1),
                price(p.s2)
            )
        })
        .unwrap_or_default();
    let pre = match market.pre_market() {
        Some((h, l)) => format!(" · pre-market H {} L {}", price(h), price(l)),
        None => " · no pre-market bars".to_string(),
    };
    let atr = match market.daily_atr() {
        Some(a) => format!(" · daily ATR(14) {}", price(a)),
        None => " · daily ATR(14) unknown (fewer than 15 daily bars)".to_string(),
    };
    format!("── {symbol} {date}: {prior}{pivots}{pre}{atr}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Direction, SetupKind};

    #[test]
    fn csv_rows_quote_rationales_with_commas_and_quotes() {
        let d = Detection {
            symbol: Symbol::parse("SPY").unwrap(),
            kind: SetupKind::GapFill,
            direction: Direction::Short,
            confidence: 70,
            entry: 168.42,
            stop: 169.1,
            target: 167.0,
            detected_at: DateTime::parse_from_rfc3339("2013-10-04T13:41:00Z")
                .unwrap()
                .with_timezone(&Utc),
            bar_time: DateTime::parse_from_rfc3339("2013-10-04T13:40:00Z")
                .unwrap()
                .with_timezone(&Utc),
            market_date: NaiveDate::from_ymd_opt(2013, 10, 4).unwrap(),
            dedup_key: "gap 168.50 from 167.43".into(),
            rationale: "Gapped up, \"hard\"".into(),
        };
        assert_eq!(
            csv_row(&d),
            "SPY,gap_fill,short,70,168.42,169.1,167,2013-10-04T13:41:00Z,2013-10-04T13:40:00Z,2013-10-04,gap 168.50 from 167.43,\"Gapped up, \"\"hard\"\"\""
        );
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_row(&Detection {
                rationale: "x".into(),
                ..d.clone()
            })
            .split(',')
            .count()
        );
        assert!(table_row(&d).starts_with(
            "10-04 09:40 SPY    gap_fill      short   70     168.42     169.10     167.00"
        ));
    }
}
