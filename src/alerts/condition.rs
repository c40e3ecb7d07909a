//! What a price alert waits for, how the trader writes it, and how it is stored.
//!
//! Stored as two columns: `condition` (`crosses_above`, `crosses_below`, `moves_pct`,
//! `rel_volume_above`) and `level` (a price in the instrument's units; a percentage for
//! `moves_pct`; a ratio for `rel_volume_above`). The trader writes `above 450.5`,
//! `below 440`, `move 2%` or `relvol 3`.

use std::fmt;

/// Largest move an alert may wait for, percent.
pub const MAX_MOVE_PCT: f64 = 100.0;
/// Largest relative volume an alert may wait for (minute volume over its baseline).
pub const MAX_REL_VOLUME: f64 = 1000.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Condition {
    /// The price goes from below `level` to `level` or above (a gap over it counts).
    CrossesAbove(f64),
    /// The price goes from above `level` to `level` or below.
    CrossesBelow(f64),
    /// The price is `pct` percent or more away from the alert's reference, either way.
    MovesPercent(f64),
    /// A final minute bar's volume is more than `ratio` times its baseline (the mean of
    /// the 20 minutes before it, SPEC 3's fallback).
    RelVolumeAbove(f64),
}

/// Why a condition was refused; names the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error("unknown alert condition {0:?}: use above, below, move or relvol")]
    UnknownKind(String),
    #[error("{what} {value:?} is not a number")]
    NotANumber { what: &'static str, value: String },
    #[error("{what} must be above 0 and at most {max}, got {value}")]
    OutOfRange {
        what: &'static str,
        value: f64,
        max: f64,
    },
    #[error("a move alert needs a reference price above 0 (the price it moves from)")]
    NoReference,
}

impl Condition {
    /// The stored `condition` column.
    pub fn kind(self) -> &'static str {
        match self {
            Condition::CrossesAbove(_) => "crosses_above",
            Condition::CrossesBelow(_) => "crosses_below",
            Condition::MovesPercent(_) => "moves_pct",
            Condition::RelVolumeAbove(_) => "rel_volume_above",
        }
    }

    /// The stored `level` column.
    pub fn value(self) -> f64 {
        match self {
            Condition::CrossesAbove(v)
            | Condition::CrossesBelow(v)
            | Condition::MovesPercent(v)
            | Condition::RelVolumeAbove(v) => v,
        }
    }

    /// The price line this alert watches, for the chart.
    pub fn price_level(self) -> Option<f64> {
        match self {
            Condition::CrossesAbove(v) | Condition::CrossesBelow(v) => Some(v),
            _ => None,
        }
    }

    /// From the stored columns.
    pub fn from_stored(kind: &str, value: f64) -> Result<Condition, ConditionError> {
        let condition = match kind {
            "crosses_above" => Condition::CrossesAbove(value),
            "crosses_below" => Condition::CrossesBelow(value),
            "moves_pct" => Condition::MovesPercent(value),
            "rel_volume_above" => Condition::RelVolumeAbove(value),
            other => return Err(ConditionError::UnknownKind(crate::text::printable(other))),
        };
        condition.validate()
    }

    /// From the trader's words: `above 450.5`, `below 440`, `move 2%` (or `move 2`),
    /// `relvol 3` (or `relvol 3x`). Synonyms: `crosses_above`, `moves`, `rvol`, ….
    pub fn parse(kind: &str, value: &str) -> Result<Condition, ConditionError> {
        let kind_lower = kind.trim().to_ascii_lowercase();
        let number = |what: &'static str, text: &str| -> Result<f64, ConditionError> {
            text.trim()
                .parse::<f64>()
                .map_err(|_| ConditionError::NotANumber {
                    what,
                    value: crate::text::printable(value.trim()),
                })
        };
        let condition = match kind_lower.as_str() {
            "above" | "crosses_above" | "cross_above" => {
                Condition::CrossesAbove(number("the price", value)?)
            }
            "below" | "crosses_below" | "cross_below" => {
                Condition::CrossesBelow(number("the price", value)?)
            }
            "move" | "moves" | "moves_pct" | "pct" => Condition::MovesPercent(number(
                "the move in percent",
                value.trim().trim_end_matches('%'),
            )?),
            "relvol" | "rvol" | "rel_volume_above" | "volume" => Condition::RelVolumeAbove(number(
                "the relative volume",
                value.trim().trim_end_matches(['x', 'X']),
            )?),
            _ => return Err(ConditionError::UnknownKind(crate::text::printable(kind))),
        };
        condition.validate()
    }

    /// Refuses a non-finite or out-of-range value.
    pub fn validate(self) -> Result<Condition, ConditionError> {
        let (what, max) = match self {
            Condition::CrossesAbove(_) | Condition::CrossesBelow(_) => ("the price", 1e9),
            Condition::MovesPercent(_) => ("the move in percent", MAX_MOVE_PCT),
            Condition::RelVolumeAbove(_) => ("the relative volume", MAX_REL_VOLUME),
        };
        let value = self.value();
        if value.is_finite() && value > 0.0 && value <= max {
            Ok(self)
        } else {
            Err(ConditionError::OutOfRange { what, value, max })
        }
    }
}

impl fmt::Display for Condition {
    /// `crosses above 450.50`, `moves ±2 %`, `relative volume above 3×`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::CrossesAbove(v) => write!(f, "crosses above {v:.2}"),
            Condition::CrossesBelow(v) => write!(f, "crosses below {v:.2}"),
            Condition::MovesPercent(v) => write!(f, "moves ±{v} %"),
            Condition::RelVolumeAbove(v) => write!(f, "relative volume above {v}×"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traders_words_parse_and_round_trip_through_the_columns() {
        let c = Condition::parse("above", "450.5").unwrap();
        assert_eq!(c, Condition::CrossesAbove(450.5));
        assert_eq!(
            Condition::from_stored(c.kind(), c.value()).unwrap(),
            c,
            "stored form"
        );
        assert_eq!(
            Condition::parse("MOVE", "2%").unwrap(),
            Condition::MovesPercent(2.0)
        );
        assert_eq!(
            Condition::parse("relvol", "3x").unwrap(),
            Condition::RelVolumeAbove(3.0)
        );
        assert_eq!(
            Condition::parse("below", " 440 ").unwrap().to_string(),
            "crosses below 440.00"
        );
    }

    #[test]
    fn bad_conditions_name_what_is_wrong() {
        let e = Condition::parse("sideways", "1").unwrap_err().to_string();
        assert!(e.contains("sideways"), "{e}");
        let e = Condition::parse("above", "abc").unwrap_err().to_string();
        assert!(e.contains("abc") && e.contains("price"), "{e}");
        for (kind, value) in [
            ("above", "NaN"),
            ("below", "-3"),
            ("move", "0"),
            ("move", "150"),
        ] {
            assert!(
                Condition::parse(kind, value).is_err(),
                "{kind} {value} must be refused"
            );
        }
        assert!(Condition::from_stored("crosses_sideways", 1.0).is_err());
    }
}
