//! Starts the background workers one coach process runs, headless or under the TUI:
//! the market feed and everything that consumes it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::alert_changes::AlertChanges;
use super::auto_track::{DetectionInbox, run_auto_track};
use super::brief::{BriefChannels, BriefScheduler, run_brief_scheduler};
use super::bus::MarketBus;
use super::database;
use super::detect::{DetectorOutputs, run_detector};
use super::evaluate::{TransitionSinks, run_evaluator};
use super::feed::{latest_session_date, run_played_feed};
use super::gex::{GexChannels, SimChains, run_gex};
use super::health::{Health, StaleFloors};
use super::metrics::Metrics;
use super::monitor::{self, Monitor};
use super::ownership::{self, Owned, run_ownership};
use super::setup_changes::SetupChanges;
use super::supervisor;
use crate::config::Config;
use crate::domain::Symbol;
use crate::gex::GexParams;
use crate::market::calendar;
use crate::notify::discord::RetryPolicy;
use crate::notify::incidents::IncidentPolicy;
use crate::notify::{self, Notifier};
use crate::provider::bar_files::load_files;
use crate::provider::massive::KNOWN_INDICES;
use crate::provider::massive::feed::{MassiveFeedConfig, run_massive_feed};
use crate::provider::recorded::RecordedMarket;
use crate::provider::sim::SimMarket;
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
    /// The latest GEX profiles, and requests for other filters or a refresh.
    pub gex: GexChannels,
    /// Tracked-setup changes: publish every setup the screen changes (track, manual
    /// transitions, notes, delete) so the evaluator's book follows; subscribe to hear the
    /// evaluator's and the auto-tracker's.
    pub setup_changes: SetupChanges,
    /// Price-alert changes: publish every alert the screen adds or removes so the
    /// evaluator's alert book follows.
    pub alert_changes: AlertChanges,
    /// Counters for `/metrics`; workers bump them (`metrics.detection(kind)`, …).
    pub metrics: Arc<Metrics>,
    /// Trading alerts go through this (`notifier.trading(alert)`).
    pub notifier: Notifier,
    /// The symbols this process detects and evaluates (all, on SQLite).
    pub owned: watch::Receiver<Owned>,
    /// This process's name in `worker_status` (host and pid).
    pub instance: String,
    /// The brief scheduler's requests (pane opened, `r`, preview); briefs arrive as
    /// `AppEvent::Brief`.
    pub brief: BriefChannels,
}

impl Services {
    /// Spawns every worker on the current tokio runtime. `now` picks the simulated session.
    pub fn start(config: &Config, store: &Store, now: DateTime<Utc>, feed: Feed) -> Services {
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
        let setup_changes = SetupChanges::default();
        let instance = ownership::instance_id();
        let (owned_tx, owned) = ownership::channel(store);
        if let Store::Postgres(_) = store {
            let (store, instance, symbols) =
                (store.clone(), instance.clone(), feed_symbols(config));
            supervisor::spawn(
                ownership::WORKER,
                ownership::ROUND,
                health.clone(),
                cancel.clone(),
                move |ctx| {
                    run_ownership(
                        ctx,
                        store.clone(),
                        instance.clone(),
                        symbols.clone(),
                        owned_tx.clone(),
                    )
                },
            );
        }
        database::spawn(store, &health, &cancel);
        let alert_changes = AlertChanges::default();

        let interval = feed.step_interval(config);
        let has_chains = matches!(feed, Feed::Sim);
        let gex = GexChannels::new();
        let feed_bus = bus.clone();
        match feed {
            Feed::Sim => {
                let (seed, symbols, speed) = (
                    config.sim.seed,
                    config.sim.symbols.clone(),
                    config.sim.speed,
                );
                let date = latest_session_date(calendar::ny_date(now));
                supervisor::spawn(
                    "feed",
                    interval,
                    health.clone(),
                    cancel.clone(),
                    move |ctx| {
                        // Built on a worker thread, so the screen's first frame never waits for it.
                        let (symbols, bus, requests) =
                            (symbols.clone(), feed_bus.clone(), snapshot_requests.clone());
                        async move {
                            let market = SimMarket::new(seed, &symbols, date);
                            run_played_feed(ctx, market, speed, bus, requests).await
                        }
                    },
                );
                // Only the simulation has options chains; a recording has none, and
                // coach never invents one for real prices.
                let chains = SimChains {
                    seed,
                    params: GexParams::default(),
                };
                let (gex_bus, gex_channels) = (bus.clone(), gex.clone());
                supervisor::spawn(
                    "gex",
                    interval,
                    health.clone(),
                    cancel.clone(),
                    move |ctx| run_gex(ctx, gex_bus.clone(), chains, gex_channels.clone()),
                );
            }
            Feed::Recorded(market) => {
                let speed = config.replay.speed;
                supervisor::spawn(
                    "feed",
                    interval,
                    health.clone(),
                    cancel.clone(),
                    move |ctx| {
                        run_played_feed(
                            ctx,
                            market.clone(),
                            speed,
                            feed_bus.clone(),
                            snapshot_requests.clone(),
                        )
                    },
                );
            }
            Feed::Massive => {
                let feed_config = massive_feed_config(config);
                supervisor::spawn(
                    "feed",
                    interval,
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
            }
        }
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
                interval,
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
        let outputs = DetectorOutputs {
            store: store.clone(),
            ui: detector_tx,
            metrics: metrics.clone(),
            owned: owned.clone(),
        };
        let (detect_config, detect_bus, detect_gex) =
            (config.detectors.clone(), bus.clone(), gex.clone());
        supervisor::spawn(
            "detect",
            interval,
            health.clone(),
            cancel.clone(),
            move |ctx| {
                run_detector(
                    ctx,
                    detect_config.clone(),
                    detect_bus.clone(),
                    detect_gex.subscribe(),
                    outputs.clone(),
                )
            },
        );
        let sinks = TransitionSinks {
            notifier: notifier.clone(),
            metrics: metrics.clone(),
        };
        let (
            evaluate_bus,
            evaluate_store,
            evaluate_changes,
            evaluate_alerts,
            evaluate_events,
            evaluate_owned,
        ) = (
            bus.clone(),
            store.clone(),
            setup_changes.clone(),
            alert_changes.clone(),
            events_tx.clone(),
            owned.clone(),
        );
        supervisor::spawn(
            "evaluate",
            interval,
            health.clone(),
            cancel.clone(),
            move |ctx| {
                run_evaluator(
                    ctx,
                    evaluate_bus.clone(),
                    evaluate_store.clone(),
                    evaluate_changes.clone(),
                    evaluate_alerts.clone(),
                    evaluate_events.clone(),
                    sinks.clone(),
                    evaluate_owned.clone(),
                )
            },
        );

        let brief = BriefChannels::new();
        spawn_brief_scheduler(
            config,
            store,
            (&bus, &gex, &brief, &events_tx),
            (&health, &cancel),
            has_chains,
        );

        Services {
            bus,
            health,
            cancel,
            events,
            events_tx,
            gex,
            setup_changes,
            alert_changes,
            metrics,
            notifier,
            owned,
            instance,
            brief,
        }
    }

    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Waits, at most `within`, until the feed has a market and (with `gex`) the GEX worker
    /// has published its first profiles; whether they were ready in time.
    pub async fn wait_ready(&self, gex: bool, within: Duration) -> bool {
        let ready = async {
            while self.bus.snapshot().await.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if gex {
                let mut board = self.gex.subscribe();
                while board.borrow_and_update().is_empty() {
                    if board.changed().await.is_err() {
                        return false;
                    }
                }
            }
            true
        };
        tokio::time::timeout(within, ready).await.unwrap_or(false)
    }
}

/// Starts the brief scheduler. Its cadence is a market step; a brief is at most a few
/// database round trips, so the floor of the stale threshold covers it.
fn spawn_brief_scheduler(
    config: &Config,
    store: &Store,
    (bus, gex, brief, events): (
        &MarketBus,
        &GexChannels,
        &BriefChannels,
        &mpsc::Sender<AppEvent>,
    ),
    (health, cancel): (&Health, &CancellationToken),
    has_chains: bool,
) {
    // validated at load; a file changed since is reported by the worker, in Health
    let scheduler = BriefScheduler::from_config(config, store);
    let (bus, gex, channels, events) = (bus.clone(), gex.clone(), brief.clone(), events.clone());
    supervisor::spawn(
        "brief",
        Duration::from_secs(60),
        health.clone(),
        cancel.clone(),
        move |ctx| {
            let scheduler = scheduler.clone();
            let (bus, gex, channels, events) = (
                bus.clone(),
                gex.subscribe(),
                channels.clone(),
                events.clone(),
            );
            async move {
                run_brief_scheduler(ctx, scheduler?, bus, gex, channels, events, has_chains).await
            }
        },
    );
}

/// Where market data comes from.
pub enum Feed {
    /// The simulated market of `[sim]`.
    Sim,
    /// Recorded bars, already read and checked.
    Recorded(RecordedMarket),
    /// Massive.com: REST history and the live WebSocket stream.
    Massive,
}

impl Feed {
    /// The feed the configuration names; recorded bars are read (and checked) here, so a
    /// bad file is reported before anything starts.
    pub fn from_config(config: &Config) -> Result<Feed, String> {
        match config.general.provider.as_str() {
            "massive" => return Ok(Feed::Massive),
            "replay" => {}
            _ => return Ok(Feed::Sim),
        }
        let paths = |list: &[String]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
        let input = load_files(
            &paths(&config.replay.bars),
            &paths(&config.replay.daily),
            None,
        )
        .map_err(|e| e.to_string())?;
        for skipped in &input.skipped {
            tracing::warn!("bar file skipped: {skipped}");
        }
        RecordedMarket::new(input.minute, input.daily).map(Feed::Recorded)
    }

    /// Real time between two feed steps (15 simulated seconds, or a recorded minute), at
    /// least a second so the stale threshold (3× this) never trips on scheduling noise.
    fn step_interval(&self, config: &Config) -> Duration {
        let real = match self {
            Feed::Sim => 15.0 / config.sim.speed,
            Feed::Recorded(_) => 60.0 / config.replay.speed,
            // Live minutes; the stream heartbeats while every socket is up.
            Feed::Massive => 1.0,
        };
        Duration::from_secs_f64(real.max(1.0))
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

/// The symbols the feed quotes (`sim.symbols`, which the dashboard extends with the
/// watchlist): what instances split between them.
fn feed_symbols(config: &Config) -> Vec<Symbol> {
    config.sim.symbols.clone()
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
