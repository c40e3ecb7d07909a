//! The Massive feed worker: runs a [`MassiveFeed`] under the supervisor, publishes its
//! snapshots and steps on the bus, answers snapshot requests, and reports disconnects and
//! fatal errors in Health.

use std::sync::Arc;

use chrono::Utc;

use super::bus::{MarketBus, SnapshotRequests};
use super::supervisor::WorkerCtx;
use crate::provider::MarketEvent;
use crate::provider::massive::MassiveError;
use crate::provider::massive::feed::{MassiveFeed, MassiveFeedConfig, stream_ended};
use crate::provider::massive::ws::{Cluster, StreamEvent};
use crate::worker_health::WorkerState;

/// Runs the Massive feed until cancelled. A bad key or a plan without the data is
/// reported in Health and parks the worker (no retry loop); anything else returns an
/// error so the supervisor restarts it with backoff.
pub async fn run_massive_feed(
    ctx: WorkerCtx,
    config: MassiveFeedConfig,
    bus: MarketBus,
    requests: SnapshotRequests,
) -> Result<(), String> {
    match feed(&ctx, &config, &bus, &requests).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_fatal() => park(&ctx, &requests, "Massive", &e.to_string()).await,
        Err(e) => Err(e.to_string()),
    }
}

/// Records a fatal error of `vendor`'s feed and waits for shutdown, still answering
/// snapshot requests with nothing (the requester sees no feed). Shared by the live feeds.
pub(super) async fn park(
    ctx: &WorkerCtx,
    requests: &SnapshotRequests,
    vendor: &str,
    message: &str,
) -> Result<(), String> {
    tracing::error!("{vendor} feed stopped: {message}");
    ctx.health.update(ctx.name, |r| {
        r.state = WorkerState::Failed;
        r.errors += 1;
        r.last_error = Some(crate::text::printable(message));
        r.last_error_at = Some(Utc::now());
    });
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Ok(()),
            reply = requests.next() => if reply.is_none() { return Ok(()) },
        }
    }
}

/// Stream events read in one go before the step they make is published: what is ready
/// (a WebSocket frame's messages arrive together), capped so snapshot requests and
/// cancellation get their turn under a flood.
pub(super) const MAX_EVENTS_PER_STEP: usize = 1024;

/// Connects the streams and loads the session's history at once, then serves stream
/// events, histories, backfills and snapshot requests until cancelled or a stream stops
/// for good. While the history loads, every symbol's bars and prices stream at once (the
/// consumers run on live bars only for a symbol whose history is not in), and the
/// symbols whose history arrived are published as a new snapshot every few seconds
/// (`announce_every`), so the detector and the other consumers re-prime with it. Prices
/// and bars are published as they arrive: the events ready together (a frame's) become
/// one `Step`, with no batching interval in front of the screen, the evaluator and the
/// alerts. The heartbeat, the snapshots of the loading symbols and the session roll run
/// on their own timer.
async fn feed(
    ctx: &WorkerCtx,
    config: &MassiveFeedConfig,
    bus: &MarketBus,
    requests: &SnapshotRequests,
) -> Result<(), MassiveError> {
    let mut feed = MassiveFeed::loading(config)?;
    let cancel = ctx.cancel.child_token();
    let _stop_streams = cancel.clone().drop_guard();
    let mut inputs = feed.start_streams(&cancel);
    let mut loading = Loading::new(config.symbols.len());
    loading.note(ctx, &feed);
    let mut housekeeping = tokio::time::interval(config.heartbeat_every);
    housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some((cluster, event)) = inputs.events.recv() => {
                take_event(ctx, &mut feed, cluster, event);
                for _ in 1..MAX_EVENTS_PER_STEP {
                    let Ok((cluster, event)) = inputs.events.try_recv() else { break };
                    take_event(ctx, &mut feed, cluster, event);
                }
                publish_ready(bus, &mut feed);
            },
            Some(loaded) = inputs.histories.recv() => {
                feed.on_history(loaded?);
                for _ in 1..MAX_EVENTS_PER_STEP {
                    let Ok(loaded) = inputs.histories.try_recv() else { break };
                    feed.on_history(loaded?);
                }
                publish_ready(bus, &mut feed);
                loading.announce(ctx, bus, &mut feed);
            },
            Some(done) = inputs.backfilled.recv() => {
                feed.on_backfill(done)?;
                publish_ready(bus, &mut feed);
            },
            Some((cluster, result)) = inputs.ended.recv() => {
                return Err(stream_ended(cluster, result));
            },
            _ = housekeeping.tick() => {
                loading.announce(ctx, bus, &mut feed);
                housekeep(ctx, bus, &mut feed).await?;
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

/// The start-up's progress: when the last snapshot went out, and Health's note.
struct Loading {
    began: std::time::Instant,
    last_snapshot: std::time::Instant,
    total: usize,
    note: Option<String>,
    done: bool,
}

impl Loading {
    fn new(total: usize) -> Loading {
        let now = std::time::Instant::now();
        Loading {
            began: now,
            last_snapshot: now,
            total,
            note: None,
            done: false,
        }
    }

    /// Publishes the symbols loaded since the last snapshot when one is due (after the
    /// step gathered so far, which the snapshot would otherwise repeat), and keeps
    /// Health's note current.
    fn announce(&mut self, ctx: &WorkerCtx, bus: &MarketBus, feed: &mut MassiveFeed) {
        if feed.announcement_due(self.last_snapshot.elapsed()) {
            publish_ready(bus, feed);
            let snapshot = feed.announce(feed.now());
            bus.publish(MarketEvent::Snapshot(Arc::new(snapshot)));
            self.last_snapshot = std::time::Instant::now();
            ctx.heartbeat();
        }
        if !self.done && feed.symbols_loading() == 0 && feed.symbols_announced() == self.total {
            self.done = true;
            tracing::info!(
                "history loaded: {} symbols in {:.1} s",
                thousands(self.total),
                self.began.elapsed().as_secs_f64()
            );
        }
        self.note(ctx, feed);
    }

    /// Sets Health's note when it changed.
    fn note(&mut self, ctx: &WorkerCtx, feed: &MassiveFeed) {
        let note = feed_note(self.total, feed.symbols_loading(), feed.symbols_filling());
        if note != self.note {
            ctx.health.update(ctx.name, |r| r.note.clone_from(&note));
            self.note = note;
        }
    }
}

/// One stream event into the feed; a disconnect shows in Health.
fn take_event(ctx: &WorkerCtx, feed: &mut MassiveFeed, cluster: Cluster, event: StreamEvent) {
    if let Some(reason) = feed.on_stream_event(cluster, event) {
        record_disconnect(ctx, cluster, &reason);
    }
}

/// Publishes the prices and bars the feed gathered since its last step, if any.
fn publish_ready(bus: &MarketBus, feed: &mut MassiveFeed) {
    if let Some(step) = feed.take_step(feed.now()) {
        bus.publish(step);
    }
}

/// One housekeeping tick: heart-beats while every stream is live (so an outage shows as
/// stale) and rolls to a new session when the date changed.
async fn housekeep(
    ctx: &WorkerCtx,
    bus: &MarketBus,
    feed: &mut MassiveFeed,
) -> Result<(), MassiveError> {
    if feed.all_streams_live() {
        ctx.heartbeat();
    }
    // What the old session gathered goes out before the new session's snapshot.
    publish_ready(bus, feed);
    if let Some(snapshot) = feed.roll(feed.now()).await? {
        bus.publish(MarketEvent::Snapshot(Arc::new(snapshot)));
    }
    Ok(())
}

/// Health's note: while the history loads, how many symbols' history is in of how many,
/// and that the others are detected on their live bars only, e.g. "history loading:
/// 3,120 of 8,000 symbols in; detecting on live bars only for the other 4,880"; then
/// while backfills run, how many symbols' bars are held back; else none.
fn feed_note(total: usize, loading: usize, filling: usize) -> Option<String> {
    let held = (filling > 0).then(|| format!("backfill: {} symbols held", thousands(filling)));
    if loading > 0 {
        let progress = format!(
            "history loading: {} of {} symbols in; detecting on live bars only for the other {}",
            thousands(total.saturating_sub(loading)),
            thousands(total),
            thousands(loading)
        );
        Some(match held {
            Some(held) => format!("{progress}; {held}"),
            None => progress,
        })
    } else {
        held
    }
}

/// `8000` as `8,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A dropped stream shows in Health as the worker's last error (the worker keeps running
/// and reconnects by itself).
fn record_disconnect(ctx: &WorkerCtx, cluster: Cluster, reason: &str) {
    record_stream_down(
        ctx,
        &format!("{} stream disconnected: {reason}", cluster.path()),
    );
}

/// A stream's drop as the feed worker's last error in Health. Shared by the live feeds.
pub(super) fn record_stream_down(ctx: &WorkerCtx, message: &str) {
    ctx.health.update(ctx.name, |r| {
        r.errors += 1;
        r.last_error = Some(crate::text::printable(message));
        r.last_error_at = Some(Utc::now());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_symbols_whose_history_is_in_and_those_detected_on_live_bars_only() {
        assert_eq!(
            feed_note(8000, 4880, 0).as_deref(),
            Some(
                "history loading: 3,120 of 8,000 symbols in; \
                 detecting on live bars only for the other 4,880"
            )
        );
        assert_eq!(
            feed_note(10, 10, 2).as_deref(),
            Some(
                "history loading: 0 of 10 symbols in; detecting on live bars only for the \
                 other 10; backfill: 2 symbols held"
            )
        );
        assert_eq!(
            feed_note(8000, 0, 1500).as_deref(),
            Some("backfill: 1,500 symbols held")
        );
        assert_eq!(feed_note(8000, 0, 0), None, "all live, nothing held");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
