//! Auto-tracking on the running simulation (`[setups] auto_track = true`): watchlist
//! detections only, at most one per symbol per 5 minutes, and a restart tracks nothing
//! twice.

use crate::support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use coach::config::Config;
use coach::provider::MarketEvent;
use coach::runtime::AppEvent;
use coach::runtime::services::{Feed, Services};
use coach::store::{Store, UserId};

/// Runs the simulated session until a step after its close; returns the setups the
/// screen was told about without a transition (the auto-tracked ones).
async fn run_session(config: &Config, store: &Store, now: chrono::DateTime<Utc>) -> Vec<i64> {
    let mut services = Services::start(config, store, now, Feed::Sim);
    let mut market = services.bus.subscribe();
    let close = services.bus.snapshot().await.expect("feed").session.close;
    let mut told = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        tokio::select! {
            event = market.recv() => {
                if let Ok(MarketEvent::Step { at, .. }) = event
                    && at >= close + chrono::Duration::minutes(1)
                {
                    break;
                }
            }
            Some(event) = services.events.recv() => {
                if let AppEvent::SetupChanged { row, transition: None, .. } = event {
                    told.push(row.setup.id);
                }
            }
            _ = tokio::time::sleep_until(deadline) => panic!("the session did not reach its close"),
        }
    }
    services.shutdown();
    // Let the workers finish what they were writing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(event) = services.events.try_recv() {
        if let AppEvent::SetupChanged {
            row,
            transition: None,
            ..
        } = event
        {
            told.push(row.setup.id);
        }
    }
    told
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchlist_detections_are_tracked_once_at_most_one_per_symbol_per_five_minutes() {
    for t in support::stores().await {
        tracked_once_on(&t).await;
    }
}

async fn tracked_once_on(t: &support::TestStore) {
    let mut config = Config::default();
    config.sim.speed = 3600.0;
    config.setups.auto_track = true;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let user: UserId = t.store.ensure_user("local", now).await.unwrap();
    let watchlist = t.store.default_watchlist(user, now).await.unwrap();

    let told = run_session(&config, &t.store, now).await;
    let setups = t.store.setups(user, None).await.unwrap();
    assert!(
        !setups.is_empty(),
        "the demo session produces watchlist detections to auto-track"
    );
    let mut ids: Vec<i64> = setups.iter().map(|r| r.setup.id).collect();
    ids.sort();
    let mut told_sorted = told.clone();
    told_sorted.sort();
    assert_eq!(
        told_sorted, ids,
        "the screen hears of every auto-tracked setup"
    );
    let detections = t
        .store
        .detections_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
        .await
        .unwrap();
    assert!(
        detections
            .iter()
            .any(|d| !watchlist.symbols.contains(&d.detection.symbol)),
        "the session also has detections off the watchlist"
    );
    let on_list = detections
        .iter()
        .filter(|d| watchlist.symbols.contains(&d.detection.symbol))
        .count();
    // Seed 42's session has watchlist detections of one symbol minutes apart (SPY at
    // 09:34 and 09:36 ET): the spacing rule must have skipped some.
    assert!(
        setups.len() < on_list,
        "{} setups from {on_list} watchlist detections",
        setups.len()
    );
    let mut sources = HashSet::new();
    for row in &setups {
        let s = &row.setup;
        assert!(
            watchlist.symbols.contains(&s.symbol),
            "{} is not on the watchlist",
            s.symbol
        );
        let source = s.source_id.expect("tracked from a detection");
        assert!(sources.insert(source), "detection {source} tracked twice");
        let d = detections
            .iter()
            .find(|d| d.id == source)
            .expect("its detection");
        assert_eq!(
            s.tracked_at, d.detection.detected_at,
            "armed at the detection"
        );
        let events = t.store.setup_events(user, s.id).await.unwrap();
        assert_eq!(
            (events[0].reason.as_str(), events[0].actor.as_str()),
            ("tracked", "auto_track")
        );
    }
    for a in &setups {
        for b in &setups {
            if a.setup.id != b.setup.id && a.setup.symbol == b.setup.symbol {
                let gap = (a.setup.tracked_at - b.setup.tracked_at)
                    .num_seconds()
                    .abs();
                assert!(
                    gap >= 300,
                    "{} tracked twice within {gap} s",
                    a.setup.symbol
                );
            }
        }
    }

    // The same session again on the same database: no detection of the first run is
    // tracked again. (GEX profiles reach the detector asynchronously, so a rerun may find
    // a detection the first run did not; only those may be tracked.)
    let first_sources: HashSet<i64> = setups.iter().filter_map(|r| r.setup.source_id).collect();
    let again = run_session(&config, &t.store, now).await;
    let after = t.store.setups(user, None).await.unwrap();
    let mut all_sources = HashSet::new();
    for row in &after {
        let source = row.setup.source_id.expect("tracked from a detection");
        assert!(
            all_sources.insert(source),
            "detection {source} tracked twice"
        );
        if again.contains(&row.setup.id) {
            assert!(
                !first_sources.contains(&source),
                "the restart tracked detection {source} again"
            );
        }
    }
}

/// Stored backtest statistics where `kind` loses half an R over 120 trades (95 %
/// interval [−0.71, −0.29]): a negative edge.
async fn store_negative_edge(store: &Store, kind: &str) {
    use coach::stats::{GroupKey, GroupRow, GroupStats};
    use coach::store::{BacktestRun, SOURCE_CLI};
    let row = GroupRow {
        key: GroupKey {
            kind: Some(kind.to_string()),
            ..GroupKey::default()
        },
        stats: GroupStats {
            detections: 130,
            triggered: 120,
            stopped_out: 90,
            target_hit: 30,
            wins: 30,
            win_rate: Some(0.25),
            avg_r: Some(-0.5),
            avg_r_ci95: Some([-0.71, -0.29]),
            total_r: -60.0,
            ..GroupStats::default()
        },
    };
    let run = BacktestRun {
        ran_at: Utc::now(),
        from: None,
        to: None,
        symbols: vec!["SPY".into()],
        bars: 0,
        sessions: 0,
        slippage: 0.01,
        version: "test".into(),
        source: SOURCE_CLI.into(),
    };
    store.save_backtest_stats(&run, &[row]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_with_a_negative_edge_in_the_stored_backtest_is_never_auto_tracked() {
    let mut config = Config::default();
    config.sim.speed = 3600.0;
    config.setups.auto_track = true;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    // the same session without statistics: which kinds get auto-tracked
    let plain = support::sqlite().await;
    let user = plain.store.ensure_user("local", now).await.unwrap();
    run_session(&config, &plain.store, now).await;
    let tracked = plain.store.setups(user, None).await.unwrap();
    let kinds: HashSet<_> = tracked.iter().map(|r| r.setup.kind).collect();
    let losing = tracked
        .first()
        .expect("the demo session auto-tracks")
        .setup
        .kind;

    let judged = support::sqlite().await;
    let user = judged.store.ensure_user("local", now).await.unwrap();
    store_negative_edge(&judged.store, losing.as_str()).await;
    run_session(&config, &judged.store, now).await;
    let setups = judged.store.setups(user, None).await.unwrap();
    assert!(
        setups.iter().all(|r| r.setup.kind != losing),
        "{losing} has a negative edge: {:?}",
        setups.iter().map(|r| r.setup.kind).collect::<Vec<_>>()
    );
    if kinds.len() > 1 {
        assert!(!setups.is_empty(), "the other kinds are still auto-tracked");
    }
    // the detections themselves are still stored and shown
    let detections = judged
        .store
        .detections_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
        .await
        .unwrap();
    assert!(detections.iter().any(|d| d.detection.kind == losing));
}
