//! Measures the Massive feed's start-up history and reconnect backfill at N symbols
//! against local stand-ins (not a test: figures go to BENCHMARKS.md / benches/HISTORY.md).
//!
//! `cargo run --release --example massive_backfill_scale -- SYMBOLS [DELAY_MS] [CONCURRENCY]`
//!
//! The REST stand-in answers every request after DELAY_MS (a network round trip; 20 by
//! default) with small payloads (30 bars of the previous session, today's released
//! minutes); the WebSocket stand-in streams one `AM` frame for every symbol each 500 ms
//! (one market minute) and drops the first connection once. Printed: the history load
//! time; after the reconnect, when each symbol's first bar the dropped connection never
//! sent was published (p50 and the last symbol), i.e. how long bars were held; the peak
//! of REST requests in flight.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use chrono::{DateTime, Utc};
use coach::domain::Symbol;
use coach::provider::MarketEvent;
use coach::provider::massive::feed::{FeedClock, MassiveFeed, MassiveFeedConfig, StreamTimings};
use coach::provider::massive::{MassiveConfig, Secret};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const OPEN: &str = "2013-10-08T13:30:00Z";
const PREVIOUS_OPEN: &str = "2013-10-07T13:30:00Z";
const RELEASED_AT_START: usize = 60;
const DROP_AT: usize = 63;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn ticker(i: usize) -> String {
    let l = |n: usize| char::from(b'A' + (n % 26) as u8);
    format!("{}{}{}", l(i / 676), l(i / 26), l(i))
}

struct Market {
    released: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    requests: AtomicUsize,
    delay: Duration,
}

fn bar_json(t: DateTime<Utc>, base: f64) -> Value {
    json!({"o":base,"h":base+0.2,"l":base-0.2,"c":base+0.1,"v":1000.0,"t":t.timestamp_millis()})
}

impl Market {
    fn answer(&self, pq: &str) -> String {
        let (path, _) = pq.split_once('?').unwrap_or((pq, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let rows: Vec<Value> = match parts[..] {
            ["v2", "aggs", "ticker", _, "range", "1", "minute", from, to] => {
                let ms = |s: &str| DateTime::from_timestamp_millis(s.parse().unwrap_or(0));
                let (Some(from), Some(to)) = (ms(from), ms(to)) else {
                    return "{}".into();
                };
                let released = self.released.load(Ordering::SeqCst);
                let previous = (0..30).map(|m| utc(PREVIOUS_OPEN) + chrono::Duration::minutes(m));
                let today = (0..released).map(|m| utc(OPEN) + chrono::Duration::minutes(m as i64));
                previous
                    .chain(today)
                    .filter(|t| *t >= from && *t <= to)
                    .map(|t| bar_json(t, 50.0 + (t.timestamp() % 1000) as f64 / 100.0))
                    .collect()
            }
            ["v2", "aggs", "grouped", ..]
            | ["v2", "aggs", "ticker", _, "range", "1", "day", ..] => {
                // Daily bars do not matter here: an empty answer.
                Vec::new()
            }
            _ => Vec::new(),
        };
        json!({"status":"OK","request_id":"x","results":rows}).to_string()
    }
}

fn frame(symbols: usize, m: usize) -> Message {
    let start = utc(OPEN) + chrono::Duration::minutes(m as i64);
    let s = start.timestamp_millis();
    let events: Vec<Value> = (0..symbols)
        .map(|i| {
            json!({"ev":"AM","sym":ticker(i),"o":50.0,"h":50.2,"l":49.8,"c":50.1,"v":1000,
                   "s":s,"e":s+60_000})
        })
        .collect();
    Message::text(Value::Array(events).to_string())
}

async fn serve_ws(
    first: bool,
    tcp: tokio::net::TcpStream,
    symbols: usize,
    market: Arc<Market>,
    mut minutes: broadcast::Receiver<usize>,
) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let status =
        |s: &str| Message::text(json!([{"ev":"status","status":s,"message":s}]).to_string());
    let _ = ws.send(status("connected")).await;
    let _ = ws.next().await;
    let _ = ws.send(status("auth_success")).await;
    let _ = ws.next().await;
    let _ = ws.send(status("success")).await;
    let released = market.released.load(Ordering::SeqCst);
    let _ = ws.send(frame(symbols, released - 1)).await;
    while let Ok(m) = minutes.recv().await {
        if first && m >= DROP_AT {
            return;
        }
        if ws.send(frame(symbols, m)).await.is_err() {
            return;
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let symbols: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let delay_ms: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let concurrency: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(16);
    let market = Arc::new(Market {
        released: AtomicUsize::new(RELEASED_AT_START),
        in_flight: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        delay: Duration::from_millis(delay_ms),
    });

    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rest_url = format!("http://{}", http.local_addr().unwrap());
    let app = {
        let market = market.clone();
        axum::Router::new().fallback(move |req: Request| {
            let market = market.clone();
            async move {
                let now = market.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                market.peak.fetch_max(now, Ordering::SeqCst);
                market.requests.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(market.delay).await;
                let pq = req.uri().path_and_query().map(|p| p.as_str().to_string());
                let body = market.answer(&pq.unwrap_or_default());
                market.in_flight.fetch_sub(1, Ordering::SeqCst);
                ([("content-type", "application/json")], body)
            }
        })
    };
    tokio::spawn(async move { axum::serve(http, app).await });

    let (minutes_tx, _) = broadcast::channel::<usize>(64);
    let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}", ws.local_addr().unwrap());
    {
        let (market, minutes_tx) = (market.clone(), minutes_tx.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((tcp, _)) = ws.accept().await {
                n += 1;
                tokio::spawn(serve_ws(
                    n == 1,
                    tcp,
                    symbols,
                    market.clone(),
                    minutes_tx.subscribe(),
                ));
            }
        });
    }

    let list: Vec<Symbol> = (0..symbols)
        .map(|i| Symbol::parse(&ticker(i)).unwrap())
        .collect();
    let mut config = MassiveFeedConfig::new(
        MassiveConfig {
            rest_url,
            ws_url,
            api_key: Secret::new("BENCHKEY_12345678"),
        },
        list.clone(),
        Default::default(),
    );
    config.clock = FeedClock::starting_at(utc("2013-10-09T03:00:00Z"));
    config.backfill_settle = Duration::ZERO;
    config.limits.max_concurrent = concurrency;
    config.limits.per_minute = 0;
    config.stream = StreamTimings {
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..StreamTimings::default()
    };

    let began = Instant::now();
    let mut feed = MassiveFeed::load(&config, &|_, _| {})
        .await
        .expect("history");
    let load = began.elapsed();
    let load_requests = market.requests.load(Ordering::SeqCst);
    println!(
        "symbols {symbols}, server delay {delay_ms} ms, concurrency {concurrency}: history loaded in {:.2} s ({load_requests} requests)",
        load.as_secs_f64()
    );

    let cancel = CancellationToken::new();
    let mut inputs = feed.start_streams(&cancel);
    // The market: one minute every 500 ms from now on.
    {
        let (market, minutes_tx) = (market.clone(), minutes_tx.clone());
        tokio::spawn(async move {
            for m in RELEASED_AT_START..390 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                market.released.store(m + 1, Ordering::SeqCst);
                let _ = minutes_tx.send(m);
            }
        });
    }
    let drop_start = utc(OPEN) + chrono::Duration::minutes(DROP_AT as i64);
    let mut lives = 0;
    let mut reconnected: Option<Instant> = None;
    let mut first_new: HashMap<Symbol, Instant> = HashMap::new();
    let peak_before = Arc::new(Mutex::new(0usize));
    let mut flush = tokio::time::interval(Duration::from_millis(20));
    let deadline = Instant::now() + Duration::from_secs(600);
    while first_new.len() < symbols && Instant::now() < deadline {
        tokio::select! {
            Some((cluster, event)) = inputs.events.recv() => {
                if matches!(event, coach::provider::massive::ws::StreamEvent::Live { .. }) {
                    lives += 1;
                    if lives == 2 {
                        reconnected = Some(Instant::now());
                        *peak_before.lock().unwrap() = market.peak.swap(0, Ordering::SeqCst);
                    }
                }
                feed.on_stream_event(cluster, event);
            }
            Some(done) = inputs.backfilled.recv() => feed.on_backfill(done).expect("backfill"),
            _ = flush.tick() => {
                if let Some(MarketEvent::Step { bars, .. }) = feed.take_step(feed.now()) {
                    let now = Instant::now();
                    for (symbol, bar) in bars {
                        if bar.start >= drop_start {
                            first_new.entry(symbol).or_insert(now);
                        }
                    }
                }
            }
        }
    }
    let Some(reconnected) = reconnected else {
        println!("no reconnect seen");
        return;
    };
    let mut held: Vec<f64> = first_new
        .values()
        .map(|t| t.saturating_duration_since(reconnected).as_secs_f64())
        .collect();
    held.sort_by(f64::total_cmp);
    let by_count: BTreeMap<&str, f64> = BTreeMap::from([
        ("first", held[0]),
        ("p50", held[held.len() / 2]),
        ("last", held[held.len() - 1]),
    ]);
    println!(
        "reconnect: first post-drop bar published after {:.2} s, p50 symbol {:.2} s, last symbol {:.2} s; peak REST requests in flight {} (during history {})",
        by_count["first"],
        by_count["p50"],
        by_count["last"],
        market.peak.load(Ordering::SeqCst),
        peak_before.lock().unwrap()
    );
    cancel.cancel();
}
