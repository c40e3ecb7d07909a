//! The played feed worker: reveals a market that is known in advance (the simulation, or
//! recorded bars) step by step on the virtual clock and publishes `MarketEvent`s on the bus.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::bus::{MarketBus, SnapshotRequests};
use super::clock::VirtualClock;
use super::supervisor::WorkerCtx;
use crate::market::calendar::Session;
use crate::provider::MarketEvent;
// Re-exported: the feed plays these, and callers name them from here.
pub use crate::provider::{Playable, latest_session_date};

/// Minutes before the open at which the virtual clock starts.
const LEAD_IN_MINUTES: i64 = 5;

fn session_start(session: Session) -> DateTime<Utc> {
    session.open - Duration::minutes(LEAD_IN_MINUTES)
}

/// Runs the feed until cancelled (or until a recording ends), answering snapshot requests
/// between steps. Publishing never blocks: a lagging subscriber loses the oldest events and
/// is told so.
pub async fn run_played_feed<M: Playable>(
    ctx: WorkerCtx,
    mut market: M,
    speed: f64,
    bus: MarketBus,
    requests: SnapshotRequests,
) -> Result<(), String> {
    let mut clock = VirtualClock::new(session_start(market.session()), speed);
    let mut cursor = clock.now();
    let first = Arc::new(market.snapshot(cursor));
    bus.publish(MarketEvent::Snapshot(first.clone()));
    // The snapshot of the market at `cursor` last made, answered again until the next step
    // moves the cursor (then dropped, so the feed holds none for long).
    let mut shared: Option<(DateTime<Utc>, Arc<crate::provider::MarketSnapshot>)> =
        Some((cursor, first));
    ctx.heartbeat();
    loop {
        let end = market.session().after_hours_close();
        let step = market.next_step(cursor);
        if step > end {
            if !market.roll() {
                tracing::info!("the recording has no more sessions; the feed stops");
                bus.end("the recording has no more sessions");
                return Ok(());
            }
            clock.jump_to(session_start(market.session()));
            cursor = clock.now();
            let fresh = Arc::new(market.snapshot(cursor));
            bus.publish(MarketEvent::Snapshot(fresh.clone()));
            shared = Some((cursor, fresh));
            ctx.heartbeat();
            continue;
        }
        let wake = tokio::time::Instant::from_std(clock.real_instant(step));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            Some(reply) = requests.next() => {
                // Every request between two steps shares one snapshot (issue 25: at start
                // each worker asks for one, and at 500 symbols each copy held tens of MB).
                let snapshot = match &shared {
                    Some((at, snapshot)) if *at == cursor => snapshot.clone(),
                    _ => {
                        let snapshot = Arc::new(market.snapshot(cursor));
                        shared = Some((cursor, snapshot.clone()));
                        snapshot
                    }
                };
                // The requester may have gone away meanwhile; nothing to do then.
                if reply.send(snapshot).is_err() {
                    tracing::debug!("a snapshot requester went away");
                }
                continue;
            }
            _ = ctx.cancel.cancelled() => return Ok(()),
        }
        let now = clock.now();
        let mut at = step;
        while at <= now && at <= end {
            if let Some(event) = market.step_event(at) {
                bus.publish(event);
            }
            cursor = at;
            at = market.next_step(at);
        }
        if shared.as_ref().is_some_and(|(at, _)| *at != cursor) {
            shared = None;
        }
        ctx.heartbeat();
    }
}
