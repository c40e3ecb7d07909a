//! The Stats pane's journal feed (`runtime::journal_stats::watch`) on every backend: the
//! statistics arrive at start, and again after a setup of the user changes — not after
//! another user's.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::runtime::AppEvent;
use coach::runtime::journal_stats::watch;
use coach::runtime::setup_changes::{SetupChange, SetupChanges};
use coach::setups::{PriceUpdate, evaluate};
use coach::stats::{GroupRow, RHistogram};
use coach::store::{StoredDetection, TrackResult};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support;

fn at(m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, m, 0).unwrap()
}

async fn next_stats(rx: &mut mpsc::Receiver<AppEvent>) -> Vec<(GroupRow, RHistogram)> {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
        Ok(Some(AppEvent::JournalStats(rows))) => rows,
        other => panic!("expected journal statistics, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_statistics_follow_the_users_setup_changes() {
    for t in support::stores().await {
        let store = &t.store;
        let me = store.ensure_user("local", at(0)).await.unwrap();
        let other = store.ensure_user("bob", at(0)).await.unwrap();
        let changes = SetupChanges::default();
        let (tx, mut rx) = mpsc::channel(8);
        let cancel = CancellationToken::new();
        watch(store.clone(), me, &changes, tx, cancel.clone());
        let empty = next_stats(&mut rx).await;
        assert_eq!(empty.len(), 1, "{}: one empty total", t.name);
        assert_eq!(empty[0].0.stats.detections, 0);

        // Bob's change is not ours: nothing is sent.
        changes.publish(SetupChange::deleted(other, 99));
        assert!(
            tokio::time::timeout(Duration::from_millis(800), rx.recv())
                .await
                .is_err(),
            "{}: another user's change recomputes nothing",
            t.name
        );

        // Ours: SPY long 100 / 99 / 102 filled at 100.00, out at 102.00: +2 R.
        let d = Detection {
            gex: None,
            symbol: Symbol::parse("SPY").unwrap(),
            kind: SetupKind::OrbBreakout,
            direction: Direction::Long,
            confidence: 72,
            entry: 100.0,
            stop: 99.0,
            target: 102.0,
            detected_at: at(6),
            bar_time: at(5),
            market_date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            dedup_key: "journal-watch".into(),
            rationale: "test".into(),
        };
        let (id, _) = store.insert_detection(&d).await.unwrap();
        let TrackResult::Tracked(mut row) = store
            .track(me, &StoredDetection { id, detection: d }, false, at(7))
            .await
            .unwrap()
        else {
            panic!("{}: not tracked", t.name);
        };
        for (m, price) in [(8, 100.0), (9, 102.0)] {
            let step = evaluate(&row.setup, &PriceUpdate::trade(at(m), price)).unwrap();
            row = store
                .apply_transition(me, &step, "evaluator")
                .await
                .unwrap();
            changes.publish(SetupChange::written(me, row.clone()));
        }
        // A slow store may send the fill first, then the exit: wait for the exit.
        let mut rows = next_stats(&mut rx).await;
        while rows.iter().all(|(g, _)| g.stats.triggered == 0) {
            rows = next_stats(&mut rx).await;
        }
        let (orb, histogram) = rows
            .iter()
            .find(|(g, _)| g.key.kind.as_deref() == Some("orb_breakout") && g.key.symbol.is_none())
            .unwrap_or_else(|| panic!("{}: no orb_breakout group in {rows:?}", t.name));
        assert_eq!((orb.stats.triggered, orb.stats.wins), (1, 1), "{}", t.name);
        assert_eq!(orb.stats.avg_r, Some(2.0));
        assert_eq!(histogram.total(), 1);
        assert!(
            rows.iter()
                .any(|(g, _)| g.key.symbol.as_deref() == Some("SPY")),
            "{}: the (kind, symbol) group is listed too",
            t.name
        );
        cancel.cancel();
    }
}
