//! The Health pane (`5`): every background worker of this process, then (attached) the
//! servers' workers, with state, ages, counts and the last error.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::action::Action;
use crate::tui::app::{App, PaneId};
use crate::tui::pane::{DrawCtx, Hint, Pane};

/// The Health pane.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthPane;

impl Pane for HealthPane {
    fn id(&self) -> PaneId {
        PaneId::Health
    }

    fn title(&self, app: &App) -> String {
        let failing = app
            .workers
            .iter()
            .filter(|w| w.state == crate::runtime::health::WorkerState::Failed)
            .count();
        if failing > 0 {
            format!(" · {failing} failing")
        } else {
            String::new()
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.app, ctx.theme, ctx.now);
    }

    fn hints(&self, app: &App) -> Vec<Hint> {
        vec![(
            format!(
                "{}/{}",
                app.keymap.label(Action::Down),
                app.keymap.label(Action::Up)
            ),
            "move",
        )]
    }
}

#[cfg(test)]
mod tests;
