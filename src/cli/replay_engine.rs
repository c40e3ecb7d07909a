//! The detector engine as `coach replay` runs it over recorded bars, shared with `coach
//! backtest` so both find the same detections on the same input: the bar files opened
//! and streamed in feeding order (`provider::bar_files::stream`), default thresholds, the
//! `--index` symbols added, primed with the daily bars; and the progress line both draw on
//! stderr for large inputs.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::PathBuf;

use super::CliError;
use crate::detect::{DetectorsConfig, Engine, priming};
use crate::domain::{Bar, DailyBar, Symbol};
use crate::provider::bar_files::BarFileError;
use crate::provider::bar_files::stream::{MinuteStream, open_files};
use crate::provider::chain_files::{ChainSchedule, load_chains_streamed};

/// Input bytes above which a progress line is shown on stderr (when it is a terminal):
/// about 100,000 minute bars of a CSV file.
pub const PROGRESS_ABOVE_BYTES: u64 = 6_000_000;

/// The engine replay runs: default detector thresholds, `index` (the `--index` flag's
/// symbols) treated as indices too, and every symbol's daily bars added (a note on stderr
/// names the files of rejected ones). `daily_files` is (file, symbol) of each daily file.
pub fn primed_engine(
    index: &[String],
    daily: &BTreeMap<Symbol, Vec<DailyBar>>,
    daily_files: &[(String, Symbol)],
) -> Result<Engine, CliError> {
    primed_engine_with(index, daily, daily_files, &mut |note| {
        eprintln!("coach: note: {note}")
    })
}

/// [`primed_engine`] with its notes (rejected daily bars) handed to `note` instead of
/// stderr: the scheduled backtest under the dashboard logs them.
pub fn primed_engine_with(
    index: &[String],
    daily: &BTreeMap<Symbol, Vec<DailyBar>>,
    daily_files: &[(String, Symbol)],
    note: &mut dyn FnMut(String),
) -> Result<Engine, CliError> {
    let mut config = DetectorsConfig::default();
    let symbols =
        crate::store::parse_symbols(index).map_err(|e| CliError::Input(format!("--index: {e}")))?;
    for symbol in symbols {
        if !config.index_symbols.contains(&symbol) {
            config.index_symbols.push(symbol);
        }
    }
    // The minutes are fed one by one after priming (replay's output needs each bar's
    // detections), in the order the shared priming uses.
    let primed = priming::prime(
        config,
        daily.iter().map(|(s, b)| (s, &b[..])),
        [],
        &mut Vec::new(),
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    for (symbol, rejected) in &primed.rejected_daily {
        let files: Vec<&str> = daily_files
            .iter()
            .filter(|(_, s)| s == symbol)
            .map(|(f, _)| f.as_str())
            .collect();
        note(format!(
            "{}: {rejected} daily bar(s) of {symbol} rejected as bad data \
             (NaN, inconsistent, or low below half the close)",
            files.join(", ")
        ));
    }
    Ok(primed.engine)
}

/// Opens the input of `coach replay` and `coach backtest` and primes the engine with its
/// daily bars: the minute bars come from the returned stream, in feeding order (a volume
/// proxy before its index within a minute). Files of a directory that cannot be opened
/// are named on stderr.
pub fn open_input(
    bars: &[PathBuf],
    daily: &[PathBuf],
    symbol: Option<&str>,
    index: &[String],
    note: &mut dyn FnMut(String),
) -> Result<(Engine, MinuteStream), CliError> {
    let forced = symbol
        .map(|s| Symbol::parse(s).map_err(|e| CliError::Input(format!("--symbol: {e}"))))
        .transpose()?;
    let input = open_files(bars, daily, forced.as_ref()).map_err(input_error)?;
    for skipped in &input.skipped {
        note(format!("skipped {skipped}"));
    }
    let engine = primed_engine_with(index, &input.daily, &input.daily_files, &mut |n| {
        note(format!("note: {n}"))
    })?;
    let config = engine.config();
    let stream = input
        .minute
        .feed(|s| config.volume_proxies.values().any(|p| p == s))
        .map_err(input_error)?;
    Ok((engine, stream))
}

/// The `--chain` files of a streamed replay, placed by their snapshot times; a chain of
/// a symbol no bar file holds is named in a note and left out.
pub fn open_chains(paths: &[PathBuf], stream: &MinuteStream) -> Result<ChainSchedule, CliError> {
    load_chains_streamed(paths, stream.symbols())
        .map(ChainSchedule::new)
        .map_err(CliError::Input)
}

/// After the run: each chain that never applied, because no bar of its symbol in its
/// session was fed (the session is outside the bars, or not a trading day).
pub fn report_unused_chains(chains: &ChainSchedule, note: &mut dyn FnMut(String)) {
    for c in chains.unused() {
        note(format!(
            "warning: {}: the {} chain's snapshot time {} applies to the {} session, which \
             had no {} bar here: not used",
            c.file,
            c.chain.symbol,
            crate::provider::chain_files::new_york(c.chain.as_of),
            c.session,
            c.chain.symbol
        ));
    }
}

pub fn input_error(e: BarFileError) -> CliError {
    CliError::Input(e.to_string())
}

/// After the stream: each file of a directory cut short by a bad row, and with `verbose`
/// what was detected in each file read, handed to `note` (stderr in the commands).
pub fn report_stream(stream: &MinuteStream, verbose: bool, note: &mut dyn FnMut(String)) {
    for (e, fed) in stream.cut_short() {
        note(format!(
            "skipped the rest of a file after {fed} bar(s): {e}"
        ));
    }
    if verbose {
        for file in stream.summaries() {
            note(file.to_string());
        }
    }
}

/// "coach: <what> n bars · p % of the input" redrawn in place on stderr every 65,536
/// bars, for inputs above [`PROGRESS_ABOVE_BYTES`] when stderr is a terminal.
pub struct Progress {
    what: &'static str,
    shown: bool,
}

impl Progress {
    /// `input_bytes`: the size of the bar files on disk.
    pub fn new(what: &'static str, input_bytes: u64) -> Self {
        Progress {
            what,
            shown: input_bytes > PROGRESS_ABOVE_BYTES && io::stderr().is_terminal(),
        }
    }

    /// Called with the number of bars fed so far.
    pub fn at(&self, n: usize, stream: &MinuteStream) {
        if self.shown && n.is_multiple_of(65_536) {
            let (read, total) = stream.bytes();
            let percent = if total == 0 {
                100.0
            } else {
                (read as f64 / total as f64 * 100.0).min(100.0)
            };
            eprint!(
                "\rcoach: {} {n} bars · {percent:.0} % of the input",
                self.what
            );
        }
    }

    /// Draws the final count and ends the line.
    pub fn done(&self, n: usize) {
        if self.shown {
            eprintln!("\rcoach: {} {n} bars · 100 % of the input", self.what);
        }
    }
}

/// Why feeding stopped early: the input (a bad row, two files with the same minute) or
/// what the bars were fed to.
#[derive(Debug)]
pub enum FeedError<E> {
    Input(BarFileError),
    Feed(E),
}

/// Bars in feeding order, handed one at a time to a consumer (the engine and what reads
/// its detections). The stream of the bar files in the commands; a whole-input order
/// (`replay::feeding_order`) in the tests that check the stream against it.
pub trait FeedOrder {
    /// Hands every bar to `feed` in order; the number of bars fed.
    fn drive<E>(
        &mut self,
        what: &'static str,
        feed: impl FnMut(&Symbol, &Bar) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>>;
}

impl FeedOrder for MinuteStream {
    /// With a progress line on stderr for large inputs.
    fn drive<E>(
        &mut self,
        what: &'static str,
        feed: impl FnMut(&Symbol, &Bar) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>> {
        let progress = Progress::new(what, self.bytes().1);
        drive_stream(self, Some(&progress), feed)
    }
}

/// The stream without a progress line: the scheduled backtest, whose terminal (if any)
/// is the dashboard's screen.
pub struct Quiet<'a>(pub &'a mut MinuteStream);

impl FeedOrder for Quiet<'_> {
    fn drive<E>(
        &mut self,
        _what: &'static str,
        feed: impl FnMut(&Symbol, &Bar) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>> {
        drive_stream(self.0, None, feed)
    }
}

fn drive_stream<E>(
    stream: &mut MinuteStream,
    progress: Option<&Progress>,
    mut feed: impl FnMut(&Symbol, &Bar) -> Result<(), E>,
) -> Result<usize, FeedError<E>> {
    let mut n = 0;
    while let Some(next) = stream.next_bar() {
        let (id, bar) = next.map_err(FeedError::Input)?;
        if let Some(p) = progress {
            p.at(n, stream);
        }
        n += 1;
        feed(stream.symbol(id), &bar).map_err(FeedError::Feed)?;
    }
    if let Some(p) = progress {
        p.done(n);
    }
    Ok(n)
}

impl FeedOrder for &[(&Symbol, &Bar)] {
    fn drive<E>(
        &mut self,
        _what: &'static str,
        mut feed: impl FnMut(&Symbol, &Bar) -> Result<(), E>,
    ) -> Result<usize, FeedError<E>> {
        for (symbol, bar) in self.iter() {
            feed(symbol, bar).map_err(FeedError::Feed)?;
        }
        Ok(self.len())
    }
}
