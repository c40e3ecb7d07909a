//! `coach serve` publishes itself in `worker_status` (SPEC 14): every worker's record,
//! and the feed's last prices (worker `market`), every couple of seconds, so a screen
//! attached to the database shows the server's health and prices without a feed of its
//! own. Losing the database marks this worker failing; it retries every [`INTERVAL`].

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

use super::bus::MarketBus;
use super::health::Health;
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::provider::{MarketEvent, Quote};
use crate::store::{Store, WorkerStatus};

pub const WORKER: &str = "status";
pub const INTERVAL: Duration = Duration::from_secs(2);
/// The `worker` of the row with the last prices: `{"quotes": [{symbol, price, at}]}`.
pub const MARKET_ROW: &str = "market";

/// The rows one publication writes: each worker's record, then the last prices.
pub fn status_rows(
    instance: &str,
    health: &Health,
    last: &BTreeMap<Symbol, Quote>,
    now: DateTime<Utc>,
) -> Vec<WorkerStatus> {
    let mut rows: Vec<WorkerStatus> = health
        .snapshot()
        .into_iter()
        .map(|record| WorkerStatus {
            worker: record.name.clone(),
            instance: instance.to_string(),
            state: record.state.as_str().to_string(),
            last_heartbeat: now,
            payload_json: serde_json::to_string(&record).unwrap_or_else(|_| "{}".into()),
        })
        .collect();
    let quotes: Vec<serde_json::Value> = last
        .values()
        .map(|q| serde_json::json!({ "symbol": q.symbol, "price": q.price, "at": q.at }))
        .collect();
    rows.push(WorkerStatus {
        worker: MARKET_ROW.to_string(),
        instance: instance.to_string(),
        state: "running".into(),
        last_heartbeat: now,
        payload_json: serde_json::json!({ "quotes": quotes }).to_string(),
    });
    rows
}

pub async fn run_status(
    ctx: WorkerCtx,
    store: Store,
    instance: String,
    bus: MarketBus,
) -> Result<(), String> {
    let mut events = bus.subscribe();
    let mut last: BTreeMap<Symbol, Quote> = BTreeMap::new();
    if let Some(snapshot) = bus.snapshot().await {
        for s in &snapshot.symbols {
            if let Some(q) = &s.last {
                last.insert(s.symbol.clone(), q.clone());
            }
        }
    }
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Ok(()),
            event = events.recv() => match event {
                Ok(MarketEvent::Step { quotes, .. }) => {
                    for q in quotes {
                        last.insert(q.symbol.clone(), q);
                    }
                }
                Ok(MarketEvent::Snapshot(_)) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Err("the market bus closed".into()),
            },
            _ = tick.tick() => {
                let rows = status_rows(&instance, &ctx.health, &last, Utc::now());
                match store.put_worker_status(&rows).await {
                    Ok(()) => ctx.heartbeat(),
                    // Retried at the next tick; Health shows it meanwhile.
                    Err(e) => ctx.cycle_failed(&e.to_string()),
                }
            }
        }
    }
}
