//! The market bus: live events for every subscriber, and a snapshot on request so a
//! consumer that starts late (or restarts after falling behind) catches up without
//! losing the session so far.

use std::sync::Arc;

use tokio::sync::{Mutex, broadcast, mpsc, oneshot};

use crate::provider::{MarketEvent, MarketSnapshot};

type SnapshotReply = oneshot::Sender<Arc<MarketSnapshot>>;

#[derive(Clone, Debug)]
pub struct MarketBus {
    events: broadcast::Sender<MarketEvent>,
    requests: mpsc::Sender<SnapshotReply>,
}

/// The feed's end of the snapshot requests; shared so a restarted feed keeps serving them.
#[derive(Clone, Debug)]
pub struct SnapshotRequests(Arc<Mutex<mpsc::Receiver<SnapshotReply>>>);

impl MarketBus {
    /// `capacity` events are kept for a slow subscriber before it is told it lagged.
    pub fn new(capacity: usize) -> (MarketBus, SnapshotRequests) {
        let (events, _) = broadcast::channel(capacity);
        let (requests, rx) = mpsc::channel(64);
        (
            MarketBus { events, requests },
            SnapshotRequests(Arc::new(Mutex::new(rx))),
        )
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MarketEvent> {
        self.events.subscribe()
    }

    /// Sends to every subscriber; having none (yet) is not an error.
    pub fn publish(&self, event: MarketEvent) {
        if self.events.send(event).is_err() {
            tracing::trace!("no market event subscribers");
        }
    }

    /// The market as the feed sees it now; `None` if no feed is running.
    pub async fn snapshot(&self) -> Option<Arc<MarketSnapshot>> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(tx).await.ok()?;
        rx.await.ok()
    }
}

/// The error a consumer returns when it fell behind the bus: its supervisor restarts it,
/// and a restart re-primes from a snapshot, so no bar is skipped. (Health records when.)
pub fn fell_behind(missed: u64) -> String {
    format!("fell {missed} market events behind; restarting from a snapshot")
}

impl SnapshotRequests {
    /// The next request, for the feed's `select!`.
    pub async fn next(&self) -> Option<SnapshotReply> {
        self.0.lock().await.recv().await
    }
}
