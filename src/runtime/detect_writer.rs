//! The detector's batched writer (issue 25 item 3): the engine hands over each step's
//! detections and moves on; the writer stores everything waiting in one transaction
//! (a minute of an 8,000-symbol market is one batch, not 8,000 round trips on a pooled
//! connection), then announces the new ones with their stored ids and records how far
//! behind the feed each bar was when its detections were stored.

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::AppEvent;
use super::bus::MarketBus;
use super::metrics::Metrics;
use super::ownership::Owned;
use super::supervisor::WorkerCtx;
use crate::domain::Detection;
use crate::store::{Store, StoredDetection};

/// Steps waiting for the writer before the engine waits for it (backpressure: the
/// engine never runs more than this far ahead of the store).
pub const QUEUE_STEPS: usize = 256;

/// One step's work for the writer: the detections it found and the ends of the bars it
/// evaluated (none for priming, which is history).
#[derive(Debug, Default)]
pub struct Pending {
    pub found: Vec<Detection>,
    pub bar_ends: Vec<DateTime<Utc>>,
}

impl Pending {
    /// What priming found: history, so no bar's lag is recorded.
    pub fn primed(found: Vec<Detection>) -> Pending {
        Pending {
            found,
            bar_ends: Vec::new(),
        }
    }
}

/// Where the writer's results go.
pub struct Sinks {
    pub ctx: WorkerCtx,
    pub store: Store,
    pub ui: mpsc::Sender<AppEvent>,
    pub metrics: std::sync::Arc<Metrics>,
    pub owned: watch::Receiver<Owned>,
    pub bus: MarketBus,
}

/// Stores what arrives on `queue` until it closes, one transaction for everything
/// waiting at a time. Returns the store's error, after which nothing more is stored
/// (the supervisor restarts the detector, which re-primes and stores the lost batch
/// again: each detection's unique key keeps it once).
pub async fn write_batches(mut queue: mpsc::Receiver<Pending>, sinks: Sinks) -> Result<(), String> {
    while let Some(first) = queue.recv().await {
        let mut steps = vec![first];
        while let Ok(more) = queue.try_recv() {
            steps.push(more);
        }
        write_batch(&sinks, steps).await?;
    }
    Ok(())
}

async fn write_batch(sinks: &Sinks, steps: Vec<Pending>) -> Result<(), String> {
    let mut found = Vec::new();
    let mut bar_ends = Vec::new();
    {
        let owned = sinks.owned.borrow();
        for step in steps {
            found.extend(step.found.into_iter().filter(|d| owned.contains(&d.symbol)));
            bar_ends.extend(step.bar_ends);
        }
    }
    let ids = sinks
        .store
        .insert_detections(&found)
        .await
        .map_err(|e| e.to_string())?;
    record_lag(sinks, &bar_ends);
    for ((id, new), detection) in ids.into_iter().zip(found) {
        if new {
            sinks.metrics.detection(detection.kind.as_str());
            tracing::info!(
                "{} {} {} at {:.2}: {}",
                detection.symbol,
                detection.kind,
                detection.direction,
                detection.entry,
                detection.rationale
            );
        }
        // Stored ones are sent too: a restarted screen shows the session's detections.
        let event = AppEvent::Detection(StoredDetection { id, detection });
        if sinks.ui.send(event).await.is_err() {
            tracing::debug!("the screen is gone; detections are still stored");
        }
    }
    Ok(())
}

/// Each bar's lag behind the feed's market clock now that its detections are stored,
/// into `/metrics` and the detector's Health note.
fn record_lag(sinks: &Sinks, bar_ends: &[DateTime<Utc>]) {
    let Some(clock) = sinks.bus.market_time() else {
        return;
    };
    if bar_ends.is_empty() {
        return;
    }
    let seconds = bar_ends
        .iter()
        .map(|end| (clock - *end).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6);
    if let Some(lag) = sinks.metrics.detector_lag(seconds) {
        sinks.ctx.set_note(&format!(
            "lag behind the feed p50 {:.1} s, p99 {:.1} s (market seconds, last {} bars)",
            lag.p50, lag.p99, lag.window
        ));
    }
}
