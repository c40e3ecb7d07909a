//! The Brief pane (`1`, SPEC 8 and 11): the morning brief in readable sections; `j`/`k`
//! scroll, `r` regenerates, `v` previews the next watchlist.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The Brief pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BriefPane;

impl Pane for BriefPane {
    fn id(&self) -> PaneId {
        PaneId::Brief
    }

    fn title(&self, app: &App) -> String {
        draw::title(app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let k = |a: Action| app.keymap.label(a);
        vec![
            (k(Action::Down), "scroll"),
            (k(Action::Refresh), "regenerate"),
            (k(Action::BriefPreview), "preview"),
        ]
    }
}

#[cfg(test)]
mod tests;
