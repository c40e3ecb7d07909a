//! What a price alert waits for, how the trader writes it, and how it is stored.
//!
//! Stored as two columns: `condition` (`crosses_above`, `crosses_below`, `moves_pct`,
//! `rel_volume_above`, and the gamma conditions of SPEC 20: `flip_cross`, `wall_break`,
//! `regime_change`) and `level` (a price in the instrument's units; a percentage for
//! `moves_pct`; a ratio for `rel_volume_above`; the break in percent of spot for
//! `wall_break`; 0 for `flip_cross` and `regime_change`, which take no value). The trader
//! writes `above 450.5`, `below 440`, `move 2%`, `relvol 3`, `flip_cross`,
//! `wall_break 0.1%` or `regime_change`.

use std::fmt;

/// Largest move an alert may wait for, percent.
pub const MAX_MOVE_PCT: f64 = 100.0;
/// Largest relative volume an alert may wait for (minute volume over its baseline).
pub const MAX_REL_VOLUME: f64 = 1000.0;
/// Largest wall break an alert may wait for, percent of spot.
pub const MAX_WALL_BREAK_PCT: f64 = 10.0;

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
    /// Spot crosses the latest zero gamma: a price that moves over the flip, or a refresh
    /// that moves the flip over the price (SPEC 20).
    FlipCross,
    /// A final minute bar closes above the call wall, or below the put wall, by at least
    /// `pct` percent of its close (0: any close beyond), the walls of the latest refresh.
    WallBreak(f64),
    /// Total GEX changes sign from one refresh to the next (SPEC 20).
    RegimeChange,
}

/// Why a condition was refused; names the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error(
        "unknown alert condition {0:?}: use above, below, move, relvol, flip_cross, wall_break or regime_change"
    )]
    UnknownKind(String),
    #[error("{kind} takes no value, got {value:?} (write just `{kind}`)")]
    UnexpectedValue { kind: &'static str, value: String },
    #[error("{kind} needs {what}, e.g. `{example}`")]
    MissingValue {
        kind: &'static str,
        what: &'static str,
        example: &'static str,
    },
    #[error("the wall break in percent of spot must be from 0 to {max}, got {value}")]
    WallBreakRange { value: f64, max: f64 },
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
            Condition::FlipCross => "flip_cross",
            Condition::WallBreak(_) => "wall_break",
            Condition::RegimeChange => "regime_change",
        }
    }

    /// Whether the trader's word `kind` is a condition written without a value
    /// (`flip_cross`, `regime_change` and their synonyms).
    pub fn takes_no_value(kind: &str) -> bool {
        matches!(
            kind.trim().to_ascii_lowercase().as_str(),
            "flip_cross" | "flip" | "flipcross" | "regime_change" | "regime" | "regimechange"
        )
    }

    /// Whether the condition watches the GEX profile (the evaluator feeds it refreshes).
    pub fn is_gamma(self) -> bool {
        matches!(
            self,
            Condition::FlipCross | Condition::WallBreak(_) | Condition::RegimeChange
        )
    }

    /// The stored `level` column.
    pub fn value(self) -> f64 {
        match self {
            Condition::CrossesAbove(v)
            | Condition::CrossesBelow(v)
            | Condition::MovesPercent(v)
            | Condition::RelVolumeAbove(v)
            | Condition::WallBreak(v) => v,
            Condition::FlipCross | Condition::RegimeChange => 0.0,
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
            "flip_cross" => Condition::FlipCross,
            "wall_break" => Condition::WallBreak(value),
            "regime_change" => Condition::RegimeChange,
            other => return Err(ConditionError::UnknownKind(crate::text::printable(other))),
        };
        condition.validate()
    }

    /// From the trader's words: `above 450.5`, `below 440`, `move 2%` (or `move 2`),
    /// `relvol 3` (or `relvol 3x`), `flip_cross` and `regime_change` with an empty value,
    /// `wall_break 0.1` (or `0.1%`). Synonyms: `crosses_above`, `moves`, `rvol`, `flip`, ….
    pub fn parse(kind: &str, value: &str) -> Result<Condition, ConditionError> {
        let kind_lower = kind.trim().to_ascii_lowercase();
        if Condition::takes_no_value(&kind_lower) {
            let condition = if kind_lower.starts_with("flip") {
                Condition::FlipCross
            } else {
                Condition::RegimeChange
            };
            if !value.trim().is_empty() {
                return Err(ConditionError::UnexpectedValue {
                    kind: condition.kind(),
                    value: crate::text::printable(value.trim()),
                });
            }
            return Ok(condition);
        }
        if value.trim().is_empty() {
            let missing = |kind, what, example| ConditionError::MissingValue {
                kind,
                what,
                example,
            };
            return Err(match kind_lower.as_str() {
                "wall_break" | "wall" | "wallbreak" => missing(
                    "wall_break",
                    "the break beyond the wall in percent of spot",
                    "wall_break 0.1%",
                ),
                "move" | "moves" | "moves_pct" | "pct" => {
                    missing("move", "the move in percent", "move 2%")
                }
                "relvol" | "rvol" | "rel_volume_above" | "volume" => {
                    missing("relvol", "the relative volume", "relvol 3")
                }
                "above" | "crosses_above" | "cross_above" | "below" | "crosses_below"
                | "cross_below" => missing("a crossing alert", "a price", "above 450.5"),
                _ => ConditionError::UnknownKind(crate::text::printable(kind)),
            });
        }
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
            "wall_break" | "wall" | "wallbreak" => Condition::WallBreak(number(
                "the wall break in percent of spot",
                value.trim().trim_end_matches('%'),
            )?),
            _ => return Err(ConditionError::UnknownKind(crate::text::printable(kind))),
        };
        condition.validate()
    }

    /// Refuses a non-finite or out-of-range value.
    pub fn validate(self) -> Result<Condition, ConditionError> {
        let (what, max) = match self {
            Condition::FlipCross | Condition::RegimeChange => return Ok(self),
            Condition::WallBreak(value) => {
                return if value.is_finite() && (0.0..=MAX_WALL_BREAK_PCT).contains(&value) {
                    Ok(self)
                } else {
                    Err(ConditionError::WallBreakRange {
                        value,
                        max: MAX_WALL_BREAK_PCT,
                    })
                };
            }
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
            Condition::FlipCross => write!(f, "crosses zero gamma"),
            Condition::WallBreak(v) => write!(f, "closes beyond a GEX wall by ≥ {v} %"),
            Condition::RegimeChange => write!(f, "GEX regime changes"),
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

    #[test]
    fn gamma_conditions_parse_round_trip_and_refuse_bad_values_by_name() {
        for (kind, value, want) in [
            ("flip_cross", "", Condition::FlipCross),
            ("FLIP", " ", Condition::FlipCross),
            ("regime_change", "", Condition::RegimeChange),
            ("wall_break", "0.1%", Condition::WallBreak(0.1)),
            ("wall_break", "0", Condition::WallBreak(0.0)),
        ] {
            let c = Condition::parse(kind, value).unwrap();
            assert_eq!(c, want);
            assert_eq!(Condition::from_stored(c.kind(), c.value()).unwrap(), c);
            assert!(c.is_gamma() && c.price_level().is_none());
        }
        assert_eq!(
            Condition::FlipCross.to_string(),
            "crosses zero gamma",
            "the status line's words"
        );
        let e = Condition::parse("flip_cross", "671.35")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "flip_cross takes no value, got \"671.35\" (write just `flip_cross`)"
        );
        let e = Condition::parse("wall_break", "").unwrap_err().to_string();
        assert!(e.contains("wall_break needs") && e.contains("0.1%"), "{e}");
        let e = Condition::parse("wall_break", "wide")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"wide\"") && e.contains("wall break"), "{e}");
        for bad in ["-0.5", "12", "NaN", "inf"] {
            let e = Condition::parse("wall_break", bad).unwrap_err().to_string();
            assert!(e.contains("from 0 to 10"), "{bad}: {e}");
        }
        let e = Condition::parse("regime_change", "up")
            .unwrap_err()
            .to_string();
        assert!(e.contains("regime_change takes no value"), "{e}");
        let e = Condition::parse("above", "").unwrap_err().to_string();
        assert!(e.contains("needs a price"), "{e}");
        let e = Condition::parse("gamma", "").unwrap_err().to_string();
        assert!(e.contains("flip_cross, wall_break or regime_change"), "{e}");
    }
}
