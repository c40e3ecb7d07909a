//! `[backtest]`: the costs `coach backtest` applies, and the bar history the scheduled
//! run after each close backtests (SPEC 18).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestConfig {
    /// Slippage in price units per side, worsening every fill and every exit (a long
    /// fills P higher and exits P lower); `--slippage` wins. `COACH_BACKTEST_SLIPPAGE`.
    pub slippage: f64,
    /// A directory (or file) of minute and daily bar files, as `coach backtest --bars`
    /// reads (e.g. what `coach bars` downloads). When set, `coach serve` and the
    /// dashboard backtest it after each session's close and store the statistics (the
    /// Scanner's edge column); empty = no scheduled run. `COACH_BACKTEST_BARS`.
    pub bars: String,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            slippage: 0.01,
            bars: String::new(),
        }
    }
}

impl BacktestConfig {
    /// The checks of `Config::validate`: (key, reason) of the first problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        // `bars` is checked by the scheduled run, which reports a missing directory in
        // Health rather than refusing to start the dashboard.
        check_slippage(self.slippage).map_err(|reason| ("backtest.slippage", reason))
    }

    /// The bar history of the scheduled run; `None` when it is off.
    pub fn scheduled_bars(&self) -> Option<std::path::PathBuf> {
        (!self.bars.trim().is_empty()).then(|| std::path::PathBuf::from(self.bars.trim()))
    }
}

/// A slippage is a finite price difference ≥ 0 (and below 1,000,000, to catch a typo).
pub fn check_slippage(slippage: f64) -> Result<(), String> {
    if slippage.is_finite() && (0.0..1_000_000.0).contains(&slippage) {
        Ok(())
    } else {
        Err(format!(
            "{slippage} is not a slippage (a price difference per side, 0 or more)"
        ))
    }
}
