//! `coach serve [--http ADDR]`: every worker headless (no terminal UI), so alerts keep
//! firing while no one is watching; logs go to stderr; optionally an HTTP endpoint with
//! `GET /health/workers` and `GET /metrics`. SIGTERM or SIGINT stops it within 5 s,
//! exit 0.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use clap::Args;
use tokio::sync::mpsc;

use super::CliError;
use super::dashboard::CommonArgs;
use crate::config::Config;
use crate::notify;
use crate::runtime::AppEvent;
use crate::runtime::health::{Health, WorkerState};
use crate::runtime::services::{Feed, Services};
use crate::runtime::{listen, status, supervisor};
use crate::serve::{self, Endpoint};
use crate::store::{Store, redact_url};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Serve GET /health/workers and GET /metrics on ADDR, e.g. 127.0.0.1:9464 (port 0
    /// picks a free one; the address is logged). Default: [serve] http, else no endpoint.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    #[command(flatten)]
    pub market: super::dashboard::MarketArgs,
}

/// How long shutdown waits for the workers, then for the HTTP server and the store:
/// together well inside the 5 s a service manager allows.
const WORKERS_GRACE: Duration = Duration::from_secs(2);
const HTTP_GRACE: Duration = Duration::from_secs(1);
const STORE_GRACE: Duration = Duration::from_secs(1);

pub fn run(args: ServeArgs, common: &CommonArgs) -> Result<(), CliError> {
    let mut config = common.load_config()?;
    if let Some(addr) = args.http {
        config.serve.http = addr.to_string();
    }
    init_logging();
    if let Some(warning) = crate::config::secrets_exposed_warning(common.config.as_deref()) {
        tracing::warn!("{warning}");
    }
    let _sentry = notify::sentry::init(&config.sentry);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let result = runtime.block_on(serve(config));
    runtime.shutdown_timeout(Duration::from_millis(300));
    result
}

/// Plain-text logs on stderr (no colours unless stderr is a terminal); `COACH_LOG`
/// filters as `RUST_LOG` would. Secrets never reach a log line: they are `Secret`s.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COACH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let installed = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .try_init();
    if installed.is_err() {
        tracing::debug!("a tracing subscriber was already installed");
    }
}

fn database_label(config: &Config) -> String {
    match config.general.db.as_str() {
        "" => "sqlite (default location)".to_string(),
        url if url.starts_with("sqlite:") => format!(
            "sqlite {}",
            url.trim_start_matches("sqlite:").trim_start_matches("//")
        ),
        url => redact_url(url),
    }
}

/// The provider and, for the ones that play at a speed, the speed in use: `replay ×60`,
/// `sim ×1`, `massive`.
fn provider_label(config: &Config) -> String {
    match config.general.provider.as_str() {
        "sim" => format!("sim ×{}", config.sim.speed),
        "replay" => format!("replay ×{}", config.replay.speed),
        other => other.to_string(),
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let now = Utc::now();
    // Listening from the start: a signal during startup is a clean shutdown too, not the
    // default action's abrupt death.
    let shutdown = shutdown_signal()?;
    let store = Store::open(&config.general.db)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let listener = match config.serve.http.as_str() {
        "" => None,
        addr => {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|_| CliError::Input(format!("serve.http: {addr:?} is not an address")))?;
            let listener = serve::bind(addr)
                .await
                .map_err(|e| CliError::Runtime(format!("cannot listen on {addr}: {e}")))?;
            if let Some(warning) = serve::exposure_warning(addr) {
                tracing::warn!("{warning}");
            }
            Some(listener)
        }
    };

    // Every user's armed alerts are evaluated here, so a live feed quotes their symbols
    // (the simulation only its own `[sim] symbols`; the others are named in the log).
    let armed = store
        .armed_alerts()
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let mut config = config;
    let unsimulated =
        crate::cli::dashboard::extend_feed(&mut config, armed.iter().map(|(_, a)| &a.symbol));
    // GEX is kept up to date for every user's default watchlist and armed alerts.
    let watched = store
        .default_watchlist_symbols()
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    config
        .gex
        .keep(watched.iter().chain(armed.iter().map(|(_, a)| &a.symbol)));
    if let Some(message) = crate::provider::coverage::sim_no_data_message(&unsimulated) {
        tracing::warn!("armed alerts: {message}");
    }
    let feed = Feed::from_config(&config).map_err(CliError::Input)?;
    let services = Services::start(&config, &store, now, feed);
    tracing::info!(
        "coach serve: workers running headless; provider {}, database {}",
        provider_label(&config),
        database_label(&config)
    );
    spawn_team_workers(&store, &services);
    tracing::info!("instance {}", services.instance);
    let Services {
        health,
        cancel,
        events,
        metrics,
        bus: _bus,
        notifier: _notifier,
        ..
    } = services;
    tokio::spawn(log_events(events));

    let http = match listener {
        Some(listener) => {
            let addr = listener
                .local_addr()
                .map_err(|e| CliError::Runtime(format!("cannot read the bound address: {e}")))?;
            tracing::info!("listening on http://{addr} (GET /health/workers, GET /metrics)");
            let endpoint = Endpoint {
                health: health.clone(),
                metrics,
            };
            let shutdown = cancel.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = serve::run(listener, endpoint, shutdown).await {
                    tracing::error!("the HTTP endpoint stopped: {e}");
                }
            }))
        }
        None => {
            tracing::info!("no HTTP endpoint (use --http ADDR or [serve] http)");
            None
        }
    };

    let signal = shutdown.await?;
    tracing::info!("{signal}: shutting down");
    cancel.cancel();
    if !all_stopped(&health, WORKERS_GRACE).await {
        let running: Vec<String> = health
            .snapshot()
            .into_iter()
            .filter(|r| r.state != WorkerState::Stopped)
            .map(|r| r.name)
            .collect();
        tracing::warn!("workers still busy at shutdown: {}", running.join(", "));
    }
    if let Some(http) = http
        && tokio::time::timeout(HTTP_GRACE, http).await.is_err()
    {
        tracing::warn!("open HTTP connections were cut at shutdown");
    }
    if tokio::time::timeout(STORE_GRACE, store.close())
        .await
        .is_err()
    {
        tracing::warn!("the database did not close in time");
    }
    tracing::info!("stopped");
    Ok(())
}

/// What a server adds for attached screens and other servers: its workers and prices in
/// `worker_status`, and the setups screens write: heard through LISTEN on PostgreSQL,
/// through a polled fingerprint on SQLite.
fn spawn_team_workers(store: &Store, services: &Services) {
    let (status_store, instance, bus) = (
        store.clone(),
        services.instance.clone(),
        services.bus.clone(),
    );
    supervisor::spawn(
        status::WORKER,
        status::INTERVAL,
        services.health.clone(),
        services.cancel.clone(),
        move |ctx| status::run_status(ctx, status_store.clone(), instance.clone(), bus.clone()),
    );
    if let Store::Postgres(_) = store {
        let (listen_store, changes) = (store.clone(), services.setup_changes.clone());
        supervisor::spawn(
            listen::WORKER,
            listen::INTERVAL,
            services.health.clone(),
            services.cancel.clone(),
            move |ctx| listen::run_server_listener(ctx, listen_store.clone(), changes.clone()),
        );
    } else {
        // SQLite has no NOTIFY: the evaluator follows what `coach setups` and dashboards
        // on the same file change through a polled fingerprint (issue 22 item 5).
        tokio::spawn(crate::runtime::poll_changes::run_for_evaluator(
            store.clone(),
            services.setup_changes.clone(),
            services.cancel.clone(),
        ));
    }
}

/// Logs what a screen would have shown (notices are logged by the dispatcher already).
async fn log_events(mut events: mpsc::Receiver<AppEvent>) {
    while let Some(event) = events.recv().await {
        match event {
            AppEvent::Detection(found) => {
                let d = &found.detection;
                tracing::info!(
                    target: "coach::detection",
                    "#{} {} {} {} confidence {}: {}",
                    found.id,
                    d.symbol,
                    d.kind.as_str(),
                    d.direction.as_str(),
                    d.confidence,
                    d.rationale
                );
            }
            AppEvent::SetupChanged {
                row,
                transition: Some(t),
                ..
            } => tracing::info!(
                target: "coach::setup",
                "setup {} {} {}: {} → {} ({})",
                row.setup.id,
                row.setup.symbol,
                row.setup.kind,
                t.from.as_str(),
                t.to.as_str(),
                t.reason.as_str()
            ),
            // Screen-only results and notices (the dispatcher logs notices already).
            _ => {}
        }
    }
}

/// Waits until every worker reports stopped, at most `grace`.
async fn all_stopped(health: &Health, grace: Duration) -> bool {
    let mut changed = health.subscribe();
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        if health
            .snapshot()
            .iter()
            .all(|r| r.state == WorkerState::Stopped)
        {
            return true;
        }
        match tokio::time::timeout_at(deadline, changed.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
    }
}

/// Starts listening for the signals that stop the server (SIGTERM, SIGINT, SIGHUP) now;
/// the future resolves to the name of the first one that arrives.
#[cfg(unix)]
fn shutdown_signal()
-> Result<impl std::future::Future<Output = Result<&'static str, CliError>>, CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|e| CliError::Runtime(format!("cannot listen for {name}: {e}")))
    };
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
    // A hang-up (the SSH session or terminal it was started from closed) is the same
    // clean shutdown, not an abrupt exit 129.
    let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
    Ok(async move {
        Ok(tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = hup.recv() => "SIGHUP",
        })
    })
}

#[cfg(not(unix))]
fn shutdown_signal()
-> Result<impl std::future::Future<Output = Result<&'static str, CliError>>, CliError> {
    Ok(async {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| CliError::Runtime(format!("cannot listen for Ctrl-C: {e}")))?;
        Ok("Ctrl-C")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_log_names_the_speed_of_the_provider_in_use() {
        let mut config = Config::default();
        config.sim.speed = 5.0;
        config.replay.speed = 60.0;
        config.general.provider = "replay".into();
        assert_eq!(provider_label(&config), "replay ×60");
        config.general.provider = "sim".into();
        assert_eq!(provider_label(&config), "sim ×5");
        config.general.provider = "massive".into();
        assert_eq!(provider_label(&config), "massive");
    }
}
