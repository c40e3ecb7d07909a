//! The Chart pane (`8`, SPEC 17): the focused symbol's candles with its levels, setup and
//! alerts, or (`v`) the list of every alert. It keeps its view (timeframe, cursor, which
//! of the two it shows), the trader's alerts, and its last drawing with the inputs it
//! was drawn from: a frame whose inputs are the same copies that drawing.

mod draw;

pub use draw::{chart_lines, render_chart};

use std::cell::RefCell;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::alerts::PriceAlert;
use crate::domain::{Bar, Symbol};
use crate::market::intraday::{self, Timeframe};
use crate::tui::action::Action;
use crate::tui::app::{App, MarketView, Overlay, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};
use crate::tui::selection::Move;
use crate::tui::widgets::candles::ChartLine;

/// The Chart's view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartView {
    pub timeframe: Timeframe,
    /// The bar under the cursor (index into the timeframe's bars); `None` follows the
    /// latest bar.
    pub cursor: Option<usize>,
    /// The pane lists the alerts instead of the chart (`v`).
    pub show_alerts: bool,
}

/// Everything a Chart drawing depends on: the same key, the same cells. Built from the
/// state at each frame, so nothing has to remember to invalidate the cached drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartKey {
    pub symbol: Option<Symbol>,
    /// The symbol is in this session's feed (the empty chart says why it is empty).
    pub fed: bool,
    pub view: ChartView,
    pub bars: Vec<Bar>,
    pub lines: Vec<ChartLine>,
    /// Zero gamma through the day: (from, value) per GEX refresh.
    pub flip_path: Vec<(chrono::DateTime<chrono::Utc>, Option<f64>)>,
    /// The chart setup's id, named in the legend.
    pub setup: Option<i64>,
    pub area: Rect,
    pub monochrome: bool,
}

/// The Chart pane's state.
#[derive(Clone, Debug, Default)]
pub struct ChartPane {
    pub view: ChartView,
    /// The trader's price alerts, newest first, as stored.
    pub alerts: Vec<PriceAlert>,
    /// The selected alert of the list, by id (the list changes as alerts fire).
    selected: Option<i64>,
    /// The last drawing and what it was drawn from.
    pub cache: RefCell<Option<(ChartKey, Buffer)>>,
}

impl PartialEq for ChartPane {
    /// The state, not the cached drawing.
    fn eq(&self, other: &Self) -> bool {
        self.view == other.view && self.alerts == other.alerts && self.selected == other.selected
    }
}

impl ChartPane {
    /// The row of the selected alert in the list (the first when none is, or it is gone).
    pub fn selected_row(&self) -> usize {
        self.selected
            .and_then(|id| self.alerts.iter().position(|a| a.id == id))
            .unwrap_or(0)
    }

    pub fn selected_alert(&self) -> Option<&PriceAlert> {
        self.alerts.get(self.selected_row())
    }

    /// `symbol`'s bars in the Chart's timeframe.
    pub fn bars(&self, market: &MarketView, symbol: Option<&Symbol>) -> Vec<Bar> {
        let (Some(symbol), Some(session)) = (symbol, market.session) else {
            return Vec::new();
        };
        market.intraday.get(symbol).map_or_else(Vec::new, |d| {
            intraday::aggregate(&d.bars, session.open, self.view.timeframe)
        })
    }

    /// Another symbol is focused: the cursor follows its latest bar.
    pub fn reset_cursor(&mut self) {
        self.view.cursor = None;
    }

    fn move_cursor(&mut self, action: Action, ctx: &mut Ctx) {
        if !ctx.focused {
            ctx.say_error("h/l move the Chart's cursor; 8 opens the Chart");
            return;
        }
        let len = self.bars(ctx.market, ctx.symbol).len();
        if len == 0 {
            return;
        }
        let current = self.view.cursor.unwrap_or(len - 1).min(len - 1);
        self.view.cursor = if action == Action::CursorLeft {
            Some(current.saturating_sub(1))
        } else if current + 2 >= len {
            // Onto the newest bar: follow it as new bars come.
            None
        } else {
            Some(current + 1)
        };
    }

    fn move_selection(&mut self, step: Move) {
        if !self.view.show_alerts {
            return;
        }
        if let Some(next) = step.apply(self.selected_row(), self.alerts.len()) {
            self.selected = Some(self.alerts[next].id);
        }
    }
}

impl Pane for ChartPane {
    fn id(&self) -> PaneId {
        PaneId::Chart
    }

    fn title(&self, app: &App) -> String {
        draw::title(app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        // The first key only: the footer is tight here.
        let k1 = |a: Action| {
            app.keymap()
                .keys_for(a)
                .first()
                .map_or_else(String::new, ToString::to_string)
        };
        if self.view.show_alerts {
            return vec![
                (format!("{}/{}", k(Action::Down), k(Action::Up)), "move"),
                (k(Action::Delete), "remove"),
                (k(Action::Snooze), "snooze"),
                (k(Action::AlertsView), "chart"),
            ];
        }
        vec![
            (
                format!("{}{}", k1(Action::TimeframeDown), k1(Action::TimeframeUp)),
                "1/5/15m",
            ),
            (
                format!("{}/{}", k1(Action::CursorLeft), k1(Action::CursorRight)),
                "cursor",
            ),
            (k(Action::AlertsView), "alerts"),
        ]
    }

    fn wide_hints(&self) -> bool {
        true
    }

    /// Timeframe, cursor, the alerts list and its keys. The `App` routes the timeframe
    /// keys and `v` here from any pane (they open the Chart).
    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        match action {
            Action::TimeframeDown | Action::TimeframeUp => {
                let by = if action == Action::TimeframeUp { 1 } else { -1 };
                self.view.timeframe = self.view.timeframe.step(by);
                self.view.cursor = None;
                ctx.focus_pane(PaneId::Chart);
                ctx.say(format!("Chart timeframe: {}", self.view.timeframe.label()));
            }
            Action::CursorLeft | Action::CursorRight => self.move_cursor(action, ctx),
            Action::AlertsView => {
                ctx.focus_pane(PaneId::Chart);
                self.view.show_alerts = !self.view.show_alerts;
                self.selected = None;
            }
            Action::Up
            | Action::Down
            | Action::First
            | Action::Last
            | Action::HalfPageUp
            | Action::HalfPageDown => {
                if let Some(step) = Move::from_action(action) {
                    self.move_selection(step);
                }
            }
            Action::Delete if self.view.show_alerts => match self.selected_alert() {
                Some(alert) => ctx.open(Overlay::ConfirmRemoveAlert { id: alert.id }),
                None => ctx.say_error("no alert selected"),
            },
            _ => return Handled::No,
        }
        Handled::Yes
    }
}

#[cfg(test)]
mod tests;
