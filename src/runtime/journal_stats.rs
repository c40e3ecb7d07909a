//! The trader's journal statistics (SPEC 18, "Journal"): the store's tracked setups, their
//! journal and their detections read into `stats::journal`'s input (`load`), and, for the
//! dashboard, a task that sends the Stats pane fresh statistics at start and after every
//! change of one of the user's setups (`watch`).

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::setup_changes::SetupChanges;
use crate::stats::{Dimension, GroupRow, JournalEvent, JournalRange, JournalSetup, RHistogram};
use crate::store::{Store, StoreError, UserId};

/// Changes arriving within this long of each other are one recomputation.
const SETTLE: Duration = Duration::from_millis(300);

/// The user's setups with their journal and, when still stored, their detections.
pub async fn load(store: &Store, user: UserId) -> Result<Vec<JournalSetup>, StoreError> {
    let rows = store.setups(user, None).await?;
    let mut events: HashMap<i64, Vec<JournalEvent>> = HashMap::new();
    for e in store.user_setup_events(user).await? {
        events.entry(e.setup_id).or_default().push(JournalEvent {
            reason: e.reason,
            price: e.price,
            realised_r: e.realised_r,
            at: e.at,
        });
    }
    let detections: HashMap<i64, crate::domain::Detection> = store
        .tracked_detections(user)
        .await?
        .into_iter()
        .map(|d| (d.id, d.detection))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.setup.id;
            JournalSetup {
                detection: row
                    .setup
                    .source_id
                    .and_then(|s| detections.get(&s).cloned()),
                events: events.remove(&id).unwrap_or_default(),
                setup: row.setup,
            }
        })
        .collect())
}

/// What the Stats pane's Journal tab lists: each kind, each (kind, symbol) and the total,
/// every group with its R histogram.
pub fn pane_rows(setups: &[JournalSetup]) -> Vec<(GroupRow, RHistogram)> {
    let all = JournalRange::default();
    let mut rows = crate::stats::journal_groups(setups, all, &[Dimension::Kind]);
    rows.extend(
        crate::stats::journal_groups(setups, all, &[Dimension::Kind, Dimension::Symbol])
            .into_iter()
            .filter(|(g, _)| g.key.kind.is_some() && g.key.symbol.is_some()),
    );
    rows
}

/// Sends `AppEvent::JournalStats` now and after every change of the user's setups (a
/// burst of changes is one recomputation), until `cancel` or the screen closes. A store
/// error is logged and the pane keeps what it has.
pub fn watch(
    store: Store,
    user: UserId,
    changes: &SetupChanges,
    screen: mpsc::Sender<AppEvent>,
    cancel: CancellationToken,
) {
    let mut rx = changes.subscribe();
    tokio::spawn(async move {
        loop {
            match load(&store, user).await {
                Ok(setups) => {
                    if screen
                        .send(AppEvent::JournalStats(pane_rows(&setups)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => tracing::warn!("journal statistics: {e}"),
            }
            // Wait for a change of ours (a lag may have hidden one: reload).
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    change = rx.recv() => match change {
                        Ok(c) if c.user == user => break,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
            // Let a burst settle (a fill and its exit a moment apart).
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(SETTLE) => {}
            }
            while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
        }
    });
}
