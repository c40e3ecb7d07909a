use chrono::{Duration, NaiveDate};

use super::*;
use crate::domain::{Detection, Direction, SetupKind, Symbol};
use crate::stats::trade::{HourBucket, TradeOutcome, confidence_decile};

fn at(minutes_after_1330z: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T13:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minutes_after_1330z)
}

/// A trade of `kind` on `symbol` detected `signal` minutes after 09:30 ET and resolved
/// `exit` minutes after 09:30 ET with `r` (None: expired).
fn trade(kind: SetupKind, symbol: &str, signal: i64, exit: i64, r: Option<f64>) -> TradeRecord {
    let outcome = match r {
        None => TradeOutcome::Expired,
        Some(r) if r > 0.0 => TradeOutcome::TargetHit,
        Some(_) => TradeOutcome::StoppedOut,
    };
    TradeRecord {
        detection: Detection {
            symbol: Symbol::parse(symbol).unwrap(),
            kind,
            direction: Direction::Long,
            confidence: 72,
            entry: 101.0,
            stop: 100.0,
            target: 102.0,
            detected_at: at(signal + 1),
            bar_time: at(signal),
            market_date: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            dedup_key: String::new(),
            rationale: String::new(),
            gex: None,
        },
        outcome,
        fill_price: r.map(|_| 101.0),
        fill_time: r.map(|_| at(signal + 2)),
        exit_price: r.map(|r| 101.0 + r),
        exit_time: r.map(|_| at(exit)),
        resolved_at: at(exit),
        r,
        mfe_r: r.map(|r| r.max(0.0) + 0.5),
        mae_r: r.map(|r| (-r).max(0.0) + 0.25),
        bars_held: r.map(|_| 3),
        hour: HourBucket::of(at(signal)),
        confidence_decile: confidence_decile(72),
        regime: None,
        zero_gamma_distance: None,
        wall_distance: None,
    }
}

fn book() -> GroupedTrades {
    let mut g = GroupedTrades::new();
    // Pushed out of exit order: the gap_fill loss at 10:10 ET exits before its win at 10:40.
    g.push(&trade(SetupKind::GapFill, "SPY", 10, 70, Some(1.0)));
    g.push(&trade(SetupKind::GapFill, "SPY", 5, 40, Some(-1.0)));
    g.push(&trade(SetupKind::GapFill, "QQQ", 40, 60, None));
    g.push(&trade(SetupKind::VwapReclaim, "SPY", 45, 50, Some(0.5)));
    g
}

fn find<'a>(rows: &'a [GroupRow], kind: Option<&str>, hour: Option<&str>) -> &'a GroupRow {
    rows.iter()
        .find(|r| r.key.kind.as_deref() == kind && r.key.hour.as_deref() == hour)
        .unwrap_or_else(|| panic!("no row {kind:?} {hour:?} in {rows:#?}"))
}

#[test]
fn by_kind_gives_one_row_per_kind_and_an_all_kinds_row_with_a_null_kind() {
    let rows = book().groups(&[Dimension::Kind]);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let gap = find(&rows, Some("gap_fill"), None);
    assert_eq!((gap.stats.detections, gap.stats.triggered), (3, 2));
    assert_eq!(gap.stats.expired, 1);
    assert_eq!(gap.key.symbol, None);
    // gap_fill in exit order: −1 (10:10) then +1 (10:40): cumulative −1, 0, drawdown 1
    assert_eq!(gap.stats.max_drawdown_r, 1.0);
    assert_eq!(gap.stats.profit_factor, Some(1.0));
    let all = find(&rows, None, None);
    assert_eq!(all.key, GroupKey::default());
    assert_eq!(
        (all.stats.detections, all.stats.triggered, all.stats.wins),
        (4, 3, 2)
    );
    assert_eq!(all.stats.total_r, 0.5); // 1 − 1 + 0.5
    // all kinds in exit order: −1 (10:10), +0.5 (10:20), +1 (10:40): drawdown 1 from 0
    assert_eq!(all.stats.max_drawdown_r, 1.0);
    // the rows of kinds add up to the all-kinds row
    let kinds: u64 = rows
        .iter()
        .filter(|r| r.key.kind.is_some())
        .map(|r| r.stats.detections)
        .sum();
    assert_eq!(kinds, all.stats.detections);
}

#[test]
fn by_kind_and_hour_adds_each_hour_over_all_kinds_and_the_total() {
    let rows = book().groups(&[Dimension::Hour, Dimension::Kind, Dimension::Hour]);
    // gap_fill × {09:30-10:00, 10:00-11:00}, vwap_reclaim × 10:00-11:00; then the two
    // hours over all kinds; then the total
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let early = find(&rows, Some("gap_fill"), Some("09:30-10:00"));
    assert_eq!(early.stats.detections, 2);
    let late = find(&rows, None, Some("10:00-11:00"));
    assert_eq!((late.stats.detections, late.stats.triggered), (2, 1));
    assert_eq!(rows.last().unwrap().key, GroupKey::default());
    assert_eq!(rows.last().unwrap().stats.detections, 4);
}

#[test]
fn by_symbol_splits_by_symbol_and_keeps_other_keys_null() {
    let rows = book().groups(&[Dimension::Symbol]);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0].key.symbol.as_deref(), Some("QQQ"));
    assert_eq!(rows[0].stats.triggered, 0);
    assert_eq!(rows[0].stats.win_rate, None);
    assert_eq!(rows[1].key.symbol.as_deref(), Some("SPY"));
    assert_eq!(rows[1].stats.detections, 3);
    assert_eq!(rows[1].key.kind, None);
}

#[test]
fn regime_and_confidence_splits_name_unknown_regimes_and_deciles() {
    let rows = book().groups(&[Dimension::Regime, Dimension::Confidence]);
    assert_eq!(rows[0].key.regime.as_deref(), Some("unknown"));
    assert_eq!(rows[0].key.confidence.as_deref(), Some("70-80"));
    assert_eq!(rows[0].stats.detections, 4);
    let json = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(json["kind"], serde_json::Value::Null);
    assert_eq!(json["confidence"], "70-80");
    assert_eq!(json["detections"], 4);
}

#[test]
fn no_trades_give_one_empty_total_row() {
    let rows = GroupedTrades::new().groups(&[Dimension::Kind]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].stats.detections, 0);
    assert_eq!(rows[0].stats.win_rate, None);
}

#[test]
fn a_regime_split_separates_positive_negative_and_unknown_gamma() {
    use crate::gex::Regime;
    let mut g = GroupedTrades::new();
    let with = |regime: Option<Regime>, r: f64| {
        let mut t = trade(SetupKind::GapFill, "SPY", 10, 40, Some(r));
        t.regime = regime;
        t
    };
    g.push(&with(Some(Regime::Negative), 2.0));
    g.push(&with(Some(Regime::Negative), -1.0));
    g.push(&with(Some(Regime::Positive), -1.0));
    g.push(&with(None, 1.0));
    let rows = g.groups(&[Dimension::Regime]);
    let by: Vec<(Option<&str>, u64, f64)> = rows
        .iter()
        .map(|r| (r.key.regime.as_deref(), r.stats.triggered, r.stats.total_r))
        .collect();
    assert_eq!(
        by,
        vec![
            (Some("negative"), 2, 1.0),
            (Some("positive"), 1, -1.0),
            (Some("unknown"), 1, 1.0),
            (None, 4, 1.0),
        ]
    );
}
