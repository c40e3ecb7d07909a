//! The alert channel workers (SPEC 20): one supervised worker per configured channel
//! (`ntfy`, `webhook`, `slack`, `telegram`, `command`), each with its own queue, so a
//! channel that retries or hangs never holds back the screen, Discord or another channel.
//! A failed delivery is recorded in Health (the worker's last error and failures in a row,
//! until a delivery succeeds), counted in `/metrics` and logged, never dropped silently.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::health::Health;
use super::metrics::Metrics;
use super::supervisor::{self, WorkerCtx};
use crate::config::AlertsConfig;
use crate::notify::channels::{self, Channel, Delivery};
use crate::notify::discord::RetryPolicy;

/// Deliveries waiting per channel before new ones are dropped (and logged).
const QUEUE: usize = 64;
/// A channel worker heart-beats at least this often while idle and healthy.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// Where the dispatcher hands a channel its deliveries.
#[derive(Clone, Debug)]
pub struct ChannelQueue {
    pub name: &'static str,
    /// The kinds this channel receives (empty: every kind).
    pub kinds: Vec<String>,
    tx: mpsc::Sender<Delivery>,
}

impl ChannelQueue {
    /// Queues a delivery; `false` (logged) when the channel is behind or gone.
    pub fn offer(&self, delivery: Delivery) -> bool {
        match self.tx.try_send(delivery) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    "alert not queued for {}: the channel is {}",
                    self.name,
                    match e {
                        mpsc::error::TrySendError::Full(_) => "behind",
                        mpsc::error::TrySendError::Closed(_) => "not running",
                    }
                );
                false
            }
        }
    }
}

/// Starts a worker for every channel `[alerts]` configures; their queues.
pub fn spawn_channels(
    alerts: &AlertsConfig,
    retry: &RetryPolicy,
    health: &Health,
    cancel: &CancellationToken,
    metrics: &Arc<Metrics>,
) -> Vec<ChannelQueue> {
    let (configured, failed) = channels::from_config(alerts, retry);
    for (name, e) in failed {
        tracing::error!("alerts to {name} are off: {e}");
    }
    configured
        .into_iter()
        .map(|c| {
            let name = c.channel.name();
            tracing::info!("alerts go to {name} too (its address is not shown)");
            let (tx, rx) = mpsc::channel(QUEUE);
            let worker = Worker {
                channel: Arc::new(c.channel),
                rx: Arc::new(tokio::sync::Mutex::new(rx)),
                metrics: metrics.clone(),
            };
            supervisor::spawn(
                name,
                HEARTBEAT,
                health.clone(),
                cancel.clone(),
                move |ctx| worker.clone().run(ctx),
            );
            ChannelQueue {
                name,
                kinds: c.kinds,
                tx,
            }
        })
        .collect()
}

#[derive(Clone)]
struct Worker {
    channel: Arc<Channel>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Delivery>>>,
    metrics: Arc<Metrics>,
}

impl Worker {
    async fn run(self, ctx: WorkerCtx) -> Result<(), String> {
        let mut rx = self.rx.lock().await;
        let mut beat = tokio::time::interval(HEARTBEAT);
        // The last delivery failed: no idle heartbeat may clear that from Health.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Ok(()),
                _ = beat.tick(), if !failing => ctx.heartbeat(),
                delivery = rx.recv() => {
                    let Some(delivery) = delivery else { return Ok(()) };
                    let name = self.channel.name();
                    let sent = tokio::select! {
                        sent = self.channel.send(&delivery) => sent,
                        _ = ctx.cancel.cancelled() => return Ok(()),
                    };
                    match sent {
                        Ok(()) => {
                            failing = false;
                            ctx.heartbeat();
                            self.metrics.delivery(name, true);
                        }
                        Err(e) => {
                            failing = true;
                            let error = format!("alert not delivered: {e}");
                            tracing::warn!("{name}: {error}");
                            ctx.cycle_failed(&error);
                            self.metrics.delivery(name, false);
                        }
                    }
                }
            }
        }
    }
}
