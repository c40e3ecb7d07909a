//! The detector engine as `coach replay` runs it over recorded bars, shared with `coach
//! backtest` so both find the same detections on the same input: default thresholds,
//! the `--index` symbols added, primed with the daily bars; and the progress counter both
//! draw on stderr for large inputs.

use std::io::{self, IsTerminal};

use super::CliError;
use crate::detect::{DetectorsConfig, Engine, priming};
use crate::domain::Symbol;
use crate::provider::replay::ReplayInput;

/// Bars above which a progress counter is shown on stderr (when it is a terminal).
pub const PROGRESS_ABOVE: usize = 100_000;

/// The engine replay runs: default detector thresholds, `index` (the `--index` flag's
/// symbols) treated as indices too, and every symbol's daily bars added (a note on stderr
/// names the files of rejected ones).
pub fn primed_engine(index: &[String], data: &ReplayInput) -> Result<Engine, CliError> {
    let mut config = DetectorsConfig::default();
    for text in index {
        let symbol = Symbol::parse(text).map_err(|e| CliError::Input(format!("--index: {e}")))?;
        if !config.index_symbols.contains(&symbol) {
            config.index_symbols.push(symbol);
        }
    }
    // Replay's minutes are fed one by one after priming (its output needs each bar's
    // detections), in the order the shared priming uses.
    let primed = priming::prime(
        config,
        data.daily.iter().map(|(s, b)| (s, &b[..])),
        [],
        &mut Vec::new(),
    )
    .map_err(|e| CliError::Input(e.to_string()))?;
    for (symbol, rejected) in &primed.rejected_daily {
        let files: Vec<&str> = data
            .daily_files
            .iter()
            .filter(|(_, s)| s == symbol)
            .map(|(f, _)| f.as_str())
            .collect();
        eprintln!(
            "coach: note: {}: {rejected} daily bar(s) of {symbol} rejected as bad data \
             (NaN, inconsistent, or low below half the close)",
            files.join(", ")
        );
    }
    Ok(primed.engine)
}

/// "coach: <what> n/total bars" redrawn in place on stderr every 65,536 bars, for inputs
/// above [`PROGRESS_ABOVE`] bars when stderr is a terminal.
pub struct Progress {
    what: &'static str,
    total: usize,
    shown: bool,
}

impl Progress {
    pub fn new(what: &'static str, total: usize) -> Self {
        Progress {
            what,
            total,
            shown: total > PROGRESS_ABOVE && io::stderr().is_terminal(),
        }
    }

    /// Called with the index of each bar about to be fed.
    pub fn at(&self, n: usize) {
        if self.shown && n.is_multiple_of(65_536) {
            eprint!("\rcoach: {} {n}/{} bars", self.what, self.total);
        }
    }

    /// Draws the final count and ends the line.
    pub fn done(&self) {
        if self.shown {
            eprintln!("\rcoach: {} {}/{} bars", self.what, self.total, self.total);
        }
    }
}
