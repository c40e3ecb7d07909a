//! The Alpaca feed worker: runs an [`AlpacaFeed`] under the supervisor like the Massive
//! feed worker runs its feed (same bus, snapshot requests, Health reporting), with one
//! stream instead of one per cluster. `focus` is the dashboard's focused symbol, whose
//! trades the stream follows (`coach serve` has none).

use std::sync::Arc;

use tokio::sync::watch;

use super::bus::{MarketBus, SnapshotRequests};
use super::massive_feed::{MAX_EVENTS_PER_STEP, park, record_stream_down};
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::provider::MarketEvent;
use crate::provider::alpaca::AlpacaError;
use crate::provider::alpaca::feed::{AlpacaFeed, AlpacaFeedConfig};
use crate::provider::alpaca::stream::StreamEvent;

/// Runs the Alpaca feed until cancelled. Rejected keys, a plan without the feed or too
/// many symbols are reported in Health and park the worker; anything else returns an
/// error so the supervisor restarts it with backoff.
pub async fn run_alpaca_feed(
    ctx: WorkerCtx,
    config: AlpacaFeedConfig,
    bus: MarketBus,
    requests: SnapshotRequests,
    focus: watch::Receiver<Option<Symbol>>,
) -> Result<(), String> {
    match feed(&ctx, &config, &bus, &requests, focus).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_fatal() => park(&ctx, &requests, "Alpaca", &e.to_string()).await,
        Err(e) => Err(e.to_string()),
    }
}

/// Like the Massive feed worker: the events ready together become one `Step`, published
/// at once; the heartbeat and the session roll run on their own timer.
async fn feed(
    ctx: &WorkerCtx,
    config: &AlpacaFeedConfig,
    bus: &MarketBus,
    requests: &SnapshotRequests,
    focus: watch::Receiver<Option<Symbol>>,
) -> Result<(), AlpacaError> {
    let mut feed = AlpacaFeed::load(config).await?;
    bus.publish(MarketEvent::Snapshot(Arc::new(feed.snapshot(feed.now()))));
    ctx.heartbeat();

    let cancel = ctx.cancel.child_token();
    let _stop_stream = cancel.clone().drop_guard();
    let mut inputs = feed.start_stream(&cancel, focus);
    let mut housekeeping = tokio::time::interval(config.heartbeat_every);
    housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some(event) = inputs.events.recv() => {
                take_event(ctx, &mut feed, event);
                for _ in 1..MAX_EVENTS_PER_STEP {
                    let Ok(event) = inputs.events.try_recv() else { break };
                    take_event(ctx, &mut feed, event);
                }
                publish_ready(bus, &mut feed);
            },
            Some(done) = inputs.backfilled.recv() => {
                feed.on_backfill(done)?;
                publish_ready(bus, &mut feed);
            },
            ended = &mut inputs.stream => {
                return Err(match ended {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => AlpacaError::Transport { what: "the stream".into(), detail: "stopped".into() },
                    Err(e) => AlpacaError::Transport { what: "the stream".into(), detail: format!("the stream task failed: {e}") },
                });
            },
            _ = housekeeping.tick() => {
                if feed.stream_live() {
                    ctx.heartbeat();
                }
                publish_ready(bus, &mut feed);
                if let Some(snapshot) = feed.roll(feed.now()).await? {
                    bus.publish(MarketEvent::Snapshot(Arc::new(snapshot)));
                }
            },
            Some(reply) = requests.next() => {
                if reply.send(Arc::new(feed.snapshot(feed.now()))).is_err() {
                    tracing::debug!("a snapshot requester went away");
                }
            },
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
    }
}

/// One stream event into the feed; a disconnect shows in Health.
fn take_event(ctx: &WorkerCtx, feed: &mut AlpacaFeed, event: StreamEvent) {
    if let Some(reason) = feed.on_stream_event(event) {
        record_stream_down(ctx, &format!("Alpaca stream disconnected: {reason}"));
    }
}

/// Publishes the prices and bars the feed gathered since its last step, if any.
fn publish_ready(bus: &MarketBus, feed: &mut AlpacaFeed) {
    if let Some(step) = feed.take_step(feed.now()) {
        bus.publish(step);
    }
}
