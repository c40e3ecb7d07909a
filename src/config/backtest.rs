//! `[backtest]`: the costs `coach backtest` applies (SPEC 18).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestConfig {
    /// Slippage in price units per side, worsening every fill and every exit (a long
    /// fills P higher and exits P lower); `--slippage` wins. `COACH_BACKTEST_SLIPPAGE`.
    pub slippage: f64,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig { slippage: 0.01 }
    }
}

impl BacktestConfig {
    /// The checks of `Config::validate`: (key, reason) of the first problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        check_slippage(self.slippage).map_err(|reason| ("backtest.slippage", reason))
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
