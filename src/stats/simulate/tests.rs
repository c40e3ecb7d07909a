//! A hand-written session whose every outcome is known. Ten SPY minute bars on
//! 2026-03-10 (EDT: 09:30 New York is 13:30Z); the session's last regular bar is 09:39,
//! so the close is 09:40. Slippage 0.01 per side unless said.
//!
//! | bar | ET    | open  | high  | low   | close |
//! |-----|-------|-------|-------|-------|-------|
//! | 0   | 09:30 | 100.0 | 100.5 |  99.5 | 100.2 |
//! | 1   | 09:31 | 100.2 | 101.2 | 100.1 | 101.0 |
//! | 2   | 09:32 | 101.0 | 101.4 | 100.6 | 101.3 |
//! | 3   | 09:33 | 101.3 | 103.5 | 101.2 | 103.2 |
//! | 4   | 09:34 | 103.2 | 103.4 | 102.6 | 102.8 |
//! | 5   | 09:35 | 102.8 | 104.2 | 100.0 | 100.5 |  (wide: spans many levels)
//! | 6   | 09:36 |  98.0 |  98.5 |  97.5 |  98.2 |  (gap down)
//! | 7   | 09:37 |  98.2 |  98.6 |  97.9 |  98.4 |
//! | 8   | 09:38 |  98.4 |  98.7 |  98.1 |  98.5 |
//! | 9   | 09:39 |  98.5 |  99.6 |  98.4 |  99.5 |  (last regular bar)

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::*;
use crate::domain::{SetupKind, Symbol};

const P: f64 = 0.01;

fn et(minute_after_0930: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T13:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minute_after_0930)
}

fn session() -> Vec<Bar> {
    let rows = [
        (100.0, 100.5, 99.5, 100.2),
        (100.2, 101.2, 100.1, 101.0),
        (101.0, 101.4, 100.6, 101.3),
        (101.3, 103.5, 101.2, 103.2),
        (103.2, 103.4, 102.6, 102.8),
        (102.8, 104.2, 100.0, 100.5),
        (98.0, 98.5, 97.5, 98.2),
        (98.2, 98.6, 97.9, 98.4),
        (98.4, 98.7, 98.1, 98.5),
        (98.5, 99.6, 98.4, 99.5),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, &(open, high, low, close))| Bar {
            start: et(i as i64),
            open,
            high,
            low,
            close,
            volume: 1000.0,
        })
        .collect()
}

/// A detection on signal bar `bar` (detected at its end).
fn detection(bar: i64, direction: Direction, entry: f64, stop: f64, target: f64) -> Detection {
    Detection {
        symbol: Symbol::parse("SPY").unwrap(),
        kind: SetupKind::BreakRetest,
        direction,
        confidence: 65,
        entry,
        stop,
        target,
        detected_at: et(bar + 1),
        bar_time: et(bar),
        market_date: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        dedup_key: format!("bar {bar}"),
        rationale: "hand-written".into(),
        gex: None,
    }
}

fn run(d: &Detection, slippage: f64) -> TradeRecord {
    simulate_detection(&session(), d, slippage).expect("an ordered plan")
}

fn close(actual: Option<f64>, expected: f64) {
    let a = actual.expect("a number");
    assert!((a - expected).abs() < 1e-9, "{a} != {expected}");
}

#[test]
fn a_long_fills_at_its_entry_and_reaches_its_target_two_bars_later() {
    // Signal bar 0; entry 101, stop 100, target 103. Bar 1 (high 101.2, low 100.1) fills at
    // 101; bar 2 touches nothing; bar 3 (high 103.5, low 101.2) reaches 103.
    let t = run(&detection(0, Direction::Long, 101.0, 100.0, 103.0), P);
    assert_eq!(t.outcome, TradeOutcome::TargetHit);
    close(t.fill_price, 101.01); // 101 + 0.01
    close(t.exit_price, 102.99); // 103 − 0.01
    close(t.r, 1.98); // (102.99 − 101.01) / |101 − 100|
    close(t.mfe_r, 2.49); // bars 2–3, best high 103.5: (103.5 − 101.01) / 1
    close(t.mae_r, 0.41); // worst low 100.6: (101.01 − 100.6) / 1
    assert_eq!(t.bars_held, Some(2)); // fill on bar 1, exit on bar 3
    assert_eq!(t.fill_time, Some(et(2))); // end of bar 1
    assert_eq!(t.exit_time, Some(et(4))); // end of bar 3
    assert_eq!(t.resolved_at, et(4));
    assert_eq!(t.hour, Some(HourBucket::Open));
    assert_eq!(t.confidence_decile, "60-70");
    assert_eq!(t.regime, None);
    // Without slippage the plan's 2 R is booked exactly.
    close(
        run(&detection(0, Direction::Long, 101.0, 100.0, 103.0), 0.0).r,
        2.0,
    );
}

#[test]
fn a_bar_spanning_stop_and_entry_invalidates_an_active_setup_the_stop_wins() {
    // Signal bar 2; entry 103, stop 101.5. Bar 3 reaches 103.5 ≥ 103 and 101.2 ≤ 101.5.
    let t = run(&detection(2, Direction::Long, 103.0, 101.5, 106.0), P);
    assert_eq!(t.outcome, TradeOutcome::Invalidated);
    assert_eq!(t.resolved_at, et(4)); // end of bar 3
    assert_eq!((t.fill_price, t.exit_price, t.r), (None, None, None));
    assert_eq!((t.mfe_r, t.mae_r, t.bars_held), (None, None, None));
}

#[test]
fn a_bar_spanning_target_and_stop_stops_a_filled_trade_out() {
    // Signal bar 2; entry 102, stop 101, target 104. Bar 3 fills at 102 (its 103.5 high
    // stays below the target); bar 4 touches nothing; bar 5 reaches both 104.2 ≥ 104 and
    // 100.0 ≤ 101: the stop wins, at 101.
    let t = run(&detection(2, Direction::Long, 102.0, 101.0, 104.0), P);
    assert_eq!(t.outcome, TradeOutcome::StoppedOut);
    close(t.fill_price, 102.01);
    close(t.exit_price, 100.99);
    close(t.r, -1.02); // (100.99 − 102.01) / 1
    close(t.mfe_r, 2.19); // bars 4–5, best high 104.2: 104.2 − 102.01
    close(t.mae_r, 2.01); // worst low 100.0: 102.01 − 100.0
    assert_eq!(t.bars_held, Some(2)); // bar 3 → bar 5
    assert_eq!(t.exit_time, Some(et(6)));
}

#[test]
fn a_gap_through_the_stop_books_what_really_happened() {
    // Signal bar 4; entry 103.5, stop 99, target 106 (risk 4.5). Bar 5 fills at 103.5
    // (low 100.0 stays above the stop); bar 6 gaps to 97.5–98.5, entirely below the stop:
    // out at its high, 98.5, the price nearest to the stop.
    let t = run(&detection(4, Direction::Long, 103.5, 99.0, 106.0), P);
    assert_eq!(t.outcome, TradeOutcome::StoppedOut);
    close(t.fill_price, 103.51);
    close(t.exit_price, 98.49); // 98.5 − 0.01
    close(t.r, (98.49 - 103.51) / 4.5); // −5.02 / 4.5 = −1.1156, worse than −1 R
    close(t.mfe_r, 0.0); // bar 6's high 98.5 is below the fill
    close(t.mae_r, (103.51 - 97.5) / 4.5); // 6.01 / 4.5 = 1.3356
    assert_eq!(t.bars_held, Some(1));
}

#[test]
fn a_short_filled_by_a_gap_fills_at_the_bar_nearest_its_entry_and_exits_at_the_close() {
    // Signal bar 5; short entry 99, stop 100.8, target 97 (risk 1.8). Bar 6 opens below the
    // entry (97.5–98.5): filled at 98.5, the bar's price nearest to 99. Bars 7–9 reach
    // neither 97 nor 100.8: time exit at bar 9's close, 99.5.
    let t = run(&detection(5, Direction::Short, 99.0, 100.8, 97.0), P);
    assert_eq!(t.outcome, TradeOutcome::TimeExit);
    close(t.fill_price, 98.49); // short: 98.5 − 0.01
    close(t.exit_price, 99.51); // short: 99.5 + 0.01
    close(t.r, (98.49 - 99.51) / 1.8); // −1.02 / 1.8 = −0.5667
    close(t.mfe_r, (98.49 - 97.9) / 1.8); // best low of bars 7–9: 0.59 / 1.8 = 0.3278
    close(t.mae_r, (99.6 - 98.49) / 1.8); // worst high 99.6: 1.11 / 1.8 = 0.6167
    assert_eq!(t.bars_held, Some(3)); // bar 6 → bar 9
    assert_eq!(t.fill_time, Some(et(7)));
    assert_eq!(t.exit_time, Some(et(10))); // the close: end of bar 9
}

#[test]
fn a_setup_still_waiting_for_its_entry_at_the_close_expires() {
    // Signal bar 6; long entry 100, stop 97, target 103: bars 7–9 stay within 97.9–99.6.
    let t = run(&detection(6, Direction::Long, 100.0, 97.0, 103.0), P);
    assert_eq!(t.outcome, TradeOutcome::Expired);
    assert_eq!(t.resolved_at, et(10));
    assert_eq!(t.r, None);
    // A detection on the last bar has no bar left: it expires at the close too.
    let last = run(&detection(9, Direction::Long, 99.7, 99.0, 101.0), P);
    assert_eq!(last.outcome, TradeOutcome::Expired);
    assert_eq!(last.resolved_at, et(10));
}

#[test]
fn a_trade_filled_on_the_last_bar_exits_at_that_bars_close() {
    // Signal bar 8; long entry 99, stop 98, target 101. Bar 9 (98.4–99.6) fills at 99 and
    // is the last bar: time exit at its close 99.5, held 0 bars.
    let t = run(&detection(8, Direction::Long, 99.0, 98.0, 101.0), P);
    assert_eq!(t.outcome, TradeOutcome::TimeExit);
    close(t.fill_price, 99.01);
    close(t.exit_price, 99.49);
    close(t.r, 0.48); // (99.49 − 99.01) / 1
    close(t.mfe_r, 0.48); // no bar after the fill: the exit itself
    close(t.mae_r, 0.0);
    assert_eq!(t.bars_held, Some(0));
    assert_eq!(t.fill_time, Some(et(10)));
    assert_eq!(t.exit_time, Some(et(10)));
}

#[test]
fn a_session_backtests_every_detection_and_reports_a_plan_it_cannot_track() {
    let detections = [
        detection(0, Direction::Long, 101.0, 100.0, 103.0),
        detection(2, Direction::Long, 103.0, 101.5, 106.0),
        // stop above the entry for a long: not a plan
        detection(3, Direction::Long, 103.0, 104.0, 106.0),
    ];
    let results = simulate_session(&session(), &detections, P);
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[0].as_ref().map(|t| t.outcome).ok(),
        Some(TradeOutcome::TargetHit)
    );
    assert_eq!(
        results[1].as_ref().map(|t| t.outcome).ok(),
        Some(TradeOutcome::Invalidated)
    );
    assert!(results[2].is_err());
}

#[test]
fn the_trade_record_serializes_the_detection_fields_beside_its_outcome() {
    let t = run(&detection(0, Direction::Long, 101.0, 100.0, 103.0), P);
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(v["kind"], "break_retest");
    assert_eq!(v["symbol"], "SPY");
    assert_eq!(v["outcome"], "target_hit");
    assert_eq!(v["hour"], "09:30-10:00");
    assert_eq!(v["detected_at"], "2026-03-10T13:31:00Z");
    assert!(v["regime"].is_null());
    assert!(v["zero_gamma_distance"].is_null());
}

#[test]
fn a_trade_carries_the_regime_and_point_distances_of_its_detections_gex_context() {
    use crate::domain::GammaLevels;
    use crate::gex::{GexContext, Regime};
    let levels = GammaLevels {
        symbol: Symbol::parse("SPY").unwrap(),
        spot: 100.2,
        as_of: et(0),
        total_gex: 3.0e9,
        zero_gamma: Some(99.0),
        call_wall: Some(101.0),
        put_wall: Some(98.0),
        max_call_gex_strike: None,
        max_put_gex_strike: None,
    };
    let mut d = detection(0, Direction::Long, 101.0, 100.0, 103.0);
    // signal bar 0 closed at 100.2: zero gamma 1.2 below, call wall 0.8 above (nearest)
    d.gex = GexContext::at(&levels, 100.2);
    let t = run(&d, P);
    assert_eq!(t.regime, Some(Regime::Positive));
    close(t.zero_gamma_distance, -1.2);
    close(t.wall_distance, 0.8);
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(v["regime"], "positive");
    assert_eq!(v["gex"]["nearest_wall"]["side"], "call");
}
