//! A minute of detections stored as one batch (issue 25 item 3), on SQLite and PostgreSQL:
//! each detection once, with its id, in the order given; all or nothing.

use crate::support;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::store::BATCH_ROWS;

fn session() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

/// A breakout on symbol number `n` (`S0`, `S1`, …) at 10:00 New York.
fn breakout(n: usize, key: &str) -> Detection {
    let bar_time = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    Detection {
        symbol: Symbol::parse(&format!("S{n}")).unwrap(),
        kind: SetupKind::OrbBreakout,
        direction: Direction::Long,
        confidence: 70,
        entry: 100.0 + n as f64 * 0.25,
        stop: 99.0,
        target: 102.5,
        detected_at: bar_time + chrono::Duration::minutes(1),
        bar_time,
        market_date: session(),
        dedup_key: key.into(),
        rationale: format!("close above the 15-minute range high of S{n}"),
        gex: None,
    }
}

#[tokio::test]
async fn a_minute_of_twelve_hundred_detections_is_stored_once_each_with_the_ids_of_earlier_ones() {
    // 1,203 rows: three multi-row inserts (500, 500, 203).
    let count = 2 * BATCH_ROWS + 203;
    for t in support::stores().await {
        // Two were stored by an earlier run (the restarted detector finds them again).
        let (early_7, _) = t
            .store
            .insert_detection(&breakout(7, "orb15-high"))
            .await
            .unwrap();
        let (early_900, _) = t
            .store
            .insert_detection(&breakout(900, "orb15-high"))
            .await
            .unwrap();
        let mut batch: Vec<Detection> = (0..count).map(|n| breakout(n, "orb15-high")).collect();
        // A twin inside the batch (the same signal twice in one minute).
        batch.push(breakout(42, "orb15-high"));

        let ids = t.store.insert_detections(&batch).await.unwrap();

        assert_eq!(ids.len(), count + 1, "{}: one answer per detection", t.name);
        assert_eq!(ids[7], (early_7, false), "{}: stored before", t.name);
        assert_eq!(ids[900], (early_900, false), "{}: stored before", t.name);
        assert!(ids[42].1, "{}: the first of twins is new", t.name);
        assert_eq!(
            ids[count],
            (ids[42].0, false),
            "{}: its twin is not",
            t.name
        );
        let new = ids.iter().filter(|(_, new)| *new).count();
        assert_eq!(new, count - 2, "{}", t.name);
        let mut distinct: Vec<i64> = ids.iter().map(|(id, _)| *id).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), count, "{}: one id per signal", t.name);

        let stored = t.store.detections_on(session()).await.unwrap();
        assert_eq!(stored.len(), count, "{}: each stored once", t.name);
        let s1100 = stored.iter().find(|s| s.id == ids[1100].0).unwrap();
        assert_eq!(s1100.detection, breakout(1100, "orb15-high"), "{}", t.name);

        // The same minute again (a restart re-primes it): nothing new, the same ids.
        let again = t.store.insert_detections(&batch).await.unwrap();
        let old: Vec<(i64, bool)> = ids.iter().map(|(id, _)| (*id, false)).collect();
        assert_eq!(again, old, "{}: a repeated batch is the stored one", t.name);
        assert_eq!(t.store.detections_on(session()).await.unwrap().len(), count);
    }
}

#[tokio::test]
async fn a_batch_that_fails_in_its_last_rows_stores_none_of_its_detections() {
    for t in support::stores().await {
        let mut batch: Vec<Detection> = (0..BATCH_ROWS + 10)
            .map(|n| breakout(n, "orb15-high"))
            .collect();
        // Confidence is 0–100 in the schema: the second insert of the batch is refused.
        batch[BATCH_ROWS + 5].confidence = 200;
        let refused = t.store.insert_detections(&batch).await;
        assert!(refused.is_err(), "{}: {refused:?}", t.name);
        assert!(
            t.store.detections_on(session()).await.unwrap().is_empty(),
            "{}: the first 500 rows were rolled back with the rest",
            t.name
        );
        batch[BATCH_ROWS + 5].confidence = 70;
        let ids = t.store.insert_detections(&batch).await.unwrap();
        assert!(ids.iter().all(|(_, new)| *new), "{}", t.name);
        assert_eq!(
            ids[BATCH_ROWS + 5].0,
            t.store
                .detections_on(session())
                .await
                .unwrap()
                .iter()
                .find(|s| s.detection.symbol.as_str() == format!("S{}", BATCH_ROWS + 5))
                .unwrap()
                .id
        );
    }
}

#[tokio::test]
async fn an_empty_batch_touches_nothing() {
    for t in support::stores().await {
        assert_eq!(t.store.insert_detections(&[]).await.unwrap(), []);
    }
}
