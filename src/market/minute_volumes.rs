//! One session's volume at each minute after the 09:30 open, for the relative-volume
//! history (issue 25 item 1: a symbol off screen in kilobytes). Two bytes a minute while
//! every volume is a whole number of shares below 65,535 (most stocks' minutes), four
//! (f32) once one is not. Either way a volume reads back as exactly the f32 it was stored
//! as, so the averages built on it do not depend on the form.

use super::bars::SESSION_MINUTES;

/// A minute without a bar in the narrow form.
const NO_BAR: u16 = u16::MAX;
/// A minute without a bar in the wide form (volumes are never negative).
const NO_BAR_WIDE: f32 = -1.0;

/// Volumes (shares) by minute after the open of one session; a minute without a bar has
/// none.
#[derive(Clone, Debug)]
pub enum MinuteVolumes {
    /// Every volume so far whole and below 65,535 shares: 780 bytes.
    Narrow(Box<[u16; SESSION_MINUTES]>),
    /// f32 volumes (7 significant digits): 1,560 bytes.
    Wide(Box<[f32; SESSION_MINUTES]>),
}

impl Default for MinuteVolumes {
    fn default() -> Self {
        MinuteVolumes::Narrow(Box::new([NO_BAR; SESSION_MINUTES]))
    }
}

impl MinuteVolumes {
    /// The volume stored at `minute` (`None` without a bar, or past the session's 390).
    pub fn get(&self, minute: usize) -> Option<f32> {
        match self {
            MinuteVolumes::Narrow(v) => v
                .get(minute)
                .filter(|v| **v != NO_BAR)
                .map(|v| f32::from(*v)),
            MinuteVolumes::Wide(v) => v.get(minute).copied().filter(|v| *v >= 0.0),
        }
    }

    /// Stores `volume` (finite, ≥ 0 shares) at `minute` < 390 as f32, widening the row
    /// when the narrow form cannot hold it exactly. Other inputs are ignored.
    pub fn set(&mut self, minute: usize, volume: f64) {
        if minute >= SESSION_MINUTES || !(volume.is_finite() && volume >= 0.0) {
            return;
        }
        // f32 keeps 7 significant digits: plenty for an average of share counts.
        let stored = volume as f32;
        if let MinuteVolumes::Narrow(v) = self {
            if stored.fract() == 0.0 && stored < f32::from(NO_BAR) {
                // whole and below 65,535: the u16 is exactly `stored`
                v[minute] = stored as u16;
                return;
            }
            *self = MinuteVolumes::Wide(Box::new(v.map(|n| {
                if n == NO_BAR {
                    NO_BAR_WIDE
                } else {
                    f32::from(n)
                }
            })));
        }
        if let MinuteVolumes::Wide(v) = self {
            v[minute] = stored;
        }
    }

    /// Whether the row holds two bytes a minute.
    pub fn is_narrow(&self) -> bool {
        matches!(self, MinuteVolumes::Narrow(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_share_counts_below_65535_stay_two_bytes_a_minute() {
        let mut row = MinuteVolumes::default();
        assert_eq!(row.get(0), None, "no bar yet");
        row.set(0, 0.0);
        row.set(1, 65_534.0);
        row.set(389, 1_200.0);
        assert!(row.is_narrow());
        assert_eq!(
            (row.get(0), row.get(1), row.get(2), row.get(389)),
            (Some(0.0), Some(65_534.0), None, Some(1_200.0))
        );
        assert_eq!(row.get(390), None, "past the session");
    }

    #[test]
    fn a_large_or_fractional_volume_widens_the_row_and_keeps_every_value() {
        for odd in [65_535.0, 2.5e7, 10.5] {
            let mut row = MinuteVolumes::default();
            row.set(3, 900.0);
            row.set(7, odd);
            assert!(!row.is_narrow(), "{odd}");
            assert_eq!(row.get(3), Some(900.0));
            assert_eq!(row.get(7), Some(odd as f32));
            assert_eq!(row.get(5), None, "a minute without a bar stays without");
            row.set(8, 12.0);
            assert_eq!(row.get(8), Some(12.0));
        }
    }

    #[test]
    fn nan_negative_and_out_of_session_volumes_are_not_stored() {
        let mut row = MinuteVolumes::default();
        row.set(1, f64::NAN);
        row.set(2, -5.0);
        row.set(390, 10.0);
        row.set(4, f64::INFINITY);
        assert!(row.is_narrow());
        assert!((0..SESSION_MINUTES).all(|m| row.get(m).is_none()));
    }
}
