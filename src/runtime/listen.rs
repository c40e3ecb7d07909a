//! Change notifications (SPEC 14, PostgreSQL): the writes of other processes arrive here
//! within a second. Two listeners:
//! - a server's: setups written by attached screens join its evaluator's book;
//! - an attached screen's: its own user's setups, watchlist, brief and alerts (a firing on
//!   the server included), and new detections, are read back through the user-scoped
//!   store and sent to the screen.
//!
//! A lost connection is recorded (Health shows it) and the listener connects again with
//! a short capped backoff ([`retry_delay`]), LISTENs again and, for a screen, reloads
//! everything, so nothing missed while disconnected stays missing.

use chrono::Utc;
use tokio::sync::mpsc;

use super::AppEvent;
use super::setup_changes::{SetupChange, SetupChanges};
use super::supervisor::{WorkerCtx, retrying};
use crate::market::calendar;
use crate::store::{ChangeListener, Store, UserId};
use crate::team::change::{Change, Table};

pub const WORKER: &str = "listen";
/// Expected cadence: notifications are event-driven; a quiet listener is not stale.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

async fn connect(store: &Store) -> Result<ChangeListener, String> {
    store
        .change_listener()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "change notifications need PostgreSQL".to_string())
}

async fn next(ctx: &WorkerCtx, listener: &mut ChangeListener) -> Result<Option<Change>, String> {
    tokio::select! {
        _ = ctx.cancel.cancelled() => Ok(None),
        change = listener.next() => match change {
            Ok(Some(change)) => Ok(Some(change)),
            Ok(None) => Err("lost the database connection; listening again".into()),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// The server's listener: every setup change (any user's) goes to the evaluator, read
/// back for its owner.
pub async fn run_server_listener(
    ctx: WorkerCtx,
    store: Store,
    changes: SetupChanges,
) -> Result<(), String> {
    retrying(&ctx, || server_session(&ctx, &store, &changes)).await
}

async fn server_session(
    ctx: &WorkerCtx,
    store: &Store,
    changes: &SetupChanges,
) -> Result<(), String> {
    let mut listener = connect(store).await?;
    ctx.heartbeat();
    while let Some(change) = next(ctx, &mut listener).await? {
        let (Table::TrackedSetups, Some(owner), Some(id)) =
            (&change.table, change.user_id, change.id)
        else {
            continue;
        };
        let user = UserId(owner);
        let setup_change = if change.deleted {
            SetupChange::deleted(user, id)
        } else {
            match store.setup(user, id).await.map_err(|e| e.to_string())? {
                Some(row) => SetupChange::written(user, row),
                None => SetupChange::deleted(user, id),
            }
        };
        changes.publish(setup_change);
        ctx.heartbeat();
    }
    Ok(())
}

/// An attached screen's listener for `user`: a full load on every (re)connect, then each
/// change of this user's rows and each new detection.
pub async fn run_screen_listener(
    ctx: WorkerCtx,
    store: Store,
    user: UserId,
    screen: mpsc::Sender<AppEvent>,
) -> Result<(), String> {
    retrying(&ctx, || screen_session(&ctx, &store, user, &screen)).await
}

async fn screen_session(
    ctx: &WorkerCtx,
    store: &Store,
    user: UserId,
    screen: &mpsc::Sender<AppEvent>,
) -> Result<(), String> {
    let mut listener = connect(store).await?;
    // Listening before loading: a change between the two is seen twice, never missed.
    load_all(store, user, screen).await?;
    ctx.heartbeat();
    while let Some(change) = next(ctx, &mut listener).await? {
        if !change.concerns(user.0) {
            continue;
        }
        if let Some(event) = read_back(store, user, &change).await?
            && screen.send(event).await.is_err()
        {
            return Ok(());
        }
        ctx.heartbeat();
    }
    Ok(())
}

async fn load_all(
    store: &Store,
    user: UserId,
    screen: &mpsc::Sender<AppEvent>,
) -> Result<(), String> {
    let err = |e: crate::store::StoreError| e.to_string();
    let setups = store.setups(user, None).await.map_err(err)?;
    let watchlist = store
        .default_watchlist(user, Utc::now())
        .await
        .map_err(err)?;
    let today = calendar::ny_date(Utc::now());
    let detections = store.detections_on(today).await.map_err(err)?;
    let alerts = store.alerts(user).await.map_err(err)?;
    let mut events = vec![
        AppEvent::SetupsLoaded(setups),
        AppEvent::WatchlistLoaded(watchlist),
        AppEvent::AlertsChanged { user, alerts },
    ];
    events.extend(latest_brief(store, user).await?);
    events.extend(detections.into_iter().map(AppEvent::Detection));
    for event in events {
        if screen.send(event).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The user's stored brief of today's session, else of the next one (written before its
/// open), as the screen shows it.
async fn latest_brief(store: &Store, user: UserId) -> Result<Option<AppEvent>, String> {
    let today = calendar::ny_date(Utc::now());
    let next = calendar::next_session(today).date;
    for date in [next, today] {
        if let Some(stored) = store.brief(user, date).await.map_err(|e| e.to_string())? {
            return Ok(Some(AppEvent::Brief {
                brief: std::sync::Arc::new(stored.brief),
                preview: false,
            }));
        }
    }
    Ok(None)
}

/// The screen event for one change of this user's rows (or a shared detection).
async fn read_back(
    store: &Store,
    user: UserId,
    change: &Change,
) -> Result<Option<AppEvent>, String> {
    let err = |e: crate::store::StoreError| e.to_string();
    Ok(match (&change.table, change.id) {
        (Table::TrackedSetups, Some(id)) => match store.setup(user, id).await.map_err(err)? {
            Some(row) => Some(AppEvent::SetupChanged {
                user,
                row,
                transition: None,
            }),
            None => Some(AppEvent::SetupDeleted(id)),
        },
        (Table::Watchlists, _) => Some(AppEvent::WatchlistLoaded(
            store
                .default_watchlist(user, Utc::now())
                .await
                .map_err(err)?,
        )),
        (Table::Briefs, _) => latest_brief(store, user).await?,
        (Table::Alerts, _) => Some(AppEvent::AlertsChanged {
            user,
            alerts: store.alerts(user).await.map_err(err)?,
        }),
        (Table::Detections, Some(id)) => store
            .detection(id)
            .await
            .map_err(err)?
            .map(AppEvent::Detection),
        _ => None,
    })
}
