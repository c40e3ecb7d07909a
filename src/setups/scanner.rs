//! The scanner's signals besides detections (SPEC 6): price within 0.3 % of a key level,
//! and relative-volume spikes. Each gets a score 0–100 so it ranks with the detections;
//! a signal is a heads-up, not a plan: it has no stop or target and cannot be tracked.

use crate::domain::{Direction, Symbol};

/// Price within this percent of a level counts as "at the level".
pub const NEAR_LEVEL_PCT: f64 = 0.3;
/// A minute's volume at least this many times its baseline is a spike.
pub const SPIKE_RATIO: f64 = 2.0;

#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// Price is `distance_pct` % from `level` (positive: the level is above price).
    NearLevel {
        label: &'static str,
        level: f64,
        distance_pct: f64,
    },
    /// The last minute traded `ratio` times its baseline volume.
    VolumeSpike { ratio: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScanSignal {
    pub symbol: Symbol,
    pub signal: Signal,
    /// Toward the level (up to a level above, down to one below), or the spike bar's move.
    pub direction: Direction,
    pub score: u8,
}

impl ScanSignal {
    /// `at PDH 683.20 (+0.12 %)` / `volume 3.1×`.
    pub fn describe(&self) -> String {
        match &self.signal {
            Signal::NearLevel {
                label,
                level,
                distance_pct,
            } => format!("at {label} {level:.2} ({distance_pct:+.2} %)"),
            Signal::VolumeSpike { ratio } => format!("volume {ratio:.1}×"),
        }
    }
}

/// The nearest level within 0.3 % of `price`, scored 90 at the level down to 30 at the
/// edge. Levels that are not finite or not positive are ignored.
pub fn near_level(
    symbol: &Symbol,
    price: f64,
    levels: &[(&'static str, f64)],
) -> Option<ScanSignal> {
    if !(price.is_finite() && price > 0.0) {
        return None;
    }
    let (label, level) = levels
        .iter()
        .filter(|(_, l)| l.is_finite() && *l > 0.0)
        .min_by(|a, b| (a.1 - price).abs().total_cmp(&(b.1 - price).abs()))?;
    let distance_pct = (level - price) / price * 100.0;
    if distance_pct.abs() > NEAR_LEVEL_PCT {
        return None;
    }
    let closeness = 1.0 - distance_pct.abs() / NEAR_LEVEL_PCT;
    Some(ScanSignal {
        symbol: symbol.clone(),
        signal: Signal::NearLevel {
            label,
            level: *level,
            distance_pct,
        },
        direction: if *level >= price {
            Direction::Long
        } else {
            Direction::Short
        },
        score: (30.0 + 60.0 * closeness).round() as u8,
    })
}

/// A spike of `ratio` ≥ 2× baseline, scored 40 at 2× rising to 95; `up` is the bar's move.
pub fn volume_spike(symbol: &Symbol, ratio: f64, up: bool) -> Option<ScanSignal> {
    if !(ratio.is_finite() && ratio >= SPIKE_RATIO) {
        return None;
    }
    Some(ScanSignal {
        symbol: symbol.clone(),
        signal: Signal::VolumeSpike { ratio },
        direction: if up {
            Direction::Long
        } else {
            Direction::Short
        },
        score: (40.0 + 15.0 * (ratio - SPIKE_RATIO))
            .clamp(40.0, 95.0)
            .round() as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spy() -> Symbol {
        Symbol::parse("SPY").unwrap()
    }

    #[test]
    fn price_within_a_third_of_a_percent_of_a_level_is_at_the_level() {
        let levels = [("PDH", 684.00), ("PDC", 679.00), ("VWAP", f64::NAN)];
        let s = near_level(&spy(), 683.00, &levels).unwrap();
        match s.signal {
            Signal::NearLevel {
                label,
                level,
                distance_pct,
            } => {
                assert_eq!((label, level), ("PDH", 684.0));
                assert!((distance_pct - 0.146_412).abs() < 1e-6, "{distance_pct}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.direction,
            Direction::Long,
            "the level is above: price approaches from below"
        );
        assert_eq!(s.describe(), "at PDH 684.00 (+0.15 %)");
        assert!(s.score > 30 && s.score < 90, "{}", s.score);
        assert_eq!(
            near_level(&spy(), 684.00, &levels).unwrap().score,
            90,
            "at the level itself"
        );
        assert!(
            near_level(&spy(), 681.5, &levels).is_none(),
            "0.37 % from PDC is too far"
        );
        assert!(near_level(&spy(), f64::NAN, &levels).is_none());
        assert!(
            near_level(&spy(), 683.0, &[]).is_none(),
            "no levels known, nothing said"
        );
    }

    #[test]
    fn a_volume_spike_is_two_times_baseline_or_more() {
        assert!(volume_spike(&spy(), 1.9, true).is_none());
        let s = volume_spike(&spy(), 3.0, false).unwrap();
        assert_eq!((s.score, s.direction), (55, Direction::Short));
        assert_eq!(volume_spike(&spy(), 50.0, true).unwrap().score, 95);
        assert!(volume_spike(&spy(), f64::INFINITY, true).is_none());
    }
}
