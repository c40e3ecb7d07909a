//! The broadcast of tracked-setup changes inside one process: whoever changes a setup
//! (the evaluator, the screen's manual actions, the auto-tracker) publishes the setup as
//! written, so every holder of a copy (the evaluator's book, the Setups pane) stays in
//! sync without polling the store.

use tokio::sync::broadcast;

use crate::store::{SetupRow, UserId};

/// One setup as it is now: `row` is the setup as the store wrote it, `None` when it was
/// deleted. Versions only grow, so a receiver can ignore a change older than its copy.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupChange {
    pub user: UserId,
    pub row: Option<SetupRow>,
    pub id: i64,
}

impl SetupChange {
    /// The setup was written (tracked, transitioned, noted).
    pub fn written(user: UserId, row: SetupRow) -> SetupChange {
        SetupChange {
            user,
            id: row.setup.id,
            row: Some(row),
        }
    }

    /// The setup was deleted.
    pub fn deleted(user: UserId, id: i64) -> SetupChange {
        SetupChange {
            user,
            row: None,
            id,
        }
    }
}

/// The sending side, cheap to clone; `subscribe` for a receiver. A receiver that falls
/// more than the capacity behind is told it lagged (and should reload from the store).
#[derive(Clone, Debug)]
pub struct SetupChanges {
    tx: broadcast::Sender<SetupChange>,
}

impl SetupChanges {
    pub fn new(capacity: usize) -> SetupChanges {
        let (tx, _) = broadcast::channel(capacity.max(1));
        SetupChanges { tx }
    }

    /// Sends to every receiver; having none is not an error.
    pub fn publish(&self, change: SetupChange) {
        if self.tx.send(change).is_err() {
            tracing::trace!("no setup change subscribers");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SetupChange> {
        self.tx.subscribe()
    }
}

impl Default for SetupChanges {
    fn default() -> Self {
        SetupChanges::new(1024)
    }
}
