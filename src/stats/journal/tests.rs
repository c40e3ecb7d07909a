//! The journal read as trades, with hand-computed numbers.

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::domain::{Direction, SetupKind, Symbol};
use crate::market::calendar::ny_instant;

const DAY: (i32, u32, u32) = (2026, 11, 24);

/// New York wall time on 2026-11-24.
fn ny(h: u32, m: u32) -> DateTime<Utc> {
    ny_instant(
        NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap(),
        NaiveTime::from_hms_opt(h, m, 0).unwrap(),
    )
}

fn detection(
    symbol: &str,
    kind: SetupKind,
    direction: Direction,
    plan: (f64, f64, f64),
) -> Detection {
    Detection {
        gex: None,
        symbol: Symbol::parse(symbol).unwrap(),
        kind,
        direction,
        confidence: 72,
        entry: plan.0,
        stop: plan.1,
        target: plan.2,
        detected_at: ny(10, 6),
        bar_time: ny(10, 5),
        market_date: NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap(),
        dedup_key: "k".into(),
        rationale: "test".into(),
    }
}

fn event(reason: &str, price: Option<f64>, r: Option<f64>, at: DateTime<Utc>) -> JournalEvent {
    JournalEvent {
        reason: reason.into(),
        price,
        realised_r: r,
        at,
    }
}

/// A setup of `d`, tracked at `at`, with `events` after its `tracked` line.
fn setup(
    id: i64,
    d: &Detection,
    known: bool,
    at: DateTime<Utc>,
    events: Vec<JournalEvent>,
) -> JournalSetup {
    let mut all = vec![event("tracked", None, None, at)];
    all.extend(events);
    JournalSetup {
        setup: TrackedSetup::track(id, known.then_some(id), d, false, at).unwrap(),
        detection: known.then(|| d.clone()),
        events: all,
    }
}

/// SPY long 100 / 99 / 102, tracked from its detection: a first attempt filled at 100.10
/// and stopped at 98.90 (the store booked −1.2 R), reopened, filled at 100.00 and out at
/// its target 102.00 (no R on the event: (102 − 100) / 1 = +2 R). A hand-made QQQ gap
/// fill short invalidated by its stop at 14:20; a SPY plan that expired; one still open;
/// one archived while active.
fn sample() -> Vec<JournalSetup> {
    let spy = detection(
        "SPY",
        SetupKind::OrbBreakout,
        Direction::Long,
        (100.0, 99.0, 102.0),
    );
    let qqq = detection(
        "QQQ",
        SetupKind::GapFill,
        Direction::Short,
        (50.0, 51.0, 48.0),
    );
    vec![
        setup(
            1,
            &spy,
            true,
            ny(10, 6),
            vec![
                event("entry_crossed", Some(100.10), None, ny(10, 10)),
                event("stopped_out", Some(98.90), Some(-1.2), ny(10, 30)),
                event("reopen", None, None, ny(11, 0)),
                event("entry_crossed", Some(100.0), None, ny(11, 5)),
                event("target_hit", Some(102.0), None, ny(11, 40)),
            ],
        ),
        setup(
            2,
            &qqq,
            false,
            ny(14, 0),
            vec![event("stop_before_entry", Some(51.0), None, ny(14, 20))],
        ),
        setup(
            3,
            &spy,
            true,
            ny(10, 7),
            vec![event("expired", None, None, ny(16, 0))],
        ),
        setup(
            4,
            &spy,
            true,
            ny(10, 8),
            vec![event("entry_crossed", Some(100.0), None, ny(10, 9))],
        ),
        setup(
            5,
            &spy,
            true,
            ny(10, 9),
            vec![event("manual_archive", None, None, ny(10, 20))],
        ),
    ]
}

#[test]
fn each_ended_attempt_is_a_trade_and_a_reopen_keeps_the_earlier_result() {
    let trades = journal_trades(&sample()[0]);
    assert_eq!(trades.len(), 2);
    let (first, second) = (&trades[0], &trades[1]);
    assert_eq!(first.outcome, TradeOutcome::StoppedOut);
    assert_eq!(
        (first.fill_price, first.exit_price),
        (Some(100.10), Some(98.90))
    );
    assert_eq!(first.r, Some(-1.2), "the store's R is the booked one");
    assert_eq!(first.resolved_at, ny(10, 30));
    assert_eq!(second.outcome, TradeOutcome::TargetHit);
    assert_eq!(second.fill_time, Some(ny(11, 5)));
    assert_eq!(second.r, Some(2.0), "(102 − 100) / |100 − 99|");
    assert_eq!(
        second.hour,
        Some(HourBucket::Morning),
        "the signal bar, 10:05 ET"
    );
    assert_eq!(second.confidence_decile, "70-80");
    assert_eq!((second.mfe_r, second.bars_held), (None, None));
}

#[test]
fn a_setup_without_its_detection_is_bucketed_by_its_tracking_time() {
    let trades = journal_trades(&sample()[1]);
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].outcome, TradeOutcome::Invalidated);
    assert_eq!(trades[0].r, None);
    assert_eq!(
        trades[0].hour,
        Some(HourBucket::Afternoon),
        "tracked 14:00 ET"
    );
    assert_eq!(trades[0].confidence_decile, UNKNOWN);
}

#[test]
fn open_and_archived_attempts_are_not_counted() {
    let s = sample();
    assert!(journal_trades(&s[3]).is_empty(), "filled, no exit yet");
    assert!(journal_trades(&s[4]).is_empty(), "archived before it ended");
}

#[test]
fn the_journals_statistics_are_the_backtests_formulas_over_its_trades() {
    let groups = journal_groups(&sample(), JournalRange::default(), &[Dimension::Kind]);
    let keys: Vec<Option<&str>> = groups.iter().map(|(g, _)| g.key.kind.as_deref()).collect();
    assert_eq!(keys, [Some("gap_fill"), Some("orb_breakout"), None]);
    let (orb, histogram) = &groups[1];
    // SPY: −1.2 and +2 filled, one expiry
    assert_eq!(
        (
            orb.stats.detections,
            orb.stats.triggered,
            orb.stats.expired,
            orb.stats.wins
        ),
        (3, 2, 1, 1)
    );
    assert!((orb.stats.total_r - 0.8).abs() < 1e-9);
    assert!((orb.stats.avg_r.unwrap() - 0.4).abs() < 1e-9);
    // cumulative −1.2 then +0.8: the peak stays 0, the deepest fall 1.2
    assert!((orb.stats.max_drawdown_r - 1.2).abs() < 1e-9);
    assert!((orb.stats.profit_factor.unwrap() - 2.0 / 1.2).abs() < 1e-9);
    // −1.2 in [−1.5, −1), +2 in [+2, +2.5)
    assert_eq!(histogram.counts, [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    let (total, _) = &groups[2];
    assert_eq!((total.stats.detections, total.stats.invalidated), (4, 1));
}

#[test]
fn the_range_keeps_attempts_that_ended_on_its_dates() {
    let next_day = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2 + 1);
    let later = JournalRange {
        from: next_day,
        to: None,
    };
    assert!(journal(&sample(), later).is_empty());
    let that_day = JournalRange {
        from: NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2),
        to: NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2),
    };
    assert_eq!(journal(&sample(), that_day).len(), 4);
}

#[test]
fn an_empty_journal_has_one_empty_total() {
    let groups = journal_groups(&[], JournalRange::default(), &[]);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].0.stats.detections, 0);
    assert_eq!(groups[0].1.total(), 0);
}
