//! Prices as they arrive (issue 25 item 2): a price or a minute bar sent on a local
//! Massive WebSocket reaches the market bus without waiting for a timer. The feed's
//! heartbeat timer is set to an hour, so a feed that still published on a tick (it did,
//! every 250 ms) would publish nothing here; the assertion is on that behaviour, not on
//! a wall-clock duration.

use crate::massive_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coach::domain::Symbol;
use coach::provider::MarketEvent;
use coach::provider::massive::feed::{FeedClock, MassiveFeedConfig};
use coach::provider::massive::{MassiveConfig, Secret};
use coach::runtime::bus::{MarketBus, MarketReceiver};
use futures::{SinkExt, StreamExt};
use massive_support::{Canned, Dynamic, HttpServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const KEY: &str = "PRICEKEY_0123456789";

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn status(status: &str) -> Message {
    Message::text(json!([{ "ev": "status", "status": status, "message": status }]).to_string())
}

/// A stocks stream: the handshake, then every frame handed to the returned sender.
async fn stream_server() -> (String, mpsc::UnboundedSender<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (tx, mut frames) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        let _ = ws.send(status("connected")).await;
        // auth, then subscribe
        for answer in ["auth_success", "success"] {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() {
                    break;
                }
            }
            let _ = ws.send(status(answer)).await;
        }
        while let Some(frame) = frames.recv().await {
            if ws.send(Message::text(frame.to_string())).await.is_err() {
                return;
            }
        }
    });
    (url, tx)
}

/// The next step on the bus (snapshots skipped).
async fn next_step(events: &mut MarketReceiver) -> MarketEvent {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(MarketEvent::Snapshot(_))) => continue,
            Ok(Ok(step)) => return step,
            Ok(Err(e)) => panic!("the bus: {e}"),
            Err(_) => panic!("no step reached the bus: the feed waited for its timer"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_and_a_minute_bar_on_the_socket_reach_the_bus_without_a_batching_tick() {
    // Every history request: no bars.
    let empty: Dynamic = Arc::new(|_: &str| {
        Some(Canned::new(
            200,
            r#"{"status":"OK","request_id":"r","queryCount":0}"#,
        ))
    });
    let http = HttpServer::start(None, Some(empty)).await;
    let (ws_url, frames) = stream_server().await;
    let (bus, requests) = MarketBus::new(64);
    let mut events = bus.subscribe();
    let spy = Symbol::parse("SPY").unwrap();
    let mut config = MassiveFeedConfig::new(
        MassiveConfig {
            rest_url: http.base.clone(),
            ws_url,
            api_key: Secret::new(KEY),
        },
        vec![spy.clone()],
        Default::default(),
    );
    // Tuesday 2013-10-08, 10:00 ET: a regular session.
    let now = utc("2013-10-08T14:00:30Z");
    config.clock = FeedClock::starting_at(now);
    config.heartbeat_every = Duration::from_secs(3600);
    config.backfill_settle = Duration::ZERO;
    let cancel = CancellationToken::new();
    let (_, feed) = massive_support::spawn_feed_worker(config, bus.clone(), requests, &cancel);

    // SPY's prices and bars stream once a snapshot has announced it (its history is
    // in); then one price, then one minute bar.
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(MarketEvent::Snapshot(s))) if s.symbols.iter().any(|s| s.symbol == spy) => {
                break;
            }
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("the bus: {e}"),
            Err(_) => panic!("no snapshot announced SPY: the feed waited for its timer"),
        }
    }
    let ms = |t: &str| utc(t).timestamp_millis();
    let end = ms("2013-10-08T14:00:30Z");
    frames
        .send(
            json!([{"ev":"A","sym":"SPY","o":168.5,"h":168.52,"l":168.49,"c":168.51,
            "v":100,"s":end - 1000,"e":end}]),
        )
        .unwrap();
    let MarketEvent::Step { quotes, bars, .. } = next_step(&mut events).await else {
        unreachable!()
    };
    assert!(bars.is_empty());
    assert_eq!(quotes.len(), 1);
    assert_eq!((&quotes[0].symbol, quotes[0].price), (&spy, 168.51));

    let (s, e) = (ms("2013-10-08T14:00:00Z"), ms("2013-10-08T14:01:00Z"));
    frames
        .send(
            json!([{"ev":"AM","sym":"SPY","o":168.4,"h":168.6,"l":168.3,"c":168.55,
            "v":12000,"av":1000000,"s":s,"e":e}]),
        )
        .unwrap();
    // The bar may wait for the reconnect backfill (held, never dropped); it arrives
    // with the price it carries or after it.
    let mut got = Vec::new();
    while got.is_empty() {
        if let MarketEvent::Step { bars, .. } = next_step(&mut events).await {
            got.extend(bars);
        }
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, spy);
    assert_eq!(got[0].1.start, utc("2013-10-08T14:00:00Z"));
    assert_eq!(got[0].1.close, 168.55);
    cancel.cancel();
    let _ = feed.await;
}
