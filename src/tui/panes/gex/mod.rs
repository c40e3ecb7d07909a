//! The GEX pane (`4`): the focused symbol's gamma exposure per strike under the expiry
//! filter; `s` focuses the next watchlist symbol, `e` cycles the filter, `r` recomputes.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The GEX pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GexPane;

impl Pane for GexPane {
    fn id(&self) -> PaneId {
        PaneId::Gex
    }

    fn title(&self, app: &App) -> String {
        draw::title(app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme, ctx.now);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap.label(a);
        vec![
            (k(Action::GexSymbol), "symbol"),
            (k(Action::GexExpiry), "expiry"),
            (k(Action::Refresh), "refresh"),
        ]
    }
}

#[cfg(test)]
mod tests;
