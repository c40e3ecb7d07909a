//! The Setups pane (`3`): the trader's tracked setups under the status filter, with the
//! lifecycle keys (trigger, invalidate, archive, reopen, note, delete, details).

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The Setups pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetupsPane;

impl Pane for SetupsPane {
    fn id(&self) -> PaneId {
        PaneId::Setups
    }

    fn title(&self, app: &App) -> String {
        draw::title(app)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        let mut hints = vec![(
            format!(
                "{}/{}",
                app.keymap.label(Action::Down),
                app.keymap.label(Action::Up)
            ),
            "move",
        )];
        for (action, what) in [
            (Action::Trigger, "trig"),
            (Action::Invalidate, "inval"),
            (Action::Archive, "arch"),
            (Action::Reopen, "reopen"),
            (Action::Note, "note"),
            (Action::Delete, "del"),
            (Action::Filter, "filter"),
            (Action::Details, "details"),
            (Action::AskCoach, "coach"),
        ] {
            hints.push((app.keymap.label(action), what));
        }
        hints
    }
}

#[cfg(test)]
mod tests;
