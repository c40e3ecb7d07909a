//! Starts the background workers one coach process runs, headless or under the TUI:
//! the market feed and everything that consumes it.

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::alert_changes::AlertChanges;
use super::alpaca_feed::run_alpaca_feed;
use super::auto_track::{DetectionInbox, run_auto_track};
use super::backtest::{self, EdgeChannel, run_scheduled_backtest};
use super::brief::{BriefChannels, BriefScheduler, run_brief_scheduler};
use super::bus::{MarketBus, SnapshotRequests};
use super::database;
use super::detect::{DetectorOutputs, run_detector};
use super::evaluate::{TransitionSinks, run_evaluator};
use super::feed::run_played_feed;
use super::gex::{AlpacaChains, ChainSource, GexChannels, SimChains, run_gex};
use super::health::{Health, StaleFloors};
use super::massive_feed::run_massive_feed;
use super::metrics::Metrics;
use super::monitor::{self, Monitor};
use super::ownership::{self, Owned, run_ownership};
use super::setup_changes::SetupChanges;
use super::supervisor::{self, WorkerCtx};
use super::{alerting, delivery};
use crate::config::Config;
use crate::domain::Symbol;
use crate::gex::GexParams;
use crate::market::calendar;
use crate::notify::Notifier;
use crate::notify::discord::RetryPolicy;
use crate::notify::incidents::IncidentPolicy;
use crate::provider::bar_files::load_files;
use crate::provider::latest_session_date;
use crate::provider::massive::KNOWN_INDICES;
use crate::provider::massive::feed::MassiveFeedConfig;
use crate::provider::recorded::RecordedMarket;
use crate::provider::sim::SimMarket;
use crate::store::Store;

/// Handles to the running workers of one process, whichever set runs: the full set
/// (`Services::start`: feed, detector, evaluator, …) or an attached screen's readers
/// (`Services::attach`, src/runtime/attach.rs). Dropping it does not stop them;
/// `shutdown` does.
pub struct Services {
    /// The market: the feed's events and snapshots (an attached screen: the servers' last
    /// prices, no bars).
    pub bus: MarketBus,
    pub health: Health,
    pub cancel: CancellationToken,
    /// Events for the screen (detections, transitions); headless callers may drain or drop it.
    pub events: mpsc::Receiver<AppEvent>,
    /// For the screen's own results (saved actions) to arrive in the same stream.
    pub events_tx: mpsc::Sender<AppEvent>,
    /// The latest GEX profiles, and requests for other filters or a refresh (attached:
    /// no GEX worker runs, requests are refused with a message).
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
    /// Trading alerts go through this (`notifier.trading(alert)`); `None` on an attached
    /// screen, where the servers alert.
    pub notifier: Option<Notifier>,
    /// The symbols this process detects and evaluates (all, on SQLite; none on an
    /// attached screen).
    pub owned: watch::Receiver<Owned>,
    /// This process's name in `worker_status` (host and pid).
    pub instance: String,
    /// The brief scheduler's requests (pane opened, `r`, preview); briefs arrive as
    /// `AppEvent::Brief` (attached: no scheduler runs, the servers' stored brief arrives
    /// through the listener).
    pub brief: BriefChannels,
    /// The latest stored backtest statistics (SPEC 18), published at start and after each
    /// scheduled run; the screen gets them as `AppEvent::BacktestStats`.
    pub edge: EdgeChannel,
    /// The symbol the screen focuses, set by the dashboard when its focus changes; the
    /// Alpaca feed subscribes its trades (free plan: 30 trade symbols). Never set headless.
    pub focus: watch::Sender<Option<Symbol>>,
}

impl Services {
    /// The handles before any worker starts: a fresh health registry with the configured
    /// stale floors, a bus holding at most `bar_limit` unread bars per subscriber, empty
    /// channels. The returned
    /// requests are the feed's to answer.
    pub(super) fn new(
        config: &Config,
        bar_limit: usize,
        owned: watch::Receiver<Owned>,
    ) -> (Services, SnapshotRequests) {
        let (bus, snapshot_requests) = MarketBus::new(bar_limit);
        let (events_tx, events) = mpsc::channel(1024);
        let services = Services {
            bus,
            health: Health::with_floors(StaleFloors::from_config(&config.health)),
            cancel: CancellationToken::new(),
            events,
            events_tx,
            gex: GexChannels::new(),
            setup_changes: SetupChanges::default(),
            alert_changes: AlertChanges::default(),
            metrics: Arc::new(Metrics::default()),
            notifier: None,
            owned,
            instance: ownership::instance_id(),
            brief: BriefChannels::new(),
            edge: EdgeChannel::default(),
            focus: watch::channel(None).0,
        };
        (services, snapshot_requests)
    }

    /// Spawns every worker on the current tokio runtime. `now` picks the simulated session.
    pub fn start(config: &Config, store: &Store, now: DateTime<Utc>, feed: Feed) -> Services {
        let (owned_tx, owned) = ownership::channel(store);
        let (mut services, snapshot_requests) = Services::new(config, bus_bar_limit(config), owned);
        // Alerting first, so every worker below can be handed `notifier.clone()`.
        let notifier = spawn_alerting_with(
            config,
            &services.health,
            &services.cancel,
            Some(services.bus.clone()),
            services.events_tx.clone(),
            services.metrics.clone(),
            now,
            Some(store.clone()),
        );
        services.spawn_ownership(config, store, owned_tx);
        database::spawn(store, &services.health, &services.cancel);

        let interval = feed.step_interval(config);
        let has_chains = feed.has_chains();
        services.spawn_feed(config, store, now, feed, interval, snapshot_requests);
        let detections = services.spawn_auto_track(config, store, interval);
        services.spawn_detector(config, store, interval, detections);
        services.spawn_evaluator(store, interval, notifier.clone());
        services.spawn_backtest(config, store);
        spawn_brief_scheduler(
            config,
            store,
            (
                &services.bus,
                &services.gex,
                &services.brief,
                &services.events_tx,
            ),
            (&services.health, &services.cancel),
            has_chains,
        );
        services.notifier = Some(notifier);
        services
    }

    /// Starts a supervised worker on this process's health registry and shutdown signal.
    pub(super) fn spawn<F, Fut>(&self, name: &'static str, interval: Duration, make: F)
    where
        F: Fn(WorkerCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        supervisor::spawn(
            name,
            interval,
            self.health.clone(),
            self.cancel.clone(),
            make,
        );
    }

    /// On PostgreSQL, the worker that splits the feed's symbols between instances and
    /// publishes this one's share on `owned_tx` (SQLite owns them all from the start).
    fn spawn_ownership(&self, config: &Config, store: &Store, owned_tx: watch::Sender<Owned>) {
        let Store::Postgres(_) = store else {
            return;
        };
        let (store, instance, symbols) =
            (store.clone(), self.instance.clone(), feed_symbols(config));
        self.spawn(ownership::WORKER, ownership::ROUND, move |ctx| {
            run_ownership(
                ctx,
                store.clone(),
                instance.clone(),
                symbols.clone(),
                owned_tx.clone(),
            )
        });
    }

    /// The market feed `feed`, stepping every `interval`, answering `requests`; with the
    /// simulation, the GEX worker over its synthetic chains too.
    fn spawn_feed(
        &self,
        config: &Config,
        store: &Store,
        now: DateTime<Utc>,
        feed: Feed,
        interval: Duration,
        requests: SnapshotRequests,
    ) {
        let bus = self.bus.clone();
        match feed {
            Feed::Sim => {
                let (seed, symbols, speed) = (
                    config.sim.seed,
                    config.sim.symbols.clone(),
                    config.sim.speed,
                );
                let date = latest_session_date(calendar::ny_date(now));
                self.spawn("feed", interval, move |ctx| {
                    // Built on a worker thread, so the screen's first frame never waits for it.
                    let (symbols, bus, requests) = (symbols.clone(), bus.clone(), requests.clone());
                    async move {
                        let market = SimMarket::new(seed, &symbols, date);
                        run_played_feed(ctx, market, speed, bus, requests).await
                    }
                });
                // Only the simulation has options chains; a recording has none, and
                // coach never invents one for real prices.
                let chains = SimChains {
                    seed,
                    params: GexParams::default(),
                };
                let (gex_bus, gex_channels, gex_store) =
                    (self.bus.clone(), self.gex.clone(), store.clone());
                let scope = gex_scope(config);
                self.spawn("gex", interval, move |ctx| {
                    run_gex(
                        ctx,
                        gex_bus.clone(),
                        chains.into(),
                        gex_channels.clone(),
                        Some(gex_store.clone()),
                        scope.clone(),
                    )
                });
            }
            Feed::Recorded(market, chains) => {
                let speed = config.replay.speed;
                self.spawn("feed", interval, move |ctx| {
                    run_played_feed(ctx, market.clone(), speed, bus.clone(), requests.clone())
                });
                // Recorded chains (`--chain`), each at its snapshot time; without them a
                // recording has no options chain, and coach never invents one for real prices.
                if !chains.is_empty() {
                    let (gex_bus, gex_channels) = (self.bus.clone(), self.gex.clone());
                    self.spawn("gex", interval, move |ctx| {
                        super::recorded_gex::run_recorded_gex(
                            ctx,
                            gex_bus.clone(),
                            chains.clone(),
                            gex_channels.clone(),
                        )
                    });
                }
            }
            Feed::Massive => {
                let feed_config = massive_feed_config(config);
                self.spawn("feed", interval, move |ctx| {
                    run_massive_feed(ctx, feed_config.clone(), bus.clone(), requests.clone())
                });
            }
            Feed::Alpaca => {
                let (feed_config, focus) = (alpaca_feed_config(config), self.focus.subscribe());
                self.spawn("feed", interval, move |ctx| {
                    run_alpaca_feed(
                        ctx,
                        feed_config.clone(),
                        bus.clone(),
                        requests.clone(),
                        focus.clone(),
                    )
                });
                // Live chains for GEX: Alpaca's contracts (open interest) joined with its
                // option snapshots (IV). Without keys the feed already says so in Health.
                match crate::provider::alpaca::rest::RestClient::new(&config.alpaca.connection()) {
                    Ok(client) => {
                        let chains = ChainSource::Alpaca(Box::new(AlpacaChains {
                            client,
                            days: super::gex::ALPACA_CHAIN_DAYS,
                            params: GexParams::default(),
                        }));
                        let (gex_bus, gex_channels, gex_store) =
                            (self.bus.clone(), self.gex.clone(), store.clone());
                        let scope = gex_scope(config);
                        self.spawn("gex", interval, move |ctx| {
                            run_gex(
                                ctx,
                                gex_bus.clone(),
                                chains.clone(),
                                gex_channels.clone(),
                                Some(gex_store.clone()),
                                scope.clone(),
                            )
                        });
                    }
                    Err(e) => tracing::warn!("no GEX from Alpaca: {e}"),
                }
            }
        }
    }

    /// Where the detector sends its detections: with auto-tracking on, to the
    /// auto-tracker started here, which passes them on to the screen; otherwise
    /// straight to the screen.
    fn spawn_auto_track(
        &self,
        config: &Config,
        store: &Store,
        interval: Duration,
    ) -> mpsc::Sender<AppEvent> {
        if !config.setups.auto_track {
            return self.events_tx.clone();
        }
        let (tx, rx) = mpsc::channel(1024);
        let inbox = DetectionInbox::new(rx);
        let (user, bus, store, changes, ui, edge) = (
            config.general.user.clone(),
            self.bus.clone(),
            store.clone(),
            self.setup_changes.clone(),
            self.events_tx.clone(),
            self.edge.clone(),
        );
        self.spawn("autotrack", interval, move |ctx| {
            run_auto_track(
                ctx,
                user.clone(),
                bus.clone(),
                store.clone(),
                changes.clone(),
                inbox.clone(),
                ui.clone(),
                edge.subscribe(),
            )
        });
        tx
    }

    /// The detector: stores what it finds and sends it to `detections`.
    fn spawn_detector(
        &self,
        config: &Config,
        store: &Store,
        interval: Duration,
        detections: mpsc::Sender<AppEvent>,
    ) {
        let outputs = DetectorOutputs {
            store: store.clone(),
            ui: detections,
            metrics: self.metrics.clone(),
            owned: self.owned.clone(),
        };
        let (config, bus, gex) = (config.detectors.clone(), self.bus.clone(), self.gex.clone());
        self.spawn("detect", interval, move |ctx| {
            run_detector(
                ctx,
                config.clone(),
                bus.clone(),
                gex.subscribe(),
                outputs.clone(),
            )
        });
    }

    /// The evaluator: tracked setups and price alerts against every price; trading
    /// alerts go through `notifier`.
    fn spawn_evaluator(&self, store: &Store, interval: Duration, notifier: Notifier) {
        let sinks = TransitionSinks {
            notifier,
            metrics: self.metrics.clone(),
        };
        let (bus, store, changes, alerts, events, owned, gex) = (
            self.bus.clone(),
            store.clone(),
            self.setup_changes.clone(),
            self.alert_changes.clone(),
            self.events_tx.clone(),
            self.owned.clone(),
            self.gex.clone(),
        );
        self.spawn("evaluate", interval, move |ctx| {
            run_evaluator(
                ctx,
                bus.clone(),
                store.clone(),
                changes.clone(),
                alerts.clone(),
                events.clone(),
                sinks.clone(),
                owned.clone(),
                gex.subscribe(),
            )
        });
    }

    /// With `[backtest] bars` set, the scheduled backtest after each close (worker
    /// `backtest`); otherwise only a one-off read of the stored statistics (from
    /// `coach backtest --store`) for the screen and the auto-tracker.
    fn spawn_backtest(&self, config: &Config, store: &Store) {
        let (store, edge, screen) = (store.clone(), self.edge.clone(), self.events_tx.clone());
        let Some(bars) = config.backtest.scheduled_bars() else {
            tokio::spawn(async move {
                backtest::load_stored(&store, &edge, &screen).await;
            });
            return;
        };
        let slippage = config.backtest.slippage;
        self.spawn(backtest::WORKER, backtest::INTERVAL, move |ctx| {
            run_scheduled_backtest(
                ctx,
                store.clone(),
                bars.clone(),
                slippage,
                edge.clone(),
                screen.clone(),
            )
        });
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
    /// Recorded bars, already read and checked, and the recorded chains (`[replay] chains`)
    /// placed among them.
    Recorded(
        RecordedMarket,
        Arc<Vec<crate::provider::chain_files::ReplayChain>>,
    ),
    /// Massive.com: REST history and the live WebSocket stream.
    Massive,
    /// Alpaca: REST history and the live IEX (or SIP) stream.
    Alpaca,
}

impl Feed {
    /// The feed the configuration names; recorded bars are read (and checked) here, so a
    /// bad file is reported before anything starts.
    pub fn from_config(config: &Config) -> Result<Feed, String> {
        match config.general.provider.as_str() {
            "massive" => return Ok(Feed::Massive),
            "alpaca" => return Ok(Feed::Alpaca),
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
        let chains = crate::provider::chain_files::load_chains(
            &paths(&config.replay.chains),
            &input.minute,
        )?;
        RecordedMarket::new(input.minute, input.daily)
            .map(|market| Feed::Recorded(market, Arc::new(chains)))
    }

    /// Real time between two feed steps (15 simulated seconds, or a recorded minute), at
    /// least a second so the stale threshold (3× this) never trips on scheduling noise.
    /// Whether the feed comes with live options chains (the GEX worker builds profiles
    /// from them): the simulation's synthetic ones, Alpaca's fetched ones.
    pub fn has_chains(&self) -> bool {
        matches!(self, Feed::Sim | Feed::Alpaca)
    }

    fn step_interval(&self, config: &Config) -> Duration {
        let real = match self {
            Feed::Sim => 15.0 / config.sim.speed,
            Feed::Recorded(..) => 60.0 / config.replay.speed,
            // Live minutes; the stream heartbeats while every socket is up.
            Feed::Massive | Feed::Alpaca => 1.0,
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
    spawn_alerting_with(
        config, health, cancel, bus, events, metrics, started_at, None,
    )
}

/// [`spawn_alerting`] with the database the dispatcher reads snoozes from (SPEC 20).
#[allow(clippy::too_many_arguments)]
pub fn spawn_alerting_with(
    config: &Config,
    health: &Health,
    cancel: &CancellationToken,
    bus: Option<MarketBus>,
    events: mpsc::Sender<AppEvent>,
    metrics: Arc<Metrics>,
    started_at: DateTime<Utc>,
    snoozes: Option<Store>,
) -> Notifier {
    let retry = RetryPolicy::default();
    let (notifier, dispatcher) = alerting::notifier(config, retry.clone(), events, metrics.clone());
    let channels = delivery::spawn_channels(&config.alerts, &retry, health, cancel, &metrics);
    let dispatcher = dispatcher.with_channels(channels).with_snoozes(snoozes);
    if dispatcher.has_webhook() {
        tracing::info!("alerts go to the Discord webhook (its URL is not shown)");
    } else {
        tracing::info!("no Discord webhook configured: alerts are logged and shown only");
    }
    supervisor::spawn(
        alerting::WORKER,
        alerting::HEARTBEAT,
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

/// Unread bars a bus subscriber may hold before it is told it lagged and restarts from a
/// snapshot: ten minutes of every symbol's bars, at least 4,096. (Its prices never pile
/// up: they are merged to the latest per symbol.)
fn bus_bar_limit(config: &Config) -> usize {
    (config.sim.symbols.len() * 10).max(4096)
}

/// The symbols the GEX refresher keeps up to date (`[gex]`; `None`: every one the feed
/// quotes), said in the log when it is not all of them.
fn gex_scope(config: &Config) -> Option<HashSet<Symbol>> {
    let universe = feed_symbols(config);
    let scope = config.gex.scope(&universe, &config.detectors.index_symbols);
    if let Some(scope) = &scope {
        let refreshed = universe.iter().filter(|s| scope.contains(*s)).count();
        tracing::info!(
            "GEX refreshed for {refreshed} of {} symbols (more than [gex] max_symbols = {}: \
             [gex] symbols, the index symbols, the watchlist's and the armed alerts'); \
             a focused symbol's profile is computed when asked",
            universe.len(),
            config.gex.max_symbols
        );
    }
    scope
}

/// The symbols the feed quotes (`sim.symbols`: the simulation's universe, which the
/// dashboard extends with the watchlist for a live feed): what instances split between them.
fn feed_symbols(config: &Config) -> Vec<Symbol> {
    config.sim.symbols.clone()
}

/// The live feed quotes the same symbols the simulation would (`sim.symbols`, which the
/// dashboard extends with the watchlist); indices are the detectors' index symbols and the
/// well-known cash indices.
/// The Alpaca feed's settings: the same symbols as Massive's, indices left out (Alpaca
/// has none; a warning names the ETF to watch instead).
fn alpaca_feed_config(config: &Config) -> crate::provider::alpaca::feed::AlpacaFeedConfig {
    use crate::provider::alpaca::feed::{AlpacaFeedConfig, streamable};
    let indices = config.detectors.index_symbols.iter().cloned().collect();
    AlpacaFeedConfig::new(
        config.alpaca.connection(),
        streamable(&config.sim.symbols, &indices),
    )
}

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
    let mut feed = MassiveFeedConfig::new(
        config.massive.connection(),
        config.sim.symbols.clone(),
        indices,
    );
    feed.limits = config.massive.limits();
    feed
}
