//! Starts the background workers one coach process runs, headless or under the TUI:
//! the market feed and everything that consumes it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::bus::MarketBus;
use super::detect::run_detector;
use super::feed::{SimFeedConfig, latest_session_date, run_sim_feed};
use super::health::Health;
use super::supervisor;
use crate::config::Config;
use crate::market::calendar;
use crate::provider::massive::KNOWN_INDICES;
use crate::provider::massive::feed::{MassiveFeedConfig, run_massive_feed};
use crate::store::Store;

/// Handles to the running workers. Dropping it does not stop them; `shutdown` does.
pub struct Services {
    pub bus: MarketBus,
    pub health: Health,
    pub cancel: CancellationToken,
    /// Events for the screen (detections, transitions); headless callers may drain or drop it.
    pub events: mpsc::Receiver<AppEvent>,
    /// For the screen's own results (saved actions) to arrive in the same stream.
    pub events_tx: mpsc::Sender<AppEvent>,
}

impl Services {
    /// Spawns every worker on the current tokio runtime. `now` picks the simulated session.
    pub fn start(config: &Config, store: &Store, now: DateTime<Utc>) -> Services {
        let health = Health::default();
        let cancel = CancellationToken::new();
        let (bus, snapshot_requests) = MarketBus::new(4096);
        let (events_tx, events) = mpsc::channel(1024);

        if config.general.provider == "massive" {
            let feed_config = massive_feed_config(config);
            let feed_bus = bus.clone();
            supervisor::spawn(
                "feed",
                Duration::from_secs(1),
                health.clone(),
                cancel.clone(),
                move |ctx| {
                    run_massive_feed(
                        ctx,
                        feed_config.clone(),
                        feed_bus.clone(),
                        snapshot_requests.clone(),
                    )
                },
            );
        } else {
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
        }
        let (detect_config, detect_bus, detect_store, detect_events) = (
            config.detectors.clone(),
            bus.clone(),
            store.clone(),
            events_tx.clone(),
        );
        supervisor::spawn(
            "detect",
            step_interval(config),
            health.clone(),
            cancel.clone(),
            move |ctx| {
                run_detector(
                    ctx,
                    detect_config.clone(),
                    detect_bus.clone(),
                    detect_store.clone(),
                    detect_events.clone(),
                )
            },
        );

        Services {
            bus,
            health,
            cancel,
            events,
            events_tx,
        }
    }

    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// The live feed quotes the same symbols the simulation would (`sim.symbols`, which the
/// dashboard extends with the watchlist); indices are the detectors' index symbols and the
/// well-known cash indices.
fn massive_feed_config(config: &Config) -> MassiveFeedConfig {
    let indices = config
        .sim
        .symbols
        .iter()
        .filter(|s| {
            config.detectors.index_symbols.contains(s) || KNOWN_INDICES.contains(&s.as_str())
        })
        .cloned()
        .collect();
    MassiveFeedConfig::new(
        config.massive.connection(),
        config.sim.symbols.clone(),
        indices,
    )
}

/// Real time between two feed steps (15 simulated seconds), at least a second so the
/// stale threshold (3× this) never trips on scheduling noise.
fn step_interval(config: &Config) -> Duration {
    Duration::from_secs_f64((15.0 / config.sim.speed).max(1.0))
}
