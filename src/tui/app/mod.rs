//! The screen's shared state and its transitions: `update` for actions from keys (the
//! global ones here, the rest routed to the focused pane), `on_event`, `on_market`,
//! `on_gex` and `on_health` for worker events, each saying whether to redraw. No
//! terminal, no I/O: every key is testable here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

mod coach_view;
pub mod editor;
pub mod focus;
mod keys;
pub mod setups_view;

pub use self::setups_view::TrackState;
pub use crate::setups::StatusFilter;
pub use crate::tui::panes::coach::{CoachLine, CoachPane};

use self::editor::TextInput;
pub use self::focus::{AlertCandidate, Intraday};
use super::keymap::Keymap;
use super::pane::{Ctx, Pane, Requests};
use crate::domain::Symbol;
use crate::gex::GexProfile;
use crate::market::calendar::Session;
use crate::provider::{MarketEvent, MarketSnapshot};
use crate::runtime::AppEvent;
use crate::runtime::gex::{GexBoard, GexHistoryBoard, GexRequest};
use crate::runtime::health::WorkerRecord;
use crate::setups::ManualAction;
use crate::setups::scanner::ScanSignal;
use crate::store::{SetupEvent, StoredDetection};
pub use crate::tui::panes::chart::{ChartKey, ChartView};

pub use crate::tui::panes::PaneId;

impl PaneId {
    /// The pane's key number: its place in the registry (SPEC 11 and 17: `7` is the
    /// Coach's, `8` the Chart's).
    pub fn number(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }

    fn offset(self, by: isize) -> PaneId {
        let n = PaneId::ALL.len() as isize;
        let here = PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        PaneId::ALL[(here + by).rem_euclid(n) as usize]
    }
}

/// A modal layer over the panes; it takes the keys while open.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    ConfirmQuit,
    /// The inline watchlist editor: symbols separated by spaces or commas, and the last
    /// validation message.
    EditWatchlist {
        input: TextInput,
        error: Option<String>,
    },
    /// The note of a tracked setup.
    EditNote {
        id: i64,
        input: TextInput,
    },
    /// `d` asks before deleting a setup.
    ConfirmDelete {
        id: i64,
    },
    /// Enter on a setup: its plan, rationale and history (`None` while loading).
    Details {
        id: i64,
        history: Option<Vec<SetupEvent>>,
    },
    /// The coach's `track_setup` asks before anything changes: `y` tracks.
    ConfirmCoach {
        question: String,
        reply: crate::coach::ConfirmReply,
    },
    /// `/`: a symbol to focus, validated like a watchlist symbol.
    Search {
        input: TextInput,
        error: Option<String>,
    },
    /// `A`: a price alert on `symbol`, prefilled from one of `candidates` (Up/Down
    /// picks another); the text is `above|below|move|relvol|wall_break VALUE [repeat] [note]`
    /// or `flip_cross|regime_change [repeat] [note]`.
    NewAlert {
        symbol: Symbol,
        input: TextInput,
        candidates: Vec<AlertCandidate>,
        pick: usize,
        error: Option<String>,
    },
    /// `d` in the alerts list asks before removing an alert.
    ConfirmRemoveAlert {
        id: i64,
    },
    /// `z` on an alert or a setup: for how long its notifications stay silent.
    Snooze {
        target: crate::notify::snooze::SnoozeTarget,
    },
}

/// What the shell must do after an update. Store writes are done by the shell, in order;
/// their results come back as `AppEvent`s.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Quit,
    /// Clear the screen and repaint everything (Ctrl-L).
    FullRedraw,
    /// Replace the default watchlist's symbols (already validated).
    SaveWatchlist(Vec<Symbol>),
    /// Ask the GEX worker for a profile (another filter, or recomputed now).
    Gex(GexRequest),
    /// Track a detection at the market instant `at`.
    Track {
        detection: StoredDetection,
        at: DateTime<Utc>,
    },
    /// A manual transition of a setup at the market instant `at`.
    Manual {
        id: i64,
        action: ManualAction,
        at: DateTime<Utc>,
    },
    SaveNote {
        id: i64,
        text: String,
        at: DateTime<Utc>,
    },
    Delete {
        id: i64,
    },
    LoadHistory {
        id: i64,
    },
    /// Ask the coach; `context` holds the facts of the item `c` was pressed on.
    CoachAsk {
        question: String,
        context: Option<String>,
    },
    /// Cancel the coach's answer being written.
    CoachCancel,
    /// Store a price alert (already validated) and hand it to the evaluator.
    AddAlert(crate::store::NewAlert),
    RemoveAlert {
        id: i64,
    },
    /// Silence an alert's or a setup's notifications (channels, desktop) for a while,
    /// counted by the shell from the wall clock when it stores the snooze.
    Snooze {
        target: crate::notify::snooze::SnoozeTarget,
        choice: crate::notify::snooze::SnoozeFor,
    },
    /// Ask the brief scheduler (pane opened, regenerate, preview).
    Brief(crate::runtime::brief::BriefRequest),
    /// The focused symbol is fed but off the watchlist, so its minute bars were not kept:
    /// the shell answers with the market's latest snapshot (`AppEvent::Market`).
    LoadBars(Symbol),
}

/// How long a message (not an error) stays on the status line.
pub const STATUS_FADE: std::time::Duration = std::time::Duration::from_secs(5);

/// A quote older than this on the market clock is marked stale.
pub const STALE_QUOTE: chrono::Duration = chrono::Duration::minutes(2);

/// A row of the Scanner's opportunity list.
#[derive(Clone, Debug, PartialEq)]
pub enum Opportunity<'a> {
    /// A detection with its plan: `t` tracks it.
    Detection(&'a StoredDetection),
    /// A level or volume signal: a heads-up without a plan.
    Signal(ScanSignal),
}

impl Opportunity<'_> {
    pub fn score(&self) -> u8 {
        match self {
            Opportunity::Detection(d) => d.detection.confidence,
            Opportunity::Signal(s) => s.score,
        }
    }
}

/// One watchlist row: the last price against the prior close, and today's regular-session
/// minute closes for the sparkline. Prices in dollars (points for an index).
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolRow {
    pub symbol: Symbol,
    pub last: Option<f64>,
    pub last_at: Option<DateTime<Utc>>,
    pub prior_close: Option<f64>,
    pub closes: Vec<f64>,
    /// Today's regular-session minute volumes, shares (an index has none).
    pub volumes: Vec<f64>,
}

impl SymbolRow {
    fn empty(symbol: Symbol) -> Self {
        SymbolRow {
            symbol,
            last: None,
            last_at: None,
            prior_close: None,
            closes: Vec::new(),
            volumes: Vec::new(),
        }
    }

    /// Relative volume of the last minute: its volume over the average of the 20 minutes
    /// before it (SPEC 3's fallback baseline). `None` for an index or too little history.
    pub fn relative_volume(&self) -> Option<f64> {
        let (last, before) = self.volumes.split_last()?;
        let window = &before[before.len().saturating_sub(20)..];
        if window.len() < 5 {
            return None;
        }
        let mean = window.iter().sum::<f64>() / window.len() as f64;
        (mean > 0.0).then(|| last / mean)
    }

    /// During the regular session, the quote is older than `STALE_QUOTE` on the market
    /// clock (counted from the open at the earliest): the feed has stopped sending this
    /// symbol, or the provider is behind. Outside the session nothing is stale: an index
    /// simply does not trade then.
    pub fn is_stale(&self, market_now: Option<DateTime<Utc>>, session: Option<Session>) -> bool {
        match (self.last_at, market_now, session) {
            (Some(at), Some(now), Some(s)) if s.contains(now) => now - at.max(s.open) > STALE_QUOTE,
            _ => false,
        }
    }

    /// Change against the prior close: (points, percent).
    pub fn change(&self) -> Option<(f64, f64)> {
        let (last, prior) = (self.last?, self.prior_close?);
        (prior > 0.0).then(|| (last - prior, (last / prior - 1.0) * 100.0))
    }
}

/// A message on the status line: the result of the last action.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub text: String,
    pub is_error: bool,
}

impl Status {
    /// A message made printable (no control characters reach the terminal).
    pub fn new(text: impl Into<String>, is_error: bool) -> Status {
        Status {
            text: crate::text::printable(&text.into()),
            is_error,
        }
    }
}

/// The market as every pane sees it: the session, the market clock, the watchlist rows,
/// the key levels, and every fed symbol's intraday state (minute bars for the watched and
/// the focused symbols only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarketView {
    pub session: Option<Session>,
    /// The market's clock: the instant of the latest event (virtual in the simulation).
    pub now: Option<DateTime<Utc>>,
    pub watchlist: Vec<SymbolRow>,
    /// Each symbol's watched key levels after its latest bar (label, price).
    pub levels: HashMap<Symbol, Vec<(&'static str, f64)>>,
    /// Every fed symbol's prior day and last price; the watched and focused symbols'
    /// regular-session minute bars of today too.
    pub intraday: HashMap<Symbol, Intraday>,
}

/// What the header says about where the data comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub provider: String,
    pub database: String,
    pub user: String,
}

/// How this screen behaves, from the configuration and the session.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Quitting asks first while setups are active (`[ui] confirm_quit`).
    pub confirm_quit: bool,
    /// Ring the terminal bell when an alert fires (`[ui] bell`).
    pub bell: bool,
    /// Whether this provider has options chains at all.
    pub has_chains: bool,
    /// The trader this screen belongs to; `None` shows every user's alert firings.
    pub user: Option<crate::store::UserId>,
    /// How long a detection stays an opportunity in the Scanner (`[scanner]
    /// max_age_minutes`).
    pub opportunity_life: chrono::Duration,
}

/// What the screen starts with: the dashboard reads it from the configuration and the
/// store. `Startup::new` gives a screen with the configuration's defaults and nothing
/// stored yet.
#[derive(Clone, Debug)]
pub struct Startup {
    pub keymap: Keymap,
    pub source: Source,
    /// The watchlist's symbols; the first is focused.
    pub watchlist: Vec<Symbol>,
    pub settings: Settings,
    /// Whether `[llm]` is configured; without it the Coach pane explains how.
    pub coach_configured: bool,
    /// The trader's tracked setups, newest first.
    pub setups: Vec<crate::store::SetupRow>,
    /// The trader's price alerts, newest first.
    pub alerts: Vec<crate::alerts::PriceAlert>,
    /// The stored confidence calibration (`coach backtest --calibrate`): the Scanner shows
    /// each detection's calibrated score where its kind has a map, the raw one otherwise.
    pub calibrations: crate::stats::Calibrations,
}

impl Startup {
    pub fn new(keymap: Keymap, source: Source, watchlist: &[Symbol]) -> Startup {
        Startup {
            keymap,
            source,
            watchlist: watchlist.to_vec(),
            settings: Settings {
                confirm_quit: true,
                bell: false,
                has_chains: true,
                user: None,
                opportunity_life: crate::tui::panes::scanner::DEFAULT_LIFE,
            },
            coach_configured: false,
            setups: Vec::new(),
            alerts: Vec::new(),
            calibrations: crate::stats::Calibrations::default(),
        }
    }
}

/// The screen's state: what every pane shares (market view, focus, overlay, status,
/// keymap, settings) and the panes. It takes the global actions itself and routes the
/// rest to the focused pane (`Pane::on_action`); worker events go to every pane.
#[derive(Clone, Debug)]
pub struct App {
    keymap: Keymap,
    source: Source,
    settings: Settings,
    /// The focused pane.
    focus: PaneId,
    /// The focused symbol (SPEC 17): GEX and the Chart follow it, the header shows it.
    focus_symbol: Option<Symbol>,
    /// The trader has picked a pane; the market's first snapshot no longer picks one.
    focus_chosen: bool,
    overlay: Option<Overlay>,
    status: Option<Status>,
    /// Counts the messages put on the status line, so the shell can fade the one it
    /// scheduled a fade for and not a newer one (`fade_status`).
    status_seq: u64,
    /// The help popup's first line shown (it scrolls with the list keys when it does not
    /// fit), and the last one that may be first, as of its last drawing.
    help_top: usize,
    help_last_top: std::cell::Cell<usize>,
    /// What every pane reads of the market: session, clock, watchlist, levels, bars.
    market: MarketView,
    /// Every pane's own state (`panes::Panes`, the registry).
    panes: crate::tui::panes::Panes,
    /// A bell is owed: the shell rings it (`take_bell`).
    ring_bell: bool,
    /// Desktop notifications owed (title, body): the shell writes them (`take_desktop`).
    desktop: Vec<(String, String)>,
}

/// The pane shown first at the market instant `now`: the Brief before the open of a
/// trading day, else the Scanner.
pub fn initial_pane(now: DateTime<Utc>) -> PaneId {
    let date = crate::market::calendar::ny_date(now);
    match crate::market::calendar::session(date) {
        Some(s) if now < s.open => PaneId::Brief,
        _ => PaneId::Scanner,
    }
}

impl App {
    pub fn new(startup: Startup) -> App {
        let Startup {
            keymap,
            source,
            watchlist,
            settings,
            coach_configured,
            setups,
            alerts,
            calibrations,
        } = startup;
        let mut panes = crate::tui::panes::Panes::default();
        panes.coach.configured = coach_configured;
        panes.scanner.life = settings.opportunity_life;
        panes.scanner.calibrations = calibrations;
        panes.setups.rows = setups;
        panes.chart.alerts = alerts;
        App {
            keymap,
            source,
            settings,
            focus: PaneId::Scanner,
            focus_symbol: watchlist.first().cloned(),
            focus_chosen: false,
            overlay: None,
            status: None,
            status_seq: 0,
            help_top: 0,
            help_last_top: std::cell::Cell::new(0),
            market: MarketView {
                watchlist: watchlist.iter().cloned().map(SymbolRow::empty).collect(),
                ..MarketView::default()
            },
            panes,
            ring_bell: false,
            desktop: Vec::new(),
        }
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The focused pane.
    pub fn focus(&self) -> PaneId {
        self.focus
    }

    /// The focused symbol (SPEC 17).
    pub fn focus_symbol(&self) -> Option<&Symbol> {
        self.focus_symbol.as_ref()
    }

    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// The status line: the result of the last action.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The help popup's first line shown (never past its end).
    pub fn help_top(&self) -> usize {
        self.help_top.min(self.help_last_top.get())
    }

    /// The help drawing says how far it can scroll at the screen's size.
    pub(crate) fn set_help_last_top(&self, last: usize) {
        self.help_last_top.set(last);
    }

    /// Which message the status line shows: a new message gets a new number.
    pub fn status_seq(&self) -> u64 {
        self.status_seq
    }

    /// The message numbered `seq` has been shown for `STATUS_FADE`: it goes, unless a
    /// newer message replaced it or it is an error (errors stay until the next key).
    /// `true` when the status line changed.
    pub fn fade_status(&mut self, seq: u64) -> bool {
        let fades = seq == self.status_seq && self.status.as_ref().is_some_and(|s| !s.is_error);
        if fades {
            self.status = None;
        }
        fades
    }

    fn set_status(&mut self, status: Option<Status>) {
        self.status = status;
        self.status_seq += 1;
    }

    pub fn market(&self) -> &MarketView {
        &self.market
    }

    pub fn panes(&self) -> &crate::tui::panes::Panes {
        &self.panes
    }

    /// Whether a bell is owed; the shell rings it once.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.ring_bell)
    }

    /// The desktop notifications owed (title, body); the shell writes each once.
    pub fn take_desktop(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.desktop)
    }

    /// The selected row of `pane` (the Brief: the line at the top).
    pub fn selected(&self, pane: PaneId) -> usize {
        match pane {
            PaneId::Health => self.panes.health.selected_row(),
            PaneId::Brief => self.panes.brief.top_line(),
            PaneId::Chart => self.panes.chart.selected_row(),
            PaneId::Scanner => self.panes.scanner.selected_row(&self.market),
            PaneId::Setups => self.panes.setups.selected_row(),
            PaneId::Stats => self.panes.stats.selected_row(),
            PaneId::Gex | PaneId::Logs | PaneId::Coach => 0,
        }
    }

    /// Every worker the Health pane lists: this process's, then the servers'.
    pub fn workers(&self) -> &[WorkerRecord] {
        self.panes.health.workers()
    }

    /// The morning brief the Brief pane shows.
    pub fn brief(&self) -> Option<&Arc<crate::brief::Brief>> {
        self.panes.brief.brief()
    }

    /// Runs `f` on pane `id` with a `Ctx` over the shared state, then applies what the
    /// pane asked for (status, focus, symbol); returns `f`'s result and the effects.
    pub(crate) fn pane_call<R>(
        &mut self,
        id: PaneId,
        f: impl FnOnce(&mut dyn Pane, &mut Ctx) -> R,
    ) -> (R, Vec<Effect>) {
        let mut ctx = Ctx::new(
            &self.market,
            self.focus_symbol.as_ref(),
            self.focus == id,
            self.settings.has_chains,
        );
        let result = f(self.panes.get_mut(id), &mut ctx);
        let requests = ctx.into_requests();
        (result, self.apply(requests))
    }

    pub(crate) fn apply(&mut self, requests: Requests) -> Vec<Effect> {
        let mut effects = requests.effects;
        if let Some(status) = requests.status {
            self.set_status(Some(status));
        }
        if let Some(pane) = requests.focus_pane {
            self.focus = pane;
        }
        if let Some(overlay) = requests.overlay {
            self.overlay = Some(overlay);
        }
        match requests.focus_symbol {
            Some((symbol, true)) => effects.extend(self.set_focus(symbol)),
            Some((symbol, false)) => effects.extend(self.show_symbol(symbol)),
            None => {}
        }
        effects
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.set_status(Some(Status::new(text, false)));
    }

    pub fn say_error(&mut self, text: impl Into<String>) {
        self.set_status(Some(Status::new(text, true)));
    }

    /// Applies a market event to the watchlist rows; every one redraws (prices move).
    pub fn on_market(&mut self, event: &MarketEvent) -> bool {
        match event {
            MarketEvent::Snapshot(snapshot) => {
                // the market's clock is known from its first snapshot (virtual in the
                // demo): before the open the brief is what the trader reads first
                let first = self.market.now.is_none();
                self.apply_snapshot(snapshot);
                if first && !self.focus_chosen {
                    self.focus = initial_pane(snapshot.now);
                }
            }
            MarketEvent::Step { at, quotes, bars } => {
                self.market.now = Some(*at);
                self.record_intraday(quotes, bars);
                for quote in quotes {
                    if let Some(row) = self.row_mut(&quote.symbol) {
                        row.last = Some(quote.price);
                        row.last_at = Some(quote.at);
                    }
                }
                let session = self.market.session;
                for (symbol, bar) in bars {
                    if let (Some(row), Some(s)) = (self.row_mut(symbol), session)
                        && bar.start >= s.open
                        && bar.start < s.close
                    {
                        row.closes.push(bar.close);
                        row.volumes.push(bar.volume);
                    }
                }
            }
        }
        // The selected plan may just have died: its neighbour is selected, and said.
        if let Some(said) = self.panes.scanner.follow_selection(&self.market) {
            self.say(said);
        }
        true
    }

    fn apply_snapshot(&mut self, snapshot: &MarketSnapshot) {
        if self
            .market
            .session
            .is_some_and(|s| s.date != snapshot.session.date)
        {
            self.panes.scanner.clear();
        }
        self.market.session = Some(snapshot.session);
        self.market.now = Some(snapshot.now);
        self.record_snapshot(snapshot);
        for row in &mut self.market.watchlist {
            let Some(s) = snapshot.symbols.iter().find(|s| s.symbol == row.symbol) else {
                continue;
            };
            row.prior_close = s.prior_close;
            row.last = s.last.as_ref().map(|q| q.price);
            row.last_at = s.last.as_ref().map(|q| q.at);
            let bars = s.bars.load();
            let regular = bars
                .iter()
                .filter(|b| b.start >= snapshot.session.open && b.start < snapshot.session.close);
            (row.closes, row.volumes) = regular.map(|b| (b.close, b.volume)).unzip();
        }
    }

    fn row_mut(&mut self, symbol: &Symbol) -> Option<&mut SymbolRow> {
        self.market
            .watchlist
            .iter_mut()
            .find(|r| &r.symbol == symbol)
    }

    /// Replaces the watchlist rows, keeping what is known of symbols that stay.
    fn set_watchlist(&mut self, symbols: &[Symbol], market: Option<&MarketSnapshot>) {
        let old = std::mem::take(&mut self.market.watchlist);
        self.market.watchlist = symbols
            .iter()
            .map(|s| {
                old.iter()
                    .find(|r| &r.symbol == s)
                    .cloned()
                    .unwrap_or_else(|| SymbolRow::empty(s.clone()))
            })
            .collect();
        if let Some(snapshot) = market {
            self.apply_snapshot(snapshot);
        }
        self.panes.scanner.keep_watchlist(&self.market);
    }

    /// Applies a worker event; `true` when the screen must redraw. Every pane sees the
    /// event first (`Pane::on_event`), then the state the `App` still keeps takes it.
    /// Detections off the watchlist or from another session are not opportunities here.
    pub fn on_event(&mut self, event: AppEvent) -> bool {
        let mut redraw = false;
        for id in PaneId::ALL {
            let (changed, effects) = self.pane_call(id, |pane, ctx| pane.on_event(&event, ctx));
            debug_assert!(effects.is_empty(), "{id:?} asked for effects on an event");
            redraw |= changed;
        }
        let own = match event {
            AppEvent::WatchlistSaved { watchlist, market } => {
                self.set_watchlist(&watchlist.symbols, market.as_deref());
                self.say(format!(
                    "watchlist saved: {} symbols",
                    watchlist.symbols.len()
                ));
                true
            }
            AppEvent::WatchlistLoaded(watchlist) => {
                let current: Vec<&Symbol> =
                    self.market.watchlist.iter().map(|r| &r.symbol).collect();
                let changed = current != watchlist.symbols.iter().collect::<Vec<_>>();
                if changed {
                    self.set_watchlist(&watchlist.symbols, None);
                }
                changed
            }
            // The panes keep these: Setups the setups, Scanner the detections, what
            // tracking them did and the stored backtest statistics (the edge column),
            // Health the servers' workers.
            AppEvent::SetupsLoaded(_)
            | AppEvent::SetupChanged { .. }
            | AppEvent::Tracked { .. }
            | AppEvent::SetupDeleted(_)
            | AppEvent::Detection(_)
            | AppEvent::BacktestStats(_)
            | AppEvent::RemoteWorkers(_) => false,
            // The Stats pane keeps the statistics.
            AppEvent::JournalStats(_) => false,
            AppEvent::ActionFailed(reason) => {
                self.say_error(reason);
                true
            }
            AppEvent::Levels { symbol, levels } => {
                self.market.levels.insert(symbol, levels);
                true
            }
            AppEvent::Market(snapshot) => self.on_market(&MarketEvent::Snapshot(snapshot)),
            // The Details popup waits for its history: it shows as soon as it comes.
            AppEvent::History {
                id,
                events,
                rationale,
            } => match &mut self.overlay {
                Some(Overlay::Details { id: open, history }) if *open == id => {
                    *history = Some(events);
                    if let Some(r) = rationale {
                        self.panes.setups.rationales.insert(id, r);
                    }
                    true
                }
                _ => false,
            },
            AppEvent::Notice(text) => {
                self.say(text);
                true
            }
            // Written by the shell at the next frame, whatever the screen shows.
            AppEvent::Desktop { title, body } => {
                // At most a screenful: a burst of alerts cannot pile up unbounded.
                if self.desktop.len() < 32 {
                    self.desktop.push((title, body));
                }
                true
            }
            AppEvent::Coach(event) => {
                self.on_coach(event);
                true
            }
            // One evaluator serves every user of the database: only ours are shown.
            AppEvent::AlertFired { user, alert, text } => {
                let ours = self.settings.user.is_none_or(|me| me == user);
                if ours {
                    self.on_alert_fired(alert, text);
                }
                ours
            }
            AppEvent::AlertsChanged { user, alerts } => {
                self.settings.user.is_none_or(|me| me == user) && self.on_alerts_changed(alerts)
            }
            AppEvent::AlertsSaved { alerts, message } => {
                self.panes.chart.alerts = alerts;
                self.say(message);
                true
            }
            // The Brief pane keeps the brief.
            AppEvent::Brief { .. } => false,
        };
        redraw || own
    }

    /// The Scanner's opportunity list: detections and signals, best score first.
    pub fn opportunity_rows(&self) -> Vec<Opportunity<'_>> {
        self.panes.scanner.rows(&self.market)
    }

    /// The profile the GEX pane shows (the focused symbol's), if computed.
    pub fn gex_profile(&self) -> Option<&Arc<GexProfile>> {
        self.panes.gex.profile(self.focus_symbol.as_ref())
    }

    /// The GEX worker's latest profiles; they redraw GEX and the Chart's walls.
    pub fn on_gex(&mut self, board: GexBoard) -> bool {
        self.panes.gex.set_board(board);
        true
    }

    /// Today's GEX history per symbol; it redraws the GEX sparklines and the Chart's
    /// zero-gamma step line.
    pub fn on_gex_history(&mut self, history: GexHistoryBoard) -> bool {
        self.panes.gex.set_history(history);
        true
    }

    /// The focused symbol's GEX history of today (time order), empty when none.
    pub fn gex_history(&self) -> &[crate::gex::history::GexPoint] {
        self.panes.gex.history(self.focus_symbol.as_ref())
    }

    /// This process's workers (the remote ones, when attached, follow them); `true`
    /// when the list shown changed.
    pub fn on_health(&mut self, workers: Vec<WorkerRecord>) -> bool {
        self.panes.health.set_local(workers)
    }
}

#[cfg(test)]
mod tests;
