//! The scanner's signals besides detections (SPEC 6): price within 0.3 % of a key level,
//! and relative-volume spikes. Each gets a score 0–100 so it ranks with the detections;
//! a signal is a heads-up, not a plan: it has no stop or target and cannot be tracked.
//! And whether a detection is still an opportunity (`gone`): its stop or target has not
//! traded since, and it is not older than a detection's useful life.

use chrono::{DateTime, Utc};

use crate::domain::{Bar, Detection, Direction, Symbol};

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

/// Why a detection is no longer an opportunity to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// A bar after the signal bar traded through the stop: the plan failed untracked.
    StopTraded,
    /// A bar after the signal bar reached the target: the move happened without us.
    TargetTraded,
    /// Older than the useful life of a detection (`[scanner] max_age_minutes`).
    TooOld,
}

/// Whether `detection` is still a live opportunity at `now`: `None` while it is, else
/// why not. `bars` are the symbol's final minute bars (any range, time order not
/// needed): only those starting after the signal bar count, so the bar that fired the
/// detection never kills it. A bar that trades both stop and target is judged stopped
/// (the safe reading: its order inside the minute is unknown). `max_age` counts from the
/// end of the signal bar.
pub fn gone(
    detection: &Detection,
    bars: &[Bar],
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Option<Gone> {
    let after = bars.iter().filter(|b| b.start > detection.bar_time);
    let (mut stopped, mut reached) = (false, false);
    for bar in after {
        let (stop_hit, target_hit) = match detection.direction {
            Direction::Long => (bar.low <= detection.stop, bar.high >= detection.target),
            Direction::Short => (bar.high >= detection.stop, bar.low <= detection.target),
        };
        stopped |= stop_hit;
        reached |= target_hit;
    }
    if stopped {
        Some(Gone::StopTraded)
    } else if reached {
        Some(Gone::TargetTraded)
    } else if now - detection.detected_at > max_age {
        Some(Gone::TooOld)
    } else {
        None
    }
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

    mod gone {
        use super::*;
        use crate::domain::SetupKind;
        use chrono::TimeZone;

        /// 10:00 ET on 2026-11-24 (15:00 UTC) plus `m` minutes.
        fn at(m: i64) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap() + chrono::Duration::minutes(m)
        }

        /// A long SPY plan from the 10:00 bar: entry 680.00, stop 679.00, target 682.00.
        fn long() -> Detection {
            Detection {
                symbol: spy(),
                kind: SetupKind::OrbBreakout,
                direction: Direction::Long,
                confidence: 70,
                entry: 680.0,
                stop: 679.0,
                target: 682.0,
                detected_at: at(1),
                bar_time: at(0),
                market_date: at(0).date_naive(),
                dedup_key: "orb".into(),
                rationale: "test".into(),
                gex: None,
            }
        }

        fn bar(m: i64, low: f64, high: f64) -> Bar {
            Bar {
                start: at(m),
                open: low,
                high,
                low,
                close: high,
                volume: 1000.0,
            }
        }

        const HOUR: chrono::Duration = chrono::Duration::minutes(60);

        #[test]
        fn a_plan_lives_while_price_stays_between_stop_and_target() {
            let bars = [bar(1, 679.50, 681.20), bar(2, 679.10, 681.90)];
            assert_eq!(gone(&long(), &bars, at(3), HOUR), None);
        }

        #[test]
        fn a_long_plan_dies_when_a_later_bar_trades_its_stop_or_target() {
            let stop = [bar(1, 679.50, 680.50), bar(2, 679.00, 680.00)];
            assert_eq!(gone(&long(), &stop, at(3), HOUR), Some(Gone::StopTraded));
            let target = [bar(1, 680.10, 682.00)];
            assert_eq!(
                gone(&long(), &target, at(2), HOUR),
                Some(Gone::TargetTraded)
            );
            let both = [bar(1, 678.90, 682.10)];
            assert_eq!(
                gone(&long(), &both, at(2), HOUR),
                Some(Gone::StopTraded),
                "a bar through both is read as stopped"
            );
        }

        #[test]
        fn the_signal_bar_itself_never_kills_its_plan() {
            let bars = [bar(0, 678.00, 683.00), bar(-5, 670.0, 690.0)];
            assert_eq!(gone(&long(), &bars, at(1), HOUR), None);
        }

        #[test]
        fn a_short_plan_reads_stop_above_and_target_below() {
            let short = Detection {
                direction: Direction::Short,
                stop: 681.0,
                target: 678.0,
                ..long()
            };
            let up = [bar(1, 679.5, 681.0)];
            assert_eq!(gone(&short, &up, at(2), HOUR), Some(Gone::StopTraded));
            let down = [bar(1, 678.0, 679.5)];
            assert_eq!(gone(&short, &down, at(2), HOUR), Some(Gone::TargetTraded));
            assert_eq!(gone(&short, &[bar(1, 678.5, 680.5)], at(2), HOUR), None);
        }

        #[test]
        fn a_plan_older_than_its_useful_life_is_gone() {
            // detected at 10:01: alive at 11:01 exactly, gone a minute later
            assert_eq!(gone(&long(), &[], at(61), HOUR), None);
            assert_eq!(gone(&long(), &[], at(62), HOUR), Some(Gone::TooOld));
        }
    }
}
