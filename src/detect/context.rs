//! What a detector sees of one final regular-session bar.

use chrono::{DateTime, Utc};

use super::config::DetectorsConfig;
use crate::domain::{Bar, GammaLevels, Symbol};
use crate::market::bars::{Range, RelativeVolume, VolumeBaseline, VwapBands};
use crate::market::calendar::Session;
use crate::market::levels::{LevelSet, Pivots, PriorDay};
use crate::market::state::MarketState;

/// How a symbol is classed for thresholds (gap size) and volume handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolClass {
    /// A cash index: no volume of its own.
    Index,
    Etf,
    Stock,
}

/// Whose volume a relative-volume reading is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VolumeSource<'a> {
    /// The symbol's own volume.
    Own,
    /// The volume proxy's bar of the same minute (an index's ETF).
    Proxy(&'a Symbol),
    /// No reading: an index whose proxy is not configured or not fed this minute.
    Missing { proxy: Option<&'a Symbol> },
}

/// A minute's relative volume and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolumeReading<'a> {
    pub relative: Option<RelativeVolume>,
    pub source: VolumeSource<'a>,
    /// Whether a missing reading means "skip the volume test" (an index has no volume)
    /// rather than "the test fails" (a stock without history yet).
    pub skippable: bool,
}

/// The outcome of a volume threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VolumeTest {
    Passed(f64),
    Failed,
    /// An index without a usable proxy: the test is skipped and the rationale says so.
    Skipped,
}

impl VolumeTest {
    pub fn passed(self) -> bool {
        !matches!(self, VolumeTest::Failed)
    }

    /// The ratio that passed, for confidence; 1.0 when skipped.
    pub fn ratio_or_one(self) -> f64 {
        match self {
            VolumeTest::Passed(r) => r,
            _ => 1.0,
        }
    }
}

impl VolumeReading<'_> {
    /// Relative volume ≥ `min`, or skipped for an index without a proxy reading.
    pub fn test(&self, min: f64) -> VolumeTest {
        match self.relative {
            Some(r) if r.ratio >= min => VolumeTest::Passed(r.ratio),
            Some(_) => VolumeTest::Failed,
            None if self.skippable => VolumeTest::Skipped,
            None => VolumeTest::Failed,
        }
    }

    pub fn ratio(&self) -> Option<f64> {
        self.relative.map(|r| r.ratio)
    }

    /// A phrase for rationales: "relative volume 2.3× (20-bar average)",
    /// "SPY relative volume 2.3× (volume proxy, same-minute average of 5 sessions)",
    /// "volume test skipped (no volume, proxy SPY not fed)".
    pub fn describe(&self) -> String {
        let baseline = |r: &RelativeVolume| match r.baseline {
            VolumeBaseline::Last20Bars => "20-bar average".to_string(),
            VolumeBaseline::SameMinute { sessions } => {
                format!("same-minute average of {sessions} sessions")
            }
        };
        match (&self.relative, self.source) {
            (Some(r), VolumeSource::Proxy(proxy)) => format!(
                "{proxy} relative volume {:.1}× (volume proxy, {})",
                r.ratio,
                baseline(r)
            ),
            (Some(r), _) => format!("relative volume {:.1}× ({})", r.ratio, baseline(r)),
            (None, VolumeSource::Missing { proxy: Some(p) }) if self.skippable => {
                format!("volume test skipped (no volume of its own; proxy {p} not fed this minute)")
            }
            (None, _) if self.skippable => {
                "volume test skipped (no volume of its own and no proxy configured)".to_string()
            }
            (None, _) => "no relative volume yet".to_string(),
        }
    }
}

/// One final regular-session 1-minute bar with everything known at its close.
///
/// Baselines (`atr1m`, `average_range`, relative volume, `high_before`) exclude the bar;
/// `vwap` includes it, as a chart would draw it.
#[derive(Clone, Copy, Debug)]
pub struct BarContext<'a> {
    pub symbol: &'a Symbol,
    pub class: SymbolClass,
    pub bar: &'a Bar,
    /// The previous regular bar of this session.
    pub previous: Option<Bar>,
    pub session: Session,
    /// Minutes after the open (0 = the 09:30 bar).
    pub minute: u32,
    /// Regular bars of this session before this one.
    pub index: u32,
    pub atr1m: Option<f64>,
    pub average_range: Option<f64>,
    pub volume: VolumeReading<'a>,
    pub high_before: Option<f64>,
    pub low_before: Option<f64>,
    pub session_open: f64,
    pub vwap: Option<VwapBands>,
    pub market: &'a MarketState,
    pub gamma: Option<&'a GammaLevels>,
    pub config: &'a DetectorsConfig,
}

impl<'a> BarContext<'a> {
    /// End of the bar (start + 1 minute), when it became final.
    pub fn bar_end(&self) -> DateTime<Utc> {
        self.bar.start + chrono::Duration::minutes(1)
    }

    pub fn prior_day(&self) -> Option<PriorDay> {
        self.market.prior_day()
    }

    pub fn pivots(&self) -> Option<Pivots> {
        self.market.pivots()
    }

    pub fn daily_atr(&self) -> Option<f64> {
        self.market.daily_atr()
    }

    pub fn opening_range(&self, minutes: u32) -> Option<Range> {
        self.market.opening_range(minutes)
    }

    pub fn levels(&self) -> &'a LevelSet {
        self.market.levels()
    }

    /// The previous close, or this bar's open on the session's first bar.
    pub fn previous_close(&self) -> f64 {
        self.previous.map_or(self.bar.open, |b| b.close)
    }

    /// Tolerance around a level: max(atr_mult · ATR1m, pct % of the close).
    pub fn tolerance(&self, atr_mult: f64, pct: f64) -> Option<f64> {
        let atr1m = self.atr1m?;
        Some((atr_mult * atr1m).max(pct / 100.0 * self.bar.close))
    }

    /// Distance a stop is placed beyond its structure: `stop_buffer_atr1m` · ATR1m.
    pub fn stop_buffer(&self) -> Option<f64> {
        Some(self.config.stop_buffer_atr1m * self.atr1m?)
    }

    /// Whether the bar starts before a New York time of day.
    pub fn is_before(&self, time: super::config::NyTime) -> bool {
        i64::from(self.minute) < time.minutes_after_open()
    }
}
