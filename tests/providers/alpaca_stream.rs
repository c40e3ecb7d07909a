//! The Alpaca stream and feed against local HTTP and WebSocket stand-ins speaking the
//! documented protocol: the handshake (connected, auth with both keys, one subscribe of
//! bars and trades), minute bars, an `"u"` correction replacing the bar with the same
//! start, trades as last prices, and a dropped connection whose REST backfill gives
//! exactly the minute bars of an undisturbed run; 406 backs off at least 60 s saying
//! another client holds the connection; 402 and 409 end the stream with a clear message.

use crate::alpaca_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alpaca_support::ws::{Script, WsServer, connection, fast_timings, ws_server};
use alpaca_support::{Dynamic, HttpServer, KEY_ID, SECRET_KEY, assert_no_keys, market};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::America::New_York;
use coach::domain::{Bar, Symbol};
use coach::provider::MarketEvent;
use coach::provider::alpaca::feed::{AlpacaFeed, AlpacaFeedConfig};
use coach::provider::alpaca::stream::{StreamEvent, StreamTimings, Watched, spawn_stream};
use coach::provider::alpaca::{AlpacaConnection, AlpacaError, Feed, Secret};
use coach::provider::backoff::RetryPolicy;
use coach::provider::massive::feed::FeedClock;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn ny(h: u32, m: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 2, 2, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn symbol(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

/// The market's final (corrected) minute bars of one symbol, 04:00 to 10:09 New York.
fn truth(base: f64) -> Vec<Bar> {
    (0..370)
        .map(|i| {
            let price = base + f64::from(i % 17) * 0.05 + f64::from(i) * 0.01;
            Bar {
                start: ny(4, 0) + chrono::Duration::minutes(i64::from(i)),
                open: price,
                high: price + 0.2,
                low: price - 0.15,
                close: price + 0.05,
                volume: 100.0 + f64::from(i),
            }
        })
        .collect()
}

fn bar_json(kind: &str, symbol: &str, b: &Bar) -> Value {
    json!({"T": kind, "S": symbol, "o": b.open, "h": b.high, "l": b.low, "c": b.close,
        "v": b.volume, "t": b.start.to_rfc3339_opts(SecondsFormat::Secs, true), "n": 5, "vw": b.close})
}

/// The REST market: until the stream's second connection, the minutes before 10:00 (what
/// was final when the feed started); from then on, up to 10:09.
fn rest_market(connections: Arc<AtomicUsize>, spy: &[Bar], qqq: &[Bar]) -> Dynamic {
    let upto = |end: DateTime<Utc>| {
        let mut bars = BTreeMap::new();
        bars.insert(
            "SPY".to_string(),
            spy.iter().copied().filter(|b| b.start < end).collect(),
        );
        bars.insert(
            "QQQ".to_string(),
            qqq.iter().copied().filter(|b| b.start < end).collect(),
        );
        market(bars, 150)
    };
    let (early, late) = (upto(ny(10, 0)), upto(ny(10, 10)));
    Arc::new(move |pq: &str| {
        if connections.load(Ordering::SeqCst) >= 2 {
            late(pq)
        } else {
            early(pq)
        }
    })
}

/// The stream frames of minutes `from..to` (indices into the truth, 360 = 10:00), with
/// 10:02 first sent as an uncorrected bar and then corrected by a `u` after 10:03.
fn frames(spy: &[Bar], qqq: &[Bar], minutes: std::ops::Range<usize>) -> Vec<Value> {
    let mut out = Vec::new();
    for i in minutes {
        for (name, bars) in [("SPY", spy), ("QQQ", qqq)] {
            let mut b = bars[i];
            if i == 362 {
                b.close -= 0.11;
                b.volume -= 40.0;
            }
            out.push(bar_json("b", name, &b));
            if i == 363 {
                out.push(bar_json("u", name, &bars[362]));
            }
        }
    }
    out.push(
        json!({"T":"t","S":"SPY","i":7,"x":"V","p":spy[369].close + 0.01,"s":100,
        "c":["@"],"t":(ny(10, 10) + chrono::Duration::seconds(5)).to_rfc3339(),"z":"C"}),
    );
    out
}

/// Runs a feed until both symbols hold 10:09 and no backfill is in flight; returns the
/// final snapshot's bars per symbol and every published bar in publication order.
async fn run_feed(
    scripts: Vec<Script>,
    spy: &[Bar],
    qqq: &[Bar],
) -> (
    BTreeMap<Symbol, Vec<Bar>>,
    Vec<(Symbol, Bar)>,
    Option<f64>,
    usize,
) {
    let (logs, _) = alpaca_support::capture_logs();
    let ws = ws_server(scripts).await;
    let rest = HttpServer::start(None, Some(rest_market(ws.connections.clone(), spy, qqq))).await;
    let mut config = AlpacaFeedConfig::new(
        connection(&rest.base, &ws.base),
        vec![symbol("SPY"), symbol("QQQ")],
    );
    config.clock = FeedClock::starting_at(ny(10, 30));
    config.stream = fast_timings();
    config.backfill_settle = Duration::ZERO;
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let mut feed = AlpacaFeed::load(&config).await.unwrap();
    let loaded = feed.snapshot(feed.now());
    assert_eq!(loaded.provider, "alpaca");
    assert_eq!(
        loaded.symbols[0].bars.load().len(),
        360,
        "04:00 to 09:59 at start"
    );
    let cancel = CancellationToken::new();
    let mut inputs = feed.start_stream(&cancel, tokio::sync::watch::channel(None).1);
    let mut published = Vec::new();
    let done = |feed: &AlpacaFeed| {
        let snap = feed.snapshot(feed.now());
        feed.settled()
            && snap
                .symbols
                .iter()
                .all(|s| s.bars.load().last().is_some_and(|b| b.start == ny(10, 9)))
            && snap.symbols[0]
                .last
                .as_ref()
                .is_some_and(|q| q.at > ny(10, 10))
    };
    let drive = async {
        while !done(&feed) {
            tokio::select! {
                Some(event) = inputs.events.recv() => { feed.on_stream_event(event); }
                Some(b) = inputs.backfilled.recv() => feed.on_backfill(b).unwrap(),
            }
            if let Some(MarketEvent::Step { bars, .. }) = feed.take_step(feed.now()) {
                published.extend(bars);
            }
        }
    };
    // A guard against a hang, not a timing assertion.
    if tokio::time::timeout(Duration::from_secs(20), drive)
        .await
        .is_err()
    {
        let snap = feed.snapshot(feed.now());
        panic!(
            "the feed never caught up: settled {}, last bars {:?}, last SPY {:?}",
            feed.settled(),
            snap.symbols
                .iter()
                .map(|s| s.bars.load().last().map(|b| b.start))
                .collect::<Vec<_>>(),
            snap.symbols[0].last
        );
    }
    cancel.cancel();
    let snap = feed.snapshot(feed.now());
    let last_spy = snap.symbols[0].last.as_ref().map(|q| q.price);
    let bars = snap
        .symbols
        .into_iter()
        .map(|s| (s.symbol, s.bars.load().to_vec()))
        .collect();
    let received = ws.received_on(1);
    assert_eq!(
        received[0],
        json!({"action":"auth","key":KEY_ID,"secret":SECRET_KEY})
    );
    assert_eq!(
        received[1],
        json!({"action":"subscribe","bars":["SPY","QQQ"],"trades":["SPY","QQQ"]})
    );
    assert_no_keys("the log", &logs.text());
    (
        bars,
        published,
        last_spy,
        ws.connections.load(Ordering::SeqCst),
    )
}

/// Each symbol's published bars start strictly after one another: none twice, in order.
fn assert_once_in_order(published: &[(Symbol, Bar)]) {
    for name in ["SPY", "QQQ"] {
        let starts: Vec<_> = published
            .iter()
            .filter(|(s, _)| s.as_str() == name)
            .map(|(_, b)| b.start)
            .collect();
        assert_eq!(starts.len(), 10, "{name}: 10:00 to 10:09 once each");
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "{name} in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_backfills_to_exactly_the_bars_of_an_undisturbed_run() {
    let (spy, qqq) = (truth(600.0), truth(500.0));
    let undisturbed = vec![Script {
        frames: frames(&spy, &qqq, 360..370),
        ..Script::default()
    }];
    let (calm, calm_published, calm_last, calm_connections) =
        run_feed(undisturbed, &spy, &qqq).await;
    assert_eq!(calm_connections, 1);
    assert_eq!(calm[&symbol("SPY")], spy, "the u correction replaced 10:02");
    assert_eq!(calm[&symbol("QQQ")], qqq);
    assert_once_in_order(&calm_published);
    assert_eq!(
        calm_last,
        Some(spy[369].close + 0.01),
        "the trade is the last price"
    );

    // The connection drops after 10:04; the next one resumes at 10:08 (with 10:04 again):
    // 10:05 to 10:07 come from the REST backfill while the stream flows.
    let mut resumed = frames(&spy, &qqq, 364..370);
    resumed.retain(|f| f["t"] != json!("2026-02-02T15:05:00Z"));
    resumed.retain(|f| f["t"] != json!("2026-02-02T15:06:00Z"));
    resumed.retain(|f| f["t"] != json!("2026-02-02T15:07:00Z"));
    let disturbed = vec![
        Script {
            frames: frames(&spy, &qqq, 360..365)
                .into_iter()
                .filter(|f| f["T"] != "t")
                .collect(),
            drop_after: true,
            ..Script::default()
        },
        Script {
            frames: resumed,
            ..Script::default()
        },
    ];
    let (rough, rough_published, rough_last, rough_connections) =
        run_feed(disturbed, &spy, &qqq).await;
    assert_eq!(rough_connections, 2, "reconnected once");
    assert_eq!(rough, calm, "the same minute bars, compared exactly");
    assert_once_in_order(&rough_published);
    assert_eq!(rough_last, calm_last);
}

async fn stream_until_end(
    ws: &WsServer,
    conn: AlpacaConnection,
) -> (Vec<StreamEvent>, Result<(), AlpacaError>) {
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let task = spawn_stream(
        AlpacaConnection {
            stream_url: ws.base.clone(),
            ..conn
        },
        fast_timings(),
        Watched::unfocused(vec![symbol("SPY")]),
        tx,
        cancel.clone(),
    );
    let result = task.await.unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (events, result)
}

#[tokio::test]
async fn rejected_keys_end_the_stream_with_a_clear_message_and_no_key() {
    let ws = ws_server(vec![Script::default()]).await;
    let mut conn = connection("http://127.0.0.1:9", &ws.base);
    conn.secret_key = Secret::new("wrong-secret-0123456789");
    let (events, result) = stream_until_end(&ws, conn).await;
    let e = result.unwrap_err();
    assert!(matches!(e, AlpacaError::StreamAuthFailed(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("refused the API keys (402 auth failed)"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret-0123456789"));
    assert_no_keys("the error", &text);
    assert!(events.is_empty(), "never live: {events:?}");
    assert_eq!(ws.connections.load(Ordering::SeqCst), 1, "no retry");
}

#[tokio::test]
async fn a_plan_without_the_feed_ends_the_stream_saying_so() {
    let ws = ws_server(vec![Script {
        auth_answer: Some(json!({"T":"error","code":409,"msg":"insufficient subscription"})),
        ..Script::default()
    }])
    .await;
    let mut conn = connection("http://127.0.0.1:9", &ws.base);
    conn.feed = Feed::Sip;
    let (_, result) = stream_until_end(&ws, conn).await;
    let e = result.unwrap_err();
    assert_eq!(
        e.to_string(),
        "the Alpaca plan does not include the sip feed (409 insufficient subscription); a free plan has feed = \"iex\" only"
    );
    assert!(e.is_fatal());
}

#[tokio::test]
async fn another_client_holding_the_connection_backs_off_a_minute_and_says_so() {
    let ws = ws_server(vec![Script {
        auth_answer: Some(json!({"T":"error","code":406,"msg":"connection limit exceeded"})),
        ..Script::default()
    }])
    .await;
    let (tx, mut rx) = mpsc::channel(8);
    let cancel = CancellationToken::new();
    let task = spawn_stream(
        connection("http://127.0.0.1:9", &ws.base),
        StreamTimings {
            connection_limit_backoff: Duration::from_secs(60),
            ..fast_timings()
        },
        Watched::unfocused(vec![symbol("SPY")]),
        tx,
        cancel.clone(),
    );
    let Some(StreamEvent::Down { reason, retry_in }) = rx.recv().await else {
        panic!("no Down event");
    };
    assert!(
        reason.starts_with(
            "another client holds the Alpaca iex stream connection (406 connection limit exceeded)"
        ),
        "{reason}"
    );
    assert!(retry_in >= Duration::from_secs(60), "{retry_in:?}");
    cancel.cancel();
    assert_eq!(task.await.unwrap(), Ok(()));
    assert_eq!(
        ws.connections.load(Ordering::SeqCst),
        1,
        "waiting, not hammering"
    );
}

#[tokio::test]
async fn a_watchlist_of_indices_only_is_refused_before_any_call() {
    let config = AlpacaFeedConfig::new(
        connection("http://127.0.0.1:9", "ws://127.0.0.1:9"),
        coach::provider::alpaca::feed::streamable(
            &[symbol("SPX"), symbol("NDX")],
            &[symbol("SPX"), symbol("NDX")].into(),
        ),
    );
    let e = AlpacaFeed::load(&config).await.err().unwrap();
    assert_eq!(e, AlpacaError::NothingToStream);
    assert!(e.is_fatal());
}
