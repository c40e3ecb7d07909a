//! The Logs pane (`6`): this process's tracing log (tui-logger's buffer).

mod draw;
mod format;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

use crate::tui::app::PaneId;
use crate::tui::pane::{DrawCtx, Pane};

/// The Logs pane: tui-logger keeps the lines, so the pane holds nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogsPane;

impl Pane for LogsPane {
    fn id(&self) -> PaneId {
        PaneId::Logs
    }

    fn draw(&self, frame: &mut Frame, area: Rect, block: Block<'static>, ctx: &DrawCtx) {
        draw::draw(frame, area, block, ctx.theme);
    }
}

#[cfg(test)]
mod tests;
