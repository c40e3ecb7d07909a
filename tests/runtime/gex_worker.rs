//! The GEX refresher on the running simulation: profiles for every symbol appear on the
//! board, another expiry filter is computed on request, and the profile is one a GEX
//! trader recognises (a flip within the sweep, walls on strikes).

use crate::support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use coach::config::Config;
use coach::domain::Symbol;
use coach::gex::ExpiryFilter;
use coach::gex::GexProfile;
use coach::runtime::gex::{GexBoard, GexRequest};
use coach::runtime::services::{Feed, Services};
use tokio::sync::watch;

/// The profile of (symbol, filter) once the board has it; `what` names it in a time-out.
async fn profile_on(
    board: &mut watch::Receiver<GexBoard>,
    symbol: &Symbol,
    filter: ExpiryFilter,
    what: &str,
) -> std::sync::Arc<GexProfile> {
    let key = (symbol.clone(), filter);
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(p) = board.borrow_and_update().get(&key) {
                return p.clone();
            }
            board.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within 20 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_appear_for_the_simulated_chains_and_on_request() {
    let t = support::sqlite().await;
    let config = Config::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let services = Services::start(&config, &t.store, now, Feed::Sim);
    let mut board = services.gex.subscribe();
    let spx = Symbol::parse("SPX").unwrap();

    let profile = profile_on(&mut board, &spx, ExpiryFilter::All, "an SPX profile").await;
    assert!(profile.spot > 1000.0 && profile.contracts_used > 100);
    assert!(
        profile
            .strikes
            .iter()
            .any(|s| Some(s.strike) == profile.call_wall)
    );
    if let Some(flip) = profile.zero_gamma {
        assert!(flip > 0.8 * profile.spot && flip < 1.2 * profile.spot);
    }
    let levels = profile.levels();
    assert_eq!(levels.symbol, spx);
    assert_eq!(levels.call_wall, profile.call_wall);

    services
        .gex
        .requests
        .send(GexRequest {
            symbol: spx.clone(),
            filter: ExpiryFilter::Next(1),
            force: true,
        })
        .await
        .unwrap();
    let next = profile_on(
        &mut board,
        &spx,
        ExpiryFilter::Next(1),
        "the next:1 profile",
    )
    .await;
    assert_eq!(next.expirations_used.len(), 1, "next:1 uses one expiration");
    assert!(next.contracts_used < profile.contracts_used);
    services.shutdown();
}

/// Every refresh of a symbol's all-expirations profile is kept: published on the history
/// board and stored in `gex_history` (SPEC 20); the 0DTE profile is published beside it
/// when today's expiry has gamma.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refresh_is_kept_in_the_history_and_zero_dte_is_published_beside_all() {
    let t = support::sqlite().await;
    let config = Config::default();
    // Wednesday 2026-11-25, 10:30 ET: SPX lists a daily expiring today.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let services = Services::start(&config, &t.store, now, Feed::Sim);
    let mut history = services.gex.subscribe_history();
    let spx = Symbol::parse("SPX").unwrap();
    let points = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(p) = history.borrow_and_update().get(&spx) {
                return p.clone();
            }
            history.changed().await.unwrap();
        }
    })
    .await
    .expect("SPX's first point within seconds");
    let first = points.last().unwrap().clone();
    let board = services.gex.subscribe();
    let all = board.borrow()[&(spx.clone(), ExpiryFilter::All)].clone();
    assert_eq!(first.at, all.as_of);
    assert_eq!(first.zero_gamma, all.zero_gamma);
    if all.zero_dte_share > 0.0 {
        assert!(
            board
                .borrow()
                .contains_key(&(spx.clone(), ExpiryFilter::ZeroDte)),
            "0DTE beside all"
        );
    }
    let day = coach::market::calendar::ny_date(first.at);
    let stored = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let stored = t.store.gex_history(&spx, day).await.unwrap();
            if !stored.is_empty() {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the point stored");
    assert_eq!(stored[0], first);
    services.shutdown();
}

/// Over `[gex] max_symbols` quoted symbols, only the named symbols and the index symbols
/// are refreshed (profiles, history, stored rows); another symbol's profile is still
/// computed when the screen asks for it (the focused symbol's GEX pane).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_universe_over_max_symbols_refreshes_the_named_and_index_symbols_only() {
    let t = support::sqlite().await;
    let mut config = Config::default();
    config.gex.max_symbols = 3;
    config.gex.keep(&[Symbol::parse("TSLA").unwrap()]);
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let services = Services::start(&config, &t.store, now, Feed::Sim);
    let mut history = services.gex.subscribe_history();
    let (tsla, aapl) = (
        Symbol::parse("TSLA").unwrap(),
        Symbol::parse("AAPL").unwrap(),
    );
    // One sweep publishes every refreshed symbol's point at once.
    let day = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if history.borrow_and_update().contains_key(&tsla) {
                return history.borrow().clone();
            }
            history.changed().await.unwrap();
        }
    })
    .await
    .expect("TSLA's first point within seconds");
    let mut refreshed: Vec<&str> = day.keys().map(|s| s.as_str()).collect();
    refreshed.sort();
    assert_eq!(refreshed, ["NDX", "SPX", "TSLA"]);
    let board = services.gex.subscribe();
    assert!(
        !board
            .borrow()
            .contains_key(&(aapl.clone(), ExpiryFilter::All))
    );
    let date = coach::market::calendar::ny_date(day[&tsla][0].at);
    assert!(t.store.gex_history(&aapl, date).await.unwrap().is_empty());

    services
        .gex
        .requests
        .send(GexRequest {
            symbol: aapl.clone(),
            filter: ExpiryFilter::All,
            force: false,
        })
        .await
        .unwrap();
    let mut board = board;
    let asked = profile_on(
        &mut board,
        &aapl,
        ExpiryFilter::All,
        "AAPL's profile on request",
    )
    .await;
    assert!(asked.spot > 0.0 && asked.contracts_used > 0);
    services.shutdown();
}

/// The refresher prunes the history to 30 New York days once a day: a point 40 days old
/// goes at start, one 10 days old stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_prunes_history_older_than_thirty_days() {
    use coach::gex::history::GexPoint;
    let t = support::sqlite().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let spy = Symbol::parse("SPY").unwrap();
    let point = |days: i64| GexPoint {
        at: now - chrono::Duration::days(days),
        spot: 674.10,
        total_gex: 1.2e9,
        zero_gamma: Some(671.35),
        call_wall: Some(680.0),
        put_wall: Some(660.0),
        abs_gamma_strike: Some(675.0),
        zero_dte_share: 0.3,
    };
    let (old, recent) = (point(40), point(10));
    t.store.record_gex(&spy, &old).await.unwrap();
    t.store.record_gex(&spy, &recent).await.unwrap();
    let date = |p: &GexPoint| coach::market::calendar::ny_date(p.at);
    let services = Services::start(&Config::default(), &t.store, now, Feed::Sim);
    tokio::time::timeout(Duration::from_secs(20), async {
        while !t
            .store
            .gex_history(&spy, date(&old))
            .await
            .unwrap()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the 40-day-old point pruned within seconds");
    services.shutdown();
    assert_eq!(
        t.store.gex_history(&spy, date(&recent)).await.unwrap(),
        vec![recent],
        "10 days old: kept"
    );
}
