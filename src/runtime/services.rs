//! Starts the background workers one coach process runs, headless or under the TUI:
//! the market feed and everything that consumes it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::auto_track::{DetectionInbox, run_auto_track};
use super::bus::MarketBus;
use super::detect::run_detector;
use super::evaluate::run_evaluator;
use super::feed::{SimFeedConfig, latest_session_date, run_sim_feed};
use super::health::Health;
use super::setup_changes::SetupChanges;
use super::supervisor;
use crate::config::Config;
use crate::market::calendar;
use crate::store::Store;

/// Handles to the running workers. Dropping it does not stop them; `shutdown` does.
pub struct Services {
    pub bus: MarketBus,
    pub health: Health,
    pub cancel: CancellationToken,
    /// Events for the screen (detections, transitions); headless callers may drain or drop it.
    pub events: mpsc::Receiver<AppEvent>,
    /// Tracked-setup changes: publish every setup the screen changes (track, manual
    /// transitions, notes, delete) so the evaluator's book follows; subscribe to hear the
    /// evaluator's and the auto-tracker's.
    pub setup_changes: SetupChanges,
}

impl Services {
    /// Spawns every worker on the current tokio runtime. `now` picks the simulated session.
    pub fn start(config: &Config, store: &Store, now: DateTime<Utc>) -> Services {
        let health = Health::default();
        let cancel = CancellationToken::new();
        let (bus, snapshot_requests) = MarketBus::new(4096);
        let (events_tx, events) = mpsc::channel(1024);
        let setup_changes = SetupChanges::default();

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
        // With auto-tracking on, the detector's events pass through the auto-tracker on
        // their way to the screen; otherwise they go straight there.
        let detector_tx = if config.setups.auto_track {
            let (tx, rx) = mpsc::channel(1024);
            let inbox = DetectionInbox::new(rx);
            let (user, bus, store, changes, ui) = (
                config.general.user.clone(),
                bus.clone(),
                store.clone(),
                setup_changes.clone(),
                events_tx.clone(),
            );
            supervisor::spawn(
                "autotrack",
                step_interval(config),
                health.clone(),
                cancel.clone(),
                move |ctx| {
                    run_auto_track(
                        ctx,
                        user.clone(),
                        bus.clone(),
                        store.clone(),
                        changes.clone(),
                        inbox.clone(),
                        ui.clone(),
                    )
                },
            );
            tx
        } else {
            events_tx.clone()
        };
        let (detect_config, detect_bus, detect_store) =
            (config.detectors.clone(), bus.clone(), store.clone());
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
                    detector_tx.clone(),
                )
            },
        );
        let (evaluate_bus, evaluate_store, evaluate_changes) =
            (bus.clone(), store.clone(), setup_changes.clone());
        supervisor::spawn(
            "evaluate",
            step_interval(config),
            health.clone(),
            cancel.clone(),
            move |ctx| {
                run_evaluator(
                    ctx,
                    evaluate_bus.clone(),
                    evaluate_store.clone(),
                    evaluate_changes.clone(),
                    events_tx.clone(),
                )
            },
        );

        Services {
            bus,
            health,
            cancel,
            events,
            setup_changes,
        }
    }

    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Real time between two feed steps (15 simulated seconds), at least a second so the
/// stale threshold (3× this) never trips on scheduling noise.
fn step_interval(config: &Config) -> Duration {
    Duration::from_secs_f64((15.0 / config.sim.speed).max(1.0))
}
