//! The health monitor worker (SPEC 9): on a fixed cadence it evaluates every worker's
//! record for incidents (so alerts fire even when no one is looking) and hands the
//! notices to the alert dispatcher; it also counts the market events on the bus for
//! `/metrics`. Incident state lives outside the run, so a restarted monitor does not
//! announce again what was already told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, oneshot};

use super::bus::{MarketBus, MarketReceiver};
use super::health::Health;
use super::metrics::Metrics;
use super::supervisor::WorkerCtx;
use crate::notify::Notifier;
use crate::notify::incidents::{IncidentPolicy, Incidents};
use crate::provider::MarketEvent;

/// The monitor's name in Health; it never reports on itself.
pub const WORKER: &str = "health";

struct State {
    incidents: Incidents,
    /// Notices on their way: the worker and the delivery report.
    pending: Vec<(String, oneshot::Receiver<bool>)>,
}

/// Clone it into `supervisor::spawn`.
#[derive(Clone)]
pub struct Monitor {
    state: Arc<Mutex<State>>,
    notifier: Notifier,
    metrics: Arc<Metrics>,
    bus: Option<MarketBus>,
    cadence: Duration,
}

impl Monitor {
    /// `started_at` starts the incident grace; `cadence` is how often it checks; `bus`, when given, is counted for metrics.
    pub fn new(
        policy: IncidentPolicy,
        started_at: DateTime<Utc>,
        cadence: Duration,
        notifier: Notifier,
        metrics: Arc<Metrics>,
        bus: Option<MarketBus>,
    ) -> Monitor {
        Monitor {
            state: Arc::new(Mutex::new(State {
                incidents: Incidents::new(policy, started_at, &[WORKER]),
                pending: Vec::new(),
            })),
            notifier,
            metrics,
            bus,
            cadence,
        }
    }

    pub async fn run(self, ctx: WorkerCtx) -> Result<(), String> {
        let mut tick = tokio::time::interval(self.cadence);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut market = self.bus.as_ref().map(MarketBus::subscribe);
        loop {
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Ok(()),
                _ = tick.tick() => {
                    self.check(&ctx.health, Utc::now());
                    ctx.heartbeat();
                }
                event = next_event(&mut market) => match event {
                    Ok(_) => self.metrics.market_events(1, Utc::now()),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        self.metrics.market_events(missed, Utc::now());
                    }
                    Err(broadcast::error::RecvError::Closed) => market = None,
                },
            }
        }
    }

    /// Settles finished deliveries, then sends the notices due at `now`.
    pub fn check(&self, health: &Health, now: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let State { incidents, pending } = &mut *state;
        pending.retain_mut(|(worker, report)| match report.try_recv() {
            Ok(delivered) => {
                incidents.delivered(worker, delivered, now);
                false
            }
            Err(oneshot::error::TryRecvError::Empty) => true,
            Err(oneshot::error::TryRecvError::Closed) => {
                incidents.delivered(worker, false, now);
                false
            }
        });
        for notice in incidents.evaluate(&health.snapshot(), now) {
            let worker = notice.worker().to_string();
            match self.notifier.ops(notice) {
                Some(report) => pending.push((worker, report)),
                None => {
                    tracing::warn!(
                        "incident for {worker} not queued: the alert dispatcher is behind"
                    );
                    incidents.delivered(&worker, false, now);
                }
            }
        }
    }
}

async fn next_event(
    market: &mut Option<MarketReceiver>,
) -> Result<MarketEvent, broadcast::error::RecvError> {
    match market {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
