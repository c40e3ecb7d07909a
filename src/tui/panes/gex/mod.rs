//! The GEX pane (`4`): the focused symbol's gamma exposure per strike under the expiry
//! filter. The pane shows the ONE focused symbol (SPEC 17: GEX follows the focus); `s`
//! focuses the next watchlist symbol, `e` cycles the filter (both open the pane from
//! anywhere), `r` recomputes.

mod draw;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::domain::Symbol;
use crate::gex::history::GexPoint;
use crate::gex::{ExpiryFilter, GexProfile};
use crate::runtime::gex::{GexBoard, GexHistoryBoard, GexRequest};
use crate::tui::action::Action;
use crate::tui::app::{App, Effect, PaneId};
use crate::tui::pane::{Ctx, DrawCtx, Handled, Hint, Pane};

/// The expiry filters `e` cycles through.
const FILTERS: [ExpiryFilter; 5] = [
    ExpiryFilter::All,
    ExpiryFilter::ZeroDte,
    ExpiryFilter::Next(1),
    ExpiryFilter::Next(3),
    ExpiryFilter::MaxDte(7),
];

/// The GEX pane's state: the latest profiles per (symbol, filter) from the GEX worker,
/// and the filter the pane shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GexPane {
    board: GexBoard,
    /// Today's points per symbol (all expirations), one per refresh.
    history: GexHistoryBoard,
    filter: ExpiryFilter,
}

impl GexPane {
    /// Every computed profile (the Chart's walls, the coach's facts, `A`'s prices).
    pub fn board(&self) -> &GexBoard {
        &self.board
    }

    pub fn filter(&self) -> ExpiryFilter {
        self.filter
    }

    /// The profile of `symbol` under the pane's filter, if computed.
    pub fn profile(&self, symbol: Option<&Symbol>) -> Option<&Arc<GexProfile>> {
        self.board.get(&(symbol?.clone(), self.filter))
    }

    /// The profile of `symbol` under `filter` (0DTE beside all expirations), if computed.
    pub fn profile_under(
        &self,
        symbol: Option<&Symbol>,
        filter: ExpiryFilter,
    ) -> Option<&Arc<GexProfile>> {
        self.board.get(&(symbol?.clone(), filter))
    }

    /// The refresher's history of today.
    pub fn set_history(&mut self, history: GexHistoryBoard) {
        self.history = history;
    }

    /// `symbol`'s points of today, in time order (empty when none).
    pub fn history(&self, symbol: Option<&Symbol>) -> &[GexPoint] {
        symbol
            .and_then(|s| self.history.get(s))
            .map_or(&[], |points| points.as_slice())
    }

    /// The worker's latest profiles.
    pub fn set_board(&mut self, board: GexBoard) {
        self.board = board;
    }

    /// The worker request for `symbol` under the pane's filter, or why there is none.
    pub fn request(&self, symbol: Option<&Symbol>, force: bool, ctx: &mut Ctx) {
        match (symbol, ctx.has_chains) {
            (Some(symbol), true) => ctx.effect(Effect::Gex(GexRequest {
                symbol: symbol.clone(),
                filter: self.filter,
                force,
            })),
            (None, _) => ctx.say_error("the watchlist is empty: no symbol for GEX"),
            (Some(_), false) => {
                ctx.say_error("this provider has no options chains, so no GEX profile")
            }
        }
    }

    /// `s`: the watchlist symbol after the focused one becomes the focus.
    fn next_symbol(&self, ctx: &mut Ctx) {
        let symbols: Vec<&Symbol> = ctx.market.watchlist.iter().map(|r| &r.symbol).collect();
        let next = ctx
            .symbol
            .and_then(|current| symbols.iter().position(|s| *s == current))
            .map(|i| symbols[(i + 1) % symbols.len()])
            .or_else(|| symbols.first().copied())
            .cloned();
        match next {
            Some(symbol) => {
                self.request(Some(&symbol), false, ctx);
                ctx.show_symbol(symbol);
            }
            None => self.request(None, false, ctx),
        }
    }
}

impl Pane for GexPane {
    fn id(&self) -> PaneId {
        PaneId::Gex
    }

    fn title(&self, app: &App) -> String {
        draw::title(self, app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, self, ctx);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap().label(a);
        vec![
            (k(Action::GexSymbol), "symbol"),
            (k(Action::GexExpiry), "expiry"),
            (k(Action::Refresh), "refresh"),
        ]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Handled {
        match action {
            Action::GexSymbol => self.next_symbol(ctx),
            Action::GexExpiry => {
                let i = FILTERS.iter().position(|f| *f == self.filter).unwrap_or(0);
                self.filter = FILTERS[(i + 1) % FILTERS.len()];
                ctx.say(format!("GEX expiry filter: {}", self.filter));
                self.request(ctx.symbol, false, ctx);
            }
            Action::Refresh => {
                ctx.say("recomputing GEX…");
                self.request(ctx.symbol, true, ctx);
            }
            _ => return Handled::No,
        }
        Handled::Yes
    }
}

#[cfg(test)]
mod tests;
