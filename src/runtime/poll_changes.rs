//! Changes made by other processes on the same SQLite database (issue 22 item 5): SQLite
//! has no LISTEN/NOTIFY, so a running dashboard compares the trader's
//! [`ChangeFingerprint`] every [`INTERVAL`] and, when it moved, reads the setups or the
//! alerts back and sends them to the screen, as the PostgreSQL listener does. The
//! screen's own writes move it too: the lists are then read back once, harmlessly.
//! A move of the setups also asks this process's evaluator to resync its book
//! ([`SetupChanges::request_resync`]), so a setup another process tracked is evaluated
//! (caught up from its `armed_at`) and one it removed or archived no longer is.
//! A failing read is left to the `database` worker to report, and retried next tick.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::setup_changes::SetupChanges;
use crate::store::{ChangeFingerprint, Store, UserId};

/// How often the fingerprint is read: another process's change shows within about this
/// plus one read back (well under 2 s).
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Polls until `cancel` or the screen closes.
pub async fn run(
    store: Store,
    user: UserId,
    screen: mpsc::Sender<AppEvent>,
    evaluator: SetupChanges,
    cancel: CancellationToken,
) {
    let mut last: Option<ChangeFingerprint> = store.change_fingerprint(user).await.ok();
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(now) = store.change_fingerprint(user).await else {
            continue;
        };
        let Some(before) = last.replace(now) else {
            continue;
        };
        let mut events = Vec::new();
        if before.setups != now.setups {
            // The evaluator reads every user's live setups itself (a failed read there
            // restarts it, and a restart reloads everything).
            evaluator.request_resync();
            match store.setups(user, None).await {
                Ok(rows) => events.push(AppEvent::SetupsLoaded(rows)),
                Err(_) => last = Some(before),
            }
        }
        if before.alerts != now.alerts {
            match store.alerts(user).await {
                Ok(alerts) => events.push(AppEvent::AlertsChanged { user, alerts }),
                Err(_) => last = Some(before),
            }
        }
        for event in events {
            if screen.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// A server's evaluator on SQLite (no dashboard poller, every user's setups): asks it to
/// resync whenever any user's setups moved, until `cancel`.
pub async fn run_for_evaluator(store: Store, evaluator: SetupChanges, cancel: CancellationToken) {
    let mut last = store.setups_fingerprint().await.ok();
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Ok(now) = store.setups_fingerprint().await else {
            continue;
        };
        if last.replace(now).is_some_and(|before| before != now) {
            evaluator.request_resync();
        }
    }
}
