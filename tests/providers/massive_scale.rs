//! The Massive feed with a universe of 40 stocks against local stand-ins: daily history
//! from the grouped daily endpoint (one request per date, not one per symbol), REST
//! requests never more in flight than `max_concurrent_requests`, and a reconnect whose
//! backfill is slow: the stream keeps publishing (each symbol's bars flow again as soon as
//! its own backfill is in) and every symbol's bars end up equal to an undisturbed run.

use crate::massive_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use coach::domain::{Bar, Symbol};
use coach::market::calendar;
use coach::provider::MarketEvent;
use coach::provider::massive::feed::{FeedClock, MassiveFeedConfig, StreamTimings};
use coach::provider::massive::limits::RequestLimits;
use coach::provider::massive::rest::RetryPolicy;
use coach::provider::massive::{MassiveConfig, Secret};
use coach::runtime::bus::MarketBus;
use futures::{SinkExt, StreamExt};
use massive_support::{Canned, Delay, Dynamic, HttpServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const KEY: &str = "SCALEKEY_0123456789";
const STOCKS: usize = 40;
/// Today's minutes served (from the open), the first `RELEASED_AT_START` public at start.
const MINUTES: usize = 80;
const RELEASED_AT_START: usize = 10;
/// The stream drops (once) before sending this minute.
const DROP_BEFORE: usize = 30;
const CONCURRENCY: usize = 4;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn ticker(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + u8::try_from(n).unwrap());
    format!("{}{}", letter(i / 26), letter(i % 26))
}

/// A made-up market of `STOCKS` tickers: each one's minute bars of 2013-10-07 (09:30–
/// 10:00 ET) and 2013-10-08 (from 09:30 ET), in cents, all different.
struct Market {
    minute: BTreeMap<String, Vec<Bar>>,
    today: Vec<DateTime<Utc>>,
    released: AtomicUsize,
    /// Requests by kind.
    grouped: AtomicUsize,
    daily_per_symbol: AtomicUsize,
    minute_requests: AtomicUsize,
    /// While set, minute requests are slow and their answers are timed.
    slow: AtomicBool,
    slow_answers: std::sync::Mutex<Vec<Instant>>,
}

fn bar(start: DateTime<Utc>, base: f64) -> Bar {
    Bar {
        start,
        open: base,
        high: base + 0.25,
        low: base - 0.25,
        close: base + 0.05,
        volume: 1000.0 + base,
    }
}

impl Market {
    fn new() -> Market {
        let previous_open = utc("2013-10-07T13:30:00Z");
        let open = utc("2013-10-08T13:30:00Z");
        let today: Vec<DateTime<Utc>> = (0..MINUTES)
            .map(|m| open + chrono::Duration::minutes(m as i64))
            .collect();
        let mut minute = BTreeMap::new();
        for i in 0..STOCKS {
            let mut bars: Vec<Bar> = (0..30)
                .map(|m| {
                    bar(
                        previous_open + chrono::Duration::minutes(m),
                        50.0 + i as f64 + m as f64 / 100.0,
                    )
                })
                .collect();
            bars.extend(
                today
                    .iter()
                    .enumerate()
                    .map(|(m, t)| bar(*t, 60.0 + i as f64 + m as f64 / 100.0)),
            );
            minute.insert(ticker(i), bars);
        }
        Market {
            minute,
            today,
            released: AtomicUsize::new(RELEASED_AT_START),
            grouped: AtomicUsize::new(0),
            daily_per_symbol: AtomicUsize::new(0),
            minute_requests: AtomicUsize::new(0),
            slow: AtomicBool::new(false),
            slow_answers: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn released_until(&self) -> DateTime<Utc> {
        let n = self.released.load(Ordering::SeqCst);
        self.today[n - 1] + chrono::Duration::minutes(1)
    }

    /// The daily bar of ticker `i` on `date` (midnight New York, as Massive stamps them).
    fn daily_row(i: usize, date: NaiveDate) -> Value {
        let t = New_York
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp_millis();
        let base =
            40.0 + i as f64 + f64::from(date.format("%d").to_string().parse::<u8>().unwrap());
        json!({"T": ticker(i), "o": base, "h": base + 1.0, "l": base - 1.0, "c": base + 0.5,
               "v": 1_000_000.0, "t": t, "n": 10})
    }

    fn answer(&self, pq: &str) -> Option<Canned> {
        let (path, _) = pq.split_once('?').unwrap_or((pq, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts[..] {
            [
                "v2",
                "aggs",
                "grouped",
                "locale",
                "us",
                "market",
                "stocks",
                date,
            ] => {
                self.grouped.fetch_add(1, Ordering::SeqCst);
                let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
                // The whole market: our tickers and some nobody watches.
                let mut rows: Vec<Value> =
                    (0..STOCKS).map(|i| Market::daily_row(i, date)).collect();
                rows.push(json!({"T":"ZZZZ","o":1.0,"h":1.0,"l":1.0,"c":1.0,"v":1.0,"t":0}));
                rows.push(json!({"T":"NOPRICE","v":1.0,"t":0}));
                let body = json!({"status":"OK","adjusted":true,"queryCount":rows.len(),
                    "resultsCount":rows.len(),"request_id":"g","results":rows});
                Some(Canned::new(200, &body.to_string()))
            }
            ["v2", "aggs", "ticker", _, "range", "1", "day", _, _] => {
                self.daily_per_symbol.fetch_add(1, Ordering::SeqCst);
                Some(Canned::new(200, r#"{"status":"OK","request_id":"d"}"#))
            }
            ["v2", "aggs", "ticker", t, "range", "1", "minute", from, to] => {
                self.minute_requests.fetch_add(1, Ordering::SeqCst);
                let ms = |s: &str| DateTime::from_timestamp_millis(s.parse().ok()?);
                let (from, to) = (ms(from)?, ms(to)?);
                let until = self.released_until();
                let rows: Vec<Value> = self
                    .minute
                    .get(t)?
                    .iter()
                    .filter(|b| b.start >= from && b.start <= to && b.start < until)
                    .map(|b| {
                        json!({"o":b.open,"h":b.high,"l":b.low,"c":b.close,"v":b.volume,
                               "t":b.start.timestamp_millis()})
                    })
                    .collect();
                if self.slow.load(Ordering::SeqCst) {
                    self.slow_answers.lock().unwrap().push(Instant::now());
                }
                let body = json!({"ticker":t,"status":"OK","request_id":"m","results":rows});
                Some(Canned::new(200, &body.to_string()))
            }
            _ => None,
        }
    }

    /// One stream frame: minute `m`'s `AM` bar of every ticker.
    fn frame(&self, m: usize) -> Message {
        let events: Vec<Value> = self
            .minute
            .iter()
            .map(|(t, bars)| {
                let b = bars.iter().find(|b| b.start == self.today[m]).unwrap();
                let s = b.start.timestamp_millis();
                json!({"ev":"AM","sym":t,"o":b.open,"h":b.high,"l":b.low,"c":b.close,
                       "v":b.volume,"s":s,"e":s + 60_000})
            })
            .collect();
        Message::text(Value::Array(events).to_string())
    }
}

fn status(status: &str, message: &str) -> Message {
    Message::text(json!([{ "ev": "status", "status": status, "message": message }]).to_string())
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn action(ws: &mut Ws) -> Option<String> {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).ok()?;
            return Some(v["action"].as_str()?.into());
        }
    }
    None
}

/// One connection: handshake, the last released minute again (an overlap), then each new
/// minute; the first connection drops before `DROP_BEFORE` (or the first one after it it
/// sees, on a slow machine) when `drop_once`.
async fn serve(
    first: bool,
    mut ws: Ws,
    market: Arc<Market>,
    mut minutes: broadcast::Receiver<usize>,
    drop_once: bool,
    dropped_at: Arc<AtomicUsize>,
) {
    let _ = ws.send(status("connected", "Connected Successfully")).await;
    action(&mut ws).await;
    let _ = ws.send(status("auth_success", "authenticated")).await;
    action(&mut ws).await;
    let _ = ws.send(status("success", "subscribed")).await;
    let released = market.released.load(Ordering::SeqCst);
    if ws.send(market.frame(released - 1)).await.is_err() {
        return;
    }
    while let Ok(m) = minutes.recv().await {
        if first && drop_once && m >= DROP_BEFORE {
            // The backfill that follows is slow.
            market.slow.store(true, Ordering::SeqCst);
            dropped_at.store(m, Ordering::SeqCst);
            return;
        }
        if ws.send(market.frame(m)).await.is_err() {
            return;
        }
    }
    while ws.next().await.is_some() {}
}

struct Run {
    /// Each symbol's minute bars of today: the snapshot's, then every step's.
    bars: BTreeMap<Symbol, Vec<Bar>>,
    /// When the first bar the dropped connection never sent was published.
    first_bars_after_drop: Option<Instant>,
    market: Arc<Market>,
    peak_in_flight: usize,
    daily_lengths: Vec<usize>,
    daily_first_close: Option<f64>,
}

async fn run(drop_once: bool) -> Run {
    let market = Arc::new(Market::new());
    let dynamic: Dynamic = {
        let market = market.clone();
        Arc::new(move |pq: &str| market.answer(pq))
    };
    let delay: Delay = {
        let market = market.clone();
        Arc::new(move |pq: &str| {
            if market.slow.load(Ordering::SeqCst) && pq.contains("/range/1/minute/") {
                Duration::from_millis(120)
            } else {
                Duration::ZERO
            }
        })
    };
    let http = HttpServer::start_slow(None, Some(dynamic), delay).await;

    let (minutes_tx, _) = broadcast::channel::<usize>(4096);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}", listener.local_addr().unwrap());
    let dropped_at = Arc::new(AtomicUsize::new(usize::MAX));
    {
        let (market, minutes_tx, dropped_at) =
            (market.clone(), minutes_tx.clone(), dropped_at.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((tcp, _)) = listener.accept().await {
                n += 1;
                let minutes = minutes_tx.subscribe();
                let (market, dropped_at) = (market.clone(), dropped_at.clone());
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                        serve(n == 1, ws, market, minutes, drop_once, dropped_at).await;
                    }
                });
            }
        });
    }

    let (bus, requests) = MarketBus::new(8192);
    let mut events = bus.subscribe();
    let cancel = CancellationToken::new();
    let symbols: Vec<Symbol> = (0..STOCKS)
        .map(|i| Symbol::parse(&ticker(i)).unwrap())
        .collect();
    let mut config = MassiveFeedConfig::new(
        MassiveConfig {
            rest_url: http.base.clone(),
            ws_url,
            api_key: Secret::new(KEY),
        },
        symbols.clone(),
        Default::default(),
    );
    config.clock = FeedClock::starting_at(utc("2013-10-09T03:00:00Z"));
    config.heartbeat_every = Duration::from_millis(10);
    config.backfill_settle = Duration::ZERO;
    config.limits = RequestLimits {
        max_concurrent: CONCURRENCY,
        per_minute: 0,
    };
    config.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(100),
    };
    config.stream = StreamTimings {
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(30),
        ..StreamTimings::default()
    };
    let (_, feed) = massive_support::spawn_feed_worker(config, bus.clone(), requests, &cancel);

    // The market moves on, one minute every 25 ms, whoever is connected.
    {
        let (market, minutes_tx) = (market.clone(), minutes_tx.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            for m in RELEASED_AT_START..MINUTES {
                market.released.store(m + 1, Ordering::SeqCst);
                let _ = minutes_tx.send(m);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        });
    }

    let last = *market.today.last().unwrap();
    let mut out = Run {
        bars: BTreeMap::new(),
        first_bars_after_drop: None,
        market: market.clone(),
        peak_in_flight: 0,
        daily_lengths: Vec::new(),
        daily_first_close: None,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out
        .bars
        .values()
        .filter(|b| b.last().is_some_and(|b| b.start == last))
        .count()
        < STOCKS
    {
        let Ok(event) = tokio::time::timeout_at(deadline, events.recv()).await else {
            panic!(
                "every symbol's whole session within 30 s: {} symbols complete, feed finished: {}",
                out.bars
                    .values()
                    .filter(|b| b.last().is_some_and(|b| b.start == last))
                    .count(),
                feed.is_finished()
            );
        };
        match event.expect("no lag on the bus") {
            MarketEvent::Snapshot(s) => {
                out.daily_lengths = s.symbols.iter().map(|s| s.daily.len()).collect();
                out.daily_first_close = s.symbols[0].daily.first().map(|d| d.close);
                for sym in &s.symbols {
                    out.bars
                        .insert(sym.symbol.clone(), sym.bars.load().to_vec());
                }
            }
            MarketEvent::Step { bars, .. } => {
                // A bar the dropped connection never sent: it came after the reconnect.
                let dropped_at = dropped_at.load(Ordering::SeqCst);
                if out.first_bars_after_drop.is_none()
                    && dropped_at != usize::MAX
                    && bars
                        .iter()
                        .any(|(_, b)| b.start >= market.today[dropped_at])
                {
                    out.first_bars_after_drop = Some(Instant::now());
                }
                for (symbol, bar) in bars {
                    out.bars.entry(symbol).or_default().push(bar);
                }
            }
        }
    }
    cancel.cancel();
    let _ = feed.await;
    out.peak_in_flight = http.peak_in_flight();
    out
}

fn expected(market: &Market, ticker: &str) -> Vec<Bar> {
    market.minute[ticker]
        .iter()
        .filter(|b| b.start >= market.today[0])
        .copied()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_backfill_holds_only_the_symbols_it_has_not_reached_and_loses_nothing() {
    let calm = run(false).await;
    let stormy = run(true).await;
    for i in 0..STOCKS {
        let symbol = Symbol::parse(&ticker(i)).unwrap();
        let want = expected(&calm.market, &ticker(i));
        assert_eq!(calm.bars[&symbol], want, "{symbol}: the undisturbed run");
        assert_eq!(
            stormy.bars[&symbol], calm.bars[&symbol],
            "{symbol}: after a reconnect, the same bars as the undisturbed run, in order, none twice"
        );
    }
    // 40 symbols at 120 ms a request, 4 at a time: the backfill takes about 1.2 s; the
    // first symbols' bars were published long before the last answer.
    let answers = stormy.market.slow_answers.lock().unwrap().clone();
    assert!(
        answers.len() >= STOCKS,
        "every symbol was backfilled: {} slow answers, dropped {:?}",
        answers.len(),
        stormy.first_bars_after_drop
    );
    let last_answer = *answers.iter().max().unwrap();
    let first_bars = stormy
        .first_bars_after_drop
        .expect("bars were published after the drop");
    assert!(
        first_bars < last_answer,
        "the stream kept publishing during the backfill ({:?} before its last answer)",
        last_answer.saturating_duration_since(first_bars)
    );
    assert!(
        stormy.peak_in_flight <= CONCURRENCY,
        "at most {CONCURRENCY} requests in flight, saw {}",
        stormy.peak_in_flight
    );
    assert!(
        stormy.peak_in_flight >= 2,
        "the backfill ran requests concurrently (peak {})",
        stormy.peak_in_flight
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_stocks_take_their_daily_bars_from_one_grouped_request_per_date() {
    let calm = run(false).await;
    let previous = calendar::previous_session(NaiveDate::from_ymd_opt(2013, 10, 8).unwrap());
    let from = previous.date - chrono::Duration::days(45);
    let dates: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d <= previous.date)
        .filter(|d| calendar::session(*d).is_some())
        .collect();
    assert_eq!(
        calm.market.grouped.load(Ordering::SeqCst),
        dates.len(),
        "one grouped request per trading date"
    );
    assert_eq!(
        calm.market.daily_per_symbol.load(Ordering::SeqCst),
        0,
        "no per-symbol daily request"
    );
    assert!(dates.len() >= 15, "enough for ATR(14): {}", dates.len());
    assert!(
        calm.daily_lengths.iter().all(|n| *n == dates.len()),
        "every symbol has a bar per date: {:?}",
        calm.daily_lengths
    );
    // AA's first date's bar: 40 + 0 + day of month, closing half a dollar up.
    let day: f64 = dates[0].format("%d").to_string().parse().unwrap();
    assert_eq!(calm.daily_first_close, Some(40.0 + day + 0.5));
    // One minute request per symbol (previous session and today together), asked once
    // the stream was live: no backfill on the first connect.
    assert_eq!(calm.market.minute_requests.load(Ordering::SeqCst), STOCKS);
}
