//! Setup statistics (SPEC 18): what the detections would have done, as a pure core. No
//! I/O: the shell (`cli::backtest`) reads the bars, runs the detectors and writes the
//! results.
//!
//! - [`simulate`]: one symbol-session's detections run through the section 5 lifecycle
//!   (`setups::step`) on its regular minute bars, with slippage per side.
//! - [`trade`]: the per-trade record, its outcome, hour bucket and confidence decile.
//! - [`summary`]: a group's statistics (win rate with its Wilson interval, average R with
//!   its interval, profit factor, drawdown, MFE/MAE).
//! - [`calibrate`]: per-kind monotone maps from raw confidence to win probability
//!   ([`isotonic`] regression), their Brier score and reliability table, out of sample.
//! - [`group`]: splitting trades by kind, symbol, hour, regime or confidence.
//! - [`edge`]: what stored statistics say about one opportunity ((kind, symbol) falling
//!   back to kind) and which kinds have a negative edge.
//! - [`histogram`]: the distribution of R over a group's filled trades, in fixed bins.
//! - [`journal`]: the trader's tracked setups and their journal as trade records.

pub mod calibrate;
pub mod edge;
pub mod group;
pub mod histogram;
pub mod isotonic;
pub mod journal;
pub mod simulate;
pub mod summary;
pub mod trade;

pub use calibrate::{CalibrationMap, CalibrationReport, Calibrations};
pub use edge::{Edge, EdgeBook, EdgeScope, is_negative_edge};
pub use group::{Dimension, GroupKey, GroupRow, GroupedTrades};
pub use histogram::RHistogram;
pub use journal::{JournalEvent, JournalRange, JournalSetup, journal_groups};
pub use simulate::{simulate_detection, simulate_session};
pub use summary::{GroupStats, TradeResult};
pub use trade::{HourBucket, TradeOutcome, TradeRecord, confidence_decile};
