//! The morning brief as a value (SPEC 8): what the builder produces, the store keeps as
//! JSON, the screen draws and `coach brief --format json` prints. Every number carries
//! where it came from (`sources`), and what the data could not provide is listed in
//! `missing`, never filled in.
//!
//! Prices are in the instrument's units; money in US dollars; times UTC (RFC 3339) with
//! New York times spelled out in the text fields.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::econ::Importance;

/// Bumped when the payload's shape changes; a stored brief of another version is rebuilt.
pub const BRIEF_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub version: u32,
    pub market_date: NaiveDate,
    /// When it was built (market clock: virtual in the simulation).
    pub generated_at: DateTime<Utc>,
    /// The watchlist it covers (its name, or `symbols` for an ad-hoc list).
    pub watchlist: String,
    pub session: SessionLine,
    pub symbols: Vec<SymbolBrief>,
    pub events: EventsSection,
    pub positions: PositionsSection,
    pub watch: Vec<WatchItem>,
    /// What the data could not provide, brief-wide (per-symbol gaps are on the symbol).
    pub missing: Vec<String>,
    pub summary: String,
}

/// SPEC 8.1: the session of the market date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionLine {
    pub date: NaiveDate,
    pub open: DateTime<Utc>,
    pub close: DateTime<Utc>,
    pub early_close: bool,
    /// Minutes from generated_at to the open (before it) or to the close (during it).
    pub minutes_to_open: Option<i64>,
    pub minutes_to_close: Option<i64>,
}

/// A price and when it was seen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceAt {
    pub price: f64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorDayLevels {
    pub date: NaiveDate,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PivotLevels {
    pub p: f64,
    pub r1: f64,
    pub r2: f64,
    pub s1: f64,
    pub s2: f64,
}

/// Change of the last price against the prior close.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub points: f64,
    pub percent: f64,
    /// points / ATR(14); `None` without an ATR.
    pub atrs: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectedMove {
    /// ± points for the session.
    pub points: f64,
    /// `atr14` (the daily ATR) or `atm_straddle` (a chain's at-the-money straddle).
    pub method: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GammaLevels {
    pub zero_gamma: Option<f64>,
    pub call_wall: Option<f64>,
    pub put_wall: Option<f64>,
    /// Σ net GEX, dollars per 1 % move.
    pub total_gex: f64,
    pub regime: String,
}

/// Where each of a symbol's numbers came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SymbolSources {
    pub last: Option<String>,
    pub prior_day: Option<String>,
    /// Where the prior close (PDC) came from, in words: the official close of the daily
    /// bar, or the last regular-session minute's close when no valid daily bar exists.
    #[serde(default)]
    pub prior_close: Option<String>,
    pub pre_market: Option<String>,
    pub atr: Option<String>,
    /// How the expected move was measured (straddle strike and expiry, or ATR).
    #[serde(default)]
    pub expected_move: Option<String>,
    pub gex: Option<String>,
}

/// SPEC 8.2: one watchlist symbol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SymbolBrief {
    pub symbol: String,
    pub last: Option<PriceAt>,
    pub change: Option<Change>,
    pub prior_day: Option<PriorDayLevels>,
    /// (high, low) of today's pre-market bars so far.
    pub pre_market: Option<(f64, f64)>,
    pub pivots: Option<PivotLevels>,
    pub atr14: Option<f64>,
    pub expected_move: Option<ExpectedMove>,
    pub gamma: Option<GammaLevels>,
    pub sources: SymbolSources,
    /// What could not be computed for this symbol, and why.
    pub missing: Vec<String>,
}

impl SymbolBrief {
    /// The key levels a position or a watch item is measured against (label, price).
    pub fn key_levels(&self) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        if let Some(p) = &self.prior_day {
            out.extend([("PDH", p.high), ("PDL", p.low), ("PDC", p.close)]);
        }
        if let Some(v) = &self.pivots {
            out.extend([
                ("P", v.p),
                ("R1", v.r1),
                ("R2", v.r2),
                ("S1", v.s1),
                ("S2", v.s2),
            ]);
        }
        if let Some((h, l)) = self.pre_market {
            out.extend([("PMH", h), ("PML", l)]);
        }
        if let Some(g) = &self.gamma {
            out.extend(g.zero_gamma.map(|v| ("zero γ", v)));
            out.extend(g.call_wall.map(|v| ("call wall", v)));
            out.extend(g.put_wall.map(|v| ("put wall", v)));
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub date: NaiveDate,
    /// New York time.
    pub time_et: NaiveTime,
    pub name: String,
    pub importance: Importance,
    pub source: String,
}

/// SPEC 8.3.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventsSection {
    /// The calendar file.
    pub calendar: String,
    pub valid_from: NaiveDate,
    pub valid_through: NaiveDate,
    /// The market date is past `valid_through` (or before `valid_from`): the lists
    /// below cannot be trusted to be complete.
    pub out_of_date: bool,
    pub today: Vec<EventRow>,
    /// The rest of the week through Friday.
    pub later_this_week: Vec<EventRow>,
}

/// The level nearest a position's underlying.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NearestLevel {
    pub label: String,
    pub price: f64,
    /// level − spot, points.
    pub distance: f64,
    pub percent: f64,
}

/// SPEC 8.4: one open position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionRisk {
    pub id: i64,
    pub label: String,
    pub symbol: String,
    pub kind: String,
    pub quantity: f64,
    pub avg_price: f64,
    /// The underlying's last price the risk was measured at.
    pub spot: Option<f64>,
    /// Per share: the underlying's last for stock, the Black-Scholes value for options.
    pub mark: Option<f64>,
    /// `last price` or `Black-Scholes at IV x %` (a model value, not a quote).
    pub mark_source: Option<String>,
    pub pnl: Option<f64>,
    pub pnl_percent: Option<f64>,
    /// Calendar days from the market date to expiry (options).
    pub dte: Option<i64>,
    /// Dollars per 1 point of the underlying × spot: the position's stock-equivalent exposure.
    pub dollar_delta: Option<f64>,
    /// Change of dollar delta for a 1 % move of the underlying, dollars.
    pub dollar_gamma: Option<f64>,
    pub nearest_level: Option<NearestLevel>,
    /// `expires ≤7d`, `loss ≥20%`, `event today`.
    pub flags: Vec<String>,
    pub missing: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PositionTotals {
    pub positions: usize,
    /// Sum over positions with a mark; `pnl_unknown` counts the others.
    pub pnl: f64,
    pub pnl_unknown: usize,
    pub dollar_delta: f64,
    pub dollar_gamma: f64,
    /// Positions whose greeks could not be computed (no IV or no price).
    pub greeks_unknown: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PositionsSection {
    pub rows: Vec<PositionRisk>,
    pub totals: PositionTotals,
}

/// SPEC 8.5: something to keep an eye on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchItem {
    /// `setup`, `near_level`, `gap`, `missing`.
    pub kind: String,
    pub symbol: Option<String>,
    pub text: String,
}
