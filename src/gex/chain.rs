//! An options chain snapshot: the input of the GEX profile (SPEC 7).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Symbol;

/// Call or put.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Right {
    Call,
    Put,
}

impl Right {
    /// Dealer-positioning sign of SPEC 7: +1 for calls, −1 for puts
    /// (dealers assumed long calls and short puts).
    pub fn dealer_sign(self) -> f64 {
        match self {
            Right::Call => 1.0,
            Right::Put => -1.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Right::Call => "call",
            Right::Put => "put",
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One listed option contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// The OCC root (`SPX` monthly, `SPXW` weekly, `SPY`, ...): decides AM or PM settlement.
    pub root: String,
    /// Expiration date as listed (New York calendar date).
    pub expiry: NaiveDate,
    pub right: Right,
    /// Strike in price units of the underlying.
    pub strike: f64,
    /// Open interest in contracts (the previous session's close at most providers).
    pub open_interest: f64,
    /// Implied volatility as an annualised decimal (0.2 = 20 %); ≤ 0 means unknown.
    pub iv: f64,
    /// Gamma as published by the source (per 1 point), for reference only: the profile
    /// always recomputes gamma from `iv`.
    pub gamma: Option<f64>,
}

/// A chain snapshot for one underlying.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub symbol: Symbol,
    /// Underlying price at the snapshot, in price units.
    pub spot: f64,
    /// The snapshot instant (UTC); T is measured from here.
    pub as_of: DateTime<Utc>,
    pub contracts: Vec<Contract>,
}

/// The underlying symbol of an OCC root: the index weekly and PM roots map to their index
/// (`SPXW` → `SPX`, `NDXP` → `NDX`, `RUTW` → `RUT`, `DJXW` → `DJX`, `VIXW` → `VIX`,
/// `XSP` stays), and an adjusted-deliverable root (`SPY1`, `AAPL2`) loses its trailing digit.
pub fn underlying_of_root(root: &str) -> &str {
    match root {
        "SPXW" | "SPXPM" => "SPX",
        "NDXP" => "NDX",
        "RUTW" => "RUT",
        "DJXW" => "DJX",
        "VIXW" => "VIX",
        other => {
            let trimmed = other.trim_end_matches(|c: char| c.is_ascii_digit());
            if trimmed.is_empty() { other } else { trimmed }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_index_roots_belong_to_their_index() {
        assert_eq!(underlying_of_root("SPXW"), "SPX");
        assert_eq!(underlying_of_root("SPX"), "SPX");
        assert_eq!(underlying_of_root("NDXP"), "NDX");
        assert_eq!(underlying_of_root("RUTW"), "RUT");
        assert_eq!(underlying_of_root("SPY"), "SPY");
        assert_eq!(underlying_of_root("SPY1"), "SPY");
    }

    #[test]
    fn calls_count_positive_and_puts_negative() {
        assert_eq!(Right::Call.dealer_sign(), 1.0);
        assert_eq!(Right::Put.dealer_sign(), -1.0);
    }
}
