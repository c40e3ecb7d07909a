//! Issue 22 item 5: a running dashboard on SQLite evaluates the setups another process
//! (`coach setups`, a second dashboard, a server) tracks on the same database, without a
//! restart. Two pools on one file stand for the two processes: the dashboard's workers
//! and its fingerprint poller on one, the tracking on the other, with nothing published
//! in the dashboard's process.

use crate::evaluator_worker::{config, long_plan_crossed_after, spy, track, transition_of};
use crate::support;

use chrono::{NaiveDate, TimeZone, Utc};
use coach::provider::sim::SimMarket;
use coach::runtime::services::{Feed, Services};
use coach::setups::{SetupStatus, TransitionReason};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_tracked_by_another_process_is_triggered_by_the_dashboards_feed() {
    let t = support::sqlite().await;
    let other = t.reopen().await;
    let config = config(600.0);
    // Wednesday 2026-11-25: the simulation replays that session from 09:25 ET.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    tokio::spawn(coach::runtime::poll_changes::run(
        t.store.clone(),
        user,
        services.events_tx.clone(),
        services.setup_changes.clone(),
        services.cancel.clone(),
    ));
    let snapshot = services.bus.snapshot().await.expect("the feed runs");
    assert_eq!(snapshot.session.date, date);

    // The same seed and date give the same market: a plan on the bars still to come,
    // crossed after thirty simulated minutes (three real seconds, about three polls).
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let bars = market.today.bars_until(&spy(), market.today.session.close);
    let after = snapshot.now.max(snapshot.session.open) + chrono::Duration::minutes(30);
    let (plan, crossing) = long_plan_crossed_after(&bars, &snapshot.session, after);
    // Tracked by the other process: its own pool, no in-process change.
    let row = track(&other, user, plan, date, "elsewhere", false, snapshot.now).await;

    let (triggered, transition) =
        transition_of(&mut services, row.setup.id, TransitionReason::EntryCrossed).await;
    services.shutdown();
    assert_eq!(triggered.setup.status, SetupStatus::Triggered);
    // Booked inside the bar that first reaches the entry, live or caught up from
    // `armed_at` if the poll came after it.
    let at = transition.at;
    assert!(
        at > crossing.start && at <= crossing.start + chrono::Duration::minutes(1),
        "triggered at {at}, the crossing bar starts {}",
        crossing.start
    );
    let events = other.setup_events(user, row.setup.id).await.unwrap();
    let journal: Vec<(&str, &str)> = (events.iter().take(2))
        .map(|e| (e.reason.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        journal,
        [("tracked", "trader"), ("entry_crossed", "evaluator")]
    );
}
