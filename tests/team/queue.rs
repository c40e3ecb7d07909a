//! The trader's actions while the database is away (SPEC 14): they wait in the screen's
//! bounded queue, the trader is told once, and they are applied in the order pressed when
//! it returns, or reported as failed once the outage outlasts the runner's patience. The
//! outage is this test's own (its login role is refused), beside other PostgreSQL tests.
//! And an action that races the evaluator is applied on the setup's new state.

use crate::support;

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
    let mut said = Vec::new();
    while applied.len() < 3 || said.len() < 2 {
        match next(&mut events).await {
            AppEvent::SetupChanged { row, .. } => {
                applied.push((row.notes.clone(), row.setup.status))
            }
            // A stored note is also said on the status line.
            AppEvent::Notice(text) => said.push(text),
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
    let saved = format!("note saved on setup {id}");
    assert_eq!(
        said,
        [saved.clone(), saved],
        "each stored note is said, not left at 'saving note…'"
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

/// The race of SPEC 5's version guard seen from the trader's side: the trader presses
/// `i` as price triggers the setup. The evaluator's write lands between the screen's read
/// and its write (held there by a row lock this test takes), and the trader's invalidate
/// is still applied, on the triggered setup, instead of being refused as stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidate_pressed_as_price_triggers_the_setup_is_still_applied() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let Store::Postgres(pool) = &t.store else {
        unreachable!("support::postgres opens PostgreSQL");
    };
    let ann = t.store.ensure_user("ann", Utc::now()).await.unwrap();
    let (_, row) = track(&t.store, ann, "SPY").await;
    let id = row.setup.id;
    let (runner, mut events) = screen(&t.store, ann, Duration::from_secs(60));

    let mut evaluator = pool.begin().await.unwrap();
    let evaluator_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *evaluator)
        .await
        .unwrap();
    sqlx::query("SELECT id FROM tracked_setups WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *evaluator)
        .await
        .unwrap();
    runner
        .submit(Effect::Manual {
            id,
            action: ManualAction::Invalidate,
            at: Utc::now(),
        })
        .await;
    // The screen has read version 1 and waits for the row to write it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        )
        .bind(evaluator_pid)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the screen never wrote"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Price crosses the entry: the evaluator's write, version 1 → 2.
    sqlx::query(
        "UPDATE tracked_setups SET status = 'triggered', outcome = 'open', \
         triggered_at = now(), updated_at = now(), version = 2 WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *evaluator)
    .await
    .unwrap();
    evaluator.commit().await.unwrap();

    match next(&mut events).await {
        AppEvent::SetupChanged {
            row,
            transition: Some(transition),
            ..
        } => {
            assert_eq!(transition.from, SetupStatus::Triggered);
            assert_eq!(row.setup.status, SetupStatus::Invalidated);
            assert_eq!(row.setup.version, 3);
            let (triggered, invalidated) = (row.setup.triggered_at, row.setup.invalidated_at);
            assert!(
                invalidated.is_some() && invalidated >= triggered,
                "the journal keeps time order: triggered {triggered:?}, invalidated {invalidated:?}"
            );
        }
        other => panic!("the trader's invalidate was lost: {other:?}"),
    }
}
