use chrono::NaiveDate;

use super::*;

fn near(a: Option<f64>, b: f64) {
    let a = a.expect("a number");
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

/// Scores 40 (lost), 50 (won), 60 (lost), 70 (won twice): 50 and 60 fall, so PAV pools
/// them to 0.5; the map is (40, 0), (50, 0.5), (60, 0.5), (70, 1).
fn hand_map() -> CalibrationMap {
    CalibrationMap::fit(&[(60, false), (40, false), (70, true), (50, true), (70, true)]).unwrap()
}

#[test]
fn a_fitted_map_holds_each_pooled_blocks_first_and_last_score() {
    let points: Vec<(f64, f64)> = hand_map()
        .points
        .iter()
        .map(|p| (p.score, p.probability))
        .collect();
    assert_eq!(
        points,
        vec![(40.0, 0.0), (50.0, 0.5), (60.0, 0.5), (70.0, 1.0)]
    );
}

#[test]
fn a_map_interpolates_between_points_and_holds_flat_beyond_them() {
    let m = hand_map();
    assert_eq!(m.probability(30.0), 0.0);
    assert_eq!(m.probability(45.0), 0.25);
    assert_eq!(m.probability(55.0), 0.5);
    assert_eq!(m.probability(65.0), 0.75);
    assert_eq!(m.probability(100.0), 1.0);
    assert_eq!(m.probability(f64::NAN), 0.0);
    assert_eq!(
        (m.score(45), m.score(65), m.score(0), m.score(100)),
        (25, 75, 0, 100)
    );
    // monotone over every raw score
    let scores: Vec<u8> = (0..=100).map(|s| m.score(s)).collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn no_samples_fit_no_map() {
    assert_eq!(CalibrationMap::fit(&[]), None);
    // one score seen only: a flat map at its win rate
    let m = CalibrationMap::fit(&[(55, true), (55, false), (55, false), (55, true)]).unwrap();
    assert_eq!(m.score(0), 50);
    assert_eq!(m.score(100), 50);
}

#[test]
fn stored_points_are_checked_before_use() {
    let p = |score, probability| MapPoint { score, probability };
    assert!(CalibrationMap::from_points(vec![]).is_err());
    assert!(CalibrationMap::from_points(vec![p(50.0, 1.5)]).is_err());
    assert!(CalibrationMap::from_points(vec![p(50.0, 0.4), p(40.0, 0.6)]).is_err());
    assert!(CalibrationMap::from_points(vec![p(40.0, 0.6), p(50.0, 0.4)]).is_err());
    assert!(CalibrationMap::from_points(vec![p(40.0, 0.4), p(40.0, 0.6)]).is_err());
    assert!(CalibrationMap::from_points(vec![p(f64::NAN, 0.4)]).is_err());
    assert!(CalibrationMap::from_points(vec![p(40.0, 0.4), p(50.0, 0.4)]).is_ok());
}

#[test]
fn brier_is_the_mean_squared_distance_to_the_outcome() {
    // (0.8 − 1)² + (0.3 − 0)² + (0.5 − 1)² = 0.04 + 0.09 + 0.25 = 0.38, over 3
    near(brier(&[(0.8, true), (0.3, false), (0.5, true)]), 0.38 / 3.0);
    near(brier(&[(1.0, true), (0.0, false)]), 0.0);
    near(brier(&[(0.5, true), (0.5, false)]), 0.25);
    assert_eq!(brier(&[]), None);
}

#[test]
fn the_reliability_table_has_ten_deciles_with_n_and_the_top_one_holds_certainty() {
    let bins = reliability(&[
        (0.05, false),
        (0.15, true),
        (0.12, false),
        (1.0, true),
        (0.95, false),
    ]);
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[0].bin, "0-10");
    assert_eq!((bins[0].n, bins[0].observed), (1, Some(0.0)));
    near(bins[0].predicted, 0.05);
    assert_eq!(bins[1].n, 2);
    near(bins[1].predicted, 0.135);
    near(bins[1].observed, 0.5);
    assert_eq!(
        (bins[5].bin.as_str(), bins[5].n, bins[5].predicted),
        ("50-60", 0, None)
    );
    assert_eq!(bins[9].bin, "90-100");
    assert_eq!(bins[9].n, 2);
    near(bins[9].predicted, 0.975);
    near(bins[9].observed, 0.5);
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2013, 10, d).unwrap()
}

fn sample(kind: SetupKind, score: u8, won: bool, d: u32) -> Sample {
    Sample {
        kind,
        score,
        won,
        market_date: day(d),
    }
}

#[test]
fn calibration_fits_before_the_split_and_judges_only_after_it() {
    let samples = [
        // gap_fill before the split: 40 lost, 80 won -> map (40, 0), (80, 1)
        sample(SetupKind::GapFill, 40, false, 7),
        sample(SetupKind::GapFill, 80, true, 9),
        // after: 60 won (calibrated 0.5), 80 won (calibrated 1.0)
        sample(SetupKind::GapFill, 60, true, 16),
        sample(SetupKind::GapFill, 80, true, 17),
        // orb_breakout only after the split: no map, raw 0.7 and lost
        sample(SetupKind::OrbBreakout, 70, false, 16),
    ];
    let r = calibrate(&samples, day(16), 1);
    assert_eq!(r.split, day(16));
    assert_eq!(r.maps.len(), 1);
    let m = &r.maps[0];
    assert_eq!(m.kind, SetupKind::GapFill);
    assert_eq!((m.fitted_from, m.fitted_to, m.trades), (day(7), day(9), 2));
    assert_eq!(r.evaluations.len(), 3);
    let of = |k: Option<SetupKind>| r.evaluations.iter().find(|e| e.kind == k).unwrap();
    assert_eq!(r.evaluations[2].kind, None, "all kinds come last");
    let gap = of(Some(SetupKind::GapFill));
    assert_eq!(gap.kind, Some(SetupKind::GapFill));
    assert_eq!(
        (gap.fit_trades, gap.eval_trades, gap.calibrated),
        (2, 2, true)
    );
    // raw: (0.6 − 1)² + (0.8 − 1)² = 0.16 + 0.04, over 2 = 0.1
    near(gap.brier_raw, 0.1);
    // calibrated: (0.5 − 1)² + (1 − 1)² = 0.25, over 2 = 0.125
    near(gap.brier_calibrated, 0.125);
    let orb = of(Some(SetupKind::OrbBreakout));
    assert_eq!(
        (orb.fit_trades, orb.eval_trades, orb.calibrated),
        (0, 1, false)
    );
    near(orb.brier_raw, 0.49);
    near(orb.brier_calibrated, 0.49);
    let all = of(None);
    assert_eq!((all.kind, all.fit_trades, all.eval_trades), (None, 2, 3));
    near(all.brier_raw, (0.16 + 0.04 + 0.49) / 3.0);
    near(all.brier_calibrated, (0.25 + 0.0 + 0.49) / 3.0);
    assert_eq!(all.reliability_calibrated[9].n, 1);
}

#[test]
fn without_a_map_the_screens_show_the_raw_score() {
    let c = Calibrations::default();
    assert!(c.is_empty());
    assert_eq!(c.score(SetupKind::GapFill, 63), 63);
    let c = Calibrations::new([(SetupKind::GapFill, hand_map())]);
    assert!(c.covers(SetupKind::GapFill));
    assert_eq!(c.score(SetupKind::GapFill, 65), 75);
    assert_eq!(c.score(SetupKind::OrbBreakout, 65), 65);
}

#[test]
fn a_kind_with_too_few_fitting_trades_keeps_its_raw_score() {
    let samples = [
        sample(SetupKind::GapFill, 40, false, 7),
        sample(SetupKind::GapFill, 80, true, 9),
        sample(SetupKind::GapFill, 60, true, 16),
    ];
    let r = calibrate(&samples, day(16), 3);
    assert!(r.maps.is_empty());
    let gap = &r.evaluations[0];
    assert_eq!((gap.fit_trades, gap.calibrated), (2, false));
    // calibrated = raw: (0.6 − 1)² = 0.16
    near(gap.brier_raw, 0.16);
    near(gap.brier_calibrated, 0.16);
    assert_eq!(calibrate(&samples, day(16), 2).maps.len(), 1);
}
