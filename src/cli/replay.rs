//! `coach replay`: runs the detector engine over recorded bars (SPEC 12) and prints every
//! detection in bar order: JSON lines (the fields of SPEC 4), CSV, or a table to check by
//! hand. The same `detect::Engine` code runs here as in the app.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};

use super::CliError;
use super::replay_engine::{
    FeedError, FeedOrder, input_error, open_chains, open_input, report_stream, report_unused_chains,
};
use crate::detect::{BarOutcome, DetectorsConfig, Engine, MissingInput, priming};
use crate::domain::{Bar, Detection, Symbol};
use crate::market::calendar::NEW_YORK;
use crate::market::state::MarketState;
use crate::provider::bar_files::ReplayInput;
use crate::provider::chain_files::ChainSchedule;

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

/// All bars of all symbols in feeding order (the shared priming's: by start, a volume
/// proxy before the index that reads it, then by symbol). Replay and the backtest stream
/// this order from the files (`provider::bar_files::stream`); this whole-input form is
/// what tests compare the stream with.
pub fn feeding_order<'a>(
    config: &DetectorsConfig,
    minute: &'a BTreeMap<Symbol, Vec<Bar>>,
) -> Vec<(&'a Symbol, &'a Bar)> {
    let mut all: Vec<(&Symbol, &Bar)> = minute
        .iter()
        .flat_map(|(s, bars)| bars.iter().map(move |b| (s, b)))
        .collect();
    priming::sort_for_feeding(config, &mut all);
    all
}

pub fn run(args: ReplayArgs) -> Result<(), CliError> {
    let mut notes = |note: String| eprintln!("coach: {note}");
    let (mut engine, mut stream) = open_input(
        &args.bars,
        &args.daily,
        args.symbol.as_deref(),
        &args.index,
        &mut notes,
    )?;
    let mut chains = open_chains(&args.chain, &stream)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = replay(&mut engine, &mut stream, &mut chains, args.format, &mut out)
        .and_then(|s| out.flush().map(|()| s).map_err(FeedError::Feed));
    report_stream(&stream, args.verbose, &mut notes);
    report_unused_chains(&chains, &mut notes);
    match result {
        Ok(summary) => {
            eprintln!(
                "coach: replayed {} bars of {} symbol(s) ({} in regular sessions): {} detection(s)",
                summary.bars,
                stream.symbols_fed(),
                summary.regular,
                summary.detections
            );
            for line in summary.missing.lines() {
                eprintln!("coach: {line}");
            }
            Ok(())
        }
        Err(FeedError::Feed(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(FeedError::Feed(e)) => {
            Err(CliError::Runtime(format!("writing detections failed: {e}")))
        }
        Err(FeedError::Input(e)) => Err(input_error(e)),
    }
}

pub(super) struct Summary {
    /// Bars fed.
    bars: usize,
    regular: usize,
    detections: usize,
    /// Detectors silenced for a session by a missing input.
    missing: MissingGroups,
}

/// Detectors silenced by a missing input, one entry per symbol and detector: the first
/// session's note, the last session's date and how many sessions it held for, so a year
/// of replay holds (and prints) a line per symbol and detector, not per session.
#[derive(Default)]
pub(super) struct MissingGroups {
    groups: Vec<(MissingInput, NaiveDate, usize)>,
}

impl MissingGroups {
    fn add(&mut self, note: MissingInput) {
        match self
            .groups
            .iter_mut()
            .find(|(first, _, _)| first.symbol == note.symbol && first.kind == note.kind)
        {
            Some((_, last, count)) => {
                *last = note.market_date;
                *count += 1;
            }
            None => self.groups.push((note.clone(), note.market_date, 1)),
        }
    }

    /// "gamma_squeeze on SPY 2013-10-04: no GEX profile (and 5 more sessions to
    /// 2013-10-11)", in the order first met.
    fn lines(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|(first, last, count)| match count {
                1 => first.to_string(),
                n => format!(
                    "{first} (and {} more session{} to {last})",
                    n - 1,
                    if *n == 2 { "" } else { "s" },
                ),
            })
            .collect()
    }
}

/// Feeds `bars` through the engine, writing each detection to `out` in `format`.
pub(super) fn replay(
    engine: &mut Engine,
    bars: &mut impl FeedOrder,
    chains: &mut ChainSchedule,
    format: ReplayFormat,
    out: &mut impl Write,
) -> Result<Summary, FeedError<io::Error>> {
    let mut detections = Vec::new();
    let mut summary = Summary {
        bars: 0,
        regular: 0,
        detections: 0,
        missing: MissingGroups::default(),
    };
    // The session last headed in the table, per symbol.
    let mut sessions: HashMap<Symbol, NaiveDate> = HashMap::new();
    match format {
        ReplayFormat::Csv => writeln!(out, "{CSV_HEADER}"),
        ReplayFormat::Table => writeln!(out, "{}", table_header()),
        ReplayFormat::Jsonl => Ok(()),
    }
    .map_err(FeedError::Feed)?;
    summary.bars = bars.drive("replay", |symbol, bar| -> io::Result<()> {
        detections.clear();
        chains.before_bar(engine, symbol, bar);
        let outcome = engine.on_bar(symbol, bar, &mut detections);
        if outcome != BarOutcome::Regular {
            return Ok(());
        }
        for note in engine.take_missing_inputs() {
            summary.missing.add(note);
        }
        summary.regular += 1;
        if format == ReplayFormat::Table
            && let Some(market) = engine.market(symbol)
            && let Some(day) = market.day()
            && sessions.get(symbol) != Some(&day.date)
        {
            sessions.insert(symbol.clone(), day.date);
            writeln!(out, "{}", session_line(symbol, day.date, market))?;
        }
        for d in &detections {
            match format {
                ReplayFormat::Jsonl => {
                    serde_json::to_writer(&mut *out, &crate::json_round::rounded(d)?)?;
                    writeln!(out)?;
                }
                ReplayFormat::Csv => writeln!(out, "{}", csv_row(d))?,
                ReplayFormat::Table => writeln!(out, "{}", table_row(d))?,
            }
        }
        summary.detections += detections.len();
        Ok(())
    })?;
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
/// One detection as CSV, prices to the cent (as in the JSON).
pub fn csv_row(d: &Detection) -> String {
    use crate::json_round::{PRICE_DECIMALS, round_to};
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        d.symbol,
        d.kind,
        d.direction,
        d.confidence,
        round_to(d.entry, PRICE_DECIMALS),
        round_to(d.stop, PRICE_DECIMALS),
        round_to(d.target, PRICE_DECIMALS),
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
            gex: None,
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
