//! Missing inputs: a detector that cannot run on a symbol's session because a figure it
//! needs is not known says so once per symbol and session, instead of staying silent.
//!
//! Checked at the session's first regular bar, with what is known then: daily ATR(14)
//! (orb_breakout, opening_drive on indices), the prior day (gap_fill) and a GEX profile
//! (gamma_squeeze). Disabled detectors are not reported. Pure: the engine collects the
//! notes, the shell prints or logs them.

use std::fmt;

use chrono::NaiveDate;

use super::config::DetectorsConfig;
use super::context::SymbolClass;
use crate::domain::{GammaLevels, SetupKind, Symbol};
use crate::market::levels::DAILY_ATR_PERIOD;
use crate::market::state::MarketState;

/// One detector that cannot fire on one symbol's session, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingInput {
    pub symbol: Symbol,
    pub market_date: NaiveDate,
    pub kind: SetupKind,
    /// What is missing, in the trader's words: "no daily ATR (needs 15 daily bars before
    /// the session, has 3)".
    pub what: String,
}

impl fmt::Display for MissingInput {
    /// "orb_breakout on SPY 2013-10-07: no daily ATR (needs 15 daily bars before the
    /// session, has 3)"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} {}: {}",
            self.kind, self.symbol, self.market_date, self.what
        )
    }
}

/// Everything that keeps a detector of `symbol` silent for the session of `date`, given
/// the market state at the session's first regular bar.
pub fn missing_inputs(
    symbol: &Symbol,
    date: NaiveDate,
    class: SymbolClass,
    market: &MarketState,
    gamma: Option<&GammaLevels>,
    config: &DetectorsConfig,
) -> Vec<MissingInput> {
    let mut notes = Vec::new();
    let mut note = |kind: SetupKind, what: String| {
        notes.push(MissingInput {
            symbol: symbol.clone(),
            market_date: date,
            kind,
            what,
        });
    };
    if market.daily_atr().is_none() {
        let what = format!(
            "no daily ATR (needs {} daily bars before the session, has {})",
            DAILY_ATR_PERIOD + 1,
            market.daily_history().count_before(date)
        );
        if config.orb_breakout.enabled {
            note(SetupKind::OrbBreakout, what.clone());
        }
        if config.opening_drive.enabled && class == SymbolClass::Index {
            note(SetupKind::OpeningDrive, what);
        }
    }
    if config.gap_fill.enabled && market.prior_day().is_none() {
        note(
            SetupKind::GapFill,
            "no prior day (no daily bar and no minute session before it)".to_string(),
        );
    }
    if config.gamma_squeeze.enabled && gamma.is_none() {
        note(SetupKind::GammaSqueeze, "no GEX profile".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testkit::{Scenario, sym};
    use crate::domain::DailyBar;
    use crate::market::calendar;

    /// `n` daily bars 99–101 on the sessions before the scenario's date.
    fn with_daily_bars(mut s: Scenario, n: usize) -> Scenario {
        let mut date = s.date;
        let mut bars = Vec::new();
        for _ in 0..n {
            date = calendar::previous_session(date).date;
            bars.push(DailyBar {
                date,
                open: 100.0,
                high: 101.0,
                low: 99.0,
                close: 100.0,
                volume: 1e6,
            });
        }
        let symbol = s.symbol.clone();
        assert_eq!(s.engine.add_daily_bars(&symbol, &bars), 0);
        s
    }

    fn lines(s: &mut Scenario) -> Vec<String> {
        s.engine
            .take_missing_inputs()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn three_daily_bars_silence_orb_breakout_and_it_says_so_once_a_session() {
        let mut s = with_daily_bars(Scenario::new("SPY"), 3);
        s.quiet(30, 100.0, 0.4, 1000.0);
        let date = s.date;
        assert_eq!(
            lines(&mut s),
            [
                format!(
                    "orb_breakout on SPY {date}: no daily ATR (needs 15 daily bars before the session, has 3)"
                ),
                format!("gamma_squeeze on SPY {date}: no GEX profile"),
            ]
        );
        s.quiet(360, 100.0, 0.4, 1000.0);
        assert!(lines(&mut s).is_empty(), "once per session, not per bar");
        // the next session says it again; the finished session (390 minutes) now counts
        // as a fourth daily bar and is the prior day
        let next = calendar::next_session(s.date).date;
        s.date = next;
        s.minute = 0;
        s.quiet(1, 100.0, 0.4, 1000.0);
        assert_eq!(
            lines(&mut s),
            [
                format!(
                    "orb_breakout on SPY {next}: no daily ATR (needs 15 daily bars before the session, has 4)"
                ),
                format!("gamma_squeeze on SPY {next}: no GEX profile"),
            ]
        );
    }

    #[test]
    fn an_index_without_daily_bars_misses_the_atr_and_the_prior_day() {
        let mut config = DetectorsConfig::default();
        config.gamma_squeeze.enabled = false;
        let mut s = Scenario::with_config("SPX", config);
        s.quiet(1, 5000.0, 4.0, 0.0);
        let date = s.date;
        let has_zero = "no daily ATR (needs 15 daily bars before the session, has 0)";
        assert_eq!(
            lines(&mut s),
            [
                format!("orb_breakout on SPX {date}: {has_zero}"),
                format!("opening_drive on SPX {date}: {has_zero}"),
                format!(
                    "gap_fill on SPX {date}: no prior day (no daily bar and no minute session before it)"
                ),
            ]
        );
    }

    #[test]
    fn a_symbol_with_its_inputs_or_its_detectors_disabled_has_nothing_to_say() {
        let mut config = DetectorsConfig::default();
        config.gamma_squeeze.enabled = false;
        let mut s = Scenario::with_config("SPY", config.clone()).prior_day(101.0, 99.0, 100.0, 2.0);
        s.quiet(20, 100.0, 0.4, 1000.0);
        assert!(lines(&mut s).is_empty());

        config.orb_breakout.enabled = false;
        config.gap_fill.enabled = false;
        let mut bare = Scenario::with_config("SPY", config);
        bare.quiet(20, 100.0, 0.4, 1000.0);
        assert!(lines(&mut bare).is_empty());
        assert_eq!(bare.symbol, sym("SPY"));
    }

    #[test]
    fn notes_nobody_takes_stop_piling_up() {
        use crate::detect::engine::MAX_UNTAKEN_MISSING_INPUTS;
        let mut s = Scenario::new("SPY");
        // one bar a session for 600 sessions: orb_breakout, gap_fill and gamma_squeeze
        // are each missing an input every session
        for _ in 0..600 {
            s.minute = 0;
            s.quiet(1, 100.0, 0.4, 1000.0);
            s.date = calendar::next_session(s.date).date;
        }
        let held = s.engine.take_missing_inputs().len();
        assert!(
            (MAX_UNTAKEN_MISSING_INPUTS..MAX_UNTAKEN_MISSING_INPUTS + 4).contains(&held),
            "{held}"
        );
        s.minute = 0;
        s.quiet(1, 100.0, 0.4, 1000.0);
        assert_eq!(lines(&mut s).len(), 3, "taking them makes room again");
    }
}
