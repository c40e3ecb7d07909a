//! `coach --attach` (SPEC 14): a screen without workers of its own. No feed, detector or
//! evaluator runs here; the trader's setups, watchlist and the session's detections come
//! from the database (LISTEN/NOTIFY, src/runtime/listen.rs), the servers' health and last
//! prices from `worker_status` (src/runtime/remote.rs), and the database's own health
//! from a periodic check. The trader's actions are written by the screen's action runner
//! as usual; the server hears them through its own listener.

use tokio::sync::watch;

use super::ownership::Owned;
use super::services::Services;
use super::{database, listen, remote};
use crate::config::Config;
use crate::store::{Store, UserId};

impl Services {
    /// Starts an attached screen's three readers for `user` on `store` (PostgreSQL): the
    /// database check, the screen's listener and the servers' status reader. No feed,
    /// GEX worker, brief scheduler or notifier runs here, and the screen owns no symbol.
    pub fn attach(config: &Config, store: &Store, user: UserId) -> Services {
        let (_, owned) = watch::channel(Owned::Only(Default::default()));
        // No feed answers snapshot requests: dropping their receiver makes them `None`.
        let (services, requests) = Services::new(config, 1024, owned);
        drop(requests);

        database::spawn(store, &services.health, &services.cancel);
        // The servers' stored backtest statistics, once (the Scanner's edge column); a
        // later scheduled run shows after the screen restarts.
        let (stats_store, edge, screen) = (
            store.clone(),
            services.edge.clone(),
            services.events_tx.clone(),
        );
        tokio::spawn(async move {
            super::backtest::load_stored(&stats_store, &edge, &screen).await;
        });
        let (listen_store, screen) = (store.clone(), services.events_tx.clone());
        services.spawn(listen::WORKER, listen::INTERVAL, move |ctx| {
            listen::run_screen_listener(ctx, listen_store.clone(), user, screen.clone())
        });
        let (remote_store, remote_bus, screen) = (
            store.clone(),
            services.bus.clone(),
            services.events_tx.clone(),
        );
        services.spawn(remote::WORKER, remote::INTERVAL, move |ctx| {
            remote::run_remote(
                ctx,
                remote_store.clone(),
                remote_bus.clone(),
                screen.clone(),
            )
        });
        services
    }
}
