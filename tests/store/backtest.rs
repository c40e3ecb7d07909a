//! Stored setup statistics (SPEC 18) on both databases: a run and its groups per kind and
//! per (kind, symbol) round-trip field for field, a new run replaces the earlier one, and
//! only kind / symbol splits are stored.

use crate::support;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::stats::{EdgeBook, EdgeScope, GroupKey, GroupRow, GroupStats};
use coach::store::{BacktestRun, SOURCE_CLI, SOURCE_SCHEDULED, StoreError};

fn run(source: &str, ran_minute: u32) -> BacktestRun {
    BacktestRun {
        ran_at: Utc
            .with_ymd_and_hms(2026, 11, 25, 21, ran_minute, 0)
            .unwrap(),
        from: NaiveDate::from_ymd_opt(2013, 10, 7),
        to: NaiveDate::from_ymd_opt(2013, 10, 31),
        symbols: vec!["QQQ".into(), "SPY".into()],
        bars: 14_040,
        sessions: 36,
        slippage: 0.01,
        version: "0.1.0".into(),
        source: source.into(),
    }
}

fn row(kind: Option<&str>, symbol: Option<&str>, triggered: u64, avg_r: f64) -> GroupRow {
    GroupRow {
        key: GroupKey {
            kind: kind.map(str::to_string),
            symbol: symbol.map(str::to_string),
            ..GroupKey::default()
        },
        stats: GroupStats {
            detections: triggered + 7,
            triggered,
            target_hit: triggered / 2,
            stopped_out: triggered - triggered / 2 - 1,
            time_exit: 1,
            expired: 4,
            invalidated: 3,
            wins: triggered / 2,
            win_rate: Some(0.42),
            win_rate_ci95: Some([0.35, 0.49]),
            avg_r: Some(avg_r),
            avg_r_ci95: Some([avg_r - 0.14, avg_r + 0.14]),
            total_r: avg_r * triggered as f64,
            profit_factor: Some(1.12),
            max_drawdown_r: 6.5,
            avg_mfe_r: Some(1.1),
            avg_mae_r: Some(0.7),
        },
    }
}

#[tokio::test]
async fn a_stored_run_reads_back_field_for_field_and_the_next_run_replaces_it() {
    for t in support::stores().await {
        assert_eq!(
            t.store.latest_backtest_stats().await.unwrap(),
            None,
            "{}",
            t.name
        );
        let mut rows = vec![
            row(Some("orb_breakout"), Some("SPY"), 25, 0.31),
            row(Some("orb_breakout"), None, 193, 0.06),
            row(None, None, 446, 0.04),
            row(None, Some("SPY"), 240, 0.05),
        ];
        // nulls survive too: a group where nothing filled has no rates
        rows.push(GroupRow {
            key: GroupKey {
                kind: Some("gamma_squeeze".into()),
                ..GroupKey::default()
            },
            stats: GroupStats {
                detections: 2,
                expired: 2,
                ..GroupStats::default()
            },
        });
        let first = t
            .store
            .save_backtest_stats(&run(SOURCE_CLI, 0), &rows)
            .await
            .unwrap();
        let stored = t.store.latest_backtest_stats().await.unwrap().unwrap();
        assert_eq!(stored.id, first);
        assert_eq!(
            stored.run,
            run(SOURCE_CLI, 0),
            "{}: the run round-trips",
            t.name
        );
        let mut expected = rows.clone();
        expected.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(stored.rows, expected, "{}: every group round-trips", t.name);
        // the totals (kind null) come first
        assert_eq!(stored.rows[0].key.kind, None);

        // what the Scanner makes of it: SPY has 25 ORB trades of its own, QQQ none
        let book = EdgeBook::new(&stored.rows);
        assert_eq!(
            book.edge("orb_breakout", "SPY").unwrap().scope,
            EdgeScope::KindSymbol
        );
        assert_eq!(book.edge("orb_breakout", "QQQ").unwrap().n, 193);

        // the scheduled run after the next close replaces it whole
        let newer = vec![row(Some("vwap_reclaim"), None, 120, -0.5)];
        let second = t
            .store
            .save_backtest_stats(&run(SOURCE_SCHEDULED, 30), &newer)
            .await
            .unwrap();
        assert!(second > first);
        let stored = t.store.latest_backtest_stats().await.unwrap().unwrap();
        assert_eq!(stored.run.source, SOURCE_SCHEDULED);
        assert_eq!(
            stored.rows, newer,
            "{}: nothing of the earlier run is left",
            t.name
        );
        assert!(EdgeBook::new(&stored.rows).is_negative("vwap_reclaim"));
    }
}

#[tokio::test]
async fn a_group_split_by_hour_is_refused_and_nothing_is_stored() {
    for t in support::stores().await {
        let mut by_hour = row(Some("gap_fill"), None, 30, 0.1);
        by_hour.key.hour = Some("10:00-11:00".into());
        let err = t
            .store
            .save_backtest_stats(&run(SOURCE_CLI, 0), &[by_hour])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{}: {err}", t.name);
        assert!(err.to_string().contains("kind and symbol"), "{err}");
        assert_eq!(t.store.latest_backtest_stats().await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_run_over_no_session_stores_null_dates_and_no_symbols() {
    for t in support::stores().await {
        let mut empty = run(SOURCE_SCHEDULED, 5);
        empty.from = None;
        empty.to = None;
        empty.symbols.clear();
        empty.bars = 0;
        empty.sessions = 0;
        t.store.save_backtest_stats(&empty, &[]).await.unwrap();
        let stored = t.store.latest_backtest_stats().await.unwrap().unwrap();
        assert_eq!(stored.run, empty, "{}", t.name);
        assert!(stored.rows.is_empty());
    }
}
