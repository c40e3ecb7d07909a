//! What a GEX level does to price, read from where it sits relative to spot and the sign of
//! its net gamma (issue 22 item 4). Dealers are assumed long calls and short puts (SPEC 7):
//! where their net gamma is positive they sell rallies and buy dips, so the level holds price
//! (a resistance above spot, a support below, a pin at either); where it is negative they
//! hedge with the move, so crossing it accelerates price.

/// A level's role for a trader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelRole {
    /// Positive γ above spot: dealers sell into it.
    ResistancePin,
    /// Positive γ below spot: dealers buy into it.
    SupportPin,
    /// Negative γ above spot: dealers buy as price rises through it.
    AccelerationUp,
    /// Negative γ below spot: dealers sell as price falls through it.
    AccelerationDown,
    /// At spot (within half a cent) or with no gamma: no role to read.
    AtSpot,
}

impl LevelRole {
    /// The role of a level at `level` with net GEX `net_gex` (dollars per 1 % move) when the
    /// underlying trades at `spot` (price units). Non-finite input reads as `AtSpot`.
    pub fn of(level: f64, net_gex: f64, spot: f64) -> LevelRole {
        if !(level.is_finite() && net_gex.is_finite() && spot.is_finite())
            || (level - spot).abs() < 0.005
            || net_gex == 0.0
        {
            return LevelRole::AtSpot;
        }
        match (level > spot, net_gex > 0.0) {
            (true, true) => LevelRole::ResistancePin,
            (false, true) => LevelRole::SupportPin,
            (true, false) => LevelRole::AccelerationUp,
            (false, false) => LevelRole::AccelerationDown,
        }
    }

    /// The words on screen.
    pub fn label(self) -> &'static str {
        match self {
            LevelRole::ResistancePin => "resistance/pin",
            LevelRole::SupportPin => "support/pin",
            LevelRole::AccelerationUp => "acceleration ↑",
            LevelRole::AccelerationDown => "acceleration ↓",
            LevelRole::AtSpot => "at spot",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LevelRole::{self, *};

    #[test]
    fn a_levels_role_follows_its_side_of_spot_and_its_gamma_sign() {
        let spot = 674.10;
        assert_eq!(LevelRole::of(680.0, 2.1e9, spot), ResistancePin);
        assert_eq!(LevelRole::of(665.0, 1.4e9, spot), SupportPin);
        assert_eq!(LevelRole::of(690.0, -3.0e8, spot), AccelerationUp);
        assert_eq!(LevelRole::of(660.0, -1.7e9, spot), AccelerationDown);
        // The same put wall reads differently once price has fallen through it.
        assert_eq!(LevelRole::of(660.0, -1.7e9, 655.0), AccelerationUp);
    }

    #[test]
    fn a_level_at_spot_or_without_gamma_or_with_nan_has_no_role() {
        assert_eq!(LevelRole::of(674.10, 2.0e9, 674.104), AtSpot);
        assert_eq!(LevelRole::of(680.0, 0.0, 674.10), AtSpot);
        assert_eq!(LevelRole::of(f64::NAN, 1.0, 674.10), AtSpot);
        assert_eq!(LevelRole::of(680.0, f64::INFINITY, 674.10), AtSpot);
        assert_eq!(AccelerationDown.label(), "acceleration ↓");
    }
}
