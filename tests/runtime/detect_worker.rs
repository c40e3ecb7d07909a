//! The detector worker on the running simulation: detections are stored once and reach
//! the screen; a restart on the same database shows the same detections, not copies.

use crate::support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use coach::config::Config;
use coach::runtime::AppEvent;
use coach::runtime::services::{Feed, Services};
use coach::store::StoredDetection;

async fn first_detections(services: &mut Services, n: usize) -> Vec<StoredDetection> {
    let mut found = Vec::new();
    while found.len() < n {
        let event = tokio::time::timeout(Duration::from_secs(60), services.events.recv())
            .await
            .expect("the demo produces detections within a simulated session")
            .expect("events channel open");
        if let AppEvent::Detection(d) = event {
            found.push(d);
        }
    }
    found
}

/// The same finding: what the store deduplicates on.
fn same_finding(a: &StoredDetection, b: &StoredDetection) -> bool {
    let (a, b) = (&a.detection, &b.detection);
    (&a.symbol, a.kind, a.direction, &a.dedup_key, a.market_date)
        == (&b.symbol, b.kind, b.direction, &b.dedup_key, b.market_date)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detections_are_stored_once_and_survive_a_restart() {
    for t in support::stores().await {
        stored_once_on(&t).await;
    }
}

async fn stored_once_on(t: &support::TestStore) {
    let mut config = Config::default();
    config.sim.speed = 3600.0;
    // Wednesday 2026-11-25, 21:00 UTC: the simulation replays that session.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();

    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let first = first_detections(&mut services, 3).await;
    services.shutdown();
    for d in &first {
        let det = &d.detection;
        assert_eq!(
            det.market_date,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
        );
        assert!(det.confidence <= 100);
        let ordered = match det.direction {
            coach::domain::Direction::Long => det.stop < det.entry && det.entry < det.target,
            coach::domain::Direction::Short => det.target < det.entry && det.entry < det.stop,
        };
        assert!(ordered, "plan levels out of order: {det:?}");
        assert!(!det.rationale.is_empty());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stored = t
        .store
        .detections_on(first[0].detection.market_date)
        .await
        .unwrap();
    assert!(first.iter().all(|d| stored.iter().any(|s| s.id == d.id)));

    // The replay may interleave detections the first run never reached, and one that
    // needed the GEX walls may not come back (they arrive on their own schedule): it is
    // read until every first detection is back, or for a minute at most.
    let mut again = Services::start(&config, &t.store, now, Feed::Sim);
    let mut replayed: Vec<StoredDetection> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !first
        .iter()
        .all(|d| replayed.iter().any(|r| same_finding(r, d)))
    {
        match tokio::time::timeout_at(deadline, first_detections(&mut again, 1)).await {
            Ok(found) => replayed.extend(found),
            Err(_) => break,
        }
    }
    again.shutdown();
    assert!(
        first
            .iter()
            .any(|d| replayed.iter().any(|r| same_finding(r, d))),
        "the restarted run reports again what the first one found"
    );
    for d in &first {
        let back = replayed.iter().filter(|r| same_finding(r, d));
        assert!(
            back.clone().all(|r| r.id == d.id),
            "the restarted run reports the stored detection {} with its id: {:?}",
            d.id,
            back.map(|r| r.id).collect::<Vec<_>>()
        );
    }
    let after = t
        .store
        .detections_on(first[0].detection.market_date)
        .await
        .unwrap();
    let mut keys: Vec<_> = after
        .iter()
        .map(|s| {
            (
                s.detection.symbol.clone(),
                s.detection.kind,
                s.detection.direction,
                s.detection.dedup_key.clone(),
            )
        })
        .collect();
    let total = keys.len();
    keys.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    keys.dedup();
    assert_eq!(keys.len(), total, "no detection is stored twice");
}
