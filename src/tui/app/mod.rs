//! The UI state and its transitions: `update` for actions from keys, `on_market` and
//! `on_health` for worker events. No terminal, no I/O: every key is testable here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::action::Action;
use super::keymap::Keymap;
use crate::domain::Symbol;
use crate::market::calendar::Session;
use crate::provider::{MarketEvent, MarketSnapshot};
use crate::runtime::AppEvent;
use crate::runtime::health::WorkerRecord;
use crate::store::StoredDetection;

/// The panes, in the order of the `1`–`6` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Brief,
    Scanner,
    Setups,
    Gex,
    Health,
    Logs,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Brief,
        Pane::Scanner,
        Pane::Setups,
        Pane::Gex,
        Pane::Health,
        Pane::Logs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Brief => "Brief",
            Pane::Scanner => "Scanner",
            Pane::Setups => "Setups",
            Pane::Gex => "GEX",
            Pane::Health => "Health",
            Pane::Logs => "Logs",
        }
    }

    pub fn number(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }

    fn offset(self, by: isize) -> Pane {
        let n = Pane::ALL.len() as isize;
        let i = (self.number() as isize - 1 + by).rem_euclid(n);
        Pane::ALL[i as usize]
    }
}

/// A modal layer over the panes; it takes the keys while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    Help,
    ConfirmQuit,
}

/// What the shell must do after an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Clear the screen and repaint everything (Ctrl-L).
    FullRedraw,
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
}

impl SymbolRow {
    fn empty(symbol: Symbol) -> Self {
        SymbolRow {
            symbol,
            last: None,
            last_at: None,
            prior_close: None,
            closes: Vec::new(),
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

/// What the header says about where the data comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub provider: String,
    pub database: String,
    pub user: String,
}

#[derive(Clone, Debug)]
pub struct App {
    pub keymap: Keymap,
    pub source: Source,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    /// Selected row per pane.
    pub selection: HashMap<Pane, usize>,
    pub session: Option<Session>,
    /// The market's clock: the instant of the latest event (virtual in the simulation).
    pub market_now: Option<DateTime<Utc>>,
    pub watchlist: Vec<SymbolRow>,
    /// Today's detections on the watchlist, best score first.
    pub opportunities: Vec<StoredDetection>,
    pub workers: Vec<WorkerRecord>,
    /// Tracked setups that are still active (quitting asks first while there are any).
    pub active_setups: usize,
    pub confirm_quit: bool,
    pub status: Option<Status>,
    /// Something visible changed since the last frame.
    pub dirty: bool,
}

impl App {
    pub fn new(keymap: Keymap, source: Source, watchlist: &[Symbol], confirm_quit: bool) -> App {
        App {
            keymap,
            source,
            focus: Pane::Scanner,
            overlay: None,
            selection: HashMap::new(),
            session: None,
            market_now: None,
            watchlist: watchlist.iter().cloned().map(SymbolRow::empty).collect(),
            opportunities: Vec::new(),
            workers: Vec::new(),
            active_setups: 0,
            confirm_quit,
            status: None,
            dirty: true,
        }
    }

    /// Applies a named action; returns what the shell must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        match self.overlay {
            Some(Overlay::ConfirmQuit) => {
                // Anything but quit/force-quit cancels; `y` is handled by `confirm`.
                self.overlay = None;
                return match action {
                    Action::Quit | Action::ForceQuit => vec![Effect::Quit],
                    _ => {
                        self.say("quit cancelled");
                        vec![]
                    }
                };
            }
            Some(Overlay::Help) => {
                if matches!(action, Action::Help | Action::Back | Action::Quit) {
                    self.overlay = None;
                    return vec![];
                }
                if action != Action::ForceQuit {
                    return vec![];
                }
            }
            None => {}
        }
        match action {
            Action::FocusNext => self.focus = self.focus.offset(1),
            Action::FocusPrev => self.focus = self.focus.offset(-1),
            Action::FocusBrief => self.focus = Pane::Brief,
            Action::FocusScanner => self.focus = Pane::Scanner,
            Action::FocusSetups => self.focus = Pane::Setups,
            Action::FocusGex => self.focus = Pane::Gex,
            Action::FocusHealth => self.focus = Pane::Health,
            Action::FocusLogs => self.focus = Pane::Logs,
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::Back => self.status = None,
            Action::Quit => {
                if self.confirm_quit && self.active_setups > 0 {
                    self.overlay = Some(Overlay::ConfirmQuit);
                } else {
                    return vec![Effect::Quit];
                }
            }
            Action::ForceQuit => return vec![Effect::Quit],
            Action::Redraw => return vec![Effect::FullRedraw],
        }
        vec![]
    }

    /// A key with no bound action: `y` answers the quit question, anything else is
    /// reported so no key fails silently.
    pub fn unbound_key(&mut self, key: char) -> Vec<Effect> {
        self.dirty = true;
        if self.overlay == Some(Overlay::ConfirmQuit) {
            self.overlay = None;
            if key == 'y' || key == 'Y' {
                return vec![Effect::Quit];
            }
            self.say("quit cancelled");
            return vec![];
        }
        if self.overlay == Some(Overlay::Help) {
            return vec![];
        }
        let help = self.keymap.label(Action::Help);
        self.say_error(format!(
            "key {key:?} does nothing here; {help} lists the keys"
        ));
        vec![]
    }

    fn move_selection(&mut self, by: isize) {
        let len = match self.focus {
            Pane::Scanner => self.watchlist.len() + self.opportunities.len(),
            Pane::Health => self.workers.len(),
            _ => 0,
        };
        if len == 0 {
            return;
        }
        let current = self.selection.get(&self.focus).copied().unwrap_or(0) as isize;
        let next = (current + by).clamp(0, len as isize - 1) as usize;
        self.selection.insert(self.focus, next);
    }

    pub fn selected(&self, pane: Pane) -> usize {
        self.selection.get(&pane).copied().unwrap_or(0)
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: crate::text::printable(&text.into()),
            is_error: false,
        });
        self.dirty = true;
    }

    pub fn say_error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: crate::text::printable(&text.into()),
            is_error: true,
        });
        self.dirty = true;
    }

    /// Applies a market event to the watchlist rows.
    pub fn on_market(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Snapshot(snapshot) => self.apply_snapshot(snapshot),
            MarketEvent::Step { at, quotes, bars } => {
                self.market_now = Some(*at);
                for quote in quotes {
                    if let Some(row) = self.row_mut(&quote.symbol) {
                        row.last = Some(quote.price);
                        row.last_at = Some(quote.at);
                    }
                }
                let session = self.session;
                for (symbol, bar) in bars {
                    if let (Some(row), Some(s)) = (self.row_mut(symbol), session)
                        && bar.start >= s.open
                        && bar.start < s.close
                    {
                        row.closes.push(bar.close);
                    }
                }
            }
        }
        self.dirty = true;
    }

    fn apply_snapshot(&mut self, snapshot: &MarketSnapshot) {
        if self
            .session
            .is_some_and(|s| s.date != snapshot.session.date)
        {
            self.opportunities.clear();
        }
        self.session = Some(snapshot.session);
        self.market_now = Some(snapshot.now);
        for row in &mut self.watchlist {
            let Some(s) = snapshot.symbols.iter().find(|s| s.symbol == row.symbol) else {
                continue;
            };
            row.prior_close = s.prior_close;
            row.last = s.last.as_ref().map(|q| q.price);
            row.last_at = s.last.as_ref().map(|q| q.at);
            row.closes = s
                .bars
                .iter()
                .filter(|b| b.start >= snapshot.session.open && b.start < snapshot.session.close)
                .map(|b| b.close)
                .collect();
        }
    }

    fn row_mut(&mut self, symbol: &Symbol) -> Option<&mut SymbolRow> {
        self.watchlist.iter_mut().find(|r| &r.symbol == symbol)
    }

    /// Applies a worker event. Detections off the watchlist or from another session are
    /// not opportunities here.
    pub fn on_event(&mut self, event: AppEvent) {
        match event {
            AppEvent::Detection(found) => {
                let on_watchlist = self
                    .watchlist
                    .iter()
                    .any(|r| r.symbol == found.detection.symbol);
                let this_session = self
                    .session
                    .is_none_or(|s| s.date == found.detection.market_date);
                if !on_watchlist
                    || !this_session
                    || self.opportunities.iter().any(|o| o.id == found.id)
                {
                    return;
                }
                let at = self
                    .opportunities
                    .partition_point(|o| o.detection.confidence >= found.detection.confidence);
                self.opportunities.insert(at, found);
                self.dirty = true;
            }
            // Already in the Logs pane (the dispatcher logs it); the lead renders it.
            AppEvent::Notice(_) => {}
        }
    }

    pub fn on_health(&mut self, workers: Vec<WorkerRecord>) {
        if workers != self.workers {
            self.workers = workers;
            self.dirty = true;
        }
    }
}

#[cfg(test)]
mod tests;
