//! The broadcast of price-alert changes inside one process: the screen and the CLI-less
//! paths that add or remove an alert publish it, so the evaluator's book follows without
//! polling the store.

use tokio::sync::broadcast;

use crate::alerts::PriceAlert;
use crate::store::UserId;

/// One alert as it is now: `alert` as the store wrote it, `None` when it was deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertChange {
    pub user: UserId,
    pub id: i64,
    pub alert: Option<PriceAlert>,
}

/// The sending side, cheap to clone; `subscribe` for a receiver. A receiver that falls
/// more than the capacity behind is told it lagged (and reloads from the store).
#[derive(Clone, Debug)]
pub struct AlertChanges {
    tx: broadcast::Sender<AlertChange>,
}

impl AlertChanges {
    pub fn new(capacity: usize) -> AlertChanges {
        let (tx, _) = broadcast::channel(capacity.max(1));
        AlertChanges { tx }
    }

    /// Sends to every receiver; having none is not an error.
    pub fn publish(&self, change: AlertChange) {
        if self.tx.send(change).is_err() {
            tracing::trace!("no alert change subscribers");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<AlertChange> {
        self.tx.subscribe()
    }
}

impl Default for AlertChanges {
    fn default() -> Self {
        AlertChanges::new(1024)
    }
}
