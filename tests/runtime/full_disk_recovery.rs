//! A brief full disk does not leave a worker broken (issue 26 item 2): a supervised worker
//! that tracks setups (one `BEGIN IMMEDIATE` transaction each, as the auto-tracker and the
//! evaluator write) on a SQLite database on a small tmpfs. While the disk is full it fails
//! and Health says why; once the disk has room it is running and tracking again within one
//! restart backoff, on its own. Runs again in a private mount namespace of its own
//! ([`rerun_in_namespace`]).

use crate::support;
use crate::support::small_disk::{HereDisk, rerun_in_namespace};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use coach::runtime::health::{Health, WorkerState};
use coach::runtime::supervisor::{self, backoff};
use coach::store::{Store, StoredDetection};
use tokio_util::sync::CancellationToken;

const WORKER: &str = "tracker";

fn record(health: &Health) -> coach::runtime::health::WorkerRecord {
    health
        .snapshot()
        .into_iter()
        .find(|r| r.name == WORKER)
        .expect("the worker is registered")
}

async fn wait_for(
    health: &Health,
    limit: Duration,
    what: &str,
    check: impl Fn(&coach::runtime::health::WorkerRecord) -> bool,
) {
    let deadline = Instant::now() + limit;
    while !check(&record(health)) {
        assert!(
            Instant::now() < deadline,
            "{what} within {limit:?}: {:?}",
            record(health)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_worker_recovers_on_its_own_once_the_disk_has_room() {
    let Some(disk) = HereDisk::mount(8) else {
        rerun_in_namespace(
            "full_disk_recovery::a_tracking_worker_recovers_on_its_own_once_the_disk_has_room",
        );
        return;
    };
    let store = Store::open(&disk.sqlite_url("coach.db")).await.unwrap();
    let user = store.ensure_user("local", Utc::now()).await.unwrap();
    let mut detections = Vec::new();
    for i in 0..40 {
        let d = support::team::detection(&format!("S{i}"));
        let (id, _) = store.insert_detection(&d).await.unwrap();
        detections.push(StoredDetection { id, detection: d });
    }
    let detections = Arc::new(detections);
    let next = Arc::new(AtomicUsize::new(0));
    let tracked = Arc::new(AtomicUsize::new(0));

    let health = Health::default();
    let cancel = CancellationToken::new();
    let worker = {
        let (store, detections, next, tracked) = (
            store.clone(),
            detections.clone(),
            next.clone(),
            tracked.clone(),
        );
        supervisor::spawn(
            WORKER,
            Duration::from_millis(50),
            health.clone(),
            cancel.clone(),
            move |ctx| {
                let (store, detections, next, tracked) = (
                    store.clone(),
                    detections.clone(),
                    next.clone(),
                    tracked.clone(),
                );
                async move {
                    loop {
                        let i = next.load(Ordering::SeqCst) % detections.len();
                        store
                            .track(user, &detections[i], false, Utc::now())
                            .await
                            .map_err(|e| e.to_string())?;
                        next.fetch_add(1, Ordering::SeqCst);
                        tracked.fetch_add(1, Ordering::SeqCst);
                        ctx.heartbeat();
                        tokio::select! {
                            _ = ctx.cancel.cancelled() => return Ok(()),
                            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                        }
                    }
                }
            },
        )
    };
    wait_for(&health, Duration::from_secs(10), "tracking", |r| {
        r.cycles >= 3
    })
    .await;

    disk.fill();
    wait_for(
        &health,
        Duration::from_secs(20),
        "failing for the full disk",
        |r| {
            r.state == WorkerState::Failed
                && r.last_error.as_deref().is_some_and(|e| e.contains("full"))
        },
    )
    .await;
    // A few failed restarts while the disk stays full.
    wait_for(&health, Duration::from_secs(20), "restarting", |r| {
        r.restarts >= 2
    })
    .await;
    disk.free();

    let failures = record(&health).consecutive_failures;
    let before = tracked.load(Ordering::SeqCst);
    let limit = backoff(failures) + Duration::from_secs(3);
    wait_for(&health, limit, "running and tracking again", |r| {
        r.state == WorkerState::Running
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while tracked.load(Ordering::SeqCst) < before + 5 {
        assert!(
            Instant::now() < deadline,
            "not tracking once the disk has room: {:?}",
            record(&health)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = record(&health);
    assert_eq!(r.state, WorkerState::Running, "{r:?}");
    cancel.cancel();
    let _stopped = worker.await;
}
