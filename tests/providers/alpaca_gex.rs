//! GEX chains from Alpaca against a local stand-in: the trading API's option contracts
//! (open interest, numbers as strings, paged) joined with the option snapshots (implied
//! volatility, paged) by OCC symbol, and `coach gex --provider alpaca --symbol SPY` end
//! to end; the recorded payloads parse; keys never printed.

use crate::alpaca_support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use alpaca_support::{
    Canned, Dynamic, HttpServer, KEY_ID, SECRET_KEY, assert_no_keys, authenticated, fixtures_dir,
    query, recorded,
};
use chrono::{Duration, Utc};
use coach::provider::alpaca::chain::{
    parse_contracts_page, parse_latest_trade, parse_snapshots_page,
};
use serde_json::{Value, json};

/// SPY options expiring ten days from now: strikes 580 to 620 by 5, big call open
/// interest at 610, big put open interest at 590; IV 20 % everywhere. Contracts come in
/// pages of 5, snapshots in pages of 7, the spot is 600.25.
fn options_market() -> Dynamic {
    let expiry = (Utc::now() + Duration::days(10)).date_naive();
    let yymmdd = expiry.format("%y%m%d").to_string();
    let mut contracts = Vec::new();
    let mut snapshots = Vec::new();
    for strike in (580..=620).step_by(5) {
        for (right, kind) in [("C", "call"), ("P", "put")] {
            let occ = format!("SPY{yymmdd}{right}{:08}", strike * 1000);
            let oi = match (kind, strike) {
                ("call", 610) => 50_000,
                ("put", 590) => 60_000,
                _ => 1_000,
            };
            contracts.push(
                json!({"symbol": occ, "type": kind, "strike_price": strike.to_string(),
                "expiration_date": expiry.to_string(), "open_interest": oi.to_string(),
                "open_interest_date": Utc::now().date_naive().to_string()}),
            );
            snapshots.push((
                occ,
                json!({"impliedVolatility": 0.2, "greeks": {"gamma": 0.01}}),
            ));
        }
    }
    let page = |from: usize, size: usize, len: usize| -> (std::ops::Range<usize>, Value) {
        let to = (from + size).min(len);
        let next = if to < len {
            json!(format!("p{to}"))
        } else {
            Value::Null
        };
        (from..to, next)
    };
    Arc::new(move |pq: &str| {
        let q = query(pq);
        let from: usize = q
            .get("page_token")
            .map(|t| t.trim_start_matches('p').parse().unwrap())
            .unwrap_or(0);
        if pq.starts_with("/v2/options/contracts?") {
            assert_eq!(q["underlying_symbols"], "SPY");
            let (range, next) = page(from, 5, contracts.len());
            let body =
                json!({"option_contracts": contracts[range].to_vec(), "next_page_token": next});
            return Some(Canned::new(200, &body.to_string()));
        }
        if pq.starts_with("/v1beta1/options/snapshots/SPY?") {
            let (range, next) = page(from, 7, snapshots.len());
            let map: BTreeMap<_, _> = snapshots[range].iter().cloned().collect();
            let body = json!({"snapshots": map, "next_page_token": next});
            return Some(Canned::new(200, &body.to_string()));
        }
        if pq.starts_with("/v2/stocks/trades/latest?") {
            let body =
                json!({"trades": {"SPY": {"t": Utc::now().to_rfc3339(), "p": 600.25, "s": 100}}});
            return Some(Canned::new(200, &body.to_string()));
        }
        None
    })
}

fn coach(base: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("COACH_CONFIG")
        .env("COACH_ALPACA_DATA_URL", base)
        .env("COACH_ALPACA_TRADING_URL", base)
        .env("APCA_API_KEY_ID", KEY_ID)
        .env("APCA_API_SECRET_KEY", SECRET_KEY)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coach_gex_joins_open_interest_with_implied_volatility_across_pages() {
    let server = HttpServer::start(None, Some(options_market())).await;
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        coach(
            &base,
            &["gex", "--provider", "alpaca", "--symbol", "SPY", "--json"],
        )
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "SPY: 18 contracts with open interest and IV, 0 without IV (no gamma), 0 unreadable"
        ),
        "{stderr}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["symbol"], "SPY");
    assert_eq!(doc["spot"], 600.25);
    assert_eq!(doc["call_wall"], 610.0);
    assert_eq!(doc["put_wall"], 590.0);
    assert_no_keys("stderr", &stderr);
    assert_no_keys("stdout", &stdout);
    let seen = server.seen();
    assert!(seen.iter().all(authenticated));
    // 18 contracts in pages of 5 (4 calls), snapshots in pages of 7 (3 calls), 1 trade.
    assert_eq!(seen.len(), 8);
    let snap = seen
        .iter()
        .find(|s| s.path_and_query.starts_with("/v1beta1/"))
        .unwrap();
    assert_eq!(query(&snap.path_and_query)["feed"], "indicative");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_is_refused_with_its_etf_and_a_file_less_gex_needs_alpaca() {
    let server = HttpServer::start(None, Some(options_market())).await;
    let base = server.base.clone();
    let (index, no_provider) = tokio::task::spawn_blocking(move || {
        (
            coach(&base, &["gex", "--provider", "alpaca", "--symbol", "NDX"]),
            coach(&base, &["gex", "--symbol", "SPY"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(index.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&index.stderr)
            .contains("NDX is an index and Alpaca has no index data; use its ETF QQQ instead")
    );
    assert_eq!(no_provider.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_provider.stderr).contains("pass --provider alpaca"));
    assert!(server.seen().is_empty());
}

#[test]
fn the_recorded_contracts_snapshots_and_latest_trade_parse() {
    let Some(dir) = fixtures_dir() else {
        return;
    };
    let mut contracts = Vec::new();
    let next = parse_contracts_page(
        &recorded(&dir, "option_routes__get_option_contracts"),
        &mut contracts,
    )
    .unwrap();
    assert_eq!(next, None);
    assert_eq!(contracts[0].symbol.as_deref(), Some("AAPL231103C00170000"));
    assert_eq!(contracts[0].open_interest.as_deref(), Some("0"));
    let mut snaps = BTreeMap::new();
    parse_snapshots_page(
        &recorded(&dir, "historical_option_data__get_option_chain"),
        &mut snaps,
    )
    .unwrap();
    let put = snaps["AAPL240503P00155000"];
    assert_eq!(put.iv, Some(0.4584478444465036));
    assert_eq!(put.gamma, Some(0.012407748296130911));
    assert_eq!(
        parse_latest_trade(
            &recorded(&dir, "historical_stock_data__get_latrade"),
            "AAPL"
        )
        .unwrap()
        .map(|(p, _)| p),
        Some(161.2958)
    );
}

// --- The GEX worker of the dashboard and `coach serve` on Alpaca's live chains -------

use coach::domain::Symbol;
use coach::market::calendar;
use coach::provider::alpaca::rest::RestClient;
use coach::provider::alpaca::{AlpacaConnection, Feed, Secret};
use coach::provider::{MarketEvent, MarketSnapshot, Quote, SymbolSnapshot};
use coach::runtime::bus::{MarketBus, SnapshotRequests};
use coach::runtime::gex::{AlpacaChains, ChainSource, GexChannels, run_gex};
use coach::runtime::health::Health;
use coach::runtime::supervisor::WorkerCtx;
use tokio_util::sync::CancellationToken;

fn client(base: &str) -> RestClient {
    RestClient::new(&AlpacaConnection {
        data_url: base.into(),
        stream_url: "ws://127.0.0.1:9".into(),
        trading_url: base.into(),
        feed: Feed::Iex,
        key_id: Secret::new(KEY_ID),
        secret_key: Secret::new(SECRET_KEY),
    })
    .unwrap()
}

fn spy_snapshot(price: f64, now: chrono::DateTime<Utc>) -> MarketSnapshot {
    let mut date = calendar::ny_date(now);
    let session = loop {
        if let Some(s) = calendar::session(date) {
            break s;
        }
        date = date.pred_opt().unwrap();
    };
    let spy = Symbol::parse("SPY").unwrap();
    MarketSnapshot {
        provider: "alpaca",
        delayed: false,
        session,
        now,
        symbols: vec![SymbolSnapshot {
            symbol: spy.clone(),
            is_index: false,
            bars: Default::default(),
            previous_bars: Default::default(),
            earlier_bars: Default::default(),
            daily: Default::default(),
            prior_close: None,
            history_loading: false,
            last: Some(Quote {
                symbol: spy,
                price,
                at: now,
            }),
        }],
    }
}

/// The GEX worker on Alpaca chains against `market`, its first snapshot SPY at 600.25 now.
struct Worker {
    bus: MarketBus,
    channels: GexChannels,
    health: Health,
    cancel: CancellationToken,
    t0: chrono::DateTime<Utc>,
}

async fn start_worker(base: &str) -> Worker {
    let (bus, requests): (MarketBus, SnapshotRequests) = MarketBus::new(64);
    let t0 = Utc::now();
    tokio::spawn(async move {
        while let Some(reply) = requests.next().await {
            let _ = reply.send(Arc::new(spy_snapshot(600.25, t0)));
        }
    });
    let (channels, health, cancel) = (
        GexChannels::new(),
        Health::default(),
        CancellationToken::new(),
    );
    health.register("gex", std::time::Duration::from_secs(1));
    let ctx = WorkerCtx {
        name: "gex",
        health: health.clone(),
        cancel: cancel.clone(),
    };
    let chains = ChainSource::Alpaca(Box::new(AlpacaChains {
        client: client(base),
        days: 45,
        params: coach::gex::GexParams::default(),
    }));
    tokio::spawn(run_gex(
        ctx,
        bus.clone(),
        chains,
        channels.clone(),
        None,
        None,
    ));
    Worker {
        bus,
        channels,
        health,
        cancel,
        t0,
    }
}

/// Waits (5 s at most) for SPY's all-expirations profile at `spot` on the board.
async fn spy_profile_at(channels: &GexChannels, spot: f64) -> Arc<coach::gex::GexProfile> {
    let key = (Symbol::parse("SPY").unwrap(), coach::gex::ExpiryFilter::All);
    let mut board = channels.subscribe();
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        board.wait_for(|b| b.get(&key).is_some_and(|p| p.spot == spot)),
    )
    .await;
    let found = found.ok().and_then(|r| r.ok()).map(|b| b[&key].clone());
    found.unwrap_or_else(|| {
        panic!(
            "no SPY profile at {spot} on the board: {:?}",
            channels.subscribe().borrow().get(&key).map(|p| p.spot)
        )
    })
}

fn contract_requests(server: &HttpServer) -> usize {
    server
        .seen()
        .iter()
        .filter(|s| s.path_and_query.starts_with("/v2/options/contracts?"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_publishes_spy_from_the_live_chain_fetched_once_per_interval() {
    let server = HttpServer::start(None, Some(options_market())).await;
    let w = start_worker(&server.base).await;

    let first = spy_profile_at(&w.channels, 600.25).await;
    assert_eq!(
        (first.call_wall, first.put_wall),
        (Some(610.0), Some(590.0))
    );
    // 18 contracts in pages of 5: one fetch of the chain.
    assert_eq!(contract_requests(&server), 4);
    assert!(server.seen().iter().all(authenticated));
    let spy = Symbol::parse("SPY").unwrap();
    let mut history = w.channels.subscribe_history();
    let points = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        history.wait_for(|h| h.contains_key(&spy)),
    )
    .await
    .expect("gex_history gets the refresh")
    .unwrap()[&spy]
        .clone();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].call_wall, Some(610.0));

    // Two minutes later a new snapshot, then the trader's forced refresh (`r`): the same
    // chain re-priced at 601.5, no second fetch.
    let at = w.t0 + Duration::minutes(2);
    w.bus
        .publish(MarketEvent::Snapshot(Arc::new(spy_snapshot(601.5, at))));
    let key = (spy.clone(), coach::gex::ExpiryFilter::All);
    let mut board = w.channels.subscribe();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while board.borrow_and_update()[&key].spot != 601.5 {
        assert!(tokio::time::Instant::now() < deadline, "re-priced at 601.5");
        w.channels
            .requests
            .send(coach::runtime::gex::GexRequest {
                symbol: spy.clone(),
                filter: coach::gex::ExpiryFilter::All,
                force: true,
            })
            .await
            .unwrap();
        let _ = tokio::time::timeout(std::time::Duration::from_millis(100), board.changed()).await;
    }
    assert_eq!(contract_requests(&server), 4, "at most once per interval");

    // Eight minutes after the first fetch, the next refresh fetches the chain again.
    let at = w.t0 + Duration::minutes(8);
    w.bus.publish(MarketEvent::Step {
        at,
        quotes: vec![Quote {
            symbol: spy.clone(),
            price: 602.0,
            at,
        }],
        bars: Vec::new(),
    });
    spy_profile_at(&w.channels, 602.0).await;
    assert_eq!(contract_requests(&server), 8);
    let record = w
        .health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "gex")
        .unwrap();
    assert_eq!(record.errors, 0);
    assert!(record.last_success.is_some());
    w.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_alpaca_refuses_shows_in_health_without_the_keys() {
    let refusing: Dynamic = Arc::new(|pq: &str| {
        pq.starts_with("/v2/options/contracts?")
            .then(|| Canned::new(403, r#"{"message":"forbidden."}"#))
    });
    let server = HttpServer::start(None, Some(refusing)).await;
    let w = start_worker(&server.base).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let record = loop {
        let record = w
            .health
            .snapshot()
            .into_iter()
            .find(|r| r.name == "gex")
            .unwrap();
        if record.errors > 0 {
            break record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Health shows the refused chain"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let error = record.last_error.unwrap_or_default();
    assert!(error.contains("the SPY options chain"), "{error}");
    assert_no_keys("the Health error", &error);
    assert!(record.last_success.is_none(), "no heartbeat while failing");
    assert!(w.channels.subscribe().borrow().is_empty());
    w.cancel.cancel();
}
