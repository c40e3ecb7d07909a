//! The Massive feed end to end against local stand-ins that speak the protocol: a REST
//! server with the session's history (real SPY minute and daily bars from ../shared/data,
//! and an `I:SPX` index made from them) and a WebSocket server streaming the session
//! minute by minute, which drops connections at random points (seeded). Whatever the
//! drops, the minute bars published on the bus must equal the session's bars exactly:
//! none lost, none duplicated, in order per symbol.

use crate::massive_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use coach::domain::{Bar, DailyBar, Symbol};
use coach::provider::MarketEvent;
use coach::provider::massive::feed::{FeedClock, MassiveFeedConfig, StreamTimings};
use coach::provider::massive::rest::RetryPolicy;
use coach::provider::massive::{MassiveConfig, Secret};
use coach::provider::replay::{read_daily_file, read_minute_file};
use coach::runtime::bus::MarketBus;
use coach::worker_health::WorkerState;
use futures::{SinkExt, StreamExt};
use massive_support::{Canned, Dynamic, HttpServer};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const KEY: &str = "FEEDKEY_0123456789";

/// The recorded market: per Massive ticker, minute bars (previous + today) and daily bars.
struct Market {
    minute: BTreeMap<String, Vec<Bar>>,
    daily: BTreeMap<String, Vec<DailyBar>>,
    /// Today's minute starts, in order; the first `released` are public.
    today: Vec<DateTime<Utc>>,
    released: AtomicUsize,
    requests: AtomicUsize,
}

impl Market {
    fn released_until(&self) -> DateTime<Utc> {
        let n = self.released.load(Ordering::SeqCst);
        if n == 0 {
            self.today[0]
        } else {
            self.today[n - 1] + chrono::Duration::minutes(1)
        }
    }

    /// `/v2/aggs/ticker/{t}/range/1/{span}/{from}/{to}?…[&cursor=k]`, 200 bars a page,
    /// `next_url` naming the real host.
    fn aggregates(&self, pq: &str) -> Option<Canned> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let ["v2", "aggs", "ticker", ticker, "range", "1", span, from, to] = parts[..] else {
            return None;
        };
        let cursor: usize = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("cursor="))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let bound = |text: &str, end: bool| -> DateTime<Utc> {
            match text.parse::<i64>() {
                Ok(ms) => DateTime::from_timestamp_millis(ms).unwrap(),
                Err(_) => {
                    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
                    let d = if end { d.succ_opt().unwrap() } else { d };
                    New_York
                        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                        .unwrap()
                        .to_utc()
                        - chrono::Duration::milliseconds(i64::from(end))
                }
            }
        };
        let (from, to) = (bound(from, false), bound(to, true));
        let rows: Vec<Value> = match span {
            "minute" => {
                let until = self.released_until();
                self.minute
                    .get(ticker)?
                    .iter()
                    .filter(|b| b.start >= from && b.start <= to && b.start < until)
                    .map(|b| {
                        let mut row = json!({"o":b.open,"h":b.high,"l":b.low,"c":b.close,
                            "t":b.start.timestamp_millis(),"n":3});
                        if b.volume > 0.0 {
                            // exponent form, as the live API writes large volumes
                            row["v"] =
                                Value::from(format!("{:e}", b.volume).parse::<f64>().unwrap());
                        }
                        row
                    })
                    .collect()
            }
            "day" => self
                .daily
                .get(ticker)?
                .iter()
                .filter(|d| {
                    let t = New_York
                        .from_local_datetime(&d.date.and_hms_opt(0, 0, 0).unwrap())
                        .unwrap()
                        .to_utc();
                    t >= from && t <= to
                })
                .map(|d| {
                    let t = New_York
                        .from_local_datetime(&d.date.and_hms_opt(0, 0, 0).unwrap())
                        .unwrap()
                        .timestamp_millis();
                    json!({"o":d.open,"h":d.high,"l":d.low,"c":d.close,"v":d.volume,"t":t})
                })
                .collect(),
            _ => return None,
        };
        let page: Vec<Value> = rows.iter().skip(cursor).take(200).cloned().collect();
        let mut body = json!({"ticker": ticker, "status": "OK", "request_id": "r",
            "queryCount": rows.len(), "results": page});
        if cursor + 200 < rows.len() {
            body["next_url"] = Value::from(format!(
                "https://api.massive.com{path}?cursor={}",
                cursor + 200
            ));
        }
        if rows.is_empty() {
            body.as_object_mut().unwrap().remove("results");
        }
        Some(Canned::new(200, &body.to_string()))
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// Ten times a price, in whole cents (as the API writes index values; serde_json reads
/// short decimals exactly).
fn x10(price: f64) -> f64 {
    (price * 1000.0).round() / 100.0
}

/// SPY of 2013-10-07 (previous) and 2013-10-08 (today), and SPX = 10 × SPY without volume.
fn load_market() -> Option<Market> {
    let data = massive_support::data_dir()?.join("bars/lean_spy_2013-10");
    let spy = read_minute_file(&data.join("SPY_1min_2013-10-04_2013-10-11.csv")).unwrap();
    let spy: Vec<Bar> = spy
        .into_iter()
        .filter(|b| b.start >= utc("2013-10-07T08:00:00Z") && b.start < utc("2013-10-09T00:00:00Z"))
        .collect();
    let spx: Vec<Bar> = spy
        .iter()
        .map(|b| Bar {
            open: x10(b.open),
            high: x10(b.high),
            low: x10(b.low),
            close: x10(b.close),
            volume: 0.0,
            ..*b
        })
        .collect();
    let daily: Vec<DailyBar> = read_daily_file(&data.join("SPY_1day_lean.csv"))
        .unwrap()
        .into_iter()
        .filter(|d| d.date >= NaiveDate::from_ymd_opt(2013, 7, 1).unwrap())
        .filter(|d| d.date <= NaiveDate::from_ymd_opt(2013, 10, 8).unwrap())
        .collect();
    let spx_daily = daily
        .iter()
        .map(|d| DailyBar {
            open: x10(d.open),
            high: x10(d.high),
            low: x10(d.low),
            close: x10(d.close),
            volume: 0.0,
            ..*d
        })
        .collect();
    let today: Vec<DateTime<Utc>> = spy
        .iter()
        .map(|b| b.start)
        .filter(|t| *t >= utc("2013-10-08T08:00:00Z"))
        .collect();
    Some(Market {
        minute: BTreeMap::from([("SPY".to_string(), spy), ("I:SPX".to_string(), spx)]),
        daily: BTreeMap::from([("SPY".to_string(), daily), ("I:SPX".to_string(), spx_daily)]),
        today,
        released: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
    })
}

fn status(status: &str, message: &str) -> Message {
    Message::text(json!([{ "ev": "status", "status": status, "message": message }]).to_string())
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn action(ws: &mut Ws) -> Option<(String, String)> {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).ok()?;
            return Some((v["action"].as_str()?.into(), v["params"].as_str()?.into()));
        }
    }
    None
}

/// The stream frame of today's minute `i` for one cluster: the `AM` bar plus a second
/// aggregate or an index value, an event type we do not use, and now and then a broken
/// element.
fn frame(market: &Market, i: usize, indices: bool) -> Message {
    let ticker = if indices { "I:SPX" } else { "SPY" };
    let start = market.today[i];
    let bar = market.minute[ticker]
        .iter()
        .find(|b| b.start == start)
        .unwrap();
    let (s, e) = (start.timestamp_millis(), start.timestamp_millis() + 60_000);
    let mut am = json!({"ev":"AM","sym":ticker,"o":bar.open,"h":bar.high,"l":bar.low,"c":bar.close,"s":s,"e":e});
    let mut events = vec![];
    if indices {
        events.push(json!({"ev":"V","T":ticker,"val":bar.close,"t":e - 1}));
    } else {
        am["v"] = Value::from(bar.volume);
        am["av"] = Value::from(1_000_000);
        events.push(json!({"ev":"A","sym":ticker,"o":bar.close,"h":bar.close,"l":bar.close,"c":bar.close,"v":100,"s":e - 1000,"e":e}));
        events.push(json!({"ev":"T","sym":ticker,"i":"1","x":4,"p":bar.close,"s":100,"c":[0,12],"t":e - 500,"q":i}));
    }
    events.push(am);
    if i.is_multiple_of(17) {
        events.push(json!({"ev":"AM","sym":ticker,"o":null}));
    }
    Message::text(Value::Array(events).to_string())
}

/// One client connection: handshake, then the minutes as they are released (subscribed
/// to the market before the handshake, so nothing falls between stream and REST), the
/// previous minute once more first (an overlap), and a drop with probability `p` before
/// each frame.
async fn serve(
    n: u32,
    mut ws: Ws,
    market: Arc<Market>,
    mut minutes: broadcast::Receiver<usize>,
    p: f64,
    seed: u64,
    drops: Arc<AtomicUsize>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(u64::from(n)));
    if ws
        .send(status("connected", "Connected Successfully"))
        .await
        .is_err()
    {
        return;
    }
    let Some((_, key)) = action(&mut ws).await else {
        return;
    };
    if key != KEY {
        let _ = ws
            .send(status("auth_failed", "authentication failed"))
            .await;
        return;
    }
    let _ = ws.send(status("auth_success", "authenticated")).await;
    let Some((_, params)) = action(&mut ws).await else {
        return;
    };
    let indices = params.contains("I:SPX");
    let _ = ws
        .send(status("success", &format!("subscribed to: {params}")))
        .await;
    let released = market.released.load(Ordering::SeqCst);
    if released > 0
        && ws
            .send(frame(&market, released - 1, indices))
            .await
            .is_err()
    {
        return;
    }
    loop {
        let i = match minutes.recv().await {
            Ok(i) => i,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if rng.random_bool(p) {
            drops.fetch_add(1, Ordering::SeqCst);
            return; // the TCP connection drops without a close frame
        }
        if ws.send(frame(&market, i, indices)).await.is_err() {
            return;
        }
    }
    while ws.next().await.is_some() {}
}

/// Runs the feed over the replayed session with drop probability `p`; returns the minute
/// bars of today each symbol received (snapshot, then steps) and the number of drops.
async fn run_session(
    p: f64,
    seed: u64,
) -> Option<(BTreeMap<Symbol, Vec<Bar>>, usize, Arc<Market>)> {
    let market = Arc::new(load_market()?);
    market.released.store(120, Ordering::SeqCst);
    let dynamic: Dynamic = {
        let market = market.clone();
        Arc::new(move |pq: &str| market.aggregates(pq))
    };
    let http = HttpServer::start(None, Some(dynamic)).await;

    let (minutes_tx, _) = broadcast::channel::<usize>(4096);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}", listener.local_addr().unwrap());
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let (market, minutes_tx, drops) = (market.clone(), minutes_tx.clone(), drops.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((tcp, _)) = listener.accept().await {
                n += 1;
                let minutes = minutes_tx.subscribe();
                let (market, drops) = (market.clone(), drops.clone());
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                        serve(n, ws, market, minutes, p, seed, drops).await;
                    }
                });
            }
        });
    }

    let (bus, requests) = MarketBus::new(8192);
    let mut events = bus.subscribe();
    let cancel = CancellationToken::new();
    let spy = Symbol::parse("SPY").unwrap();
    let spx = Symbol::parse("SPX").unwrap();
    let mut config = MassiveFeedConfig::new(
        MassiveConfig {
            rest_url: http.base.clone(),
            ws_url,
            api_key: Secret::new(KEY),
        },
        vec![spx.clone(), spy.clone()],
        [spx.clone()].into(),
    );
    config.clock = FeedClock::starting_at(utc("2013-10-09T03:00:00Z"));
    config.heartbeat_every = Duration::from_millis(20);
    config.backfill_settle = Duration::ZERO;
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(100),
    };
    config.stream = StreamTimings {
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(30),
        ..StreamTimings::default()
    };
    let (health, feed) = massive_support::spawn_feed_worker(config, bus.clone(), requests, &cancel);

    // The market moves on, one minute every 3 ms, whoever is connected.
    {
        let (market, minutes_tx) = (market.clone(), minutes_tx.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for i in 120..market.today.len() {
                market.released.store(i + 1, Ordering::SeqCst);
                let _ = minutes_tx.send(i);
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        });
    }

    let last = *market.today.last().unwrap();
    let mut got: BTreeMap<Symbol, Vec<Bar>> = BTreeMap::new();
    let today_start = market.today[0];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got
        .values()
        .filter(|b| b.last().is_some_and(|b| b.start == last))
        .count()
        < 2
    {
        let Ok(event) = tokio::time::timeout_at(deadline, events.recv()).await else {
            let counts: Vec<(String, usize, Option<DateTime<Utc>>)> = got
                .iter()
                .map(|(s, b)| (s.to_string(), b.len(), b.last().map(|b| b.start)))
                .collect();
            let outcome = if feed.is_finished() {
                format!("{:?}", feed.await)
            } else {
                "running".to_string()
            };
            panic!(
                "the whole session within 60 s: got {counts:?} of {} (last {last}), released {}, {} REST requests, feed: {outcome}",
                market.today.len(),
                market.released.load(Ordering::SeqCst),
                market.requests.load(Ordering::SeqCst),
            );
        };
        let event = event.expect("no lag on the bus");
        match event {
            MarketEvent::Snapshot(s) => {
                assert_eq!(s.provider, "massive");
                assert!(!s.delayed);
                for sym in &s.symbols {
                    let bars: Vec<Bar> = sym
                        .bars
                        .load()
                        .iter()
                        .filter(|b| b.start >= today_start)
                        .copied()
                        .collect();
                    got.insert(sym.symbol.clone(), bars);
                    assert_eq!(
                        sym.previous_bars.load().len(),
                        market.minute["SPY"].len() - market.today.len()
                    );
                    assert!(sym.daily.len() >= 15, "daily history for ATR(14)");
                }
            }
            MarketEvent::Step { bars, .. } => {
                for (symbol, bar) in bars {
                    got.entry(symbol).or_default().push(bar);
                }
            }
        }
    }
    // A late consumer gets the same session from the feed's memory.
    let snapshot = bus.snapshot().await.expect("the feed answers");
    for s in &snapshot.symbols {
        assert_eq!(s.bars.load().len(), market.today.len(), "{}", s.symbol);
    }
    cancel.cancel();
    let _ = feed.await;
    let drops = drops.load(Ordering::SeqCst);
    let record = health
        .snapshot()
        .into_iter()
        .find(|r| r.name == "feed")
        .unwrap();
    if drops > 0 {
        let error = record.last_error.unwrap_or_default();
        assert!(
            error.contains("stream disconnected"),
            "Health shows the drops: {error:?}"
        );
        assert!(record.errors >= 1);
    }
    assert!(record.last_success.is_some(), "heartbeats while live");
    Some((got, drops, market))
}

/// Equal bar lists, or a short message naming the first difference.
fn assert_same(got: &[Bar], want: &[Bar], label: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    let show = |list: &[Bar], i: Option<usize>| i.and_then(|i| list.get(i)).copied();
    panic!(
        "{label}: {} bars received, {} expected; first difference at {first:?}: got {:?}, want {:?}",
        got.len(),
        want.len(),
        show(got, first.or(Some(want.len().min(got.len())))),
        show(want, first.or(Some(want.len().min(got.len())))),
    );
}

fn expected(market: &Market, ticker: &str) -> Vec<Bar> {
    market.minute[ticker]
        .iter()
        .filter(|b| b.start >= market.today[0])
        .copied()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_disconnects_lose_and_duplicate_no_minute_bar() {
    let Some((calm, calm_drops, market)) = run_session(0.0, 7).await else {
        return;
    };
    assert_eq!(calm_drops, 0);
    let spy = Symbol::parse("SPY").unwrap();
    let spx = Symbol::parse("SPX").unwrap();
    assert_same(&calm[&spy], &expected(&market, "SPY"), "undisturbed SPY");
    assert_same(&calm[&spx], &expected(&market, "I:SPX"), "undisturbed SPX");

    let Some((stormy, drops, _)) = run_session(0.03, 7).await else {
        return;
    };
    eprintln!("the stream was dropped {drops} times");
    assert!(
        drops >= 10,
        "only {drops} disconnects: the test would prove little"
    );
    for symbol in [&spy, &spx] {
        let bars = &stormy[symbol];
        assert!(
            bars.windows(2).all(|w| w[0].start < w[1].start),
            "{symbol}: in order, no duplicate"
        );
        assert_eq!(
            bars, &calm[symbol],
            "{symbol}: identical to the undisturbed run"
        );
    }
    assert_eq!(stormy[&spy].len(), market.today.len());
}

#[tokio::test]
async fn a_bad_key_parks_the_feed_with_a_clear_error_in_health() {
    let http = HttpServer::start(None, None).await;
    http.script([Canned::new(
        401,
        r#"{"status":"ERROR","request_id":"r","error":"Unknown API Key"}"#,
    )]);
    let (bus, requests) = MarketBus::new(16);
    let cancel = CancellationToken::new();
    let config = MassiveFeedConfig::new(
        MassiveConfig {
            rest_url: http.base.clone(),
            ws_url: "ws://127.0.0.1:9".into(),
            api_key: Secret::new("BAD_KEY_1234567"),
        },
        vec![Symbol::parse("SPY").unwrap()],
        Default::default(),
    );
    let (health, feed) = massive_support::spawn_feed_worker(config, bus, requests, &cancel);
    // The stream (nothing listens) fails to connect too; the key error parks the feed.
    let mut error = None;
    for _ in 0..250 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        error = (health.snapshot().into_iter())
            .find(|r| r.state == WorkerState::Failed)
            .and_then(|r| r.last_error);
        if error.is_some() {
            break;
        }
    }
    let error = error.expect("the feed is parked with the error recorded");
    assert!(
        error.contains("refused the API key") && error.contains("MASSIVE_API_KEY"),
        "{error}"
    );
    assert!(!error.contains("BAD_KEY_1234567"));
    assert_eq!(http.seen().len(), 1, "parked: no retry loop");
    cancel.cancel();
    assert_eq!(feed.await.unwrap(), Ok(()));
}
