//! The trader's actions while the database is away (SPEC 14): they wait in the screen's
//! bounded queue, the trader is told once, and they are applied in the order pressed when
//! it returns, or reported as failed once the outage outlasts the runner's patience. The
//! outage is this test's own (its login role is refused), beside other PostgreSQL tests.

mod support;

use std::time::Duration;

use chrono::Utc;
use coach::runtime::AppEvent;
use coach::runtime::bus::MarketBus;
use coach::runtime::gex::GexChannels;
use coach::runtime::setup_changes::SetupChanges;
use coach::setups::{ManualAction, SetupStatus};
use coach::store::{Store, UserId};
use coach::tui::actions::{ActionContext, ActionRunner};
use coach::tui::app::Effect;
use support::team::{WorkerRole, track};
use tokio::sync::mpsc;

fn screen(
    store: &Store,
    user: UserId,
    patience: Duration,
) -> (ActionRunner, mpsc::Receiver<AppEvent>) {
    let (events_tx, events) = mpsc::channel(64);
    let (bus, requests) = MarketBus::new(16);
    drop(requests);
    let runner = ActionRunner::spawn(ActionContext {
        store: store.clone(),
        user,
        bus,
        events: events_tx,
        gex: GexChannels::new().requests.clone(),
        brief: coach::runtime::brief::BriefChannels::new().requests.clone(),
        changes: SetupChanges::default(),
        alert_changes: coach::runtime::alert_changes::AlertChanges::default(),
        coach: None,
        patience,
    });
    (runner, events)
}

async fn next(events: &mut mpsc::Receiver<AppEvent>) -> AppEvent {
    tokio::time::timeout(Duration::from_secs(60), events.recv())
        .await
        .expect("an answer from the action runner")
        .expect("the runner is alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_pressed_during_an_outage_are_applied_in_order_when_it_ends() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let ann = t.store.ensure_user("ann", Utc::now()).await.unwrap();
    let (_, row) = track(&t.store, ann, "SPY").await;
    let id = row.setup.id;
    let role = WorkerRole::create(&t).await;
    let screen_store = role.store().await;
    let (runner, mut events) = screen(&screen_store, ann, Duration::from_secs(60));

    role.cut().await;
    let at = Utc::now();
    for effect in [
        Effect::SaveNote {
            id,
            text: "first".into(),
            at,
        },
        Effect::SaveNote {
            id,
            text: "second".into(),
            at,
        },
        Effect::Manual {
            id,
            action: ManualAction::Archive,
            at,
        },
    ] {
        runner.submit(effect).await;
    }
    match next(&mut events).await {
        AppEvent::ActionFailed(text) => {
            assert!(text.contains("will be applied in order"), "{text}")
        }
        other => panic!("the trader is not told: {other:?}"),
    }
    // Nothing is written while the database is away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(t.store.setup(ann, id).await.unwrap().unwrap(), row);
    role.restore().await;

    let mut applied = Vec::new();
    while applied.len() < 3 {
        match next(&mut events).await {
            AppEvent::SetupChanged { row, .. } => {
                applied.push((row.notes.clone(), row.setup.status))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        applied,
        [
            ("first".to_string(), SetupStatus::Active),
            ("second".to_string(), SetupStatus::Active),
            ("second".to_string(), SetupStatus::Archived),
        ],
        "applied in the order pressed"
    );
    screen_store.close().await;
    role.drop_role().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_is_reported_as_failed_when_the_outage_outlasts_the_patience() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let ann = t.store.ensure_user("ann", Utc::now()).await.unwrap();
    let (_, row) = track(&t.store, ann, "SPY").await;
    let role = WorkerRole::create(&t).await;
    let screen_store = role.store().await;
    let (runner, mut events) = screen(&screen_store, ann, Duration::from_secs(2));

    role.cut().await;
    runner
        .submit(Effect::SaveNote {
            id: row.setup.id,
            text: "lost?".into(),
            at: Utc::now(),
        })
        .await;
    let waiting = next(&mut events).await;
    assert!(
        matches!(&waiting, AppEvent::ActionFailed(t) if t.contains("wait")),
        "{waiting:?}"
    );
    match next(&mut events).await {
        AppEvent::ActionFailed(text) => {
            assert!(
                text.starts_with("not done: the database has been unreachable"),
                "{text}"
            );
            assert!(!text.contains("password"), "{text}");
        }
        other => panic!("not reported as failed: {other:?}"),
    }
    role.restore().await;
    assert_eq!(
        t.store
            .setup(ann, row.setup.id)
            .await
            .unwrap()
            .unwrap()
            .notes,
        "",
        "a failed action changed nothing"
    );
    screen_store.close().await;
    role.drop_role().await;
}
