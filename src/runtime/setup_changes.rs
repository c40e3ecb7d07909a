//! The broadcast of tracked-setup changes inside one process: whoever changes a setup
//! (the evaluator, the screen's manual actions, the auto-tracker) publishes the setup as
//! written, so every holder of a copy (the evaluator's book, the Setups pane) stays in
//! sync without polling the store. Changes made by another process on the same SQLite
//! database, which no broadcast announces, are signalled by a resync request
//! ([`SetupChanges::request_resync`], from the dashboard's fingerprint poller): the
//! evaluator then reads the live setups back (issue 22 item 5).

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

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
    /// Counts the resync requests: a receiver wakes once however many arrived meanwhile.
    resync: Arc<watch::Sender<u64>>,
}

impl SetupChanges {
    pub fn new(capacity: usize) -> SetupChanges {
        let (tx, _) = broadcast::channel(capacity.max(1));
        let (resync, _) = watch::channel(0);
        SetupChanges {
            tx,
            resync: Arc::new(resync),
        }
    }

    /// Asks the holders of a book (the evaluator) to read the live setups back from the
    /// store: another process changed some, and no [`SetupChange`] says which.
    pub fn request_resync(&self) {
        self.resync.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver of the resync requests made from now on (`changed().await` wakes on
    /// the next).
    pub fn subscribe_resync(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
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
