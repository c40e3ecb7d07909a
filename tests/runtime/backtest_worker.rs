//! The scheduled backtest worker (SPEC 18, `[backtest] bars`) for real: a fresh SQLite
//! store, the shared week of SPY minute bars, the supervisor and Health. With no stored run
//! since the latest close the worker backtests at once, stores the statistics (the same
//! numbers `coach backtest` computes) and sends them to the screen; started again it only
//! loads them; a missing directory is an error in Health that names it.

use crate::support;

use std::path::PathBuf;
use std::time::Duration;

use coach::runtime::AppEvent;
use coach::runtime::backtest::{EdgeChannel, WORKER, run_scheduled_backtest};
use coach::runtime::health::Health;
use coach::runtime::supervisor;
use coach::store::{SOURCE_SCHEDULED, Store};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Starts the worker on `bars` and returns its screen channel, health and edge channel.
fn start(
    store: &Store,
    bars: PathBuf,
    cancel: &CancellationToken,
) -> (mpsc::Receiver<AppEvent>, Health, EdgeChannel) {
    let (screen, events) = mpsc::channel(16);
    let (health, edge) = (Health::default(), EdgeChannel::default());
    let (store, worker_edge) = (store.clone(), edge.clone());
    supervisor::spawn(
        WORKER,
        Duration::from_secs(60),
        health.clone(),
        cancel.clone(),
        move |ctx| {
            run_scheduled_backtest(
                ctx,
                store.clone(),
                bars.clone(),
                0.01,
                worker_edge.clone(),
                screen.clone(),
            )
        },
    );
    (events, health, edge)
}

async fn next_stats(
    events: &mut mpsc::Receiver<AppEvent>,
) -> std::sync::Arc<coach::store::StoredBacktest> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(120), events.recv())
            .await
            .expect("the worker sent its statistics within two minutes")
            .expect("the worker's channel is open");
        if let AppEvent::BacktestStats(stats) = event {
            return stats;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_backtests_the_bars_dir_stores_it_and_a_restart_only_loads_it() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let bars = shared.join("data/bars/lean_spy_2013-10");
    let t = support::sqlite().await;
    let cancel = CancellationToken::new();
    let (mut events, health, edge) = start(&t.store, bars.clone(), &cancel);
    let mut seen = edge.subscribe();
    let stats = next_stats(&mut events).await;
    assert_eq!(stats.run.source, SOURCE_SCHEDULED);
    assert_eq!(stats.run.symbols, vec!["SPY".to_string()]);
    assert!(stats.run.sessions >= 5, "a week of SPY: {:?}", stats.run);
    assert!(stats.run.bars >= 5 * 390 - 210, "{:?}", stats.run);
    assert_eq!(stats.run.slippage, 0.01);
    // the grand total, SPY over all kinds, and every kind both alone and on SPY
    let total = stats
        .rows
        .iter()
        .find(|r| r.key.kind.is_none() && r.key.symbol.is_none())
        .expect("a total row");
    let kinds: Vec<_> = stats
        .rows
        .iter()
        .filter(|r| r.key.kind.is_some() && r.key.symbol.is_none())
        .collect();
    let on_spy: Vec<_> = stats
        .rows
        .iter()
        .filter(|r| r.key.kind.is_some() && r.key.symbol.is_some())
        .collect();
    assert_eq!(
        kinds.len(),
        on_spy.len(),
        "one symbol: each kind's row has a SPY twin"
    );
    assert_eq!(
        kinds.iter().map(|r| r.stats.detections).sum::<u64>(),
        total.stats.detections
    );
    // what the screen got is what the store holds and what the auto-tracker hears
    let stored = t.store.latest_backtest_stats().await.unwrap().unwrap();
    assert_eq!(&stored, stats.as_ref());
    seen.changed().await.ok();
    assert_eq!(seen.borrow().as_deref(), Some(&stored));
    let record = health
        .snapshot()
        .into_iter()
        .find(|r| r.name == WORKER)
        .unwrap();
    assert!(
        record.last_success.is_some() && record.errors == 0,
        "{record:?}"
    );
    cancel.cancel();

    // started again (a second dashboard, a restart): nothing new closed, so it loads
    let cancel = CancellationToken::new();
    let (mut events, _, _) = start(&t.store, bars, &cancel);
    let again = next_stats(&mut events).await;
    assert_eq!(again.id, stored.id, "loaded, not run again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        t.store.latest_backtest_stats().await.unwrap().unwrap().id,
        stored.id
    );
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bars_directory_is_an_error_in_health_that_names_it() {
    let t = support::sqlite().await;
    let cancel = CancellationToken::new();
    let missing = std::env::temp_dir().join("coach-no-such-bars-dir");
    let (_events, health, _) = start(&t.store, missing, &cancel);
    let mut changed = health.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let record = health
            .snapshot()
            .into_iter()
            .find(|r| r.name == WORKER)
            .unwrap();
        if record.errors > 0 {
            let error = record.last_error.unwrap_or_default();
            assert!(
                error.contains("coach-no-such-bars-dir") && error.contains("does not exist"),
                "{error}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no error recorded: {record:?}"
        );
        tokio::time::timeout(Duration::from_secs(2), changed.changed())
            .await
            .ok();
    }
    assert_eq!(t.store.latest_backtest_stats().await.unwrap(), None);
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_bars_dir_the_screen_still_gets_the_stored_statistics_and_no_worker_runs() {
    use chrono::Utc;
    use coach::config::Config;
    use coach::runtime::services::{Feed, Services};
    use coach::stats::{GroupKey, GroupRow, GroupStats};
    use coach::store::{BacktestRun, SOURCE_CLI};
    let t = support::sqlite().await;
    let run = BacktestRun {
        ran_at: Utc::now(),
        from: None,
        to: None,
        symbols: vec!["SPY".into()],
        bars: 390,
        sessions: 1,
        slippage: 0.01,
        version: "test".into(),
        source: SOURCE_CLI.into(),
    };
    let row = GroupRow {
        key: GroupKey {
            kind: Some("gap_fill".into()),
            ..GroupKey::default()
        },
        stats: GroupStats {
            detections: 3,
            ..GroupStats::default()
        },
    };
    let id = t.store.save_backtest_stats(&run, &[row]).await.unwrap();
    let config = Config::default();
    assert_eq!(config.backtest.scheduled_bars(), None);
    let mut services = Services::start(&config, &t.store, Utc::now(), Feed::Sim);
    let stats = next_stats(&mut services.events).await;
    assert_eq!(stats.id, id);
    assert_eq!(
        services.edge.subscribe().borrow().as_ref().map(|s| s.id),
        Some(id)
    );
    assert!(
        services.health.snapshot().iter().all(|r| r.name != WORKER),
        "no scheduled run without [backtest] bars"
    );
    services.shutdown();
}
