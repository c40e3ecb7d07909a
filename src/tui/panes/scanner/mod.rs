//! The Scanner pane (`2`): the watchlist with prices, change and sparklines, then today's
//! opportunities (detections with a plan, level and volume signals), best score first.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The Scanner pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScannerPane;

impl Pane for ScannerPane {
    fn id(&self) -> PaneId {
        PaneId::Scanner
    }

    fn title(&self, app: &App) -> String {
        format!(" · watchlist ({})", app.market.watchlist.len())
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap.label(a);
        vec![
            (
                format!(
                    "{}/{}",
                    app.keymap.label(Action::Down),
                    app.keymap.label(Action::Up)
                ),
                "move",
            ),
            (k(Action::Track), "track"),
            (k(Action::EditWatchlist), "watchlist"),
            (k(Action::AskCoach), "coach"),
        ]
    }
}

#[cfg(test)]
mod tests;
