//! Price alerts (SPEC 17) end to end: stored the same on SQLite and PostgreSQL, recorded
//! as fired exactly once, re-armed, surviving a restart; evaluated on the live feed for a
//! symbol that is not on the watchlist; a level crossed while nobody watched fires at the
//! next start.

use crate::fake_discord;
use crate::support;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use coach::alerts::{AlertStatus, Condition, Firing, PriceAlert};
use coach::config::Config;
use coach::domain::Symbol;
use coach::provider::sim::SimMarket;
use coach::runtime::AppEvent;
use coach::runtime::services::{Feed, Services};
use coach::store::{NewAlert, StoreError};

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

/// 2026-11-24 (EST): 15:00 UTC is 10:00 New York.
fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn above(symbol: &str, level: f64, repeat: bool) -> NewAlert {
    NewAlert {
        symbol: sym(symbol),
        condition: Condition::CrossesAbove(level),
        note: "call wall".into(),
        repeat,
        reference: Some(level - 1.0),
    }
}

fn firing(alert: &PriceAlert, price: f64, when: DateTime<Utc>) -> Firing {
    Firing {
        id: alert.id,
        symbol: alert.symbol.clone(),
        condition: alert.condition,
        price,
        rel_volume: None,
        at: when,
        rearmed: alert.repeat,
        reference: alert.reference,
    }
}

#[tokio::test]
async fn an_alert_is_recorded_as_fired_exactly_once_and_survives_a_restart() {
    for t in support::stores().await {
        let store = &t.store;
        let user = store.ensure_user("ann", at(14, 0)).await.unwrap();
        let other = store.ensure_user("bob", at(14, 0)).await.unwrap();
        let once = store
            .add_alert(user, &above("SPY", 683.0, false), at(14, 1))
            .await
            .unwrap();
        let again = store
            .add_alert(user, &above("QQQ", 610.0, true), at(14, 2))
            .await
            .unwrap();
        assert_eq!(once.status, AlertStatus::Armed, "{}", t.name);
        assert_eq!(once.reference, Some(682.0));

        // The first evaluator to record a firing wins; the same firing again is refused.
        let f = firing(&once, 683.4, at(15, 3));
        let fired = store.fire_alert(user, &f).await.unwrap().expect("recorded");
        assert_eq!(fired.status, AlertStatus::Fired, "{}", t.name);
        assert_eq!(
            (fired.fired_at, fired.fired_price),
            (Some(at(15, 3)), Some(683.4))
        );
        assert_eq!(
            store.fire_alert(user, &f).await.unwrap(),
            None,
            "{}: twice",
            t.name
        );
        assert_eq!(
            store
                .fire_alert(other, &firing(&again, 611.0, at(15, 4)))
                .await
                .unwrap(),
            None,
            "{}: another user's alert is not theirs to fire",
            t.name
        );

        // A repeating alert stays armed: a later firing is recorded, the same instant not.
        let r1 = store
            .fire_alert(user, &firing(&again, 610.2, at(15, 4)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r1.status, AlertStatus::Armed, "{}", t.name);
        assert_eq!(
            store
                .fire_alert(user, &firing(&again, 610.2, at(15, 4)))
                .await
                .unwrap(),
            None
        );
        let r2 = store
            .fire_alert(user, &firing(&again, 610.1, at(15, 9)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r2.fired_at, Some(at(15, 9)));

        // A restart (a new pool on the same database) sees the same alerts and states.
        let reopened = t.reopen().await;
        let listed = reopened.alerts(user).await.unwrap();
        let states: Vec<(i64, AlertStatus)> = listed.iter().map(|a| (a.id, a.status)).collect();
        assert_eq!(
            states,
            [
                (again.id, AlertStatus::Armed),
                (once.id, AlertStatus::Fired)
            ],
            "{}",
            t.name
        );
        let armed = reopened.armed_alerts().await.unwrap();
        assert_eq!(armed.len(), 1);
        assert_eq!(armed[0].0, user);
        assert_eq!(reopened.alert_symbols(user).await.unwrap(), [sym("QQQ")]);
        assert!(
            reopened.alerts(other).await.unwrap().is_empty(),
            "{}: per user",
            t.name
        );

        reopened.remove_alert(user, again.id).await.unwrap();
        assert!(matches!(
            reopened.remove_alert(user, again.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            matches!(
                reopened.remove_alert(other, once.id).await,
                Err(StoreError::NotFound(_))
            ),
            "{}: bob cannot remove ann's alert",
            t.name
        );
    }
}

#[tokio::test]
async fn bad_alerts_are_refused_and_nothing_is_stored() {
    for t in support::stores().await {
        let store = &t.store;
        let user = store.ensure_user("ann", at(14, 0)).await.unwrap();
        let mut no_reference = above("SPY", 1.0, false);
        no_reference.condition = Condition::MovesPercent(2.0);
        no_reference.reference = None;
        let mut nan = above("SPY", 1.0, false);
        nan.condition = Condition::CrossesAbove(f64::NAN);
        let mut long_note = above("SPY", 500.0, false);
        long_note.note = "x".repeat(201);
        for bad in [no_reference, nan, long_note] {
            let e = store.add_alert(user, &bad, at(14, 1)).await.unwrap_err();
            assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", t.name);
        }
        assert!(store.alerts(user).await.unwrap().is_empty(), "{}", t.name);
    }
}

/// Waits for the firing of alert `id`.
async fn fired(services: &mut Services, id: i64) -> (PriceAlert, String) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(90), services.events.recv())
            .await
            .unwrap_or_else(|_| panic!("alert {id} did not fire within 90 s"))
            .expect("events channel open");
        if let AppEvent::AlertFired { alert, text, .. } = event
            && alert.id == id
        {
            return (alert, text);
        }
    }
}

/// The simulation at 600× (a 39-second session) started after the close of Wednesday
/// 2026-11-25, so it replays that session from 09:25 ET: the config, now, the date.
fn replay_of_2026_11_25() -> (Config, DateTime<Utc>, NaiveDate) {
    let mut config = Config::default();
    config.sim.speed = 600.0;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    (config, now, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_on_a_symbol_off_the_watchlist_gets_prices_and_fires_on_the_crossing() {
    let t = support::sqlite().await;
    let (mut config, now, date) = replay_of_2026_11_25();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let watchlist = t.store.default_watchlist(user, now).await.unwrap();
    let nflx = sym("NFLX");
    // NFLX is simulated (in `[sim] symbols`, the simulation's universe) but not watched.
    config.sim.symbols.push(nflx.clone());
    assert!(!watchlist.symbols.contains(&nflx));

    // The level: above every NFLX price of the first 20 simulated minutes after the open,
    // and reached later (the same seed and date give the same market).
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let session = market.today.session;
    let bars = market.today.bars_until(&nflx, session.close);
    let regular: Vec<_> = bars.iter().filter(|b| session.contains(b.start)).collect();
    let early = session.open + chrono::Duration::minutes(20);
    let level = regular
        .iter()
        .take_while(|b| b.start < early)
        .map(|b| b.high)
        .fold(f64::MIN, f64::max)
        + 0.01;
    let crossing = regular
        .iter()
        .find(|b| b.start >= early && b.high >= level)
        .expect("NFLX trades above its early high later in the session");
    let alert = t
        .store
        .add_alert(
            user,
            &NewAlert {
                symbol: nflx.clone(),
                condition: Condition::CrossesAbove(level),
                note: String::new(),
                repeat: false,
                reference: Some(regular[0].open),
            },
            now,
        )
        .await
        .unwrap();

    // What the dashboard does at start: the feed quotes the watchlist and alert symbols,
    // all of them in the simulation's universe here, so none is flagged.
    let alert_symbols = t.store.alert_symbols(user).await.unwrap();
    let unsimulated = coach::cli::dashboard::extend_feed(
        &mut config,
        watchlist.symbols.iter().chain(&alert_symbols),
    );
    assert_eq!(unsimulated, Vec::<Symbol>::new());
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let (stored, text) = fired(&mut services, alert.id).await;
    services.shutdown();
    assert_eq!(stored.status, AlertStatus::Fired);
    let price = stored.fired_price.expect("a firing price");
    assert!(
        price >= level && price <= crossing.high,
        "fired at {price}, level {level}"
    );
    let when = stored.fired_at.expect("a firing instant");
    assert!(
        when > crossing.start && when <= crossing.start + chrono::Duration::minutes(1),
        "fired at {when}, the crossing bar starts {}",
        crossing.start
    );
    assert!(text.contains("NFLX crosses above"), "{text}");
    let row = t.store.alert(user, alert.id).await.unwrap().unwrap();
    assert_eq!(
        row.status,
        AlertStatus::Fired,
        "recorded once, not armed any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_crossed_while_nobody_watched_fires_once_at_the_next_start_and_reaches_discord() {
    let t = support::sqlite().await;
    let fake = fake_discord::FakeDiscord::start().await;
    let mut config = Config::default();
    config.sim.speed = 60.0;
    config.discord.webhook_url = coach::config::Secret::new(fake.url.clone());
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 21, 0, 0).unwrap();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let spy = sym("SPY");
    // Set while SPY was far below (the reference); SPY now trades far above the level.
    let alert = t
        .store
        .add_alert(
            user,
            &NewAlert {
                symbol: spy,
                condition: Condition::CrossesAbove(10.0),
                note: "set last week".into(),
                repeat: false,
                reference: Some(9.0),
            },
            now,
        )
        .await
        .unwrap();
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let (stored, text) = fired(&mut services, alert.id).await;
    assert_eq!(stored.status, AlertStatus::Fired);
    assert!(text.ends_with("set last week"), "{text}");
    let posted = fake.wait_for(1, Duration::from_secs(30)).await;
    services.shutdown();
    let alert_posts: Vec<_> = posted
        .iter()
        .filter(|p| p.title().contains("price alert"))
        .collect();
    assert_eq!(alert_posts.len(), 1, "{posted:#?}");
    assert_eq!(alert_posts[0].title(), "🔔 SPY · price alert");
    assert_eq!(
        alert_posts[0].body["embeds"][0]["description"],
        text.as_str()
    );
}

/// `coach alerts add` in another terminal while the dashboard runs: the alert is written
/// to the store only, no in-process change announces it. The running evaluator picks it up
/// (the screen is sent the trader's alerts) and fires it on the crossing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_added_from_another_terminal_fires_in_the_running_dashboard() {
    let t = support::sqlite().await;
    let (config, now, date) = replay_of_2026_11_25();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let spy = sym("SPY");
    assert!(config.sim.symbols.contains(&spy), "the feed quotes SPY");

    // The level: above every SPY price of the first two hours (12 s at this speed, more
    // than the evaluator's 5-second resync), and reached later.
    let market = SimMarket::new(config.sim.seed, &config.sim.symbols, date);
    let session = market.today.session;
    let bars = market.today.bars_until(&spy, session.close);
    let early = session.open + chrono::Duration::minutes(120);
    let level = bars
        .iter()
        .take_while(|b| b.start < early)
        .map(|b| b.high)
        .fold(f64::MIN, f64::max)
        + 0.01;
    assert!(
        bars.iter().any(|b| b.start >= early && b.high >= level),
        "SPY trades above its first two hours' high later in the session"
    );

    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    // The workers are running once the detector has sent levels; a second more (ten
    // simulated minutes) and the evaluator has surely loaded the store's alerts.
    let mut running: Option<tokio::time::Instant> = None;
    while running.is_none_or(|since| since.elapsed() < Duration::from_secs(1)) {
        let event = tokio::time::timeout(Duration::from_secs(60), services.events.recv())
            .await
            .expect("the simulation runs")
            .expect("events channel open");
        if matches!(event, AppEvent::Levels { .. }) && running.is_none() {
            running = Some(tokio::time::Instant::now());
        }
    }
    let alert = t
        .store
        .add_alert(
            user,
            &NewAlert {
                symbol: spy.clone(),
                condition: Condition::CrossesAbove(level),
                note: "from the CLI".into(),
                repeat: false,
                reference: Some(bars[0].open),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let mut told = false;
    // The session lasts 39 s at this speed; the feed goes on sending after the close.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let fired = loop {
        let event = tokio::time::timeout_at(deadline, services.events.recv())
            .await
            .expect("the alert fires within the simulated session")
            .expect("events channel open");
        match event {
            AppEvent::AlertsChanged {
                user: owner,
                alerts,
            } => {
                assert_eq!(owner, user);
                assert!(alerts.iter().any(|a| a.id == alert.id), "{alerts:?}");
                told = true;
            }
            AppEvent::AlertFired { alert: a, .. } if a.id == alert.id => break a,
            _ => {}
        }
    };
    services.shutdown();
    assert!(told, "the screen was sent the alert before it fired");
    assert_eq!(fired.status, AlertStatus::Fired);
    assert!(fired.fired_price.is_some_and(|p| p >= level));
}

/// The gamma conditions of SPEC 20 are stored and read back on both databases (no value
/// for flip_cross and regime_change, the percent for wall_break) and recorded as fired
/// exactly once like price alerts.
#[tokio::test]
async fn gamma_alerts_are_stored_and_fired_exactly_once_on_both_databases() {
    for t in support::stores().await {
        let store = &t.store;
        let user = store.ensure_user("ann", at(14, 0)).await.unwrap();
        let mut stored = Vec::new();
        for (condition, repeat) in [
            (Condition::FlipCross, false),
            (Condition::WallBreak(0.1), false),
            (Condition::RegimeChange, true),
        ] {
            let alert = NewAlert {
                symbol: sym("SPX"),
                condition,
                note: String::new(),
                repeat,
                reference: Some(6832.54),
            };
            stored.push(store.add_alert(user, &alert, at(14, 1)).await.unwrap());
        }
        let read: Vec<Condition> = store
            .alerts(user)
            .await
            .unwrap()
            .iter()
            .rev()
            .map(|a| a.condition)
            .collect();
        assert_eq!(
            read,
            [
                Condition::FlipCross,
                Condition::WallBreak(0.1),
                Condition::RegimeChange
            ],
            "{}",
            t.name
        );
        for alert in &stored {
            let f = firing(alert, 6858.10, at(15, 5));
            let fired = store.fire_alert(user, &f).await.unwrap();
            assert!(fired.is_some(), "{}: {}", t.name, alert.condition);
            assert_eq!(
                store.fire_alert(user, &f).await.unwrap(),
                None,
                "{}: {} twice",
                t.name,
                alert.condition
            );
        }
        let armed = store.armed_alerts().await.unwrap();
        assert_eq!(
            armed.len(),
            1,
            "{}: only the repeating regime alert",
            t.name
        );
        assert_eq!(armed[0].1.condition, Condition::RegimeChange);
    }
}

/// The evaluator judges the GEX refresher's profiles: of two flip-cross alerts on SPX set
/// at prices on either side of any flip (1 and 1,000,000), the one on the other side of
/// the live price from its reference fires at the first refresh, recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flip_cross_alert_fires_from_the_live_gex_refresher() {
    let t = support::sqlite().await;
    let (config, now, _) = replay_of_2026_11_25();
    let user = t.store.ensure_user("local", now).await.unwrap();
    let mut ids = Vec::new();
    for reference in [1.0, 1_000_000.0] {
        let alert = NewAlert {
            symbol: sym("SPX"),
            condition: Condition::FlipCross,
            note: "flip".into(),
            repeat: false,
            reference: Some(reference),
        };
        ids.push(t.store.add_alert(user, &alert, now).await.unwrap().id);
    }
    let mut services = Services::start(&config, &t.store, now, Feed::Sim);
    let (stored, text) = loop {
        let event = tokio::time::timeout(Duration::from_secs(90), services.events.recv())
            .await
            .expect("a flip-cross alert fires within 90 s")
            .expect("events channel open");
        if let AppEvent::AlertFired { alert, text, .. } = event
            && ids.contains(&alert.id)
        {
            break (alert, text);
        }
    };
    services.shutdown();
    assert_eq!(stored.condition, Condition::FlipCross);
    assert!(text.contains("SPX crosses zero gamma"), "{text}");
    let row = t.store.alert(user, stored.id).await.unwrap().unwrap();
    assert_eq!(row.status, AlertStatus::Fired, "recorded once, done");
}
