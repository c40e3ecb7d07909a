//! Starts the background workers one coach process runs, headless or under the TUI:
//! the market feed and everything that consumes it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::bus::MarketBus;
use super::feed::{SimFeedConfig, latest_session_date, run_sim_feed};
use super::health::{Health, StaleFloors};
use super::metrics::Metrics;
use super::monitor::{self, Monitor};
use super::supervisor;
use crate::config::Config;
use crate::market::calendar;
use crate::notify::discord::RetryPolicy;
use crate::notify::incidents::IncidentPolicy;
use crate::notify::{self, Notifier};
use crate::store::Store;

/// Handles to the running workers. Dropping it does not stop them; `shutdown` does.
pub struct Services {
    pub bus: MarketBus,
    pub health: Health,
    pub cancel: CancellationToken,
    /// Events for the screen (detections, transitions); headless callers may drain or drop it.
    pub events: mpsc::Receiver<AppEvent>,
    /// Counters for `/metrics`; workers bump them (`metrics.detection(kind)`, …).
    pub metrics: Arc<Metrics>,
    /// Trading alerts go through this (`notifier.trading(alert)`).
    pub notifier: Notifier,
}

impl Services {
    /// Spawns every worker on the current tokio runtime. `now` picks the simulated session.
    pub fn start(config: &Config, store: &Store, now: DateTime<Utc>) -> Services {
        let health = Health::with_floors(StaleFloors::from_config(&config.health));
        let cancel = CancellationToken::new();
        let (bus, snapshot_requests) = MarketBus::new(4096);
        let (events_tx, events) = mpsc::channel(1024);
        let metrics = Arc::new(Metrics::default());
        // Alerting first, so every worker below can be handed `notifier.clone()`.
        let notifier = spawn_alerting(
            config,
            &health,
            &cancel,
            Some(bus.clone()),
            events_tx.clone(),
            metrics.clone(),
            now,
        );

        let feed_config = SimFeedConfig {
            seed: config.sim.seed,
            speed: config.sim.speed,
            symbols: config.sim.symbols.clone(),
            date: latest_session_date(calendar::ny_date(now)),
        };
        let feed_bus = bus.clone();
        supervisor::spawn(
            "feed",
            step_interval(config),
            health.clone(),
            cancel.clone(),
            move |ctx| {
                run_sim_feed(
                    ctx,
                    feed_config.clone(),
                    feed_bus.clone(),
                    snapshot_requests.clone(),
                )
            },
        );
        // Until the detector worker is wired, nothing sends screen events.
        drop((events_tx, store));

        Services {
            bus,
            health,
            cancel,
            events,
            metrics,
            notifier,
        }
    }

    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Starts the alert dispatcher and the health monitor on `health`, and returns the
/// handle trading alerts go through. `started_at` starts the incident grace; `bus`, when
/// given, is counted for metrics. Used by `Services::start`, and by tests with their own
/// workers.
pub fn spawn_alerting(
    config: &Config,
    health: &Health,
    cancel: &CancellationToken,
    bus: Option<MarketBus>,
    events: mpsc::Sender<AppEvent>,
    metrics: Arc<Metrics>,
    started_at: DateTime<Utc>,
) -> Notifier {
    let (notifier, dispatcher) =
        notify::notifier(config, RetryPolicy::default(), events, metrics.clone());
    if dispatcher.has_webhook() {
        tracing::info!("alerts go to the Discord webhook (its URL is not shown)");
    } else {
        tracing::info!("no Discord webhook configured: alerts are logged and shown only");
    }
    supervisor::spawn(
        notify::WORKER,
        notify::HEARTBEAT,
        health.clone(),
        cancel.clone(),
        move |ctx| dispatcher.clone().run(ctx),
    );
    let cadence = config.health.check_interval();
    let monitor = Monitor::new(
        IncidentPolicy::from_config(&config.alerts),
        started_at,
        cadence,
        notifier.clone(),
        metrics,
        bus,
    );
    supervisor::spawn(
        monitor::WORKER,
        cadence,
        health.clone(),
        cancel.clone(),
        move |ctx| monitor.clone().run(ctx),
    );
    notifier
}

/// Real time between two feed steps (15 simulated seconds), at least a second so the
/// stale threshold (3× this) never trips on scheduling noise.
fn step_interval(config: &Config) -> Duration {
    Duration::from_secs_f64((15.0 / config.sim.speed).max(1.0))
}
