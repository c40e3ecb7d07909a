//! `coach --attach` (SPEC 14): a screen without workers of its own. No feed, detector or
//! evaluator runs here; the trader's setups, watchlist and the session's detections come
//! from the database (LISTEN/NOTIFY, src/runtime/listen.rs), the servers' health and last
//! prices from `worker_status` (src/runtime/remote.rs), and the database's own health
//! from a periodic check. The trader's actions are written by the screen's action runner
//! as usual; the server hears them through its own listener.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::brief::BriefChannels;
use super::bus::MarketBus;
use super::gex::GexChannels;
use super::health::{Health, StaleFloors};
use super::setup_changes::SetupChanges;
use super::{database, listen, remote, supervisor};
use crate::config::Config;
use crate::store::{Store, UserId};

/// What the screen reads from, shaped like [`super::services::Services`].
pub struct Attached {
    /// Quotes from the servers' last prices (no bars: no sparklines when attached).
    pub bus: MarketBus,
    pub health: Health,
    pub cancel: CancellationToken,
    pub events: mpsc::Receiver<AppEvent>,
    pub events_tx: mpsc::Sender<AppEvent>,
    /// No GEX worker runs here; requests are refused with a message.
    pub gex: GexChannels,
    pub setup_changes: SetupChanges,
    /// No brief scheduler runs here (the server's writes the briefs); the stored brief
    /// arrives through the listener.
    pub brief: BriefChannels,
}

impl Attached {
    /// Starts the screen's three readers for `user` on `store` (PostgreSQL).
    pub fn start(config: &Config, store: &Store, user: UserId) -> Attached {
        let health = Health::with_floors(StaleFloors::from_config(&config.health));
        let cancel = CancellationToken::new();
        // No feed answers snapshot requests: dropping their receiver makes them `None`.
        let (bus, requests) = MarketBus::new(1024);
        drop(requests);
        let (events_tx, events) = mpsc::channel(1024);

        database::spawn(store, &health, &cancel);
        let (listen_store, screen) = (store.clone(), events_tx.clone());
        supervisor::spawn(
            listen::WORKER,
            listen::INTERVAL,
            health.clone(),
            cancel.clone(),
            move |ctx| listen::run_screen_listener(ctx, listen_store.clone(), user, screen.clone()),
        );
        let (remote_store, remote_bus, screen) = (store.clone(), bus.clone(), events_tx.clone());
        supervisor::spawn(
            remote::WORKER,
            remote::INTERVAL,
            health.clone(),
            cancel.clone(),
            move |ctx| {
                remote::run_remote(
                    ctx,
                    remote_store.clone(),
                    remote_bus.clone(),
                    screen.clone(),
                )
            },
        );
        Attached {
            bus,
            health,
            cancel,
            events,
            events_tx,
            gex: GexChannels::new(),
            setup_changes: SetupChanges::default(),
            brief: BriefChannels::new(),
        }
    }
}
