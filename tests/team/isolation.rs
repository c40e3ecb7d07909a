//! Per-user isolation (SPEC 14) beyond the store API (tests/store.rs, setups_store.rs):
//! through the screen's actions (every key that writes goes through the action runner),
//! the CLI, and change notifications. Ann and Bob share a database; Bob, knowing or
//! guessing Ann's ids, can neither read nor change her setups or watchlist.

use crate::support;

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use coach::alerts::{AlertStatus, Condition, Firing, PriceAlert};
use coach::domain::Symbol;
use coach::runtime::AppEvent;
use coach::runtime::bus::MarketBus;
use coach::runtime::gex::GexChannels;
use coach::runtime::health::Health;
use coach::runtime::setup_changes::SetupChanges;
use coach::runtime::supervisor;
use coach::setups::ManualAction;
use coach::store::{NewAlert, Store, UserId};
use coach::tui::actions::{ActionContext, ActionRunner};
use coach::tui::app::Effect;
use support::team::track;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Bob's screen's action runner, and the events it reports.
fn bobs_screen(store: &Store, bob: UserId) -> (ActionRunner, mpsc::Receiver<AppEvent>) {
    let (events_tx, events) = mpsc::channel(64);
    let (bus, requests) = MarketBus::new(16);
    drop(requests);
    let runner = ActionRunner::spawn(ActionContext {
        store: store.clone(),
        user: bob,
        bus,
        events: events_tx,
        gex: GexChannels::new().requests.clone(),
        brief: coach::runtime::brief::BriefChannels::new().requests.clone(),
        changes: SetupChanges::default(),
        alert_changes: coach::runtime::alert_changes::AlertChanges::default(),
        coach: None,
        patience: coach::tui::actions::GIVE_UP,
    });
    (runner, events)
}

#[tokio::test]
async fn keys_on_another_traders_setup_ids_change_nothing() {
    for t in support::stores().await {
        let s = &t.store;
        let now = Utc::now();
        let ann = s.ensure_user("ann", now).await.unwrap();
        let bob = s.ensure_user("bob", now).await.unwrap();
        let (_, anns) = track(s, ann, "SPY").await;
        let id = anns.setup.id;
        let (runner, mut events) = bobs_screen(s, bob);
        for effect in [
            Effect::Manual {
                id,
                action: ManualAction::Archive,
                at: now,
            },
            Effect::SaveNote {
                id,
                text: "bob was here".into(),
                at: now,
            },
            Effect::Delete { id },
            Effect::LoadHistory { id },
        ] {
            let what = format!("{effect:?}");
            runner.submit(effect).await;
            let event = events.recv().await.unwrap();
            match event {
                AppEvent::ActionFailed(reason) => {
                    assert!(reason.contains(&id.to_string()), "{}: {reason}", t.name)
                }
                // History of a setup Bob cannot see is empty, never Ann's journal.
                AppEvent::History { events, .. } => {
                    assert!(events.is_empty(), "{}: {what} read {events:?}", t.name)
                }
                other => panic!("{}: {what} gave {other:?}", t.name),
            }
        }
        assert_eq!(
            s.setup(ann, id).await.unwrap().as_ref(),
            Some(&anns),
            "{}: Ann's setup is untouched",
            t.name
        );
        // Bob's watchlist key saves Bob's list only.
        let anns_list = s.default_watchlist(ann, now).await.unwrap();
        runner
            .submit(Effect::SaveWatchlist(vec![Symbol::parse("TSLA").unwrap()]))
            .await;
        assert!(matches!(
            events.recv().await.unwrap(),
            AppEvent::WatchlistSaved { .. }
        ));
        assert_eq!(s.default_watchlist(ann, now).await.unwrap(), anns_list);
    }
}

fn coach(url: &str, user: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["--db", url, "--user", user])
        .args(args)
        .env_remove("COACH_CONFIG")
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run coach");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_shows_and_changes_only_the_named_traders_rows() {
    for t in support::stores().await {
        let s = &t.store;
        let now = Utc::now();
        let ann = s.ensure_user("ann", now).await.unwrap();
        track(s, ann, "NVDA").await;
        s.set_default_symbols(ann, &["NVDA", "AMD"], now)
            .await
            .unwrap();
        let url = t.database_url();

        let (ok, out, err) = coach(url, "bob", &["setups", "list", "--json"]);
        assert!(ok, "{}: {err}", t.name);
        assert_eq!(out.trim(), "[]", "{}: bob lists ann's setups", t.name);
        let (ok, out, _) = coach(url, "ann", &["setups", "list", "--json"]);
        assert!(ok && out.contains("NVDA"), "{}: {out}", t.name);

        let (ok, _, err) = coach(url, "bob", &["watchlist", "set", "TSLA"]);
        assert!(ok, "{}: {err}", t.name);
        let (_, out, _) = coach(url, "ann", &["watchlist", "show"]);
        assert_eq!(out.trim(), "Default: NVDA, AMD", "{}", t.name);
        let (_, out, _) = coach(url, "bob", &["watchlist", "remove", "NVDA"]);
        assert!(!out.contains("NVDA"), "{}: {out}", t.name);
        let (_, out, _) = coach(url, "ann", &["watchlist", "show"]);
        assert_eq!(out.trim(), "Default: NVDA, AMD", "{}", t.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_hears_only_its_own_traders_changes() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let s = &t.store;
    let now = Utc::now();
    let ann = s.ensure_user("ann", now).await.unwrap();
    let bob = s.ensure_user("bob", now).await.unwrap();
    let (tx, mut events) = mpsc::channel(256);
    let (health, cancel) = (Health::default(), CancellationToken::new());
    let store = s.clone();
    supervisor::spawn(
        coach::runtime::listen::WORKER,
        coach::runtime::listen::INTERVAL,
        health,
        cancel.clone(),
        move |ctx| coach::runtime::listen::run_screen_listener(ctx, store.clone(), bob, tx.clone()),
    );
    // The initial load: Bob has no setups.
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(AppEvent::SetupsLoaded(rows))) => {
                assert!(rows.is_empty());
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no initial load: {other:?}"),
        }
    }
    // Ann's writes first, then one of Bob's: the first setup Bob's screen hears is his.
    let (_, anns) = track(s, ann, "AAPL").await;
    s.set_notes(ann, anns.setup.id, "private", Utc::now())
        .await
        .unwrap();
    s.set_default_symbols(ann, &["AAPL"], Utc::now())
        .await
        .unwrap();
    let (_, bobs) = track(s, bob, "MSFT").await;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("bob's change arrives")
            .unwrap();
        match event {
            AppEvent::SetupChanged { user, row, .. } => {
                assert_eq!(user, bob);
                assert_eq!(row.setup.id, bobs.setup.id, "bob heard ann's setup");
                break;
            }
            AppEvent::SetupDeleted(id) => panic!("bob heard of setup {id}"),
            // Bob's own default list (created by his screen's first load) is his.
            AppEvent::WatchlistLoaded(list) => assert!(
                !list.symbols.iter().any(|s| s.as_str() == "AAPL"),
                "bob got ann's watchlist: {list:?}"
            ),
            // Shared detections are for everyone.
            AppEvent::Detection(_) => {}
            // Bob's alerts as his screen's first load read them: none.
            AppEvent::AlertsChanged { user, alerts } => {
                assert_eq!(user, bob);
                assert!(alerts.is_empty(), "{alerts:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    // Alerts: Ann's firing on the server stays hers; Bob's own reaches his screen fired.
    let level = |symbol: &str| NewAlert {
        symbol: Symbol::parse(symbol).unwrap(),
        condition: Condition::CrossesAbove(500.0),
        note: String::new(),
        repeat: false,
        reference: Some(499.0),
    };
    let anns_alert = s.add_alert(ann, &level("AAPL"), Utc::now()).await.unwrap();
    fire(s, ann, &anns_alert).await;
    let bobs_alert = s.add_alert(bob, &level("MSFT"), Utc::now()).await.unwrap();
    fire(s, bob, &bobs_alert).await;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("bob's alert firing arrives")
            .unwrap();
        let AppEvent::AlertsChanged { user, alerts } = event else {
            panic!("unexpected {event:?}");
        };
        assert_eq!(user, bob);
        assert!(alerts.iter().all(|a| a.id == bobs_alert.id), "{alerts:?}");
        if alerts.iter().any(|a| a.status == AlertStatus::Fired) {
            break;
        }
    }
    cancel.cancel();
}

/// What the server's evaluator records when `alert` crosses its level.
async fn fire(store: &Store, user: UserId, alert: &PriceAlert) {
    let firing = Firing {
        id: alert.id,
        symbol: alert.symbol.clone(),
        condition: alert.condition,
        price: 500.5,
        rel_volume: None,
        at: Utc::now(),
        rearmed: false,
        reference: alert.reference,
    };
    assert!(store.fire_alert(user, &firing).await.unwrap().is_some());
}

/// A setup an attached screen (here: the store, as its action runner would) tracks
/// reaches the server's evaluator through the server's listener, for its owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_listener_hands_screen_written_setups_to_its_evaluator() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let ann = t.store.ensure_user("ann", Utc::now()).await.unwrap();
    let changes = SetupChanges::default();
    let mut heard = changes.subscribe();
    let (health, cancel) = (Health::default(), CancellationToken::new());
    let (store, server_changes) = (t.store.clone(), changes.clone());
    supervisor::spawn(
        coach::runtime::listen::WORKER,
        coach::runtime::listen::INTERVAL,
        health.clone(),
        cancel.clone(),
        move |ctx| {
            coach::runtime::listen::run_server_listener(ctx, store.clone(), server_changes.clone())
        },
    );
    // Listening once the worker reports its first heartbeat.
    let mut health_changed = health.subscribe();
    while !health.snapshot().iter().any(|r| r.cycles > 0) {
        tokio::time::timeout(Duration::from_secs(10), health_changed.changed())
            .await
            .expect("the listener connects")
            .unwrap();
    }
    let (_, row) = track(&t.store, ann, "SPY").await;
    let written = std::time::Instant::now();
    let change = tokio::time::timeout(Duration::from_secs(5), heard.recv())
        .await
        .expect("the change arrives")
        .unwrap();
    eprintln!("notification to evaluator: {:?}", written.elapsed());
    assert_eq!(change.user, ann);
    assert_eq!(change.row.as_ref(), Some(&row));
    t.store.delete_setup(ann, row.setup.id).await.unwrap();
    let gone = tokio::time::timeout(Duration::from_secs(5), heard.recv())
        .await
        .expect("the delete arrives")
        .unwrap();
    assert_eq!((gone.id, gone.row), (row.setup.id, None));
    cancel.cancel();
}

/// Briefs and positions (issue 6's store) are the trader's own too: Bob cannot read
/// Ann's brief nor mark it viewed, and the positions CLI lists and closes only his.
#[tokio::test]
async fn briefs_and_positions_stay_with_their_trader() {
    for t in support::stores().await {
        let s = &t.store;
        let now = Utc::now();
        let ann = s.ensure_user("ann", now).await.unwrap();
        let bob = s.ensure_user("bob", now).await.unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        // Ann's stored brief, as her scheduler would have written it (the payload is
        // never read for another user, so its content does not matter here).
        const SQL: &str = "INSERT INTO briefs (user_id, market_date, generated_at, \
             payload_json, viewed) VALUES ($1, $2, $3, '{}', FALSE)";
        const VIEWED: &str = "SELECT viewed FROM briefs WHERE user_id = $1";
        let viewed: bool = match s {
            Store::Sqlite(pool) => {
                sqlx::query(SQL)
                    .bind(ann.0)
                    .bind(date)
                    .bind(now)
                    .execute(pool)
                    .await
                    .unwrap();
                s.mark_brief_viewed(bob, date).await.unwrap();
                sqlx::query_scalar(VIEWED)
                    .bind(ann.0)
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
            Store::Postgres(pool) => {
                sqlx::query(SQL)
                    .bind(ann.0)
                    .bind(date)
                    .bind(now)
                    .execute(pool)
                    .await
                    .unwrap();
                s.mark_brief_viewed(bob, date).await.unwrap();
                sqlx::query_scalar(VIEWED)
                    .bind(ann.0)
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
        };
        assert!(!viewed, "{}: bob marked ann's brief viewed", t.name);
        assert!(s.brief(bob, date).await.unwrap().is_none(), "{}", t.name);

        let url = t.database_url();
        let (ok, _, err) = coach(
            url,
            "ann",
            &[
                "positions",
                "add",
                "SPY",
                "stock",
                "--qty",
                "100",
                "--price",
                "680.5",
            ],
        );
        assert!(ok, "{}: {err}", t.name);
        let id = s.positions(ann, false).await.unwrap()[0].id.to_string();
        let (ok, out, err) = coach(url, "bob", &["positions", "list", "--json"]);
        assert!(ok, "{}: {err}", t.name);
        assert!(
            !out.contains("SPY"),
            "{}: bob lists ann's position: {out}",
            t.name
        );
        let (ok, _, _) = coach(url, "bob", &["positions", "close", &id]);
        assert!(!ok, "{}: bob closed ann's position", t.name);
        assert_eq!(
            s.positions(ann, false).await.unwrap().len(),
            1,
            "{}",
            t.name
        );
    }
}
