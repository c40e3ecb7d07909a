//! The Alpaca feed follows the trader's focus within the free plan's 30 trade symbols:
//! focusing the 35th watched symbol sends, on the live connection, an `unsubscribe` of
//! the 30th's trades and then a `subscribe` of the focused one's (the stand-in answers 405
//! past 30, as Alpaca does), the focused symbol's trades then move its last price, and a
//! reconnection subscribes the set of the moment.

use crate::alpaca_support;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alpaca_support::ws::{Script, connection, fast_timings, ws_server};
use alpaca_support::{HttpServer, market};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use coach::domain::Symbol;
use coach::provider::MarketEvent;
use coach::provider::alpaca::feed::{AlpacaFeed, AlpacaFeedConfig};
use coach::provider::alpaca::stream::StreamEvent;
use coach::provider::backoff::RetryPolicy;
use coach::provider::massive::feed::FeedClock;
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn ny(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 2, 2, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// `S01` … `S35`, in watchlist order.
fn watchlist() -> Vec<Symbol> {
    (1..=35)
        .map(|i| Symbol::parse(&format!("S{i:02}")).unwrap())
        .collect()
}

fn names(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| format!("S{i:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn focusing_the_35th_symbol_trades_it_in_the_30th_slot_and_a_reconnect_keeps_it() {
    let symbols = watchlist();
    let s30 = symbols[29].clone();
    let s35 = symbols[34].clone();
    // Connection 1: S35 trades at 101.25 once subscribed; the connection drops after the
    // two messages of the focus change. Connection 2: S35 at 102.5 and S30 at 99.0, each
    // sent only if subscribed.
    let prices = |list: &[(&str, f64)]| -> BTreeMap<String, f64> {
        list.iter().map(|(s, p)| (s.to_string(), *p)).collect()
    };
    let ws = ws_server(vec![
        Script {
            trade_prices: prices(&[("S35", 101.25)]),
            trades_at: Some(ny(10, 30, 1)),
            drop_after_changes: Some(2),
            ..Script::default()
        },
        Script {
            trade_prices: prices(&[("S35", 102.5), ("S30", 99.0)]),
            trades_at: Some(ny(10, 30, 2)),
            ..Script::default()
        },
    ])
    .await;
    // A market without bars: this test is about trades.
    let rest = HttpServer::start(None, Some(market(BTreeMap::new(), 150))).await;
    let mut config = AlpacaFeedConfig::new(connection(&rest.base, &ws.base), symbols.clone());
    config.clock = FeedClock::starting_at(ny(10, 30, 0));
    config.stream = fast_timings();
    config.backfill_settle = Duration::ZERO;
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let mut feed = AlpacaFeed::load(&config).await.unwrap();
    let (focus, focus_rx) = watch::channel(None);
    let cancel = CancellationToken::new();
    let mut inputs = feed.start_stream(&cancel, focus_rx);

    // The S35 prices published, in order; connections that went live.
    let mut published: Vec<f64> = Vec::new();
    let mut live = 0;
    let drive = async {
        while published.last() != Some(&102.5) {
            tokio::select! {
                Some(event) = inputs.events.recv() => {
                    if let StreamEvent::Live { connection } = event {
                        live = connection;
                        if connection == 1 {
                            // The trader focuses S35 while the first connection is live.
                            focus.send_replace(Some(s35.clone()));
                        }
                    }
                    feed.on_stream_event(event);
                }
                Some(b) = inputs.backfilled.recv() => feed.on_backfill(b).unwrap(),
            }
            if let Some(MarketEvent::Step { quotes, .. }) = feed.take_step(feed.now()) {
                published.extend(quotes.iter().filter(|q| q.symbol == s35).map(|q| q.price));
            }
        }
    };
    // A guard against a hang, not a timing assertion.
    let finished = tokio::time::timeout(Duration::from_secs(20), drive).await;
    cancel.cancel();
    assert!(
        finished.is_ok(),
        "S35 never reached 102.5: published {published:?}, messages {:?}",
        ws.received.lock().unwrap()
    );
    assert_eq!(live, 2, "reconnected once");
    assert_eq!(ws.connections.load(Ordering::SeqCst), 2);
    assert_eq!(published, vec![101.25, 102.5], "S35's trades, in order");

    let first = ws.received_on(1);
    assert_eq!(
        first[1],
        json!({"action":"subscribe","bars":names(1..=35),"trades":names(1..=30)}),
        "unfocused: the first 30 symbols' trades"
    );
    assert_eq!(
        first[2..],
        [
            json!({"action":"unsubscribe","bars":[],"trades":["S30"]}),
            json!({"action":"subscribe","bars":[],"trades":["S35"]}),
        ],
        "the focus change on the live connection, the slot freed first"
    );
    let mut focused = names(1..=29);
    focused.push("S35".into());
    let second = ws.received_on(2);
    assert_eq!(
        second[1],
        json!({"action":"subscribe","bars":names(1..=35),"trades":focused}),
        "the reconnection subscribes the focused set"
    );
    assert_eq!(second.len(), 2, "nothing else on the new connection");

    let snapshot = feed.snapshot(feed.now());
    let last = |symbol: &Symbol| {
        snapshot
            .symbols
            .iter()
            .find(|s| &s.symbol == symbol)
            .and_then(|s| s.last.as_ref())
            .map(|q| (q.price, q.at))
    };
    assert_eq!(last(&s35), Some((102.5, ny(10, 30, 2))));
    assert_eq!(last(&s30), None, "S30's trades are no longer subscribed");
}
