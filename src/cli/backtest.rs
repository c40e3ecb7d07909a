//! `coach backtest` (SPEC 18): every detection `coach replay` finds on the same input (the
//! same engine, primed the same way: `cli::replay_engine`) is run through the section 5
//! lifecycle on its session's following regular minute bars (`stats::simulate`), then
//! grouped and summarised (`stats::group`, `stats::summary`): a table, JSON or CSV on
//! stdout, and the per-trade records as JSON lines with `--trades`.
//!
//! `--store` keeps the run and its groups per kind, per (kind, symbol), per symbol and in
//! total in the database, replacing the earlier run (`store::backtest`): what the
//! Scanner's edge column and the auto-tracker read. The dashboard's and `coach serve`'s
//! scheduled run (`runtime::backtest`) runs the same code through [`stored_statistics`].
//!
//! The bar files are streamed in feeding order (`replay_engine::open_input`) and sessions
//! are backtested one symbol-session at a time, as soon as the feed moves past them: only
//! the open session of each symbol is buffered, so memory is flat in the number of
//! sessions.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::dashboard::CommonArgs;
use super::replay_engine::{
    FeedError, FeedOrder, Quiet, input_error, open_chains, open_input, report_stream,
    report_unused_chains,
};
use super::{CliError, calibrate};
use crate::config::check_slippage;
use crate::detect::{BarOutcome, Engine};
use crate::domain::{Bar, Detection, SetupKind, Symbol};
use crate::gex::GexContext;
use crate::market::calendar::ny_date;
use crate::provider::chain_files::ChainSchedule;
use crate::stats::calibrate::Sample;
use crate::stats::edge::edge_groups;
use crate::stats::{Dimension, GroupRow, GroupedTrades, TradeRecord, simulate_session};
use crate::store::{BacktestRun, SOURCE_CLI};

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Minute-bar CSV files, or directories holding `<SYMBOL>_1min*.csv` and
    /// `<SYMBOL>_1day*.csv` files (as `coach replay --bars`).
    #[arg(long, num_args = 1.., required = true, value_name = "FILE|DIR")]
    pub bars: Vec<PathBuf>,
    /// Daily-bar CSV files (`date,open,high,low,close[,volume]`) for the prior day and ATR(14).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub daily: Vec<PathBuf>,
    /// The symbol of all given files, instead of the file-name prefix (as `coach replay`).
    #[arg(long, value_name = "S")]
    pub symbol: Option<String>,
    /// Option-chain files (as `coach replay --chain`): detections made while a chain is in
    /// force (its session, from its snapshot time) record its gamma regime and signed
    /// distances to zero gamma and the nearest wall (`--by regime`).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
    /// Treat these symbols as indices too (as `coach replay --index`).
    #[arg(long, num_args = 1.., value_name = "S")]
    pub index: Vec<String>,
    /// First session to backtest (New York date, YYYY-MM-DD); earlier bars still prime
    /// the detectors.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Last session to backtest (New York date, inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// Backtest only these symbols (`SPY QQQ` or `SPY,QQQ`); the others still feed the
    /// detectors (an index reads its ETF proxy's volume).
    #[arg(long, num_args = 1.., value_name = "SYMBOL")]
    pub symbols: Vec<String>,
    /// Backtest only these setup kinds (comma-separated, e.g. `gap_fill,orb_breakout`).
    #[arg(long, value_delimiter = ',', value_name = "K,...")]
    pub kinds: Vec<String>,
    /// Split the statistics by this (repeatable; default kind). An all-kinds split and
    /// the total follow.
    #[arg(long = "by", value_enum, value_name = "KEY")]
    pub by: Vec<GroupBy>,
    /// Slippage in price units per side, worsening every fill and exit; default
    /// `[backtest] slippage` (0.01).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub slippage: Option<f64>,
    #[arg(long, value_enum, default_value_t = BacktestFormat::Table)]
    pub format: BacktestFormat,
    /// Write every backtested detection to FILE as JSON lines (the detection's fields,
    /// outcome, fill, exit, R, MFE/MAE, bars held, hour bucket, and the GEX context when
    /// one was known).
    #[arg(long, value_name = "FILE")]
    pub trades: Option<PathBuf>,
    /// Keep the statistics per kind and per (kind, symbol) in the database (`--db`),
    /// replacing the earlier stored run: the Scanner's edge column and auto-tracking
    /// read them.
    #[arg(long)]
    pub store: bool,
    /// Calibrate the confidence score: per kind, fit a monotone map from the raw score to
    /// the win rate of filled trades (isotonic regression) on the sessions before --split,
    /// report the Brier score (raw and calibrated) and a reliability table on the sessions
    /// from --split on, and store the maps as a new version in the database (the
    /// dashboard then shows calibrated scores; the raw score is kept). Table or JSON only.
    #[arg(long, requires = "split")]
    pub calibrate: bool,
    /// With --calibrate: the first session the maps are judged on (New York date); they
    /// are fitted on the earlier sessions only.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "calibrate")]
    pub split: Option<NaiveDate>,
    /// With --calibrate: the filled trades before --split a kind needs for a map; kinds
    /// with fewer keep their raw score (a map fitted on a few trades says 0 % or 100 %).
    #[arg(long, value_name = "N", default_value_t = 30, requires = "calibrate",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub min_fit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    Kind,
    Symbol,
    /// The signal bar's hour bucket (New York time).
    Hour,
    /// The gamma regime at detection ("unknown" when no GEX profile was known).
    Regime,
    /// The confidence decile ("60-70").
    Confidence,
}

impl GroupBy {
    fn dimension(self) -> Dimension {
        match self {
            GroupBy::Kind => Dimension::Kind,
            GroupBy::Symbol => Dimension::Symbol,
            GroupBy::Hour => Dimension::Hour,
            GroupBy::Regime => Dimension::Regime,
            GroupBy::Confidence => Dimension::Confidence,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BacktestFormat {
    /// Aligned columns with n beside every rate.
    Table,
    /// One JSON object (SPEC 18).
    Json,
    /// A header line and one row per group.
    Csv,
}

/// What the flags ask for, checked.
pub(super) struct Scope {
    pub(super) from: Option<NaiveDate>,
    pub(super) to: Option<NaiveDate>,
    pub(super) symbols: BTreeSet<Symbol>,
    pub(super) kinds: BTreeSet<SetupKind>,
    pub(super) slippage: f64,
}

impl Scope {
    fn covers(&self, symbol: &Symbol, date: NaiveDate) -> bool {
        (self.symbols.is_empty() || self.symbols.contains(symbol))
            && self.from.is_none_or(|f| date >= f)
            && self.to.is_none_or(|t| date <= t)
    }

    fn keeps(&self, d: &Detection) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&d.kind)
    }
}

fn scope(args: &BacktestArgs, common: &CommonArgs) -> Result<Scope, CliError> {
    let slippage = match args.slippage {
        Some(p) => {
            check_slippage(p).map_err(|e| CliError::Input(format!("--slippage: {e}")))?;
            p
        }
        None => common.load_config()?.backtest.slippage,
    };
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(CliError::Input(format!(
            "--from {from} is after --to {to}: no session to backtest"
        )));
    }
    let symbols = crate::store::parse_symbols(&args.symbols)
        .map_err(|e| CliError::Input(format!("--symbols: {e}")))?
        .into_iter()
        .collect();
    let kinds = args
        .kinds
        .iter()
        .map(|k| {
            k.trim().parse::<SetupKind>().map_err(|e| {
                let known: Vec<&str> = SetupKind::ALL.iter().map(|k| k.as_str()).collect();
                CliError::Input(format!("--kinds: {e} (kinds: {})", known.join(", ")))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Scope {
        from: args.from,
        to: args.to,
        symbols,
        kinds,
        slippage,
    })
}

/// One symbol's session being fed: its regular bars and detections so far.
struct OpenSession {
    date: NaiveDate,
    bars: Vec<Bar>,
    detections: Vec<Detection>,
}

/// The streaming part of the run: buffers each symbol's open session, backtests it when
/// the feed leaves it, and keeps what the summary needs.
pub(super) struct Backtest<'a> {
    scope: &'a Scope,
    open: BTreeMap<Symbol, OpenSession>,
    grouped: GroupedTrades,
    trades: Option<(String, BufWriter<File>)>,
    symbols: BTreeSet<Symbol>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    bars: u64,
    sessions: u64,
    untrackable: u64,
    /// Notes go to the log instead of stderr (the scheduled run under the dashboard).
    quiet: bool,
    /// Filled trades as calibration sees them, kept only with `--calibrate`.
    samples: Option<Vec<Sample>>,
}

impl Backtest<'_> {
    /// A regular bar of `symbol` and the detections it produced.
    fn on_regular_bar(
        &mut self,
        symbol: &Symbol,
        bar: &Bar,
        detections: &[Detection],
    ) -> Result<(), CliError> {
        let date = ny_date(bar.start);
        if self.open.get(symbol).is_some_and(|s| s.date != date)
            && let Some(done) = self.open.remove(symbol)
        {
            self.close_session(symbol, done)?;
        }
        if !self.scope.covers(symbol, date) {
            return Ok(());
        }
        let session = self
            .open
            .entry(symbol.clone())
            .or_insert_with(|| OpenSession {
                date,
                bars: Vec::with_capacity(390),
                detections: Vec::new(),
            });
        session.bars.push(*bar);
        session
            .detections
            .extend(detections.iter().filter(|d| self.scope.keeps(d)).cloned());
        Ok(())
    }

    fn close_session(&mut self, symbol: &Symbol, session: OpenSession) -> Result<(), CliError> {
        self.sessions += 1;
        self.bars += session.bars.len() as u64;
        self.symbols.insert(symbol.clone());
        self.first = Some(self.first.map_or(session.date, |d| d.min(session.date)));
        self.last = Some(self.last.map_or(session.date, |d| d.max(session.date)));
        let results = simulate_session(&session.bars, &session.detections, self.scope.slippage);
        for (result, detection) in results.into_iter().zip(&session.detections) {
            match result {
                Ok(trade) => {
                    self.grouped.push(&trade);
                    if let (Some(samples), Some(r)) = (&mut self.samples, trade.r) {
                        samples.push(Sample {
                            kind: detection.kind,
                            score: detection.confidence,
                            won: r > 0.0,
                            market_date: detection.market_date,
                        });
                    }
                    self.write_trade(&trade)?;
                }
                Err(e) => {
                    self.untrackable += 1;
                    let note = format!(
                        "{} {} detected at {} cannot be tracked: {e}",
                        detection.symbol, detection.kind, detection.detected_at
                    );
                    if self.quiet {
                        tracing::debug!("backtest: {note}");
                    } else {
                        eprintln!("coach: note: {note}");
                    }
                }
            }
        }
        Ok(())
    }

    fn write_trade(&mut self, trade: &TradeRecord) -> Result<(), CliError> {
        let Some((name, out)) = &mut self.trades else {
            return Ok(());
        };
        // At the precision the numbers mean, like every JSON output (`json_round`).
        crate::json_round::rounded(trade)
            .and_then(|rounded| serde_json::to_writer(&mut *out, &rounded))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(|e| CliError::Runtime(format!("writing {name} failed: {e}")))
    }

    /// Backtests the sessions still open at the end of the feed.
    fn finish(&mut self) -> Result<(), CliError> {
        for (symbol, session) in std::mem::take(&mut self.open) {
            self.close_session(&symbol, session)?;
        }
        if let Some((name, out)) = &mut self.trades {
            out.flush()
                .map_err(|e| CliError::Runtime(format!("writing {name} failed: {e}")))?;
        }
        Ok(())
    }
}

/// The JSON output (SPEC 18).
#[derive(Serialize)]
pub(super) struct Report<'a> {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    symbols: Vec<&'a str>,
    /// Regular-session minute bars of the backtested symbol-sessions.
    bars: u64,
    /// Symbol-sessions backtested.
    sessions: u64,
    /// Price units per side, applied to every fill and exit.
    slippage: f64,
    /// The costs applied, in words.
    costs: String,
    by: Vec<&'static str>,
    groups: Vec<GroupRow>,
    /// With `--calibrate`: the maps stored and their out-of-sample report.
    #[serde(skip_serializing_if = "Option::is_none")]
    calibration: Option<calibrate::CalibrationOutput>,
}

impl Backtest<'_> {
    /// The run as stored: its range, symbols and costs, stamped with this version.
    fn stored_run(&self, source: &str) -> BacktestRun {
        BacktestRun {
            ran_at: chrono::Utc::now(),
            from: self.first,
            to: self.last,
            symbols: self
                .symbols
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            bars: self.bars,
            sessions: self.sessions,
            slippage: self.scope.slippage,
            version: env!("CARGO_PKG_VERSION").to_string(),
            source: source.to_string(),
        }
    }
}

/// The run and the groups to store of a backtest over `bars` (files or directories, as
/// `--bars`) with `slippage` per side: what the scheduled run keeps. Quiet: notes go to
/// the log and no progress is drawn (the dashboard owns the terminal).
pub fn stored_statistics(
    bars: &[PathBuf],
    slippage: f64,
    source: &str,
) -> Result<(BacktestRun, Vec<GroupRow>), String> {
    check_slippage(slippage).map_err(|e| format!("[backtest] slippage: {e}"))?;
    let scope = Scope {
        from: None,
        to: None,
        symbols: BTreeSet::new(),
        kinds: BTreeSet::new(),
        slippage,
    };
    let mut log = |note: String| tracing::info!("backtest: {note}");
    let (mut engine, mut stream) =
        open_input(bars, &[], None, &[], &mut log).map_err(|e| e.to_string())?;
    let options = Options {
        quiet: true,
        calibrate: false,
    };
    let (backtest, _) = backtest(
        &mut engine,
        &mut Quiet(&mut stream),
        &mut ChainSchedule::default(),
        &scope,
        None,
        options,
    )
    .map_err(|e| e.to_string())?;
    report_stream(&stream, false, &mut log);
    Ok((backtest.stored_run(source), edge_groups(&backtest.grouped)))
}

pub fn run(args: BacktestArgs, common: &CommonArgs) -> Result<(), CliError> {
    let scope = scope(&args, common)?;
    if args.calibrate && args.format == BacktestFormat::Csv {
        return Err(CliError::Input(
            "--calibrate prints a table or JSON (--format table|json): CSV has no place for \
             its reliability table"
                .into(),
        ));
    }
    let mut notes = |note: String| eprintln!("coach: {note}");
    let (mut engine, mut stream) = open_input(
        &args.bars,
        &args.daily,
        args.symbol.as_deref(),
        &args.index,
        &mut notes,
    )?;
    let trades = match &args.trades {
        Some(path) => {
            let name = path.display().to_string();
            let file = File::create(path).map_err(|e| {
                CliError::Input(format!("--trades {name}: cannot create the file: {e}"))
            })?;
            Some((name, BufWriter::new(file)))
        }
        None => None,
    };
    let options = Options {
        quiet: false,
        calibrate: args.calibrate,
    };
    let mut chains = open_chains(&args.chain, &stream)?;
    let (backtest, fed) = backtest(
        &mut engine,
        &mut stream,
        &mut chains,
        &scope,
        trades,
        options,
    )?;
    report_stream(&stream, false, &mut notes);
    report_unused_chains(&chains, &mut notes);
    let mut report = report(&backtest, &scope, &args.by);
    report.calibration = match (&backtest.samples, args.split) {
        (Some(samples), Some(split)) => Some(calibrate::run(
            common,
            samples,
            split,
            args.min_fit as usize,
        )?),
        _ => None,
    };
    let dims = report_dims(&args.by);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        // Prices to the cent, R, rates and Brier scores to four decimals (`json_round`).
        BacktestFormat::Json => crate::json_round::rounded(&report)
            .and_then(|rounded| serde_json::to_writer_pretty(&mut out, &rounded))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        BacktestFormat::Csv => write_csv(&mut out, &report.groups),
        BacktestFormat::Table => {
            write_table(&mut out, &report, &dims).and_then(|()| match &report.calibration {
                Some(c) => calibrate::write_table(&mut out, c),
                None => Ok(()),
            })
        }
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            // the reader stopped early (`| head`): what was asked to be kept still is
            if args.store {
                store(&backtest, common)?;
            }
            return Ok(());
        }
        Err(e) => {
            return Err(CliError::Runtime(format!(
                "writing the statistics failed: {e}"
            )));
        }
    }
    let untrackable = if backtest.untrackable > 0 {
        format!(
            " ({} detection(s) with an unordered plan left out)",
            backtest.untrackable
        )
    } else {
        String::new()
    };
    eprintln!(
        "coach: backtested {} detection(s) over {} symbol-session(s), {} regular bars of {} fed{untrackable}",
        backtest.grouped.len(),
        backtest.sessions,
        backtest.bars,
        fed
    );
    if args.store {
        store(&backtest, common)?;
    }
    Ok(())
}

/// `--store`: keeps the run and its kind / (kind, symbol) groups in the database.
fn store(backtest: &Backtest, common: &CommonArgs) -> Result<(), CliError> {
    let run = backtest.stored_run(SOURCE_CLI);
    let rows = edge_groups(&backtest.grouped);
    let saved = rows.len();
    super::setups::with_store(common, |store, _user| async move {
        store
            .save_backtest_stats(&run, &rows)
            .await
            .map_err(|e| CliError::Runtime(format!("--store: {e}")))
    })?;
    eprintln!(
        "coach: stored {saved} group(s) per kind and per (kind, symbol); they replace the earlier stored run"
    );
    Ok(())
}

/// How a run reports: `quiet` sends its notes to the log (the scheduled run under the
/// dashboard); `calibrate` keeps the filled trades calibration needs.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Options {
    pub quiet: bool,
    pub calibrate: bool,
}

/// Feeds `bars` through the engine and backtests each symbol-session as the feed leaves
/// it; the statistics so far and the number of bars fed.
pub(super) fn backtest<'s>(
    engine: &mut Engine,
    bars: &mut impl FeedOrder,
    chains: &mut ChainSchedule,
    scope: &'s Scope,
    trades: Option<(String, BufWriter<File>)>,
    options: Options,
) -> Result<(Backtest<'s>, usize), CliError> {
    let mut backtest = Backtest {
        scope,
        open: BTreeMap::new(),
        grouped: GroupedTrades::new(),
        trades,
        symbols: BTreeSet::new(),
        first: None,
        last: None,
        bars: 0,
        sessions: 0,
        untrackable: 0,
        quiet: options.quiet,
        samples: options.calibrate.then(Vec::new),
    };
    let mut detections = Vec::new();
    let fed = bars
        .drive("backtest", |symbol, bar| {
            detections.clear();
            chains.before_bar(engine, symbol, bar);
            if engine.on_bar(symbol, bar, &mut detections) == BarOutcome::Regular {
                // A recorded chain is in force all its session; the engine keeps a profile
                // only while it is fresh (gamma_squeeze's rule), so the chain's stands in.
                if let Some(levels) = chains.levels(symbol) {
                    for d in detections.iter_mut().filter(|d| d.gex.is_none()) {
                        d.gex = GexContext::at(levels, bar.close);
                    }
                }
                backtest.on_regular_bar(symbol, bar, &detections)?;
            }
            Ok(())
        })
        .map_err(|e| match e {
            FeedError::Input(e) => input_error(e),
            FeedError::Feed(e) => e,
        })?;
    backtest.finish()?;
    Ok((backtest, fed))
}

/// The dimensions the table shows: those asked for (kind by default), in order, once.
fn report_dims(by: &[GroupBy]) -> Vec<Dimension> {
    let mut dims: Vec<Dimension> = if by.is_empty() {
        vec![Dimension::Kind]
    } else {
        by.iter().map(|b| b.dimension()).collect()
    };
    dims.sort();
    dims.dedup();
    dims
}

/// The JSON report of a finished backtest (without calibration, which `run` adds).
pub(super) fn report<'b>(backtest: &'b Backtest, scope: &Scope, by: &[GroupBy]) -> Report<'b> {
    let groups = backtest
        .grouped
        .groups(&by.iter().map(|b| b.dimension()).collect::<Vec<_>>());
    Report {
        from: backtest.first,
        to: backtest.last,
        symbols: backtest.symbols.iter().map(|s| s.as_str()).collect(),
        bars: backtest.bars,
        sessions: backtest.sessions,
        slippage: scope.slippage,
        costs: costs(scope.slippage),
        by: report_dims(by).iter().map(|d| d.as_str()).collect(),
        groups,
        calibration: None,
    }
}

fn costs(slippage: f64) -> String {
    format!(
        "slippage {slippage} per side on every fill and exit (long: fill + {slippage}, exit − {slippage}; short mirrored); no commissions"
    )
}

/// The CSV columns: the group keys, then SPEC 18's fields with each interval as two columns.
pub const CSV_HEADER: &str = "kind,symbol,hour,regime,confidence,detections,triggered,target_hit,stopped_out,time_exit,expired,invalidated,wins,win_rate,win_rate_ci95_lo,win_rate_ci95_hi,avg_r,avg_r_ci95_lo,avg_r_ci95_hi,total_r,profit_factor,max_drawdown_r,avg_mfe_r,avg_mae_r";

fn write_csv(out: &mut impl Write, groups: &[GroupRow]) -> io::Result<()> {
    use crate::json_round::{RATIO_DECIMALS, round_to};
    writeln!(out, "{CSV_HEADER}")?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // R, rates and ratios to four decimals, as in the JSON (`json_round`).
    let ratio = |x: f64| round_to(x, RATIO_DECIMALS).to_string();
    let num = |v: Option<f64>| v.map(ratio).unwrap_or_default();
    for g in groups {
        let (k, s) = (&g.key, &g.stats);
        let ci = |v: Option<[f64; 2]>| (num(v.map(|c| c[0])), num(v.map(|c| c[1])));
        let (wl, wh) = ci(s.win_rate_ci95);
        let (al, ah) = ci(s.avg_r_ci95);
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{wl},{wh},{},{al},{ah},{},{},{},{},{}",
            text(&k.kind),
            text(&k.symbol),
            text(&k.hour),
            text(&k.regime),
            text(&k.confidence),
            s.detections,
            s.triggered,
            s.target_hit,
            s.stopped_out,
            s.time_exit,
            s.expired,
            s.invalidated,
            s.wins,
            num(s.win_rate),
            num(s.avg_r),
            ratio(s.total_r),
            num(s.profit_factor),
            ratio(s.max_drawdown_r),
            num(s.avg_mfe_r),
            num(s.avg_mae_r),
        )?;
    }
    Ok(())
}

fn key_value(row: &GroupRow, d: Dimension) -> &str {
    let v = match d {
        Dimension::Kind => &row.key.kind,
        Dimension::Symbol => &row.key.symbol,
        Dimension::Hour => &row.key.hour,
        Dimension::Regime => &row.key.regime,
        Dimension::Confidence => &row.key.confidence,
    };
    v.as_deref().unwrap_or("all")
}

fn key_width(d: Dimension) -> usize {
    match d {
        Dimension::Kind => 13,
        Dimension::Symbol => 6,
        Dimension::Hour => 11,
        Dimension::Regime => 8,
        Dimension::Confidence => 6,
    }
}

fn signed(v: f64) -> String {
    format!("{v:+.2}")
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "–".into())
}

/// The table: one line per group; every rate has its n beside it ("win 50.0% of 4",
/// "avg R +0.13 n 4").
fn write_table(out: &mut impl Write, report: &Report, dims: &[Dimension]) -> io::Result<()> {
    let range = match (report.from, report.to) {
        (Some(f), Some(t)) => format!("{f} → {t}"),
        _ => "no session".into(),
    };
    writeln!(
        out,
        "coach backtest · {} · {range} · {} symbol-session(s) · {} regular bars · {}",
        if report.symbols.is_empty() {
            "no symbol".to_string()
        } else {
            report.symbols.join(", ")
        },
        report.sessions,
        report.bars,
        report.costs
    )?;
    write_groups(out, &report.groups, dims)
}

/// The legend, the header and one line per group; every rate has its n beside it ("win
/// 50.0% of 4", "avg R +0.13 n 4"). Shared with `coach setups stats`.
pub(super) fn write_groups(
    out: &mut impl Write,
    groups: &[GroupRow],
    dims: &[Dimension],
) -> io::Result<()> {
    writeln!(
        out,
        "R: realised result in multiples of the plan's risk |entry − stop|; filled = target + stop + time exit; \
         a win is R > 0; intervals are 95 % (Wilson for the win rate, mean ± 1.96·s/√n for R)"
    )?;
    let mut header = String::new();
    for d in dims {
        header.push_str(&format!("{:<w$} ", d.as_str(), w = key_width(*d)));
    }
    header.push_str(&format!(
        "{:>5} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5}  {:<17} {:<13}  {:<14} {:<15} {:>8} {:>6} {:>7} {:>5} {:>5}",
        "n",
        "filled",
        "target",
        "stop",
        "time",
        "exp",
        "inval",
        "win rate (n)",
        "win 95%",
        "avg R (n)",
        "avg R 95%",
        "total R",
        "PF",
        "max DD",
        "MFE",
        "MAE"
    ));
    writeln!(out, "{}", header.trim_end())?;
    for g in groups {
        let s = &g.stats;
        let mut line = String::new();
        for d in dims {
            line.push_str(&format!("{:<w$} ", key_value(g, *d), w = key_width(*d)));
        }
        let win = opt(s.win_rate, |w| {
            format!("{:.1}% of {}", w * 100.0, s.triggered)
        });
        let win_ci = s
            .win_rate_ci95
            .map(|[lo, hi]| format!("[{:.0}–{:.0}%]", lo * 100.0, hi * 100.0))
            .unwrap_or_else(|| "–".into());
        let avg = opt(s.avg_r, |a| format!("{} n {}", signed(a), s.triggered));
        let avg_ci = s
            .avg_r_ci95
            .map(|[lo, hi]| format!("[{}, {}]", signed(lo), signed(hi)))
            .unwrap_or_else(|| "–".into());
        line.push_str(&format!(
            "{:>5} {:>6} {:>6} {:>5} {:>5} {:>5} {:>5}  {:<17} {:<13}  {:<14} {:<15} {:>8} {:>6} {:>7} {:>5} {:>5}",
            s.detections,
            s.triggered,
            s.target_hit,
            s.stopped_out,
            s.time_exit,
            s.expired,
            s.invalidated,
            win,
            win_ci,
            avg,
            avg_ci,
            signed(s.total_r),
            opt(s.profit_factor, |p| format!("{p:.2}")),
            format!("{:.2}", s.max_drawdown_r),
            opt(s.avg_mfe_r, |m| format!("{m:.2}")),
            opt(s.avg_mae_r, |m| format!("{m:.2}")),
        ));
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
