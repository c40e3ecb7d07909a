//! The shell's moving parts: supervised workers, their health, the market feed and the
//! virtual clock of the simulation.
//!
//! # Bounded state (issue 25 item 1)
//!
//! Every queue, cache and history a day-long `coach serve` or dashboard keeps, and what
//! bounds it. "Universe" is the fed symbols; "session" means cleared at the next one.
//!
//! | state | bound | when full / policy |
//! |---|---|---|
//! | market bus mailbox per subscriber (`bus`) | steps merged, `bar_limit` bars, 16 snapshots | emptied, `Lagged`, restart from a snapshot |
//! | screen events `AppEvent` (`services`, auto-track inbox) | 1,024 | the worker waits: nothing dropped |
//! | coach question → screen (`tui::coach_outbox`) | 256 entries | text joined, oldest tool line evicted (counted, logged); answer never dropped |
//! | detection writer (`detect_writer`) | 256 steps | the detector waits |
//! | notifier jobs / channel deliveries (`notify`, `delivery`) | 256 / 64 per channel | dropped and logged (an alert not queued is not marked sent) |
//! | notifier de-duplication (`notify`) | 10,000 keys, or 3 days of alerts if more | past 10,000, keys older than 3 days forgotten |
//! | setup / alert change broadcasts | 1,024 | lagging receiver reloads from the store |
//! | GEX / brief requests from the screen | 64 / 16 | refused, said on the status line |
//! | screen effects (`tui::actions`) | 256 | the screen waits |
//! | GEX refresher: chains, last prices, cache (`gex`) | universe × 2 filters | replaced in place |
//! | GEX history points (`gex`, board) | universe × one New York day | next day replaces it; store pruned to 30 days |
//! | health records, incidents, retries (`health`, `notify::incidents`) | workers × incident kinds | replaced in place |
//! | metrics counters / detector lag (`metrics`) | finite label sets / 16,384-sample ring | oldest sample overwritten |
//! | evaluator setup ids (owners, versions) | live setups + one session of departures | forgotten at the second close sweep (`evaluate::forget_departed`) |
//! | evaluator alert owners | armed alerts | removed on fire or delete |
//! | price alert book (`alerts`) | armed alerts | `sync` removes the disarmed |
//! | auto-track refusal log (`auto_track`) | setup kinds | cleared with each statistics update |
//! | brief schedulers of other traders (`brief`) | traders in the database | one each |
//! | HTTP connections (`serve::connections`) | 64 open, 120 s each | one beyond them closed on accept |
//! | screen: scanner rows, track marks | watchlist (50) × session | cleared at the next session (a save in flight kept) |
//! | screen: intraday bars, levels | bars: focus + watchlist; levels: universe | replaced per snapshot |
//! | screen: status line / coach transcript / coach history | one / 400 lines / 8 questions | replaced / oldest dropped |
//! | screen: Logs pane (tui-logger) | 10,000 lines (`cli::dashboard`) | oldest dropped |
//!
//! Per-symbol feed and detector state (`provider::live_session`, `provider::massive`,
//! `detect`, `runtime::detect`) is kept per symbol of the universe for the session; how
//! small each symbol's share is, is issue 25's memory work in those modules.

pub mod alert_changes;
pub mod alerting;
pub mod alpaca_feed;
pub mod attach;
pub mod auto_track;
pub mod backtest;
pub mod brief;
pub mod bus;
pub mod clock;
pub mod database;
pub mod delivery;
pub mod detect;
pub mod detect_writer;
pub mod evaluate;
pub mod feed;
pub mod gex;
pub mod health;
pub mod heap;
pub mod journal_stats;
pub mod listen;
pub mod massive_feed;
pub mod metrics;
pub mod monitor;
pub mod ownership;
pub mod poll_changes;
pub mod recorded_gex;
pub mod remote;
pub mod services;
pub mod setup_changes;
pub mod status;
pub mod supervisor;

/// What workers tell the screen besides market data: events that must all arrive, in order
/// (sent on a bounded channel; a full channel makes the worker wait, never drop).
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    /// A detection of the current session, already stored.
    Detection(crate::store::StoredDetection),
    /// The default watchlist was saved; `market` has the feed's view of its symbols.
    WatchlistSaved {
        watchlist: crate::store::Watchlist,
        market: Option<std::sync::Arc<crate::provider::MarketSnapshot>>,
    },
    /// A trader's action could not be done; the text says what and why.
    ActionFailed(String),
    /// The result of tracking a detection from the screen.
    Tracked {
        detection_id: i64,
        result: Result<crate::store::TrackResult, String>,
    },
    /// A setup the screen deleted.
    SetupDeleted(i64),
    /// A setup's history, oldest first, for the details view.
    History {
        id: i64,
        events: Vec<crate::store::SetupEvent>,
        /// The detector's rationale, from the stored detection (`None`: tracked by hand).
        rationale: Option<String>,
    },
    /// A symbol's key levels after its latest bar (label, price), for the scanner.
    Levels {
        symbol: crate::domain::Symbol,
        levels: Vec<(&'static str, f64)>,
    },
    /// The market so far, for a screen that subscribed after the feed started.
    Market(std::sync::Arc<crate::provider::MarketSnapshot>),
    /// A tracked setup was written by a worker: a transition the evaluator applied
    /// (`transition` is `Some`), or a setup the auto-tracker tracked (`None`).
    SetupChanged {
        user: crate::store::UserId,
        row: crate::store::SetupRow,
        transition: Option<crate::setups::Transition>,
    },
    /// The trader's setups as the store has them (an attached screen's (re)load).
    SetupsLoaded(Vec<crate::store::SetupRow>),
    /// The trader's default watchlist as the store has it (an attached screen: written
    /// by another screen or the CLI).
    WatchlistLoaded(crate::store::Watchlist),
    /// The workers of the `coach serve` instances, from `worker_status` (attached screens),
    /// named "instance worker".
    RemoteWorkers(Vec<crate::runtime::health::WorkerRecord>),
    /// A price alert fired (recorded once by the store): the Alerts view updates, the
    /// status line says `text`, the bell rings when enabled.
    AlertFired {
        user: crate::store::UserId,
        alert: crate::alerts::PriceAlert,
        text: String,
    },
    /// The trader's alerts as stored after one was added or removed from the screen,
    /// and what to tell the trader.
    AlertsSaved {
        alerts: Vec<crate::alerts::PriceAlert>,
        message: String,
    },
    /// A user's alerts after another process added or removed one (`coach alert` in
    /// another terminal, another screen of the team).
    AlertsChanged {
        user: crate::store::UserId,
        alerts: Vec<crate::alerts::PriceAlert>,
    },
    /// A morning brief: the stored one of the day, or a preview (never stored).
    Brief {
        brief: std::sync::Arc<crate::brief::Brief>,
        preview: bool,
    },
    /// The stored setup statistics (SPEC 18): read at start, and again after each
    /// scheduled backtest run. The Scanner's edge column and the Stats pane show them.
    BacktestStats(std::sync::Arc<crate::store::StoredBacktest>),
    /// A one-line notice for the trader: a trading alert or an operational incident.
    Notice(String),
    /// A desktop notification to write through the terminal (`[alerts] desktop`): the
    /// dispatcher already applied kinds, quiet hours and snoozes; the text is printable.
    Desktop { title: String, body: String },
    /// The AI coach's progress on the trader's question (streamed text, tool calls,
    /// the answer, a confirmation it needs).
    Coach(crate::coach::CoachEvent),
    /// The trader's journal statistics (SPEC 18; the Stats pane's Journal tab): each
    /// group with the R histogram of its filled trades.
    JournalStats(Vec<(crate::stats::GroupRow, crate::stats::RHistogram)>),
}
