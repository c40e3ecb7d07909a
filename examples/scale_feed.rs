//! A local market of N synthetic symbols speaking Massive's protocol, for the scale
//! harness (`scripts/scale/run.py`, issue 25 item 4). Not a test: the product's own tool.
//!
//! REST (axum, one port): minute and day aggregates
//! (`/v2/aggs/ticker/{T}/range/1/{minute|day}/{from}/{to}`), the previous close
//! (`/v2/aggs/ticker/{T}/prev`), grouped daily bars
//! (`/v2/aggs/grouped/locale/us/market/stocks/{date}`) and the market status; anything
//! else (the options snapshot) answers Massive's 404 JSON. WebSocket (another port, any
//! path: `/stocks`, `/indices`): `connected` → auth (any key) → `auth_success` → subscribe
//! → `success`, then every symbol's `AM` minute aggregate at each minute's end, `A` second
//! aggregates once a real second for the first `--watch` symbols, and, for the first
//! symbol, a *probe* every 150–400 ms real: an `A` whose price is unique in the run
//! (7000.00 + k · 0.01), announced on stdout so the driver can time it on the screen.
//!
//! Market time: `--start` (UTC, whole seconds) at the real instant `--anchor` (Unix
//! seconds, default now), running `--speed` market seconds per real second. The driver
//! starts coach under libfaketime at the same instant so both agree on "now".
//!
//! Prices are a pure function of (symbol, minute), so REST history and the stream agree:
//! each symbol has its own base price (5–800) and two slow waves plus hashed noise, enough
//! to cross the prior day's levels and the opening range now and then.
//!
//! Stdout, one line per event (read by the driver):
//! `ready rest=URL ws=URL start=EPOCH_S anchor=EPOCH_S session=DATE`,
//! `minute END_MS SENT_US` (the AM burst of the minute ending at END_MS finished at
//! SENT_US, real Unix microseconds), `probe PRICE SENT_US`, `client N` (a stream client
//! subscribed).
//!
//! Run: `cargo run --release --example scale_feed -- --symbols 500 --watch 50`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use clap::Parser;
use coach::market::calendar;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug, Clone)]
#[command(about = "A local Massive-protocol market of N synthetic symbols")]
struct Args {
    /// Symbols quoted (S0001 …).
    #[arg(long, default_value_t = 500)]
    symbols: usize,
    /// The first this many symbols also get `A` second aggregates.
    #[arg(long, default_value_t = 50)]
    watch: usize,
    /// Market seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Market time at the anchor: RFC 3339, or `HH:MM` New York time of the last session
    /// before today (default 09:45).
    #[arg(long)]
    start: Option<String>,
    /// Real Unix second at which market time reads `--start`; default now.
    #[arg(long)]
    anchor: Option<f64>,
    /// Probe prices (`A` of the first symbol) every 150–400 ms real (`--probes false`: none).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    probes: bool,
    /// REST port (0 = any free one).
    #[arg(long, default_value_t = 0)]
    rest_port: u16,
    /// WebSocket port (0 = any free one).
    #[arg(long, default_value_t = 0)]
    ws_port: u16,
}

/// Real Unix time in microseconds.
fn real_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Market time: `start` at real `anchor`, `speed` market seconds per real second.
#[derive(Clone, Copy)]
struct MarketClock {
    start_ms: i64,
    anchor_us: i64,
    speed: f64,
}

impl MarketClock {
    fn now_ms(&self) -> i64 {
        self.start_ms + ((real_us() - self.anchor_us) as f64 * self.speed / 1000.0) as i64
    }

    /// Real Unix microseconds at which market time reads `ms`.
    fn real_at_us(&self, ms: i64) -> i64 {
        self.anchor_us + ((ms - self.start_ms) as f64 * 1000.0 / self.speed) as i64
    }
}

/// SplitMix64: a fixed hash, so every price is a function of its inputs.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) from a hash.
fn unit(x: u64) -> f64 {
    (mix(x) >> 11) as f64 / (1u64 << 53) as f64
}

/// The synthetic market: symbol names and the price function.
struct Market {
    names: Vec<String>,
    watch: usize,
}

#[derive(Clone, Copy)]
struct Ohlc {
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: f64,
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Market {
    fn new(n: usize, watch: usize) -> Market {
        let width = n.to_string().len().max(4);
        let names = (1..=n).map(|i| format!("S{i:0width$}")).collect();
        Market {
            names,
            watch: watch.min(n),
        }
    }

    fn index_of(&self, ticker: &str) -> Option<usize> {
        let digits = ticker.strip_prefix('S')?;
        let i: usize = digits.parse().ok()?;
        (i >= 1 && i <= self.names.len() && self.names[i - 1] == ticker).then(|| i - 1)
    }

    /// The price of symbol `i` at Unix second `t` (dollars): a base of 5–800, a daily
    /// wave of ±3 %, an hourly one of ±1.5 % and ±0.1 % noise per minute.
    fn price(&self, i: usize, t: i64) -> f64 {
        let seed = i as u64 + 1;
        let base = 5.0 * (160f64).powf(unit(seed));
        let tf = t as f64;
        let day = (tf / 23_400.0 * std::f64::consts::TAU + unit(seed ^ 7) * 6.3).sin() * 0.03;
        let hour = (tf / 2_700.0 * std::f64::consts::TAU + unit(seed ^ 9) * 6.3).sin() * 0.015;
        let noise = (unit(seed.wrapping_mul(1_000_003) ^ (t / 60) as u64) - 0.5) * 0.002;
        base * (1.0 + day + hour + noise)
    }

    /// The minute bar of symbol `i` starting at Unix second `start`.
    fn minute(&self, i: usize, start: i64) -> Ohlc {
        let o = self.price(i, start);
        let c = self.price(i, start + 60);
        let wick = unit((i as u64) << 32 ^ start as u64) * 0.001;
        Ohlc {
            o: cents(o),
            h: cents(o.max(c) * (1.0 + wick)),
            l: cents(o.min(c) * (1.0 - wick)),
            c: cents(c),
            v: (1000.0 + unit(start as u64 ^ i as u64) * 50_000.0).round(),
        }
    }

    /// The daily bar of symbol `i` for a session.
    fn day(&self, i: usize, s: &calendar::Session) -> Ohlc {
        let (open, close) = (s.open.timestamp(), s.close.timestamp());
        let mut h = f64::MIN;
        let mut l = f64::MAX;
        let mut t = open;
        while t <= close {
            let p = self.price(i, t);
            h = h.max(p);
            l = l.min(p);
            t += 900;
        }
        Ohlc {
            o: cents(self.price(i, open)),
            h: cents(h * 1.002),
            l: cents(l * 0.998),
            c: cents(self.price(i, close)),
            v: 1_000_000.0,
        }
    }
}

struct Shared {
    market: Market,
    clock: MarketClock,
}

type AppState = Arc<Shared>;

fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "application/json")],
        json!({"status": "NOT_FOUND", "request_id": "scale", "message": message}).to_string(),
    )
        .into_response()
}

fn ok_json(body: Value) -> Response {
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// `YYYY-MM-DD` (a New York date: from its midnight, to its end) or Unix milliseconds.
fn bound(text: &str, end: bool) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let midnight = calendar::ny_instant(date, chrono::NaiveTime::MIN).timestamp_millis();
    Some(if end {
        midnight + 86_400_000 - 1
    } else {
        midnight
    })
}

fn date_of_ms(ms: i64) -> NaiveDate {
    calendar::ny_date(Utc.timestamp_millis_opt(ms).single().unwrap_or_default())
}

/// `/v2/aggs/ticker/{ticker}/range/1/{span}/{from}/{to}`: regular-hours minutes (no
/// pre-market or after-hours trading in this market) or daily bars, final ones only.
async fn aggs(
    State(app): State<AppState>,
    Path((ticker, mult, span, from, to)): Path<(String, String, String, String, String)>,
) -> Response {
    let Some(i) = app.market.index_of(&ticker) else {
        return not_found("unknown ticker");
    };
    let (Some(from), Some(to)) = (bound(&from, false), bound(&to, true)) else {
        return not_found("bad range");
    };
    if mult != "1" {
        return not_found("only 1-unit aggregates here");
    }
    let now = app.clock.now_ms();
    let mut rows = Vec::new();
    for s in calendar::sessions_between(date_of_ms(from), date_of_ms(to)) {
        match span.as_str() {
            "minute" => {
                let mut t = s.open.timestamp();
                while t < s.close.timestamp() {
                    let ms = t * 1000;
                    if ms >= from && ms <= to && ms + 60_000 <= now {
                        let b = app.market.minute(i, t);
                        rows.push(json!({"o":b.o,"h":b.h,"l":b.l,"c":b.c,"v":b.v,"t":ms,"n":100}));
                    }
                    t += 60;
                }
            }
            "day" => {
                let ms = calendar::ny_instant(s.date, chrono::NaiveTime::MIN).timestamp_millis();
                if ms >= from && ms <= to && s.close.timestamp_millis() <= now {
                    let b = app.market.day(i, &s);
                    rows.push(json!({"o":b.o,"h":b.h,"l":b.l,"c":b.c,"v":b.v,"t":ms}));
                }
            }
            _ => return not_found("unknown timespan"),
        }
    }
    let count = rows.len();
    let mut body = json!({"ticker": ticker, "status": "OK", "request_id": "scale",
        "adjusted": true, "queryCount": count, "resultsCount": count});
    if count > 0 {
        body["results"] = Value::Array(rows);
    }
    ok_json(body)
}

/// `/v2/aggs/ticker/{ticker}/prev`: the last finished session's daily bar.
async fn prev(State(app): State<AppState>, Path(ticker): Path<String>) -> Response {
    let Some(i) = app.market.index_of(&ticker) else {
        return not_found("unknown ticker");
    };
    let today = date_of_ms(app.clock.now_ms());
    let s = calendar::previous_session(today);
    let b = app.market.day(i, &s);
    let t = calendar::ny_instant(s.date, chrono::NaiveTime::MIN).timestamp_millis();
    ok_json(
        json!({"ticker": ticker, "status": "OK", "request_id": "scale", "resultsCount": 1,
        "results": [{"T": ticker, "o":b.o,"h":b.h,"l":b.l,"c":b.c,"v":b.v,"t":t}]}),
    )
}

/// `/v2/aggs/grouped/locale/us/market/stocks/{date}`: every symbol's daily bar of a date.
async fn grouped(State(app): State<AppState>, Path(date): Path<String>) -> Response {
    let Ok(date) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") else {
        return not_found("bad date");
    };
    let Some(s) = calendar::session(date) else {
        return ok_json(
            json!({"status": "OK", "request_id": "scale", "queryCount": 0, "resultsCount": 0, "adjusted": true}),
        );
    };
    if s.close.timestamp_millis() > app.clock.now_ms() {
        return not_found("the session has not closed yet");
    }
    let t = calendar::ny_instant(date, chrono::NaiveTime::MIN).timestamp_millis();
    let rows: Vec<Value> = (0..app.market.names.len())
        .map(|i| {
            let b = app.market.day(i, &s);
            json!({"T": app.market.names[i], "o":b.o,"h":b.h,"l":b.l,"c":b.c,"v":b.v,"vw":b.c,"t":t,"n":1000})
        })
        .collect();
    ok_json(
        json!({"status": "OK", "request_id": "scale", "adjusted": true,
        "queryCount": rows.len(), "resultsCount": rows.len(), "results": rows}),
    )
}

async fn market_status(State(app): State<AppState>) -> Response {
    let now = Utc
        .timestamp_millis_opt(app.clock.now_ms())
        .single()
        .unwrap_or_default();
    let open = calendar::session(calendar::ny_date(now)).is_some_and(|s| s.contains(now));
    let word = if open { "open" } else { "closed" };
    ok_json(
        json!({"market": word, "serverTime": now.to_rfc3339(), "earlyHours": false,
        "afterHours": false, "exchanges": {"nyse": word, "nasdaq": word}}),
    )
}

fn status_frame(status: &str, message: &str) -> Message {
    Message::text(json!([{"ev": "status", "status": status, "message": message}]).to_string())
}

/// The `action` and `params` of a client's JSON text frame.
async fn action(
    ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
) -> Option<(String, String)> {
    while let Some(frame) = ws.next().await {
        match frame.ok()? {
            Message::Text(text) => {
                let v: Value = serde_json::from_str(&text).ok()?;
                return Some((
                    v.get("action")?.as_str()?.to_string(),
                    v.get("params")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ));
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
    None
}

/// One stream client: the handshake, then every frame of the market until it goes.
async fn client(stream: TcpStream, frames: broadcast::Sender<Arc<str>>, clients: Arc<AtomicU64>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    if ws
        .send(status_frame("connected", "Connected Successfully"))
        .await
        .is_err()
    {
        return;
    }
    if action(&mut ws).await.is_none_or(|(a, _)| a != "auth") {
        return;
    }
    if ws
        .send(status_frame("auth_success", "authenticated"))
        .await
        .is_err()
    {
        return;
    }
    let mut feed = frames.subscribe();
    let Some((_, params)) = action(&mut ws).await else {
        return;
    };
    let subscribed = params.split(',').filter(|p| !p.is_empty()).count();
    let _ = ws
        .send(status_frame(
            "success",
            &format!("subscribed to: {subscribed} params"),
        ))
        .await;
    let n = clients.fetch_add(1, Ordering::SeqCst) + 1;
    say(&format!("client {n} {subscribed}"));
    let (mut sink, mut source) = ws.split();
    // Reads (and so answers pings) until the client goes.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = source.next().await {} });
    loop {
        match feed.recv().await {
            Ok(text) => {
                if sink.send(Message::text(text.to_string())).await.is_err() {
                    break;
                }
            }
            Err(broadcast::error::RecvError::Lagged(k)) => say(&format!("lagged {k}")),
            Err(broadcast::error::RecvError::Closed) => break,
        }
        if reader.is_finished() {
            break;
        }
    }
    reader.abort();
}

/// One stdout line, flushed (the driver reads it as it comes).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn am_event(name: &str, b: &Ohlc, start_ms: i64) -> Value {
    json!({"ev":"AM","sym":name,"v":b.v,"av":b.v,"op":b.o,"vw":b.c,"o":b.o,"c":b.c,"h":b.h,
        "l":b.l,"a":b.c,"z":100,"s":start_ms,"e":start_ms + 60_000})
}

fn a_event(name: &str, price: f64, end_ms: i64) -> Value {
    json!({"ev":"A","sym":name,"v":100,"av":100,"op":price,"vw":price,"o":price,"c":price,
        "h":price,"l":price,"a":price,"z":100,"s":end_ms - 1000,"e":end_ms})
}

/// Sends `events` as frames of at most 100 events (Massive batches events the same way).
fn send_events(frames: &broadcast::Sender<Arc<str>>, events: Vec<Value>) {
    for chunk in events.chunks(100) {
        let _ = frames.send(Arc::from(Value::Array(chunk.to_vec()).to_string()));
    }
}

/// The market's pulse: `AM` at every minute's end, `A` every real second for the watched
/// symbols, probes for the first one. The probe symbol's minute bar is made of its probes.
async fn pulse(app: AppState, frames: broadcast::Sender<Arc<str>>, probes: bool) {
    let clock = app.clock;
    let market = &app.market;
    let mut next_minute_end = (clock.now_ms() / 60_000 + 1) * 60_000;
    let mut next_second = real_us() + 1_000_000;
    let mut next_probe = real_us() + 300_000;
    let mut probe_k: u64 = 0;
    let mut probe_bar: Option<Ohlc> = None;
    loop {
        let next_minute_real = clock.real_at_us(next_minute_end);
        let wake =
            next_minute_real
                .min(next_second)
                .min(if probes { next_probe } else { i64::MAX });
        let wait = (wake - real_us()).max(0) as u64;
        tokio::time::sleep(Duration::from_micros(wait)).await;
        let now_real = real_us();
        if now_real >= next_minute_real {
            let start_ms = next_minute_end - 60_000;
            let events = (0..market.names.len())
                .map(|i| {
                    let bar = match (i, probes) {
                        (0, true) => probe_bar.take().unwrap_or_else(|| {
                            let p = 7000.0 + probe_k as f64 * 0.01;
                            Ohlc {
                                o: p,
                                h: p,
                                l: p,
                                c: cents(p),
                                v: 100.0,
                            }
                        }),
                        _ => market.minute(i, start_ms / 1000),
                    };
                    am_event(&market.names[i], &bar, start_ms)
                })
                .collect();
            send_events(&frames, events);
            say(&format!("minute {next_minute_end} {}", real_us()));
            next_minute_end += 60_000;
        }
        if now_real >= next_second {
            let end_ms = clock.now_ms();
            let first = usize::from(probes);
            let events = (first..market.watch)
                .map(|i| {
                    a_event(
                        &market.names[i],
                        cents(market.price(i, end_ms / 1000)),
                        end_ms,
                    )
                })
                .collect();
            send_events(&frames, events);
            next_second += 1_000_000;
        }
        if probes && now_real >= next_probe {
            probe_k += 1;
            let price = cents(7000.0 + (probe_k % 99_999) as f64 * 0.01);
            let end_ms = clock.now_ms();
            send_events(&frames, vec![a_event(&market.names[0], price, end_ms)]);
            say(&format!("probe {price:.2} {}", real_us()));
            probe_bar = Some(match probe_bar {
                None => Ohlc {
                    o: price,
                    h: price,
                    l: price,
                    c: price,
                    v: 100.0,
                },
                Some(b) => Ohlc {
                    h: b.h.max(price),
                    l: b.l.min(price),
                    c: price,
                    v: b.v + 100.0,
                    ..b
                },
            });
            // 150–400 ms, not in step with any flush interval of the client.
            next_probe = now_real + 150_000 + (unit(probe_k) * 250_000.0) as i64;
        }
    }
}

/// `HH:MM` New York time of the last session before today.
fn last_session_at(time: chrono::NaiveTime) -> DateTime<Utc> {
    let today = calendar::ny_date(Utc::now());
    calendar::ny_instant(calendar::previous_session(today).date, time)
}

/// `--start`'s market instant: RFC 3339, or `HH:MM` of the last session (default 09:45).
fn start_of(text: Option<&str>) -> Result<DateTime<Utc>, String> {
    let Some(text) = text else {
        return Ok(last_session_at(
            chrono::NaiveTime::from_hms_opt(9, 45, 0).unwrap_or_default(),
        ));
    };
    if let Ok(time) = chrono::NaiveTime::parse_from_str(text, "%H:%M") {
        return Ok(last_session_at(time));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| format!("--start {text:?} is neither HH:MM nor RFC 3339: {e}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.symbols == 0 || args.speed.is_nan() || args.speed <= 0.0 {
        return Err("--symbols must be at least 1 and --speed above 0".into());
    }
    let start = start_of(args.start.as_deref())?;
    let anchor_us = args
        .anchor
        .map(|a| (a * 1e6) as i64)
        .unwrap_or_else(real_us);
    let clock = MarketClock {
        start_ms: start.timestamp() * 1000,
        anchor_us,
        speed: args.speed,
    };
    let app: AppState = Arc::new(Shared {
        market: Market::new(args.symbols, args.watch),
        clock,
    });
    let router = axum::Router::new()
        .route(
            "/v2/aggs/ticker/{ticker}/range/{mult}/{span}/{from}/{to}",
            axum::routing::get(aggs),
        )
        .route("/v2/aggs/ticker/{ticker}/prev", axum::routing::get(prev))
        .route(
            "/v2/aggs/grouped/locale/us/market/stocks/{date}",
            axum::routing::get(grouped),
        )
        .route("/v1/marketstatus/now", axum::routing::get(market_status))
        .fallback(|| async { not_found("not served by the scale market") })
        .with_state(app.clone());
    let rest = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.rest_port))).await?;
    let ws = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.ws_port))).await?;
    let (rest_addr, ws_addr) = (rest.local_addr()?, ws.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(rest, router).await;
    });
    let (frames, _) = broadcast::channel::<Arc<str>>(65_536);
    let clients = Arc::new(AtomicU64::new(0));
    {
        let (frames, clients) = (frames.clone(), clients.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = ws.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(client(stream, frames.clone(), clients.clone()));
            }
        });
    }
    say(&format!(
        "ready rest=http://{rest_addr} ws=ws://{ws_addr} start={} anchor={:.6} session={}",
        start.timestamp(),
        anchor_us as f64 / 1e6,
        calendar::ny_date(start)
    ));
    pulse(app, frames, args.probes).await;
    Ok(())
}
