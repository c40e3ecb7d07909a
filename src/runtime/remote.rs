//! An attached screen's view of the servers (SPEC 14): every second, the `worker_status`
//! rows the `coach serve` instances wrote (src/runtime/status.rs) become the Health
//! pane's remote records, and their last prices become quotes on the screen's own bus.
//! No server heard from recently (or no database) marks this worker failing, so the
//! header shows degraded; it keeps polling and recovers at the first fresh row.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::AppEvent;
use super::bus::MarketBus;
use super::health::WorkerRecord;
use super::status::MARKET_ROW;
use super::supervisor::WorkerCtx;
use crate::domain::Symbol;
use crate::provider::{MarketEvent, Quote};
use crate::store::{OWNERSHIP_ROW, Store, WorkerStatus};

pub const WORKER: &str = "server";
pub const INTERVAL: Duration = Duration::from_secs(1);
/// Rows older than this are from servers that stopped: not shown.
const SHOWN: chrono::Duration = chrono::Duration::seconds(60);
/// With no row newer than this, no server is running.
const SILENT: chrono::Duration = chrono::Duration::seconds(10);

#[derive(Deserialize)]
struct MarketPayload {
    quotes: Vec<QuotePayload>,
}

#[derive(Deserialize)]
struct QuotePayload {
    symbol: Symbol,
    price: f64,
    at: DateTime<Utc>,
}

/// The workers and the freshest price of each symbol in `rows`. Unreadable payloads are
/// skipped (a server of another version).
pub fn read_rows(rows: &[WorkerStatus]) -> (Vec<WorkerRecord>, Vec<Quote>) {
    let mut workers = Vec::new();
    let mut quotes: BTreeMap<Symbol, Quote> = BTreeMap::new();
    for row in rows {
        if row.worker == OWNERSHIP_ROW {
            continue;
        }
        if row.worker == MARKET_ROW {
            let Ok(market) = serde_json::from_str::<MarketPayload>(&row.payload_json) else {
                continue;
            };
            for q in market.quotes.into_iter().filter(|q| q.price.is_finite()) {
                if quotes.get(&q.symbol).is_none_or(|old| old.at < q.at) {
                    quotes.insert(
                        q.symbol.clone(),
                        Quote {
                            symbol: q.symbol,
                            price: q.price,
                            at: q.at,
                        },
                    );
                }
            }
            continue;
        }
        if let Ok(mut record) = serde_json::from_str::<WorkerRecord>(&row.payload_json) {
            record.name = crate::text::printable(&format!("{} {}", row.instance, row.worker));
            workers.push(record);
        }
    }
    (workers, quotes.into_values().collect())
}

pub async fn run_remote(
    ctx: WorkerCtx,
    store: Store,
    bus: MarketBus,
    screen: mpsc::Sender<AppEvent>,
) -> Result<(), String> {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let now = Utc::now();
        let rows = match store.worker_statuses(now - SHOWN).await {
            Ok(rows) => rows,
            Err(e) => {
                ctx.cycle_failed(&e.to_string());
                continue;
            }
        };
        let (workers, quotes) = read_rows(&rows);
        if screen.send(AppEvent::RemoteWorkers(workers)).await.is_err() {
            return Ok(());
        }
        if let Some(at) = quotes.iter().map(|q| q.at).max() {
            bus.publish(MarketEvent::Step {
                at,
                quotes,
                bars: Vec::new(),
            });
        }
        if rows.iter().any(|r| now - r.last_heartbeat < SILENT) {
            ctx.heartbeat();
        } else {
            ctx.cycle_failed(&format!(
                "no coach serve has reported for {} s",
                SILENT.num_seconds()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(worker: &str, instance: &str, payload: &str) -> WorkerStatus {
        WorkerStatus {
            worker: worker.into(),
            instance: instance.into(),
            state: "running".into(),
            last_heartbeat: Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap(),
            payload_json: payload.into(),
        }
    }

    #[test]
    fn workers_are_named_by_instance_and_the_freshest_price_wins() {
        let record = r#"{"name":"feed","state":"running","expected_interval":1.0,
            "stale_after":30.0,"started_at":null,"last_cycle_start":null,
            "last_cycle_end":null,"last_success":null,"last_error_at":null,
            "last_error":null,"cycles":3,"errors":0,"consecutive_failures":0,"restarts":0}"#;
        let rows = [
            row("feed", "box-1", record),
            row(
                MARKET_ROW,
                "box-1",
                r#"{"quotes":[{"symbol":"SPY","price":681.5,"at":"2026-11-25T15:00:00Z"}]}"#,
            ),
            row(
                MARKET_ROW,
                "box-2",
                r#"{"quotes":[{"symbol":"SPY","price":681.75,"at":"2026-11-25T15:00:15Z"}]}"#,
            ),
            row(OWNERSHIP_ROW, "box-1", r#"{"symbols":["SPY"]}"#),
            row("detect", "box-3", "written by another version"),
        ];
        let (workers, quotes) = read_rows(&rows);
        let names: Vec<&str> = workers.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(
            names,
            ["box-1 feed"],
            "unreadable rows and ownership are skipped"
        );
        assert_eq!(workers[0].cycles, 3);
        assert_eq!(quotes.len(), 1);
        assert_eq!(quotes[0].price, 681.75, "box-2's later quote");
    }

    #[test]
    fn a_market_row_with_a_non_finite_price_adds_nothing() {
        let rows = [row(
            MARKET_ROW,
            "box-1",
            r#"{"quotes":[{"symbol":"SPY","price":1e999,"at":"2026-11-25T15:00:00Z"}]}"#,
        )];
        let (_, quotes) = read_rows(&rows);
        assert!(quotes.is_empty());
    }
}
