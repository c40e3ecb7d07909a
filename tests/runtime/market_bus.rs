//! The market bus under a slow consumer (issue 25 items 4 and 6): a subscriber that does
//! not read holds at most one price per symbol and every final bar, in order; past its
//! bar limit it is told it lagged (and restarts from a snapshot) instead of growing.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use coach::domain::{Bar, Symbol};
use coach::provider::sim::SimMarket;
use coach::provider::{MarketEvent, Quote};
use coach::runtime::bus::MarketBus;
use coach::runtime::feed::Playable;
use tokio::sync::broadcast::error::RecvError;

/// 10:00 ET on Tuesday 2026-11-24 (15:00 UTC).
fn open() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn symbols(n: usize) -> Vec<Symbol> {
    (0..n)
        .map(|i| Symbol::parse(&format!("S{i:03}")).unwrap())
        .collect()
}

fn bar(minute: i64, close: f64) -> Bar {
    Bar {
        start: open() + Duration::minutes(minute),
        open: close - 0.5,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 1_000.0,
    }
}

fn quote(symbol: &Symbol, price: f64, ms: i64) -> Quote {
    Quote {
        symbol: symbol.clone(),
        price,
        at: open() + Duration::milliseconds(ms),
    }
}

fn step(ms: i64, quotes: Vec<Quote>, bars: Vec<(Symbol, Bar)>) -> MarketEvent {
    MarketEvent::Step {
        at: open() + Duration::milliseconds(ms),
        quotes,
        bars,
    }
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_holds_one_price_per_symbol_and_every_bar_in_order() {
    let (bus, _requests) = MarketBus::new(10_000);
    let mut slow = bus.subscribe();
    let universe = symbols(50);
    // 100,000 prices, one a step, and each symbol's 20 minute bars among them.
    let mut sent_bars = Vec::new();
    for i in 0..100_000_i64 {
        let symbol = &universe[(i % 50) as usize];
        let price = 100.0 + (i as f64) / 100.0;
        let mut bars = Vec::new();
        if i % 5_000 < 50 {
            let b = bar(i / 5_000, price);
            bars.push((symbol.clone(), b));
            sent_bars.push((symbol.clone(), b));
        }
        bus.publish(step(i, vec![quote(symbol, price, i)], bars));
        assert!(slow.pending_quotes() <= 50, "at most one price per symbol");
    }
    assert_eq!(sent_bars.len(), 1_000);
    assert_eq!(slow.pending_bars(), 1_000, "every bar held");

    let Ok(MarketEvent::Step { at, quotes, bars }) = slow.recv().await else {
        panic!("one merged step");
    };
    assert_eq!(
        at,
        open() + Duration::milliseconds(99_999),
        "the latest step's time"
    );
    assert_eq!(bars, sent_bars, "every bar, in publication order");
    assert_eq!(quotes.len(), 50);
    for q in &quotes {
        // Symbol k's last price was sent at i = 99,950 + k.
        let k: i64 = q.symbol.as_str()[1..].parse().unwrap();
        let last = 99_950 + k;
        assert_eq!(q.price, 100.0 + (last as f64) / 100.0, "{}", q.symbol);
        assert_eq!(q.at, open() + Duration::milliseconds(last));
    }
    assert_eq!((slow.pending_quotes(), slow.pending_bars()), (0, 0));
}

#[tokio::test]
async fn a_fast_subscriber_gets_every_step_as_published() {
    let (bus, _requests) = MarketBus::new(16);
    let mut fast = bus.subscribe();
    let spy = Symbol::parse("SPY").unwrap();
    for i in 0..100 {
        let price = 600.0 + f64::from(i);
        bus.publish(step(
            i64::from(i),
            vec![quote(&spy, price, i64::from(i))],
            vec![],
        ));
        let Ok(MarketEvent::Step { quotes, .. }) = fast.recv().await else {
            panic!("a step");
        };
        assert_eq!(quotes, vec![quote(&spy, price, i64::from(i))]);
    }
}

#[tokio::test]
async fn past_its_bar_limit_a_slow_subscriber_is_told_it_lagged_then_follows_again() {
    let (bus, _requests) = MarketBus::new(100);
    let mut slow = bus.subscribe();
    let mut fast = bus.subscribe();
    let spy = Symbol::parse("SPY").unwrap();
    for minute in 0..101 {
        bus.publish(step(
            minute * 60_000,
            vec![],
            vec![(spy.clone(), bar(minute, 600.0))],
        ));
        // The fast one keeps up and is never cut off.
        let Ok(MarketEvent::Step { bars, .. }) = fast.recv().await else {
            panic!("the fast subscriber's step");
        };
        assert_eq!(bars, vec![(spy.clone(), bar(minute, 600.0))]);
    }
    // The 101st unread bar: nothing kept, the lag said once.
    assert_eq!(slow.pending_bars(), 0);
    assert_eq!(slow.recv().await, Err(RecvError::Lagged(101)));
    bus.publish(step(0, vec![], vec![(spy.clone(), bar(101, 601.0))]));
    let Ok(MarketEvent::Step { bars, .. }) = slow.recv().await else {
        panic!("the step after the lag");
    };
    assert_eq!(bars, vec![(spy.clone(), bar(101, 601.0))]);
}

#[tokio::test]
async fn a_snapshot_is_never_merged_and_keeps_its_place_between_steps() {
    let (bus, _requests) = MarketBus::new(100);
    let mut slow = bus.subscribe();
    let spy = Symbol::parse("SPY").unwrap();
    let market = SimMarket::new(
        42,
        std::slice::from_ref(&spy),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    );
    let snapshot = Arc::new(market.snapshot(open()));
    bus.publish(step(1, vec![quote(&spy, 1.0, 1)], vec![]));
    bus.publish(step(2, vec![quote(&spy, 2.0, 2)], vec![]));
    bus.publish(MarketEvent::Snapshot(snapshot.clone()));
    bus.publish(step(3, vec![quote(&spy, 3.0, 3)], vec![]));
    let Ok(MarketEvent::Step { quotes, .. }) = slow.recv().await else {
        panic!("the steps before the snapshot");
    };
    assert_eq!(quotes, vec![quote(&spy, 2.0, 2)]);
    let Ok(MarketEvent::Snapshot(got)) = slow.recv().await else {
        panic!("the snapshot");
    };
    assert!(Arc::ptr_eq(&got, &snapshot), "shared, not copied");
    let Ok(MarketEvent::Step { quotes, .. }) = slow.recv().await else {
        panic!("the step after the snapshot");
    };
    assert_eq!(quotes, vec![quote(&spy, 3.0, 3)]);
}

#[tokio::test]
async fn a_subscriber_hears_the_bus_close_once_the_last_publisher_is_gone() {
    let (bus, _requests) = MarketBus::new(16);
    let mut rx = bus.subscribe();
    let other = bus.clone();
    let spy = Symbol::parse("SPY").unwrap();
    other.publish(step(1, vec![quote(&spy, 1.0, 1)], vec![]));
    drop(bus);
    // One clone is left: still open, and what was published is delivered first.
    assert!(matches!(rx.recv().await, Ok(MarketEvent::Step { .. })));
    drop(other);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[tokio::test]
async fn a_waiting_subscriber_wakes_for_a_price_published_from_another_task() {
    let (bus, _requests) = MarketBus::new(16);
    let mut rx = bus.subscribe();
    let spy = Symbol::parse("SPY").unwrap();
    let publisher = {
        let (bus, spy) = (bus.clone(), spy.clone());
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            bus.publish(step(7, vec![quote(&spy, 7.0, 7)], vec![]));
        })
    };
    let Ok(MarketEvent::Step { quotes, .. }) = rx.recv().await else {
        panic!("woken with the step");
    };
    assert_eq!(quotes, vec![quote(&spy, 7.0, 7)]);
    publisher.await.unwrap();
}
