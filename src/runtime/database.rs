//! The database check: a round trip every few seconds, so a lost database shows as a
//! failed `database` worker in Health and the header (degraded) within seconds, and as
//! recovered once it answers again (the supervisor restarts the check with backoff).

use std::time::Duration;

use super::supervisor::WorkerCtx;
use crate::store::Store;

pub const WORKER: &str = "database";
pub const INTERVAL: Duration = Duration::from_secs(2);

pub async fn run_database_check(ctx: WorkerCtx, store: Store) -> Result<(), String> {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        match tokio::time::timeout(INTERVAL, store.ping()).await {
            Ok(Ok(())) => ctx.heartbeat(),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("the database did not answer within {INTERVAL:?}")),
        }
    }
}
