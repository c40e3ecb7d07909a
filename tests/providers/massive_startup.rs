//! The Massive feed's start-up and reconnects (issue 25 item 2b) against local stand-ins
//! whose stream the test drives step by step: the streams are live before any history is
//! asked for, and a bar streamed while its symbol's history loads is published at once,
//! and the snapshot that brings the history has it once, in order, after the history's
//! bars, with no backfill; a symbol whose history is in is published while another still
//! loads, both stream at once, and Health says how many are in and that the others are
//! detected on live bars only; a minute the history may lack is fetched while the stream
//! flows, and fills in with a snapshot; a symbol whose history is slow is detected on its
//! live bars at once and its signal stored once; a reconnect within the minute asks REST
//! for nothing, and one after a missed minute backfills exactly that minute.

use crate::massive_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coach::detect::config::DetectorsConfig;
use coach::domain::{Bar, SetupKind, Symbol};
use coach::provider::MarketEvent;
use coach::provider::massive::feed::{FeedClock, MassiveFeedConfig, StreamTimings};
use coach::provider::massive::limits::RequestLimits;
use coach::provider::massive::{MassiveConfig, Secret};
use coach::runtime::AppEvent;
use coach::runtime::bus::{MarketBus, MarketReceiver};
use coach::runtime::detect::{DetectorOutputs, LIVE_ONLY_KEY, LIVE_ONLY_NOTE, run_detector};
use coach::runtime::gex::GexBoard;
use coach::runtime::health::Health;
use coach::runtime::metrics::Metrics;
use coach::runtime::supervisor::WorkerCtx;
use coach::store::{Store, StoredDetection};
use futures::{SinkExt, StreamExt};
use massive_support::{Canned, Delay, Dynamic, HttpServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const KEY: &str = "STARTKEY_0123456789";
const TICKERS: [&str; 2] = ["AAA", "BBB"];

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn minute(hh_mm: &str) -> DateTime<Utc> {
    utc(&format!("2013-10-08T{hh_mm}:00Z"))
}

/// Ticker `t`'s bar of the minute starting at `start`, different per minute: from the
/// open (13:30 UTC, 09:30 New York) a slide of 5 cents a minute below VWAP, then a jump
/// back above it that the next bar holds (a VWAP reclaim, after 10:00 New York): BBB
/// crosses at 14:05 and holds at 14:06, AAA two minutes later; then a slow drift up.
fn bar(t: &str, start: DateTime<Utc>) -> Bar {
    let (base, cross) = if t == "AAA" { (50.0, 37) } else { (70.0, 35) };
    let m = (start - minute("13:30")).num_minutes();
    let slide = |m: i64| base - 0.05 * m as f64;
    let (open, close) = match m {
        m if m < cross => (slide(m) + 0.02, slide(m)),
        m if m == cross => (slide(m) + 0.02, slide(m) + 1.2),
        m => {
            let held = slide(cross) + 1.3 + 0.01 * (m - cross - 1) as f64;
            (held - 0.05, held)
        }
    };
    Bar {
        start,
        open,
        high: open.max(close) + 0.05,
        low: open.min(close) - 0.05,
        close,
        volume: 1000.0 + m as f64,
    }
}

/// Ticker `t`'s bars of 2013-10-08 from the open (13:30 UTC) to before `until`.
fn bars_until(t: &str, until: DateTime<Utc>) -> Vec<Bar> {
    let mut out = Vec::new();
    let mut start = minute("13:30");
    while start < until {
        out.push(bar(t, start));
        start += chrono::Duration::minutes(1);
    }
    out
}

/// One minute-bar request as the REST stand-in saw it.
#[derive(Clone, Debug)]
struct MinuteRequest {
    ticker: String,
    from: DateTime<Utc>,
    at: Instant,
}

/// The REST stand-in: today's minute bars up to `released` (exclusive), daily bars none.
struct Rest {
    released: Mutex<DateTime<Utc>>,
    minute_requests: Mutex<Vec<MinuteRequest>>,
}

impl Rest {
    fn answer(&self, pq: &str) -> Option<Canned> {
        let (path, _) = pq.split_once('?').unwrap_or((pq, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts[..] {
            ["v2", "aggs", "ticker", _, "range", "1", "day", _, _] => {
                Some(Canned::new(200, r#"{"status":"OK","request_id":"d"}"#))
            }
            ["v2", "aggs", "ticker", t, "range", "1", "minute", from, to] => {
                let ms = |s: &str| DateTime::from_timestamp_millis(s.parse().ok()?);
                let (from, to) = (ms(from)?, ms(to)?);
                self.minute_requests.lock().unwrap().push(MinuteRequest {
                    ticker: t.into(),
                    from,
                    at: Instant::now(),
                });
                let released = *self.released.lock().unwrap();
                let rows: Vec<Value> = bars_until(t, released)
                    .into_iter()
                    .filter(|b| b.start >= from && b.start <= to)
                    .map(|b| {
                        json!({"o":b.open,"h":b.high,"l":b.low,"c":b.close,"v":b.volume,
                               "t":b.start.timestamp_millis()})
                    })
                    .collect();
                let body = json!({"ticker":t,"status":"OK","request_id":"m","results":rows});
                Some(Canned::new(200, &body.to_string()))
            }
            _ => None,
        }
    }
}

/// What the test tells the stream stand-in's current connection to do, in order.
enum Step {
    /// Let the next connection in: its authentication is answered (then it subscribes,
    /// and counts itself live once it has sent the subscription).
    Accept,
    /// Send `AM` bars of these tickers for the minute starting at the instant.
    Bars(Vec<&'static str>, DateTime<Utc>),
    /// Close the connection (the client reconnects).
    Drop,
}

fn status(status: &str) -> Message {
    Message::text(json!([{ "ev": "status", "status": status, "message": status }]).to_string())
}

/// A stocks stream that does what the test's steps say, one connection at a time; each
/// connection takes the steps from where the last one stopped.
/// Also returns when each connection's subscription arrived (the client counts itself
/// live once it has sent it).
async fn stream_server() -> (
    String,
    mpsc::UnboundedSender<Step>,
    Arc<Mutex<Vec<Instant>>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (tx, steps) = mpsc::unbounded_channel::<Step>();
    let steps = Arc::new(tokio::sync::Mutex::new(steps));
    let subscribed = Arc::new(Mutex::new(Vec::new()));
    let out = subscribed.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (steps, subscribed) = (steps.clone(), subscribed.clone());
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let mut steps = steps.lock().await;
                let _ = ws.send(status("connected")).await;
                // auth: answered at the test's `Accept`; then the subscription
                for answer in ["auth_success", "success"] {
                    loop {
                        match ws.next().await {
                            Some(Ok(m)) if m.is_text() => break,
                            Some(Ok(_)) => {}
                            _ => return,
                        }
                    }
                    if answer == "auth_success" {
                        if !matches!(steps.recv().await, Some(Step::Accept)) {
                            return;
                        }
                    } else {
                        subscribed.lock().unwrap().push(Instant::now());
                    }
                    if ws.send(status(answer)).await.is_err() {
                        return;
                    }
                }
                while let Some(step) = steps.recv().await {
                    let frame = match step {
                        Step::Accept => continue,
                        Step::Bars(tickers, start) => {
                            let events: Vec<Value> = tickers
                                .iter()
                                .map(|t| {
                                    let b = bar(t, start);
                                    let s = start.timestamp_millis();
                                    json!({"ev":"AM","sym":t,"o":b.open,"h":b.high,"l":b.low,
                                           "c":b.close,"v":b.volume,"s":s,"e":s + 60_000})
                                })
                                .collect();
                            Message::text(Value::Array(events).to_string())
                        }
                        Step::Drop => return,
                    };
                    if ws.send(frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, tx, out)
}

/// A feed worker serving AAA and BBB at `now` (its clock runs from there), against a
/// REST stand-in with today's bars up to `released` whose minute requests for BBB take
/// `bbb_delay`.
struct Run {
    rest: Arc<Rest>,
    steps: mpsc::UnboundedSender<Step>,
    /// When each stream connection's subscription arrived.
    subscribed: Arc<Mutex<Vec<Instant>>>,
    events: MarketReceiver,
    health: Health,
    clock: FeedClock,
    cancel: CancellationToken,
    /// Each symbol's bars: a snapshot's replace what it had, a step's are appended.
    bars: BTreeMap<Symbol, Vec<Bar>>,
    /// Opens BBB's history requests (open unless the run was started gated).
    bbb_gate: watch::Sender<bool>,
    bus: MarketBus,
    _http: HttpServer,
}

impl Run {
    async fn start(now: DateTime<Utc>, released: DateTime<Utc>, bbb_delay: Duration) -> Run {
        Run::launch(now, released, bbb_delay, true, Duration::ZERO).await
    }

    /// Like `start`, with REST lagging the stream by up to `settle` (the feed's
    /// `backfill_settle`).
    async fn start_with_settle(
        now: DateTime<Utc>,
        released: DateTime<Utc>,
        settle: Duration,
    ) -> Run {
        Run::launch(now, released, Duration::ZERO, true, settle).await
    }

    /// Like `start`, BBB's history requests held until [`Run::land_bbb_history`].
    async fn start_with_bbb_history_held(now: DateTime<Utc>, released: DateTime<Utc>) -> Run {
        Run::launch(now, released, Duration::ZERO, false, Duration::ZERO).await
    }

    fn land_bbb_history(&self) {
        self.bbb_gate.send_replace(true);
    }

    async fn launch(
        now: DateTime<Utc>,
        released: DateTime<Utc>,
        bbb_delay: Duration,
        bbb_open: bool,
        settle: Duration,
    ) -> Run {
        let rest = Arc::new(Rest {
            released: Mutex::new(released),
            minute_requests: Mutex::new(Vec::new()),
        });
        let dynamic: Dynamic = {
            let rest = rest.clone();
            Arc::new(move |pq: &str| rest.answer(pq))
        };
        let delay: Delay = Arc::new(move |pq: &str| {
            if pq.contains("/ticker/BBB/range/1/minute/") {
                bbb_delay
            } else {
                Duration::ZERO
            }
        });
        let (bbb_gate, gate) = watch::channel(bbb_open);
        let http = if bbb_open {
            HttpServer::start_slow(None, Some(dynamic), delay).await
        } else {
            let gate: massive_support::Gate = Arc::new(move |pq: &str| {
                pq.contains("/ticker/BBB/range/1/minute/")
                    .then(|| gate.clone())
            });
            HttpServer::start_gated(Some(dynamic), gate).await
        };
        let (ws_url, steps, subscribed) = stream_server().await;
        let (bus, requests) = MarketBus::new(4096);
        let events = bus.subscribe();
        let mut config = MassiveFeedConfig::new(
            MassiveConfig {
                rest_url: http.base.clone(),
                ws_url,
                api_key: Secret::new(KEY),
            },
            TICKERS.iter().map(|t| Symbol::parse(t).unwrap()).collect(),
            Default::default(),
        );
        let clock = FeedClock::starting_at(now);
        config.clock = clock;
        config.heartbeat_every = Duration::from_millis(20);
        config.announce_every = Duration::from_millis(50);
        config.backfill_settle = settle;
        config.limits = RequestLimits {
            max_concurrent: 4,
            per_minute: 0,
        };
        config.stream = StreamTimings {
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(30),
            ..StreamTimings::default()
        };
        let cancel = CancellationToken::new();
        let (health, _) =
            massive_support::spawn_feed_worker(config, bus.clone(), requests, &cancel);
        Run {
            rest,
            steps,
            subscribed,
            events,
            health,
            clock,
            cancel,
            bars: BTreeMap::new(),
            bbb_gate,
            bus,
            _http: http,
        }
    }

    /// Starts the detector worker on this run's bus, storing into `store`; returns the
    /// detections it shows, in order.
    fn start_detector(&self, store: &Store) -> mpsc::UnboundedReceiver<StoredDetection> {
        let health = Health::default();
        health.register("detector", Duration::from_secs(1));
        let ctx = WorkerCtx {
            name: "detector",
            health,
            cancel: self.cancel.clone(),
        };
        let (ui, mut screen) = mpsc::channel(1024);
        let outputs = DetectorOutputs {
            store: store.clone(),
            ui,
            metrics: Arc::new(Metrics::default()),
            owned: coach::runtime::ownership::all(),
        };
        let (gex_board, gex) = watch::channel(GexBoard::default());
        let bus = self.bus.clone();
        tokio::spawn(async move {
            let _board = gex_board;
            run_detector(ctx, DetectorsConfig::default(), bus, gex, outputs).await
        });
        let (shown, detections) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = screen.recv().await {
                if let AppEvent::Detection(d) = event {
                    let _ = shown.send(d);
                }
            }
        });
        detections
    }

    fn step(&self, step: Step) {
        self.steps.send(step).expect("the stream stand-in runs");
    }

    /// The next event on the bus, folded into `bars`.
    async fn next(&mut self) -> MarketEvent {
        let event = tokio::time::timeout(Duration::from_secs(30), self.events.recv())
            .await
            .expect("an event within 30 s")
            .expect("no lag on the bus");
        match &event {
            MarketEvent::Snapshot(s) => {
                for sym in &s.symbols {
                    self.bars
                        .insert(sym.symbol.clone(), sym.bars.load().to_vec());
                }
            }
            MarketEvent::Step { bars, .. } => {
                for (symbol, bar) in bars {
                    self.bars.entry(symbol.clone()).or_default().push(*bar);
                }
            }
        }
        event
    }

    /// Reads the bus until every ticker's newest bar starts at `last`.
    async fn until_every_symbol_has(&mut self, last: DateTime<Utc>) {
        while !TICKERS.iter().all(|t| {
            let symbol = Symbol::parse(t).unwrap();
            self.bars
                .get(&symbol)
                .and_then(|b| b.last())
                .is_some_and(|b| b.start == last)
        }) {
            self.next().await;
        }
    }

    /// Reads the bus until a snapshot has every ticker with its history.
    async fn until_snapshot_of_all(&mut self) {
        loop {
            if let MarketEvent::Snapshot(s) = self.next().await
                && s.symbols.len() == TICKERS.len()
                && s.symbols.iter().all(|s| !s.history_loading)
            {
                return;
            }
        }
    }

    fn bars_of(&self, ticker: &str) -> &[Bar] {
        &self.bars[&Symbol::parse(ticker).unwrap()]
    }

    fn minute_requests(&self) -> Vec<MinuteRequest> {
        self.rest.minute_requests.lock().unwrap().clone()
    }

    fn note(&self) -> Option<String> {
        self.health
            .snapshot()
            .into_iter()
            .find(|r| r.name == "feed")
            .and_then(|r| r.note)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_asked_once_the_stream_is_live_and_a_bar_streamed_meanwhile_follows_it_once()
{
    // 10:00:02 New York; REST has the bars to 09:59 (13:59 UTC); BBB's history is slow.
    let mut run = Run::start(
        utc("2013-10-08T14:00:02Z"),
        minute("14:00"),
        Duration::from_millis(400),
    )
    .await;
    run.step(Step::Accept);
    // While the histories load: 13:59 again (REST has it too) and 14:00 (REST does not).
    run.step(Step::Bars(TICKERS.to_vec(), minute("13:59")));
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:00")));
    run.until_snapshot_of_all().await;

    for t in TICKERS {
        assert_eq!(
            run.bars_of(t),
            bars_until(t, minute("14:01")),
            "{t}: the history's bars, then the streamed minute, each once and in order"
        );
    }
    let requests = run.minute_requests();
    assert_eq!(
        requests.len(),
        TICKERS.len(),
        "one history request per symbol and no backfill on the first connect: {requests:?}"
    );
    let subscribed = run.subscribed.lock().unwrap()[0];
    assert!(
        requests.iter().all(|r| r.at >= subscribed),
        "every history request was made once the stream was subscribed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_whose_history_is_in_is_published_and_streams_while_another_still_loads() {
    let mut run = Run::start(
        utc("2013-10-08T14:00:02Z"),
        minute("14:00"),
        Duration::from_secs(3),
    )
    .await;
    run.step(Step::Accept);
    // AAA's history is in while BBB's request still runs: a snapshot of AAA alone.
    loop {
        if let MarketEvent::Snapshot(s) = run.next().await
            && !s.symbols.is_empty()
        {
            let names: Vec<&str> = s.symbols.iter().map(|s| s.symbol.as_str()).collect();
            assert_eq!(names, ["AAA"], "only the symbol whose history is in");
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let said = "history loading: 1 of 2 symbols in; detecting on live bars only for the other 1";
    while run.note().as_deref() != Some(said) {
        assert!(
            Instant::now() < deadline,
            "Health says how many symbols' history is in: {:?}",
            run.note()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Both stream at once, BBB's bar too while its history still loads.
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:00")));
    loop {
        if let MarketEvent::Step { bars, .. } = run.next().await
            && !bars.is_empty()
        {
            let got: Vec<(&str, DateTime<Utc>)> =
                bars.iter().map(|(s, b)| (s.as_str(), b.start)).collect();
            assert_eq!(
                got,
                [("AAA", minute("14:00")), ("BBB", minute("14:00"))],
                "BBB's bar is not held for its history"
            );
            break;
        }
    }
    run.until_snapshot_of_all().await;
    for t in TICKERS {
        assert_eq!(run.bars_of(t), bars_until(t, minute("14:01")), "{t}");
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while run.note().is_some() {
        assert!(
            Instant::now() < deadline,
            "no note once every symbol is live: {:?}",
            run.note()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(run.minute_requests().len(), TICKERS.len(), "no backfill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_within_the_minute_asks_rest_for_nothing() {
    let mut run = Run::start(utc("2013-10-08T14:00:02Z"), minute("14:00"), Duration::ZERO).await;
    run.step(Step::Accept);
    run.until_snapshot_of_all().await;
    run.step(Step::Drop);
    run.step(Step::Accept);
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:00")));
    run.until_every_symbol_has(minute("14:00")).await;
    assert!(
        run.clock.now() < minute("14:01"),
        "the test ran within the minute"
    );
    for t in TICKERS {
        assert_eq!(run.bars_of(t), bars_until(t, minute("14:01")), "{t}");
    }
    assert_eq!(
        run.minute_requests().len(),
        TICKERS.len(),
        "the history only: every symbol's newest bar was the last minute ended: {:?}",
        run.minute_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_after_a_missed_minute_backfills_exactly_that_minute() {
    // Five seconds before 14:01 UTC; the stream is down across it.
    let mut run = Run::start(utc("2013-10-08T14:00:55Z"), minute("14:00"), Duration::ZERO).await;
    run.step(Step::Accept);
    run.until_snapshot_of_all().await;
    run.step(Step::Drop);
    while run.clock.now() < minute("14:01") + chrono::Duration::milliseconds(500) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The 14:00 minute ended while the stream was down; REST has it now.
    *run.rest.released.lock().unwrap() = minute("14:01");
    run.step(Step::Accept);
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:00")));
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:01")));
    run.until_every_symbol_has(minute("14:01")).await;
    for t in TICKERS {
        assert_eq!(
            run.bars_of(t),
            bars_until(t, minute("14:02")),
            "{t}: the missed minute once, then the stream"
        );
    }
    let requests = run.minute_requests();
    let backfills: Vec<(&str, DateTime<Utc>)> = requests[TICKERS.len()..]
        .iter()
        .map(|r| (r.ticker.as_str(), r.from))
        .collect();
    let mut sorted = backfills.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [("AAA", minute("14:00")), ("BBB", minute("14:00"))],
        "one backfill per symbol, from the missed minute: {requests:?}"
    );
}

/// The next detection the detector shows.
async fn next_shown(shown: &mut mpsc::UnboundedReceiver<StoredDetection>) -> StoredDetection {
    tokio::time::timeout(Duration::from_secs(30), shown.recv())
        .await
        .expect("a detection within 30 s")
        .expect("the detector runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_whose_history_is_slow_is_published_and_detected_on_live_bars_at_once_and_its_signal_is_stored_once()
 {
    let t = crate::support::sqlite().await;
    // 10:07:02 New York; REST has the bars to 09:39, but BBB's history lands only when
    // the test says so.
    let mut run =
        Run::start_with_bbb_history_held(utc("2013-10-08T14:07:02Z"), minute("13:40")).await;
    let mut shown = run.start_detector(&t.store);
    run.step(Step::Accept);
    // The stream from 09:35: BBB slides below VWAP, crosses back at 10:05, holds at 10:06.
    let mut start = minute("13:35");
    while start <= minute("14:06") {
        run.step(Step::Bars(TICKERS.to_vec(), start));
        start += chrono::Duration::minutes(1);
    }
    run.until_every_symbol_has(minute("14:06")).await;
    assert_eq!(
        run.bars_of("BBB"),
        &bars_until("BBB", minute("14:07"))[5..],
        "BBB's streamed minutes are published while its history is held"
    );
    let first = next_shown(&mut shown).await;
    let reclaim = &first.detection;
    assert_eq!(
        (reclaim.symbol.as_str(), reclaim.kind, reclaim.bar_time),
        ("BBB", SetupKind::VwapReclaim, minute("14:06")),
        "BBB's reclaim is detected on its live bars, its history still held"
    );
    assert_eq!(reclaim.dedup_key, format!("VWAP{LIVE_ONLY_KEY}"));
    assert!(
        reclaim.rationale.ends_with(LIVE_ONLY_NOTE),
        "{}",
        reclaim.rationale
    );

    run.land_bbb_history();
    run.until_snapshot_of_all().await;
    assert_eq!(
        run.bars_of("BBB"),
        bars_until("BBB", minute("14:07")),
        "with its history: every minute from the open once, in order"
    );
    // AAA reclaims at 10:08, after the re-prime with BBB's history: once it shows, that
    // re-prime's findings were stored and shown before it.
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:07")));
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:08")));
    loop {
        let d = next_shown(&mut shown).await;
        if d.detection.symbol.as_str() == "AAA" && d.detection.bar_time == minute("14:08") {
            assert_eq!(d.detection.kind, SetupKind::VwapReclaim);
            assert_eq!(d.detection.dedup_key, "VWAP", "AAA's history was in");
            break;
        }
        assert!(
            !(d.detection.symbol.as_str() == "BBB" && d.detection.kind == SetupKind::VwapReclaim),
            "BBB's reclaim is not shown again by the re-prime: {d:?}"
        );
    }
    let stored = t.store.detections_on(reclaim.market_date).await.unwrap();
    let bbb: Vec<_> = stored
        .iter()
        .filter(|s| {
            s.detection.symbol.as_str() == "BBB" && s.detection.kind == SetupKind::VwapReclaim
        })
        .map(|s| (s.id, s.detection.bar_time))
        .collect();
    assert_eq!(
        bbb,
        [(first.id, minute("14:06"))],
        "BBB's reclaim is stored once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_the_history_may_lack_is_fetched_while_the_stream_flows_and_fills_in_with_a_snapshot()
 {
    // 10:00:07 New York, REST lagging the stream by up to 10 s: the histories asked now
    // may lack 09:59 (they do: REST has up to 09:58), so 09:59 is fetched at 10:00:10.
    let mut run = Run::start_with_settle(
        utc("2013-10-08T14:00:07Z"),
        minute("13:59"),
        Duration::from_secs(10),
    )
    .await;
    run.step(Step::Accept);
    let deadline = Instant::now() + Duration::from_secs(30);
    while run.minute_requests().len() < TICKERS.len() {
        assert!(Instant::now() < deadline, "both histories are asked for");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    *run.rest.released.lock().unwrap() = minute("14:00");
    run.step(Step::Bars(TICKERS.to_vec(), minute("14:00")));
    // 10:00 goes out at once; 09:59 fills in later, with a snapshot.
    let mut streamed_before_filled = false;
    loop {
        let event = run.next().await;
        if let MarketEvent::Step { bars, .. } = &event
            && bars.iter().any(|(_, b)| b.start == minute("14:00"))
        {
            streamed_before_filled = true;
        }
        if matches!(event, MarketEvent::Snapshot(_))
            && TICKERS
                .iter()
                .all(|t| run.bars_of(t) == bars_until(t, minute("14:01")))
        {
            break;
        }
    }
    assert!(
        streamed_before_filled,
        "the streamed 10:00 is not held for the missing 09:59"
    );
    let requests = run.minute_requests();
    let mut backfills: Vec<(&str, DateTime<Utc>)> = requests[TICKERS.len()..]
        .iter()
        .map(|r| (r.ticker.as_str(), r.from))
        .collect();
    backfills.sort();
    assert_eq!(
        backfills,
        [("AAA", minute("13:59")), ("BBB", minute("13:59"))],
        "one request per symbol, from the minute its history may lack: {requests:?}"
    );
}
