//! The Scanner pane (`2`): the watchlist with prices, change and sparklines, then today's
//! opportunities: the plans (detections whose stop and target have not traded, younger
//! than `[scanner] max_age_minutes`), best score first, then the ○ heads-up signals
//! (level proximity, volume), best first; none after the close. A detection's score is
//! its confidence, calibrated to a win probability (0-100) where `coach backtest
//! --calibrate` stored a map for its kind. `t` tracks the selected
//! plan (saving → saved | duplicate | error).
//!
//! Each plan shows its edge from the stored backtest statistics (SPEC 18, `stats::edge`):
//! "42 % · +0.06 R · n 193" (win rate, mean R, filled trades) of its (kind, symbol) when
//! that group has at least `stats::edge::MIN_SYMBOL_TRADES` trades, else of its kind over
//! every symbol, then marked "all"; a kind with a negative edge reads "negative edge".

mod draw;

pub use draw::sparkline;

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::domain::{Detection, SetupKind, Symbol};
use crate::runtime::AppEvent;
use crate::setups::scanner::{self, ScanSignal};
use crate::stats::Calibrations;
use crate::stats::EdgeBook;
use crate::store::{StoredDetection, TrackResult};
use crate::tui::action::Action;
use crate::tui::app::setups_view::{TrackState, status_label};
use crate::tui::app::{App, Effect, MarketView, Opportunity, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;

/// How long a detection stays an opportunity by default (`[scanner] max_age_minutes`).
pub const DEFAULT_LIFE: chrono::Duration = chrono::Duration::minutes(60);

/// The Scanner pane's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ScannerPane {
    /// Today's detections on the watchlist, best score first.
    pub(crate) opportunities: Vec<StoredDetection>,
    /// What tracking each detection (by id) is doing: saving, saved, duplicate, error.
    pub(crate) track_states: HashMap<i64, TrackState>,
    /// The selected row by what it shows: the rows re-sort under the cursor as
    /// detections and signals come and go.
    selected: Option<RowId>,
    /// The row the selection was last seen on: when its item leaves the list, the item
    /// now on that row (its neighbour) is selected instead (`follow_selection`).
    selected_at: usize,
    /// How long after its signal bar a detection is listed (it leaves sooner once its
    /// stop or target trades: `setups::scanner::gone`).
    pub(crate) life: chrono::Duration,
    /// The stored backtest statistics by kind and (kind, symbol), for the edge column
    /// (`AppEvent::BacktestStats`); empty until some are stored.
    pub(crate) edges: EdgeBook,
    /// The stored confidence maps: a detection's score is shown (and ranked) calibrated
    /// where its kind has one; the raw score stays in the detection.
    pub(crate) calibrations: Calibrations,
}

impl Default for ScannerPane {
    fn default() -> Self {
        ScannerPane {
            opportunities: Vec::new(),
            track_states: HashMap::new(),
            selected: None,
            selected_at: 0,
            life: DEFAULT_LIFE,
            edges: EdgeBook::default(),
            calibrations: Calibrations::default(),
        }
    }
}

/// What a Scanner row shows: a watchlist symbol, a detection, or a signal.
#[derive(Clone, Debug, PartialEq)]
enum RowId {
    Watchlist(Symbol),
    Detection(i64),
    /// A signal has no id: its symbol and what it says.
    Signal(Symbol, String),
}

impl ScannerPane {
    pub fn opportunities(&self) -> &[StoredDetection] {
        &self.opportunities
    }

    /// The score shown for a detection: calibrated when its kind has a map, else raw.
    pub fn score(&self, d: &Detection) -> u8 {
        self.calibrations.score(d.kind, d.confidence)
    }

    /// Whether the score shown for a detection of `kind` is calibrated.
    pub fn is_calibrated(&self, kind: SetupKind) -> bool {
        self.calibrations.covers(kind)
    }

    pub fn track_state(&self, detection: i64) -> Option<&TrackState> {
        self.track_states.get(&detection)
    }

    /// Every row's identity, in list order: the watchlist, then the opportunities.
    fn row_ids(&self, market: &MarketView) -> Vec<RowId> {
        let watchlist = market
            .watchlist
            .iter()
            .map(|r| RowId::Watchlist(r.symbol.clone()));
        let opportunities = self.rows(market).into_iter().map(|o| match o {
            Opportunity::Detection(d) => RowId::Detection(d.id),
            Opportunity::Signal(s) => RowId::Signal(s.symbol.clone(), s.describe()),
        });
        watchlist.chain(opportunities).collect()
    }

    /// The row of the selected item (the first row when none is; its neighbour, the row
    /// it was last seen on, when it is gone).
    pub fn selected_row(&self, market: &MarketView) -> usize {
        let ids = self.row_ids(market);
        self.selected
            .as_ref()
            .and_then(|id| ids.iter().position(|r| r == id))
            .unwrap_or_else(|| self.selected_at.min(ids.len().saturating_sub(1)))
    }

    /// After the market moved: when the selected item has left the list (a plan whose
    /// stop or target traded, too old, the close; a heads-up gone), its neighbour is
    /// selected and the returned line says so for the status line (issue 22 item 1).
    pub(crate) fn follow_selection(&mut self, market: &MarketView) -> Option<String> {
        let id = self.selected.clone()?;
        let ids = self.row_ids(market);
        if let Some(at) = ids.iter().position(|r| *r == id) {
            self.selected_at = at;
            return None;
        }
        let next = self.selected_at.min(ids.len().saturating_sub(1));
        self.selected = ids.get(next).cloned();
        self.selected_at = next;
        let now = match &self.selected {
            Some(row) => self.describe(row),
            None => "nothing".to_string(),
        };
        Some(format!(
            "{} left the Scanner; selected: {now}",
            self.describe(&id)
        ))
    }

    /// A row in words: `SPY`, `SPY ORB`, `SPY at PDH`.
    fn describe(&self, row: &RowId) -> String {
        match row {
            RowId::Watchlist(symbol) => symbol.to_string(),
            RowId::Detection(id) => match self.opportunities.iter().find(|o| o.id == *id) {
                Some(o) => format!("{} {}", o.detection.symbol, o.detection.kind.short_label()),
                None => format!("detection {id}"),
            },
            RowId::Signal(symbol, what) => format!("{symbol} {what}"),
        }
    }

    /// The scanner's signals for the watchlist: the last final bar's close at a key
    /// level, volume spikes. Judged on final bars only, so the list changes once a minute
    /// rather than flickering with every quote.
    pub fn signals(market: &MarketView) -> Vec<ScanSignal> {
        let mut out = Vec::new();
        for row in &market.watchlist {
            let (Some(&price), Some(levels)) = (row.closes.last(), market.levels.get(&row.symbol))
            else {
                continue;
            };
            out.extend(scanner::near_level(&row.symbol, price, levels));
            let up = row.closes.windows(2).last().is_some_and(|w| w[1] >= w[0]);
            if let Some(ratio) = row.relative_volume() {
                out.extend(scanner::volume_spike(&row.symbol, ratio, up));
            }
        }
        out
    }

    /// The opportunity list: the plans (detections still alive: `live`), best score
    /// first, then the heads-up signals, best score first. After the close there is
    /// none: the session's opportunities are over.
    pub fn rows<'a>(&'a self, market: &MarketView) -> Vec<Opportunity<'a>> {
        if market
            .session
            .zip(market.now)
            .is_some_and(|(s, now)| now >= s.close)
        {
            return Vec::new();
        }
        let mut plans: Vec<Opportunity> = self
            .opportunities
            .iter()
            .filter(|d| self.live(d, market))
            .map(Opportunity::Detection)
            .collect();
        plans.sort_by_key(|o| {
            std::cmp::Reverse(match o {
                Opportunity::Detection(d) => self.score(&d.detection),
                Opportunity::Signal(s) => s.score,
            })
        });
        let mut signals: Vec<Opportunity> = Self::signals(market)
            .into_iter()
            .map(Opportunity::Signal)
            .collect();
        signals.sort_by_key(|o| std::cmp::Reverse(o.score()));
        plans.extend(signals);
        plans
    }

    /// A detection is still an opportunity: neither its stop nor its target has traded
    /// on the symbol's bars since, and it is younger than `life` on the market clock.
    fn live(&self, found: &StoredDetection, market: &MarketView) -> bool {
        let d = &found.detection;
        let bars = market
            .intraday
            .get(&d.symbol)
            .map_or(&[][..], |i| i.bars.as_slice());
        let now = market.now.unwrap_or(d.detected_at);
        scanner::gone(d, bars, now, self.life).is_none()
    }

    /// The symbol of the selected row (a watchlist row, then an opportunity).
    pub fn selected_symbol(&self, market: &MarketView) -> Option<Symbol> {
        let i = self.selected_row(market);
        match market.watchlist.get(i) {
            Some(row) => Some(row.symbol.clone()),
            None => match self
                .rows(market)
                .into_iter()
                .nth(i - market.watchlist.len())?
            {
                Opportunity::Detection(d) => Some(d.detection.symbol.clone()),
                Opportunity::Signal(s) => Some(s.symbol),
            },
        }
    }

    /// A new session: yesterday's detections go, and with them what tracking them did
    /// (kept for the rows shown; a dashboard open for weeks would keep every mark), save
    /// a save still on its way, whose answer has yet to arrive.
    pub(crate) fn clear(&mut self) {
        self.opportunities.clear();
        self.track_states
            .retain(|_, state| *state == TrackState::Saving);
    }

    /// The watchlist changed: detections off it go, the selection starts over.
    pub(crate) fn keep_watchlist(&mut self, market: &MarketView) {
        self.opportunities.retain(|o| {
            market
                .watchlist
                .iter()
                .any(|r| r.symbol == o.detection.symbol)
        });
        self.selected = None;
        self.selected_at = 0;
    }

    /// A detection on the watchlist in this session joins the list by score; `true`
    /// when it did.
    fn on_detection(&mut self, found: &StoredDetection, market: &MarketView) -> bool {
        let on_watchlist = market
            .watchlist
            .iter()
            .any(|r| r.symbol == found.detection.symbol);
        let this_session = market
            .session
            .is_none_or(|s| s.date == found.detection.market_date);
        if !on_watchlist || !this_session || self.opportunities.iter().any(|o| o.id == found.id) {
            return false;
        }
        let at = self
            .opportunities
            .partition_point(|o| self.score(&o.detection) >= self.score(&found.detection));
        self.opportunities.insert(at, found.clone());
        true
    }

    fn on_tracked(
        &mut self,
        detection_id: i64,
        result: &Result<TrackResult, String>,
        ctx: &mut Ctx,
    ) {
        match result {
            Ok(TrackResult::Tracked(row)) => {
                self.track_states.insert(detection_id, TrackState::Saved);
                ctx.say(format!("tracked {} {}", row.setup.symbol, row.setup.kind));
            }
            Ok(TrackResult::AlreadyTracked(row)) => {
                self.track_states
                    .insert(detection_id, TrackState::Duplicate);
                ctx.say_error(format!(
                    "already tracked as setup {} ({})",
                    row.setup.id,
                    status_label(row)
                ));
            }
            Err(reason) => {
                ctx.say_error(format!("not tracked: {reason}"));
                self.track_states
                    .insert(detection_id, TrackState::Error(reason.clone()));
            }
        }
    }

    /// `t`: track the selected detection at the market instant.
    fn track(&mut self, ctx: &mut Ctx) {
        let Some(at) = ctx.market.now else {
            ctx.say_error("no market time yet; wait for the feed");
            return;
        };
        let index = self
            .selected_row(ctx.market)
            .checked_sub(ctx.market.watchlist.len());
        let found = match index.and_then(|i| self.rows(ctx.market).get(i).cloned()) {
            Some(Opportunity::Detection(d)) => Ok(d.clone()),
            Some(Opportunity::Signal(s)) => Err(format!(
                "{} {} is a heads-up without a plan; track a detection",
                s.symbol,
                s.describe()
            )),
            None => Err("select an opportunity in the Scanner to track it".to_string()),
        };
        let detection = match found {
            Ok(d) => d,
            Err(why) => return ctx.say_error(why),
        };
        if self.track_states.get(&detection.id) == Some(&TrackState::Saving) {
            return;
        }
        self.track_states.insert(detection.id, TrackState::Saving);
        ctx.effect(Effect::Track { detection, at });
    }
}

impl Pane for ScannerPane {
    fn id(&self) -> PaneId {
        PaneId::Scanner
    }

    fn title(&self, app: &App) -> String {
        let rows = self.rows(app.market());
        let plans = rows
            .iter()
            .filter(|o| matches!(o, Opportunity::Detection(_)))
            .count();
        format!(
            " · {} watched · {plans} plans · {} ○ heads-up",
            app.market().watchlist.len(),
            rows.len() - plans
        )
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        vec![
            (format!("{}/{}", k(Action::Down), k(Action::Up)), "move"),
            (k(Action::Track), "track"),
            (k(Action::EditWatchlist), "watchlist"),
            (k(Action::AskCoach), "coach"),
        ]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        match action {
            Action::Up
            | Action::Down
            | Action::First
            | Action::Last
            | Action::HalfPageUp
            | Action::HalfPageDown => {
                let ids = self.row_ids(ctx.market);
                let step = Move::from_action(action);
                if let Some(next) =
                    step.and_then(|s| s.apply(self.selected_row(ctx.market), ids.len()))
                {
                    self.selected = ids.into_iter().nth(next);
                    self.selected_at = next;
                    if let Some(symbol) = self.selected_symbol(ctx.market) {
                        ctx.focus_symbol(symbol);
                    }
                }
            }
            Action::Track => self.track(ctx),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    fn on_event(&mut self, event: &AppEvent, ctx: &mut Ctx) -> bool {
        match event {
            AppEvent::Detection(found) => self.on_detection(found, ctx.market),
            AppEvent::Tracked {
                detection_id,
                result,
            } => {
                self.on_tracked(*detection_id, result, ctx);
                true
            }
            AppEvent::BacktestStats(stored) => {
                self.edges = EdgeBook::new(&stored.rows);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
