//! `coach backtest` (SPEC 18): every detection `coach replay` finds on the same input (the
//! same engine, primed the same way: `cli::replay_engine`) is run through the section 5
//! lifecycle on its session's following regular minute bars (`stats::simulate`), then
//! grouped and summarised (`stats::group`, `stats::summary`): a table, JSON or CSV on
//! stdout, and the per-trade records as JSON lines with `--trades`.
//!
//! Sessions are backtested one symbol-session at a time, as soon as the feed moves past
//! them: only the open session of each symbol is buffered. (The bar files themselves are
//! still read whole before the run, as `coach replay` reads them.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::CliError;
use super::dashboard::CommonArgs;
use super::replay::feeding_order;
use super::replay_engine::{Progress, primed_engine};
use crate::config::check_slippage;
use crate::detect::BarOutcome;
use crate::domain::{Bar, Detection, GammaLevels, SetupKind, Symbol};
use crate::gex::Regime;
use crate::market::calendar::ny_date;
use crate::provider::chain_files::{ChainSchedule, load_chains};
use crate::provider::replay::load_files;
use crate::stats::{Dimension, GroupRow, GroupedTrades, TradeRecord, simulate_session};

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
    /// force record its gamma regime and distances (`--by regime`).
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
    /// Backtest only these symbols (comma-separated); the others still feed the detectors
    /// (an index reads its ETF proxy's volume).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
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
    /// outcome, fill, exit, R, MFE/MAE, bars held, hour bucket).
    #[arg(long, value_name = "FILE")]
    pub trades: Option<PathBuf>,
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
struct Scope {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    symbols: BTreeSet<Symbol>,
    kinds: BTreeSet<SetupKind>,
    slippage: f64,
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
    let symbols = args
        .symbols
        .iter()
        .map(|s| Symbol::parse(s.trim()).map_err(|e| CliError::Input(format!("--symbols: {e}"))))
        .collect::<Result<_, _>>()?;
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
    /// The gamma picture at each detection (same order), when a chain was in force.
    gamma: Vec<Option<GammaAtDetection>>,
}

/// What a backtested trade records of the GEX profile in force at its detection (SPEC 18).
#[derive(Clone, Copy, Debug, PartialEq)]
struct GammaAtDetection {
    regime: Regime,
    /// |entry − zero gamma| in price units, when the profile has a zero-gamma level.
    zero_gamma_distance: Option<f64>,
    /// |entry − the nearer of the call and put walls| in price units, when it has one.
    wall_distance: Option<f64>,
}

impl GammaAtDetection {
    fn of(levels: &GammaLevels, entry: f64) -> Self {
        GammaAtDetection {
            regime: if levels.is_negative_regime() {
                Regime::Negative
            } else {
                Regime::Positive
            },
            zero_gamma_distance: levels.zero_gamma.map(|z| (entry - z).abs()),
            wall_distance: [levels.call_wall, levels.put_wall]
                .into_iter()
                .flatten()
                .map(|w| (entry - w).abs())
                .min_by(f64::total_cmp),
        }
    }
}

/// The streaming part of the run: buffers each symbol's open session, backtests it when
/// the feed leaves it, and keeps what the summary needs.
struct Backtest<'a> {
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
}

impl Backtest<'_> {
    /// A regular bar of `symbol` and the detections it produced.
    fn on_regular_bar(
        &mut self,
        symbol: &Symbol,
        bar: &Bar,
        detections: &[Detection],
        gamma: Option<&GammaLevels>,
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
                gamma: Vec::new(),
            });
        session.bars.push(*bar);
        for d in detections.iter().filter(|d| self.scope.keeps(d)) {
            session.detections.push(d.clone());
            session
                .gamma
                .push(gamma.map(|g| GammaAtDetection::of(g, d.entry)));
        }
        Ok(())
    }

    fn close_session(&mut self, symbol: &Symbol, session: OpenSession) -> Result<(), CliError> {
        self.sessions += 1;
        self.bars += session.bars.len() as u64;
        self.symbols.insert(symbol.clone());
        self.first = Some(self.first.map_or(session.date, |d| d.min(session.date)));
        self.last = Some(self.last.map_or(session.date, |d| d.max(session.date)));
        let results = simulate_session(&session.bars, &session.detections, self.scope.slippage);
        for ((result, detection), gamma) in results
            .into_iter()
            .zip(&session.detections)
            .zip(&session.gamma)
        {
            match result {
                Ok(mut trade) => {
                    if let Some(g) = gamma {
                        trade.regime = Some(g.regime);
                        trade.zero_gamma_distance = g.zero_gamma_distance;
                        trade.wall_distance = g.wall_distance;
                    }
                    self.grouped.push(&trade);
                    self.write_trade(&trade)?;
                }
                Err(e) => {
                    self.untrackable += 1;
                    eprintln!(
                        "coach: note: {} {} detected at {} cannot be tracked: {e}",
                        detection.symbol, detection.kind, detection.detected_at
                    );
                }
            }
        }
        Ok(())
    }

    fn write_trade(&mut self, trade: &TradeRecord) -> Result<(), CliError> {
        let Some((name, out)) = &mut self.trades else {
            return Ok(());
        };
        serde_json::to_writer(&mut *out, trade)
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
struct Report<'a> {
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
}

pub fn run(args: BacktestArgs, common: &CommonArgs) -> Result<(), CliError> {
    let scope = scope(&args, common)?;
    let forced = args
        .symbol
        .as_deref()
        .map(|s| Symbol::parse(s).map_err(|e| CliError::Input(format!("--symbol: {e}"))))
        .transpose()?;
    let data = load_files(&args.bars, &args.daily, forced.as_ref())
        .map_err(|e| CliError::Input(e.to_string()))?;
    let mut chains =
        ChainSchedule::new(load_chains(&args.chain, &data.minute).map_err(CliError::Input)?);
    let mut engine = primed_engine(&args.index, &data)?;
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
    let order = feeding_order(engine.config(), &data.minute);
    let mut backtest = Backtest {
        scope: &scope,
        open: BTreeMap::new(),
        grouped: GroupedTrades::new(),
        trades,
        symbols: BTreeSet::new(),
        first: None,
        last: None,
        bars: 0,
        sessions: 0,
        untrackable: 0,
    };
    let progress = Progress::new("backtest", order.len());
    let mut detections = Vec::new();
    for (n, (symbol, bar)) in order.iter().enumerate() {
        progress.at(n);
        detections.clear();
        chains.before_bar(&mut engine, symbol, bar);
        if engine.on_bar(symbol, bar, &mut detections) == BarOutcome::Regular {
            let gamma = chains.levels(symbol);
            backtest.on_regular_bar(symbol, bar, &detections, gamma)?;
        }
    }
    backtest.finish()?;
    progress.done();
    let by: Vec<Dimension> = args.by.iter().map(|b| b.dimension()).collect();
    let groups = backtest.grouped.groups(&by);
    let mut dims: Vec<Dimension> = if by.is_empty() {
        vec![Dimension::Kind]
    } else {
        by.clone()
    };
    dims.sort();
    dims.dedup();
    let report = Report {
        from: backtest.first,
        to: backtest.last,
        symbols: backtest.symbols.iter().map(|s| s.as_str()).collect(),
        bars: backtest.bars,
        sessions: backtest.sessions,
        slippage: scope.slippage,
        costs: costs(scope.slippage),
        by: dims.iter().map(|d| d.as_str()).collect(),
        groups,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        BacktestFormat::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        BacktestFormat::Csv => write_csv(&mut out, &report.groups),
        BacktestFormat::Table => write_table(&mut out, &report, &dims),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
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
        order.len()
    );
    Ok(())
}

fn costs(slippage: f64) -> String {
    format!(
        "slippage {slippage} per side on every fill and exit (long: fill + {slippage}, exit − {slippage}; short mirrored); no commissions"
    )
}

/// The CSV columns: the group keys, then SPEC 18's fields with each interval as two columns.
pub const CSV_HEADER: &str = "kind,symbol,hour,regime,confidence,detections,triggered,target_hit,stopped_out,time_exit,expired,invalidated,wins,win_rate,win_rate_ci95_lo,win_rate_ci95_hi,avg_r,avg_r_ci95_lo,avg_r_ci95_hi,total_r,profit_factor,max_drawdown_r,avg_mfe_r,avg_mae_r";

fn write_csv(out: &mut impl Write, groups: &[GroupRow]) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
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
            s.total_r,
            num(s.profit_factor),
            s.max_drawdown_r,
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
    for g in &report.groups {
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
