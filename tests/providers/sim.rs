//! The simulated feed on the bus: a snapshot on request, then steps in time order with
//! final bars once their minute has passed.

use std::time::Duration;

use chrono::NaiveDate;
use coach::domain::Symbol;
use coach::provider::MarketEvent;
use coach::provider::sim::SimMarket;
use coach::runtime::bus::MarketBus;
use coach::runtime::feed::run_played_feed;
use coach::runtime::health::Health;
use coach::runtime::supervisor;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_late_subscriber_gets_a_snapshot_then_steps_in_order() {
    let (bus, requests) = MarketBus::new(4096);
    let symbols: Vec<Symbol> = ["SPX", "SPY"]
        .iter()
        .map(|s| Symbol::parse(s).unwrap())
        .collect();
    let market = SimMarket::new(3, &symbols, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    let cancel = CancellationToken::new();
    let feed_bus = bus.clone();
    supervisor::spawn(
        "feed",
        Duration::from_secs(1),
        Health::default(),
        cancel.clone(),
        move |ctx| {
            run_played_feed(
                ctx,
                market.clone(),
                1800.0,
                feed_bus.clone(),
                requests.clone(),
            )
        },
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut events = bus.subscribe();
    let snapshot = bus.snapshot().await.expect("the feed answers");
    assert_eq!(
        snapshot.session.date,
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    );
    let spy = &snapshot.symbols[1];
    assert_eq!(spy.symbol.as_str(), "SPY");
    assert!(spy.prior_close.is_some());
    assert_eq!(
        spy.daily.last().map(|d| d.date),
        NaiveDate::from_ymd_opt(2026, 11, 23)
    );
    assert!(
        !spy.bars.load().is_empty(),
        "pre-market bars exist before the open"
    );
    assert!(
        snapshot.symbols[0]
            .bars
            .load()
            .iter()
            .all(|b| b.start >= snapshot.session.open)
    );

    let mut last = snapshot.now;
    let mut bars_seen = 0;
    while bars_seen < 20 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("steps keep coming")
            .expect("no lag");
        if let MarketEvent::Step { at, quotes, bars } = event {
            // Steps published between subscribing and the snapshot are already in it.
            if at <= snapshot.now {
                continue;
            }
            assert!(at > last, "steps are in time order");
            assert!(!quotes.is_empty());
            // A bar is final at its minute's end; the bus merges the steps a subscriber
            // has not read yet into the latest one, so under load that end may lie
            // between the previous step read and this one.
            for (_, bar) in &bars {
                let end = bar.start + chrono::Duration::minutes(1);
                assert!(
                    end > last && end <= at && end.timestamp() % 60 == 0,
                    "the bar of {} is final at its minute's end, after {last} and by {at}",
                    bar.start
                );
            }
            bars_seen += bars.len();
            last = at;
        }
    }
    cancel.cancel();
}
