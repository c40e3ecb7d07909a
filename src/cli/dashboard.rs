//! `coach` with no subcommand: the dashboard on the simulated (or configured) market.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use clap::Args;

use super::CliError;
use crate::coach::{Coach, CoachContext};
use crate::config::Config;
use crate::domain::Symbol;
use crate::runtime::AppEvent;
use crate::runtime::services::{Feed, Services};
use crate::store::{DEFAULT_WATCHLIST, MAX_SYMBOLS, Store, redact_url};
use crate::tui::actions::{ActionContext, ActionRunner};
use crate::tui::app::{App, Settings, Source, Startup};
use crate::tui::coach_runner::{CoachRunner, screen_confirmer};
use crate::tui::event_loop::{self, Exit, Inputs};
use crate::tui::keymap::Keymap;
use crate::tui::terminal;
use crate::tui::theme::Theme;

/// Flags every command that reads the configuration takes (`--config`, `--db`, `--user`,
/// anywhere on the line), the dashboard's market flags, and `--attach`.
#[derive(Debug, Clone, Args, Default)]
pub struct CommonArgs {
    /// Configuration file (default: $COACH_CONFIG, then ~/.config/coach/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (default: ~/.local/share/coach/coach.db).
    #[arg(long, global = true, value_name = "URL")]
    pub db: Option<String>,
    /// The trader's name (default: local).
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// The market the dashboard watches. Not global: a subcommand that uses the market
    /// takes these flags itself, so the others' `--help` does not list them (issue 22
    /// item 11).
    #[command(flatten)]
    pub market: MarketArgs,
    /// Option-chain files for the recorded bars (CBOE CSV or JSON, Massive snapshot): the
    /// GEX pane, brief and gamma_squeeze get each one at its snapshot time.
    #[arg(long, num_args = 1.., value_name = "FILE", requires = "bars")]
    pub chain: Vec<PathBuf>,
    /// Attach the dashboard to a team database (`--db postgres://…`) that a `coach serve`
    /// works on: no feed or detector here; changes arrive through LISTEN/NOTIFY.
    #[arg(long)]
    pub attach: bool,
}

/// Where market data comes from: the flags of the dashboard and of the subcommands
/// that run a market (serve, ask, brief, doctor).
#[derive(Debug, Clone, Args, Default)]
pub struct MarketArgs {
    /// Market data provider: sim (simulated), replay (recorded bars, --bars), massive
    /// (Massive.com; key in MASSIVE_API_KEY) or alpaca (Alpaca, free IEX feed; keys in
    /// APCA_API_KEY_ID and APCA_API_SECRET_KEY).
    #[arg(long, value_parser = crate::config::PROVIDERS)]
    pub provider: Option<String>,
    /// Recorded minute bars to replay (files, or directories of SYMBOL_1min*.csv and
    /// SYMBOL_1day*.csv); implies --provider replay.
    #[arg(long, num_args = 1.., value_name = "FILE|DIR")]
    pub bars: Vec<PathBuf>,
    /// Simulated (or replayed) seconds per real second (default 60).
    #[arg(long, value_name = "X")]
    pub speed: Option<f64>,
    /// Seed of the simulated market (default 42).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// The provider and the recorded bars, for the commands that read a market without
/// running it in time (`doctor`, `brief`).
#[derive(Debug, Clone, Args, Default)]
pub struct SourceArgs {
    /// Market data provider: sim (simulated), replay (recorded bars, --bars), massive
    /// or alpaca.
    #[arg(long, value_parser = crate::config::PROVIDERS)]
    pub provider: Option<String>,
    /// Recorded minute bars (files, or directories of SYMBOL_1min*.csv and
    /// SYMBOL_1day*.csv); implies --provider replay.
    #[arg(long, num_args = 1.., value_name = "FILE|DIR")]
    pub bars: Vec<PathBuf>,
}

impl SourceArgs {
    pub fn market(&self, seed: Option<u64>) -> MarketArgs {
        MarketArgs {
            provider: self.provider.clone(),
            bars: self.bars.clone(),
            speed: None,
            seed,
        }
    }
}

/// Only the provider, for the commands that fetch from one (`bars`, `gex --symbol`).
#[derive(Debug, Clone, Args, Default)]
pub struct ProviderArg {
    /// The provider to fetch from: massive (key in MASSIVE_API_KEY) or alpaca (keys in
    /// APCA_API_KEY_ID and APCA_API_SECRET_KEY); default: the configured one.
    #[arg(long, value_parser = crate::config::PROVIDERS)]
    pub provider: Option<String>,
}

impl CommonArgs {
    /// These flags with a subcommand's market flags on top (given after the subcommand,
    /// they win over the same flag before it).
    pub fn with_market(&self, market: &MarketArgs) -> CommonArgs {
        let mut out = self.clone();
        let m = &mut out.market;
        if market.provider.is_some() {
            m.provider.clone_from(&market.provider);
        }
        if !market.bars.is_empty() {
            m.bars.clone_from(&market.bars);
        }
        m.speed = market.speed.or(m.speed);
        m.seed = market.seed.or(m.seed);
        out
    }

    /// These flags with a subcommand's `--provider` on top.
    pub fn with_provider(&self, provider: &ProviderArg) -> CommonArgs {
        self.with_market(&MarketArgs {
            provider: provider.provider.clone(),
            ..MarketArgs::default()
        })
    }

    /// The configuration with these flags applied on top (flags win), validated again.
    pub fn load_config(&self) -> Result<Config, CliError> {
        let mut config =
            Config::load(self.config.as_deref()).map_err(|e| CliError::Input(e.to_string()))?;
        if let Some(db) = &self.db {
            config.general.db = db.clone();
        }
        if let Some(user) = &self.user {
            config.general.user = user.trim().to_string();
        }
        if !self.market.bars.is_empty() {
            config.replay.bars = self
                .market
                .bars
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            config.general.provider = "replay".into();
        }
        if !self.chain.is_empty() {
            config.replay.chains = self.chain.iter().map(|p| p.display().to_string()).collect();
        }
        if let Some(provider) = &self.market.provider {
            config.general.provider = provider.clone();
        }
        if let Some(speed) = self.market.speed {
            crate::config::check_speed(speed)
                .map_err(|e| CliError::Input(format!("--speed: {e}")))?;
            config.sim.speed = speed;
            config.replay.speed = speed;
        }
        if let Some(seed) = self.market.seed {
            config.sim.seed = seed;
        }
        config
            .validate()
            .map_err(|e| CliError::Input(format!("command line: {e}")))?;
        // The `[keys]` table is the screen's to validate (config keeps it raw).
        Keymap::from_config(&config.keys).map_err(|reason| {
            CliError::Input(
                crate::config::ConfigError::Invalid {
                    key: "keys".into(),
                    reason,
                }
                .to_string(),
            )
        })?;
        Ok(config)
    }
}

pub fn run(common: &CommonArgs) -> Result<(), CliError> {
    let config = common.load_config()?;
    terminal::install_hooks().map_err(|e| CliError::Runtime(e.to_string()))?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let exit = runtime.block_on(dashboard(config, common.attach));
    // Workers may be blocked on I/O; do not wait for them past a moment.
    runtime.shutdown_timeout(Duration::from_millis(300));
    // The terminal is restored and the store closed by now. A signal exits 128 + its
    // number as a shell reports it (SIGINT 130, SIGTERM 143); a terminal that went away
    // exits 129, as its hang-up (SIGHUP) would, quietly: there is no one to tell.
    match exit? {
        Exit::Quit => Ok(()),
        Exit::Signal(n) => std::process::exit(128 + n),
        Exit::TerminalGone => std::process::exit(128 + SIGHUP),
    }
}

/// SIGHUP's number, the status a hung-up terminal exits with (128 + it).
const SIGHUP: i32 = 1;

/// Log lines the dashboard keeps for its Logs pane (a ring: a day-long session forgets
/// its oldest lines, the file log and `coach serve`'s stderr keep everything).
const LOG_LINES: usize = 10_000;

fn init_logging() {
    use tracing_subscriber::prelude::*;
    // Captured into the Logs pane only: nothing may write to stdout/stderr under the TUI.
    if tui_logger::init_logger(tui_logger::LevelFilter::Info).is_err() {
        return;
    }
    tui_logger::set_default_level(tui_logger::LevelFilter::Info);
    // The Logs pane's memory: the latest lines, the oldest dropped (about 3 MB at
    // 300 bytes a line). tui-logger's own default, stated so the bound is ours.
    tui_logger::set_buffer_depth(LOG_LINES);
    let filter = tracing_subscriber::EnvFilter::try_from_env("COACH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let layer = tui_logger::TuiTracingSubscriberLayer.with_filter(filter);
    let registry = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_error::ErrorLayer::default());
    if registry.try_init().is_err() {
        tracing::debug!("a tracing subscriber was already installed");
    }
}

async fn dashboard(config: Config, attach: bool) -> Result<Exit, CliError> {
    let now = Utc::now();
    let store = Store::open(&config.general.db)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    if attach && !matches!(store, Store::Postgres(_)) {
        return Err(CliError::Input(
            "--attach needs --db postgres://… (the database a coach serve works on)".into(),
        ));
    }
    let user = store
        .ensure_user(&config.general.user, now)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let watchlist = store
        .default_watchlist(user, now)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    // Recorded bars are read (and checked) before anything starts: their symbols may be
    // what the screen watches.
    let feed = if attach {
        None
    } else {
        Some(Feed::from_config(&config).map_err(CliError::Input)?)
    };
    // Said on the status line once the screen is up (issue 22 item 8).
    let mut no_data = None;
    let (watched, first_focus) = match &feed {
        Some(Feed::Recorded(market, _)) => {
            let in_files: Vec<Symbol> = market.symbols().cloned().collect();
            let screen = replay_watchlist(&watchlist.symbols, &in_files);
            // Their Scanner rows say "no data"; the log says why, once (issue 22 item 8).
            let missing = crate::provider::coverage::without_data(&in_files, &screen.0);
            if let Some(message) = crate::provider::coverage::no_data_message("replay", &missing) {
                let message = format!("{message} (the bar files hold none)");
                tracing::warn!("{message}");
                no_data = Some(message);
            }
            if screen.0 != watchlist.symbols {
                tracing::info!(
                    "watching the {} symbols of the bar files (the watchlist {} is the \
                     built-in default; `coach watchlist set` one to watch it instead)",
                    screen.0.len(),
                    watchlist.name
                );
            }
            screen
        }
        _ => (watchlist.symbols.clone(), None),
    };
    let database = match config.general.db.as_str() {
        "" => "sqlite".to_string(),
        url if url.starts_with("sqlite:") => format!(
            "sqlite {}",
            url.trim_start_matches("sqlite:").trim_start_matches("//")
        ),
        url => redact_url(url),
    };
    tracing::info!(
        "coach started: user {}, watchlist {} ({} symbols), {database}",
        config.general.user,
        watchlist.name,
        watchlist.symbols.len()
    );

    // A live feed quotes every watched symbol too, and every symbol with an armed alert;
    // the simulation flags those outside its universe instead of making them up.
    let alert_symbols = store
        .alert_symbols(user)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let mut config = config;
    let unsimulated = extend_feed(&mut config, watched.iter().chain(&alert_symbols));
    config.gex.keep(watched.iter().chain(&alert_symbols));
    // Only with the dashboard's own simulation: attached, the server's feed decides.
    let unsimulated = crate::provider::coverage::sim_no_data_message(&unsimulated);
    if let Some(message) = unsimulated.filter(|_| !attach) {
        tracing::warn!("{message}");
        no_data = Some(message);
    }
    // What the screen reads from: its own workers, or the servers' through the database.
    let workers = match feed {
        None => Services::attach(&config, &store, user),
        Some(feed) => Services::start(&config, &store, now, feed),
    };
    // The simulation's chains and Alpaca's live ones; recorded chains are on the board
    // without the worker answering requests for them.
    let has_chains = matches!(config.general.provider.as_str(), "sim" | "alpaca") && !attach;
    let coach = coach_runner(&config, &store, user, &workers, has_chains)?;
    let coach_configured = coach.is_some();
    let Services {
        bus,
        health,
        cancel,
        events,
        events_tx,
        gex,
        setup_changes: changes,
        alert_changes,
        brief,
        focus,
        ..
    } = workers;
    // The Stats pane's Journal tab: at start and after every change of our setups.
    crate::runtime::journal_stats::watch(
        store.clone(),
        user,
        &changes,
        events_tx.clone(),
        cancel.clone(),
    );
    // The evaluator's resync requests ride the same channel (see poll_changes below).
    let evaluator_changes = changes.clone();
    let actions = ActionRunner::spawn(ActionContext {
        store: store.clone(),
        user,
        bus: bus.clone(),
        events: events_tx.clone(),
        gex: gex.requests.clone(),
        changes,
        coach,
        alert_changes,
        patience: crate::tui::actions::GIVE_UP,
        brief: brief.requests.clone(),
    });
    if !attach {
        // Another process's setups and alerts on this database, on the screen and in this
        // process's evaluator (an attached screen has the team listener instead).
        tokio::spawn(crate::runtime::poll_changes::run(
            store.clone(),
            user,
            events_tx.clone(),
            evaluator_changes,
            cancel.clone(),
        ));
    }
    let market_rx = bus.subscribe();
    // The feed may have published its first snapshot before we subscribed: ask for it.
    let (snapshot_bus, snapshot_events) = (bus.clone(), events_tx.clone());
    tokio::spawn(async move {
        if let Some(snapshot) = snapshot_bus.snapshot().await
            && snapshot_events
                .send(AppEvent::Market(snapshot))
                .await
                .is_err()
        {
            tracing::debug!("the screen closed before the first snapshot");
        }
    });

    let mut app = App::new(Startup {
        keymap: Keymap::from_config(&config.keys).map_err(CliError::Input)?,
        source: Source {
            provider: match config.general.provider.as_str() {
                _ if attach => "attached (server prices)".into(),
                "replay" => format!("replay ×{}", config.replay.speed),
                "massive" if config.massive.connection().is_delayed() => "massive DELAYED".into(),
                "massive" => "massive".into(),
                // Free-plan volumes are one exchange's: the header says IEX.
                "alpaca" => match config.alpaca.connection().feed {
                    crate::provider::alpaca::Feed::Iex => "alpaca IEX".into(),
                    crate::provider::alpaca::Feed::Sip => "alpaca".into(),
                },
                _ => format!("sim ×{}", config.sim.speed),
            },
            database,
            user: config.general.user.clone(),
        },
        watchlist: watched,
        settings: Settings {
            confirm_quit: config.ui.confirm_quit,
            bell: config.ui.bell,
            has_chains,
            user: Some(user),
            opportunity_life: chrono::Duration::minutes(i64::from(config.scanner.max_age_minutes)),
        },
        coach_configured,
        setups: store
            .setups(user, None)
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))?,
        alerts: store
            .alerts(user)
            .await
            .map_err(|e| CliError::Runtime(e.to_string()))?,
        // Without a stored map (or when it cannot be read) the scores stay raw.
        calibrations: store.calibrations().await.unwrap_or_else(|e| {
            tracing::warn!("confidence calibration not applied: {e}");
            crate::stats::Calibrations::default()
        }),
    });
    if let Some(symbol) = first_focus {
        app.show_symbol(symbol);
    }
    if let Some(message) = no_data {
        app.on_event(AppEvent::Notice(message));
    }
    let theme = Theme::from_config(
        &config.ui.color,
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    );
    let mut term = terminal::enter()
        .map_err(|e| CliError::Runtime(format!("cannot open the terminal: {e}")))?;
    let result = event_loop::run(
        &mut term,
        &mut app,
        &theme,
        config.ui.max_fps,
        Inputs {
            market: market_rx,
            bus: bus.clone(),
            actions,
            events,
            gex: gex.subscribe(),
            gex_history: gex.subscribe_history(),
            health,
            focus,
        },
    )
    .await;
    terminal::restore();
    cancel.cancel();
    store.close().await;
    result.map_err(|e| CliError::Runtime(format!("terminal error: {e}")))
}

/// The AI coach over the dashboard's own workers and store; `None` without `[llm]`.
fn coach_runner(
    config: &Config,
    store: &Store,
    user: crate::store::UserId,
    workers: &Services,
    has_chains: bool,
) -> Result<Option<CoachRunner>, CliError> {
    let ctx = CoachContext {
        store: store.clone(),
        user,
        bus: workers.bus.clone(),
        gex: workers.gex.clone(),
        has_chains,
        detectors: config.detectors.clone(),
        changes: workers.setup_changes.clone(),
        ui: Some(workers.events_tx.clone()),
        briefs: crate::runtime::brief::BriefScheduler::from_config(config, store),
        confirm: screen_confirmer(workers.events_tx.clone()),
    };
    let coach = Coach::from_config(&config.llm, ctx).map_err(CliError::Runtime)?;
    Ok(coach.map(|c| CoachRunner::new(c, workers.events_tx.clone())))
}

/// Makes the feed quote `symbols` (the watchlist's, the armed alerts'), and returns those
/// it will have no data for.
///
/// A live feed streams whatever it is asked: they are added to the symbols it reads
/// (`sim.symbols`), keeping the order and skipping those already there. The simulation
/// simulates its own universe only (`[sim] symbols`, its "exchange"), so a symbol outside
/// it is not made up: it is returned, to be flagged ("no data from sim for ZZZZ", issue 22
/// item 8). Recorded bars are judged against their files elsewhere.
pub fn extend_feed<'a>(
    config: &mut Config,
    symbols: impl IntoIterator<Item = &'a crate::domain::Symbol>,
) -> Vec<Symbol> {
    let wanted: Vec<Symbol> = symbols.into_iter().cloned().collect();
    if config.general.provider == "sim" {
        return crate::provider::coverage::without_data(&config.sim.symbols, &wanted);
    }
    for symbol in wanted {
        if !config.sim.symbols.contains(&symbol) {
            config.sim.symbols.push(symbol);
        }
    }
    Vec::new()
}

/// What the screen watches on recorded bars (`--bars`), and the symbol focused first.
///
/// The trader's default watchlist wins when they have set one. One still holding exactly
/// the built-in default (`DEFAULT_WATCHLIST`, SPX NDX SPY QQQ, which the store gives a new
/// trader) counts as not set: the files' symbols are watched instead, at most
/// `MAX_SYMBOLS` of them in the order given (alphabetical), and never saved into the
/// store. The focus starts on the first watched symbol the files hold (`None`: none is).
pub fn replay_watchlist(stored: &[Symbol], in_files: &[Symbol]) -> (Vec<Symbol>, Option<Symbol>) {
    let is_builtin = stored.iter().map(Symbol::as_str).eq(DEFAULT_WATCHLIST);
    let watched: Vec<Symbol> = if is_builtin && !in_files.is_empty() {
        in_files.iter().take(MAX_SYMBOLS).cloned().collect()
    } else {
        stored.to_vec()
    };
    let focus = watched.iter().find(|s| in_files.contains(s)).cloned();
    (watched, focus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(names: &[&str]) -> Vec<Symbol> {
        crate::store::parse_symbols(names).unwrap()
    }

    #[test]
    fn the_built_in_default_gives_way_to_the_files_symbols_focused_on_the_first() {
        let (watched, focus) =
            replay_watchlist(&symbols(&DEFAULT_WATCHLIST), &symbols(&["AAA", "BBB"]));
        assert_eq!(watched, symbols(&["AAA", "BBB"]));
        assert_eq!(focus, Some(symbols(&["AAA"])[0].clone()));
    }

    #[test]
    fn a_watchlist_the_trader_set_wins_and_focus_starts_on_its_first_symbol_with_data() {
        let (watched, focus) =
            replay_watchlist(&symbols(&["QQQ", "BBB", "AAA"]), &symbols(&["AAA", "BBB"]));
        assert_eq!(watched, symbols(&["QQQ", "BBB", "AAA"]));
        assert_eq!(focus, Some(symbols(&["BBB"])[0].clone()));
        // The built-in symbols in another order were set by the trader too.
        let reordered = symbols(&["SPY", "SPX", "NDX", "QQQ"]);
        let (watched, focus) = replay_watchlist(&reordered, &symbols(&["SPY"]));
        assert_eq!(
            (watched, focus),
            (reordered.clone(), Some(reordered[0].clone()))
        );
    }

    #[test]
    fn files_with_more_symbols_than_a_watchlist_holds_are_cut_at_the_limit() {
        let many: Vec<String> = (0..60).map(|i| format!("S{i:02}")).collect();
        let in_files: Vec<Symbol> = many.iter().map(|n| n.parse().unwrap()).collect();
        let (watched, focus) = replay_watchlist(&symbols(&DEFAULT_WATCHLIST), &in_files);
        assert_eq!(watched.len(), MAX_SYMBOLS);
        assert_eq!(watched[..], in_files[..MAX_SYMBOLS]);
        assert_eq!(focus.as_ref(), in_files.first());
    }

    #[test]
    fn with_no_symbol_of_the_files_watched_nothing_is_focused_by_data() {
        let (watched, focus) = replay_watchlist(&symbols(&["MSFT"]), &symbols(&["AAA"]));
        assert_eq!((watched, focus), (symbols(&["MSFT"]), None));
    }

    /// Issue 22 item 8: the simulation is an exchange of `[sim] symbols`; a watched ZZZZ
    /// is not made up but returned, to be flagged, and the universe stays as configured.
    #[test]
    fn the_simulation_quotes_its_universe_only_and_returns_the_watched_symbols_outside_it() {
        let mut config = Config::default();
        let universe = config.sim.symbols.clone();
        let unsimulated = extend_feed(&mut config, &symbols(&["SPY", "ZZZZ", "NFLX", "ZZZZ"]));
        assert_eq!(unsimulated, symbols(&["ZZZZ", "NFLX"]));
        assert_eq!(config.sim.symbols, universe);
    }

    /// A live feed is asked for every watched symbol: they join the symbols it streams.
    #[test]
    fn a_live_feed_streams_the_watched_symbols_too_and_flags_none() {
        let mut config = Config::default();
        config.general.provider = "alpaca".into();
        config.sim.symbols = symbols(&["SPY", "QQQ"]);
        let unsimulated = extend_feed(&mut config, &symbols(&["QQQ", "ZZZZ"]));
        assert!(unsimulated.is_empty());
        assert_eq!(config.sim.symbols, symbols(&["SPY", "QQQ", "ZZZZ"]));
    }

    /// The demo a new trader starts: every symbol of the built-in watchlist is simulated
    /// by the default config, so nothing is flagged.
    #[test]
    fn the_default_watchlist_is_simulated_by_the_default_config() {
        let mut config = Config::default();
        let unsimulated = extend_feed(&mut config, &symbols(&DEFAULT_WATCHLIST));
        assert!(unsimulated.is_empty(), "{unsimulated:?}");
    }
}
