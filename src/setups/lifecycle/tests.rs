use super::*;
use crate::setups::fixtures::{at, detection, long_setup};

use ManualAction::{Archive, Invalidate, Reopen, Trigger};
use Outcome::{Open, StoppedOut, TargetHit};
use SetupStatus::{Active, Archived, Invalidated, Triggered};

/// Applies `reason` at `time` and returns the setup; panics if refused.
fn step(mut setup: TrackedSetup, reason: TransitionReason, time: &str) -> TrackedSetup {
    let t = Transition::compute(&setup, reason, None, at(time)).unwrap();
    setup.apply(&t).unwrap();
    setup
}

/// The long fixture brought into a state by legal transitions.
fn long_in(status: SetupStatus, outcome: Option<Outcome>) -> TrackedSetup {
    use TransitionReason as R;
    let s = long_setup();
    match (status, outcome) {
        (Active, None) => s,
        (Triggered, Some(Open)) => step(s, R::EntryCrossed, "14:05"),
        (Triggered, Some(TargetHit)) => {
            step(step(s, R::EntryCrossed, "14:05"), R::TargetHit, "14:30")
        }
        (Triggered, Some(StoppedOut)) => {
            step(step(s, R::EntryCrossed, "14:05"), R::StoppedOut, "14:30")
        }
        (Invalidated, None) => step(s, R::StopBeforeEntry, "14:05"),
        (Archived, None) => step(s, R::ManualArchive, "14:05"),
        (Archived, Some(o)) => step(long_in(Triggered, Some(o)), R::ManualArchive, "15:00"),
        other => panic!("not a reachable state: {other:?}"),
    }
}

#[test]
fn tracking_a_plan_makes_an_active_version_1_setup() {
    let s = long_setup();
    assert_eq!((s.status, s.outcome, s.version), (Active, None, 1));
    assert_eq!(
        (s.tracked_at, s.armed_at, s.updated_at),
        (at("14:00"), at("14:00"), at("14:00"))
    );
    assert_eq!(s.realised_r, None);
    assert!(s.is_live());
    assert_eq!(s.target_r(), 2.0);
}

#[test]
fn plans_must_be_ordered_for_their_direction() {
    use crate::domain::Direction::{Long, Short};
    let track =
        |d, e, s, t| TrackedSetup::track(1, None, &detection(d, e, s, t), false, at("14:00"));
    assert!(track(Long, 101.0, 100.0, 103.0).is_ok());
    assert!(track(Short, 99.0, 100.0, 97.0).is_ok());
    let err = track(Long, 101.0, 102.0, 103.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a long plan needs stop < entry < target; got stop 102, entry 101, target 103"
    );
    assert!(matches!(
        track(Short, 99.0, 98.0, 97.0),
        Err(PlanError::Misordered { .. })
    ));
    assert!(matches!(
        track(Long, 101.0, 100.0, 101.0),
        Err(PlanError::Misordered { .. })
    ));
    assert!(matches!(
        track(Long, f64::NAN, 100.0, 103.0),
        Err(PlanError::NotAPrice { field: "entry", .. })
    ));
    assert!(matches!(
        track(Long, 101.0, 0.0, 103.0),
        Err(PlanError::NotAPrice { field: "stop", .. })
    ));
    assert!(matches!(
        track(Short, 99.0, 100.0, f64::INFINITY),
        Err(PlanError::NotAPrice {
            field: "target",
            ..
        })
    ));
}

/// Every cell of the manual-action table in the module documentation.
#[test]
fn the_manual_action_table() {
    type Expect = Result<(SetupStatus, Option<Outcome>), &'static str>;
    let states: [(SetupStatus, Option<Outcome>); 6] = [
        (Active, None),
        (Triggered, Some(Open)),
        (Triggered, Some(TargetHit)),
        (Triggered, Some(StoppedOut)),
        (Invalidated, None),
        (Archived, None),
    ];
    let table: [[Expect; 6]; 4] = [
        // trigger
        [
            Ok((Triggered, Some(Open))),
            Err("setup 12 is already triggered (open)"),
            Err("setup 12 is already triggered (target hit)"),
            Err("setup 12 is already triggered (stopped out)"),
            Err("setup 12 cannot be marked triggered: it is invalidated; reopen it first"),
            Err("setup 12 cannot be marked triggered: it is archived; reopen it first"),
        ],
        // invalidate
        [
            Ok((Invalidated, None)),
            Ok((Invalidated, None)),
            Err("setup 12 cannot be invalidated: it is triggered (target hit); archive it instead"),
            Err(
                "setup 12 cannot be invalidated: it is triggered (stopped out); archive it instead",
            ),
            Err("setup 12 is already invalidated"),
            Err("setup 12 cannot be invalidated: it is archived; reopen it first"),
        ],
        // archive
        [
            Ok((Archived, None)),
            Ok((Archived, Some(Open))),
            Ok((Archived, Some(TargetHit))),
            Ok((Archived, Some(StoppedOut))),
            Ok((Archived, None)),
            Err("setup 12 is already archived"),
        ],
        // reopen
        [
            Err("setup 12 is already active"),
            Ok((Active, None)),
            Ok((Active, None)),
            Ok((Active, None)),
            Ok((Active, None)),
            Ok((Active, None)),
        ],
    ];
    for (action, row) in [Trigger, Invalidate, Archive, Reopen]
        .into_iter()
        .zip(table)
    {
        for ((status, outcome), expected) in states.into_iter().zip(row) {
            let setup = long_in(status, outcome);
            let got = apply_manual(&setup, action, at("15:30"));
            match (got, expected) {
                (Ok(t), Ok((to, out))) => {
                    assert_eq!(
                        (t.to, t.outcome),
                        (to, out),
                        "{action:?} from {status:?}/{outcome:?}"
                    );
                    assert_eq!(
                        (t.from, t.from_version, t.reason),
                        (status, setup.version, action.reason())
                    );
                    assert_eq!((t.price, t.at), (None, at("15:30")));
                    let mut applied = setup.clone();
                    applied.apply(&t).unwrap();
                    assert_eq!((applied.status, applied.outcome), (to, out));
                }
                (Err(e), Err(message)) => {
                    assert_eq!(
                        e.to_string(),
                        message,
                        "{action:?} from {status:?}/{outcome:?}"
                    );
                    assert!(matches!(e, RefusedTransition::NotAllowed { id: 12, .. }));
                }
                (got, expected) => {
                    panic!("{action:?} from {status:?}/{outcome:?}: got {got:?}, want {expected:?}")
                }
            }
        }
    }
}

#[test]
fn an_archived_resolved_setup_can_be_reopened_but_not_archived_again() {
    let s = long_in(Archived, Some(TargetHit));
    assert_eq!(s.realised_r, Some(2.0), "archiving keeps the result");
    assert_eq!(
        apply_manual(&s, Archive, at("16:00"))
            .unwrap_err()
            .to_string(),
        "setup 12 is already archived (target hit)"
    );
    assert!(apply_manual(&s, Reopen, at("16:00")).is_ok());
}

#[test]
fn triggering_records_the_instant_and_opens_the_outcome() {
    let s = long_in(Triggered, Some(Open));
    assert_eq!(s.triggered_at, Some(at("14:05")));
    assert_eq!(
        (s.version, s.updated_at, s.realised_r),
        (2, at("14:05"), None)
    );
    assert!(s.is_live());
}

#[test]
fn a_target_hit_books_the_plans_r_and_a_stop_books_minus_one() {
    let won = long_in(Triggered, Some(TargetHit));
    assert_eq!(
        (won.realised_r, won.resolved_at, won.version),
        (Some(2.0), Some(at("14:30")), 3)
    );
    assert!(!won.is_live());
    let lost = long_in(Triggered, Some(StoppedOut));
    assert_eq!(
        (lost.realised_r, lost.resolved_at),
        (Some(-1.0), Some(at("14:30")))
    );
}

#[test]
fn invalidating_a_triggered_open_setup_abandons_it_without_r() {
    let s = long_in(Triggered, Some(Open));
    let t = apply_manual(&s, Invalidate, at("15:00")).unwrap();
    let mut s = s;
    s.apply(&t).unwrap();
    assert_eq!(
        (s.status, s.outcome, s.realised_r),
        (Invalidated, None, None)
    );
    assert_eq!(s.invalidated_at, Some(at("15:00")));
    assert_eq!(
        s.triggered_at,
        Some(at("14:05")),
        "the trigger stays on record"
    );
}

#[test]
fn reopening_clears_the_result_and_rearms_the_setup() {
    let mut s = long_in(Archived, Some(StoppedOut));
    let t = apply_manual(&s, Reopen, at("15:45")).unwrap();
    s.apply(&t).unwrap();
    assert_eq!((s.status, s.outcome, s.realised_r), (Active, None, None));
    assert_eq!((s.fill_price, s.exit_price), (None, None), "a new attempt");
    assert_eq!(s.armed_at, at("15:45"));
    assert_eq!(s.tracked_at, at("14:00"), "tracking time is kept");
    assert_eq!(
        (
            s.triggered_at,
            s.invalidated_at,
            s.archived_at,
            s.resolved_at
        ),
        (None, None, None, None)
    );
    assert_eq!(s.version, 5);
}

#[test]
fn the_same_transition_is_never_applied_twice() {
    let mut s = long_setup();
    let t = apply_manual(&s, Trigger, at("14:10")).unwrap();
    s.apply(&t).unwrap();
    let after_first = s.clone();
    let err = s.apply(&t).unwrap_err();
    assert_eq!(
        err,
        RefusedTransition::Stale {
            id: 12,
            expected: 1,
            current: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "setup 12 changed since this change was prepared (it is at version 2, the change was \
         for version 1); reload it and try again"
    );
    assert_eq!(s, after_first, "a refused transition changes nothing");
}

#[test]
fn a_transition_computed_before_a_concurrent_change_is_stale() {
    // The evaluator computes a trigger while the trader archives the setup.
    let s = long_setup();
    let evaluator =
        Transition::compute(&s, TransitionReason::EntryCrossed, Some(101.0), at("14:10")).unwrap();
    let trader = apply_manual(&s, Archive, at("14:10")).unwrap();
    let mut s = s;
    s.apply(&trader).unwrap();
    assert!(matches!(
        s.apply(&evaluator),
        Err(RefusedTransition::Stale { .. })
    ));
    assert_eq!(s.status, Archived);
}

#[test]
fn a_transition_for_another_setup_or_a_forged_one_is_refused() {
    let mut s = long_setup();
    let mut t = apply_manual(&s, Trigger, at("14:10")).unwrap();
    t.setup_id = 99;
    assert_eq!(
        s.apply(&t).unwrap_err().to_string(),
        "a change for setup 99 cannot be applied to setup 12"
    );
    let mut forged = apply_manual(&s, Trigger, at("14:10")).unwrap();
    forged.outcome = Some(TargetHit);
    assert_eq!(
        s.apply(&forged).unwrap_err().to_string(),
        "setup 12: a manual_trigger transition leads to triggered (open), not to triggered (target hit)"
    );
    let mut wrong_reason = apply_manual(&s, Trigger, at("14:10")).unwrap();
    wrong_reason.reason = TransitionReason::TargetHit;
    assert_eq!(
        s.apply(&wrong_reason).unwrap_err().to_string(),
        "setup 12 cannot be resolved at its target: it is active"
    );
    assert_eq!(s, long_setup());
}

#[test]
fn version_overflow_is_refused_not_wrapped() {
    let mut s = long_setup();
    s.version = i64::MAX;
    let t = apply_manual(&s, Trigger, at("14:10")).unwrap();
    assert!(matches!(
        s.apply(&t),
        Err(RefusedTransition::NotAllowed { .. })
    ));
    assert_eq!(s.status, Active);
}

#[test]
fn names_round_trip_through_text_and_json() {
    for status in SetupStatus::ALL {
        assert_eq!(status.as_str().parse::<SetupStatus>(), Ok(status));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{status}\"")
        );
    }
    for outcome in Outcome::ALL {
        assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
    }
    for reason in TransitionReason::ALL {
        assert_eq!(reason.as_str().parse::<TransitionReason>(), Ok(reason));
        assert_eq!(
            serde_json::to_string(&reason).unwrap(),
            format!("\"{reason}\"")
        );
    }
    assert_eq!(
        "pending\u{1b}[2J".parse::<SetupStatus>().unwrap_err(),
        "unknown setup status \"pending\""
    );
    let manual: Vec<_> = TransitionReason::ALL
        .into_iter()
        .filter(|r| r.is_manual())
        .collect();
    assert_eq!(manual.len(), 4);
}

#[test]
fn the_realised_r_is_measured_between_the_fill_and_the_exit() {
    use TransitionReason as R;
    // Long: stop 100, entry 101 (risk 1); filled at 101.25, stopped out at 99.50.
    let mut s = long_setup();
    let t = Transition::compute(&s, R::EntryCrossed, Some(101.25), at("14:05")).unwrap();
    s.apply(&t).unwrap();
    assert_eq!(
        (s.fill_price, s.exit_price, s.realised_r),
        (Some(101.25), None, None)
    );
    let t = Transition::compute(&s, R::StoppedOut, Some(99.5), at("14:20")).unwrap();
    s.apply(&t).unwrap();
    assert_eq!((s.fill_price, s.exit_price), (Some(101.25), Some(99.5)));
    assert_eq!(s.realised_r, Some(-1.75));
    // Archiving keeps the attempt's prices and result.
    let t = apply_manual(&s, Archive, at("15:00")).unwrap();
    s.apply(&t).unwrap();
    assert_eq!(
        (s.fill_price, s.exit_price, s.realised_r),
        (Some(101.25), Some(99.5), Some(-1.75))
    );
}

#[test]
fn realised_r_reverses_the_sign_for_shorts_and_is_zero_without_risk() {
    use crate::domain::Direction::{Long, Short};
    // Short: entry 99, stop 100 (risk 1); filled at 98.80, out at 97.00: +1.80 R.
    assert!((realised_r(Short, 99.0, 100.0, 98.8, 97.0) - 1.8).abs() < 1e-12);
    assert!((realised_r(Long, 101.0, 100.0, 101.0, 98.0) + 3.0).abs() < 1e-12);
    assert_eq!(realised_r(Long, 100.0, 100.0, 100.0, 101.0), 0.0);
}
