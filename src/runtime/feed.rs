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
    bus.publish(MarketEvent::Snapshot(Arc::new(market.snapshot(cursor))));
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
            bus.publish(MarketEvent::Snapshot(Arc::new(market.snapshot(cursor))));
            ctx.heartbeat();
            continue;
        }
        let wake = tokio::time::Instant::from_std(clock.real_instant(step));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            Some(reply) = requests.next() => {
                // The requester may have gone away meanwhile; nothing to do then.
                if reply.send(Arc::new(market.snapshot(cursor))).is_err() {
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
        ctx.heartbeat();
    }
}
