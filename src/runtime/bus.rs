//! The market bus: live events for every subscriber, and a snapshot on request so a
//! consumer that starts late (or restarts after falling behind) catches up without
//! losing the session so far.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use tokio::sync::{Mutex, broadcast, mpsc, oneshot};

use super::supervisor::WorkerCtx;
use crate::provider::{MarketEvent, MarketSnapshot};

/// The Health note of a worker that stopped because the recording it followed ended.
pub const RECORDING_FINISHED: &str = "recording finished";

type SnapshotReply = oneshot::Sender<Arc<MarketSnapshot>>;

#[derive(Clone, Debug)]
pub struct MarketBus {
    events: broadcast::Sender<MarketEvent>,
    requests: mpsc::Sender<SnapshotReply>,
    /// Set once by a feed whose market ended for good (a recording played to its end).
    ended: Arc<OnceLock<String>>,
    /// The feed's market clock: the latest step instant published, in microseconds since
    /// the Unix epoch (UTC); 0 before the first. The detector's lag is read against it.
    market_clock: Arc<AtomicI64>,
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
            MarketBus {
                events,
                requests,
                ended: Arc::new(OnceLock::new()),
                market_clock: Arc::new(AtomicI64::new(0)),
            },
            SnapshotRequests(Arc::new(Mutex::new(rx))),
        )
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MarketEvent> {
        self.events.subscribe()
    }

    /// Sends to every subscriber; having none (yet) is not an error.
    pub fn publish(&self, event: MarketEvent) {
        if let MarketEvent::Step { at, .. } = &event {
            self.market_clock
                .fetch_max(at.timestamp_micros(), Ordering::Relaxed);
        }
        if self.events.send(event).is_err() {
            tracing::trace!("no market event subscribers");
        }
    }

    /// The feed's market clock: the latest step instant published (none before the
    /// first). A simulated market runs it faster than the wall clock.
    pub fn market_time(&self) -> Option<DateTime<Utc>> {
        match self.market_clock.load(Ordering::Relaxed) {
            0 => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }

    /// Called by a feed whose market ended for good, before it stops: `why` ("the
    /// recording has no more sessions"). The first call wins.
    pub fn end(&self, why: &str) {
        if self.ended.set(why.to_string()).is_err() {
            tracing::trace!("the market had already ended");
        }
    }

    /// Why the market ended, once a feed said so.
    pub fn ended(&self) -> Option<&str> {
        self.ended.get().map(String::as_str)
    }

    /// The snapshot a worker that needs a feed starts (or continues) from: `Ok(None)` once
    /// the recording finished — said once, in the log and as the worker's Health note
    /// ("recording finished"), and the worker then returns `Ok(())` so Health shows it
    /// stopped, not failing and restarting (issue 26 item 10) — and an error when no
    /// feed is running for any other reason.
    pub async fn snapshot_or_end(
        &self,
        ctx: &WorkerCtx,
    ) -> Result<Option<Arc<MarketSnapshot>>, String> {
        if let Some(snapshot) = self.snapshot().await {
            return Ok(Some(snapshot));
        }
        match self.ended() {
            Some(why) => {
                tracing::info!(
                    worker = ctx.name,
                    "recording finished ({why}); {} stops",
                    ctx.name
                );
                ctx.set_note(RECORDING_FINISHED);
                Ok(None)
            }
            None => Err("no market feed is running".into()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::health::Health;
    use tokio_util::sync::CancellationToken;

    fn ctx() -> WorkerCtx {
        WorkerCtx {
            name: "detect",
            health: Health::default(),
            cancel: CancellationToken::new(),
        }
    }

    #[tokio::test]
    async fn a_finished_recording_is_an_end_and_a_missing_feed_an_error() {
        let (bus, requests) = MarketBus::new(4);
        drop(requests);
        assert_eq!(
            bus.snapshot_or_end(&ctx()).await,
            Err("no market feed is running".to_string())
        );
        bus.end("the recording has no more sessions");
        bus.end("a second reason is ignored");
        assert_eq!(bus.ended(), Some("the recording has no more sessions"));
        let ctx = ctx();
        ctx.health
            .register("detect", std::time::Duration::from_secs(5));
        assert_eq!(bus.snapshot_or_end(&ctx).await, Ok(None));
        let note = ctx.health.snapshot()[0].note.clone();
        assert_eq!(note.as_deref(), Some("recording finished"));
    }
}
