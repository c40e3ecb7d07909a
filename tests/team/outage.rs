//! No evaluator transition is lost while the database is away (SPEC 14): a tracked long
//! whose entry is crossed during an outage is triggered, at the crossing, once the
//! database is back. The outage is made for this test only (its workers' own login role
//! is refused and its sessions cut), so it runs beside other PostgreSQL tests.

use crate::support;

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::config::Config;
use coach::domain::{Bar, Detection, Direction, SetupKind, Symbol};
use coach::market::calendar;
use coach::provider::sim::SimMarket;
use coach::runtime::services::{Feed, Services};
use coach::runtime::setup_changes::SetupChange;
use coach::setups::SetupStatus;
use coach::store::{StoredDetection, TrackResult};
use support::team::WorkerRole;

fn spy() -> Symbol {
    Symbol::parse("SPY").unwrap()
}

/// A long whose entry is above every regular bar before `after` and first reached by a
/// later bar (returned), with the stop below everything until then.
fn long_plan_crossed_after(
    bars: &[Bar],
    session: &calendar::Session,
    after: DateTime<Utc>,
) -> ((f64, f64, f64), Bar) {
    let regular: Vec<&Bar> = bars.iter().filter(|b| session.contains(b.start)).collect();
    let reference = regular.iter().position(|b| b.start >= after).unwrap();
    let entry = regular[..=reference]
        .iter()
        .map(|b| b.high)
        .fold(f64::MIN, f64::max)
        + 0.01;
    let crossing = reference
        + regular[reference..]
            .iter()
            .position(|b| b.high >= entry)
            .expect("the session trades above the entry later");
    let stop = regular[..=crossing]
        .iter()
        .map(|b| b.low)
        .fold(f64::MAX, f64::min)
        - 0.5;
    (
        (entry, stop, entry + 2.0 * (entry - stop)),
        *regular[crossing],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_during_a_database_outage_is_applied_when_it_returns() {
    let Some(t) = support::postgres().await else {
        return;
    };
    // The workers' own login, allowed into this test's schema only.
    let role = WorkerRole::create(&t).await;
    let workers_store = role.store().await;

    let mut config = Config::default();
    config.sim.speed = 60.0;
    // Wednesday 2026-11-25: the simulation replays that session from 09:25 ET.
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let user = t.store.ensure_user("ann", now).await.unwrap();
    let services = Services::start(&config, &workers_store, now, Feed::Sim);
    let snapshot = services.bus.snapshot().await.expect("the feed runs");
    let started = Instant::now();
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let bars = market.today.bars_until(&spy(), market.today.session.close);
    // Twenty simulated minutes (20 s here) before the plan can trigger.
    let after = snapshot.now.max(snapshot.session.open) + chrono::Duration::minutes(20);
    let ((entry, stop, target), crossing) =
        long_plan_crossed_after(&bars, &snapshot.session, after);
    let detection = Detection {
        symbol: spy(),
        kind: SetupKind::LevelTest,
        direction: Direction::Long,
        confidence: 60,
        entry,
        stop,
        target,
        detected_at: snapshot.now,
        bar_time: snapshot.now - chrono::Duration::minutes(1),
        market_date: date,
        dedup_key: "outage".into(),
        rationale: "test plan".into(),
        gex: None,
    };
    let (id, _) = t.store.insert_detection(&detection).await.unwrap();
    let row = match t
        .store
        .track(
            user,
            &StoredDetection { id, detection },
            false,
            snapshot.now,
        )
        .await
        .unwrap()
    {
        TrackResult::Tracked(row) => row,
        other => panic!("{other:?}"),
    };
    services
        .setup_changes
        .publish(SetupChange::written(user, row.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The outage: the workers' sessions are cut and no new one is allowed.
    role.cut().await;
    // Until the crossing bar (and a margin) has passed on the simulated clock.
    let crossing_real = Duration::from_secs_f64(
        ((crossing.start + chrono::Duration::minutes(1)) - snapshot.now).num_milliseconds() as f64
            / 1000.0
            / config.sim.speed,
    );
    let outage_end = crossing_real + Duration::from_secs(3);
    assert!(
        started.elapsed() + Duration::from_secs(1) < crossing_real,
        "the outage began after the crossing: the test proves nothing"
    );
    tokio::time::sleep(outage_end.saturating_sub(started.elapsed())).await;
    let during = t.store.setup(user, row.setup.id).await.unwrap().unwrap();
    assert_eq!(
        during.setup.status,
        SetupStatus::Active,
        "nothing could be written during the outage"
    );
    role.restore().await;

    let deadline = Instant::now() + Duration::from_secs(90);
    let triggered = loop {
        let now = t.store.setup(user, row.setup.id).await.unwrap().unwrap();
        if now.setup.status == SetupStatus::Triggered {
            break now;
        }
        assert!(Instant::now() < deadline, "never triggered: {now:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    services.shutdown();
    let at = triggered.setup.triggered_at.unwrap();
    assert!(
        at > crossing.start && at <= crossing.start + chrono::Duration::minutes(1),
        "triggered at {at}, inside the crossing bar from {}",
        crossing.start
    );
    workers_store.close().await;
    role.drop_role().await;
}
