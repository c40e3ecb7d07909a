//! The database check: a round trip every few seconds, so a lost database shows as a
//! failing `database` worker in Health and the header (degraded) within seconds, and as
//! recovered at the first answer after it is back (retried every [`INTERVAL`]).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::health::Health;
use super::supervisor::{self, WorkerCtx};
use crate::store::Store;

pub const WORKER: &str = "database";
pub const INTERVAL: Duration = Duration::from_secs(2);

/// Starts the check on `store` under `health`.
pub fn spawn(store: &Store, health: &Health, cancel: &CancellationToken) {
    let store = store.clone();
    supervisor::spawn(
        WORKER,
        INTERVAL,
        health.clone(),
        cancel.clone(),
        move |ctx| run_database_check(ctx, store.clone()),
    );
}

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
            Ok(Err(e)) => ctx.cycle_failed(&e.to_string()),
            Err(_) => ctx.cycle_failed(&format!("the database did not answer within {INTERVAL:?}")),
        }
    }
}
