use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::{Bar, Direction};
use crate::market::calendar;
use crate::setups::fixtures::{at, bar, detection, long_setup, short_setup, trade};
use crate::setups::lifecycle::Outcome::{Open, StoppedOut, TargetHit};
use crate::setups::lifecycle::SetupStatus::{Active, Invalidated, Triggered};
use crate::setups::lifecycle::TransitionReason as R;
use crate::setups::lifecycle::{ManualAction, RefusedTransition, apply_manual};

/// Evaluates and applies; returns the reason and price of the transition, if any.
fn feed(setup: &mut TrackedSetup, update: PriceUpdate) -> Option<(TransitionReason, f64)> {
    let t = evaluate(setup, &update)?;
    setup.apply(&t).unwrap();
    Some((t.reason, t.price.unwrap()))
}

#[test]
fn a_long_triggers_when_the_high_reaches_the_entry() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 100.9, 100.2)),
        None,
        "below entry, above stop"
    );
    assert_eq!(
        feed(&mut s, bar("14:02", 101.0, 100.5)),
        Some((R::EntryCrossed, 101.0))
    );
    assert_eq!(
        (s.status, s.outcome, s.triggered_at),
        (Triggered, Some(Open), Some(at("14:02")))
    );
}

#[test]
fn a_long_whose_low_reaches_the_stop_before_entry_is_invalidated() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, trade("14:01", 100.0)),
        Some((R::StopBeforeEntry, 100.0))
    );
    assert_eq!(
        (s.status, s.outcome, s.invalidated_at),
        (Invalidated, None, Some(at("14:01")))
    );
    assert_eq!(
        feed(&mut s, trade("14:02", 110.0)),
        None,
        "an invalidated setup is done"
    );
}

#[test]
fn a_long_setup_whose_bar_spans_stop_and_entry_is_invalidated() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 101.5, 99.8)),
        Some((R::StopBeforeEntry, 100.0))
    );
    assert_eq!(s.status, Invalidated);
}

#[test]
fn a_gap_below_both_levels_invalidates_at_the_price_nearest_the_stop() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 99.5, 99.0)),
        Some((R::StopBeforeEntry, 99.5))
    );
}

#[test]
fn a_gap_above_entry_and_target_triggers_and_the_target_counts_from_the_next_update() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 104.0, 103.5)),
        Some((R::EntryCrossed, 103.5))
    );
    assert_eq!(s.outcome, Some(Open));
    assert_eq!(
        feed(&mut s, bar("14:02", 103.8, 103.2)),
        Some((R::TargetHit, 103.2))
    );
    // Honest fills: filled at 103.50 (above the target), out at 103.20: −0.30 R, not the
    // plan's +2 R.
    assert_eq!((s.fill_price, s.exit_price), (Some(103.5), Some(103.2)));
    assert_close(s.realised_r, -0.3);
}

fn assert_close(r: Option<f64>, expected: f64) {
    let r = r.expect("a realised R");
    assert!((r - expected).abs() < 1e-9, "R {r}, expected {expected}");
}

#[test]
fn a_long_setup_whose_bar_gaps_above_its_entry_fills_at_the_bars_low_not_the_entry() {
    // Long: stop 100, entry 101, target 103 (risk 1).
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 101.9, 101.4)),
        Some((R::EntryCrossed, 101.4))
    );
    assert_eq!(s.fill_price, Some(101.4));
    assert_eq!(
        feed(&mut s, bar("14:02", 103.1, 102.5)),
        Some((R::TargetHit, 103.0))
    );
    // (103.00 − 101.40) / 1 = +1.60 R, not the plan's +2 R.
    assert_eq!(s.exit_price, Some(103.0));
    assert_close(s.realised_r, 1.6);
}

#[test]
fn a_short_setup_whose_bar_gaps_below_its_entry_fills_at_the_bars_high() {
    // Short: stop 100, entry 99, target 97 (risk 1).
    let mut s = short_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 98.7, 98.2)),
        Some((R::EntryCrossed, 98.7))
    );
    assert_eq!(
        feed(&mut s, bar("14:02", 99.0, 96.0)),
        Some((R::TargetHit, 97.0))
    );
    // (98.70 − 97.00) / 1 = +1.70 R.
    assert_close(s.realised_r, 1.7);
}

#[test]
fn a_manual_trigger_fills_at_the_plans_entry() {
    let mut s = long_setup();
    let t = apply_manual(&s, ManualAction::Trigger, at("14:01")).unwrap();
    s.apply(&t).unwrap();
    assert_eq!(s.fill_price, Some(101.0));
    assert_eq!(
        feed(&mut s, trade("14:02", 100.0)),
        Some((R::StoppedOut, 100.0))
    );
    assert_eq!(s.realised_r, Some(-1.0));
}

#[test]
fn a_bar_through_entry_and_target_only_triggers() {
    let mut s = long_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 103.5, 100.5)),
        Some((R::EntryCrossed, 101.0))
    );
    assert_eq!(
        feed(&mut s, bar("14:02", 102.9, 102.0)),
        None,
        "the target was not seen after the fill"
    );
}

#[test]
fn a_triggered_long_hits_its_target_for_the_plans_r() {
    let mut s = long_setup();
    feed(&mut s, trade("14:01", 101.0));
    assert_eq!(feed(&mut s, bar("14:02", 102.99, 100.01)), None);
    assert_eq!(
        feed(&mut s, bar("14:03", 103.0, 102.0)),
        Some((R::TargetHit, 103.0))
    );
    assert_eq!(
        (s.status, s.outcome, s.realised_r),
        (Triggered, Some(TargetHit), Some(2.0))
    );
    assert_eq!(s.resolved_at, Some(at("14:03")));
}

#[test]
fn a_triggered_long_is_stopped_out_for_minus_one_r() {
    let mut s = long_setup();
    feed(&mut s, trade("14:01", 101.0));
    assert_eq!(
        feed(&mut s, trade("14:02", 100.0)),
        Some((R::StoppedOut, 100.0))
    );
    assert_eq!((s.outcome, s.realised_r), (Some(StoppedOut), Some(-1.0)));
}

#[test]
fn a_triggered_long_whose_bar_spans_stop_and_target_is_stopped_out() {
    let mut s = long_setup();
    feed(&mut s, trade("14:01", 101.0));
    assert_eq!(
        feed(&mut s, bar("14:02", 103.5, 99.5)),
        Some((R::StoppedOut, 100.0))
    );
    assert_eq!(s.realised_r, Some(-1.0));
}

#[test]
fn a_gap_through_the_stop_books_what_really_happened_worse_than_minus_one_r() {
    let mut s = long_setup();
    feed(&mut s, trade("14:01", 101.0));
    assert_eq!(
        feed(&mut s, bar("14:02", 98.0, 97.0)),
        Some((R::StoppedOut, 98.0))
    );
    // Filled at 101, out at the gap bar's high 98: (98 − 101) / 1 = −3 R.
    assert_eq!((s.fill_price, s.exit_price), (Some(101.0), Some(98.0)));
    assert_eq!(s.realised_r, Some(-3.0));
}

#[test]
fn a_resolved_setup_is_never_evaluated_again() {
    let mut s = long_setup();
    feed(&mut s, trade("14:01", 101.0));
    feed(&mut s, trade("14:02", 103.0));
    let resolved = s.clone();
    assert_eq!(feed(&mut s, trade("14:03", 99.0)), None);
    assert_eq!(feed(&mut s, trade("14:04", 110.0)), None);
    assert_eq!(s, resolved);
}

#[test]
fn a_short_mirrors_the_long_rules() {
    // Short: stop 100, entry 99, target 97.
    let mut s = short_setup();
    assert_eq!(feed(&mut s, bar("14:01", 99.9, 99.1)), None);
    assert_eq!(
        feed(&mut s, bar("14:02", 99.5, 99.0)),
        Some((R::EntryCrossed, 99.0))
    );
    assert_eq!(
        feed(&mut s, bar("14:03", 99.5, 97.0)),
        Some((R::TargetHit, 97.0))
    );
    assert_eq!(s.realised_r, Some(2.0));

    let mut s = short_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 100.2, 98.5)),
        Some((R::StopBeforeEntry, 100.0)),
        "stop wins"
    );
    let mut s = short_setup();
    feed(&mut s, trade("14:01", 99.0));
    assert_eq!(
        feed(&mut s, bar("14:02", 100.5, 96.5)),
        Some((R::StoppedOut, 100.0)),
        "stop wins"
    );
    assert_eq!(s.realised_r, Some(-1.0));
    let mut s = short_setup();
    assert_eq!(
        feed(&mut s, bar("14:01", 96.0, 95.0)),
        Some((R::EntryCrossed, 96.0)),
        "gap down"
    );
}

#[test]
fn prices_from_before_the_setup_was_armed_or_triggered_are_ignored() {
    let mut s = long_setup(); // armed 14:00
    assert_eq!(feed(&mut s, bar("13:59", 105.0, 99.0)), None);
    assert_eq!(
        feed(&mut s, bar("14:00", 105.0, 99.0)),
        None,
        "the signal bar itself ends at arming"
    );
    feed(&mut s, trade("14:05", 101.0));
    assert_eq!(
        feed(&mut s, trade("14:04", 99.0)),
        None,
        "backfill from before the trigger"
    );
    assert_eq!(feed(&mut s, trade("14:05", 99.0)), None);
    assert_eq!(
        feed(&mut s, trade("14:05:01", 99.5)),
        Some((R::StoppedOut, 99.5))
    );
}

#[test]
fn bad_prices_are_ignored() {
    let s = long_setup();
    for update in [
        trade("14:01", f64::NAN),
        trade("14:01", f64::INFINITY),
        PriceUpdate {
            at: at("14:01"),
            high: 99.0,
            low: 102.0,
            last: 100.0,
        },
        PriceUpdate {
            at: at("14:01"),
            high: 102.0,
            low: 99.0,
            last: 103.0,
        },
        PriceUpdate {
            at: at("14:01"),
            high: f64::NAN,
            low: 99.0,
            last: 100.0,
        },
    ] {
        assert_eq!(evaluate(&s, &update), None, "{update:?}");
    }
}

#[test]
fn a_setup_with_a_misordered_plan_is_not_evaluated() {
    let mut s = long_setup();
    s.stop = 102.0; // as if loaded from a damaged row
    assert_eq!(evaluate(&s, &trade("14:01", 90.0)), None);
}

#[test]
fn invalidated_and_archived_setups_are_not_evaluated() {
    let mut archived = long_setup();
    let t = apply_manual(&archived, ManualAction::Archive, at("14:01")).unwrap();
    archived.apply(&t).unwrap();
    assert_eq!(evaluate(&archived, &trade("14:02", 101.0)), None);
}

#[test]
fn a_minute_bar_is_observed_at_its_end() {
    let b = Bar {
        start: at("14:03"),
        open: 100.5,
        high: 101.2,
        low: 100.4,
        close: 101.1,
        volume: 1e5,
    };
    let u = PriceUpdate::minute_bar(&b);
    assert_eq!(
        (u.at, u.high, u.low, u.last),
        (at("14:04"), 101.2, 100.4, 101.1)
    );
}

fn ny(date: &str) -> NaiveDate {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()
}

/// The long fixture moved to the 2026-11-27 session (early close 13:00 New York = 18:00Z).
fn black_friday_setup(armed: &str) -> TrackedSetup {
    let armed: DateTime<Utc> = format!("2026-11-27T{armed}Z").parse().unwrap();
    let d = detection(Direction::Long, 101.0, 100.0, 103.0);
    TrackedSetup::track(12, None, &d, false, armed).unwrap()
}

#[test]
fn active_setups_expire_at_an_early_close() {
    let close = calendar::session(ny("2026-11-27")).unwrap().close;
    assert_eq!(
        close,
        "2026-11-27T18:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let s = black_friday_setup("15:00:00");
    assert_eq!(
        expire_at_close(&s, close, close - Duration::seconds(1)),
        None,
        "before the close"
    );
    let t = expire_at_close(&s, close, close + Duration::hours(3)).unwrap();
    assert_eq!(
        (t.from, t.to, t.reason, t.at, t.price),
        (Active, Invalidated, R::Expired, close, None)
    );
    let mut s = s;
    s.apply(&t).unwrap();
    assert_eq!((s.status, s.invalidated_at), (Invalidated, Some(close)));
}

#[test]
fn multi_day_triggered_and_after_hours_setups_do_not_expire() {
    let close = calendar::session(ny("2026-11-27")).unwrap().close;
    let later = close + Duration::hours(1);
    let mut multi = black_friday_setup("15:00:00");
    multi.multi_day = true;
    assert_eq!(expire_at_close(&multi, close, later), None);
    let after_hours = black_friday_setup("18:00:00");
    assert_eq!(
        expire_at_close(&after_hours, close, later),
        None,
        "armed at the close"
    );
    let mut triggered = black_friday_setup("15:00:00");
    let t = apply_manual(
        &triggered,
        ManualAction::Trigger,
        close - Duration::minutes(5),
    )
    .unwrap();
    triggered.apply(&t).unwrap();
    assert_eq!(expire_at_close(&triggered, close, later), None);
}

// ---------------------------------------------------------------- properties

/// A valid plan: entry, risk and reward in price units, for either direction.
fn plan() -> impl Strategy<Value = (Direction, f64, f64, f64)> {
    (any::<bool>(), 50.0..500.0f64, 0.05..5.0f64, 1.5..4.0f64).prop_map(
        |(long, entry, risk, rr)| {
            if long {
                (Direction::Long, entry, entry - risk, entry + risk * rr)
            } else {
                (Direction::Short, entry, entry + risk, entry - risk * rr)
            }
        },
    )
}

/// Updates as (high, low) offsets around the entry in units of risk, one per minute.
fn moves() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((-4.0..5.0f64, 0.0..3.0f64), 0..40)
}

fn setup_for(direction: Direction, entry: f64, stop: f64, target: f64) -> TrackedSetup {
    TrackedSetup::track(
        1,
        None,
        &detection(direction, entry, stop, target),
        false,
        at("14:00"),
    )
    .unwrap()
}

fn update_at(minute: usize, entry: f64, risk: f64, (mid, half_width): (f64, f64)) -> PriceUpdate {
    let high = entry + (mid + half_width) * risk;
    let low = entry + (mid - half_width) * risk;
    PriceUpdate {
        at: at("14:00") + Duration::minutes(minute as i64 + 1),
        high,
        low,
        last: low,
    }
}

/// The states a setup passes through by price alone, in order.
fn rank(s: &TrackedSetup) -> u8 {
    match (s.status, s.outcome) {
        (Active, _) => 0,
        (Triggered, Some(Open)) => 1,
        _ => 2,
    }
}

proptest! {
    #[test]
    fn price_paths_move_setups_forward_only_and_book_consistent_results(
        (direction, entry, stop, target) in plan(),
        path in moves(),
    ) {
        let mut s = setup_for(direction, entry, stop, target);
        let risk = (entry - stop).abs();
        let mut transitions = 0;
        for (i, m) in path.into_iter().enumerate() {
            let before = s.clone();
            if let Some(t) = evaluate(&s, &update_at(i, entry, risk, m)) {
                prop_assert!(before.is_live());
                prop_assert!(t.price.is_some_and(f64::is_finite));
                s.apply(&t).unwrap();
                // The same transition can never be applied twice.
                let twice = s.clone().apply(&t);
                prop_assert!(matches!(twice, Err(RefusedTransition::Stale { .. })), "applied twice: {:?}", twice);
                transitions += 1;
                prop_assert!(rank(&s) > rank(&before) || s.status == Invalidated);
            } else {
                prop_assert_eq!(&s, &before);
            }
        }
        prop_assert_eq!(s.version, 1 + transitions);
        prop_assert!(transitions <= 2);
        match (s.status, s.outcome) {
            (Triggered, Some(TargetHit | StoppedOut)) => {
                let r = s.realised_r.unwrap();
                prop_assert!(r.is_finite());
                prop_assert!(s.fill_price.is_some() && s.exit_price.is_some());
            }
            (Triggered, Some(Open)) => {
                prop_assert!(s.fill_price.is_some());
                prop_assert_eq!((s.exit_price, s.realised_r), (None, None));
            }
            _ => prop_assert_eq!((s.fill_price, s.exit_price, s.realised_r), (None, None, None)),
        }
    }

    /// What is exactly true with honest fills, for any path of updates:
    /// - every fill and exit lies inside the `[low, high]` of the update that made it;
    /// - the fill is never better than the entry (long: fill ≥ entry), a stop exit never
    ///   better than the stop (long: exit ≤ stop), so a stopped-out trade books ≤ −1 R;
    /// - a target exit is never worse than the target (long: exit ≥ target), and its R is
    ///   at most the plan's target R, plus only the gap by which the exit update lay
    ///   entirely beyond the target (its nearest price − target, in R) when it did;
    /// - R = (exit − fill) / |entry − stop|, sign reversed for shorts.
    #[test]
    fn honest_fills_stay_inside_their_update_and_never_beat_the_plans_levels(
        (direction, entry, stop, target) in plan(),
        path in moves(),
    ) {
        let mut s = setup_for(direction, entry, stop, target);
        let risk = (entry - stop).abs();
        let sign = direction.sign();
        let eps = 1e-9 * entry.max(1.0);
        // The gap, in R, by which the exit update lay beyond the target (0 when it did not).
        let mut gap_r = 0.0;
        for (i, m) in path.into_iter().enumerate() {
            let u = update_at(i, entry, risk, m);
            let Some(t) = step(&mut s, &u) else { continue };
            let price = t.price.unwrap();
            prop_assert!(u.low <= price && price <= u.high, "{price} outside [{}, {}]", u.low, u.high);
            match t.reason {
                R::EntryCrossed => prop_assert!(sign * (price - entry) >= -eps, "fill {price} better than entry {entry}"),
                R::StoppedOut => prop_assert!(sign * (price - stop) <= eps, "exit {price} better than stop {stop}"),
                R::TargetHit => {
                    prop_assert!(sign * (price - target) >= -eps, "exit {price} worse than target {target}");
                    let nearest = if sign > 0.0 { u.low } else { u.high };
                    gap_r = (sign * (nearest - target)).max(0.0) / risk;
                }
                _ => {}
            }
        }
        let (Some(fill), Some(exit), Some(r)) = (s.fill_price, s.exit_price, s.realised_r) else {
            return Ok(());
        };
        prop_assert!((r - sign * (exit - fill) / risk).abs() < 1e-6);
        let target_r = s.target_r();
        match s.outcome {
            Some(StoppedOut) => prop_assert!(r <= -1.0 + 1e-6, "stopped out at {r} R"),
            Some(TargetHit) => prop_assert!(r <= target_r + gap_r + 1e-6, "{r} R > {target_r} + gap {gap_r}"),
            other => prop_assert!(false, "resolved with outcome {other:?}"),
        }
    }

    #[test]
    fn the_stop_wins_whenever_the_update_reaches_it(
        (direction, entry, stop, target) in plan(),
        through in 0.0..3.0f64,
        reach in 0.0..10.0f64,
        triggered in any::<bool>(),
    ) {
        let mut s = setup_for(direction, entry, stop, target);
        if triggered {
            let t = apply_manual(&s, ManualAction::Trigger, at("14:00")).unwrap();
            s.apply(&t).unwrap();
        }
        let risk = (entry - stop).abs();
        let sign = direction.sign();
        let adverse = stop - sign * through * risk;
        let favourable = entry + sign * reach * risk;
        let (high, low) = if sign > 0.0 { (favourable, adverse) } else { (adverse, favourable) };
        let t = evaluate(&s, &PriceUpdate { at: at("14:01"), high, low, last: low }).unwrap();
        let expected = if triggered { R::StoppedOut } else { R::StopBeforeEntry };
        prop_assert_eq!(t.reason, expected);
    }

    #[test]
    fn a_short_plan_behaves_as_the_mirrored_long_plan(
        entry in 50.0..150.0f64,
        risk in 0.1..5.0f64,
        rr in 1.5..4.0f64,
        path in moves(),
    ) {
        // Mirror prices around 200: p -> 200 - p turns a long plan into a short one.
        let mirror = |p: f64| 200.0 - p;
        let mut long = setup_for(Direction::Long, entry, entry - risk, entry + risk * rr);
        let mut short = setup_for(Direction::Short, mirror(entry), mirror(entry - risk), mirror(entry + risk * rr));
        for (i, m) in path.into_iter().enumerate() {
            let u = update_at(i, entry, risk, m);
            let mirrored = PriceUpdate { at: u.at, high: mirror(u.low), low: mirror(u.high), last: mirror(u.last) };
            let a = evaluate(&long, &u);
            let b = evaluate(&short, &mirrored);
            prop_assert_eq!(a.map(|t| (t.to, t.outcome, t.reason)), b.map(|t| (t.to, t.outcome, t.reason)));
            if let (Some(a), Some(b)) = (a, b) {
                prop_assert!((mirror(a.price.unwrap()) - b.price.unwrap()).abs() < 1e-9);
                long.apply(&a).unwrap();
                short.apply(&b).unwrap();
            }
        }
        prop_assert_eq!(long.status, short.status);
        match (long.realised_r, short.realised_r) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-9),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn only_ordered_finite_plans_can_be_tracked(
        long in any::<bool>(),
        entry in prop_oneof![Just(f64::NAN), Just(0.0), -10.0..200.0f64],
        stop in -10.0..200.0f64,
        target in -10.0..200.0f64,
    ) {
        let direction = if long { Direction::Long } else { Direction::Short };
        let ordered = entry > 0.0 && stop > 0.0 && target > 0.0 && if long {
            stop < entry && entry < target
        } else {
            target < entry && entry < stop
        };
        let tracked = TrackedSetup::track(1, None, &detection(direction, entry, stop, target), false, at("14:00"));
        prop_assert_eq!(tracked.is_ok(), ordered);
    }
}
