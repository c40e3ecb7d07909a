//! `coach setups stats` (SPEC 18, "Journal") run as a trader runs it: the built binary on
//! a fresh SQLite database whose journal was written through the store, as the dashboard
//! writes it. The numbers are computed by hand in the comments.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::setups::{ManualAction, PriceUpdate, apply_manual, evaluate};
use coach::store::{SetupRow, Store, StoredDetection, TrackResult, UserId};
use serde_json::{Value, json};

use crate::isolated::{Db, coach, db, err, out};

/// 2026-11-24 (EST): 15:00 UTC is 10:00 New York.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
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
        detected_at: at(15, 6),
        bar_time: at(15, 5),
        market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        dedup_key: symbol.into(),
        rationale: "test".into(),
    }
}

async fn track(store: &Store, user: UserId, d: Detection, when: DateTime<Utc>) -> SetupRow {
    let (id, _) = store.insert_detection(&d).await.unwrap();
    match store
        .track(user, &StoredDetection { id, detection: d }, false, when)
        .await
        .unwrap()
    {
        TrackResult::Tracked(row) => row,
        other => panic!("{other:?}"),
    }
}

/// Applies the evaluator's transition for a trade at `price`.
async fn trade(
    store: &Store,
    user: UserId,
    row: SetupRow,
    when: DateTime<Utc>,
    price: f64,
) -> SetupRow {
    let t = evaluate(&row.setup, &PriceUpdate::trade(when, price)).expect("a transition");
    store.apply_transition(user, &t, "evaluator").await.unwrap()
}

/// Local's journal: a SPY ORB long 681.25 / 679.75 / 684.25 (risk 1.50) filled at 681.30
/// and out at 684.30 (+2 R), reopened, filled at 681.40 and stopped by a trade at 679.60
/// ((679.60 − 681.40) / 1.50 = −1.2 R); a QQQ VWAP-reclaim short whose stop traded before
/// its entry; a SPY plan still active. Bob's IWM winner is his, not local's.
async fn seed(url: &str) {
    let store = Store::open(url).await.unwrap();
    let local = store.ensure_user("local", at(14, 0)).await.unwrap();
    let bob = store.ensure_user("bob", at(14, 0)).await.unwrap();
    let spy = track(
        &store,
        local,
        detection(
            "SPY",
            SetupKind::OrbBreakout,
            Direction::Long,
            (681.25, 679.75, 684.25),
        ),
        at(15, 7),
    )
    .await;
    let spy = trade(&store, local, spy, at(15, 9), 681.30).await;
    let spy = trade(&store, local, spy, at(15, 40), 684.30).await;
    let reopen = apply_manual(&spy.setup, ManualAction::Reopen, at(15, 45)).unwrap();
    let spy = store
        .apply_transition(local, &reopen, "trader")
        .await
        .unwrap();
    let spy = trade(&store, local, spy, at(15, 50), 681.40).await;
    trade(&store, local, spy, at(15, 55), 679.60).await;
    let qqq = track(
        &store,
        local,
        detection(
            "QQQ",
            SetupKind::VwapReclaim,
            Direction::Short,
            (610.5, 612.0, 607.5),
        ),
        at(15, 20),
    )
    .await;
    trade(&store, local, qqq, at(15, 25), 612.10).await;
    let mut waiting = detection(
        "SPY",
        SetupKind::GapFill,
        Direction::Long,
        (690.0, 689.0, 692.0),
    );
    waiting.dedup_key = "waiting".into();
    track(&store, local, waiting, at(15, 30)).await;
    let iwm = track(
        &store,
        bob,
        detection(
            "IWM",
            SetupKind::OrbBreakout,
            Direction::Long,
            (240.0, 239.0, 242.0),
        ),
        at(15, 8),
    )
    .await;
    let iwm = trade(&store, bob, iwm, at(15, 10), 240.0).await;
    trade(&store, bob, iwm, at(15, 30), 242.0).await;
    store.close().await;
}

fn close(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!((got - expected).abs() < 1e-6, "{got} != {expected}");
}

#[tokio::test]
async fn setups_stats_json_has_the_journals_hand_computed_statistics() {
    let db = db();
    seed(&db.url).await;
    let o = coach(&db, &["setups", "stats", "--json"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    let report: Value = serde_json::from_str(&out(&o)).expect("one JSON object");
    assert_eq!(report["from"], "2026-11-24");
    assert_eq!(report["to"], "2026-11-24");
    assert_eq!(
        report["symbols"],
        json!(["QQQ", "SPY"]),
        "Bob's IWM is not local's"
    );
    assert_eq!(report["sessions"], 2);
    assert_eq!(report["bars"], Value::Null);
    assert_eq!(report["slippage"], Value::Null);
    let groups = report["groups"].as_array().unwrap();
    let kinds: Vec<&Value> = groups.iter().map(|g| &g["kind"]).collect();
    assert_eq!(
        kinds,
        [&json!("orb_breakout"), &json!("vwap_reclaim"), &Value::Null]
    );
    let orb = &groups[0];
    for (field, n) in [
        ("detections", 2),
        ("triggered", 2),
        ("target_hit", 1),
        ("stopped_out", 1),
        ("time_exit", 0),
        ("expired", 0),
        ("invalidated", 0),
        ("wins", 1),
    ] {
        assert_eq!(orb[field], n, "{field}");
    }
    for key in [
        "symbol",
        "hour",
        "regime",
        "confidence",
        "avg_mfe_r",
        "avg_mae_r",
    ] {
        assert_eq!(orb[key], Value::Null, "{key}");
    }
    close(&orb["win_rate"], 0.5);
    // Wilson, 1 of 2, z² = 3.8416: denominator 2.9208, centre 0.5,
    // half 1.96 · √(0.125 + 0.2401) / 2.9208 = 1.96 · 0.6042351 / 2.9208 = 0.4054713
    close(&orb["win_rate_ci95"][0], 0.5 - 0.4054713);
    close(&orb["win_rate_ci95"][1], 0.5 + 0.4054713);
    close(&orb["total_r"], 0.8); // +2 − 1.2
    close(&orb["avg_r"], 0.4);
    // s = √((1.6² + 1.6²) / 1) = 2.2627417; half 1.96 · s / √2 = 3.136
    close(&orb["avg_r_ci95"][0], 0.4 - 3.136);
    close(&orb["avg_r_ci95"][1], 0.4 + 3.136);
    close(&orb["profit_factor"], 2.0 / 1.2);
    close(&orb["max_drawdown_r"], 1.2); // cumulative +2 then +0.8
    let vwap = &groups[1];
    assert_eq!(
        (vwap["detections"].as_u64(), vwap["invalidated"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(vwap["win_rate"], Value::Null, "nothing filled");
    let total = &groups[2];
    assert_eq!(total["detections"], 3, "the active plan has not ended");
    assert_eq!(total["triggered"], 2);
}

#[tokio::test]
async fn setups_stats_by_hour_and_confidence_split_the_journal() {
    let db = db();
    seed(&db.url).await;
    let o = coach(
        &db,
        &[
            "setups",
            "stats",
            "--json",
            "--by",
            "hour",
            "--by",
            "confidence",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    let report: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(report["by"], json!(["hour", "confidence"]));
    let first = &report["groups"][0];
    // every signal bar at 10:05 ET, every detection at 72
    assert_eq!(first["hour"], "10:00-11:00");
    assert_eq!(first["confidence"], "70-80");
    assert_eq!(first["detections"], 3);
}

#[tokio::test]
async fn setups_stats_table_shows_n_beside_every_rate() {
    let db = db();
    seed(&db.url).await;
    let o = coach(&db, &["setups", "stats"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("3 ended attempt(s) over 2 symbol-session(s)"),
        "{text}"
    );
    let orb = text
        .lines()
        .find(|l| l.starts_with("orb_breakout"))
        .unwrap_or_else(|| panic!("no orb_breakout line:\n{text}"));
    assert!(orb.contains("50.0% of 2"), "{orb}");
    assert!(orb.contains("+0.40 n 2"), "{orb}");
    assert!(orb.contains("1.67"), "profit factor 2 / 1.2: {orb}");
}

#[test]
fn setups_stats_on_an_empty_journal_prints_empty_statistics_and_exits_0() {
    let db: Db = db();
    let o = coach(&db, &["setups", "stats"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    assert!(out(&o).starts_with("no closed setups yet"), "{}", out(&o));
    let o = coach(&db, &["setups", "stats", "--json"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    let report: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(report["symbols"], json!([]));
    assert_eq!(
        report["groups"].as_array().unwrap().len(),
        1,
        "one empty total"
    );
    assert_eq!(report["groups"][0]["detections"], 0);
    assert_eq!(report["groups"][0]["win_rate"], Value::Null);
}

#[test]
fn setups_stats_refuses_a_range_that_ends_before_it_starts() {
    let db = db();
    let o = coach(
        &db,
        &[
            "setups",
            "stats",
            "--from",
            "2026-11-25",
            "--to",
            "2026-11-24",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "stdout: {}", out(&o));
    assert!(
        err(&o).contains("--from 2026-11-25 is after --to 2026-11-24"),
        "{}",
        err(&o)
    );
}

#[tokio::test]
async fn setups_stats_from_a_later_date_counts_nothing() {
    let db = db();
    seed(&db.url).await;
    let o = coach(&db, &["setups", "stats", "--from", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", err(&o));
    assert!(
        out(&o).starts_with("no closed setups yet between 2026-11-25 and today"),
        "{}",
        out(&o)
    );
}
