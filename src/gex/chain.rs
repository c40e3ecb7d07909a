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

/// An OCC option root (`SPX`, `SPXW`, `SPY`, `BRKB`): 1 to 6 upper-case ASCII letters or
/// digits, stored inline as eight zero-padded bytes (a root has no NUL), so a chain of
/// 30,000 contracts allocates nothing per contract and two roots compare as one 64-bit word.
#[derive(Clone, Copy)]
#[repr(align(8))]
pub struct Root {
    bytes: [u8; 8],
}

/// Why a text is not an OCC root.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("option root {0:?} must be 1 to 6 characters A-Z or 0-9")]
pub struct RootError(pub String);

impl Root {
    pub const MAX_LEN: usize = 6;

    /// Validates a root exactly as OCC symbols spell it (no trimming, no case folding).
    pub fn parse(text: &str) -> Result<Root, RootError> {
        let ok = (1..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            return Err(RootError(crate::text::printable(text)));
        }
        let mut bytes = [0; 8];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Root { bytes })
    }

    /// A root for an underlying symbol when no OCC symbol names one (the simulator, a
    /// snapshot row without a ticker): its letters and digits, upper-cased, at most six
    /// (`BRK.B` → `BRKB`, `I:SPX` → `ISPX`; callers strip provider prefixes first).
    pub fn for_underlying(symbol: &str) -> Root {
        let cleaned: String = symbol
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .take(Self::MAX_LEN)
            .collect();
        Root::parse(&cleaned).unwrap_or(Root {
            bytes: *b"X\0\0\0\0\0\0\0",
        })
    }

    pub fn as_str(&self) -> &str {
        let len = self.bytes.iter().position(|&b| b == 0).unwrap_or(8);
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..len]).unwrap_or_default()
    }

    fn word(&self) -> u64 {
        u64::from_ne_bytes(self.bytes)
    }
}

impl PartialEq for Root {
    fn eq(&self, other: &Self) -> bool {
        self.word() == other.word()
    }
}

impl Eq for Root {}

impl std::hash::Hash for Root {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.word());
    }
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl PartialOrd for Root {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Root {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Root {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Root {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for Root {
    type Err = RootError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Root::parse(s)
    }
}

impl TryFrom<String> for Root {
    type Error = RootError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Root::parse(&s)
    }
}

impl From<Root> for String {
    fn from(r: Root) -> String {
        r.as_str().to_string()
    }
}

impl Serialize for Root {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Root::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One listed option contract (a plain `Copy` value: no heap data).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// The OCC root (`SPX` monthly, `SPXW` weekly, `SPY`, ...): decides AM or PM settlement.
    pub root: Root,
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
    fn roots_are_validated_inline_strings() {
        let r = Root::parse("SPXW").unwrap();
        assert_eq!(r, "SPXW");
        assert_eq!(r.to_string(), "SPXW");
        assert_eq!(format!("{r:?}"), "\"SPXW\"");
        for bad in ["", "spy", "TOOLONG", "SP Y", "SPY.", "É"] {
            assert!(Root::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Root::parse("SPX").unwrap() < Root::parse("SPXW").unwrap());
        assert!(Root::parse("AAPL").unwrap() < Root::parse("SPX").unwrap());
        assert_eq!(Root::for_underlying("BRK.B"), "BRKB");
        assert_eq!(Root::for_underlying("verylongname"), "VERYLO");
        assert_eq!(Root::for_underlying("..."), "X");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"SPXW\"");
        assert_eq!(serde_json::from_str::<Root>(&json).unwrap(), r);
        assert!(serde_json::from_str::<Root>("\"bad root\"").is_err());
    }

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
