//! Tracking a plan late (SPEC 5, honest fills): what price did between a detection and the
//! moment the trader tracks it. Pure: the caller passes the plan and the price updates it
//! has for the symbol (the feed's final minute bars and last trade); no clock, no I/O.
//!
//! - The target or the stop traded since the detection → tracking is **refused**, with
//!   the level and the time ("target already reached at 10:42 ET"): the plan is over, and
//!   tracking it would book a result that never was.
//! - Only the entry traded → tracking goes ahead with a **warning** ("entry already passed
//!   at 10:12 ET; fills at the next price"): the evaluator fills it at the next update's
//!   price nearest to the entry, never at the entry the market left behind.
//!
//! Only updates after the detection count (`at > detected_at`, as for an armed setup),
//! and only valid ones (finite, `low ≤ last ≤ high`). When one update reaches both the
//! stop and the target, the stop is named (the conservative reading, as in `evaluate`).
//! Times are shown in New York.

use std::fmt;

use chrono::{DateTime, Utc};

use super::evaluate::PriceUpdate;
use crate::domain::{Detection, Direction};
use crate::market::calendar::NEW_YORK;

/// The plan level that already traded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LateLevel {
    Target,
    Stop,
}

impl LateLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LateLevel::Target => "target",
            LateLevel::Stop => "stop",
        }
    }
}

/// The verdict on tracking a plan now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LateTrack {
    /// Nothing of the plan traded since the detection: track it.
    Fresh,
    /// The entry traded first at `at` (the update's price nearest to it: `price`), and
    /// neither the target nor the stop since: track it, and say it fills at the next price.
    EntryPassed { at: DateTime<Utc>, price: f64 },
    /// The target or the stop traded first at `at`: refuse to track.
    Refused {
        level: LateLevel,
        at: DateTime<Utc>,
        price: f64,
    },
}

impl LateTrack {
    /// Whether tracking is refused.
    pub fn is_refused(&self) -> bool {
        matches!(self, LateTrack::Refused { .. })
    }

    /// The warning to show the trader when tracking goes ahead late; `None` when fresh or
    /// refused.
    pub fn warning(&self) -> Option<String> {
        match self {
            LateTrack::EntryPassed { .. } => Some(self.to_string()),
            _ => None,
        }
    }

    /// The reason tracking is refused; `None` when it may go ahead.
    pub fn refusal(&self) -> Option<String> {
        self.is_refused().then(|| self.to_string())
    }
}

/// "10:42 ET".
fn ny_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&NEW_YORK).format("%H:%M ET").to_string()
}

impl fmt::Display for LateTrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LateTrack::Fresh => f.write_str("nothing of the plan traded since the detection"),
            LateTrack::EntryPassed { at, .. } => write!(
                f,
                "entry already passed at {}; fills at the next price",
                ny_time(*at)
            ),
            LateTrack::Refused { level, at, .. } => {
                write!(f, "{} already reached at {}", level.as_str(), ny_time(*at))
            }
        }
    }
}

/// Judges tracking `plan` now from the price `updates` of its symbol (any order; those
/// at or before `plan.detected_at` are skipped). See the module documentation.
pub fn judge_late_track(
    plan: &Detection,
    updates: impl IntoIterator<Item = PriceUpdate>,
) -> LateTrack {
    let long = plan.direction == Direction::Long;
    // Adverse extreme at or through the stop; favourable extreme at or through a level.
    let breaches = |u: &PriceUpdate| {
        if long {
            u.low <= plan.stop
        } else {
            u.high >= plan.stop
        }
    };
    let reaches = |u: &PriceUpdate, level: f64| {
        if long {
            u.high >= level
        } else {
            u.low <= level
        }
    };
    let mut refused: Option<(DateTime<Utc>, LateLevel, f64)> = None;
    let mut entry: Option<(DateTime<Utc>, f64)> = None;
    for u in updates {
        if u.at <= plan.detected_at || !u.is_valid() {
            continue;
        }
        let nearest = |level: f64| level.clamp(u.low, u.high);
        let hit = if breaches(&u) {
            Some((LateLevel::Stop, nearest(plan.stop)))
        } else if reaches(&u, plan.target) {
            Some((LateLevel::Target, nearest(plan.target)))
        } else {
            None
        };
        if let Some((level, price)) = hit
            && refused.is_none_or(|(first, _, _)| u.at < first)
        {
            refused = Some((u.at, level, price));
        }
        if reaches(&u, plan.entry) && entry.is_none_or(|(first, _)| u.at < first) {
            entry = Some((u.at, nearest(plan.entry)));
        }
    }
    match (refused, entry) {
        (Some((at, level, price)), _) => LateTrack::Refused { level, at, price },
        (None, Some((at, price))) => LateTrack::EntryPassed { at, price },
        (None, None) => LateTrack::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setups::fixtures::{at, bar, detection, trade};

    /// Long SPY: stop 100, entry 101, target 103, detected at 14:00Z (10:00 ET).
    fn long_plan() -> Detection {
        detection(Direction::Long, 101.0, 100.0, 103.0)
    }

    #[test]
    fn a_late_tracked_plan_whose_target_already_traded_is_refused_with_the_time() {
        let verdict = judge_late_track(
            &long_plan(),
            [
                bar("14:05", 101.5, 100.6),
                bar("14:42", 103.4, 102.1),
                bar("16:00", 104.0, 103.1),
            ],
        );
        assert_eq!(
            verdict,
            LateTrack::Refused {
                level: LateLevel::Target,
                at: at("14:42"),
                price: 103.0
            }
        );
        assert_eq!(
            verdict.refusal().as_deref(),
            Some("target already reached at 10:42 ET")
        );
        assert_eq!(verdict.warning(), None);
    }

    #[test]
    fn a_late_tracked_plan_whose_stop_already_traded_is_refused() {
        let verdict = judge_late_track(&long_plan(), [trade("15:10:30", 99.8)]);
        assert_eq!(
            verdict.refusal().as_deref(),
            Some("stop already reached at 11:10 ET")
        );
    }

    #[test]
    fn the_first_level_reached_is_named_and_the_stop_wins_within_one_update() {
        // Updates out of order: the stop at 14:20 came before the target at 14:30.
        let verdict = judge_late_track(
            &long_plan(),
            [bar("14:30", 103.5, 102.0), bar("14:20", 101.2, 99.9)],
        );
        assert!(matches!(
            verdict,
            LateTrack::Refused {
                level: LateLevel::Stop,
                ..
            }
        ));
        let both = judge_late_track(&long_plan(), [bar("14:10", 103.5, 99.5)]);
        assert!(matches!(
            both,
            LateTrack::Refused {
                level: LateLevel::Stop,
                ..
            }
        ));
    }

    #[test]
    fn a_plan_whose_entry_already_passed_is_tracked_with_a_warning() {
        let verdict = judge_late_track(
            &long_plan(),
            [bar("14:11", 101.6, 100.8), bar("14:12", 102.4, 101.7)],
        );
        assert_eq!(
            verdict,
            LateTrack::EntryPassed {
                at: at("14:11"),
                price: 101.0
            }
        );
        assert!(!verdict.is_refused());
        assert_eq!(
            verdict.warning().as_deref(),
            Some("entry already passed at 10:11 ET; fills at the next price")
        );
    }

    #[test]
    fn prices_from_before_the_detection_and_bad_updates_do_not_count() {
        let bad = PriceUpdate {
            at: at("14:30"),
            high: 104.0,
            low: 103.0,
            last: 99.0,
        };
        let verdict = judge_late_track(
            &long_plan(),
            [
                bar("13:59", 104.0, 99.0),
                bar("14:00", 104.0, 99.0),
                bad,
                bar("14:01", 100.9, 100.2),
            ],
        );
        assert_eq!(verdict, LateTrack::Fresh);
        assert_eq!(verdict.warning(), None);
        assert_eq!(verdict.refusal(), None);
    }

    proptest::proptest! {
        /// The verdict is decided by the first update after the detection that reached a
        /// level: refused at the first one through the target or stop, a warning at the
        /// first one through the entry otherwise, fresh when none did.
        #[test]
        fn the_verdict_names_the_first_update_after_the_detection_that_reached_a_level(
            path in proptest::collection::vec((95.0..106.0f64, 0.0..3.0f64), 0..30),
        ) {
            let plan = long_plan();
            // One update a minute from 13:50 (ten minutes before the detection).
            let updates: Vec<PriceUpdate> = path
                .iter()
                .enumerate()
                .map(|(i, &(mid, half))| PriceUpdate {
                    at: at("13:50") + chrono::Duration::minutes(i as i64),
                    high: mid + half,
                    low: mid - half,
                    last: mid,
                })
                .collect();
            let after = || updates.iter().filter(|u| u.at > plan.detected_at);
            let first_level = after().find(|u| u.low <= plan.stop || u.high >= plan.target);
            let first_entry = after().find(|u| u.high >= plan.entry);
            let verdict = judge_late_track(&plan, updates.iter().copied().rev());
            match (first_level, first_entry) {
                (Some(u), _) => {
                    let LateTrack::Refused { at: when, price, .. } = verdict else {
                        return Err(proptest::test_runner::TestCaseError::fail(format!("{verdict:?}")));
                    };
                    proptest::prop_assert_eq!(when, u.at);
                    proptest::prop_assert!(u.low <= price && price <= u.high);
                }
                (None, Some(u)) => proptest::prop_assert_eq!(
                    verdict,
                    LateTrack::EntryPassed { at: u.at, price: plan.entry.clamp(u.low, u.high) }
                ),
                (None, None) => proptest::prop_assert_eq!(verdict, LateTrack::Fresh),
            }
        }
    }

    #[test]
    fn a_short_mirrors_the_long() {
        // Short: stop 100, entry 99, target 97.
        let plan = detection(Direction::Short, 99.0, 100.0, 97.0);
        assert_eq!(
            judge_late_track(&plan, [trade("14:03", 98.5)]),
            LateTrack::EntryPassed {
                at: at("14:03"),
                price: 98.5
            }
        );
        assert_eq!(
            judge_late_track(&plan, [bar("14:03", 98.0, 96.5)])
                .refusal()
                .as_deref(),
            Some("target already reached at 10:03 ET")
        );
        assert_eq!(
            judge_late_track(&plan, [trade("14:03", 100.0)])
                .refusal()
                .as_deref(),
            Some("stop already reached at 10:03 ET")
        );
    }
}
