//! The evaluator worker on the running simulation: a tracked setup is triggered by the
//! live feed and its journal is stored; active single-day setups expire at the close of
//! an early-close day (13:00 ET); a restart catches up on what happened while no
//! evaluator ran.

use crate::support;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::config::Config;
use coach::domain::{Bar, Detection, Direction, SetupKind, Symbol};
use coach::market::calendar;
use coach::provider::sim::SimMarket;
use coach::runtime::AppEvent;
use coach::runtime::services::{Feed, Services};
use coach::runtime::setup_changes::SetupChange;
use coach::setups::{Outcome, SetupStatus, Transition, TransitionReason};
use coach::store::{SetupRow, Store, StoredDetection, TrackResult, UserId};

pub(crate) fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

pub(crate) fn config(speed: f64) -> Config {
    let mut config = Config::default();
    config.sim.speed = speed;
    config
}

pub(crate) async fn track(
    store: &Store,
    user: UserId,
    plan: (Direction, f64, f64, f64),
    date: NaiveDate,
    key: &str,
    multi_day: bool,
    at: DateTime<Utc>,
) -> SetupRow {
    let (direction, entry, stop, target) = plan;
    let detection = Detection {
        symbol: spy(),
        kind: SetupKind::LevelTest,
        direction,
        confidence: 60,
        entry,
        stop,
        target,
        detected_at: at,
        bar_time: at - chrono::Duration::minutes(1),
        market_date: date,
        dedup_key: key.into(),
        rationale: "test plan".into(),
        gex: None,
    };
    let (id, _) = store.insert_detection(&detection).await.unwrap();
    match store
        .track(user, &StoredDetection { id, detection }, multi_day, at)
        .await
        .unwrap()
    {
        TrackResult::Tracked(row) => row,
        other => panic!("expected a new setup: {other:?}"),
    }
}

/// Waits for the evaluator's next transition of setup `id` with `reason`.
pub(crate) async fn transition_of(
    services: &mut Services,
    id: i64,
    reason: TransitionReason,
) -> (SetupRow, Transition) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(90), services.events.recv())
            .await
            .unwrap_or_else(|_| panic!("no {reason} transition of setup {id} within 90 s"))
            .expect("events channel open");
        if let AppEvent::SetupChanged {
            row,
            transition: Some(t),
            ..
        } = event
            && t.setup_id == id
            && t.reason == reason
        {
            return (row, t);
        }
    }
}

/// A long plan on `bars` whose entry sits just above every regular bar up to the first
/// one starting at or after `after`, and whose stop is below every bar until price first
/// reaches the entry. Returns the plan and the bar that reaches the entry.
pub(crate) fn long_plan_crossed_after(
    bars: &[Bar],
    session: &calendar::Session,
    after: DateTime<Utc>,
) -> ((Direction, f64, f64, f64), Bar) {
    let regular: Vec<&Bar> = bars.iter().filter(|b| session.contains(b.start)).collect();
    let reference = regular
        .iter()
        .position(|b| b.start >= after)
        .expect("regular bars after the start");
    let entry = regular[..=reference]
        .iter()
        .map(|b| b.high)
        .fold(f64::MIN, f64::max)
        + 0.01;
    let crossing = reference
        + regular[reference..]
            .iter()
            .position(|b| b.high >= entry)
            .expect("the simulated session trades above the plan's entry later");
    let stop = regular[..=crossing]
        .iter()
        .map(|b| b.low)
        .fold(f64::MAX, f64::min)
        - 0.5;
    let target = entry + 2.0 * (entry - stop);
    ((Direction::Long, entry, stop, target), *regular[crossing])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracked_long_is_triggered_by_the_live_feed_and_its_journal_is_stored() {
    for t in support::stores().await {
        triggered_by_the_live_feed_on(&t).await;
    }
}

async fn triggered_by_the_live_feed_on(t: &support::TestStore) {
    let config = config(600.0);
    // Wednesday 2026-11-25: the simulation replays that session from 09:25 ET.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let snapshot = services.bus.snapshot().await.expect("the feed runs");
    assert_eq!(snapshot.session.date, date);

    // The same seed and date give the same market: plan on the bars still to come.
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let bars = market.today.bars_until(&spy(), market.today.session.close);
    // Ten simulated minutes (a real second) of margin for the tracking to reach the
    // evaluator before the plan can trigger.
    let after = snapshot.now.max(snapshot.session.open) + chrono::Duration::minutes(10);
    let (plan, crossing) = long_plan_crossed_after(&bars, &snapshot.session, after);
    let row = track(&t.store, user, plan, date, "live", false, snapshot.now).await;
    services
        .setup_changes
        .publish(SetupChange::written(user, row.clone()));

    let (triggered, transition) =
        transition_of(&mut services, row.setup.id, TransitionReason::EntryCrossed).await;
    services.shutdown();
    assert_eq!(triggered.setup.status, SetupStatus::Triggered);
    assert_eq!(triggered.setup.outcome, Some(Outcome::Open));
    // Triggered inside the bar that first reaches the entry: by one of its 15-second
    // prices, or by the bar itself at its end.
    let at = transition.at;
    assert!(
        at > crossing.start && at <= crossing.start + chrono::Duration::minutes(1),
        "triggered at {at}, the crossing bar starts {}",
        crossing.start
    );
    let price = transition
        .price
        .expect("a price-driven transition has a price");
    assert!(
        price >= plan.1 && price <= crossing.high,
        "fill {price} between entry {} and the bar high {}",
        plan.1,
        crossing.high
    );
    let stored = t.store.setup(user, row.setup.id).await.unwrap().unwrap();
    assert_eq!(stored.setup.triggered_at, Some(at));
    let events = t.store.setup_events(user, row.setup.id).await.unwrap();
    let journal: Vec<(&str, &str)> = events
        .iter()
        .take(2)
        .map(|e| (e.reason.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        journal,
        [("tracked", "trader"), ("entry_crossed", "evaluator")]
    );
    assert_eq!(events[1].at, at);
    assert_eq!(events[1].price, Some(price));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_setup_expires_at_13_00_et_on_an_early_close_day() {
    let t = support::sqlite().await;
    let config = config(3600.0);
    // Friday 2026-11-27, the day after Thanksgiving: the session closes at 13:00 ET.
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 20, 0, 0).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let close = Utc.with_ymd_and_hms(2026, 11, 27, 18, 0, 0).unwrap();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let snapshot = services.bus.snapshot().await.expect("the feed runs");
    assert_eq!(snapshot.session.close, close, "13:00 EST is 18:00 UTC");
    let last = snapshot
        .symbols
        .iter()
        .find(|s| s.symbol == spy())
        .and_then(|s| s.last.as_ref())
        .expect("SPY has a price")
        .price;
    // Levels 20 % away: nothing but the close can end these.
    let far = (Direction::Long, last * 1.2, last * 0.8, last * 1.6);
    let single = track(&t.store, user, far, date, "single", false, snapshot.now).await;
    let multi = track(&t.store, user, far, date, "multi", true, snapshot.now).await;
    for row in [&single, &multi] {
        services
            .setup_changes
            .publish(SetupChange::written(user, row.clone()));
    }

    let (expired, transition) =
        transition_of(&mut services, single.setup.id, TransitionReason::Expired).await;
    services.shutdown();
    assert_eq!(transition.at, close);
    assert_eq!(transition.price, None);
    assert_eq!(expired.setup.status, SetupStatus::Invalidated);
    assert_eq!(expired.setup.invalidated_at, Some(close));
    let events = t.store.setup_events(user, single.setup.id).await.unwrap();
    let journal: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.reason.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(journal, [("tracked", "trader"), ("expired", "evaluator")]);
    assert_eq!(events[1].at, close);
    let still = t.store.setup(user, multi.setup.id).await.unwrap().unwrap();
    assert_eq!(
        still.setup.status,
        SetupStatus::Active,
        "a multi-day setup stays armed over the close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_catches_up_on_the_previous_session() {
    let t = support::sqlite().await;
    let config = config(60.0);
    // The simulation replays Wednesday 2026-11-25; its previous session is Tuesday's.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let tuesday = market.previous.session;
    let bars = market.previous.bars_until(&spy(), tuesday.close);
    let armed = tuesday.open + chrono::Duration::minutes(30);
    let (plan, crossing) = long_plan_crossed_after(&bars, &tuesday, armed);
    let user = t.store.ensure_user("local", now).await.unwrap();
    // Tracked on Tuesday while no evaluator ran (the process was killed, say).
    let crossed = track(&t.store, user, plan, tuesday.date, "crossed", false, armed).await;
    let last = bars.last().unwrap().close;
    let far = (Direction::Short, last * 0.8, last * 1.2, last * 0.6);
    let forgotten = track(&t.store, user, far, tuesday.date, "far", false, armed).await;

    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let (_, trigger) = transition_of(
        &mut services,
        crossed.setup.id,
        TransitionReason::EntryCrossed,
    )
    .await;
    assert_eq!(
        trigger.at,
        crossing.start + chrono::Duration::minutes(1),
        "dated at the end of Tuesday's bar that crossed the entry"
    );
    assert_eq!(trigger.price, Some(plan.1));
    let (_, expiry) =
        transition_of(&mut services, forgotten.setup.id, TransitionReason::Expired).await;
    services.shutdown();
    assert_eq!(expiry.at, tuesday.close, "expired at Tuesday's close");
    let events = t
        .store
        .setup_events(user, forgotten.setup.id)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "expired exactly once");
}
